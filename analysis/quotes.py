"""Find what someone said about something: a phrase search over the conversation that returns
quotes with speaker, episode, time (and how the time was obtained) and a video deep link."""
from __future__ import annotations

import re

import pandas as pd

YOUTUBE = "https://www.youtube.com/watch?v={video_id}&t={seconds}s"


def deep_link(video_id, start_s) -> str | None:
    """YouTube link at ``start_s`` (whole seconds), or None without a video id or time."""
    if pd.isna(video_id) or pd.isna(start_s):
        return None
    return YOUTUBE.format(video_id=video_id, seconds=int(start_s))


def find_quotes(tables: dict[str, pd.DataFrame], query: str, speaker: str | None = None,
                context: int = 1, limit: int | None = 20) -> pd.DataFrame:
    """Conversation utterances matching ``query`` (a case-insensitive regular expression, e.g.
    ``"fine[- ]tuning"``), optionally only by ``speaker`` (name or id, case-insensitive).

    Each hit carries ``context`` utterances either side (same episode) in ``quote``, in file
    order; ``time_source`` says whether ``start_s`` is from the file or estimated. Columns:
    episode_id, show, published, order, speaker, speaker_source, start_s, time_source, quote, url.
    """
    utt, eps = tables["utterances"], tables["episodes"].set_index("episode_id")
    conv = utt[utt["is_conversation"]].sort_values(["episode_id", "order"]).reset_index(drop=True)
    hit = conv["text"].str.contains(query, flags=re.IGNORECASE, regex=True, na=False)
    if speaker:
        who = speaker.lower()
        hit &= (conv["speaker"].str.lower() == who) | (conv["speaker_id"].str.lower() == who)
    rows = []
    for i in conv.index[hit]:
        ep = conv.at[i, "episode_id"]
        lo, hi = max(0, i - context), min(len(conv), i + context + 1)
        window = conv.iloc[lo:hi]
        window = window[window["episode_id"] == ep]
        r = conv.loc[i]
        rows.append({
            "episode_id": ep, "show": eps.at[ep, "show"], "published": eps.at[ep, "published"],
            "order": int(r["order"]), "speaker": r["speaker"], "speaker_source": r["speaker_source"],
            "start_s": r["start_s"], "time_source": r["time_source"],
            "quote": " ".join(f"[{s or '?'}] {t}" for s, t in zip(window["speaker"], window["text"])),
            "url": deep_link(eps.at[ep, "video_id"], r["start_s"]),
        })
    out = pd.DataFrame(rows, columns=["episode_id", "show", "published", "order", "speaker", "speaker_source",
                                      "start_s", "time_source", "quote", "url"])
    out = out.sort_values(["published", "order"], ascending=[False, True], kind="stable").reset_index(drop=True)
    return out.head(limit) if limit else out


def example_question(tables: dict[str, pd.DataFrame], topics: pd.DataFrame) -> tuple[str | None, str | None]:
    """A question this corpus can answer, for the notebooks' example: (a topic keyword as a
    regular expression, the guest with most conversation words who says it), trying the topics
    largest first and, within a topic, phrases before single words among its first three
    keywords; speakers of any role when no guest says one; (None, None) without topics."""
    utt = tables["utterances"]
    conv = utt[utt["is_conversation"] & utt["speaker"].notna()]
    words = conv.groupby(["speaker_role", "speaker"])["word_count"].sum().sort_values(ascending=False, kind="stable")
    guests = [s for (role, s) in words.index if role == "guest"]
    others = [s for (role, s) in words.index if role != "guest"]
    ranked = topics[topics["topic_id"] >= 0].sort_values(["share", "topic_id"], ascending=[False, True])
    for speakers in (guests, others):
        for keywords in ranked["keywords"]:
            for keyword in sorted(str(keywords).split(";")[:3], key=lambda k: " " not in k.strip()):
                query = re.escape(keyword.strip())
                for speaker in speakers[:3]:
                    if query and len(find_quotes(tables, query, speaker=speaker, limit=1)):
                        return query, speaker
    return None, None
