"""Train the speaker model on the labelled corpus of other shows and on the hand-made
references, measure it leave-one-show-out, calibrate its intervals on that measurement, and write
the committed artifact (``python -m analysis train-speakers``; needs ``config.LABELLED_CORPUS``).

Every episode of the corpus that has a host and a guest is built in each input shape
(:mod:`.labelled`). For each show in turn, a model fitted on the other shows (and on every
reference) decodes that show's episodes, labels hidden; :func:`.evaluation.score` scores them
word by word. From those held-out figures come, per input shape (and cast: hosts and guests),
the accuracy an episode without a reference quotes, beside the "everyone is the guest" baseline
and the other shows' average host share; whether the model is clearly better than both
(:data:`BOOTSTRAP` resamples of shows); and the widening of the shown 90% interval
(split-conformal: the smallest widening that holds the true host share for :data:`COVERAGE` of
held-out episodes of that shape and cast). The coverage reported is nested: each show's episodes
are covered by a widening calibrated on the other shows only.

Then the committed models are fitted: ``all`` (the corpus and every reference) and, per
reference, ``without:<episode id>`` (the same without it), which decodes that episode so that
what is shown is what is measured. Hyper-parameters are fixed in advance (the decoder's weights
and the offsets' prior in :mod:`.attribution`, the thresholds below), never chosen on this
evaluation. The artifact records the corpus commit, a hash of the corpus files and one of the
training sentences; it holds no text of the corpus.
"""
from __future__ import annotations

import hashlib
import json
import math
import pickle
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from ..catalog import Episode
from ..io import content_hash, keyed_pickle, write_json
from ..parallel import parallel_map
from . import attribution, evaluation, labelled, reference
from .reference import Reference

COVERAGE = 0.9  # the shown interval is meant to hold the true host share this often
BOOTSTRAP = 1000  # resamples of shows for "clearly better than the baseline"
MIN_QUOTE_EPISODES = 10  # a cast's own figure is quoted when measured on this many episodes ...
MIN_QUOTE_SHOWS = 3  # ... of this many shows; else the figure of its input shape
TARGETS = {"unsegmented_word_accuracy": 0.85, "share_within": 0.05, "share_within_rate": 0.8,
           "interval_coverage": 0.8}  # issue 19
MEASURED_SHAPES = ("unsegmented", "paragraphs", "captions")  # input shapes the corpus measures
_CODE = content_hash(*(Path(__file__).with_name(f).read_bytes() for f in ("labelled.py", "reference.py")))


@dataclass
class CorpusEpisode:
    """One corpus file in one input shape: its catalog entry, utterances, truth and sentences."""

    show: str
    name: str
    shape: str
    episode: Episode
    utterances: pd.DataFrame
    ref: Reference
    sents: pd.DataFrame  # sentences (labels hidden) with the reference's role and host_share


def _build_job(job: tuple) -> tuple[labelled.LabelledEpisode, ...]:
    """Worker: one source file built in every shape (cached by its bytes, cast and the code)."""
    source, cast, workdir = job
    key = content_hash(source.path.read_bytes(), json.dumps(cast), _CODE, _corpus_code())
    path = config.CACHE / "speaker_corpus" / f"{labelled.episode_id(source, 'all')}.pkl"
    return keyed_pickle(path, key, lambda: tuple(labelled.build(source, cast, shape, Path(workdir))
                                                 for shape in MEASURED_SHAPES))


def _corpus_code() -> str:
    from ..corpus import CODE_VERSION  # the corpus build imports this package

    return CODE_VERSION


