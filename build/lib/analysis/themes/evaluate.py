"""Measure the theme tagger against the hand-labelled sample (data/annotations/themes.sample.tsv):
precision and recall per theme and macro averages, thresholds chosen on the tune split and
reported on the test split."""
from __future__ import annotations

import csv
import itertools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from .tagging import combine

SAMPLE = "themes.sample.tsv"
THRESHOLDS = np.round(np.arange(0.30, 0.651, 0.01), 2)  # the calibration grid
BONUSES = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25)


class SampleError(ValueError):
    """The labelled sample is malformed or names a passage or theme that does not exist."""


def load_sample(path: Path | None = None, themes: list[str] | None = None) -> pd.DataFrame:
    """The labelled sample: passage_key, split, themes (a frozenset of names), text_start.
    Errors name the file and line (unknown theme, bad split, duplicate key)."""
    path = Path(path or config.ANNOTATIONS / SAMPLE)
    rows, seen = [], {}
    with path.open(encoding="utf-8") as fh:
        lines = [(n, line) for n, line in enumerate(fh, 1) if line.strip() and not line.startswith("#")]
    reader = csv.DictReader((line for _, line in lines), delimiter="\t")
    for (n, _), rec in zip(lines[1:], reader):
        names = frozenset(t.strip() for t in (rec.get("themes") or "").split(";") if t.strip())
        unknown = names - set(themes) if themes is not None else set()
        if unknown:
            raise SampleError(f"{path}, line {n}: unknown theme(s) {sorted(unknown)}")
        if rec.get("split") not in ("tune", "test"):
            raise SampleError(f"{path}, line {n}: split must be tune or test, not {rec.get('split')!r}")
        if rec["passage_key"] in seen:
            raise SampleError(f"{path}, line {n}: passage {rec['passage_key']} already labelled at line {seen[rec['passage_key']]}")
        seen[rec["passage_key"]] = n
        rows.append({"passage_key": rec["passage_key"], "split": rec["split"], "themes": names,
                     "text_start": rec.get("text_start") or "", "line": n})
    return pd.DataFrame(rows)


@dataclass
class Scores:
    per_theme: pd.DataFrame  # theme, support, predicted, tp, precision, recall
    macro_precision: float
    macro_recall: float

    @property
    def macro_f1(self) -> float:
        p, r = self.macro_precision, self.macro_recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(truth: np.ndarray, pred: np.ndarray, names: list[str]) -> Scores:
    """Per-theme precision/recall of boolean (passages x themes) predictions. A theme with no
    prediction has precision 1 if it has no true passages either, else 0; a theme absent from
    the truth is left out of the recall average (and of the precision average when also never
    predicted)."""
    tp = (truth & pred).sum(0)
    support, predicted = truth.sum(0), pred.sum(0)
    precision = np.where(predicted > 0, tp / np.maximum(predicted, 1), np.where(support > 0, 0.0, np.nan))
    recall = np.where(support > 0, tp / np.maximum(support, 1), np.nan)
    df = pd.DataFrame({"theme": names, "support": support, "predicted": predicted, "tp": tp,
                       "precision": precision, "recall": recall})
    return Scores(df, float(np.nanmean(precision)) if np.isfinite(precision).any() else 0.0,
                  float(np.nanmean(recall)) if np.isfinite(recall).any() else 0.0)


def sample_matrices(tags: pd.DataFrame, sample: pd.DataFrame, names: list[str]):
    """(similarity, keyword hits, truth) matrices for the sample passages found in ``tags``,
    and the sample rows whose passage key is missing (the passage moved or changed)."""
    idx = {k: i for i, k in enumerate(sample["passage_key"])}
    t = tags[tags["passage_key"].isin(idx)]
    sim = t.pivot(index="passage_key", columns="theme", values="similarity").reindex(columns=names)
    hits = t.pivot(index="passage_key", columns="theme", values="keyword_hits").reindex(columns=names)
    found = sample[sample["passage_key"].isin(sim.index)]
    sim, hits = sim.loc[found["passage_key"]].to_numpy(float), hits.loc[found["passage_key"]].to_numpy(float)
    truth = np.array([[n in s for n in names] for s in found["themes"]], dtype=bool).reshape(len(found), len(names))
    return sim, hits, truth, found, sample[~sample["passage_key"].isin(idx.keys() & set(t["passage_key"]))]


