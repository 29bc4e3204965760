"""Search the conversation by meaning: passages ranked by embedding similarity to the query (of the
passage and of its context window) and by keyword (TF-IDF) match, fused by weighted reciprocal
rank, returned as quotes with speaker, episode, time (``~`` when estimated) and a video deep
link; and its recall@k on hand-written queries, with the weights chosen by leave-one-query-out."""
from __future__ import annotations

import bisect
import itertools
import math
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import config
from .quotes import deep_link
from .schema import Column, Table, register

RRF_K = 60  # reciprocal-rank fusion constant (Cormack et al. 2009): score = sum 1 / (RRF_K + rank)
QUERIES = "search.queries.yaml"  # hand-written queries and the passages they should find (config.ANNOTATIONS)
# (passage weight, keyword weight) pairs compared by `evaluate-search`
WEIGHT_GRID = tuple((a, w) for a in (1.0, 0.75, 0.5, 0.25) for w in (0.0, 0.5, 1.0))
INDEX_DIR = "search_index"  # under config.PROCESSED: the index the `index` stage stores (save_index)
INDEX_FORMAT = 2  # the layout of INDEX_DIR; a stored index of another layout is not read
EXAMPLE_K = 5  # results stored per hand-written query (table search_results), and the k of recall@k
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # sklearn's default token pattern, which KeywordIndex.fit uses

SEARCH_PASSAGES = register(Table(
    "search_passages", "The passages the search index ranks (data/processed/search_index/passages.parquet, "
    "written by the `index` stage), in the row order of the index's vectors: the topic stage's conversation "
    "passages (table topic_passages) with their stable key.", (
        Column("passage_key", "str", "'<episode_id>@<first utterance order>.<part>' (analysis.themes.tagging.passage_keys)."),
        Column("passage_id", "str", "'<episode_id>/<index>' (table topic_passages)."),
        Column("episode_id", "str", "Episode slug."),
        Column("first_order", "int", "Order of the first utterance the passage draws on."),
        Column("last_order", "int", "Order of the last utterance the passage draws on."),
        Column("speaker_id", "str", "Person slug; null when unknown.", nullable=True),
        Column("speaker", "str", "Display name; null when unknown.", nullable=True),
        Column("start_s", "float", "Start in seconds; null without times.", nullable=True),
        Column("time_source", "str", "How start_s was obtained (file, anchor_interpolated, rate_estimated, none)."),
        Column("text", "str", "Passage text."),
    ), key=("passage_key",)))
SEARCH_QUERIES = register(Table(
    "search_queries", "Search measured on each hand-written query of data/annotations/search.queries.yaml "
    f"(the `index` stage): how many of the passages a reader expects are in its top {EXAMPLE_K} results.", (
        Column("query_id", "int", "0-based position of the query in the file."),
        Column("query", "str", "The query as written."),
        Column("speaker", "str", "The query's speaker filter, if any.", nullable=True),
        Column("episode", "str", "The query's episode filter, if any.", nullable=True),
        Column("relevant", "int", "Passages the reader expects."),
        Column("found", "int", f"Of those, how many are in the top {EXAMPLE_K}."),
        Column("recall", "float", f"found / min({EXAMPLE_K}, relevant), 0-1."),
        Column("missing_keys", "int", "Expected passages that are not in this corpus (they count as not found)."),
        Column("first_hit_rank", "int", "Rank of the first expected passage in the results; null if none.", nullable=True),
    ), key=("query_id",)))
SEARCH_RESULTS = register(Table(
    "search_results", f"The top {EXAMPLE_K} results of search (analysis.search.search) for each hand-written "
    "query (the `index` stage): what the Themes page shows as search examples.", (
        Column("query_id", "int", "The query (table search_queries)."),
        Column("rank", "int", "1-based rank."),
        Column("score", "float", "Fused reciprocal-rank score."),
        Column("semantic", "float", "Weighted cosine of the query to the passage and to its context window."),
        Column("keyword", "float", "TF-IDF cosine of the query to the passage (0: no shared word)."),
        Column("passage_key", "str", "The passage (table search_passages)."),
        Column("passage_id", "str", "'<episode_id>/<index>'."),
        Column("episode_id", "str", "Episode slug."),
        Column("show", "str", "Show name."),
        Column("published", "date", "Publication date.", nullable=True),
        Column("speaker", "str", "Display name; null when unknown.", nullable=True),
        Column("start_s", "float", "Start in seconds; null without times.", nullable=True),
        Column("time", "str", "'m:ss' or 'h:mm:ss', '~' first when estimated; empty without a time."),
        Column("time_estimated", "bool", "Whether the time is estimated rather than read from the file."),
        Column("url", "str", "Video link at that moment; null without a video id or time.", nullable=True),
        Column("quote", "str", "The passage text."),
        Column("relevant", "bool", "Whether the passage is one the query's reader expects."),
    ), key=("query_id", "rank")))


