"""Run the topic stage: passages, cached embeddings, a fitted (or reloaded) model and the
tables in data/processed; refits only when passages, settings or this code changed."""
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
from ..io import content_hash, read_table, write_json, write_table, write_text
from ..schema import REGISTRY
from . import model as tm
from .passages import make_passages
from .tables import OUTPUTS, build_tables

MODEL_DIR = "topics"  # under config.CACHE: model/ (BERTopic safetensors), fit.npz, topics.json, key.txt
INPUTS_STAMP = "topics_inputs.txt"  # under config.PROCESSED: inputs_key() of the written tables


@dataclass
class TopicRun:
    """Everything the stage produced; ``tables`` are keyed by table name."""

    passages: pd.DataFrame
    embeddings: np.ndarray
    fit: tm.Fit
    tables: dict[str, pd.DataFrame]
    refitted: bool
    timings: dict[str, float] = field(default_factory=dict)


# The topic code and the embedding code, read at import: the key names the code this process runs.
_CODE = content_hash(*(p.read_bytes() for p in sorted(Path(__file__).parent.glob("*.py"))
                       + [Path(__file__).parent.parent / "embeddings.py"]))


def cache_key(passages: pd.DataFrame) -> str:
    """Hash of the passages, the settings that shape the model and the topic code."""
    return content_hash(
        "\n".join(passages["passage_id"] + "\t" + passages["text"]),
        config.EMBEDDING_MODEL, str(config.SEED), str(config.TOPIC_FIT_SAMPLE), version("bertopic"), _CODE,
    )


def _save(fit: tm.Fit, key: str, directory: Path) -> None:
    logging.getLogger("BERTopic").setLevel(logging.ERROR)  # it warns that no embedding model is saved
    tmp = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    fit.model.save(tmp / "model", serialization="safetensors", save_ctfidf=True, save_embedding_model=False)
    np.savez(tmp / "fit.npz", topics=fit.topics, raw_topics=fit.raw_topics, probabilities=fit.probabilities)
    write_json({"words": fit.words, "labels": fit.labels}, tmp / "topics.json")
    (tmp / "key.txt").write_text(key)
    shutil.rmtree(directory, ignore_errors=True)
    tmp.rename(directory)


def _load(key: str, directory: Path) -> tm.Fit | None:
    """The stored fit when its key matches, else None. Its BERTopic model is not loaded (that
    import alone takes seconds); :func:`load_bertopic` gives it."""
    if not (directory / "key.txt").exists() or (directory / "key.txt").read_text() != key:
        return None
    data = np.load(directory / "fit.npz")
    stored = json.loads((directory / "topics.json").read_text())
    words = {int(t): w for t, w in stored["words"].items()}
    labels = {int(t): lab for t, lab in stored["labels"].items()}
    return tm.Fit(None, data["topics"], data["raw_topics"], data["probabilities"], words, labels, {})


def load_bertopic():
    """The fitted BERTopic model saved by the last run (safetensors; no embedding model
    attached), e.g. for BERTopic's own visualisations."""
    from bertopic import BERTopic

    logging.getLogger("BERTopic").setLevel(logging.ERROR)  # it warns that no embedding model is attached
    return BERTopic.load(str(config.CACHE / MODEL_DIR / "model"))


def run(refit: bool = False, progress: bool = True, write: bool = True, use_cache: bool = True,
        tables: dict[str, pd.DataFrame] | None = None) -> TopicRun:
    """Build passages, embed them, fit or reload the model and build (and write) the tables.

    ``tables``: corpus tables (default: read from data/processed). ``use_cache=False``
    ignores the embedding and model caches (for cold timings) and writes nothing to them."""
    from tqdm.auto import tqdm

    timings: dict[str, float] = {}
    bar = tqdm(total=4, desc="topics", disable=not progress, leave=False)
    t = time.perf_counter()
    corpus = tables or load_corpus()
    passages = make_passages(corpus["utterances"], corpus["episodes"])
    timings["passages_s"] = time.perf_counter() - t
    bar.set_postfix_str("embedding"), bar.update()

    t = time.perf_counter()
    docs = passages["text"].tolist()
    embeddings = embed(docs, progress=progress, use_cache=use_cache)
    timings["embedding_s"] = time.perf_counter() - t
    bar.set_postfix_str("fitting"), bar.update()

    key = cache_key(passages)
    directory = config.CACHE / MODEL_DIR
    t = time.perf_counter()
    fit = None if refit or not use_cache else _load(key, directory)
    refitted = fit is None
    if refitted:
        fit = tm.fit(docs, embeddings, load_model())
        if use_cache:
            _save(fit, key, directory)
        timings.update(fit.timings)
    else:
        timings["load_s"] = time.perf_counter() - t
    bar.set_postfix_str("tables"), bar.update()

    t = time.perf_counter()
    out = build_tables(passages, corpus["episodes"], fit.words, fit.labels, fit.topics, fit.raw_topics,
                       fit.probabilities, embeddings)
    if write:
        for name, df in out.items():
            write_table(df, REGISTRY[name], config.PROCESSED / f"{name}.parquet")
    timings["tables_s"] = time.perf_counter() - t
    bar.update(), bar.close()
    return TopicRun(passages, embeddings, fit, out, refitted, timings)


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


def inputs_key() -> str | None:
    """Hash of the stage's inputs as files (the corpus tables it reads), its settings and code;
    None when a table is missing. Equal keys: the topic tables on disk are already up to date."""
    files = [config.PROCESSED / f"{name}.parquet" for name in ("utterances", "episodes")]
    if not all(p.exists() for p in files):
        return None
    return content_hash(*(p.read_bytes() for p in files), config.EMBEDDING_MODEL, str(config.SEED),
                        str(config.TOPIC_FIT_SAMPLE), version("bertopic"), _CODE)


def main_topics(args) -> int:
    """``python -m analysis topics [--refit]``: does nothing (not even read the passages) when
    the corpus tables, settings and code are those of the tables already written."""
    t = time.perf_counter()
    key, stamp = inputs_key(), config.PROCESSED / INPUTS_STAMP
    outputs = [config.PROCESSED / f"{name}.parquet" for name in ("topic_passages", *OUTPUTS)]
    if (not getattr(args, "refit", False) and key and stamp.exists() and stamp.read_text() == key
            and all(p.exists() for p in outputs)):
        top = read_table(OUTPUTS["topics"], config.PROCESSED / "topics.parquet")
        print(summary(top, "inputs unchanged: nothing recomputed", time.perf_counter() - t))
        return 0
    result = run(refit=getattr(args, "refit", False))
    write_json(result.timings, config.PROCESSED / "topics_timings.json")
    if key:
        write_text(key, stamp)
    print(summary(result.tables["topics"], "fitted" if result.refitted else "reloaded from cache",
                  sum(result.timings.values())))
    return 0
