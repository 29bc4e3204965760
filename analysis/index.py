"""The index stage (``python -m analysis index``, ``make index``): what search and the person
comparison show, computed once from the conversation passages, so that the site and the
notebooks only read tables. It stores the search index on disk (analysis.search.save_index; the
``search`` command reads it), the hand-written queries' results and recall (tables
search_queries, search_results) and every recurring person's episodes and closest passage pairs
(person_episodes, passage_pairs), with the "same point" threshold and its measured figures
(config.PAIR_THRESHOLD) copied to data/processed/pair_evaluation.json for the site. Passage and query embeddings come through the embedding cache
(the topic stage fills it), so a rerun does no model work, and the stage's stamp skips it when
nothing it reads changed. A pair of episodes' passage pairs depends on those two episodes only."""
from __future__ import annotations

import pandas as pd

from . import config
from .compare import PASSAGE_PAIRS, PERSON_EPISODES, pair_threshold, person_tables
from .io import load_tables, write_json, write_table
from .search import (
    EXAMPLE_K,
    SEARCH_QUERIES,
    SEARCH_RESULTS,
    SearchIndex,
    index_passages,
    load_queries,
    measured_queries,
    query_tables,
    save_index,
    source_key,
)

OUTPUTS = (SEARCH_QUERIES, SEARCH_RESULTS, PERSON_EPISODES, PASSAGE_PAIRS)
PAIR_EVALUATION = "pair_evaluation.json"  # under config.PROCESSED: the pair threshold and its figures, for the site


def run(tables: dict[str, pd.DataFrame] | None = None,
        write: bool = True) -> tuple[SearchIndex, dict[str, pd.DataFrame]]:
    """The search index and the four tables of OUTPUTS, from the corpus (``tables``, else
    data/processed) with the talk-time table and the topic stage's passages; written to
    data/processed (the index into search_index/) when ``write``."""
    from .corpus import load_corpus
    from .embeddings import embed
    from .speakers.talktime import SPEAKERS as TALK
    from .themes.pipeline import conversation_passages

    corpus = dict(tables) if tables else load_corpus()
    if TALK.name not in corpus:
        corpus.update(load_tables(TALK))
    passages = conversation_passages(tables)
    index = index_passages(passages, embed(passages["text"].tolist()), corpus["episodes"])
    out = query_tables(index, load_queries(missing_ok=True))
    threshold = pair_threshold()
    out.update(person_tables(corpus, index.passages, index.vectors, threshold["threshold"]))
    if write:
        save_index(index, source_key())
        write_json(threshold, config.PROCESSED / PAIR_EVALUATION)
        for table in OUTPUTS:
            write_table(out[table.name], table, config.PROCESSED / f"{table.name}.parquet")
    return index, out


def summary(out: dict[str, pd.DataFrame], passages: int) -> str:
    queries, pairs = measured_queries(out[SEARCH_QUERIES.name]), out[PASSAGE_PAIRS.name]
    people = out[PERSON_EPISODES.name]["speaker_id"].nunique()
    recall = (f"recall@{EXAMPLE_K} {queries['recall'].mean():.2f} on {len(queries)} hand-written queries"
              if len(queries) else "search not measured here (no hand-written query has a passage in this corpus)")
    return (f"index: {passages} passages indexed for search; {recall}; "
            f"{people} {'person' if people == 1 else 'people'} in more than one episode, "
            f"{len(pairs)} passage pairs, {int(pairs['same_point'].sum())} of them the same point "
            f"(similarity >= {pair_threshold()['threshold']:.2f})")


def main_index(args) -> int:
    """``python -m analysis index``."""
    index, out = run()
    print(summary(out, len(index.passages)))
    return 0
