"""Stage stamps: a stage whose inputs, settings and code are those of its last run stops at once.

Each stage of ``make all`` declares what it reads (:data:`STAGES`): data files and folders,
the tables of earlier stages, the code under ``analysis/`` and the settings (``PODLENS_*``
variables, installed packages). After a plain run the fingerprint of all of them is stored in
``data/processed/.stamps/<stage>.json`` with the files the run wrote. The next plain run
compares a fresh fingerprint and finds those files unchanged, and then does nothing (no
table read, no model loaded): ``python -m analysis <stage>`` checks this before importing the
stage. Files are re-hashed only when their size or modification time changed, so the check
costs a ``stat`` per file. The Makefile uses the stamp files as targets, so ``make all`` with
nothing changed starts no Python process at all; when make sees a newer file, the stage's
fingerprint (content, not time) decides. This module imports only the standard library.
"""
from __future__ import annotations

import hashlib
import json
import os
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from . import config

PACKAGE = Path(__file__).resolve().parent
CORPUS_TABLES = ("episodes", "speakers", "utterances", "chapters", "speaker_draws", "speaker_attribution")
TOPIC_TABLES = ("topic_passages", "topics", "topic_assignments", "topics_per_episode", "topics_per_speaker",
                "topics_per_role", "topics_over_time")
# Settings that change where or how fast work runs, never its results.
NEUTRAL_SETTINGS = ("PODLENS_WORKERS", "PODLENS_CLUSTER")
ALL_CODE = ("",)  # the whole package


@dataclass(frozen=True)
class Stage:
    """What one stage reads and where it writes. Paths are callables so that tests (and
    ``PODLENS_*`` overrides) that move config paths are followed.

    ``inputs``: files or folders (read recursively, hidden entries skipped) the stage reads;
    ``code``: files or folders under ``analysis/`` whose code it runs ("" is all of it);
    ``outputs``: folders it writes into (files the run changes there are recorded);
    ``ok``: exit codes that are a finished result (evaluations exit 1 when a check fails);
    ``env``: other environment variables whose *presence* matters (values are never stored)."""

    inputs: object
    code: tuple[str, ...]
    outputs: object
    ok: tuple[int, ...] = (0,)
    env: tuple[str, ...] = ()


def _processed(*names: str) -> list[Path]:
    return [config.PROCESSED / f"{n}.parquet" for n in names]


def _corpus_inputs() -> list[Path]:
    """The catalog, the glossary, the speaker references and every file under data/ that is
    not derived or another stage's lexicon."""
    skip = {config.PROCESSED, config.INTERIM, config.CACHE, config.ANNOTATIONS, config.THEMES, config.THEME_MODEL,
            config.PAIR_THRESHOLD,
            config.ENTITY_ALIASES, config.LLM_ENRICHMENTS.parent}
    data = [p for p in sorted(config.DATA.iterdir()) if p not in skip] if config.DATA.is_dir() else []
    refs = sorted(config.ANNOTATIONS.glob("*.speakers.tsv")) if config.ANNOTATIONS.is_dir() else []
    return [config.CATALOG, config.GLOSSARY, *data, *refs]


