"""The enrichment tables (schemas registered here) and :func:`load_enrichments`."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..corpus import TIME_SOURCES
from ..io import read_table
from ..schema import Column, Table, register

NOTE = "Model-made by a language model (column model), not by a person; cached by prompt version and input."
_MADE_BY = (Column("model", "str", "Language model that wrote the row."),
            Column("prompt_version", "str", "'<task>/v<version>' of the prompt that produced it."))

TOPIC_LABELS = register(Table("llm_topic_labels", f"A short label and description per topic, shown beside the "
                              f"keyword label (table topics), never replacing it. {NOTE}", (
    Column("topic_id", "int", "Topic id (table topics)."),
    Column("label", "str", "Short label, at most 8 words."),
    Column("description", "str", "One sentence describing the topic."),
    *_MADE_BY), key=("topic_id",)))

SUMMARIES = register(Table("llm_summaries", "Episode summaries and chapter summaries as bullets, each citing the "
                           f"passages it comes from. {NOTE}", (
    Column("episode_id", "str", "Episode slug."),
    Column("section", "str", "What is summarised.", allowed=("episode", "chapter")),
    Column("chapter_index", "int", "Chapter (table chapters, or llm_chapters when the episode has no chapter "
           "list); null for the episode summary.", nullable=True),
    Column("start_s", "float", "Chapter start, seconds; null for the episode or without times.", nullable=True),
    Column("title", "str", "Chapter title, or the episode title.", nullable=True),
    Column("text", "str", "Bullets, one per line ('- ...'), each ending with its citations in brackets."),
    Column("citations", "str", "'; '-joined cited passages as '<episode_id>:<utterance order>@<m:ss>' "
           "(no '@' without times; the utterance's start_s, estimated unless its time_source is 'file'), "
           "in order of first citation."),
    *_MADE_BY), key=("episode_id", "section", "chapter_index")))

CHAPTERS = register(Table("llm_chapters", "Chapters (start and title) generated for episodes with no chapter list "
                          f"with times. {NOTE}", (
    Column("episode_id", "str", "Episode slug."),
    Column("chapter_index", "int", "0-based position."),
    Column("start_order", "int", "Utterance order where the chapter starts."),
    Column("start_s", "float", "Start, seconds: that utterance's start; null without times.", nullable=True),
    Column("time_source", "str", "Where that start comes from (table utterances).", allowed=TIME_SOURCES),
    Column("title", "str", "Chapter title."),
    *_MADE_BY), key=("episode_id", "chapter_index")))

SPEAKER_TURNS = register(Table("llm_speaker_turns", "Speaker turns of unlabelled episodes from the language model's "
                               "window labels, decoded like the offline model (evaluate-speakers --llm measures "
                               f"them). {NOTE}", (
    Column("episode_id", "str", "Episode slug."),
    Column("turn_index", "int", "0-based position."),
    Column("speaker_role", "str", "host or guest.", allowed=("host", "guest")),
    Column("first_order", "int", "First utterance of the turn."),
    Column("last_order", "int", "Last utterance of the turn."),
    Column("start_s", "float", "Start of the first utterance, seconds.", nullable=True),
    Column("words", "int", "Words in the turn."),
    Column("confidence", "float", "Mean decoder posterior of the role, 0-1."),
    *_MADE_BY), key=("episode_id", "turn_index")))

TABLES = {t.name: t for t in (TOPIC_LABELS, SUMMARIES, CHAPTERS, SPEAKER_TURNS)}


def load_enrichments(directory: Path | None = None) -> dict[str, pd.DataFrame]:
    """Every enrichment table in ``directory`` (default data/processed), validated; an empty
    table (with its columns) for each one not written, so callers need no existence checks."""
    from .. import config

    directory = Path(directory or config.PROCESSED)
    out = {}
    for name, table in TABLES.items():
        path = directory / f"{name}.parquet"
        out[name] = read_table(table, path) if path.exists() else table.empty()
    return out
