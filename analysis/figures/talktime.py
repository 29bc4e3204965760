"""Talk-time figures (talk share per episode, turn lengths, balance timeline) from the
``talktime_*`` and ``balance_timeline`` tables; titles and captions say when speakers are
model-inferred or times estimated, with the accuracy measured on that episode or, where it has
no reference, "not measured here" and the method's figure on the reference episodes."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from .palette import LEGEND_MAX_EPISODES, ROLE_COLORS

METHOD_WORDS = {"anchor_interpolated": "between anchors", "rate_estimated": "from speaking rate", "file": "from the file",
                "file_label": "named in the file", "catalog_correction": "catalog correction", "model": "text model",
                "reference": "hand-made reference", "rule": "rule", "introduction": "introduction", "none": "none"}


def _words(mix: str) -> str:
    """A method mix ('anchor_interpolated 99%, rate_estimated 1%') in words."""
    return ", ".join(" ".join([METHOD_WORDS.get(p.rpartition(" ")[0], p.rpartition(" ")[0]), p.rpartition(" ")[2]])
                     for p in str(mix).split(", "))


def share_label(row: pd.Series, kind: str = "talk", name: str | None = None) -> str:
    """'Lenny Rachitsky 17% (14-20%)': a speaker's (or role's) expected share of talk time
    (``kind`` 'talk') or words ('word') with its interval; the interval is left out where it is
    a single value (no speaker relies on the model). ``name`` overrides the row's speaker or role."""
    who = name if name is not None else row.get("speaker", row.get("role", ""))
    mid, lo, hi = (row[f"{kind}_share_{p}"] for p in ("expected", "low", "high"))
    lo_pc, hi_pc = round(lo * 100), round(hi * 100)
    interval = f" ({lo_pc}-{hi_pc}%)" if (lo_pc, hi_pc) != (round(mid * 100),) * 2 else ""
    return f"{who} {mid:.0%}{interval}".strip()


def method_note(rows: pd.DataFrame) -> str:
    """Caption text for the rows' methods: which episodes rely on model-inferred speakers
    (with the accuracy measured on that episode, or 'not measured here' and the method's
    figure on the reference episodes) or estimated times; '' when all come from the files."""
    notes = []
    model = rows[rows["attribution_method"].str.contains("model", na=False)]
    for ep, g in model.groupby("episode_id", sort=True):
        note = g["attribution_accuracy_note"].iloc[0] if "attribution_accuracy_note" in g else ""
        notes.append(f"{ep}: speakers inferred by a text model ({_words(g['attribution_method'].iloc[0])}"
                     + (f"; accuracy: {note}" if note else "") + ")")
    if "talk_share_low" in rows and (rows["talk_share_low"] < rows["talk_share_high"]).any():
        notes.append("shares: expected over the model's posterior, 90% interval widened by its measured error")
    estimated = rows[~rows["time_method"].str.fullmatch(r"file 100%", na=False)]
    for ep, g in estimated.groupby("episode_id", sort=True):
        notes.append(f"{ep}: times estimated ({_words(g['time_method'].iloc[0])})")
    return "<br>".join(notes)


def _caption(fig: go.Figure, text: str) -> go.Figure:
    if text:
        fig.add_annotation(text=text, xref="paper", yref="paper", x=0, y=-0.2, showarrow=False,
                           align="left", xanchor="left", yanchor="top", font={"size": 10})
        fig.update_layout(margin={"b": 60 + 16 * (text.count("<br>") + 1)})
    return fig


def _flag(rows: pd.DataFrame) -> str:
    model = rows["attribution_method"].str.contains("model", na=False).any()
    estimated = (~rows["time_method"].str.fullmatch(r"file 100%", na=False)).any()
    parts = (["some speakers model-inferred"] if model else []) + (["some times estimated"] if estimated else [])
    return f" ({'; '.join(parts)})" if parts else ""


def talk_share(speakers: pd.DataFrame) -> go.Figure:
    """Stacked bars: each speaker's expected share of talk time, one bar per episode, labelled
    with its interval (:func:`share_label`)."""
    fig = go.Figure()
    for _, r in speakers.sort_values(["role", "speaker"], ascending=[False, True]).iterrows():
        fig.add_bar(x=[r["talk_share_expected"]], y=[r["episode_id"]], orientation="h",
                    name=f"{r['speaker']} ({r['role']})", marker_color=ROLE_COLORS.get(r["role"]), text=share_label(r),
                    hovertemplate=f"{share_label(r)} of talk time<extra></extra>")
    fig.update_layout(barmode="stack", title="Share of talk time per episode" + _flag(speakers),
                      xaxis={"title": "share of talk time", "tickformat": ".0%", "range": [0, 1]}, showlegend=False)
    return _caption(fig, method_note(speakers))


def turn_lengths(turns: pd.DataFrame, episodes: pd.DataFrame) -> go.Figure:
    """Box plots of turn length (seconds) per episode and role."""
    fig = go.Figure()
    for role in ("host", "guest"):
        t = turns[turns["role"] == role]
        fig.add_box(x=t["episode_id"], y=t["duration_s"], name=role, marker_color=ROLE_COLORS[role], boxpoints="outliers")
    fig.update_layout(boxmode="group", title="Turn length by episode and role" + _flag(episodes),
                      yaxis={"title": "turn length (s)", "type": "log"})
    return _caption(fig, method_note(episodes))


def balance(timeline: pd.DataFrame, episodes: pd.DataFrame) -> go.Figure:
    """Guest share of talk in sliding windows, one line per episode, labelled with its balance summary."""
    fig = go.Figure()
    labels = episodes.set_index("episode_id")["balance_label"]
    many = timeline["episode_id"].nunique() > LEGEND_MAX_EPISODES  # then thin grey lines and their median
    for ep, g in timeline.groupby("episode_id", sort=True):
        fig.add_scatter(x=g["window_start_s"] / 60, y=g["guest_share"], mode="lines",
                        name=f"{ep} ({labels.get(ep, '')})",
                        **({"line": {"color": "rgba(120,120,120,0.25)", "width": 1}, "showlegend": False,
                            "hovertemplate": f"{ep}: %{{y:.0%}} at minute %{{x:.0f}}<extra></extra>"} if many else {}))
    if many:
        median = timeline.groupby("window_start_s")["guest_share"].median()
        fig.add_scatter(x=median.index / 60, y=median.to_numpy(), mode="lines", line={"color": ROLE_COLORS["guest"], "width": 3},
                        name=f"median of {timeline['episode_id'].nunique()} episodes (grey: each episode)")
    fig.add_hline(y=0.5, line_dash="dot", line_color="#999999")
    fig.update_layout(title="Guest share of talk, 2.5-minute windows" + _flag(episodes),
                      legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
                      xaxis={"title": "minutes from start"}, yaxis={"title": "guest share", "tickformat": ".0%",
                                                                    "range": [0, 1]})
    return _caption(fig, method_note(episodes))
