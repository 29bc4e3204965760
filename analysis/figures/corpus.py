"""Figures about the corpus itself: how much text each episode has and how much was flagged."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from ..clean import FLAGS
from .findings import ROW_PX, two_lines
from .palette import QUALITATIVE


def corpus_summary(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per episode: show, date, format, utterances, conversation words, speakers
    named in the file or catalog, chapters, and utterances per noise flag."""
    eps, utt, ch = tables["episodes"], tables["utterances"], tables["chapters"]
    conv = utt[utt["is_conversation"]]
    rows = []
    for _, e in eps.sort_values("published").iterrows():
        eu = utt[utt["episode_id"] == e["episode_id"]]
        flags = eu["flags"].str.split(";").explode()
        row = {
            "episode_id": e["episode_id"], "show": e["show"], "published": e["published"],
            "format": e["transcript_format"], "utterances": len(eu),
            "words": int(conv.loc[conv["episode_id"] == e["episode_id"], "word_count"].sum()),
            "flagged_words": int(eu.loc[~eu["is_conversation"], "word_count"].sum()),
            "chapters": int((ch["episode_id"] == e["episode_id"]).sum()),
        }
        row.update({flag: int((flags == flag).sum()) for flag in FLAGS})
        rows.append(row)
    return pd.DataFrame(rows)


def flagged_words_figure(summary: pd.DataFrame) -> go.Figure:
    """Stacked bars: conversation vs flagged words per episode (``summary`` from
    :func:`corpus_summary`, episode names in episode_id)."""
    y = [two_lines(e) for e in summary["episode_id"]]
    fig = go.Figure([
        go.Bar(name="conversation", y=y, x=summary["words"], orientation="h", marker_color=QUALITATIVE[0],
               hovertemplate="%{x:,} words of conversation<extra></extra>"),
        go.Bar(name="flagged (not conversation)", y=y, x=summary["flagged_words"], orientation="h",
               marker_color="#9a9a9a", hovertemplate="%{x:,} words flagged as noise<extra></extra>"),
    ])
    fig.update_layout(barmode="stack", title="Words per episode: conversation and flagged noise",
                      xaxis_title="words", yaxis={"title": None, "autorange": "reversed"},
                      height=90 + ROW_PX * len(summary))
    return fig


def flag_examples(utterances: pd.DataFrame, per_flag: int = 2) -> pd.DataFrame:
    """A few flagged utterances per episode and flag, with the reason the flag was set."""
    flagged = utterances[~utterances["is_conversation"]].copy()
    flagged["flag"] = flagged["flags"].str.split(";").str[0]
    picked = flagged.groupby(["episode_id", "flag"], sort=True).head(per_flag)
    return picked[["episode_id", "flag", "order", "source_line", "raw_text", "flag_reason"]].reset_index(drop=True)
