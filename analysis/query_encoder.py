"""The embedding of one short text (a search query) in a fraction of a second: the model folder's
own tokenizer (the ``tokenizers`` library) and its transformer layers run in numpy on the
folder's safetensors weights, so neither torch nor sentence-transformers is imported (their
import alone takes 3-10 s). It covers the sentence-transformers models that are a BERT encoder
followed by mean pooling (and normalisation), such as the default all-MiniLM-L6-v2; its vectors
equal ``analysis.embeddings.embed``'s to within 1e-6 per coordinate (tests/test_search.py). Any
other model is encoded by sentence-transformers, the one text alone (no batching)."""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import config
from .embeddings import resolve_model

_MODULES = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling"]
_NORMALIZE = "sentence_transformers.models.Normalize"
_erf = np.frompyfunc(math.erf, 1, 1)


def _json(path: Path) -> dict | list:
    return json.loads(path.read_text(encoding="utf-8"))


def supported(folder: Path) -> bool:
    """Whether ``folder`` holds a sentence-transformers BERT encoder with mean pooling that
    :class:`NumpyBert` computes: safetensors weights, a ``tokenizer.json``, absolute positions, GELU."""
    try:
        modules = sorted(_json(folder / "modules.json"), key=lambda m: m["idx"])
        pooling = _json(folder / modules[1]["path"] / "config.json")
        modules = [m["type"] for m in modules]
        model = _json(folder / "config.json")
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return False
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens")
    return (modules[:2] == _MODULES and set(modules[2:]) <= {_NORMALIZE} and bool(mean_only)
            and model.get("model_type") == "bert" and model.get("hidden_act") == "gelu"
            and model.get("position_embedding_type", "absolute") == "absolute"
            and (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file())


class NumpyBert:
    """A sentence-transformers BERT encoder with mean pooling, in numpy (float32), for one text
    at a time: tokens as sentence-transformers prepares them (stripped, lower-cased if the model
    says so, cut at its maximum length), the encoder layers, the mean over tokens, unit length.
    Its matrix products run on one BLAS thread: on a busy machine several threads made a query
    10x slower (0.39 s instead of 0.04 s on 2 cores at load 4)."""

    def __init__(self, folder: Path):
        from safetensors.numpy import load_file
        from threadpoolctl import ThreadpoolController
        from tokenizers import Tokenizer

        cfg = _json(folder / "config.json")
        st = _json(folder / "sentence_bert_config.json") if (folder / "sentence_bert_config.json").is_file() else {}
        self.heads, self.layers, self.eps = cfg["num_attention_heads"], cfg["num_hidden_layers"], cfg["layer_norm_eps"]
        self.lower = bool(st.get("do_lower_case"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(int(st.get("max_seq_length") or cfg["max_position_embeddings"]))
        self.w = load_file(str(folder / "model.safetensors"))
        self.threads = ThreadpoolController()

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + np.float32(self.eps)) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def __call__(self, text: str) -> np.ndarray:
        with self.threads.limit(limits=1, user_api="blas"):  # small products: more BLAS threads only wait
            return self._encode(str(text).strip())

    def _encode(self, text: str) -> np.ndarray:
        ids = np.array(self.tokenizer.encode(text.lower() if self.lower else text).ids)
        w, n = self.w, len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self._norm(x, "embeddings.LayerNorm")
        d = x.shape[1] // self.heads
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q, k, v = (self._dense(x, p + "attention.self." + m).reshape(n, self.heads, d).transpose(1, 0, 2)
                       for m in ("query", "key", "value"))
            s = q @ k.transpose(0, 2, 1) / np.float32(math.sqrt(d))
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(1, 0, 2).reshape(n, self.heads * d)
            x = self._norm(self._dense(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            h = self._dense(x, p + "intermediate.dense")
            h = (0.5 * h * (1.0 + _erf(h / np.float32(math.sqrt(2))).astype(np.float32))).astype(np.float32)
            x = self._norm(self._dense(h, p + "output.dense") + x, p + "output.LayerNorm")
        mean = x.mean(axis=0)
        return (mean / np.linalg.norm(mean)).astype(np.float32)


@lru_cache(maxsize=2)
def query_encoder(name: str | None = None) -> Callable[[str], np.ndarray]:
    """A function text -> unit vector for ``name`` (default config.EMBEDDING_MODEL): :class:`NumpyBert`
    where the model folder is :func:`supported`, else sentence-transformers on the one text."""
    name = name or config.EMBEDDING_MODEL
    folder = Path(resolve_model(name))
    if supported(folder):
        return NumpyBert(folder)
    from .embeddings import encode_batch

    return lambda text: encode_batch((name, [text]))[0]


def embed_query(text: str, name: str | None = None) -> np.ndarray:
    """Unit embedding (float32) of one query, with :func:`query_encoder` (loaded once per process)."""
    return query_encoder(name)(text)
