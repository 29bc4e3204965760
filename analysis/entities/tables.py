"""Entity tables from the mentions: top entities per episode and per speaker, a timeline in
minute bins, and co-mentions within passages."""
from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from .. import config
from ..schema import Column, Table, register

NOTE = ("Entities are found by spaCy's NER (model-made) and the alias table; the corpus's top entities are "
        "checked by hand (data/annotations/entities.top30.tsv).")

PER_EPISODE = register(Table("entities_per_episode", f"Mentions of each entity per episode, ranked. {NOTE}", (
    Column("episode_id", "str", "Episode slug."),
    Column("entity", "str", "Canonical name."),
    Column("label", "str", "Most frequent type of its mentions."),
    Column("mentions", "int", "Mentions in the episode."),
    Column("rank", "int", "1 = most mentioned in the episode (ties by name)."),
), key=("episode_id", "entity")))

PER_SPEAKER = register(Table("entities_per_speaker", f"Mentions of each entity per speaker and episode. {NOTE}", (
    Column("episode_id", "str", "Episode slug."),
    Column("speaker_id", "str", "Person slug; 'unknown' when not attributed."),
    Column("speaker", "str", "Display name; 'unknown' when not attributed."),
    Column("entity", "str", "Canonical name."),
    Column("mentions", "int", "Mentions by the speaker in the episode."),
    Column("rank", "int", "1 = the speaker's most mentioned entity in the episode."),
), key=("episode_id", "speaker_id", "entity")))

TIMELINE = register(Table("entity_timeline", f"Mentions per entity in time bins of each episode. {NOTE}", (
    Column("episode_id", "str", "Episode slug."),
    Column("entity", "str", "Canonical name."),
    Column("minute", "float", "Bin start, minutes (width config.THEME_BIN_MIN); mentions without a time are left out."),
    Column("mentions", "int", "Mentions in the bin."),
    Column("estimated", "bool", "True when the bin's times are estimated rather than from the file."),
), key=("episode_id", "entity", "minute")))

COMENTIONS = register(Table("entity_comentions", f"Pairs of entities mentioned in the same passage. {NOTE}", (
    Column("entity_a", "str", "Canonical name (alphabetically first)."),
    Column("entity_b", "str", "Canonical name."),
    Column("passages", "int", "Passages mentioning both."),
    Column("episodes", "int", "Episodes with such a passage."),
), key=("entity_a", "entity_b")))

OUTPUTS = {t.name: t for t in (PER_EPISODE, PER_SPEAKER, TIMELINE, COMENTIONS)}


def _ranked(counts: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    counts = counts.sort_values(by + ["mentions", "entity"], ascending=[True] * len(by) + [False, True], kind="stable")
    counts["rank"] = counts.groupby(by).cumcount() + 1
    return counts


def _majority_label(m: pd.DataFrame) -> pd.Series:
    """The most frequent label of each (episode_id, entity); ties go to the label seen first."""
    g = (m.assign(_row=np.arange(len(m))).groupby(["episode_id", "entity", "label"], sort=False)["_row"]
         .agg(["size", "min"]).reset_index())
    g = g.sort_values(["episode_id", "entity", "size", "min"], ascending=[True, True, False, True], kind="stable")
    return g.drop_duplicates(["episode_id", "entity"]).set_index(["episode_id", "entity"])["label"]


def per_episode(m: pd.DataFrame) -> pd.DataFrame:
    label = _majority_label(m)
    c = m.groupby(["episode_id", "entity"]).size().rename("mentions").to_frame().join(label).reset_index()
    return PER_EPISODE.conform(_ranked(c, ["episode_id"]))


def per_speaker(m: pd.DataFrame) -> pd.DataFrame:
    m = m.assign(speaker_id=m["speaker_id"].fillna("unknown"), speaker=m["speaker"].fillna("unknown"))
    c = m.groupby(["episode_id", "speaker_id", "entity"]).agg(speaker=("speaker", "first"), mentions=("entity", "size"))
    return PER_SPEAKER.conform(_ranked(c.reset_index(), ["episode_id", "speaker_id"]))


def timeline(m: pd.DataFrame, width_min: float | None = None) -> pd.DataFrame:
    width = width_min or config.THEME_BIN_MIN
    t = m[m["start_s"].notna()].assign(minute=lambda d: np.floor(d["start_s"] / 60 / width) * width,
                                       est=lambda d: d["time_source"] != "file")
    c = t.groupby(["episode_id", "entity", "minute"]).agg(mentions=("entity", "size"), estimated=("est", "mean"))
    c["estimated"] = c["estimated"] > 0.5
    return TIMELINE.conform(c.reset_index())


def passage_entities(m: pd.DataFrame, passages: pd.DataFrame) -> pd.DataFrame:
    """(passage_id, episode_id, entity) for each mention: the passages that span its utterance
    and contain its words (a long utterance is cut into several passages)."""
    spans: dict[tuple[str, int], list[tuple[str, str]]] = {}  # (episode, utterance order) -> its passages, in order
    for ep, pid, first, last, text in zip(passages["episode_id"], passages["passage_id"], passages["first_order"],
                                          passages["last_order"], passages["text"]):
        for order in range(int(first), int(last) + 1):
            spans.setdefault((ep, order), []).append((pid, text))
    rows = []
    for ep, order, words, entity in zip(m["episode_id"], m["order"], m["text"], m["entity"]):
        for pid, text in spans.get((ep, int(order)), ()):
            if words in text:
                rows.append((pid, ep, entity))
                break
    return pd.DataFrame(rows, columns=["passage_id", "episode_id", "entity"]).drop_duplicates()


def comentions(m: pd.DataFrame, passages: pd.DataFrame) -> pd.DataFrame:
    pe = passage_entities(m, passages)
    pairs = []
    for (pid, ep), g in pe.groupby(["passage_id", "episode_id"]):
        for a, b in itertools.combinations(sorted(set(g["entity"])), 2):
            pairs.append((a, b, pid, ep))
    df = pd.DataFrame(pairs, columns=["entity_a", "entity_b", "passage_id", "episode_id"])
    out = df.groupby(["entity_a", "entity_b"]).agg(passages=("passage_id", "nunique"), episodes=("episode_id", "nunique"))
    return COMENTIONS.conform(out.reset_index().sort_values(["passages", "entity_a", "entity_b"],
                                                            ascending=[False, True, True], kind="stable"))


def build_tables(mentions: pd.DataFrame, passages: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {PER_EPISODE.name: per_episode(mentions), PER_SPEAKER.name: per_speaker(mentions),
            TIMELINE.name: timeline(mentions), COMENTIONS.name: comentions(mentions, passages)}


def top_entities(mentions: pd.DataFrame, n: int = 30) -> pd.DataFrame:
    """The corpus's ``n`` most mentioned entities: entity, label, mentions, episodes, spellings."""
    g = mentions.groupby("entity").agg(label=("label", lambda s: s.value_counts().index[0]),
                                       mentions=("entity", "size"), episodes=("episode_id", "nunique"),
                                       spellings=("text", lambda s: "; ".join(s.value_counts().index[:4])))
    return g.reset_index().sort_values(["mentions", "entity"], ascending=[False, True], kind="stable").head(n)
