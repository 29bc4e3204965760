"""The BERTopic pipeline for a small conversational corpus: filler-free vectorizer, seeded
UMAP/HDBSCAN, outlier reduction and co-occurring keywords; plus a default run for comparison."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from .. import config

# Conversational noise: fillers, hedges and discourse words that top every topic of a raw run.
FILLERS = frozenset("""
uh um uhm hmm mm mhm ah oh huh er eh yeah yes yep yup nope okay ok like know think thinking
thought kind sort gonna wanna gotta lot lots really actually just basically literally pretty
maybe probably definitely totally right mean means guess stuff thing things going got get
gets getting say says said saying let lets sure way ways want wants wanted need come comes
came look looking looks feel feels felt super good great cool awesome little bit stuff yeah
able different certain especially exactly obviously honestly interesting important talk
talking talked tell told doing does did make makes making use used using happen happens
happened try trying tried kinda sorta dont im ive youre bunch people folks guy guys example
sense point question fact idea case whole today love uses mentioned day days better new
working went incredibly incredible amazing absolutely crazy granted
""".split())  # noqa: SIM905 (a word list reads best as text)
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS)
MIN_TOPIC_SIZE = 12  # HDBSCAN min_cluster_size: ~750 passages -> 10-25 topics
# BERTopic's default UMAP settings, seeded (random_state forces n_jobs=1 in UMAP anyway).
UMAP_PARAMS = {"n_neighbors": 15, "n_components": 5, "min_dist": 0.0, "metric": "cosine"}
MAX_TOPIC_SHARE = 0.2  # HDBSCAN max_cluster_size, as a share of the passages it clusters (never
# under 10 x MIN_TOPIC_SIZE, so small corpora still form clusters): without it, excess-of-mass
# selection can keep two giant clusters (95% of a 12-episode synthetic archive in one)
MIN_DF = 3  # a term must occur in this many passages to be a keyword
OUTLIER_THRESHOLD = 0.3  # min cosine similarity for an outlier to join its nearest topic;
# below it a passage (small talk, a stray aside) stays an outlier
TOP_N_WORDS = 10
LABEL_WORDS = 3  # keywords in a topic's label
MERGE_WINDOW = 2  # a label keyword joins with one of the next this many into a known bigram
_CONTRACTION = re.compile(r"\b\w+['’](?:t|re|ve|ll|d|m)\b|['’]s\b")
_TOKEN = re.compile(r"\b[a-z][a-z0-9]+\b")


def analyze(text: str) -> list[str]:
    """Terms of a passage: lower-cased words of 2+ characters that are not stop words or
    fillers, and bigrams of two such words adjacent in the text ("function calling").
    Contractions (don't, we're) and possessive 's are dropped; hyphens split words, so
    "fine-tuning" gives "fine tuning"."""
    words = _TOKEN.findall(_CONTRACTION.sub(" ", text.lower()).replace("-", " "))
    keep = [w if w not in STOP_WORDS and w not in FILLERS else None for w in words]
    bigrams = [f"{a} {b}" for a, b in pairwise(keep) if a and b and a != b]
    return [w for w in keep if w] + bigrams


def make_vectorizer(docs: list[str] | None = None) -> CountVectorizer:
    """CountVectorizer over :func:`analyze` terms; given ``docs``, its vocabulary is the terms
    found in at least MIN_DF of them (drops one-off ASR garbles such as "chatchabit")."""
    if docs is None:
        return CountVectorizer(analyzer=analyze)
    df = Counter(t for d in docs for t in set(analyze(d)))
    return CountVectorizer(analyzer=analyze, vocabulary=sorted(t for t, n in df.items() if n >= MIN_DF))


def _umap(seed: int):
    from umap import UMAP

    return UMAP(**UMAP_PARAMS, random_state=seed, n_jobs=1)


def make_model(embedding_model, docs: list[str], seed: int | None = None, min_topic_size: int = MIN_TOPIC_SIZE):
    """Our BERTopic: seeded UMAP, HDBSCAN with soft probabilities and clusters of at most
    MAX_TOPIC_SHARE of the clustered passages, filler-free vectorizer (representations are
    added after outlier reduction, see :func:`fit`)."""
    from bertopic import BERTopic
    from hdbscan import HDBSCAN

    seed = config.SEED if seed is None else seed
    clustered = min(len(docs), config.TOPIC_FIT_SAMPLE) if config.TOPIC_FIT_SAMPLE > 0 else len(docs)
    return BERTopic(
        embedding_model=embedding_model, umap_model=_umap(seed),
        hdbscan_model=HDBSCAN(min_cluster_size=min_topic_size, metric="euclidean",
                              cluster_selection_method="eom", prediction_data=True,
                              max_cluster_size=max(10 * min_topic_size, int(MAX_TOPIC_SHARE * clustered))),
        vectorizer_model=make_vectorizer(docs), top_n_words=TOP_N_WORDS, calculate_probabilities=True,
    )


def make_default_model(embedding_model, seed: int | None = None):
    """BERTopic() as shipped, with only our embedding model and a seeded UMAP."""
    from bertopic import BERTopic

    return BERTopic(embedding_model=embedding_model, umap_model=_umap(config.SEED if seed is None else seed))


@dataclass
class Fit:
    """A fitted topic model and per-passage results (arrays aligned with the passages)."""

    model: object  # BERTopic; None when reloaded from the cache (see pipeline.load_bertopic)
    topics: np.ndarray  # topic id per passage after outlier reduction (-1: outlier)
    raw_topics: np.ndarray  # topic id per passage straight from HDBSCAN
    probabilities: np.ndarray | None  # (passages, topics) soft membership, None for the default run
    words: dict[int, list[str]]  # top TOP_N_WORDS keywords per topic (outliers excluded)
    labels: dict[int, str]  # readable label per topic (see :func:`label`)
    timings: dict[str, float]


def fit(docs: list[str], embeddings: np.ndarray, embedding_model, seed: int | None = None,
        default: bool = False) -> Fit:
    """Fit on ``docs`` with precomputed ``embeddings``. Ours: cluster, then move outliers to the
    most similar topic (cosine >= OUTLIER_THRESHOLD) and recompute the representations with
    :class:`~analysis.topics.keywords.CoherentKeywords`. The default run's labels are BERTopic's
    (its first four words joined by '_')."""
    import logging
    import time

    from .keywords import CoherentKeywords

    t0 = time.perf_counter()
    model = make_default_model(embedding_model, seed) if default else make_model(embedding_model, docs, seed)
    raw, probs = _fit_transform(model, docs, embeddings, config.SEED if seed is None else seed)
    t1 = time.perf_counter()
    timings = {"fit_s": t1 - t0}
    if default:
        words = top_words(model)
        return Fit(model, raw, raw, None, words, {t: "_".join(w[:4]) for t, w in words.items()}, timings)
    logging.getLogger("BERTopic").setLevel(logging.ERROR)  # it warns on custom topics (intended)
    # reduce_outliers raises when there are no outliers, or no topic to move them to
    new = raw if not (raw == -1).any() or (raw == -1).all() else model.reduce_outliers(
        docs, list(raw), strategy="embeddings", embeddings=embeddings, threshold=OUTLIER_THRESHOLD)
    model.update_topics(docs, topics=new, vectorizer_model=model.vectorizer_model,
                        representation_model=CoherentKeywords(), top_n_words=TOP_N_WORDS)
    timings["outliers_representation_s"] = time.perf_counter() - t1
    return Fit(model, np.asarray(new), raw, np.asarray(probs), top_words(model), labels(model), timings)


def fit_sample(docs: list[str], size: int, seed: int) -> np.ndarray | None:
    """Rows (sorted) of the passages the model is fitted on when there are more than ``size``:
    the ``size`` whose hash with ``seed`` is smallest, so the sample does not depend on the
    order of the passages, and adding passages swaps only a few in. None: fit on all."""
    if size <= 0 or len(docs) <= size:
        return None
    from ..io import content_hash

    keys = [(content_hash(str(seed), d), i) for i, d in enumerate(docs)]
    return np.sort([i for _, i in sorted(keys)[:size]])


def _fit_transform(model, docs: list[str], embeddings: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Topics (and probabilities) of every passage: fit on all of them, or above
    config.TOPIC_FIT_SAMPLE passages fit on :func:`fit_sample` and assign the others with the
    fitted UMAP and HDBSCAN (``transform``), as BERTopic's documentation advises for large corpora."""
    rows = fit_sample(docs, config.TOPIC_FIT_SAMPLE, seed)
    if rows is None:
        topics, probs = model.fit_transform(docs, embeddings)
        return np.asarray(topics), None if probs is None else np.asarray(probs)
    rest = np.setdiff1d(np.arange(len(docs)), rows)
    fitted, fitted_probs = model.fit_transform([docs[i] for i in rows], embeddings[rows])
    assigned, assigned_probs = model.transform([docs[i] for i in rest], embeddings[rest])
    topics = np.empty(len(docs), dtype=int)
    topics[rows], topics[rest] = fitted, assigned
    if fitted_probs is None:
        return topics, None
    probs = np.zeros((len(docs),) + np.shape(fitted_probs)[1:])
    probs[rows], probs[rest] = fitted_probs, assigned_probs
    return topics, probs


