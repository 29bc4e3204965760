"""Atomic file writes, content hashing and one-line YAML, so a failed run never leaves half-written output."""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from .schema import Table

# mkstemp creates files readable by the owner only; written outputs get the usual mode instead.
_UMASK = os.umask(0o022)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_table(df: pd.DataFrame, table: Table, path: Path) -> pd.DataFrame:
    """Validate ``df`` against ``table`` and write it to ``path`` (Parquet) atomically."""
    df = table.conform(df)
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return df


def read_table(table: Table, path: Path) -> pd.DataFrame:
    """Read a Parquet table and check it against its schema."""
    return table.conform(pd.read_parquet(path))


def load_tables(*tables: Table, directory: Path | None = None) -> dict[str, pd.DataFrame]:
    """Read ``<directory>/<table.name>.parquet`` for each table (default data/processed),
    validated; a missing file raises FileNotFoundError saying which ``make`` target writes it."""
    from . import config

    directory = Path(directory or config.PROCESSED)
    out = {}
    for table in tables:
        path = directory / f"{table.name}.parquet"
        if not path.exists():
            raise FileNotFoundError(f"{path} not found: run `make all` (or the stage that writes it) first")
        out[table.name] = read_table(table, path)
    return out


def write_text(text: str, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(obj, path: Path) -> None:
    write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", path)


def yaml_line(value) -> str:
    """``value`` as one line of YAML (flow style), for files written as text line by line."""
    import yaml

    return yaml.safe_dump([value], default_flow_style=True, width=1 << 20, allow_unicode=True,
                          sort_keys=False).strip()[1:-1]


def content_hash(*parts: bytes | str) -> str:
    """Short stable hash of the given parts (bytes or text), for cache keys."""
    h = hashlib.sha256()
    for p in parts:
        h.update(p.encode("utf-8") if isinstance(p, str) else p)
        h.update(b"\0")
    return h.hexdigest()[:16]


def load_keyed(path: Path, key: str, default=None):
    """The value pickled at ``path`` with ``key`` (see :func:`store_keyed`), or ``default`` when
    the entry is absent, stale (another key) or unreadable."""
    import pickle

    try:
        with Path(path).open("rb") as fh:
            stored, value = pickle.load(fh)
    except (OSError, EOFError, AttributeError, ValueError, pickle.UnpicklingError):
        return default
    return value if stored == key else default


def store_keyed(path: Path, key: str, value) -> None:
    """Pickle ``(key, value)`` to ``path`` atomically."""
    import pickle

    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        pickle.dump((key, value), fh)


def keyed_pickle(path: Path, key: str, compute):
    """``compute()``, kept in a pickle at ``path`` with ``key`` and reused while the key is the
    same (an absent, stale or unreadable entry is recomputed and rewritten atomically)."""
    missing = object()
    value = load_keyed(path, key, missing)
    if value is missing:
        value = compute()
        store_keyed(path, key, value)
    return value
