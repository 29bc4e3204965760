"""Search the conversation by meaning: passages ranked by embedding similarity to the query (of the
passage and of its context window) and by keyword (TF-IDF) match, fused by weighted reciprocal
rank, returned as quotes with speaker, episode, time (``~`` when estimated) and a video deep
link; and its recall@k on hand-written queries, with the weights chosen by leave-one-query-out."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import config
from .quotes import deep_link

RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al. 2009): score = sum 1 / (RRF_K + rank)
QUERIES = "search.queries.yaml"  # hand-written queries and the passages they should find (config.ANNOTATIONS)
# (passage weight, keyword weight) pairs compared by `evaluate-search`
WEIGHT_GRID = tuple((a, w) for a in (1.0, 0.75, 0.5, 0.25) for w in (0.0, 0.5, 1.0))


@dataclass
class SearchIndex:
    """Passages (table topic_passages plus ``passage_key``), their unit embeddings, those of their
    context windows (analysis.themes.tagging.context_vectors), a TF-IDF matrix of their words and
    the episodes table."""

    passages: pd.DataFrame
    vectors: np.ndarray
    vectorizer: object
    tfidf: object
    episodes: pd.DataFrame
    context: np.ndarray


def build_index(tables: dict[str, pd.DataFrame] | None = None) -> SearchIndex:
    """Index the conversation passages of the corpus (``tables`` or data/processed). Passage
    embeddings come from the embedding cache (the topic stage fills it)."""
    from .corpus import load_corpus
    from .embeddings import embed
    from .themes.pipeline import conversation_passages

    corpus = tables or load_corpus()
    passages = conversation_passages(tables)
    return index_passages(passages, embed(passages["text"].tolist()), corpus["episodes"])


def index_passages(passages: pd.DataFrame, vectors: np.ndarray, episodes: pd.DataFrame) -> SearchIndex:
    """A :class:`SearchIndex` of ``passages`` (table topic_passages) with their unit ``vectors``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from .themes.tagging import context_vectors, passage_keys

    passages = passages.assign(passage_key=passage_keys(passages)).reset_index(drop=True)
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2), min_df=1)
    tfidf = vectorizer.fit_transform(passages["text"]) if len(passages) else None
    context = context_vectors(passages["episode_id"].to_numpy(), vectors) if len(passages) else vectors
    return SearchIndex(passages, vectors, vectorizer, tfidf, episodes, context)


def clock(seconds, estimated: bool) -> str:
    """'m:ss' or 'h:mm:ss', prefixed with '~' when estimated; '' without a time."""
    if seconds is None or pd.isna(seconds):
        return ""
    s = int(seconds)
    text = f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    return ("~" if estimated else "") + text