@dataclass
class KeywordIndex:
    """The TF-IDF match of a query to every passage exactly as sklearn computes it
    (``TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2))`` fitted on the
    passages, then ``tfidf @ transform([query]).T``; bit for bit, tests/test_search.py), from
    arrays, so that scoring a query imports neither sklearn nor scipy. The fitted matrix's entries
    are kept grouped by term, each with its row and its place among that row's stored entries
    (scipy sums a row's products in that order)."""

    terms: list[str]  # the vocabulary in column order (sorted)
    idf: np.ndarray  # float64, one per term
    stop_words: frozenset
    starts: np.ndarray  # term t's entries are [starts[t], starts[t + 1])
    rows: np.ndarray  # passage of each entry
    slots: np.ndarray  # position of the entry among its row's stored entries
    values: np.ndarray  # float64 TF-IDF value
    n_rows: int

    @classmethod
    def fit(cls, texts: list[str]) -> KeywordIndex:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2), min_df=1)
        try:
            m = vec.fit_transform(texts)
        except ValueError:  # no passage, or only stop words: nothing to match
            return cls([], np.zeros(0), frozenset(vec.get_stop_words()), np.zeros(1, dtype=np.int64),
                       np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0), len(texts))
        rows = np.repeat(np.arange(m.shape[0], dtype=np.int32), np.diff(m.indptr))
        slots = (np.arange(m.nnz) - m.indptr[rows]).astype(np.int32)
        order = np.argsort(m.indices, kind="stable")
        starts = np.r_[0, np.cumsum(np.bincount(m.indices, minlength=m.shape[1]))].astype(np.int64)
        return cls(vec.get_feature_names_out().tolist(), vec.idf_, frozenset(vec.get_stop_words()), starts,
                   rows[order], slots[order], m.data[order], m.shape[0])

    def _column(self, term: str) -> int | None:
        i = bisect.bisect_left(self.terms, term)
        return i if i < len(self.terms) and self.terms[i] == term else None

    def query(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The query's terms (columns, ascending) and TF-IDF weights, as ``transform`` makes them:
        lower-cased tokens without stop words and their pairs, 1 + log(count), x idf, unit length."""
        tokens = [t for t in _TOKEN.findall(text.lower()) if t not in self.stop_words]
        counts = Counter(c for g in tokens + [" ".join(p) for p in itertools.pairwise(tokens)]
                         if (c := self._column(g)) is not None)
        cols = np.array(sorted(counts), dtype=np.int64)
        weights = np.array([counts[c] for c in cols], dtype=np.float64)
        np.log(weights, weights)
        weights += 1.0
        weights *= self.idf[cols]
        total = 0.0
        for v in weights:  # in column order, as sklearn's row normalisation sums
            total += v * v
        if total:
            weights /= math.sqrt(total)
        return cols, weights

    def scores(self, text: str) -> np.ndarray:
        """TF-IDF cosine of ``text`` to every passage (float64; 0 where no term is shared)."""
        out = np.zeros(self.n_rows)
        cols, weights = self.query(text)
        if not len(cols):
            return out
        spans = [np.arange(self.starts[c], self.starts[c + 1]) for c in cols]
        sel = np.concatenate(spans)
        rows, slots = self.rows[sel], self.slots[sel]
        products = self.values[sel] * np.repeat(weights, [len(s) for s in spans])
        order = np.lexsort((slots, rows))
        rows, products = rows[order], products[order]
        first = np.r_[True, rows[1:] != rows[:-1]]
        nth = np.arange(len(rows)) - np.maximum.accumulate(np.where(first, np.arange(len(rows)), 0))
        for k in range(int(nth.max()) + 1):  # each row's products added in its stored order, from 0
            pick = nth == k
            out[rows[pick]] += products[pick]
        return out

    def save(self, folder: Path) -> None:
        from .io import atomic_path, write_text

        write_text("\n".join(self.terms), folder / "terms.txt")
        with atomic_path(folder / "keywords.npz") as tmp, tmp.open("wb") as fh:
            np.savez(fh, idf=self.idf, starts=self.starts, rows=self.rows, slots=self.slots, values=self.values,
                     n_rows=np.array(self.n_rows), stop_words=np.array(sorted(self.stop_words)))

    @classmethod
    def load(cls, folder: Path) -> KeywordIndex:
        text = (folder / "terms.txt").read_text(encoding="utf-8")
        with np.load(folder / "keywords.npz") as z:
            return cls(text.split("\n") if text else [], z["idf"], frozenset(z["stop_words"].tolist()), z["starts"],
                       z["rows"], z["slots"], z["values"], int(z["n_rows"]))


@dataclass
class SearchIndex:
    """Passages (table topic_passages, or search_passages, with ``passage_key``), their unit
    embeddings, those of their context windows (analysis.themes.tagging.context_vectors), their
    :class:`KeywordIndex` and the episodes table (show, published, video_id)."""

    passages: pd.DataFrame
    vectors: np.ndarray
    context: np.ndarray
    keywords: KeywordIndex
    episodes: pd.DataFrame


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
    from .themes.tagging import context_vectors, passage_keys

    passages = passages.assign(passage_key=passage_keys(passages)).reset_index(drop=True)
    context = context_vectors(passages["episode_id"].to_numpy(), vectors) if len(passages) else vectors
    return SearchIndex(passages, vectors, context, KeywordIndex.fit(passages["text"].tolist()), episodes)


def _index_folder() -> Path:
    return config.PROCESSED / INDEX_DIR


def source_key() -> str:
    """What a stored index was built from: the passage and episode tables in data/processed
    (their bytes), the embedding model and INDEX_FORMAT."""
    from .io import content_hash

    files = [config.PROCESSED / "topic_passages.parquet", config.PROCESSED / "episodes.parquet"]
    return content_hash(*(p.read_bytes() if p.exists() else b"" for p in files), config.EMBEDDING_MODEL,
                        str(INDEX_FORMAT))


def save_index(index: SearchIndex, key: str, folder: Path | None = None) -> None:
    """Store ``index`` in ``folder`` (default data/processed/search_index): the passages (table
    search_passages), the passage and context vectors (.npy), the keyword index, and ``key``
    (:func:`source_key`) with the model name in index.json, written last."""
    from .io import atomic_path, write_json, write_table

    folder = Path(folder or _index_folder())
    write_table(index.passages, SEARCH_PASSAGES, folder / "passages.parquet")
    for name, array in (("vectors", index.vectors), ("context", index.context)):
        with atomic_path(folder / f"{name}.npy") as tmp, tmp.open("wb") as fh:
            np.save(fh, np.asarray(array))  # as computed (context vectors are float64): the same scores
    index.keywords.save(folder)
    write_json({"key": key, "model": config.EMBEDDING_MODEL, "format": INDEX_FORMAT, "passages": len(index.passages)},
               folder / "index.json")


def load_index(folder: Path | None = None, key: str | None = None) -> SearchIndex | None:
    """The index stored by :func:`save_index`, with the episodes of data/processed; None when there
    is none, or it was built from other tables or another model than now (``key``: default
    :func:`source_key`)."""
    import json

    folder = Path(folder or _index_folder())
    try:
        meta = json.loads((folder / "index.json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("key") != (key or source_key()):
        return None
    episodes = pd.read_parquet(config.PROCESSED / "episodes.parquet", columns=["episode_id", "show", "published", "video_id"])
    return SearchIndex(pd.read_parquet(folder / "passages.parquet"), np.load(folder / "vectors.npy"),
                       np.load(folder / "context.npy"), KeywordIndex.load(folder), episodes)


def current_index() -> SearchIndex:
    """The stored index when it matches data/processed, else one built now (the `index` stage
    stores it; ``make index``), saying so on stderr."""
    index = load_index()
    if index is None:
        print(f"note: no current search index in {_index_folder()} (run `make index` to store one): "
              "building it now", file=sys.stderr)
        index = build_index()
    return index


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
    name is enough); ``episode``: an episode id or a unique prefix of one; ``query_vector``: the
    query's unit embedding (default :func:`analysis.query_encoder.embed_query`)."""
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
        from .query_encoder import embed_query

        query_vector = embed_query(query)
    semantic = a * (index.vectors @ query_vector) + (1 - a) * (index.context @ query_vector)
    keyword = index.keywords.scores(query)
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
    return pd.DataFrame(rows, columns=[c for c in SEARCH_RESULTS.column_names if c not in ("query_id", "relevant")])


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


def _recall_row(q: dict, hits: pd.DataFrame, known: set[str], k: int) -> dict:
    """Recall@k of one query's ``hits`` (search results) against its relevant passage keys."""
    relevant = set(q["relevant"])
    found = relevant & set(hits["passage_key"])
    return {"query": q["query"], "relevant": len(relevant), "found": len(found),
            "recall": len(found) / min(k, len(relevant)), "missing_keys": len(relevant - known),
            "first_hit_rank": next((r for r, key in zip(hits["rank"], hits["passage_key"]) if key in relevant), None)}


def _query_vectors(queries: list[dict], vectors: np.ndarray | None, use_cache: bool = False) -> np.ndarray:
    from .embeddings import embed

    return embed([q["query"] for q in queries], use_cache=use_cache) if vectors is None else vectors


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
    Relevant keys are resolved to the passage holding their utterance (``resolve_keys``); keys
    absent from the index even so are reported (they count as not found). ``vectors``:
    the queries' embeddings when already at hand (default: encode them, cache untouched);
    ``weights``: as for :func:`search`."""
    from .themes.tagging import resolve_keys

    vectors = _query_vectors(queries, vectors)
    known = set(index.passages["passage_key"])
    # each relevant key as the passage holding its utterance now (passages are cut anew when speakers change)
    queries = [{**q, "relevant": [r if r is not None else k for k, r in
                                  zip(q["relevant"], resolve_keys(q["relevant"], index.passages))]} for q in queries]
    df = pd.DataFrame([_recall_row(q, search(index, q["query"], q.get("speaker"), q.get("episode"), top=k,
                                             query_vector=v, weights=weights), known, k)
                       for q, v in zip(queries, vectors)])
    return df, float(df["recall"].mean()) if len(df) else 0.0


def query_tables(index: SearchIndex, queries: list[dict], k: int = EXAMPLE_K,
                 vectors: np.ndarray | None = None) -> dict[str, pd.DataFrame]:
    """Tables search_queries (recall@k of each hand-written query) and search_results (its top
    ``k``), for the `index` stage. ``vectors``: the queries' embeddings (default: through the
    embedding cache, so a rerun does no model work)."""
    vectors = _query_vectors(queries, vectors, use_cache=True)
    known = set(index.passages["passage_key"])
    rows, results = [], []
    for i, (q, v) in enumerate(zip(queries, vectors)):
        hits = search(index, q["query"], q.get("speaker"), q.get("episode"), top=k, query_vector=v)
        rows.append({"query_id": i, "speaker": q.get("speaker"), "episode": q.get("episode"),
                     **_recall_row(q, hits, known, k)})
        results.append(hits.assign(query_id=i, relevant=hits["passage_key"].isin(set(q["relevant"]))))
    queries_df = pd.DataFrame(rows, columns=SEARCH_QUERIES.column_names)
    results_df = pd.concat(results, ignore_index=True) if results else SEARCH_RESULTS.empty()
    return {SEARCH_QUERIES.name: SEARCH_QUERIES.conform(queries_df),
            SEARCH_RESULTS.name: SEARCH_RESULTS.conform(results_df[SEARCH_RESULTS.column_names])}


def measured_queries(per_query: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`recall_at` (or table search_queries) whose query has at least one
    relevant passage in this corpus (the others were written for episodes that are not in it,
    and measure nothing here)."""
    return per_query[per_query["missing_keys"] < per_query["relevant"]] if len(per_query) else per_query