def corpus_episodes(root: Path, progress: bool = False) -> tuple[list[CorpusEpisode], dict]:
    """Every corpus file with a host and a guest, in each of MEASURED_SHAPES, and a summary of
    what was read (files, shows, casts, the hosts derived per show)."""
    files = labelled.corpus_files(root)
    if not files:
        raise FileNotFoundError(f"no labelled transcripts (<show>/<episode>.md) under {root}: set PODLENS_LABELLED_CORPUS")
    sources = [labelled.read_source(p) for p in files]
    casts = labelled.derive_casts(sources)
    usable = [s for s in sources if all(casts[s.path])]
    with tempfile.TemporaryDirectory() as work:
        built = parallel_map(_build_job, [(s, casts[s.path], work) for s in usable],
                             progress="corpus episodes" if progress else None)
    out = []
    for group in built:
        for e in group:
            hidden = attribution.sentences(e.utterances, e.episode, hide_labels=True)
            sents = attribution.with_reference(hidden, e.utterances, e.ref)
            out.append(CorpusEpisode(e.show, e.episode.title, e.shape, e.episode, e.utterances, e.ref,
                                     sents.assign(n_hosts=len(e.episode.hosts))))
    hosts: dict[str, set] = {}
    for s in sources:
        hosts.setdefault(s.show, set()).update(casts[s.path][0])
    info = {"commit": labelled.corpus_commit(root), "files": len(files), "sha256": labelled.corpus_hash(files, root),
            "episodes_used": len(usable),
            "episodes_without_host_or_guest": len(sources) - len(usable),
            "shows": {show: sum(s.show == show for s in usable) for show in sorted(hosts)},
            "hosts": {show: sorted(h) for show, h in sorted(hosts.items())}}
    return out, info


@dataclass
class Seeds:
    """The reference episodes: training sentences, catalog entries, and the hashes recorded."""

    sents: dict[str, pd.DataFrame]
    records: dict[str, dict]  # id -> reference file sha256, the episode's inputs hash


def seed_references() -> Seeds:
    """Training sentences of every catalog episode with a reference, built as the corpus builds them."""
    from ..corpus import build_corpus

    build = build_corpus(progress=False, write=False)
    u = build.tables["utterances"]
    from ..catalog import load_catalog

    episodes = [ep for ep in load_catalog()[0] if ep.id in set(u["episode_id"])]
    refs, _ = reference.load_references(episodes)
    files = attribution.reference_files(episodes)
    hashes = attribution.input_hashes(u, [ep for ep in episodes if ep.id in refs])
    sents, records = {}, {}
    for ep in episodes:
        if ep.id not in refs:
            continue
        t = attribution.training_sentences(u, [ep], refs)
        sents[ep.id] = t.assign(n_hosts=len(ep.hosts))
        records[ep.id] = {"reference_sha256": hashlib.sha256(files[ep.id]).hexdigest(), "inputs": hashes[ep.id]}
    return Seeds(sents, records)


def training_table(corpus: list[CorpusEpisode], seeds: Seeds, show: str | None = None,
                   without: str | None = None) -> pd.DataFrame:
    """Labelled sentences of every corpus episode but ``show``'s and every reference but ``without``'s."""
    parts = [e.sents[e.sents["role"].notna()] for e in corpus if e.show != show]
    parts += [t for e, t in sorted(seeds.sents.items()) if e != without]
    return pd.concat(parts, ignore_index=True)


def training_hash(train: pd.DataFrame) -> str:
    """sha256 of what a model is fitted on (episode, shape, boundary, role and text of every sentence)."""
    cols = train[["episode_id", "shape", "boundary", "role", "text"]].astype(str)
    return hashlib.sha256("\n".join("\t".join(r) for r in cols.itertuples(index=False)).encode()).hexdigest()


def cross_show(corpus: list[CorpusEpisode], seeds: Seeds, progress: bool = False) -> list[dict]:
    """Leave one show out: per held-out corpus episode and shape, :func:`evaluation.score` of the
    model fitted on the other shows and every reference, and how its people are named. Shows
    are held out on local worker processes (config.WORKERS), which read the corpus from one
    temporary pickle; rows come back in show order."""
    shows = sorted({e.show for e in corpus})
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "corpus.pkl"
        with data.open("wb") as fh:
            pickle.dump((corpus, seeds), fh, protocol=pickle.HIGHEST_PROTOCOL)
        done = parallel_map(_hold_out, [(show, str(data)) for show in shows],
                            progress="shows held out" if progress else None)
    return [r for rows in done for r in rows]


