"""Figures of themes and entities (tables from ``analysis.themes`` / ``analysis.entities`` in,
go.Figure out). Titles say that tags and entities are model-made; estimated times are drawn
lighter, with a note. Colours come from the shared palette: pass ``colors`` (theme -> colour,
e.g. :func:`analysis.figures.palette.name_colors` over every theme in lexicon order) so a theme
has one colour on every chart; speaker bands are coloured by role."""
from __future__ import annotations

import textwrap

import pandas as pd
import plotly.graph_objects as go

from .palette import (
    LEGEND_MAX_EPISODES,
    QUALITATIVE,
    ROLE_COLORS,
    ROLE_ORDER,
    cell_values,
    name_colors,
)

ENTITY_NOTE = "entities found by spaCy NER and an alias table"


def tags_note() -> str:
    """How theme tags are made, and whether the project has the hand-labelled sample that
    measures them (a new project has none: its tags are unmeasured)."""
    from .. import config
    from ..themes.evaluate import SAMPLE

    measured = (config.ANNOTATIONS / SAMPLE).is_file()
    return ("theme tags made by a model (embeddings + keywords), "
            + ("measured against a hand-labelled sample" if measured else "not measured on this corpus (no hand-labelled sample)"))


def _wrap(text: str, width: int) -> str:
    """``text`` broken into lines of at most ``width`` characters (Plotly ``<br>``), so axis
    labels fit a phone screen."""
    return "<br>".join(textwrap.wrap(str(text), width)) or str(text)


def _episode_labels(df: pd.DataFrame, names: dict[str, str] | None = None) -> dict[str, str]:
    """episode_id -> 'YYYY-MM show' (or 'YYYY-MM name' with ``names``) for hover text."""
    rows = df.drop_duplicates("episode_id")
    return {r.episode_id: (f"{pd.Timestamp(r.published):%Y-%m} " if pd.notna(r.published) else "")
            + str((names or {}).get(r.episode_id, getattr(r, "show", r.episode_id))) for r in rows.itertuples()}


def _short(label: str) -> str:
    """An axis label of :func:`_episode_labels`: 'YYYY-MM show', the guest left to the hover text."""
    return label.split(": ")[0]



LABEL_GAP = 0.06  # chapter numbers closer than this share of the time axis are not all written


def chapter_labels(minutes: list[float], span: float) -> list[str]:
    """Chapter numbers for markers at ``minutes`` on an axis ``span`` minutes long: a number is
    written only where it keeps LABEL_GAP of the axis from the last one written, so close
    chapters ("20 21 22") are not drawn into one another ("2022"); hover names every chapter."""
    out, last = [], None
    for i, m in enumerate(minutes, 1):
        keep = last is None or span <= 0 or (m - last) / span >= LABEL_GAP
        out.append(str(i) if keep else "")
        last = m if keep else last
    return out