def calibrate(sim: np.ndarray, hits: np.ndarray, truth: np.ndarray, names: list[str]) -> tuple[float, float, Scores]:
    """The (threshold, bonus) of the grid with the best macro F1 on these passages (ties: the
    higher threshold, then the smaller bonus)."""
    best = None
    for bonus, threshold in itertools.product(BONUSES, THRESHOLDS[::-1]):
        s = score(truth, combine(sim, hits, threshold, bonus)[1], names)
        if best is None or s.macro_f1 > best[2].macro_f1 + 1e-12:
            best = (float(threshold), float(bonus), s)
    return best


def _fmt(value: float) -> str:
    return "    -" if np.isnan(value) else f"{value:5.2f}"


def report(tags: pd.DataFrame, names: list[str], sample: pd.DataFrame, recalibrate: bool = False) -> tuple[str, dict]:
    """Text report and a dict of the figures: per-theme precision/recall on the test split at
    the configured threshold and bonus (or, with ``recalibrate``, at those chosen on the tune split)."""
    sim, hits, truth, found, missing = sample_matrices(tags, sample, names)
    tune = (found["split"] == "tune").to_numpy()
    threshold, bonus = config.THEME_THRESHOLD, config.THEME_KEYWORD_BONUS
    lines = []
    best_t, best_b, best = calibrate(sim[tune], hits[tune], truth[tune], names)
    lines.append(f"calibration on the tune split ({tune.sum()} passages): best macro F1 {best.macro_f1:.2f} at "
                 f"threshold {best_t:.2f}, keyword bonus {best_b:.2f}"
                 f" (configured: {threshold:.2f}, {bonus:.2f}; set PODLENS_THEME_THRESHOLD / "
                 "PODLENS_THEME_KEYWORD_BONUS or config.py to change)")
    if recalibrate:
        threshold, bonus = best_t, best_b
    result = {"threshold": threshold, "keyword_bonus": bonus, "missing": len(missing)}
    for split in ("tune", "test"):
        m = (found["split"] == split).to_numpy()
        s = score(truth[m], combine(sim[m], hits[m], threshold, bonus)[1], names)
        result[split] = {"passages": int(m.sum()), "macro_precision": s.macro_precision,
                         "macro_recall": s.macro_recall, "per_theme": s.per_theme.to_dict("records")}
        lines.append(f"\n{split} split: {m.sum()} passages, threshold {threshold:.2f}, keyword bonus {bonus:.2f}"
                     + ("  <- reported figure" if split == "test" else "  (used to choose the settings)"))
        lines.append(f"  {'theme':<42} {'true':>4} {'pred':>4} {'prec':>5} {'rec':>5}")
        for r in s.per_theme.itertuples():
            lines.append(f"  {r.theme:<42} {r.support:>4} {r.predicted:>4} {_fmt(r.precision)} {_fmt(r.recall)}")
        lines.append(f"  macro precision {s.macro_precision:.2f}, macro recall {s.macro_recall:.2f} "
                     "(themes without true passages are left out of the recall average)")
    if len(missing):
        lines.append(f"\nwarning: {len(missing)} labelled passages not found (text changed?): "
                     + ", ".join(f"line {n}" for n in missing["line"].head(10)))
    test = result["test"]
    lines.append(f"\ntargets on the test split: macro precision >= 0.80: "
                 f"{'met' if test['macro_precision'] >= 0.8 else 'MISSED'}; macro recall >= 0.70: "
                 f"{'met' if test['macro_recall'] >= 0.7 else 'MISSED'}")
    return "\n".join(lines), result
