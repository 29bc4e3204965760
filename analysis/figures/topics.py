"""Figures of the topic model (tables from ``analysis.topics`` in, go.Figure out); every title
says that topic labels are made by the model."""
from __future__ import annotations

import textwrap

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from .palette import label_colors, label_order

MODEL_MADE = "labels made by the topic model"


def _wrap(text, width: int = 80, lines: int = 4) -> str:
    if pd.isna(text):
        return ""
    return "<br>".join(textwrap.wrap(str(text), width)[:lines]) + "…"


def topic_overview(topics: pd.DataFrame) -> go.Figure:
    """Horizontal bars: passages per topic (table ``topics``), hover shows keywords and the
    representative quote with its speaker and time."""
    df = topics.sort_values("passages")
    hover = [f"<b>{r.label}</b><br>keywords: {r.keywords.replace(';', ', ')}<br>"
             f"{r.passages} passages, {r.share:.1%}, {r.episodes} episodes<br>"
             f"quote ({r.quote_speaker if pd.notna(r.quote_speaker) else 'unknown speaker'}, "
             f"{r.quote_episode_id}, {'' if pd.isna(r.quote_start_s) else f'{int(r.quote_start_s) // 60} min'}):"
             f"<br>{_wrap(r.quote_text)}" for r in df.itertuples()]
    colors = label_colors(topics)
    wrapped = ["<br>".join(textwrap.wrap(str(lab), 18)) for lab in df["label"]]  # narrow labels: room for bars on a phone
    fig = go.Figure(go.Bar(x=df["passages"], y=wrapped, orientation="h", hovertext=hover,
                           hoverinfo="text", marker_color=[colors[lab] for lab in df["label"]]))
    fig.update_layout(title=f"Topics in the corpus ({MODEL_MADE})", xaxis_title="passages",
                      yaxis_title=None, height=max(300, 40 * len(df) + 120), margin={"l": 10})
    return fig


def topics_per_episode(per_episode: pd.DataFrame, topics: pd.DataFrame) -> go.Figure:
    """Stacked bars: share of each episode's words per topic, episodes by publication date."""
    order = (per_episode.drop_duplicates("episode_id").sort_values(["published", "episode_id"])
             ["episode_id"].tolist())
    fig = px.bar(per_episode, x="share", y="episode_id", color="label", orientation="h",
                 category_orders={"episode_id": order[::-1], "label": label_order(topics)},
                 color_discrete_map=label_colors(topics),
                 hover_data={"passages": True, "share": ":.1%"})
    fig.update_layout(title=f"Topics per episode, oldest at the bottom ({MODEL_MADE})",
                      xaxis_title="share of the episode's words", xaxis_tickformat=".0%",
                      yaxis_title=None, legend_title="topic", height=max(450, 160 + 22 * len(order)))
    return fig


def topics_per_speaker(per_speaker: pd.DataFrame, min_words: int = 300) -> go.Figure:
    """Heatmap: share of each speaker's words per topic, over all their episodes (speakers
    with at least ``min_words`` words)."""
    df = per_speaker.groupby(["speaker", "label", "topic_id"], as_index=False)["words"].sum()
    totals = df.groupby("speaker")["words"].transform("sum")
    df = df[totals >= min_words].assign(share=lambda d: d["words"] / d.groupby("speaker")["words"].transform("sum"))
    grid = df.pivot_table(index="speaker", columns="label", values="share", fill_value=0.0)
    labels = df.drop_duplicates("label").sort_values("topic_id")["label"].tolist()
    grid = grid.reindex(columns=labels)
    # topics down the side (labels stay horizontal and readable), speakers across
    fig = go.Figure(go.Heatmap(z=grid.T.to_numpy(), x=grid.index, y=grid.columns, colorscale="Blues",
                               zmin=0, hovertemplate="%{x}<br>%{y}: %{z:.1%}<extra></extra>",
                               colorbar={"title": "share", "tickformat": ".0%", "thickness": 12}))
    fig.update_layout(title=f"Topics per speaker, share of their words ({MODEL_MADE})",
                      yaxis={"autorange": "reversed"}, height=max(300, 28 * len(labels) + 160))
    return fig


def topic_timeline(over_time: pd.DataFrame, episode_id: str, topics: pd.DataFrame, time_note: str = "") -> go.Figure:
    """Stacked bars over an episode's minute bins: share of each bin's words per topic.
    ``time_note`` (e.g. "times estimated: anchor_interpolated 100%") is shown under the title."""
    df = over_time[over_time["episode_id"] == episode_id]
    fig = px.bar(df, x="minute", y="share", color="label", color_discrete_map=label_colors(topics),
                 category_orders={"label": label_order(topics)},
                 hover_data={"passages": True, "share": ":.1%"})
    title = f"Topics over time in {episode_id} ({MODEL_MADE})" + (f"<br><sup>{time_note}</sup>" if time_note else "")
    fig.update_layout(title=title, barmode="stack",
                      xaxis_title="minute (bin start)", yaxis_title="share of the bin's words",
                      yaxis_tickformat=".0%", legend_title="topic", bargap=0.05)
    if df.empty:
        fig.add_annotation(text="no passage of this episode has a start time", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
    return fig
