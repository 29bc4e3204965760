"""Project configuration in one place: paths, model names and tunable thresholds.

Every setting can be overridden with an environment variable ``PODLENS_<NAME>`` so a user
with other models (or a GPU) changes nothing in code.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(os.environ.get("PODLENS_ROOT", Path(__file__).resolve().parent.parent))
DATA = ROOT / "data"
CATALOG = Path(os.environ.get("PODLENS_CATALOG", DATA / "episodes.yaml"))
RAW = DATA / "raw"
INTERIM = Path(os.environ.get("PODLENS_INTERIM", DATA / "interim"))  # per-episode caches
PROCESSED = Path(os.environ.get("PODLENS_PROCESSED", DATA / "processed"))  # canonical tables (Parquet)
CACHE = Path(os.environ.get("PODLENS_CACHE", DATA / "cache"))  # embeddings and fitted models, keyed by content
GLOSSARY = Path(os.environ.get("PODLENS_GLOSSARY", DATA / "glossary.yaml"))  # ASR fixes
# Reference speaker turns made by reading transcripts (<episode id>.speakers.tsv): ground truth
ANNOTATIONS = Path(os.environ.get("PODLENS_ANNOTATIONS", DATA / "annotations"))

# Models: names of installed packages or local paths. Nothing is downloaded at run time.
EMBEDDING_MODEL = os.environ.get("PODLENS_EMBEDDING_MODEL", "all-MiniLM-L6-v2")
DEVICE = os.environ.get("PODLENS_DEVICE", "cpu")
# Texts encoded per batch. Batches hold texts of equal token length (no padding), so a
# vector does not depend on which texts share its batch (see analysis/embeddings.py).
EMBEDDING_BATCH_SIZE = int(os.environ.get("PODLENS_EMBEDDING_BATCH_SIZE", "64"))

# Topic models of corpora with more passages than this are fitted on a deterministic sample of
# this many, the other passages assigned by the fitted model (0: always fit on every passage).
TOPIC_FIT_SAMPLE = int(os.environ.get("PODLENS_TOPIC_FIT_SAMPLE", "5000"))

# Parallelism: local worker processes for per-episode work, or a dask.distributed scheduler
# address (tcp://host:8786) whose workers run it instead (see analysis/parallel.py).
WORKERS = int(os.environ.get("PODLENS_WORKERS", str(os.cpu_count() or 1)))
CLUSTER = os.environ.get("PODLENS_CLUSTER") or None

# Ingestion limits.
MAX_FILE_BYTES = int(os.environ.get("PODLENS_MAX_FILE_BYTES", str(200 * 1024 * 1024)))

# Global random seed: every stochastic step (UMAP, HDBSCAN ties, model init) uses it.
SEED = int(os.environ.get("PODLENS_SEED", "42"))


def data_relative(path: Path) -> str:
    """``path`` as recorded in tables: relative to DATA when under it, else as given."""
    try:
        return str(Path(path).relative_to(DATA))
    except ValueError:
        return str(path)
