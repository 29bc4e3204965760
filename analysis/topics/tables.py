"""Topic output tables (schemas registered here): topics with a representative quote, passage
assignments, and topic shares per episode, speaker, role and time bin."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..quotes import deep_link
from ..schema import Column, Table, register

TIME_BIN_MIN = 5  # width of the within-episode timeline bins, minutes
QUOTES_PER_TOPIC = 3  # passages ranked as representative in the assignments table
NOTE = "Labels and keywords are made by the topic model, not by a person."

TOPICS = register(Table("topics", f"One row per topic (-1: outliers). {NOTE}", (
    Column("topic_id", "int", "Topic id; -1 collects passages no topic fits."),
    Column("label", "str", "Model-made label: its first distinct keywords."),
    Column("keywords", "str", "';'-joined top 10 keywords (c-TF-IDF candidates kept for co-occurring, see CoherentKeywords)."),
    Column("passages", "int", "Passages assigned."),
    Column("words", "int", "Words in those passages."),
    Column("share", "float", "Share of all passages, 0-1."),
    Column("episodes", "int", "Episodes with at least one passage of the topic."),
    Column("quote_passage_id", "str", "Passage closest to the topic centroid.", nullable=True),
    Column("quote_text", "str", "Its text.", nullable=True),
    Column("quote_episode_id", "str", "Its episode.", nullable=True),
    Column("quote_speaker", "str", "Its speaker; null when unknown.", nullable=True),
    Column("quote_start_s", "float", "Its start, seconds; null without times.", nullable=True),
    Column("quote_url", "str", "YouTube link at the quote's start; null without video id or time.", nullable=True),
    Column("quote_time_source", "str", "Where the quote's time comes from: 'file', or estimated.", nullable=True),
    Column("model_version", "str", "Version of the fitted model whose topic this is (as in topic_assignments)."),
), key=("topic_id",)))

ASSIGNMENTS = register(Table("topic_assignments", "The topic of every passage.", (
    Column("passage_id", "str", "Passage (table topic_passages)."),
    Column("episode_id", "str", "Episode slug."),
    Column("topic_id", "int", "Assigned topic after outlier reduction; -1: outlier."),
    Column("clustered_topic_id", "int", "Topic from clustering alone, before outlier reduction."),
    Column("probability", "float", "HDBSCAN soft-membership probability of the assigned topic, 0-1; null for outliers.",
           nullable=True),
    Column("similarity", "float", "Cosine similarity of the passage to its topic's centroid; null for outliers.",
           nullable=True),
    Column("rank_in_topic", "int", "1 = most representative (closest to the centroid); null for outliers.",
           nullable=True),
    Column("assigned_by", "str", "'fit': topic from fitting the model (clustering, sample assignment, outlier "
           "reduction); 'nearest_topic': a passage added after the fit, given the topic with the most similar "
           "centroid (cosine >= 0.3, else outlier), its clustered_topic_id -1 and probability null.",
           allowed=("fit", "nearest_topic")),
    Column("model_version", "str", "Version of the fitted model (hash of the passages it was fitted on, its "
           "settings and code); refitting makes a new one."),
), key=("passage_id",)))

_SHARE_COLS = (
    Column("topic_id", "int", "Topic id (-1: outliers)."),
    Column("label", "str", "Model-made topic label."),
    Column("passages", "int", "Passages of the topic in the group."),
    Column("words", "int", "Words in those passages."),
    Column("share", "float", "Share of the group's words, 0-1."),
)
PER_EPISODE = register(Table("topics_per_episode", "Topic shares per episode, with publication dates.", (
    Column("episode_id", "str", "Episode slug."),
    Column("published", "date", "Publication date.", nullable=True),
    *_SHARE_COLS), key=("episode_id", "topic_id")))
PER_SPEAKER = register(Table("topics_per_speaker", "Topic shares per speaker in each episode.", (
    Column("episode_id", "str", "Episode slug."),
    Column("speaker", "str", "Display name; 'unknown' when not attributed."),
    Column("speaker_role", "str", "host, guest or unknown."),
    *_SHARE_COLS), key=("episode_id", "speaker", "topic_id")))
PER_ROLE = register(Table("topics_per_role", "Topic shares per speaker role over the corpus.", (
    Column("speaker_role", "str", "host, guest or unknown."),
    *_SHARE_COLS), key=("speaker_role", "topic_id")))
OVER_TIME = register(Table("topics_over_time", f"Topic shares in {TIME_BIN_MIN}-minute bins of each episode "
                           "(passages with a start time only).", (
    Column("episode_id", "str", "Episode slug."),
    Column("minute", "int", f"Bin start, minutes from the episode start (bins of {TIME_BIN_MIN})."),
    *_SHARE_COLS), key=("episode_id", "minute", "topic_id")))

OUTPUTS = {t.name: t for t in (TOPICS, ASSIGNMENTS, PER_EPISODE, PER_SPEAKER, PER_ROLE, OVER_TIME)}


def topic_centroids(topics: np.ndarray, embeddings: np.ndarray) -> dict[int, np.ndarray]:
    """Topic id -> unit vector of the mean (unit) embedding of its passages (outliers excluded)."""
    out = {}
    for t in sorted(set(np.asarray(topics).tolist()) - {-1}):
        centroid = embeddings[np.flatnonzero(topics == t)].mean(axis=0)
        out[int(t)] = centroid / np.linalg.norm(centroid)
    return out


def assignments(passages: pd.DataFrame, topics: np.ndarray, clustered: np.ndarray,
                probabilities: np.ndarray | None, embeddings: np.ndarray,
                centroids: dict[int, np.ndarray] | None = None, model_version: str = "",
                assigned_by: np.ndarray | None = None) -> pd.DataFrame:
    """Table ``topic_assignments``; similarity is to the topic's centroid (default
    :func:`topic_centroids` of these passages; the model's, fixed when it was fitted, so that
    adding passages changes no other passage's similarity)."""
    centroids = topic_centroids(topics, embeddings) if centroids is None else centroids
    df = pd.DataFrame({"passage_id": passages["passage_id"].to_numpy(),
                       "episode_id": passages["episode_id"].to_numpy(),
                       "topic_id": topics, "clustered_topic_id": clustered,
                       "probability": np.nan, "similarity": np.nan})
    for t in sorted(set(topics) - {-1}):
        rows = np.flatnonzero(topics == t)
        # a row-by-row sum, not a matrix product: BLAS picks its kernel (and the rounding of the
        # last bit) by the number of rows, so a topic gaining passages would move the others'
        df.loc[rows, "similarity"] = (embeddings[rows] * centroids[int(t)]).sum(axis=1)
        if probabilities is not None and probabilities.ndim == 2 and t < probabilities.shape[1]:
            df.loc[rows, "probability"] = probabilities[rows, t]
    df["rank_in_topic"] = (df[df["topic_id"] >= 0].groupby("topic_id")["similarity"]
                           .rank(ascending=False, method="first"))
    df["assigned_by"] = "fit" if assigned_by is None else assigned_by
    df["model_version"] = model_version
    return ASSIGNMENTS.conform(df)


