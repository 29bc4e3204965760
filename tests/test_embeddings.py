"""Embedding batches: equal token length (no padding) and a token budget per batch, so a worker's
memory stays bounded; the vectors do not depend on the batches (tests/test_topics.py)."""
from __future__ import annotations

import numpy as np

from analysis import embeddings


def test_long_texts_come_in_smaller_batches_with_the_same_vectors(monkeypatch):
    monkeypatch.setattr(embeddings.config, "EMBEDDING_BATCH_SIZE", 64)
    long = [" ".join(f"word{k} variant{j}" for k in range(60)) for j in range(12)]  # one length, ~200 tokens
    short = [f"We shipped structured outputs in the API last year and developers used them, release {w}." for w in
             ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]]
    texts = long + short
    lengths = embeddings.token_lengths(texts)
    assert len(set(lengths[:12])) == 1 and lengths[0] > 150 and len(set(lengths[12:])) == 1
    monkeypatch.setattr(embeddings, "MAX_BATCH_TOKENS", 4 * lengths[0])
    batches = embeddings.equal_length_batches(texts)
    assert sorted(len(b) for b in batches if b[0] < 12) == [4, 4, 4]  # 12 long texts, 4 to a batch
    assert all(len(b) * lengths[b[0]] <= embeddings.MAX_BATCH_TOKENS or len(b) == 1 for b in batches)
    assert any(len(b) > 4 for b in batches if b[0] >= 12)  # short ones still share larger batches
    capped = embeddings.embed(texts, use_cache=False)
    monkeypatch.setattr(embeddings, "MAX_BATCH_TOKENS", 10**9)
    np.testing.assert_array_equal(capped, embeddings.embed(texts, use_cache=False))


def test_token_lengths_from_the_tokenizer_alone_equal_the_models():
    """The calling process counts tokens without the model's weights; the counts are those of
    the loaded model's own preprocessing: padding spaces, case, accents, and texts past the
    256-token cut included."""
    from conftest import RAW

    from analysis.ingest import parse_file

    assert embeddings.load_tokenizer() is not None  # the packaged model is a sentence-transformers folder
    seed = [s.text for p in sorted(RAW.glob("*.transcript.txt")) for s in parse_file(p).segments][:300]
    texts = seed + ["  Padded text, with spaces.  ", "ÉCOLE naïve café", " ".join(["token"] * 600), "x"]
    model = embeddings.load_model()
    preprocess = getattr(model, "preprocess", None) or model.tokenize
    expected = [int(n) for n in preprocess(texts)["attention_mask"].sum(dim=1)]
    assert embeddings.token_lengths(texts) == expected
    assert max(expected) == 256