def recall_note(per_query: pd.DataFrame, k: int = EXAMPLE_K) -> str:
    """One sentence (Markdown) on recall@k of ``recall_at``'s queries (or table search_queries),
    over those with at least one relevant passage in this corpus; "not measured on this corpus"
    when there is no query (no query file) or none of them has one (the hand-written queries
    name passages of the seed episodes)."""
    if per_query.empty:
        return (f"**Search was not measured on this corpus**: there are no hand-written queries "
                f"({config.ANNOTATIONS / QUERIES} is missing).")
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
    vectors = _query_vectors(queries, vectors)
    per = np.array([recall_at(index, queries, k, vectors, wt)[0]["recall"].to_numpy() for wt in WEIGHT_GRID]).T
    held_out = [per[i, int(np.argmax(np.delete(per, i, axis=0).mean(axis=0)))] for i in range(len(queries))]
    grid = pd.DataFrame({"passage_weight": [a for a, _ in WEIGHT_GRID], "keyword_weight": [w for _, w in WEIGHT_GRID],
                         "recall": per.mean(axis=0)})
    return float(np.mean(held_out)) if held_out else 0.0, grid


def main_search(args) -> int:
    """``python -m analysis search ["QUERY"] [--speaker NAME] [--episode ID] [--top N]``: the
    stored index (:func:`current_index`) and the query embedded by :mod:`analysis.query_encoder`;
    without a query, one query per line of standard input until its end, each answered in turn."""
    from .query_encoder import query_encoder

    index, encode = current_index(), query_encoder()

    def answer(query: str) -> None:
        print(format_results(search(index, query, args.speaker, args.episode, args.top, encode(query))), flush=True)

    if args.query is not None:
        answer(args.query)
        return 0
    prompt = sys.stdin.isatty()
    while True:
        if prompt:
            print("query> ", end="", file=sys.stderr, flush=True)
        line = sys.stdin.readline()
        if not line:
            return 0
        if line.strip():
            answer(line.strip())
            print(flush=True)


def main_evaluate_search(args) -> int:
    """``python -m analysis evaluate-search [--k 5]``: recall@k on data/annotations/search.queries.yaml."""
    from .io import write_json

    index = current_index()
    queries = load_queries()
    vectors = _query_vectors(queries, None)
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