_LOADED: dict[str, tuple] = {}


def _hold_out(job: tuple[str, str]) -> list[dict]:
    """Worker: the rows of :func:`cross_show` for one held-out show."""
    show, data = job
    if data not in _LOADED:
        _LOADED.clear()
        with open(data, "rb") as fh:
            _LOADED[data] = pickle.load(fh)
    corpus, seeds = _LOADED[data]
    model = attribution.fit(training_table(corpus, seeds, show=show))
    rows = []
    for e in corpus:
        truth = e.sents.assign(role=None)
        if e.show != show or truth["host_share"].notna().mean() <= 0.5:
            continue
        r, pred = evaluation.score(model, truth, len(e.episode.hosts))
        rows.append({"show": e.show, "episode": e.name, "shape": e.shape, "hosts": len(e.episode.hosts),
                     "guests": len(e.episode.guests), "cast": attribution.cast_class(len(e.episode.hosts),
                                                                                     len(e.episode.guests)),
                     **{k: v for k, v in r.items() if k != "turn_offsets"},
                     "naming": evaluation.naming(e.utterances, e.episode, e.ref, pred)})
    return rows


def _needed_widening(rows: pd.DataFrame) -> np.ndarray:
    """Per row: how far its draws' 90% interval must widen (each side) to hold the true share."""
    return np.maximum(0.0, np.maximum(rows["host_word_share_low"] - rows["host_word_share_true"],
                                      rows["host_word_share_true"] - rows["host_word_share_high"])).to_numpy()


def conformal_widening(needed: np.ndarray, coverage: float = COVERAGE) -> float:
    """The smallest widening that holds ``coverage`` of the calibration episodes, with the
    split-conformal (n + 1) correction."""
    if not len(needed):
        return 0.0
    k = min(math.ceil((len(needed) + 1) * coverage), len(needed))
    return float(np.sort(needed)[k - 1])


def _widening_for(calibration: pd.DataFrame, cast: str) -> float:
    """The conformal widening for an episode of ``cast``: calibrated on the episodes of that cast
    where there are MIN_QUOTE_EPISODES of MIN_QUOTE_SHOWS shows (the rule that picks the quoted
    figure), else on all of ``calibration`` (one input shape)."""
    own = calibration[calibration["cast"] == cast]
    enough = len(own) >= MIN_QUOTE_EPISODES and own["show"].nunique() >= MIN_QUOTE_SHOWS
    return conformal_widening(_needed_widening(own if enough else calibration))


def _clearly_better(gain: pd.Series, shows: pd.Series) -> tuple[bool, float]:
    """(the model is clearly better than a baseline, the 5th percentile of its mean per-episode
    ``gain`` over BOOTSTRAP resamples of whole ``shows``, fixed seed)."""
    gain = gain.groupby(shows).agg(["sum", "count"])
    rng = np.random.default_rng(config.SEED)
    pick = rng.integers(0, len(gain), (BOOTSTRAP, len(gain)))
    means = gain["sum"].to_numpy()[pick].sum(axis=1) / gain["count"].to_numpy()[pick].sum(axis=1)
    low = float(np.quantile(means, 0.05))
    return low > 0, low


def _share_baseline(df: pd.DataFrame) -> pd.Series:
    """Per held-out row: the trivial host-share estimate, the mean true host share of the other
    shows' episodes of the same shape and cast."""
    out = pd.Series(np.nan, index=df.index)
    for (_, _, show), g in df.groupby(["shape", "cast", "show"]):
        same = df[(df["shape"] == g["shape"].iloc[0]) & (df["cast"] == g["cast"].iloc[0]) & (df["show"] != show)]
        out.loc[g.index] = same["host_word_share_true"].mean() if len(same) else df["host_word_share_true"].mean()
    return out


