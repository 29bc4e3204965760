"""The BERTopic pipeline for a small conversational corpus: filler-free vectorizer, seeded
UMAP/HDBSCAN, KeyBERT+MMR labels and outlier reduction; plus a default run for comparison."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

from .. import config

# Conversational noise: fillers, hedges and discourse words that top every topic of a raw run.
FILLERS = frozenset("""
uh um uhm hmm mm mhm ah oh huh er eh yeah yes yep yup nope okay ok like know think thinking
thought kind sort gonna wanna gotta lot lots really actually just basically literally
pretty maybe probably definitely totally right mean means guess stuff thing things going
got get gets getting say says said saying let lets sure way ways want wants wanted need
come comes came look looking looks feel feels felt super good great cool awesome
little bit stuff yeah able different certain especially exactly obviously honestly
interesting important talk talking talked tell told doing does did make makes making
use used using happen happens happened try trying tried kinda sorta dont im ive youre
""".split())
STOP_WORDS = frozenset(ENGLISH_STOP_WORDS)
MIN_TOPIC_SIZE = 12  # HDBSCAN min_cluster_size: ~750 passages -> 10-25 topics
UMAP_PARAMS = dict(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine")  # BERTopic's defaults
MMR_DIVERSITY = 0.3
OUTLIER_THRESHOLD = 0.3  # min cosine similarity for an outlier to join its nearest topic;
# below it a passage (small talk, a stray aside) stays an outlier
TOP_N_WORDS = 10
LABEL_WORDS = 3  # words in a topic's label
_CONTRACTION = re.compile(r"\b\w+['’](?:t|re|ve|ll|d|m)\b|['’]s\b")
_TOKEN = re.compile(r"\b[a-z][a-z0-9]+\b")


def analyze(text: str) -> list[str]:
    """Terms of a passage: lower-cased words of 2+ characters that are not stop words or
    fillers, and bigrams of two such words adjacent in the text ("function calling").
    Contractions (don't, we're) and possessive 's are dropped; hyphens split words, so
    "fine-tuning" gives "fine tuning"."""
    words = _TOKEN.findall(_CONTRACTION.sub(" ", text.lower()).replace("-", " "))
    keep = [w if w not in STOP_WORDS and w not in FILLERS else None for w in words]
    bigrams = [f"{a} {b}" for a, b in zip(keep, keep[1:]) if a and b and a != b]
    return [w for w in keep if w] + bigrams


def make_vectorizer() -> CountVectorizer:
    """CountVectorizer over :func:`analyze` terms."""
    return CountVectorizer(analyzer=analyze)


def _umap(seed: int):
    from umap import UMAP

    return UMAP(**UMAP_PARAMS, random_state=seed, n_jobs=1)


def make_model(embedding_model, seed: int | None = None, min_topic_size: int = MIN_TOPIC_SIZE):
    """Our BERTopic: seeded UMAP, HDBSCAN with soft probabilities, filler-free vectorizer
    (representations are added after outlier reduction, see :func:`fit`)."""
    from bertopic import BERTopic
    from hdbscan import HDBSCAN

    seed = config.SEED if seed is None else seed
    return BERTopic(
        embedding_model=embedding_model, umap_model=_umap(seed),
        hdbscan_model=HDBSCAN(min_cluster_size=min_topic_size, metric="euclidean",
                              cluster_selection_method="eom", prediction_data=True),
        vectorizer_model=make_vectorizer(), top_n_words=TOP_N_WORDS, calculate_probabilities=True,
    )


def make_representation(seed: int | None = None) -> list:
    """Keywords re-ranked by similarity to the topic's passages (KeyBERT-inspired), then
    de-duplicated by maximal marginal relevance."""
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance

    return [KeyBERTInspired(random_state=config.SEED if seed is None else seed),
            MaximalMarginalRelevance(diversity=MMR_DIVERSITY)]


def make_default_model(embedding_model, seed: int | None = None):
    """BERTopic() as shipped, with only our embedding model and a seeded UMAP."""
    from bertopic import BERTopic

    return BERTopic(embedding_model=embedding_model, umap_model=_umap(config.SEED if seed is None else seed))


@dataclass
class Fit:
    """A fitted topic model and per-passage results (arrays aligned with the passages)."""

    model: object  # BERTopic
    topics: np.ndarray  # topic id per passage after outlier reduction (-1: outlier)
    raw_topics: np.ndarray  # topic id per passage straight from HDBSCAN
    probabilities: np.ndarray | None  # (passages, topics) soft membership, None for the default run
    timings: dict[str, float]


def fit(docs: list[str], embeddings: np.ndarray, embedding_model, seed: int | None = None,
        default: bool = False) -> Fit:
    """Fit on ``docs`` with precomputed ``embeddings``. Ours: cluster, then move outliers to the
    most similar topic (cosine >= OUTLIER_THRESHOLD) and recompute the representations."""
    import logging
    import time

    t0 = time.perf_counter()
    model = (make_default_model if default else make_model)(embedding_model, seed)
    topics, probs = model.fit_transform(docs, embeddings)
    raw = np.asarray(topics)
    t1 = time.perf_counter()
    timings = {"fit_s": t1 - t0}
    if default:
        return Fit(model, raw, raw, None, timings)
    logging.getLogger("BERTopic").setLevel(logging.ERROR)  # it warns on custom topics (intended)
    new = model.reduce_outliers(docs, list(raw), strategy="embeddings", embeddings=embeddings,
                                threshold=OUTLIER_THRESHOLD)
    model.update_topics(docs, topics=new, vectorizer_model=model.vectorizer_model,
                        representation_model=make_representation(seed), top_n_words=TOP_N_WORDS)
    timings["outliers_representation_s"] = time.perf_counter() - t1
    return Fit(model, np.asarray(new), raw, np.asarray(probs), timings)


def top_words(model, n: int = TOP_N_WORDS) -> dict[int, list[str]]:
    """Topic id -> its top ``n`` words (outlier topic excluded)."""
    return {t: [w for w, _ in words[:n] if w] for t, words in model.get_topics().items() if t != -1}


def label(words: list[str]) -> str:
    """A readable label: the first LABEL_WORDS keywords, comma-separated, skipping a keyword
    that shares a word (ignoring a plural s) with one already taken ("model" after "models")."""
    taken: list[str] = []
    seen: set[str] = set()
    for w in words:
        stems = {x.removesuffix("s") for x in w.split()}
        if not stems & seen:
            taken.append(w)
            seen |= stems
        if len(taken) == LABEL_WORDS:
            break
    return ", ".join(taken)
