"""Measure the theme tagger against the hand-labelled sample (data/annotations/themes.sample.tsv):
precision and recall per theme and macro averages, estimated by leave-one-episode-out
cross-validation (the rule is calibrated on three episodes' passages and scored on the fourth;
the held-out predictions of all folds are pooled). Several rule families (``VARIANTS``) are
compared this way, with the logistic theme model (``ThemeModel``, the shipped tagger), whose
threshold and relative threshold are themselves chosen by an inner leave-one-episode-out loop over
the training episodes only. The batch labelled last (split 'fresh') is also scored on its own by
the model fitted on the other passages. Where the sample holds two readers' own labels beside the
gold ones, their agreement (``agreement``: the ceiling for any tagger) and the model against reader 1
alone are reported too. ``--calibrate`` refits the model on the whole sample and stores it (config.THEME_MODEL)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from .tagging import MAX_KEYWORDS, TagRule, ThemeModel, combine, evidence_mask, relative_tags

SAMPLE = "themes.sample.tsv"
SPLITS = ("tune", "test", "cv", "fresh")  # labelling batches; "fresh" is also scored on its own (see report)
THRESHOLDS = np.round(np.arange(0.20, 0.801, 0.01), 2)  # the calibration grid
BONUSES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25)
SOLOS = (0.45, 0.5, 0.55, 0.6, 0.65, 0.7)  # similarity above which no keyword is needed
MARGINS = (0.02, 0.05, 0.1, 0.15, 0.2)  # similarity margin to the passage's best theme
# Rule families compared by cross-validation: name -> (solo grid, margin grid, per-theme thresholds).
# None in a grid means the condition is off.
VARIANTS = {
    "score only": ((None,), (None,), False),
    "keyword unless very similar": ((None,) + SOLOS, (None,), False),
    "margin to best theme": ((None,), (None,) + MARGINS, False),
    "keyword + margin": ((None,) + SOLOS, (None,) + MARGINS, False),
    "keyword + margin, per-theme thresholds": ((None,) + SOLOS, (None,) + MARGINS, True),
}
TARGET_PRECISION, TARGET_RECALL = 0.80, 0.70
MODEL_FAMILY = "logistic model (passage + context similarity, keywords)"
MODEL_THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.01), 2)  # probability grid for the model's threshold
# grid for the model's relative threshold (share of the passage's best theme's probability); None = off
MODEL_RELATIVES = (None, 0.8, 0.85, 0.9, 0.95)
# the model's threshold maximises macro F1 averaged over this many grid steps on each side (0.05):
# a flat, noisy F1 curve with one narrow spike must not pull the threshold far (README "What was tried")
MODEL_SMOOTHING = 5
FRESH = "fresh"  # the split labelled last, before the tagger's last change; also scored on its own


class SampleError(ValueError):
    """The labelled sample is malformed or names a passage or theme that does not exist."""


READERS = ("reader1", "reader2")  # optional columns: each reader's own labels (see the sample's header)


def _labels(path: Path, n: int, rec: dict, column: str, themes: list[str] | None) -> frozenset:
    """The ';'-joined theme names of ``column`` (empty = none), checked against ``themes``."""
    cell = rec.get(column)
    if cell is None:
        raise SampleError(f"{path}, line {n}: no value for column '{column}' (too few tab-separated fields)")
    names = frozenset(t.strip() for t in cell.split(";") if t.strip())
    unknown = names - set(themes) if themes is not None else set()
    if unknown:
        raise SampleError(f"{path}, line {n}: unknown theme(s) {sorted(unknown)}"
                          + ("" if column == "themes" else f" in column '{column}'"))
    return names


def load_sample(path: Path | None = None, themes: list[str] | None = None) -> pd.DataFrame:
    """The labelled sample: passage_key, split, themes (the gold labels, a frozenset of names),
    text_start, line, and, where the file has the optional columns READERS, each reader's own
    labels (frozensets; an empty cell means the reader gave no theme). Errors name the file and
    line (unknown theme, missing field, bad split, duplicate key)."""
    path = Path(path or config.ANNOTATIONS / SAMPLE)
    rows, seen = [], {}
    with path.open(encoding="utf-8") as fh:
        lines = [(n, line) for n, line in enumerate(fh, 1) if line.strip() and not line.startswith("#")]
    reader = csv.DictReader((line for _, line in lines), delimiter="\t")
    readers = [c for c in READERS if c in (reader.fieldnames or ())]
    for (n, _), rec in zip(lines[1:], reader):
        labels = {c: _labels(path, n, rec, c, themes) for c in ("themes", *readers)}
        if rec.get("split") not in SPLITS:
            raise SampleError(f"{path}, line {n}: split must be one of {SPLITS}, not {rec.get('split')!r}")
        if rec["passage_key"] in seen:
            raise SampleError(f"{path}, line {n}: passage {rec['passage_key']} already labelled at line {seen[rec['passage_key']]}")
        seen[rec["passage_key"]] = n
        rows.append({"passage_key": rec["passage_key"], "split": rec["split"], **labels,
                     "text_start": rec.get("text_start") or "", "line": n})
    return pd.DataFrame(rows, columns=["passage_key", "split", "themes", "text_start", "line", *readers])


@dataclass
class Scores:
    per_theme: pd.DataFrame  # theme, support, predicted, tp, precision, recall
    macro_precision: float
    macro_recall: float

    @property
    def macro_f1(self) -> float:
        p, r = self.macro_precision, self.macro_recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _precision_recall(tp: np.ndarray, predicted: np.ndarray, support: np.ndarray):
    """Per-theme precision and recall along the last axis (see ``score`` for the empty cases)."""
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), np.where(support > 0, 0.0, np.nan))
    recall = np.where(support > 0, tp / np.maximum(support, 1), np.nan)
    return precision, recall


def _macro(values: np.ndarray) -> np.ndarray:
    """Mean over the last axis ignoring NaN; 0 where all are NaN."""
    finite = np.isfinite(values)
    return np.where(finite.any(-1), np.where(finite, values, 0).sum(-1) / np.maximum(finite.sum(-1), 1), 0.0)


def score(truth: np.ndarray, pred: np.ndarray, names: list[str]) -> Scores:
    """Per-theme precision/recall of boolean (passages x themes) predictions. A theme with no
    prediction has precision 1 if it has no true passages either, else 0; a theme absent from
    the truth is left out of the recall average (and of the precision average when also never
    predicted)."""
    tp = (truth & pred).sum(0)
    support, predicted = truth.sum(0), pred.sum(0)
    precision, recall = _precision_recall(tp, predicted, support)
    df = pd.DataFrame({"theme": names, "support": support, "predicted": predicted, "tp": tp,
                       "precision": precision, "recall": recall})
    return Scores(df, float(_macro(precision)), float(_macro(recall)))


def label_matrix(sample: pd.DataFrame, names: list[str], column: str = "themes") -> np.ndarray:
    """Boolean (passages x themes) labels of ``column`` of the sample (gold 'themes' or a reader's)."""
    return np.array([[n in s for n in names] for s in sample[column]], dtype=bool).reshape(len(sample), len(names))


def scores_dict(s: Scores) -> dict:
    """Plain figures of ``s`` for JSON: macro precision, recall, F1 (harmonic mean of the two
    macro averages, as ``Scores.macro_f1``) and per theme (with F1 of its precision and recall)."""
    per = s.per_theme.assign(f1=_f1(np.nan_to_num(s.per_theme["precision"]), np.nan_to_num(s.per_theme["recall"])))
    per.loc[per["precision"].isna() & per["recall"].isna(), "f1"] = np.nan
    return {"macro_precision": s.macro_precision, "macro_recall": s.macro_recall, "macro_f1": s.macro_f1,
            "per_theme": per.to_dict("records")}


def agreement(sample: pd.DataFrame, names: list[str]) -> dict | None:
    """How far two readers agree, where the sample has both READERS columns (else None): reader 2
    scored against reader 1 as if it were a tagger (per theme and macro precision, recall, F1: the
    honest ceiling for any tagger measured against one reader), and each reader against the gold
    labels ('themes'); ``same_passages``: share of passages given exactly the same set of themes."""
    if not set(READERS) <= set(sample.columns) or not len(sample):
        return None
    gold, r1, r2 = (label_matrix(sample, names, c) for c in ("themes", *READERS))
    return {"passages": len(sample), "same_passages": float((r1 == r2).all(axis=1).mean()),
            "reader2_vs_reader1": scores_dict(score(r1, r2, names)),
            "reader1_vs_gold": scores_dict(score(gold, r1, names)),
            "reader2_vs_gold": scores_dict(score(gold, r2, names))}


def agreement_sentence(figures: dict) -> str:
    """One sentence (Markdown-free) on the readers' agreement in ``figures`` (from ``report``), or
    '' when the sample has no second reader."""
    a = figures.get("agreement")
    if not a:
        return ""
    r = a["reader2_vs_reader1"]
    return (f"Two readers who labelled the {a['passages']} passages independently agree at macro F1 "
            f"{r['macro_f1']:.2f} (the second scored against the first: precision {r['macro_precision']:.2f}, "
            f"recall {r['macro_recall']:.2f}), the honest ceiling for any tagger; the gold labels settle their "
            "disagreements by a third, blind reading.")


def sample_matrices(tags: pd.DataFrame, sample: pd.DataFrame, names: list[str]):
    """(similarity, keyword hits, truth) matrices for the sample passages found in ``tags``,
    and the sample rows whose passage key is missing (the passage moved or changed)."""
    idx = {k: i for i, k in enumerate(sample["passage_key"])}
    t = tags[tags["passage_key"].isin(idx)]
    sim = t.pivot(index="passage_key", columns="theme", values="similarity").reindex(columns=names)
    hits = t.pivot(index="passage_key", columns="theme", values="keyword_hits").reindex(columns=names)
    found = sample[sample["passage_key"].isin(sim.index)]
    sim, hits = sim.loc[found["passage_key"]].to_numpy(float), hits.loc[found["passage_key"]].to_numpy(float)
    return sim, hits, label_matrix(found, names), found, sample[~sample["passage_key"].isin(idx.keys() & set(t["passage_key"]))]


def _f1(p, r):
    return np.where(p + r > 0, 2 * p * r / np.where(p + r > 0, p + r, 1), 0.0)


def _middle_of_best(values: np.ndarray) -> int:
    """Index of the middle of the first run of consecutive maxima of ``values``."""
    tied = values >= values.max() - 1e-12
    start = int(np.argmax(tied))
    end = start + (int(np.argmin(tied[start:])) if not tied[start:].all() else len(tied) - start)
    return (start + end - 1) // 2


def calibrate(sim: np.ndarray, hits: np.ndarray, truth: np.ndarray, variant: str = "score only") -> TagRule:
    """The rule of ``variant`` with the best macro F1 on these passages: a grid search over
    threshold, keyword bonus and the variant's solo/margin grids (ties: conditions off before
    on, smaller bonus; among tied thresholds the middle of the best run, i.e. the widest gap
    on both sides, not the edge that just fits these passages). With per-theme thresholds, each theme's threshold is
    then moved to the middle of its own best-F1 run (themes without true passages here keep
    the global one)."""
    solos, margins, per_theme = VARIANTS[variant]
    support = truth.sum(0)
    best, best_f1 = None, -1.0
    for solo in solos:
        for margin in margins:
            mask = evidence_mask(sim, hits, solo, margin)
            for bonus in BONUSES:
                s = sim + bonus * np.minimum(hits, MAX_KEYWORDS)
                pred = (s[None] >= THRESHOLDS[:, None, None]) & mask  # thresholds x passages x themes
                p, r = _precision_recall((pred & truth).sum(1), pred.sum(1), support)
                f1 = _f1(_macro(p), _macro(r))
                if f1.max() > best_f1 + 1e-12:
                    k = _middle_of_best(f1)
                    best, best_f1 = TagRule(float(THRESHOLDS[k]), bonus, solo, margin), float(f1[k])
    if not per_theme:
        return best
    mask = evidence_mask(sim, hits, best.solo, best.margin)
    s = sim + best.bonus * np.minimum(hits, MAX_KEYWORDS)
    pred = (s[None] >= THRESHOLDS[:, None, None]) & mask
    p, r = _precision_recall((pred & truth).sum(1), pred.sum(1), support)
    f1 = _f1(np.nan_to_num(p), np.nan_to_num(r))  # thresholds x themes
    thresholds = np.full(truth.shape[1], best.threshold)
    for j in np.flatnonzero(support):
        thresholds[j] = THRESHOLDS[_middle_of_best(f1[:, j])]
    return TagRule(thresholds, best.bonus, best.solo, best.margin)


@dataclass
class CrossValidation:
    variant: str
    pooled: Scores  # held-out predictions of every fold, scored together
    folds: pd.DataFrame  # episode, passages, rule, macro_precision, macro_recall
    predictions: np.ndarray  # passages x themes, each passage predicted by the rule of its fold


def episode_of(keys: pd.Series) -> np.ndarray:
    """Episode id of passage keys '<episode_id>@<order>.<part>'."""
    return keys.str.rsplit("@", n=1).str[0].to_numpy()


def _by_episode(truth: np.ndarray, episodes: np.ndarray, names: list[str], family: str,
                fit_predict) -> CrossValidation:
    """Leave one episode out: ``fit_predict(train, held)`` (boolean masks) calibrates on the
    training passages and returns the held-out predictions and a description of what it fitted;
    the pooled held-out predictions are scored."""
    pred = np.zeros_like(truth)
    rows = []
    for ep in sorted(set(episodes)):
        held = episodes == ep
        pred[held], described = fit_predict(~held, held)
        s = score(truth[held], pred[held], names)
        rows.append({"episode": ep, "passages": int(held.sum()), "rule": described,
                     "macro_precision": s.macro_precision, "macro_recall": s.macro_recall})
    return CrossValidation(family, score(truth, pred, names), pd.DataFrame(rows), pred)


def cross_validate(sim: np.ndarray, hits: np.ndarray, truth: np.ndarray, episodes: np.ndarray,
                   names: list[str], variant: str) -> CrossValidation:
    """Leave one episode out: calibrate ``variant`` on the other episodes' passages, predict
    the held-out episode's, and score the pooled held-out predictions (needs >= 2 episodes)."""
    if len(set(episodes)) < 2:
        raise ValueError("cross-validation by episode needs labelled passages from at least two episodes")

    def fit_predict(train, held):
        rule = calibrate(sim[train], hits[train], truth[train], variant)
        return combine(sim[held], hits[held], rule)[1], rule.describe()

    return _by_episode(truth, episodes, names, variant, fit_predict)


def held_out_probabilities(x: np.ndarray, truth: np.ndarray, episodes: np.ndarray, c: float) -> np.ndarray:
    """(passages x themes) probabilities, each episode's from a model fitted on the other episodes."""
    prob = np.zeros(truth.shape)
    for ep in sorted(set(episodes)):
        held = episodes == ep
        prob[held] = ThemeModel.fit(x[~held], truth[~held], 0.5, c).probability(x[held])
    return prob


def smoothed(values: np.ndarray, steps: int = MODEL_SMOOTHING) -> np.ndarray:
    """Moving average of ``values`` over ``steps`` neighbours on each side (edges repeated)."""
    if steps <= 0:
        return values
    return np.convolve(np.pad(values, steps, mode="edge"), np.ones(2 * steps + 1) / (2 * steps + 1), mode="valid")


def fit_model(x: np.ndarray, truth: np.ndarray, episodes: np.ndarray, c: float | None = None,
              about: str = "") -> ThemeModel:
    """The theme model fitted on these passages; its threshold and relative threshold are the
    best macro F1 of MODEL_THRESHOLDS x MODEL_RELATIVES on leave-one-episode-out probabilities
    within them (so they are chosen on predictions for passages the model did not see), F1
    averaged over MODEL_SMOOTHING neighbouring thresholds on each side first (for each relative
    threshold the middle of the best run of thresholds; ties between relative thresholds:
    listed first, i.e. off or looser; needs >= 2 episodes)."""
    c = config.THEME_MODEL_C if c is None else c
    prob = held_out_probabilities(x, truth, episodes, c)
    best = None
    for relative in MODEL_RELATIVES:
        pred = np.stack([relative_tags(prob, t, relative) for t in MODEL_THRESHOLDS])
        p, r = _precision_recall((pred & truth).sum(1), pred.sum(1), truth.sum(0))
        f1 = smoothed(_f1(_macro(p), _macro(r)))
        k = _middle_of_best(f1)
        if best is None or f1[k] > best[0] + 1e-12:
            best = (float(f1[k]), float(MODEL_THRESHOLDS[k]), relative)
    return ThemeModel.fit(x, truth, best[1], c, about, best[2])


def _describe(model: ThemeModel) -> str:
    rel = "" if model.relative is None else f" and >= {model.relative:.2f} x the passage's best"
    return f"probability >= {model.threshold:.2f}{rel}"


def cross_validate_model(x: np.ndarray, truth: np.ndarray, episodes: np.ndarray, names: list[str],
                         c: float | None = None) -> CrossValidation:
    """Leave one episode out: fit the model (threshold included, see ``fit_model``) on the other
    episodes, predict the held-out one; pooled held-out predictions scored (needs >= 3 episodes)."""
    if len(set(episodes)) < 3:
        raise ValueError("cross-validating the theme model needs labelled passages from at least three episodes")

    def fit_predict(train, held):
        model = fit_model(x[train], truth[train], episodes[train], c)
        return model.tag(x[held])[1], _describe(model)

    return _by_episode(truth, episodes, names, MODEL_FAMILY, fit_predict)


def choose_variant(results: list[CrossValidation]) -> CrossValidation:
    """The variant to ship: among those whose pooled cross-validated macro recall meets the
    target, the best macro precision; if none meets it, the best macro F1 (ties: listed first,
    i.e. simpler)."""
    meets = [r for r in results if r.pooled.macro_recall >= TARGET_RECALL]
    if meets:
        return max(meets, key=lambda r: r.pooled.macro_precision)
    return max(results, key=lambda r: r.pooled.macro_f1)


def _fmt(value: float) -> str:
    return "    -" if np.isnan(value) else f"{value:5.2f}"


def _theme_table(s: Scores, indent: str = "  ") -> list[str]:
    lines = [f"{indent}{'theme':<42} {'true':>4} {'pred':>4} {'prec':>5} {'rec':>5}"]
    for r in s.per_theme.itertuples():
        lines.append(f"{indent}{r.theme:<42} {r.support:>4} {r.predicted:>4} {_fmt(r.precision)} {_fmt(r.recall)}")
    return lines


def _agreement_lines(a: dict) -> list[str]:
    r = a["reader2_vs_reader1"]
    lines = [(f"\ninter-reader agreement on {a['passages']} passages labelled independently from their text: "
              "reader 2 scored against reader 1 as if it were a tagger (the honest ceiling for any tagger); "
              f"{a['same_passages']:.0%} of passages got exactly the same themes"),
             f"  {'theme':<42} {'r1':>4} {'r2':>4} {'prec':>5} {'rec':>5} {'F1':>5}"]
    for t in r["per_theme"]:
        lines.append(f"  {t['theme']:<42} {t['support']:>4} {t['predicted']:>4} {_fmt(t['precision'])} "
                     f"{_fmt(t['recall'])} {_fmt(t['f1'])}")
    for label, key in (("reader 2 against reader 1", "reader2_vs_reader1"), ("reader 1 against the gold", "reader1_vs_gold"),
                       ("reader 2 against the gold", "reader2_vs_gold")):
        f = a[key]
        lines.append(f"  {label:<26} macro precision {f['macro_precision']:.2f}, recall {f['macro_recall']:.2f}, "
                     f"F1 {f['macro_f1']:.2f}")
    return lines


def _rule_config(rule: TagRule) -> str:
    def opt(v):
        return "none" if v is None else f"{v:.2f}"

    if np.ndim(rule.threshold):
        return "per-theme thresholds are not a config setting: " + rule.describe()
    return (f"PODLENS_THEME_THRESHOLD={rule.threshold:.2f} PODLENS_THEME_KEYWORD_BONUS={rule.bonus:.2f} "
            f"PODLENS_THEME_SOLO_SIMILARITY={opt(rule.solo)} PODLENS_THEME_MARGIN={opt(rule.margin)}")


def not_measured(passages: int, episodes: int, missing: int) -> tuple[str, dict]:
    """Report of a corpus with too few labelled episodes to measure the tagger on (a maintainer's
    own corpus): the figures stored with the theme model, measured when it was fitted on the
    reference sample, say so; ``cv`` is None."""
    model = ThemeModel.configured()
    reference = (f"theme model {config.THEME_MODEL.name}: {model.about}" if model is not None and model.about else
                 f"theme model {config.THEME_MODEL.name}" if model is not None else
                 f"configured rule ({TagRule.configured().describe()})")
    text = (f"not measured on this corpus: {passages} passages of {episodes} episode(s) are in the labelled sample "
            f"(data/annotations/{SAMPLE}); cross-validation by episode needs at least three. "
            f"Measured on the reference sample, not on this corpus: {reference}")
    return text, {"method": "not measured on this corpus", "passages": passages, "episodes": episodes,
                  "missing": missing, "cv": None, "reference": reference}


def accuracy_note(figures: dict) -> str:
    """One paragraph (Markdown) saying what the tagger's accuracy figures in ``figures`` (from
    ``report``) are and where they were measured, for the notebooks and the site."""
    cv = figures.get("cv")
    if cv is None and figures.get("error"):
        return (f"**The theme tagger's accuracy was not measured**: the labelled sample could not be read "
                f"({figures['error']}). Measured on the reference sample, not here: {figures['reference']}.")
    if cv is None:
        return ("**The theme tagger's accuracy was not measured on this corpus**: too few of its episodes are in the "
                f"hand-labelled sample (data/annotations/{SAMPLE}; {figures['passages']} labelled passages from "
                f"{figures['episodes']} episode(s) found, cross-validation by episode needs three). Measured on the "
                f"reference sample (the seed episodes), not here: {figures['reference']}. Label passages of this "
                "corpus in the sample to measure it (`python -m analysis evaluate-themes`).")
    support = [t["support"] for t in cv["per_theme"] if t["support"]]
    return (f"Measured by leave-one-episode-out cross-validation on the labelled sample: on {figures['passages']} "
            f"labelled passages from {figures['episodes']} episodes, each predicted by the theme model fitted "
            f"(thresholds included) without its episode, macro precision **{cv['macro_precision']:.2f}**, macro recall "
            f"**{cv['macro_recall']:.2f}** (targets {TARGET_PRECISION:.2f} and {TARGET_RECALL:.2f}; held-out "
            f"predictions of all episodes pooled). Configured rule: {figures['configured']['rule']}. Per theme the "
            f"support is small ({min(support)}-{max(support)} passages), so single passages move these figures a lot."
            + (f" {agreement_sentence(figures)}" if figures.get("agreement") else ""))


def accuracy_table(figures: dict) -> pd.DataFrame | None:
    """Per-theme cross-validated figures of ``report`` (true and tagged passages, precision,
    recall); None (nothing to show) when the tagger was not measured on this corpus."""
    cv = figures.get("cv")
    if cv is None:
        return None
    return pd.DataFrame(cv["per_theme"]).rename(columns={"support": "true", "predicted": "tagged"}).round(2)


def report(tags: pd.DataFrame, names: list[str], sample: pd.DataFrame, recalibrate: bool = False,
           features: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[str, dict]:
    """Text report and a dict of the figures: the cross-validated (leave one episode out)
    precision/recall of every rule family and, given ``features`` (passage keys and their
    (passages x themes x FEATURES) evidence), of the theme model, which is then the reported
    (shipped) tagger; per theme and per fold for the reported one, and the configured rule's
    in-sample figures (optimistic: it was calibrated on these passages). With ``recalibrate``,
    also the reported family fitted on the whole sample (the model is stored in config.THEME_MODEL)."""
    sim, hits, truth, found, missing = sample_matrices(tags, sample, names)
    episodes = episode_of(found["passage_key"])
    n_eps = len(set(episodes))
    if n_eps < (3 if features is not None else 2):  # too few labelled episodes in this corpus to cross-validate
        if recalibrate:
            raise SampleError(f"cannot calibrate the theme tagger: {len(found)} labelled passages of {n_eps} episode(s) "
                              f"of this corpus are in data/annotations/{SAMPLE}; it needs labelled passages from at least three")
        return not_measured(len(found), n_eps, len(missing))
    results = [cross_validate(sim, hits, truth, episodes, names, v) for v in VARIANTS]
    x = None
    if features is not None:
        position = pd.Series(np.arange(len(features[0])), index=features[0])
        x = features[1][position.loc[found["passage_key"]].to_numpy()]
        results.append(cross_validate_model(x, truth, episodes, names))
    chosen = results[-1] if x is not None else choose_variant(results)
    lines = [(f"leave-one-episode-out cross-validation on {len(found)} labelled passages from {n_eps} episodes: "
              "each family is calibrated on the other episodes (rules: macro F1 grid search; model: fitted, its "
              "thresholds (absolute and relative to the passage's best theme) chosen by an inner leave-one-episode-out loop on those episodes) and scored on the "
              "held-out one; held-out predictions pooled"),
             f"  {'family':<56} {'prec':>5} {'rec':>5} {'F1':>5}"]
    for r in results:
        mark = ("" if r is not chosen else "  <- shipped tagger" if x is not None
                else "  <- chosen (best precision with recall >= 0.70, else best F1)")
        lines.append(f"  {r.variant:<56} {r.pooled.macro_precision:5.2f} {r.pooled.macro_recall:5.2f} "
                     f"{r.pooled.macro_f1:5.2f}{mark}")
    lines.append(f"\nchosen family '{chosen.variant}', pooled held-out predictions per theme  <- reported figure")
    lines += _theme_table(chosen.pooled)
    lines.append(f"  macro precision {chosen.pooled.macro_precision:.2f}, macro recall {chosen.pooled.macro_recall:.2f} "
                 "(themes without true passages are left out of the recall average)")
    lines.append("\nper fold (held-out episode: the rule calibrated on the other episodes)")
    for f in chosen.folds.itertuples():
        lines.append(f"  {f.episode:<42} {f.passages:>3} passages  prec {f.macro_precision:.2f} "
                     f"rec {f.macro_recall:.2f}  [{f.rule}]")
    readers = agreement(found, names)
    if readers is not None:
        lines += _agreement_lines(readers)
    against_reader1 = None
    if x is not None and "reader1" in found and (found["reader1"] != found["themes"]).any():
        truth1 = label_matrix(found, names, "reader1")
        cv1 = cross_validate_model(x, truth1, episodes, names)
        against_reader1 = {"fitted_on_reader1": scores_dict(cv1.pooled),
                           "gold_model_vs_reader1": scores_dict(score(truth1, chosen.predictions, names))}
        lines.append("\nthe model against reader 1 alone (continuity with the figures reported before the gold was "
                     f"adjudicated): fitted and scored on reader 1's labels, cross-validated as above: macro precision "
                     f"{cv1.pooled.macro_precision:.2f}, recall {cv1.pooled.macro_recall:.2f}, F1 {cv1.pooled.macro_f1:.2f}")
        for col in ("reader1", *(["reader2"] if "reader2" in found else [])):
            s = score(label_matrix(found, names, col), chosen.predictions, names)
            lines.append(f"  the gold-fitted model's held-out tags scored against {col.replace('reader', 'reader ')}: "
                         f"macro precision {s.macro_precision:.2f}, recall {s.macro_recall:.2f}, F1 {s.macro_f1:.2f}")
            if col == "reader2":
                against_reader1["gold_model_vs_reader2"] = scores_dict(s)
    fresh = (found["split"] == FRESH).to_numpy()
    if x is not None and fresh.any() and len(set(episodes[~fresh])) >= 2:
        model = fit_model(x[~fresh], truth[~fresh], episodes[~fresh])
        fr = score(truth[fresh], model.tag(x[fresh])[1], names)
        lines.append(f"\nfresh batch (split '{FRESH}', {int(fresh.sum())} passages labelled before the last tagger "
                     f"change): the model fitted on the other {int((~fresh).sum())} passages ({_describe(model)}) "
                     f"scores macro precision {fr.macro_precision:.2f}, macro recall {fr.macro_recall:.2f}")
        lines += _theme_table(fr, "    ")
        result_fresh = {"passages": int(fresh.sum()), "macro_precision": fr.macro_precision,
                        "macro_recall": fr.macro_recall, "per_theme": fr.per_theme.to_dict("records")}
    else:
        result_fresh = None
    configured = TagRule.configured()
    conf = score(truth, combine(sim, hits, configured)[1], names)
    lines.append(f"\nconfigured rule ({configured.describe()}; used without a theme model) on all {len(found)} "
                 f"passages: macro precision {conf.macro_precision:.2f}, macro recall {conf.macro_recall:.2f}  "
                 "(in-sample, optimistic: the rule was calibrated on these passages)")
    model = ThemeModel.configured() if x is not None else None
    if model is not None:
        stored = score(truth, model.tag(x)[1], names)
        lines.append(f"stored theme model ({config.THEME_MODEL.name}, {_describe(model)}) on all "
                     f"{len(found)} passages: macro precision {stored.macro_precision:.2f}, macro recall "
                     f"{stored.macro_recall:.2f}  (in-sample, optimistic: fitted on these passages)")
    result = {"method": "leave-one-episode-out cross-validation", "passages": len(found), "episodes": n_eps,
              "missing": len(missing), "chosen_variant": chosen.variant,
              "variants": {r.variant: {"macro_precision": r.pooled.macro_precision,
                                       "macro_recall": r.pooled.macro_recall, "macro_f1": r.pooled.macro_f1}
                           for r in results},
              "cv": {"macro_precision": chosen.pooled.macro_precision, "macro_recall": chosen.pooled.macro_recall,
                     "macro_f1": chosen.pooled.macro_f1,
                     "per_theme": chosen.pooled.per_theme.to_dict("records"),
                     "folds": chosen.folds.to_dict("records")},
              "fresh": result_fresh, "agreement": readers, "cv_reader1": against_reader1,
              "configured": {"rule": configured.describe(), "macro_precision": conf.macro_precision,
                             "macro_recall": conf.macro_recall}}
    if recalibrate and x is not None:
        model = fit_model(x, truth, episodes, about=(
            f"fitted on {len(found)} passages of data/annotations/{SAMPLE} by `python -m analysis evaluate-themes "
            f"--calibrate`; leave-one-episode-out macro precision {chosen.pooled.macro_precision:.2f}, "
            f"recall {chosen.pooled.macro_recall:.2f}"
            + ("" if readers is None else f" against the gold labels (two readers agree at macro F1 "
                                          f"{readers['reader2_vs_reader1']['macro_f1']:.2f})")))
        model.save(config.THEME_MODEL)
        full = score(truth, model.tag(x)[1], names)
        lines.append(f"\nmodel fitted on all {len(found)} passages ({_describe(model)}, chosen by "
                     f"leave-one-episode-out within them), written to {config.THEME_MODEL}; in-sample macro "
                     f"precision {full.macro_precision:.2f}, recall {full.macro_recall:.2f} (optimistic)")
        result["calibrated"] = {"model": str(config.THEME_MODEL), "threshold": model.threshold,
                                "relative": model.relative}
    elif recalibrate:
        rule = calibrate(sim, hits, truth, chosen.variant)
        full = score(truth, combine(sim, hits, rule)[1], names)
        lines.append(f"\ncalibrated on all {len(found)} passages, family '{chosen.variant}': {rule.describe()}; "
                     f"in-sample macro precision {full.macro_precision:.2f}, recall {full.macro_recall:.2f}\n"
                     f"  to use it: {_rule_config(rule)}"
                     + ("  (the configured rule)" if rule.describe() == configured.describe() else ""))
        result["calibrated"] = {"rule": rule.describe(), "config": _rule_config(rule)}
    if len(missing):
        lines.append(f"\nwarning: {len(missing)} labelled passages not found (text changed?): "
                     + ", ".join(f"line {n}" for n in missing["line"].head(10)))
    lines.append(f"\ntargets (cross-validated): macro precision >= {TARGET_PRECISION:.2f}: "
                 f"{'met' if chosen.pooled.macro_precision >= TARGET_PRECISION else 'MISSED'}; macro recall >= "
                 f"{TARGET_RECALL:.2f}: {'met' if chosen.pooled.macro_recall >= TARGET_RECALL else 'MISSED'}")
    return "\n".join(lines), result
