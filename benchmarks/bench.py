"""podlens benchmark: ingest throughput, corpus build time (cold and cached), peak memory.

    .venv/bin/python benchmarks/bench.py            # or: make bench
    .venv/bin/python benchmarks/bench.py --only ingest,corpus --repeat 10
    .venv/bin/python benchmarks/bench.py --with-topics   # also the (slow) topic-model stage
    .venv/bin/python benchmarks/bench.py --only embedding   # ms/passage: one at a time vs batched
    .venv/bin/python benchmarks/bench.py --only search [--search-root /tmp/p100]   # search command, one query and the loop

Every benchmark is a function in ``BENCHMARKS`` below: it takes the :class:`Bench` context and
returns :class:`Row` s. To add a stage (speakers, topics, ...), write ``bench_<name>(b)`` and
append it to ``BENCHMARKS``; the table, the JSON file and ``--only`` pick it up. Corpus-wide
stages registered in ``analysis.corpus.STAGES`` are timed one by one inside the corpus build
automatically.

Nothing is written under data/: builds use a temporary root (``config.INTERIM``/``PROCESSED``
are redirected), and the results are saved to ``.bench/results.json``. A broken file or episode
does not stop the benchmark: it is left out, and listed under "problems" after the table (as
``make all`` carries on past it).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_BUILD_S = 3.0  # the whole seed corpus builds in under this, after set-up (imports)


@dataclass
class Row:
    stage: str
    measure: str
    value: float
    unit: str
    note: str = ""


@dataclass
class Bench:
    """What every benchmark function gets: options and a scratch folder."""

    repeat: int
    synthetic_mb: float
    tmp: Path
    search_root: Path | None = None  # a project folder for the search benchmark (benchmarks/scale.py --root)
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # broken files and episodes, left out


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (MiB; ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if sys.platform == "darwin" else 2**10)


def timed(fn: Callable, *args, **kwargs):
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


# ---------------------------------------------------------------- benchmarks

def bench_import(b: Bench) -> list[Row]:
    """Set-up cost, paid once per process: importing the package and the corpus build."""
    t = time.perf_counter()
    from tqdm.auto import tqdm  # noqa: F401  (imported lazily by build_corpus)

    import analysis.corpus
    import analysis.ingest  # noqa: F401
    return [Row("setup", "import analysis.corpus", time.perf_counter() - t, "s",
                "once per process; not part of the build times")]


def _seed_files() -> list[Path]:
    from analysis import config

    return sorted(config.RAW.glob("*.txt"))


def _readable(b: Bench) -> list[tuple[Path, object]]:
    """(path, transcript) of every seed file that parses; the others go to ``b.problems`` once."""
    from analysis.ingest import ParseError, parse_file

    out = []
    for p in _seed_files():
        try:
            out.append((p, parse_file(p)))
        except ParseError as exc:
            if not any(str(p) in x for x in b.problems):
                b.problems.append(f"ingest: {exc} (file left out)")
    return out


def _words(transcript) -> int:
    return (sum(len(s.text.split()) for s in transcript.segments)
            + sum(len((c.summary or "").split()) for c in transcript.chapters))


def bench_ingest(b: Bench) -> list[Row]:
    """Detect and parse every seed file, ``repeat`` times."""
    from analysis.ingest import parse_file

    parsed = _readable(b)  # warm-up, and the word count
    files = [p for p, _ in parsed]
    size = sum(p.stat().st_size for p in files)
    words = sum(_words(tr) for _, tr in parsed)
    best = float("inf")
    for _ in range(b.repeat):
        _, dt = timed(lambda: [parse_file(p) for p in files])
        best = min(best, dt)
    note = f"{len(files)} files, {size / 1e6:.2f} MB, {words} words; best of {b.repeat}"
    return [
        Row("ingest", "parse seed files", best, "s", note),
        Row("ingest", "throughput", size / 1e6 / best, "MB/s", "seed files"),
        Row("ingest", "throughput", words / best, "words/s", "seed files"),
    ]


def _synthetic_transcript(b: Bench, path: Path, target_bytes: int) -> tuple[int, int]:
    """Write a ``[h:mm:ss] Name: text`` transcript of about ``target_bytes`` from seed sentences."""
    sentences = [s.text for _, tr in _readable(b) for s in tr.segments if 5 <= len(s.text.split()) <= 60]
    rng = random.Random(42)
    speakers = ["Ann Host", "Bob Guest", "SPEAKER_02"]
    written, words, t, lines = 0, 0, 0, []
    with path.open("w", encoding="utf-8") as fh:
        fh.write("# Synthetic benchmark episode\n\n**Date:** 2024-01-01\n\n---\n\n")
        while written < target_bytes:
            text = rng.choice(sentences)
            line = f"[{t // 3600}:{t % 3600 // 60:02d}:{t % 60:02d}] {rng.choice(speakers)}: {text}\n"
            lines.append(line)
            written += len(line.encode("utf-8"))
            words += len(text.split())
            t += rng.randint(1, 9)
            if len(lines) >= 10_000:
                fh.writelines(lines)
                lines.clear()
        fh.writelines(lines)
    return path.stat().st_size, words


def bench_synthetic(b: Bench) -> list[Row]:
    """Parse one large timestamped transcript (~``synthetic_mb`` MB): throughput and the Python
    heap it needs (tracemalloc, in a second, untimed pass)."""
    from analysis.ingest import parse_file

    path = b.tmp / "synthetic.transcript.txt"
    size, words = _synthetic_transcript(b, path, int(b.synthetic_mb * 1e6))
    tr, dt = timed(parse_file, path)
    n_segments = len(tr.segments)
    del tr
    tracemalloc.start()
    tr = parse_file(path)
    _, heap_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del tr
    note = f"{size / 1e6:.1f} MB, {n_segments} segments, {words} words"
    return [
        Row("synthetic", "parse timestamped transcript", dt, "s", note),
        Row("synthetic", "throughput", size / 1e6 / dt, "MB/s", ""),
        Row("synthetic", "throughput", words / dt, "words/s", ""),
        Row("synthetic", "peak Python heap while parsing", heap_peak / 2**20, "MiB",
            f"{heap_peak / size:.1f} bytes of heap per byte of file (tracemalloc)"),
    ]


def bench_corpus(b: Bench) -> list[Row]:
    """Cold build (empty cache and output folders), then a warm rebuild from the cache; the
    corpus-wide stages of ``analysis.corpus.STAGES`` are timed one by one inside each build.
    The Python heap peak is measured in a separate cold build (tracemalloc slows it down)."""
    from analysis import config, corpus

    timings: dict[str, float] = {}

    def timed_stage(name, fn):
        def run(utts, eps):
            out, dt = timed(fn, utts, eps)
            timings[name] = timings.get(name, 0.0) + dt
            return out
        return run

    original = list(corpus.STAGES)
    saved = config.INTERIM, config.PROCESSED
    corpus.STAGES[:] = [(name, timed_stage(name, fn)) for name, fn in original]
    rows = []
    try:
        config.INTERIM, config.PROCESSED = b.tmp / "interim", b.tmp / "processed"
        for kind in ("cold", "warm"):
            timings.clear()
            build, dt = timed(corpus.build_corpus, progress=False)
            if kind == "cold":
                b.problems += [f"corpus: {e}" for e in build.errors]
            utt = build.tables["utterances"]
            note = (f"{len(build.tables['episodes'])} episodes, {len(utt)} utterances, "
                    f"{len(build.cached)} from cache"
                    + (f", {len(build.errors)} left out (see problems)" if build.errors else ""))
            if kind == "cold":
                note += f"; target < {TARGET_BUILD_S:.0f} s: {'met' if dt < TARGET_BUILD_S else 'MISSED'}"
            rows.append(Row("corpus", f"{kind} build", dt, "s", note))
            per_episode = dt - sum(timings.values())
            rows.append(Row("corpus", f"  {kind}: per-episode build + write", per_episode, "s",
                            "parse, clean, label (or cache read), validate, write Parquet"))
            for name, _ in original:
                rows.append(Row("corpus", f"  {kind}: stage {name}", timings.get(name, 0.0), "s",
                                "corpus-wide stage (analysis.corpus.STAGES)"))
        config.INTERIM = b.tmp / "interim-heap"
        tracemalloc.start()
        corpus.build_corpus(progress=False, out_dir=b.tmp / "processed-heap")
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows.append(Row("corpus", "  cold: peak Python heap", heap_peak / 2**20, "MiB",
                        "tracemalloc, separate untimed cold build"))
    finally:
        corpus.STAGES[:] = original
        config.INTERIM, config.PROCESSED = saved
    return rows


def bench_topics(b: Bench) -> list[Row]:
    """The topic stage, if ``analysis.topics`` exposes ``profile()`` (cold per-step timings).
    Runs in a fresh process on the corpus built by ``bench_corpus`` under the temporary root."""
    try:
        from analysis.topics import profile  # noqa: F401
    except ImportError as exc:
        return [Row("topics", "skipped", float("nan"), "", f"analysis.topics.profile unavailable: {exc}")]
    if not (b.tmp / "processed" / "utterances.parquet").exists():
        bench_corpus(b)
    root = b.tmp / "root"
    (root / "data").mkdir(parents=True, exist_ok=True)
    for name in ("processed", "interim"):
        link = root / "data" / name
        if not link.exists():
            link.symlink_to(b.tmp / name)
    env = dict(os.environ, PODLENS_ROOT=str(root), PODLENS_CATALOG=str(ROOT / "data" / "episodes.yaml"),
               PODLENS_GLOSSARY=str(ROOT / "data" / "glossary.yaml"))
    code = "import json; from analysis.topics import profile; print(json.dumps(profile()))"
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        return [Row("topics", "failed", float("nan"), "", res.stderr.strip().splitlines()[-1][:100])]
    timings = json.loads(res.stdout.strip().splitlines()[-1])
    rows = []
    for name, value in timings.items():
        unit = "MiB" if name.endswith("_mib") else "s"
        rows.append(Row("topics", name, float(value), unit, "analysis.topics.profile(), fresh process"))
    return rows


def _with_corpus(b: Bench):
    """The seed corpus tables built by ``bench_corpus`` under the temporary root (built now if needed)."""
    from analysis.corpus import load_corpus

    if not (b.tmp / "processed" / "utterances.parquet").exists():
        bench_corpus(b)
    return load_corpus(b.tmp / "processed")


def bench_themes(b: Bench) -> list[Row]:
    """The theme stage recomputed (lexicon, theme-phrase embeddings, tagging, timelines), with
    passage embeddings from the embedding cache as after the topic stage; nothing written.
    When the cache lacks them (no topics run yet) they are encoded, and the note says so."""
    from analysis import config
    from analysis.embeddings import _cache_paths
    from analysis.themes.pipeline import (
        TAG_CACHE,
        conversation_passages,
        evaluate_sample,
        profile,
        run,
    )

    tables = _with_corpus(b)
    cached = _cache_paths(config.EMBEDDING_MODEL)[0].exists()
    note = "passage embeddings from the cache" if cached else "passage embeddings encoded too (empty cache)"
    timings, dt = timed(profile, tables)
    rows = [Row("themes", "cold stage", dt, "s", note + "; includes loading the embedding model")]
    rows += [Row("themes", f"  {k}", v, "s", "") for k, v in timings.items() if k != "total_s"]
    # the last episode added to the others: their tags come from the per-episode cache
    last = tables["episodes"].sort_values("published")["episode_id"].iloc[-1]
    rest = {n: t[t["episode_id"] != last] if "episode_id" in t else t for n, t in tables.items()}
    run(force=True, write=False, tables=rest)
    (config.CACHE / TAG_CACHE / f"{last}.pkl").unlink(missing_ok=True)  # as if never tagged
    added, dt = timed(run, force=True, write=False, tables=tables)
    rows.append(Row("themes", "one episode added", dt, "s", f"scored: {', '.join(added.scored)}; "
                    "the other episodes' tags from the per-episode cache; tables rebuilt"))
    _, dt = timed(evaluate_sample, passages=conversation_passages(tables))
    rows.append(Row("themes", "tagger measured on the labelled sample", dt, "s", "part of a cold run; redone only "
                    "when the sample, its episodes' passages or the tagger change"))
    return rows


def bench_entities(b: Bench) -> list[Row]:
    """The entity stage cold (spaCy NER on every episode, empty per-episode cache) and warm
    (every episode from the cache); tables built, nothing written under data/."""
    from analysis.entities.pipeline import run

    tables = _with_corpus(b)
    rows = []
    for kind in ("cold", "warm"):
        result, dt = timed(run, tables, write=False, interim=b.tmp / "entities")
        rows.append(Row("entities", f"{kind} stage", dt, "s",
                        f"NER on {len(result['extracted'])} episode(s); "
                        f"{len(result['tables']['entity_mentions'])} mentions"))
    return rows


def bench_embedding(b: Bench) -> list[Row]:
    """Embedding the seed passages (caches off): one text at a time as before (torch's default
    threads), and as ``analysis.embeddings.embed`` does now (one-thread equal-length batches) in
    this process and on local worker processes; checks that all three give the same vectors
    except the first, whose sums depend on the thread count."""
    import numpy as np
    import torch

    from analysis import config, embeddings
    from analysis.topics.passages import make_passages

    tables = _with_corpus(b)
    texts = make_passages(tables["utterances"], tables["episodes"])["text"].tolist()
    model = embeddings.load_model()
    model.encode(texts[:2])  # warm-up
    t = time.perf_counter()
    alone = np.vstack([model.encode([x], normalize_embeddings=True) for x in texts])
    before = time.perf_counter() - t
    batched, in_process = timed(embeddings.embed, texts, use_cache=False)
    saved = embeddings.PARALLEL_MIN_TEXTS
    embeddings.PARALLEL_MIN_TEXTS = 0
    try:
        parallel, on_workers = timed(embeddings.embed, texts, use_cache=False)
    finally:
        embeddings.PARALLEL_MIN_TEXTS = saved
    same = "identical" if np.array_equal(batched, parallel) else "DIFFERENT"
    moved = int((alone != batched).any(axis=1).sum())
    n = len(texts)
    note = f"{n} seed passages, load average {os.getloadavg()[0]:.1f}"
    return [
        Row("embedding", f"one at a time, {torch.get_num_threads()} torch threads (before)", 1000 * before / n,
            "ms/passage", note),
        Row("embedding", f"batches of <= {config.EMBEDDING_BATCH_SIZE}, 1 thread, this process", 1000 * in_process / n,
            "ms/passage", f"{moved} of {n} vectors differ in the last bits from the line above"),
        Row("embedding", f"same, on {config.WORKERS} local processes", 1000 * on_workers / n, "ms/passage",
            f"vectors {same} to this process's; includes the workers' start-up"),
    ]


SEARCH_QUERY = "letting the model decide which function to call"
TARGET_SEARCH_S, TARGET_LOOP_S = 2.0, 0.2  # one query from the command line; each further query of the loop


def _index_stage(b: Bench, root: Path) -> list[Row]:
    """A project of benchmarks/scale.py without a search index: its corpus (built here, cached in
    the project, when missing), talk time (the `speakers` stage), the passages as the topic stage
    writes them and, in its embedding cache, random unit vectors for them and for the queries (a
    topic run on 100 episodes takes most of ten minutes; the search's work depends on the vectors'
    sizes, not their values). Then ``python -m analysis index`` is timed, cold and rerun unchanged."""
    import numpy as np

    from analysis import config, embeddings
    from analysis.corpus import build_corpus, load_corpus
    from analysis.io import content_hash, write_table
    from analysis.search import load_queries
    from analysis.topics.passages import PASSAGES, make_passages

    data = root / "data"
    processed = data / "processed"
    env = dict(os.environ, PODLENS_ROOT=str(root), TQDM_DISABLE="1")
    saved = config.INTERIM, config.CATALOG, config.DATA, config.CACHE
    try:
        config.INTERIM, config.CATALOG, config.DATA, config.CACHE = (data / "interim", data / "episodes.yaml", data,
                                                                     data / "cache")
        if not (processed / "utterances.parquet").exists():
            build_corpus(out_dir=processed, progress=False)
        subprocess.run([sys.executable, "-m", "analysis", "speakers"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        tables = load_corpus(processed)
        passages = make_passages(tables["utterances"], tables["episodes"])
        write_table(passages, PASSAGES, processed / f"{PASSAGES.name}.parquet")
        vec_path, key_path = embeddings._cache_paths(config.EMBEDDING_MODEL)
        if not vec_path.exists():
            texts = passages["text"].tolist() + [q["query"] for q in load_queries(ROOT / "data" / "annotations"
                                                                                   / "search.queries.yaml")]
            keys = list(dict.fromkeys(content_hash(config.EMBEDDING_MODEL, t) for t in texts))
            v = np.random.default_rng(0).normal(size=(len(keys), 384)).astype(np.float32)
            vec_path.parent.mkdir(parents=True, exist_ok=True)
            np.save(vec_path, v / np.linalg.norm(v, axis=1, keepdims=True))
            key_path.write_text("\n".join(keys) + "\n")
    finally:
        config.INTERIM, config.CATALOG, config.DATA, config.CACHE = saved
    rows = []
    for kind in ("cold", "rerun, nothing changed"):
        t = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "analysis", "index"], cwd=ROOT, env=env, capture_output=True,
                             text=True, check=False)
        dt = time.perf_counter() - t
        if run.returncode:
            b.problems.append(f"search: the index stage failed: {run.stderr.strip()[-200:]}")
        rows.append(Row("search", f"index stage, {kind}", dt, "s", (run.stdout.strip().splitlines() or [""])[-1][:110]))
    return rows


def _search_project(b: Bench) -> tuple[Path, str, list[Row]]:
    """(PODLENS_PROCESSED folder holding the corpus tables, passages and a stored search index;
    what its vectors are; rows timing the index stage, if run). ``--search-root`` (a project of
    benchmarks/scale.py): its stored index when there is one, else :func:`_index_stage` makes it;
    default: the seed corpus, its passages embedded by the model and indexed here."""
    from analysis import config, search
    from analysis.embeddings import embed
    from analysis.topics.passages import make_passages

    if b.search_root is not None:
        processed = b.search_root / "data" / "processed"
        if (processed / search.INDEX_DIR / "index.json").exists():
            return processed, "the index stored by the `index` stage", []
        rows = _index_stage(b, b.search_root)
        return processed, "the `index` stage's, random unit vectors of the model's size (timing only)", rows
    tables = _with_corpus(b)
    processed = b.tmp / "processed"
    passages = make_passages(tables["utterances"], tables["episodes"])
    passages.to_parquet(processed / "topic_passages.parquet")
    saved = config.PROCESSED
    try:
        config.PROCESSED = processed
        search.save_index(search.index_passages(passages, embed(passages["text"].tolist()), tables["episodes"]),
                          search.source_key())
    finally:
        config.PROCESSED = saved
    return processed, "seed passages embedded by the model", []


def bench_search(b: Bench) -> list[Row]:
    """``python -m analysis search`` as a user runs it, each run a fresh process: one query
    (best of ``repeat``, at most 5), and the stdin loop answering the hand-written queries (each
    further query's time: the loop's wall time minus a one-query run, over the extra queries);
    beside the previous way (index built from the tables, the query embedded through
    sentence-transformers' batching, as ``search`` did before the `index` stage), run once."""
    import pandas as pd

    from analysis import config
    from analysis.search import load_queries

    processed, what, rows = _search_project(b)
    n_passages = len(pd.read_parquet(processed / "search_index" / "passages.parquet", columns=["passage_key"]))
    env = dict(os.environ, PODLENS_PROCESSED=str(processed), TQDM_DISABLE="1")
    if b.search_root is not None:
        env.update(PODLENS_ROOT=str(b.search_root))

    def wall(args: list[str], stdin: str | None = None, code: str | None = None) -> float:
        cmd = [sys.executable, "-c", code] if code else [sys.executable, "-m", "analysis", *args]
        t = time.perf_counter()
        run = subprocess.run(cmd, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, check=False)
        dt = time.perf_counter() - t
        if run.returncode != 0 or "building it now" in run.stderr:
            b.problems.append(f"search: {' '.join(args) or 'previous way'} failed: {run.stderr.strip()[-200:]}")
        return dt

    load = f"load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs"
    where = f"{n_passages} passages ({what}); {load}"
    one = min(wall(["search", SEARCH_QUERY]) for _ in range(max(1, min(b.repeat, 5))))
    queries = [q["query"] for q in load_queries(config.ANNOTATIONS / "search.queries.yaml")]
    loop = wall(["search"], stdin="\n".join(queries) + "\n")
    per_query = (loop - one) / max(1, len(queries) - 1)
    previous = ("from analysis.search import build_index, format_results, search; from analysis.embeddings import embed; "
                f"q = {SEARCH_QUERY!r}; print(format_results(search(build_index(), q, "
                "query_vector=embed([q], use_cache=False)[0])))")
    before = wall([], code=previous)
    return rows + [
        Row("search", "one query, command line", one, "s", f"{where}; target <= {TARGET_SEARCH_S:.0f} s: "
            f"{'met' if one <= TARGET_SEARCH_S else 'MISSED'}"),
        Row("search", "  each further query of the stdin loop", per_query, "s",
            f"{len(queries)} hand-written queries in {loop:.2f} s; target <= {TARGET_LOOP_S} s: "
            f"{'met' if per_query <= TARGET_LOOP_S else 'MISSED'}"),
        Row("search", "  one query, the previous way", before, "s",
            "index built from the tables (passage vectors from the embedding cache), the query through "
            "sentence-transformers, as `search` did before"),
    ]


# The benchmarks, in the order they run. Add new stages here (e.g. ("speakers", bench_speakers)).
# Optional ones (slow, or needing models) are listed in OPTIONAL and run with --with-<name>.
BENCHMARKS: list[tuple[str, Callable[[Bench], list[Row]]]] = [
    ("setup", bench_import),
    ("ingest", bench_ingest),
    ("corpus", bench_corpus),
    ("topics", bench_topics),
    ("themes", bench_themes),
    ("entities", bench_entities),
    ("embedding", bench_embedding),
    ("search", bench_search),
    ("synthetic", bench_synthetic),  # last: it raises the process's peak memory the most
]
OPTIONAL = {"topics", "embedding"}


# ---------------------------------------------------------------- output

def format_value(row: Row) -> str:
    if row.value != row.value:  # NaN
        return "-"
    if row.unit == "words/s":
        return f"{row.value:,.0f}"
    return f"{row.value:,.3f}" if row.unit == "s" else f"{row.value:,.1f}"


def table(rows: list[Row]) -> str:
    head = ("stage", "measure", "value", "unit", "peak RSS MiB", "notes")
    body = [(r.stage, r.measure, format_value(r), r.unit, getattr(r, "rss", ""), r.note) for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
    widths[-1] = 0
    right = {2, 4}

    def line(cells):
        return "  ".join(str(c).rjust(w) if k in right else str(c).ljust(w)
                         for k, (c, w) in enumerate(zip(cells, widths))).rstrip()

    sep = "  ".join("-" * w for w in widths[:-1]) + "  -----"
    return "\n".join([line(head), sep] + [line(c) for c in body])


def main(argv: list[str] | None = None) -> int:
    names = [n for n, _ in BENCHMARKS]
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="repetitions of the seed-file ingest (best is kept)")
    parser.add_argument("--synthetic-mb", type=float, default=50.0, help="size of the synthetic transcript")
    parser.add_argument("--only", default="", help=f"comma-separated subset of: {', '.join(names)}")
    for name in sorted(OPTIONAL):
        parser.add_argument(f"--with-{name}", action="store_true", help=f"also run the optional {name} benchmark")
    parser.add_argument("--search-root", type=Path, default=None,
                        help="time search on this project (e.g. a 100-episode archive from benchmarks/scale.py "
                             "--generate-only --root DIR) instead of the seeds")
    parser.add_argument("--json", type=Path, default=ROOT / ".bench" / "results.json", help="where to save the rows")
    args = parser.parse_args(argv)

    chosen = [n.strip() for n in args.only.split(",") if n.strip()] or [
        n for n in names if n not in OPTIONAL or getattr(args, f"with_{n}")]
    unknown = set(chosen) - set(names)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {names}")

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="podlens-bench-") as tmp:
        b = Bench(repeat=args.repeat, synthetic_mb=args.synthetic_mb, tmp=Path(tmp),
                  search_root=args.search_root.resolve() if args.search_root else None)
        for name, fn in BENCHMARKS:
            if name not in chosen:
                continue
            new = fn(b)
            for r in new:
                r.rss = f"{peak_rss_mib():,.0f}"  # process peak so far, after this benchmark
            rows += new

    print(f"podlens benchmark  python {platform.python_version()}  {platform.machine()}  "
          f"{os.cpu_count()} CPUs  {time.strftime('%Y-%m-%d %H:%M')}")
    print(table(rows))
    cold = next((r for r in rows if r.measure == "cold build"), None)
    if cold:
        verdict = "met" if cold.value < TARGET_BUILD_S else "MISSED"
        print(f"\ntarget: seed corpus cold build < {TARGET_BUILD_S:.0f} s after set-up: {cold.value:.2f} s ({verdict})")
    print(f"peak RSS of this process: {peak_rss_mib():,.0f} MiB")
    if b.problems:
        print(f"\nproblems ({len(b.problems)}), left out of the figures above:")
        print("\n".join(f"  {x}" for x in b.problems))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                     "rows": [dict(asdict(r), rss_mib=getattr(r, "rss", "")) for r in rows],
                                     "problems": b.problems}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