STAGES: dict[str, Stage] = {
    "corpus": Stage(_corpus_inputs, ("config.py", "io.py", "schema.py", "catalog.py", "clean.py", "corpus.py",
                                     "parallel.py", "ingest", "speakers"),
                    lambda: [config.PROCESSED]),
    "speakers": Stage(lambda: _processed(*CORPUS_TABLES) + sorted(config.ANNOTATIONS.glob("*.speakers.tsv")),
                      ("config.py", "io.py", "schema.py", "catalog.py", "clean.py", "corpus.py", "ingest",
                       "speakers", "figures"),
                      lambda: [config.PROCESSED]),
    "topics": Stage(lambda: _processed("utterances", "episodes"),
                    ("config.py", "io.py", "schema.py", "corpus.py", "quotes.py", "embeddings.py", "parallel.py",
                     "topics"),
                    lambda: [config.PROCESSED, config.CACHE / "topics"]),
    # evaluated once per model version: its input is the version of the fitted model
    "evaluate-topics": Stage(lambda: [config.CACHE / "topics" / "key.txt"],
                             ("config.py", "io.py", "schema.py", "corpus.py", "embeddings.py", "topics"),
                             lambda: [config.PROCESSED], ok=(0, 1)),
    # the lexicon, the labelled sample (the stage measures the tagger) and the theme model
    # (data/themes.model.json; absent or unset: the rule of config.py)
    "themes": Stage(lambda: _processed(*CORPUS_TABLES, *TOPIC_TABLES) + [config.THEMES, config.ANNOTATIONS / "themes.sample.tsv"]
                    + ([config.THEME_MODEL] if config.THEME_MODEL is not None else []), ALL_CODE,
                    lambda: [config.PROCESSED]),
    "entities": Stage(lambda: _processed(*CORPUS_TABLES, *TOPIC_TABLES)
                      + [config.ENTITY_ALIASES, config.ANNOTATIONS / "entities.top30.tsv"], ALL_CODE,
                      lambda: [config.PROCESSED]),
    # the search index, query results and passage pairs: passages, talk time, the hand-written queries
    "index": Stage(lambda: _processed(*CORPUS_TABLES, *TOPIC_TABLES, "talktime_speakers")
                   + [config.ANNOTATIONS / "search.queries.yaml", config.PAIR_THRESHOLD], ALL_CODE,
                   lambda: [config.PROCESSED]),
    "enrich": Stage(lambda: _processed(*CORPUS_TABLES, *TOPIC_TABLES) + [config.LLM_ENRICHMENTS], ALL_CODE,
                    lambda: [config.PROCESSED], ok=(0, 1), env=("OPENAI_API_KEY", "OPENAI_BASE_URL")),
    "notebooks": Stage(lambda: [config.NOTEBOOKS, config.PROCESSED, config.ANNOTATIONS], ALL_CODE,
                       lambda: [config.SITE / "notebooks"]),
    "site": Stage(lambda: [config.PROCESSED, config.ANNOTATIONS, config.NOTEBOOKS,
                           config.SITE / "notebooks", config.ROOT / "docs"], ALL_CODE,
                  lambda: [config.SITE]),
}
FORCE_OPTIONS = ("refit", "force")  # run even when up to date; the result is a plain run's
NEUTRAL_OPTIONS = ("quiet", "cluster")  # change what is printed or where work runs, not the result


def stamp_path(stage: str) -> Path:
    return config.PROCESSED / ".stamps" / f"{stage}.json"


def _files(paths) -> list[Path]:
    """Every file of ``paths`` (folders walked, hidden entries and __pycache__ skipped), sorted;
    a missing path gives none, as an empty folder does."""
    out = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for dirpath, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                out += [Path(dirpath) / n for n in sorted(names) if not n.startswith(".")]
        elif p.exists():
            out.append(p)
    return out


class Fingerprint:
    """Content hashes of files, reusing a stored hash while a file's size and mtime are unchanged."""

    def __init__(self, known: dict[str, list] | None = None):
        self.known = known or {}
        self.seen: dict[str, list] = {}

    def file(self, path: Path) -> str:
        key = str(path)
        try:
            st = path.stat()
        except OSError:
            return "missing"
        old = self.known.get(key)
        if old and old[0] == st.st_size and old[1] == st.st_mtime_ns:
            digest = old[2]
        else:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        self.seen[key] = [st.st_size, st.st_mtime_ns, digest]
        return digest


def _settings(stage: Stage) -> list[str]:
    env = sorted(f"{k}={v}" for k, v in os.environ.items()
                 if k.startswith("PODLENS_") and k not in NEUTRAL_SETTINGS)
    present = [f"{k} set" for k in stage.env if os.environ.get(k)]
    try:  # installing or removing a package touches this folder
        packages = str(os.stat(sysconfig.get_paths()["purelib"]).st_mtime_ns)
    except OSError:
        packages = ""
    return env + present + [packages]


