"""Try a change to speaker attribution across shows, fast: leave-one-show-out on a fixed
subsample of the labelled corpus (``--per-show`` unsegmented episodes of each show, 62 in all by
default; the full run is ``python -m analysis evaluate-speakers`` after ``train-speakers``).
Each held-out show is decoded by a model fitted on the ten other shows and the references, and
each reference episode by a model fitted without it, exactly as ``train-speakers`` does; a
variant changes one part and is printed beside ``shipped``.

    .venv/bin/python benchmarks/speaker_variants.py                      # every variant, about 10 min on 2 cores
    .venv/bin/python benchmarks/speaker_variants.py shipped gbt-both     # some of them

Per variant: words right (host vs guest, mean over episodes), "everyone is the guest", shows
above it, the posterior's mean host-share error (points), episodes within 5 points, mean signed
error; the same error for that share calibrated on the other shows (a straight line) and for the
other shows' average share of the cast; then each reference episode's words right and share error. Needs the labelled corpus
(PODLENS_LABELLED_CORPUS); writes nothing but the corpus build cache. To try an idea, add a
function ``(model, train) -> (model, scorer or None)`` to VARIANTS.
"""
from __future__ import annotations

import argparse
import copy
import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.ensemble import HistGradientBoostingClassifier

from analysis import config
from analysis.parallel import parallel_map
from analysis.speakers import attribution, evaluation, reference, training


class Boosted:
    """Gradient-boosted trees behind the ``predict(x) -> P(y = 1)`` of attribution.Logistic."""

    def __init__(self, x: np.ndarray, y: np.ndarray, balanced: bool):
        self.trees = HistGradientBoostingClassifier(max_iter=200, random_state=config.SEED,
                                                    class_weight="balanced" if balanced else None).fit(x, y)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.trees.predict_proba(x)[:, 1]


def _text_rows(train: pd.DataFrame) -> pd.DataFrame:
    """The labelled rows the classifiers learn from (as attribution.fit takes them)."""
    train = train[train["role"].isin(attribution.ROLES)]
    return train[train["shape"].isin(attribution.CLASSIFIER_SHAPES)]


def _boundary_examples(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Features and 'the role changes' of every free boundary between two labelled sentences of one episode."""
    x = attribution._sentence_features(rows["text"].tolist())
    ep, role, kind = rows["episode_id"].to_numpy(), rows["role"].to_numpy(), rows["boundary"].to_numpy()
    i = np.flatnonzero((ep[1:] == ep[:-1]) & (kind[1:] == "free"))
    return np.hstack([x[i], x[i + 1]]), role[i] != role[i + 1]


def shipped(model, train):
    return model, None


def gbt_boundary(model, train):
    """The boundary classifier as boosted trees on the same features."""
    x, y = _boundary_examples(_text_rows(train))
    model = copy.copy(model)
    model.boundary_clf, model.boundary_base = Boosted(x, y, False), float(y.mean())
    return model, None


def gbt_both(model, train):
    """Boosted trees for the boundary and the sentence classifier, same features."""
    model, _ = gbt_boundary(model, train)
    rows = _text_rows(train)
    clf = Boosted(attribution._sentence_features(rows["text"].tolist()), (rows["role"] == "host").to_numpy(), True)
    return model, lambda texts: clf.predict(attribution._sentence_features(texts))


VARIANTS = {"shipped": shipped, "gbt-boundary": gbt_boundary, "gbt-both": gbt_both}


def subsample(corpus: list[training.CorpusEpisode], per_show: int) -> list[training.CorpusEpisode]:
    """``per_show`` unsegmented episodes of each show (evenly spaced in name order) with a truth
    for most of their sentences."""
    out = []
    for show in sorted({e.show for e in corpus}):
        eps = sorted((e for e in corpus if e.show == show and e.shape == "unsegmented"
                      and e.sents["host_share"].notna().mean() > 0.5), key=lambda e: e.name)
        out += eps[::max(1, len(eps) // per_show)][:per_show]
    return out


def _row(model, scorer, truth: pd.DataFrame, n_hosts: int) -> dict:
    p = scorer(truth["text"].tolist()) if scorer else None
    r, _ = evaluation.score(model, truth, n_hosts, p)
    return r


_LOADED: dict = {}


def _fold(job: tuple[str, str, str]) -> list[dict]:
    """Worker: every variant's rows for one held-out show or reference episode (the data are
    read from one temporary pickle, as training.cross_show does)."""
    kind, name, data = job
    if data not in _LOADED:
        _LOADED.clear()
        with open(data, "rb") as fh:
            _LOADED[data] = pickle.load(fh)
    corpus, seeds, truths, names, chosen = _LOADED[data]
    train = training.training_table(corpus, seeds, **({"show": name} if kind == "show" else {"without": name}))
    base = attribution.fit(train)
    rows = []
    for variant in names:
        model, scorer = VARIANTS[variant](base, train)
        if kind == "show":
            rows += [{"variant": variant, "show": e.show, "episode": e.name, "cast": attribution.cast_class(len(e.episode.hosts), len(e.episode.guests)),
                      **_row(model, scorer, e.sents.assign(role=None), len(e.episode.hosts))}
                     for e in corpus if e.show == name and (e.show, e.name, e.shape) in chosen]
        else:
            rows += [{"variant": variant, "reference": name, "marks": marks, **_row(model, scorer, truth, n_hosts)}
                     for (eid, marks), (truth, n_hosts) in sorted(truths.items()) if eid == name]
    return rows


def reference_truths() -> dict:
    """(episode id, turn marks kept) -> (sentence truth with labels hidden, hosts) for every reference episode."""
    from analysis.catalog import load_catalog
    from analysis.corpus import build_corpus

    u = build_corpus(progress=False, write=False).tables["utterances"]
    episodes = [ep for ep in load_catalog()[0] if ep.id in set(u["episode_id"])]
    refs, _ = reference.load_references(episodes)
    out = {}
    for ep in episodes:
        if ep.id in refs:
            for marks in (False, True):
                truth = evaluation.truth_sentences(u[u["episode_id"] == ep.id], ep, refs, marks)
                if not marks or (truth["boundary"] == "mark").any():
                    out[(ep.id, marks)] = (truth, len(ep.hosts))
    return out


def share_baselines(rows: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per episode, the host share two other ways, each set on the other shows only: the
    model's expected share mapped by a straight line fitted to their true shares (calibrated),
    and their average true share for the episode's cast (the average baseline)."""
    out = {"calibrated": np.zeros(len(rows)), "average": np.zeros(len(rows))}
    for show in rows["show"].unique():
        mine, other = (rows["show"] == show).to_numpy(), rows[rows["show"] != show]
        slope, intercept = np.polyfit(other["host_word_share_expected"], other["host_word_share_true"], 1)
        out["calibrated"][mine] = np.clip(intercept + slope * rows.loc[mine, "host_word_share_expected"], 0, 1)
        by_cast = other.groupby("cast")["host_word_share_true"].mean()
        out["average"][mine] = rows.loc[mine, "cast"].map(by_cast).fillna(other["host_word_share_true"].mean())
    return out


