"""Split the conversation into passages: sentence windows of about 40-120 words within one speaker turn."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..corpus import TIME_SOURCES
from ..schema import Column, Table, register

TARGET_WORDS = 80  # passages are cut to about this length ...
MAX_WORDS = 120  # ... never longer (a longer sentence is cut at word boundaries)
MIN_WORDS = 15  # shorter turns ("Yeah, exactly.") are dropped: they carry no topic
# Formats whose utterances are whole speaker turns: when speakers are unknown, a passage
# still never spans two utterances. Other formats (sentences, subtitle lines) are windowed freely.
TURN_FORMATS = ("dash_turns", "speaker_paragraphs")
_SENTENCE_END = re.compile(r"[.!?][\"')\]]*$")

PASSAGES = register(Table("topic_passages", "Conversation split into passages, the documents of the topic model.", (
    Column("passage_id", "str", "'<episode_id>/<index>'."),
    Column("episode_id", "str", "Episode slug."),
    Column("index", "int", "0-based position of the passage in its episode."),
    Column("first_order", "int", "Order of the first utterance the passage draws on."),
    Column("last_order", "int", "Order of the last utterance the passage draws on."),
    Column("speaker_id", "str", "Person slug; null when unknown.", nullable=True),
    Column("speaker", "str", "Display name; null when unknown.", nullable=True),
    Column("speaker_role", "str", "host, guest or unknown."),
    Column("start_s", "float", "Start in seconds from the episode start; null without times.", nullable=True),
    Column("end_s", "float", "End in seconds; null without times.", nullable=True),
    Column("time_source", "str", "time_source of the first utterance (file times, or estimated).",
           allowed=TIME_SOURCES),
    Column("position", "float", "Position of the passage's middle in the episode's conversation, 0-1 (by words)."),
    Column("word_count", "int", "Words in the passage."),
    Column("text", "str", "Passage text."),
), key=("passage_id",)))


def _segments(conv: pd.DataFrame, turn_based: bool) -> list[pd.DataFrame]:
    """Runs of consecutive conversation utterances that a passage may span: a new run starts
    at a speaker change, after flagged (removed) utterances, and, in turn-based formats with
    unknown speakers, at every utterance."""
    order = conv["order"].to_numpy()
    spk = conv["speaker_id"].fillna("\0unknown").to_numpy()
    unknown = conv["speaker_id"].isna().to_numpy()
    new = np.ones(len(conv), dtype=bool)
    new[1:] = (order[1:] != order[:-1] + 1) | (spk[1:] != spk[:-1]) | (turn_based & unknown[1:])
    ids = np.cumsum(new)
    return [g for _, g in conv.groupby(ids, sort=True)]


def _words(seg: pd.DataFrame) -> pd.DataFrame:
    """One row per word of a segment, with its utterance order and an interpolated time."""
    rows = []
    for u in seg.itertuples(index=False):
        tokens = u.text.split()
        has_time = pd.notna(u.start_s)
        end = u.end_s if pd.notna(u.end_s) else u.start_s
        for k, tok in enumerate(tokens):
            frac = k / len(tokens)
            t0 = u.start_s + (end - u.start_s) * frac if has_time else np.nan
            t1 = u.start_s + (end - u.start_s) * (k + 1) / len(tokens) if has_time else np.nan
            rows.append((tok, u.order, t0, t1))
    return pd.DataFrame(rows, columns=["word", "order", "start_s", "end_s"])


def _windows(words: list[str]) -> list[tuple[int, int]]:
    """[start, end) word ranges: sentences grouped into windows of about TARGET_WORDS words,
    balanced within the segment, each at most MAX_WORDS; sentences longer than that are cut."""
    bounds, start = [], 0
    for i, w in enumerate(words):  # sentence ranges, long sentences cut into MAX_WORDS pieces
        if _SENTENCE_END.search(w) or i == len(words) - 1 or i + 1 - start >= MAX_WORDS:
            bounds.append((start, i + 1))
            start = i + 1
    per = len(words) / max(1, round(len(words) / TARGET_WORDS))
    windows, cur = [], 0
    for k, (_, e) in enumerate(bounds):
        if k == len(bounds) - 1:
            windows.append((cur, e))
            break
        # close at the sentence end nearest the next cut (cuts every `per` words from the
        # segment start), or before the next sentence would overflow
        cut, nxt = (round(cur / per) + 1) * per, bounds[k + 1][1]
        if nxt - cur > MAX_WORDS or abs(e - cut) <= abs(nxt - cut):
            windows.append((cur, e))
            cur = e
    return windows


def episode_rows(ep: pd.DataFrame, turn_based: bool) -> list[dict]:
    """The passage rows of one episode's conversation utterances (sorted by order). An
    episode's passages depend on its own utterances and format only."""
    total = ep["word_count"].sum()
    ep_id = ep["episode_id"].iloc[0]
    rows, offset, index = [], 0, 0
    for seg in _segments(ep, turn_based):
        words = _words(seg)
        first = seg.iloc[0]
        for s, e in _windows(words["word"].tolist()):
            w = words.iloc[s:e]
            if len(w) >= MIN_WORDS:
                rows.append({
                    "passage_id": f"{ep_id}/{index}", "episode_id": ep_id, "index": index,
                    "first_order": int(w["order"].iloc[0]), "last_order": int(w["order"].iloc[-1]),
                    "speaker_id": first["speaker_id"], "speaker": first["speaker"],
                    "speaker_role": first["speaker_role"],
                    "start_s": w["start_s"].iloc[0], "end_s": w["end_s"].iloc[-1],
                    "time_source": seg.loc[seg["order"] == w["order"].iloc[0], "time_source"].iloc[0],
                    "position": (offset + (s + e) / 2) / total, "word_count": len(w),
                    "text": " ".join(w["word"]),
                })
                index += 1
        offset += len(words)
    return rows


def conversation(utterances: pd.DataFrame) -> pd.DataFrame:
    """The utterances passages are cut from (conversation with words), by episode and order."""
    conv = utterances[utterances["is_conversation"] & (utterances["word_count"] > 0)]
    return conv.sort_values(["episode_id", "order"])


def is_turn_based(episodes: pd.DataFrame) -> dict[str, bool]:
    """Episode id -> whether its format's utterances are whole speaker turns (TURN_FORMATS)."""
    return {e: f in TURN_FORMATS for e, f in zip(episodes["episode_id"], episodes["transcript_format"])}


def to_table(rows: list[dict]) -> pd.DataFrame:
    return PASSAGES.conform(pd.DataFrame(rows)) if rows else PASSAGES.empty()


def make_passages(utterances: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """Passages (table ``topic_passages``) from the conversation utterances, deterministic:
    episodes in id order, passages in episode order."""
    turns = is_turn_based(episodes)
    return to_table([r for ep_id, ep in conversation(utterances).groupby("episode_id", sort=True)
                     for r in episode_rows(ep, turns.get(ep_id, False))])
