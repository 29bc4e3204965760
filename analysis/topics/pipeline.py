"""Run the topic stage: passages (cached per episode), cached embeddings, the stored model and
the tables in data/processed. A model is fitted only when there is none, when asked
(``--refit``), when its settings or fitting code changed, or when the corpus grew by more than
config.TOPIC_REFIT_GROWTH since the fit; otherwise passages it was not fitted on (added or
changed episodes) are assigned to its nearest topic, and no other episode's topics change."""
from __future__ import annotations

import json
import logging
import resource
import shutil
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from ..corpus import load_corpus
from ..embeddings import embed, load_model
from ..io import content_hash, write_json, write_table
from ..schema import REGISTRY
from . import model as tm
from .tables import build_tables, topic_centroids

MODEL_DIR = "topics"  # under config.CACHE: model/ (BERTopic safetensors), fit.npz, topics.json, key.txt (version)
PASSAGE_CACHE = "passages"  # under config.CACHE: <episode id>.pkl, one episode's passage rows and their key
ASSIGNED_BY = ("fit", "nearest_topic")  # see tables.ASSIGNMENTS


@dataclass
class TopicRun:
    """Everything the stage produced; ``tables`` are keyed by table name. ``refitted``: the
    model was fitted in this run; ``version``: the model version the tables come from;
    ``added``: passages the model was not fitted on (assigned to its nearest topic)."""

    passages: pd.DataFrame
    embeddings: np.ndarray
    fit: tm.Fit
    tables: dict[str, pd.DataFrame]
    refitted: bool
    timings: dict[str, float] = field(default_factory=dict)
    version: str = ""
    added: int = 0


_HERE = Path(__file__).parent
# Read at import: the keys name the code this process runs. The model depends on the fitting
# code and the embeddings; passages on their cutting code; the tables on all of it.
_MODEL_CODE = content_hash(*(p.read_bytes() for p in [_HERE / "model.py", _HERE / "keywords.py",
                                                       _HERE / "coherence.py", _HERE.parent / "embeddings.py"]))
_PASSAGE_CODE = content_hash((_HERE / "passages.py").read_bytes())


def settings_key() -> str:
    """Hash of what a fitted model depends on besides its passages: settings, BERTopic's
    version and the fitting code. A stored model with another key is refitted."""
    return content_hash(config.EMBEDDING_MODEL, str(config.SEED), str(config.TOPIC_FIT_SAMPLE),
                        version("bertopic"), _MODEL_CODE)


def cache_key(passages: pd.DataFrame) -> str:
    """The version of a model fitted on ``passages``: hash of the passages and :func:`settings_key`."""
    return content_hash("\n".join(passages["passage_id"] + "\t" + passages["text"]), settings_key())


def passage_keys(passages: pd.DataFrame) -> list[str]:
    """One key per passage: its id and a hash of its text (a passage whose text changed is new)."""
    return [f"{i}\t{content_hash(t)}" for i, t in zip(passages["passage_id"], passages["text"])]


def _cut(job: tuple[pd.DataFrame, bool]) -> list[dict]:
    from .passages import episode_rows

    return episode_rows(*job)


def cached_passages(utterances: pd.DataFrame, episodes: pd.DataFrame, use_cache: bool = True,
                    progress: bool = False) -> pd.DataFrame:
    """:func:`~analysis.topics.passages.make_passages`, per episode behind a cache
    (``data/cache/passages``) keyed by the episode's utterances, format and the passage code:
    only new or changed episodes are cut, in parallel (analysis.parallel)."""
    from ..io import load_keyed, store_keyed
    from ..parallel import parallel_map
    from .passages import conversation, is_turn_based, to_table

    turns = is_turn_based(episodes)
    groups = list(conversation(utterances).groupby("episode_id", sort=True))
    rows: list[list[dict] | None] = []
    todo = []
    for ep_id, ep in groups:
        key = content_hash(pd.util.hash_pandas_object(ep, index=False).to_numpy().tobytes(),
                           str(turns.get(ep_id, False)), _PASSAGE_CODE)
        path = config.CACHE / PASSAGE_CACHE / f"{ep_id}.pkl"
        cached = load_keyed(path, key) if use_cache else None
        if cached is None:
            todo.append((len(rows), key, path))
        rows.append(cached)
    cut = parallel_map(_cut, [(groups[i][1], turns.get(groups[i][0], False)) for i, _, _ in todo],
                       progress="passages" if progress else None)
    for (i, key, path), r in zip(todo, cut):
        rows[i] = r
        if use_cache:
            store_keyed(path, key, r)
    return to_table([r for ep_rows in rows for r in ep_rows])