def summary(rows: pd.DataFrame, refs: pd.DataFrame) -> str:
    rows = rows.reset_index(drop=True)
    err = rows["host_word_share_expected"] - rows["host_word_share_true"]
    other = {k: np.abs(v - rows["host_word_share_true"].to_numpy()) for k, v in share_baselines(rows).items()}
    per_show = rows.groupby("show")[["word_accuracy", "guest_baseline_accuracy"]].mean()
    above = (per_show["word_accuracy"] > per_show["guest_baseline_accuracy"]).sum()
    seeds = "; ".join(f"{r.reference.split('-')[0]}{' marks' if r.marks else ''} {r.word_accuracy:.1%} "
                      f"(share {abs(r.host_word_share_expected - r.host_word_share_true) * 100:.1f} pts off)"
                      for r in refs.itertuples())
    return (f"words {rows['word_accuracy'].mean():.1%} (everyone-is-guest {rows['guest_baseline_accuracy'].mean():.1%}, "
            f"shows above {above}/{len(per_show)}); share error {err.abs().mean() * 100:.1f} pts, "
            f"within 5 {(err.abs() <= 0.05).mean():.0%}, signed {err.mean() * 100:+.1f}; "
            + "; ".join(f"{k} {e.mean() * 100:.1f} pts, within 5 {(e <= 0.05).mean():.0%}" for k, e in other.items())
            + f"\n    references: {seeds}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="*", metavar="VARIANT", help=f"of {', '.join(VARIANTS)} (default all)")
    parser.add_argument("--per-show", type=int, default=6, help="unsegmented episodes per held-out show (default 6)")
    args = parser.parse_args()
    names = args.variants or list(VARIANTS)
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variant {', '.join(unknown)}; choose from {', '.join(VARIANTS)}")
    corpus, _ = training.corpus_episodes(config.LABELLED_CORPUS, progress=True)
    chosen = {(e.show, e.name, e.shape) for e in subsample(corpus, args.per_show)}
    seeds = training.seed_references()
    truths = reference_truths()
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "data.pkl"
        with data.open("wb") as fh:
            pickle.dump((corpus, seeds, truths, names, chosen), fh, protocol=pickle.HIGHEST_PROTOCOL)
        jobs = [("show", s, str(data)) for s in sorted({e.show for e in corpus})]
        jobs += [("reference", r, str(data)) for r in sorted(seeds.sents)]
        done = pd.DataFrame([r for rows in parallel_map(_fold, jobs, progress="folds") for r in rows])
    print(f"leave-one-show-out on {len(chosen)} unsegmented episodes of {len({e.show for e in corpus})} shows "
          f"({args.per_show} per show) and {len(seeds.sents)} reference episodes")
    for variant in names:
        mine = done[done["variant"] == variant]
        print(f"{variant:<14} {summary(mine[mine['show'].notna()], mine[mine['reference'].notna()])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
