"""NPMI coherence (document co-occurrence) and topic diversity of topic word lists."""
from __future__ import annotations

import numpy as np


def npmi_pair(p1: float, p2: float, p12: float) -> float:
    """Normalised PMI, log(p12 / (p1 p2)) / -log(p12): -1 when the words never co-occur,
    1 when they always do, 0 when independent."""
    if p12 == 0:
        return -1.0
    if p12 == 1:
        return 1.0
    return float(np.log(p12 / (p1 * p2)) / -np.log(p12))


def npmi_matrix(occurs: np.ndarray) -> np.ndarray:
    """NPMI of every pair of words from a (documents x words) boolean occurrence matrix."""
    occ = occurs.astype(np.float64)
    p = occ.mean(axis=0)
    p12 = occ.T @ occ / len(occ)
    out = np.full(p12.shape, -1.0)
    both = (p12 > 0) & (p12 < 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log(p12 / np.outer(p, p))
        out[both] = (pmi / -np.log(p12))[both]
    out[p12 == 1] = 1.0
    return out


def npmi(topic_words: list[list[str]], documents: list[set[str]]) -> tuple[float, list[float]]:
    """Mean NPMI over the word pairs of each topic, and over topics, with probabilities from
    document co-occurrence in ``documents`` (each the set of terms of one document).
    Returns (mean over topics, per-topic means)."""
    per_topic = []
    for words in topic_words:
        occurs = np.array([[w in doc for w in words] for doc in documents], dtype=bool).reshape(-1, len(words))
        m = npmi_matrix(occurs)
        pairs = m[np.triu_indices(len(words), k=1)]
        per_topic.append(float(pairs.mean()) if len(pairs) else 0.0)
    return (float(np.mean(per_topic)) if per_topic else 0.0), per_topic


def diversity(topic_words: list[list[str]]) -> float:
    """Share of unique words among all topics' top words (1: no word shared by two topics)."""
    words = [w for ws in topic_words for w in ws]
    return len(set(words)) / len(words) if words else 0.0