@dataclass
class StoredModel:
    """A fitted model as kept in ``data/cache/topics``: the per-passage fit of the passages it
    was fitted on (``keys``, see :func:`passage_keys`) and each topic's centroid."""

    version: str
    settings: str
    keys: list[str]
    fit: tm.Fit
    centroids: dict[int, np.ndarray]  # topic id -> unit mean embedding of its fitted passages


def _save(stored: StoredModel, model, directory: Path) -> None:
    logging.getLogger("BERTopic").setLevel(logging.ERROR)  # it warns that no embedding model is saved
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save(tmp / "model", serialization="safetensors", save_ctfidf=True, save_embedding_model=False)
    fit = stored.fit
    ids = sorted(stored.centroids)
    np.savez(tmp / "fit.npz", topics=fit.topics, raw_topics=fit.raw_topics, probabilities=fit.probabilities,
             keys=np.array(stored.keys, dtype=str), centroid_ids=np.array(ids, dtype=int),
             centroids=np.array([stored.centroids[t] for t in ids]).reshape(len(ids), -1 if ids else 0))
    write_json({"words": fit.words, "labels": fit.labels, "settings": stored.settings,
                "passages": len(stored.keys)}, tmp / "topics.json")
    (tmp / "key.txt").write_text(stored.version)
    shutil.rmtree(directory, ignore_errors=True)
    tmp.rename(directory)


def _load(directory: Path) -> StoredModel | None:
    """The stored model, or None when there is none (or one in an older layout). Its BERTopic
    model is not loaded (that import alone takes seconds); :func:`load_bertopic` gives it."""
    try:
        data = np.load(directory / "fit.npz")
        stored = json.loads((directory / "topics.json").read_text())
        version_ = (directory / "key.txt").read_text()
        keys, ids, centroids = data["keys"].tolist(), data["centroid_ids"], data["centroids"]
    except (OSError, KeyError, ValueError):
        return None
    words = {int(t): w for t, w in stored["words"].items()}
    labels = {int(t): lab for t, lab in stored["labels"].items()}
    probs = data["probabilities"]
    fit = tm.Fit(None, data["topics"], data["raw_topics"], None if probs.ndim == 0 else probs, words, labels, {})
    return StoredModel(version_, stored.get("settings", ""), keys, fit,
                       {int(t): c for t, c in zip(ids, centroids)})


def assign(stored: StoredModel, keys: list[str], embeddings: np.ndarray) -> tuple[tm.Fit, np.ndarray]:
    """The stored model's topics for passages ``keys`` (embedded as ``embeddings``): a passage
    it was fitted on keeps its fitted topic, clustered topic and probabilities; any other goes
    to the topic with the most similar centroid when the cosine similarity is at least
    model.OUTLIER_THRESHOLD (the rule outlier reduction applies), else stays an outlier, with
    clustered topic -1 and no probability. Each passage's topic depends on that passage only,
    so adding an episode changes no other episode's topics. Returns (the fit, the ``assigned_by``
    value of each passage)."""
    fit = stored.fit
    row = {k: i for i, k in enumerate(stored.keys)}
    known = np.array([row.get(k, -1) for k in keys])
    old = known >= 0
    topics = np.full(len(keys), -1, dtype=int)
    raw = np.full(len(keys), -1, dtype=int)
    topics[old], raw[old] = fit.topics[known[old]], fit.raw_topics[known[old]]
    probs = None
    if fit.probabilities is not None and fit.probabilities.ndim == 2:
        probs = np.full((len(keys), fit.probabilities.shape[1]), np.nan)
        probs[old] = fit.probabilities[known[old]]
    new = np.flatnonzero(~old)
    if len(new) and stored.centroids:
        ids = np.array(sorted(stored.centroids))
        # einsum's own loops, not BLAS: a matrix product rounds by the number of rows, so a
        # passage's similarities (and, in a near tie, its topic) would depend on the others
        sims = np.einsum("ij,kj->ik", embeddings[new], np.array([stored.centroids[t] for t in ids]))
        best = sims.argmax(axis=1)
        topics[new] = np.where(sims[np.arange(len(new)), best] >= tm.OUTLIER_THRESHOLD, ids[best], -1)
    by = np.where(old, ASSIGNED_BY[0], ASSIGNED_BY[1])
    return tm.Fit(None, topics, raw, probs, fit.words, fit.labels, {}), by


def load_bertopic():
    """The fitted BERTopic model saved by the last run (safetensors; no embedding model
    attached), e.g. for BERTopic's own visualisations."""
    from bertopic import BERTopic

    logging.getLogger("BERTopic").setLevel(logging.ERROR)  # it warns that no embedding model is attached
    return BERTopic.load(str(config.CACHE / MODEL_DIR / "model"))