def _figures(rows: pd.DataFrame, covered: pd.Series) -> dict:
    """Summary of held-out rows of one group (a shape, or a shape and cast): word accuracy beside
    everyone-is-the-guest, and the expected host share's error beside that of the other shows'
    average share (``share_baseline``); the split is ``reliable`` when the model is clearly
    better than both."""
    by_show = rows.groupby("show")
    better, low = _clearly_better(rows["word_accuracy"] - rows["guest_baseline_accuracy"], rows["show"])
    share_err = (rows["host_word_share_expected"] - rows["host_word_share_true"]).abs()
    base_err = (rows["share_baseline"] - rows["host_word_share_true"]).abs()
    share_better, share_low = _clearly_better(base_err - share_err, rows["show"])
    return {"episodes": len(rows), "shows": int(rows["show"].nunique()),
            "word_accuracy": float(rows["word_accuracy"].mean()),
            "guest_baseline_accuracy": float(rows["guest_baseline_accuracy"].mean()),
            "word_accuracy_by_show_mean": float(by_show["word_accuracy"].mean().mean()),
            "shows_above_baseline": int((by_show["word_accuracy"].mean() > by_show["guest_baseline_accuracy"].mean()).sum()),
            "episodes_above_baseline": float((rows["word_accuracy"] > rows["guest_baseline_accuracy"]).mean()),
            "gain_low": low, "clearly_better": better,
            "share_within_5": float((share_err <= TARGETS["share_within"]).mean()),
            "share_error_mean": float(share_err.mean()),
            "share_baseline_error_mean": float(base_err.mean()),
            "share_baseline_within_5": float((base_err <= TARGETS["share_within"]).mean()),
            "share_gain_low": share_low, "share_clearly_better": share_better, "reliable": better and share_better,
            "interval_coverage": float(covered.loc[rows.index].mean())}


def summarise(rows: list[dict]) -> dict:
    """The artifact's cross-show section: widening per shape, figures per shape, per shape and
    cast, per show, naming, and the issue's targets."""
    df = pd.DataFrame(rows)
    df["share_baseline"] = _share_baseline(df)
    covered = pd.Series(False, index=df.index)
    for _, g in df.groupby("shape"):
        for show in g["show"].unique():  # nested: calibrated on the other shows only
            own = g["show"] == show
            for cast, held in g[own].groupby("cast"):
                w = _widening_for(g[~own], cast)
                covered.loc[held.index] = ((held["host_word_share_low"] - w <= held["host_word_share_true"])
                                           & (held["host_word_share_true"] <= held["host_word_share_high"] + w))
    by_shape = {s: _figures(g, covered) | {"widening": conformal_widening(_needed_widening(g))}
                for s, g in df.groupby("shape")}
    by_cast = {s: {c: _figures(gc, covered) | {"widening": _widening_for(g, c)} for c, gc in g.groupby("cast")}
               for s, g in df.groupby("shape")}
    by_show = {s: {show: {"episodes": len(gs), "word_accuracy": float(gs["word_accuracy"].mean()),
                          "guest_baseline_accuracy": float(gs["guest_baseline_accuracy"].mean()),
                          "share_within_5": float(((gs["host_word_share_expected"] - gs["host_word_share_true"]).abs()
                                                   <= TARGETS["share_within"]).mean()),
                          "interval_coverage": float(covered.loc[gs.index].mean())}
                   for show, gs in g.groupby("show")} for s, g in df.groupby("shape")}
    rules: dict[str, dict] = {}
    for n in df["naming"]:
        for rule, st in n["rules"].items():
            acc = rules.setdefault(rule, {"utterances": 0, "right": 0})
            acc["utterances"] += st["utterances"]
            acc["right"] += st["right"]
    several = df[(df["hosts"] > 1) | (df["guests"] > 1)]
    naming = {"rules": rules, "episodes": {s: len(g) for s, g in several.groupby("shape")},
              "role_word_accuracy": {s: float(np.mean([n["role_word_accuracy"] for n in g["naming"]]))
                                     for s, g in several.groupby("shape")},
              "person_word_accuracy": {s: float(np.mean([n["person_word_accuracy"] for n in g["naming"]]))
                                       for s, g in several.groupby("shape")}}
    u = by_shape.get("unsegmented")
    targets = {} if u is None else {
        "unsegmented_word_accuracy": u["word_accuracy"], "unsegmented_shows_above_baseline": u["shows_above_baseline"],
        "unsegmented_shows": u["shows"], "share_within_rate": {s: f["share_within_5"] for s, f in by_shape.items()},
        "interval_coverage": {s: f["interval_coverage"] for s, f in by_shape.items()}}
    return {"by_shape": by_shape, "by_shape_cast": by_cast, "by_show": by_show, "naming": naming,
            "targets": {"thresholds": TARGETS, "measured": targets},
            "quote_rule": {"min_episodes": MIN_QUOTE_EPISODES, "min_shows": MIN_QUOTE_SHOWS}}


