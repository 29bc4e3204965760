"""Small charts for the site's headline findings (episode names, not slugs, on the axes)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .palette import QUALITATIVE, ROLE_COLORS, ROLE_ORDER

ROW_PX = 42  # per bar: room for a name on two lines


def two_lines(name: str) -> str:
    """An episode name on two lines ('Show:' / 'Guest'), so the plot keeps its width on a phone."""
    return str(name).replace(": ", ":<br>", 1)


def _bars(y: list[str], x: list[float], color: str, fmt: str, title: str, xtitle: str, tickformat: str = "") -> go.Figure:
    fig = go.Figure(go.Bar(x=x, y=y, orientation="h", marker_color=color, texttemplate=fmt, textposition="auto",
                           hovertemplate="%{y}: " + fmt.replace("%{x", "%{x") + "<extra></extra>"))
    fig.update_layout(title=title, height=70 + ROW_PX * len(y), xaxis={"title": xtitle, "tickformat": tickformat},
                      showlegend=False,
                      yaxis={"autorange": "reversed"})
    return fig


def role_shares(talktime_roles: pd.DataFrame, names: dict[str, str]) -> go.Figure:
    """Stacked bars: each role's share of talk time per episode (``names``: episode id -> name)."""
    fig = go.Figure()
    order = [two_lines(names.get(e, e)) for e in talktime_roles.sort_values("episode_id")["episode_id"].unique()]
    for role in ROLE_ORDER:
        rows = talktime_roles[talktime_roles["role"] == role]
        if rows.empty:
            continue
        fig.add_bar(y=[two_lines(names.get(e, e)) for e in rows["episode_id"]], x=rows["talk_share"], orientation="h",
                    name=role, marker_color=ROLE_COLORS[role], texttemplate="%{x:.0%}", textposition="inside",
                    hovertemplate=role + " in %{y}: %{x:.1%} of the talk time<extra></extra>")
    fig.update_layout(barmode="stack", title="Share of talk time by role", height=110 + ROW_PX * len(order),
                      uniformtext={"minsize": 9, "mode": "hide"},
                      xaxis={"tickformat": ".0%", "range": [0, 1], "title": None},
                      yaxis={"categoryorder": "array", "categoryarray": order[::-1]})
    return fig


def per_episode(values: pd.Series, names: dict[str, str], title: str, fmt: str, xtitle: str,
                color: str = QUALITATIVE[0], tickformat: str = "") -> go.Figure:
    """Horizontal bars of one value per episode (``values`` indexed by episode id), largest first."""
    values = values.sort_values(ascending=False)
    return _bars([two_lines(names.get(e, e)) for e in values.index], values.tolist(), color, fmt, title, xtitle, tickformat)


def person_shares(speakers: pd.DataFrame, person_ids: list[str], names: dict[str, str]) -> go.Figure:
    """Grouped bars: the talk share of each person in ``person_ids`` in each of their episodes."""
    fig = go.Figure()
    for i, pid in enumerate(person_ids):
        rows = speakers[speakers["speaker_id"] == pid]
        fig.add_bar(y=[two_lines(names.get(e, e)) for e in rows["episode_id"]], x=rows["talk_share"], orientation="h",
                    name=str(rows["speaker"].iloc[0]), marker_color=QUALITATIVE[i % len(QUALITATIVE)],
                    texttemplate="%{x:.0%}",
                    hovertemplate=f"{rows['speaker'].iloc[0]} in %{{y}}: %{{x:.1%}} of the talk time<extra></extra>")
    n = speakers["speaker_id"].isin(person_ids).sum()
    fig.update_layout(barmode="group", title="Talk share of people heard in several episodes",
                      height=110 + ROW_PX * n, xaxis={"tickformat": ".0%", "range": [0, 1], "title": None})
    return fig