def topics_table(words: dict[int, list[str]], labels: dict[int, str], assign: pd.DataFrame, passages: pd.DataFrame,
                 episodes: pd.DataFrame) -> pd.DataFrame:
    """Table ``topics``, largest topic first, outliers last."""
    df = assign.merge(passages, on=["passage_id", "episode_id"])
    video = dict(zip(episodes["episode_id"], episodes["video_id"]))
    rows = []
    for t, g in df.groupby("topic_id"):
        quote = g.sort_values("rank_in_topic").iloc[0] if t >= 0 else None
        kw = words.get(t, [])
        rows.append({
            "topic_id": t, "label": labels.get(t, "outliers (no topic)"),
            "keywords": ";".join(kw), "passages": len(g), "words": int(g["word_count"].sum()),
            "share": len(g) / len(df), "episodes": g["episode_id"].nunique(),
            "quote_passage_id": None if quote is None else quote["passage_id"],
            "quote_text": None if quote is None else quote["text"],
            "quote_episode_id": None if quote is None else quote["episode_id"],
            "quote_speaker": None if quote is None else quote["speaker"],
            "quote_start_s": None if quote is None else quote["start_s"],
            "quote_url": None if quote is None else deep_link(video.get(quote["episode_id"]), quote["start_s"]),
            "quote_time_source": None if quote is None else quote["time_source"],
            "model_version": g["model_version"].iloc[0],
        })
    out = pd.DataFrame(rows)
    out = out.assign(_outlier=out["topic_id"] < 0).sort_values(
        ["_outlier", "passages", "topic_id"], ascending=[True, False, True], kind="stable")
    return TOPICS.conform(out)


def topic_shares(df: pd.DataFrame, by: list[str], labels: dict[int, str]) -> pd.DataFrame:
    """Passages and words per ``by`` group and topic; share = topic words / group words."""
    g = df.groupby(by + ["topic_id"], dropna=False).agg(passages=("passage_id", "size"),
                                                          words=("word_count", "sum")).reset_index()
    g["share"] = g["words"] / g.groupby(by, dropna=False)["words"].transform("sum")
    g["label"] = g["topic_id"].map(labels)
    return g.sort_values(by + ["topic_id"], kind="stable")


def build_tables(passages: pd.DataFrame, episodes: pd.DataFrame, words: dict[int, list[str]],
                 labels: dict[int, str], topics: np.ndarray, clustered: np.ndarray, probabilities: np.ndarray | None,
                 embeddings: np.ndarray, centroids: dict[int, np.ndarray] | None = None, model_version: str = "",
                 assigned_by: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
    """All topic tables, keyed by table name (see OUTPUTS), plus ``topic_passages``.
    ``words`` and ``labels``: keywords and label per topic id (outliers: -1, may be absent);
    the rest as :func:`assignments` takes them."""
    assign = assignments(passages, topics, clustered, probabilities, embeddings, centroids, model_version,
                         assigned_by)
    top = topics_table(words, labels, assign, passages, episodes)
    labels = dict(zip(top["topic_id"], top["label"]))
    df = assign[["passage_id", "topic_id"]].merge(passages, on="passage_id")
    df["speaker"] = df["speaker"].fillna("unknown")
    df["minute"] = (df["start_s"] // (TIME_BIN_MIN * 60) * TIME_BIN_MIN)
    per_ep = topic_shares(df, ["episode_id"], labels).merge(
        episodes[["episode_id", "published"]], on="episode_id", how="left")
    return {
        "topic_passages": passages, "topics": top, "topic_assignments": assign,
        "topics_per_episode": PER_EPISODE.conform(per_ep),
        "topics_per_speaker": PER_SPEAKER.conform(topic_shares(df, ["episode_id", "speaker", "speaker_role"], labels)),
        "topics_per_role": PER_ROLE.conform(topic_shares(df, ["speaker_role"], labels)),
        "topics_over_time": OVER_TIME.conform(topic_shares(df.dropna(subset=["minute"]), ["episode_id", "minute"],
                                                           labels)),
    }