def episode_timeline(timeline: pd.DataFrame, episode_id: str, kind: str = "theme", names: list[str] | None = None,
                     turns: pd.DataFrame | None = None, chapters: pd.DataFrame | None = None,
                     colors: dict[str, str] | None = None, title: str | None = None) -> go.Figure:
    """Smoothed intensity (share of each time bin's words) of themes or topics along one episode
    (x in minutes), with speaker bands underneath coloured by role (table talktime_turns) and
    chapter markers (table chapters, where they have start times; the title shows on hover).
    Bins whose times are estimated are marked with lighter bands and a note in the title."""
    df = timeline[(timeline["episode_id"] == episode_id) & (timeline["kind"] == kind)]
    if names:
        df = df[df["name"].isin(names)]
    order = list(names) if names else sorted(df["name"].unique())
    colors = colors or name_colors(order)
    top = max(0.5, float(df["smoothed"].max()) + 0.08) if len(df) else 1.0
    fig = go.Figure()
    for name in [n for n in order if n in set(df["name"])]:
        g = df[df["name"] == name]
        fig.add_trace(go.Scatter(x=g["minute"], y=g["smoothed"], mode="lines", name=name,
                                 line={"color": colors.get(name, QUALITATIVE[0]), "width": 2},
                                 customdata=g[["share", "words"]].to_numpy(),
                                 hovertemplate=f"{name}<br>minute %{{x:.0f}}: %{{y:.0%}} smoothed"
                                               "<br>(%{customdata[0]:.0%} in this bin)<extra></extra>"))
    estimated = bool(df["estimated"].any()) if len(df) else False
    if turns is not None:
        t = turns[turns["episode_id"] == episode_id]
        for role in [r for r in ROLE_ORDER if r in set(t["role"])]:
            rows = t[t["role"] == role]
            fig.add_trace(go.Bar(x=(rows["end_s"] - rows["start_s"]) / 60, base=rows["start_s"] / 60,
                                 y=[-0.05] * len(rows), width=0.05, orientation="h", name=f"speaking: {role}",
                                 marker={"color": ROLE_COLORS[role], "opacity": 0.4 if estimated else 0.85},
                                 customdata=rows[["speaker"]].fillna("unknown").to_numpy(),
                                 legendgroup="speakers", hovertemplate="%{customdata[0]} (" + role + ")<extra></extra>"))
    if chapters is not None and len(chapters):
        ch = chapters[(chapters["episode_id"] == episode_id) & chapters["start_s"].notna()].sort_values("start_s")
        for r in ch.itertuples():
            fig.add_vline(x=r.start_s / 60, line={"color": "#b0b0b0", "dash": "dot", "width": 1})
        if len(ch):
            minutes = (ch["start_s"] / 60).tolist()
            fig.add_trace(go.Scatter(x=minutes, y=[top - 0.02] * len(ch), mode="markers+text",
                                     text=chapter_labels(minutes, max(minutes[-1], float(df["minute"].max()) if len(df) else 0)),
                                     textposition="top center",
                                     marker={"symbol": "triangle-down", "color": "#888", "size": 8},
                                     customdata=[[i, t] for i, t in enumerate(ch["title"].fillna("").astype(str), 1)],
                                     name="chapter starts",
                                     hovertemplate="chapter %{customdata[0]} at minute %{x:.0f}: %{customdata[1]}"
                                                   "<extra></extra>"))
    what = "Themes" if kind == "theme" else "Topics"
    note = tags_note() if kind == "theme" else "labels made by the topic model"
    sub = note + ("; times are estimated (the transcript has none), so the bands are drawn lighter" if estimated else "")
    fig.update_layout(title=f"{title or what + ' along ' + episode_id}<br><sup>{sub}</sup>", xaxis_title="minute",
                      yaxis_title="share of the bin's words (smoothed)", yaxis_tickformat=".0%",
                      yaxis_range=[-0.1, top + 0.05], barmode="overlay", legend_title=None, height=460)
    if df.empty:
        fig.add_annotation(text="no passage of this episode has a start time", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


def themes_across_episodes(per_episode: pd.DataFrame, names: dict[str, str] | None = None) -> go.Figure:
    """Heatmap: share of each episode's passage words per theme, episodes in publication order
    (labelled 'YYYY-MM show', or 'YYYY-MM name' with ``names``: episode_id -> display name)."""
    df = per_episode.sort_values(["published", "episode_id"], kind="stable")
    labels = _episode_labels(df, names)
    order = list(dict.fromkeys(df["episode_id"]))
    grid = df.pivot_table(index="theme", columns="episode_id", values="share", sort=False).reindex(columns=order)
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=[_short(labels[e]) for e in order],
                               y=[_wrap(t, 18) for t in grid.index], colorscale="Blues", zmin=0,
                               customdata=[[labels[e] for e in order]] * len(grid),
                               hovertemplate="%{customdata}<br>%{y}: %{z:.0%} of the passage words<extra></extra>",
                               colorbar={"title": "share", "tickformat": ".0%", "thickness": 10}))
    fig.update_layout(title=f"Themes per episode, in publication order<br><sup>{tags_note()}; "
                            "a passage may carry several themes</sup>",
                      height=max(350, 36 * len(grid) + 160), yaxis_autorange="reversed", margin={"l": 10})
    return cell_values(fig, len(order))