def _ranks(scores: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """1-based rank of each eligible passage by descending score (ties by position); others inf."""
    order = np.lexsort((np.arange(len(scores)), -scores))
    order = order[eligible[order]]
    ranks = np.full(len(scores), np.inf)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def search(index: SearchIndex, query: str, speaker: str | None = None, episode: str | None = None,
           top: int = 5, query_vector: np.ndarray | None = None,
           weights: tuple[float, float] | None = None) -> pd.DataFrame:
    """The ``top`` passages for ``query``: weighted reciprocal-rank fusion of the semantic rank
    (cosine of the query's embedding to the passage's, weight a, and to its context window's,
    1 - a) and the keyword rank (TF-IDF cosine, fused with weight w; passages sharing no word are
    not ranked by it). ``weights`` = (a, w), default (config.SEARCH_PASSAGE_WEIGHT,
    config.SEARCH_KEYWORD_WEIGHT). ``speaker``: a name or id (case-insensitive, a part of the
    name is enough); ``episode``: an episode id or a unique prefix of one."""
    a, w = weights or (config.SEARCH_PASSAGE_WEIGHT, config.SEARCH_KEYWORD_WEIGHT)
    p = index.passages
    keep = np.ones(len(p), dtype=bool)
    if speaker:
        who = speaker.lower()
        keep &= (p["speaker"].fillna("").str.lower().str.contains(who, regex=False)
                 | (p["speaker_id"].fillna("").str.lower() == who)).to_numpy()
    if episode:
        keep &= p["episode_id"].str.startswith(episode).to_numpy()
    if not keep.any() or not query.strip():
        return _results(p.iloc[[]], index.episodes, np.array([]), np.array([]), np.array([]))
    if query_vector is None:
        from .embeddings import embed

        query_vector = embed([query], use_cache=False)[0]
    semantic = a * (index.vectors @ query_vector) + (1 - a) * (index.context @ query_vector)
    keyword = (index.tfidf @ index.vectorizer.transform([query]).T).toarray().ravel()
    sem_rank, kw_rank = _ranks(semantic, keep), _ranks(keyword, keep & (keyword > 0))
    fused = 1 / (RRF_K + sem_rank) + w / (RRF_K + kw_rank)
    best = np.lexsort((np.arange(len(p)), -fused))[:min(top, int(keep.sum()))]
    return _results(p.iloc[best], index.episodes, fused[best], semantic[best], keyword[best])


def _results(hits: pd.DataFrame, episodes: pd.DataFrame, fused, semantic, keyword) -> pd.DataFrame:
    eps = episodes.set_index("episode_id")
    rows = []
    for k, r in enumerate(hits.itertuples(index=False)):
        est = r.time_source != "file"
        rows.append({"rank": k + 1, "score": float(fused[k]), "semantic": float(semantic[k]),
                     "keyword": float(keyword[k]), "passage_key": r.passage_key, "passage_id": r.passage_id,
                     "episode_id": r.episode_id, "show": eps.at[r.episode_id, "show"],
                     "published": eps.at[r.episode_id, "published"], "speaker": r.speaker if pd.notna(r.speaker) else None,
                     "start_s": r.start_s, "time": clock(r.start_s, est), "time_estimated": bool(est),
                     "url": deep_link(eps.at[r.episode_id, "video_id"], r.start_s), "quote": r.text})
    cols = ["rank", "score", "semantic", "keyword", "passage_key", "passage_id", "episode_id", "show", "published",
            "speaker", "start_s", "time", "time_estimated", "url", "quote"]
    return pd.DataFrame(rows, columns=cols)


def format_results(results: pd.DataFrame, width: int = 400) -> str:
    """Plain-text quotes: rank, speaker, show and date, time (~: estimated), link, quote."""
    if results.empty:
        return "no passage matches"
    lines = []
    for r in results.itertuples():
        date = "" if pd.isna(r.published) else f" {pd.Timestamp(r.published):%Y-%m-%d}"
        where = f"{r.show}{date}" + (f", {r.time}" if r.time else ", no time")
        quote = r.quote if len(r.quote) <= width else r.quote[:width].rsplit(" ", 1)[0] + " …"
        lines.append(f"{r.rank}. {r.speaker or 'unknown speaker'} ({where}) [{r.episode_id}]"
                     + (f"\n   {r.url}" if r.url else "") + f"\n   \"{quote}\"")
    if results["time_estimated"].any():
        lines.append("~ times are estimated (the transcript has no timestamps there), not read from the file.")
    return "\n".join(lines)


def load_queries(path: Path | None = None, missing_ok: bool = False) -> list[dict]:
    """Hand-written queries: [{query, relevant: [passage keys], speaker?, episode?, note?}];
    ``missing_ok``: no file gives no queries (a corpus nobody has written queries for)."""
    path = Path(path or config.ANNOTATIONS / QUERIES)
    if missing_ok and not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    queries = data.get("queries") if isinstance(data, dict) else None
    if not isinstance(queries, list) or not all(isinstance(q, dict) and q.get("query") and q.get("relevant")
                                                for q in queries):
        raise ValueError(f"{path}: expected 'queries:' a list of {{query, relevant: [passage keys]}}")
    return queries


def example_queries(n: int = 2) -> tuple[list[str], str]:
    """Queries for the notebooks' search examples and where they come from: the first ``n``
    hand-written queries of config.ANNOTATIONS, else the labels of the ``n`` largest topics."""
    queries = [q["query"] for q in load_queries(missing_ok=True)][:n]
    where = f"data/{config.data_relative(config.ANNOTATIONS / QUERIES)}"
    if queries:
        return queries, f"The first {len(queries)} hand-written queries of {where}:"
    from .io import load_tables
    from .topics.tables import TOPICS

    topics = load_tables(TOPICS)[TOPICS.name]
    labels = topics[topics["topic_id"] >= 0].sort_values(["share", "topic_id"], ascending=[False, True])["label"]
    if labels.empty:
        return [], (f"No hand-written queries ({where} is missing) and no topics to take "
                    "examples from: try `python -m analysis search \"QUERY\"`.")
    return labels.head(n).tolist(), (f"No hand-written queries ({where} is missing): the "
                                     "labels of the largest topics (model-made) as examples.")


def recall_at(index: SearchIndex, queries: list[dict], k: int = 5, vectors: np.ndarray | None = None,
              weights: tuple[float, float] | None = None) -> tuple[pd.DataFrame, float]:
    """Per query: relevant passages found in the top ``k`` / min(k, relevant); and the mean.
    Relevant keys absent from the index are reported (they count as not found). ``vectors``:
    the queries' embeddings when already at hand (default: encode them, cache untouched);
    ``weights``: as for :func:`search`."""
    from .embeddings import embed

    if vectors is None:
        vectors = embed([q["query"] for q in queries], use_cache=False)
    known = set(index.passages["passage_key"])
    rows = []
    for q, v in zip(queries, vectors):
        hits = search(index, q["query"], q.get("speaker"), q.get("episode"), top=k, query_vector=v, weights=weights)
        relevant = set(q["relevant"])
        found = relevant & set(hits["passage_key"])
        rows.append({"query": q["query"], "relevant": len(relevant), "found": len(found),
                     "recall": len(found) / min(k, len(relevant)), "missing_keys": len(relevant - known),
                     "first_hit_rank": next((r for r, key in zip(hits["rank"], hits["passage_key"]) if key in relevant), None)})
    df = pd.DataFrame(rows)
    return df, float(df["recall"].mean()) if len(df) else 0.0


def measured_recall_note(index: SearchIndex, k: int = 5) -> str:
    """:func:`recall_note` for the hand-written queries of config.ANNOTATIONS on ``index``;
    "not measured" when there is no query file."""
    queries = load_queries(missing_ok=True)
    if not queries:
        return (f"**Search was not measured on this corpus**: there are no hand-written queries "
                f"({config.ANNOTATIONS / QUERIES} is missing).")
    return recall_note(recall_at(index, queries, k)[0], k)


def measured_queries(per_query: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`recall_at` whose query has at least one relevant passage in this corpus
    (the others were written for episodes that are not in it, and measure nothing here)."""
    return per_query[per_query["missing_keys"] < per_query["relevant"]] if len(per_query) else per_query


def recall_note(per_query: pd.DataFrame, k: int = 5) -> str:
    """One sentence (Markdown) on recall@k of ``recall_at``'s queries, over those with at least one
    relevant passage in this corpus; "not measured on this corpus" when there is none (the
    hand-written queries name passages of the seed episodes)."""
    measured = measured_queries(per_query)
    if measured.empty:
        return (f"**Search was not measured on this corpus**: none of the passages that the {len(per_query)} "
                "hand-written queries (data/annotations/search.queries.yaml) expect is in it; they were written "
                "for the seed episodes (`python -m analysis evaluate-search` measures it where they are).")
    left = len(per_query) - len(measured)
    return (f"On {len(measured)} hand-written queries, recall@{k} is **{measured['recall'].mean():.2f}** and a relevant "
            f"passage is in the top {k} for **{(measured['found'] > 0).mean():.0%}** of them"
            + (f" ({left} queries whose passages are not in this corpus left out)" if left else "")
            + " (`python -m analysis evaluate-search`).")


def cross_validated_recall(index: SearchIndex, queries: list[dict], k: int = 5,
                           vectors: np.ndarray | None = None) -> tuple[float, pd.DataFrame]:
    """Leave one query out: for each query, the WEIGHT_GRID weights with the best mean recall@k
    on the other queries, and its recall@k with them; returns the mean of those held-out
    recalls and the grid's recall@k over all queries (columns passage_weight, keyword_weight,
    recall)."""
    from .embeddings import embed

    if vectors is None:
        vectors = embed([q["query"] for q in queries], use_cache=False)
    per = np.array([recall_at(index, queries, k, vectors, wt)[0]["recall"].to_numpy() for wt in WEIGHT_GRID]).T
    held_out = [per[i, int(np.argmax(np.delete(per, i, axis=0).mean(axis=0)))] for i in range(len(queries))]
    grid = pd.DataFrame({"passage_weight": [a for a, _ in WEIGHT_GRID], "keyword_weight": [w for _, w in WEIGHT_GRID],
                         "recall": per.mean(axis=0)})
    return float(np.mean(held_out)) if held_out else 0.0, grid


def main_search(args) -> int:
    """``python -m analysis search "QUERY" [--speaker NAME] [--episode ID] [--top N]``."""
    index = build_index()
    print(format_results(search(index, args.query, args.speaker, args.episode, args.top)))
    return 0


def main_evaluate_search(args) -> int:
    """``python -m analysis evaluate-search [--k 5]``: recall@k on data/annotations/search.queries.yaml."""
    from .embeddings import embed
    from .io import write_json

    index = build_index()
    queries = load_queries()
    vectors = embed([q["query"] for q in queries], use_cache=False)
    df, mean = recall_at(index, queries, args.k, vectors)
    for r in df.itertuples():
        first = "-" if r.first_hit_rank is None or pd.isna(r.first_hit_rank) else int(r.first_hit_rank)
        print(f"  {r.recall:4.2f}  {r.found}/{min(args.k, r.relevant)} (first hit {first})  {r.query}"
              + (f"  [{r.missing_keys} relevant passage(s) not in the corpus]" if r.missing_keys else ""))
    hit = (df["found"] > 0).mean()
    print(f"recall@{args.k}: {mean:.2f} over {len(df)} queries (mean of found / min({args.k}, relevant)); "
          f"a relevant passage in the top {args.k} for {hit:.0%} of queries [weights: passage "
          f"{config.SEARCH_PASSAGE_WEIGHT:.2f} / context {1 - config.SEARCH_PASSAGE_WEIGHT:.2f}, keyword "
          f"{config.SEARCH_KEYWORD_WEIGHT:.2f}; chosen on these queries, so optimistic]")
    cv, grid = cross_validated_recall(index, queries, args.k, vectors)
    print(f"leave-one-query-out recall@{args.k} (weights chosen on the other {len(queries) - 1} queries): {cv:.2f}")
    print("  recall@k of each weight pair on all queries (passage weight, keyword weight):  "
          + "  ".join(f"({r.passage_weight:.2f}, {r.keyword_weight:.1f}) {r.recall:.2f}" for r in grid.itertuples()))
    write_json({"k": args.k, "recall": mean, "hit_rate": hit, "queries": len(df), "cv_recall": cv,
                "weights": {"passage": config.SEARCH_PASSAGE_WEIGHT, "keyword": config.SEARCH_KEYWORD_WEIGHT}},
               config.PROCESSED / "search_evaluation.json")
    return 0