def top_words(model, n: int = TOP_N_WORDS) -> dict[int, list[str]]:
    """Topic id -> its top ``n`` words (outlier topic excluded)."""
    return {t: [w for w, _ in words[:n] if w] for t, words in model.get_topics().items() if t != -1}


def labels(model) -> dict[int, str]:
    """Topic id -> :func:`label` of its keywords, bigrams from the model's vocabulary."""
    vocabulary = set(model.vectorizer_model.vocabulary_ or ())
    return {t: label(words, vocabulary) for t, words in top_words(model).items()}


def label(words: list[str], vocabulary: set[str] | frozenset[str] = frozenset()) -> str:
    """A readable label: the first LABEL_WORDS keywords, comma-separated. A keyword and one of
    the MERGE_WINDOW next that form a bigram of ``vocabulary`` are joined ("function" + "calling" -> "function calling");
    a keyword sharing a word (ignoring a plural s) with one already taken is skipped."""
    taken: list[str] = []
    seen: set[str] = set()
    for i, w in enumerate(words):
        if " " not in w:
            w = next((b for v in words[i + 1:i + 1 + MERGE_WINDOW] for b in (f"{w} {v}", f"{v} {w}") if b in vocabulary), w)
        stems = {x.removesuffix("s") for x in w.split()}
        if not stems & seen:
            taken.append(w)
            seen |= stems
        if len(taken) == LABEL_WORDS:
            break
    return ", ".join(taken)