def fingerprint(name: str, known: dict | None = None) -> tuple[str, Fingerprint]:
    """(hash of the stage's inputs, code and settings, the file hashes it used)."""
    stage = STAGES[name]
    fp = Fingerprint(known)
    h = hashlib.sha256("\0".join([name, *_settings(stage)]).encode())
    code = _files(PACKAGE / c for c in stage.code)
    for path in _files(stage.inputs()) + [p for p in code if p.suffix == ".py"]:
        h.update(f"{path}\0{fp.file(path)}\0".encode())
    return h.hexdigest()[:24], fp


def gated(args) -> tuple[bool, bool]:
    """(whether this command line is a plain run of a stage, so its stamp applies; whether it
    forces the run). Any other option (``--json``, ``--check``, a catalog, names ...) asks for
    something else than the plain run: such a run neither checks nor writes the stamp."""
    if args.command not in STAGES:
        return False, False
    opts = {k: v for k, v in vars(args).items() if k not in ("command", "func", *NEUTRAL_OPTIONS)}
    plain = all(v in (False, None, [], "") for k, v in opts.items() if k not in FORCE_OPTIONS)
    return plain, any(opts.get(k) for k in FORCE_OPTIONS)


def _outputs_unchanged(record: dict) -> bool:
    for path, (size, mtime) in record.get("outputs", {}).items():
        try:
            st = os.stat(path)
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns) != (size, mtime):
            return False
    return True


def _snapshot(name: str) -> dict[str, tuple[int, int]]:
    out = {}
    for p in _files(STAGES[name].outputs()):
        try:
            st = p.stat()
        except OSError:
            continue
        out[str(p)] = (st.st_size, st.st_mtime_ns)
    return out


def _read(name: str) -> dict:
    try:
        return json.loads(stamp_path(name).read_text())
    except (OSError, ValueError):
        return {}


def _write(name: str, record: dict) -> None:
    path = stamp_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path)


class Run:
    """One stage invocation under its stamp: :meth:`up_to_date`, else :meth:`begin` before the
    stage runs and :meth:`done` after."""

    def __init__(self, name: str):
        self.name = name
        self.record = _read(name)
        self.key, self.fp = fingerprint(name, self.record.get("files"))
        self.before: dict[str, tuple[int, int]] = {}

    def begin(self) -> None:
        """Note the outputs' state, so that :meth:`done` records the files the run wrote."""
        self.before = _snapshot(self.name)

    def up_to_date(self) -> int | None:
        """The stored exit code when nothing changed since the last run (the stamp is refreshed,
        so make sees it newer than its inputs), else None."""
        if self.record.get("key") != self.key or not _outputs_unchanged(self.record):
            return None
        _write(self.name, dict(self.record, files=self.fp.seen))
        return int(self.record.get("rc", 0))

    def done(self, rc: int) -> None:
        """Store the stamp after a run that finished (rc in the stage's ``ok`` codes); else remove it."""
        if rc not in STAGES[self.name].ok:
            stamp_path(self.name).unlink(missing_ok=True)
            return
        after = _snapshot(self.name)
        written = {p: s for p, s in after.items() if self.before.get(p) != s}
        kept = {p: after[p] for p in self.record.get("outputs", {}) if p in after}
        # the inputs as they are now when the run itself changed them (a stage that writes into a
        # folder it reads), else as they were when it started: a file edited meanwhile is seen next time
        key, fp = fingerprint(self.name, self.fp.seen)
        changed = {p for p, v in fp.seen.items() if self.fp.seen.get(p, [None] * 3)[2] != v[2]}
        if not changed <= written.keys():
            key, fp = self.key, self.fp
        _write(self.name, {"key": key, "rc": rc, "files": fp.seen, "outputs": kept | written})