def train(root: Path | None = None, progress: bool = False) -> dict:
    """The artifact: committed models, cross-show figures and what they were made from."""
    root = Path(root or config.LABELLED_CORPUS)
    t0 = time.perf_counter()
    corpus, info = corpus_episodes(root, progress)
    seeds = seed_references()
    if progress:
        print(f"  {len(corpus)} corpus episode shapes and {len(seeds.sents)} references ready in "
              f"{time.perf_counter() - t0:.0f}s", flush=True)
    rows = cross_show(corpus, seeds, progress)
    models, trained = {}, {}
    for without in [None, *sorted(seeds.sents)]:
        train_rows = training_table(corpus, seeds, without=without)
        name = "all" if without is None else f"without:{without}"
        models[name] = {"model": attribution.fit(train_rows).to_dict(), "without": without,
                        "reference_sha256": seeds.records[without]["reference_sha256"] if without else None,
                        "references": sorted(e for e in seeds.sents if e != without),
                        "training_sentences": len(train_rows), "training_data_sha256": training_hash(train_rows)}
        trained[name] = len(train_rows)
    return {"format": attribution.ARTIFACT_FORMAT, "made_by": "python -m analysis train-speakers",
            "features": attribution.feature_names(), "corpus": info, "references": seeds.records,
            "settings": {"emission_power": attribution.EMISSION_POWER, "confidence_power": attribution.CONFIDENCE_POWER,
                         "max_run": attribution.MAX_RUN, "draws": attribution.N_DRAWS, "coverage": COVERAGE,
                         "bootstrap": BOOTSTRAP, "seed": config.SEED},
            "models": models, "cross_show": summarise(rows)}


def main_train_speakers(args) -> int:
    """``python -m analysis train-speakers [--corpus DIR]``: train, measure and write the artifact."""
    import sys

    root = Path(args.corpus or config.LABELLED_CORPUS)
    if not root.is_dir():
        print(f"error: the labelled corpus is not at {root} (set PODLENS_LABELLED_CORPUS or pass --corpus); "
              f"the committed model {config.SPEAKER_MODEL} is left as it is", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    artifact = train(root, progress=True)
    out = config.writable_artifact(Path(config.SPEAKER_MODEL))
    before = out.read_bytes() if out.exists() else None
    write_json(artifact, out)
    changed = "unchanged" if before == out.read_bytes() else "written"
    print(evaluation.cross_show_report(artifact))
    print(f"{out}: {changed} ({out.stat().st_size / 1024:.0f} KiB) in {time.perf_counter() - t0:.0f}s "
          f"with {config.WORKERS} worker(s)")
    return 0