def themes_of_person(per_speaker: pd.DataFrame, speaker_id: str, names: dict[str, str] | None = None,
                     n: int = 8) -> go.Figure:
    """Grouped bars: share of one person's passage words per theme in each of their episodes
    (the ``n`` themes with the highest share in any of them; episodes in publication order)."""
    df = per_speaker[per_speaker["speaker_id"] == speaker_id].copy()
    labels = _episode_labels(df.sort_values(["published", "episode_id"], kind="stable"), names)
    df["episode"] = df["episode_id"].map(labels)
    themes = df.groupby("theme")["share"].max().sort_values(ascending=False).head(n).index.tolist()
    df = df[df["theme"].isin(themes)]
    name = df["speaker"].iloc[0] if len(df) else speaker_id
    if len(labels) > 6:  # many episodes: a grid, themes down, episodes across (grouped bars would be metres tall)
        grid = df.pivot_table(index="theme", columns="episode", values="share", fill_value=0.0)
        grid = grid.reindex(index=themes, columns=[lab for lab in labels.values() if lab in grid.columns])
        fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=[_short(c) for c in grid.columns],
                                   y=[_wrap(t, 18) for t in grid.index], colorscale="Blues", zmin=0,
                                   customdata=[list(grid.columns)] * len(grid),
                                   hovertemplate="%{customdata}<br>%{y}: %{z:.0%} of their passage words<extra></extra>",
                                   colorbar={"title": "share", "tickformat": ".0%", "thickness": 10}))
        fig.update_layout(title=f"What {name} talks about, per episode<br><sup>{tags_note()}</sup>",
                          height=max(350, 36 * len(grid) + 200), yaxis_autorange="reversed")
        return cell_values(fig, len(grid.columns))
    fig = go.Figure()
    for k, episode in enumerate(lab for lab in labels.values() if lab in set(df["episode"])):
        g = df[df["episode"] == episode]
        fig.add_bar(x=g["share"], y=[_wrap(t, 20) for t in g["theme"]], orientation="h", name=episode,
                    marker_color=QUALITATIVE[k % len(QUALITATIVE)], customdata=g[["passages"]].to_numpy(),
                    hovertemplate=f"{episode}<br>%{{y}}: %{{x:.0%}} of their passage words "
                                  "(%{customdata[0]} passages)<extra></extra>")
    fig.update_layout(title=f"What {name} talks about, per episode<br><sup>{tags_note()}</sup>", barmode="group",
                      xaxis_tickformat=".0%", xaxis_title="share of their passage words", showlegend=True,
                      yaxis={"title": None, "categoryorder": "array", "categoryarray": [_wrap(t, 20) for t in themes],
                             "autorange": "reversed"},
                      height=max(400, 22 * len(themes) * max(1, len(labels)) + 150), legend_title="episode")
    return fig


def top_entities(per_episode: pd.DataFrame, n: int = 15) -> go.Figure:
    """Horizontal stacked bars: the ``n`` most mentioned entities, mentions per episode."""
    totals = per_episode.groupby("entity")["mentions"].sum().sort_values(ascending=False).head(n)
    df = per_episode[per_episode["entity"].isin(totals.index)]
    if df["episode_id"].nunique() > LEGEND_MAX_EPISODES:  # one bar per entity, not one colour per episode
        df = df.groupby(["entity", "label"], as_index=False).agg(mentions=("mentions", "sum"),
                                                                 episodes=("episode_id", "nunique"))
        key, legend, what = "label", "type", "%{customdata[0]} episodes"
        df = df.assign(_what=df["episodes"])
    else:
        key, legend, what = "episode_id", "episode", "%{customdata[0]}"
        df = df.assign(_what=df["label"].astype(str).str.title())
    fig = go.Figure()
    for k, value in enumerate(dict.fromkeys(df[key])):
        g = df[df[key] == value]
        fig.add_bar(x=g["mentions"], y=g["entity"], orientation="h", name=str(value),
                    marker_color=QUALITATIVE[k % len(QUALITATIVE)], customdata=g[["_what"]].to_numpy(),
                    hovertemplate=f"%{{y}}: %{{x}} mentions in {value} ({what})<extra></extra>"
                    if key == "episode_id" else f"%{{y}} ({value}): %{{x}} mentions in {what}<extra></extra>")
    fig.update_layout(title=f"Most mentioned entities<br><sup>{ENTITY_NOTE}</sup>", barmode="stack", showlegend=True,
                      yaxis={"title": None, "categoryorder": "array", "categoryarray": totals.index.tolist(),
                             "autorange": "reversed"}, xaxis_title="mentions",
                      legend_title=legend, height=max(350, 26 * n + 150))
    return fig


def entity_timeline(timeline: pd.DataFrame, episode_id: str, n: int = 10, name: str | None = None) -> go.Figure:
    """Dots: mentions of the episode's ``n`` most mentioned entities per time bin (size = mentions;
    hollow when the bin's times are estimated); ``name`` is the episode's name for the title."""
    df = timeline[timeline["episode_id"] == episode_id]
    top = df.groupby("entity")["mentions"].sum().sort_values(ascending=False).head(n).index.tolist()
    df = df[df["entity"].isin(top)]
    fig = go.Figure(go.Scatter(x=df["minute"], y=df["entity"], mode="markers",
                               marker={"size": 6 + 4 * df["mentions"], "color": "#3366cc",
                                       "symbol": ["circle-open" if e else "circle" for e in df["estimated"]]},
                               customdata=df[["mentions"]].to_numpy(),
                               hovertemplate="%{y}: %{customdata[0]} mention(s) from minute %{x:.0f}<extra></extra>"))
    est = bool(df["estimated"].any())
    fig.update_layout(title=f"Entities along {name or episode_id}<br><sup>{ENTITY_NOTE}"
                            + ("; hollow: estimated times" if est else "") + "</sup>",
                      xaxis_title="minute", yaxis={"categoryorder": "array", "categoryarray": top[::-1]},
                      height=max(300, 30 * len(top) + 150))
    return fig