def run(refit: bool = False, progress: bool = True, write: bool = True, use_cache: bool = True,
        tables: dict[str, pd.DataFrame] | None = None) -> TopicRun:
    """Build passages, embed them, assign them with the stored model (fitting one first when
    there is none, when ``refit``, when settings or fitting code changed, or when more than
    config.TOPIC_REFIT_GROWTH of the passages are new to it) and build (and write) the tables.

    ``tables``: corpus tables (default: read from data/processed). ``use_cache=False``
    ignores the passage, embedding and model caches (for cold timings) and writes nothing to them."""
    from tqdm.auto import tqdm

    timings: dict[str, float] = {}
    bar = tqdm(total=4, desc="topics", disable=not progress, leave=False)
    t = time.perf_counter()
    corpus = tables or load_corpus()
    passages = cached_passages(corpus["utterances"], corpus["episodes"], use_cache=use_cache)
    timings["passages_s"] = time.perf_counter() - t
    bar.set_postfix_str("embedding"), bar.update()

    t = time.perf_counter()
    docs = passages["text"].tolist()
    embeddings = embed(docs, progress=progress, use_cache=use_cache)
    timings["embedding_s"] = time.perf_counter() - t
    bar.set_postfix_str("fitting"), bar.update()

    keys = passage_keys(passages)
    directory = config.CACHE / MODEL_DIR
    t = time.perf_counter()
    stored = None if refit or not use_cache else _load(directory)
    if stored is not None and (stored.settings != settings_key()
                               or len(set(keys) - set(stored.keys)) > config.TOPIC_REFIT_GROWTH * len(stored.keys)):
        stored = None
    refitted = stored is None
    if refitted:
        fit = tm.fit(docs, embeddings, load_model())
        stored = StoredModel(cache_key(passages), settings_key(), keys, fit, topic_centroids(fit.topics, embeddings))
        if use_cache:
            _save(stored, fit.model, directory)
        timings.update(fit.timings)
        assigned_by = np.full(len(keys), ASSIGNED_BY[0])
    else:
        fit, assigned_by = assign(stored, keys, embeddings)
        timings["assign_s"] = time.perf_counter() - t
    bar.set_postfix_str("tables"), bar.update()

    t = time.perf_counter()
    out = build_tables(passages, corpus["episodes"], fit.words, fit.labels, fit.topics, fit.raw_topics,
                       fit.probabilities, embeddings, stored.centroids, stored.version, assigned_by)
    if write:
        for name, df in out.items():
            write_table(df, REGISTRY[name], config.PROCESSED / f"{name}.parquet")
    timings["tables_s"] = time.perf_counter() - t
    bar.update(), bar.close()
    return TopicRun(passages, embeddings, fit, out, refitted, timings, stored.version,
                    int((assigned_by == ASSIGNED_BY[1]).sum()))


def profile() -> dict[str, float]:
    """Cold per-step timings (seconds) of the stage, caches ignored and nothing written, and the
    process's peak resident memory (MiB). For the benchmark script; run it in a fresh process."""
    t = time.perf_counter()
    result = run(refit=True, progress=False, write=False, use_cache=False)
    timings = dict(result.timings, total_s=time.perf_counter() - t)
    timings["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return timings


def summary(top: pd.DataFrame, how: str, seconds: float) -> str:
    """Short text report from the ``topics`` table: passages, topics, outliers, the labels,
    how the model was obtained (``how``) and how long the stage took."""
    real = top[top["topic_id"] >= 0]
    outliers = float(top.loc[top["topic_id"] == -1, "share"].sum())
    head = (f"topics: {int(top['passages'].sum())} passages, {len(real)} topics, {outliers:.1%} outliers "
            f"({how}) in {seconds:.1f}s  [labels are model-made]")
    return "\n".join([head] + [f"  {r.topic_id:>3} {r.passages:>4}  {r.label}" for r in real.itertuples()])


def main_topics(args) -> int:
    """``python -m analysis topics [--refit]``: assign the corpus's passages to the topics of
    the stored model, fitting one only when needed (see :func:`run`) or asked (``--refit``).
    With unchanged inputs the command stops before this (analysis.stamps)."""
    result = run(refit=getattr(args, "refit", False))
    write_json(result.timings, config.PROCESSED / "topics_timings.json")
    how = (f"fitted: model version {result.version}" if result.refitted else
           f"model version {result.version} reused, not refitted; {result.added} passages it was not fitted on "
           "assigned to their nearest topic (--refit fits a new one)")
    print(summary(result.tables["topics"], how, sum(result.timings.values())))
    return 0
