"""Figures and reader tables of the topic model (tables from ``analysis.topics`` in, go.Figure or
HTML out); every title says that topic labels are made by the model."""
from __future__ import annotations

import textwrap
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from .findings import two_lines
from .format import DASH, Html, esc, interactive_table, missing, number, pct, quote_html, table
from .palette import cell_values, label_colors, label_order

MODEL_MADE = "labels made by the topic model"
LABEL_WIDTH = 18  # characters per line of a topic label beside a bar (room for the bars on a phone)
LINE_PX = 15  # height of one line of axis label text


def _wrap(text, width: int = 80, lines: int = 4) -> str:
    if pd.isna(text):
        return ""
    return "<br>".join(textwrap.wrap(str(text), width)[:lines]) + "…"


def wrapped(label, width: int = LABEL_WIDTH) -> list[str]:
    """A label as lines of at most ``width`` characters."""
    return textwrap.wrap(str(label), width) or [str(label)]


def topic_overview(topics: pd.DataFrame, names: dict[str, str] | None = None) -> go.Figure:
    """Horizontal bars: passages per topic (table ``topics``), each bar as tall as its label's
    lines; hover shows keywords and the representative quote with its speaker, episode
    (``names``: episode id -> name) and time."""
    df = topics.sort_values("passages")
    names = names or {}
    hover = [f"<b>{r.label}</b><br>keywords: {r.keywords.replace(';', ', ')}<br>"
             f"{r.passages} passages ({r.share:.0%} of all), in {r.episodes} episode{'s' if r.episodes != 1 else ''}<br>"
             f"quote ({r.quote_speaker if pd.notna(r.quote_speaker) else 'unknown speaker'}, "
             f"{names.get(r.quote_episode_id, r.quote_episode_id)}"
             f"{'' if pd.isna(r.quote_start_s) else f', minute {int(r.quote_start_s) // 60}'}):"
             f"<br>{_wrap(r.quote_text)}" for r in df.itertuples()]
    colors = label_colors(topics)
    lines = [wrapped(lab) for lab in df["label"]]
    fig = go.Figure(go.Bar(x=df["passages"], y=["<br>".join(w) for w in lines], orientation="h", hovertext=hover,
                           hoverinfo="text", marker_color=[colors[lab] for lab in df["label"]]))
    fig.update_layout(title=f"Topics in the corpus ({MODEL_MADE})", xaxis_title="passages", bargap=0.25,
                      yaxis_title=None, height=90 + sum(max(2, len(w)) * LINE_PX + 10 for w in lines),
                      margin={"l": 10})
    return fig


def topics_per_episode(per_episode: pd.DataFrame, topics: pd.DataFrame) -> go.Figure:
    """Stacked bars: share of each episode's words per topic, oldest episode at the bottom
    (``per_episode`` with episode names in episode_id)."""
    order = (per_episode.drop_duplicates("episode_id").sort_values(["published", "episode_id"])
             ["episode_id"].tolist())
    colors = label_colors(topics)
    fig = go.Figure()
    for label in [lab for lab in label_order(topics) if lab in set(per_episode["label"])]:
        g = per_episode[per_episode["label"] == label]
        fig.add_bar(x=g["share"], y=[two_lines(e) for e in g["episode_id"]], orientation="h", name=label,
                    marker_color=colors.get(label), customdata=g[["passages"]].to_numpy(),
                    hovertemplate=f"{label}: %{{x:.0%}} of the episode's words (%{{customdata[0]}} passages)"
                                  "<extra></extra>")
    fig.update_layout(barmode="stack", title=f"Topics per episode, oldest at the bottom ({MODEL_MADE})",
                      xaxis_title="share of the episode's words", xaxis_tickformat=".0%", xaxis_range=[0, 1],
                      yaxis={"title": None, "categoryorder": "array", "categoryarray": [two_lines(e) for e in order]},
                      legend_title="topic", height=max(260, 120 + 44 * len(order)))
    return fig


def topics_per_speaker(per_speaker: pd.DataFrame, min_words: int = 300) -> go.Figure:
    """Heatmap: share of each speaker's words per topic, over all their episodes (speakers
    with at least ``min_words`` words), the share printed on each cell."""
    df = per_speaker.groupby(["speaker", "label", "topic_id"], as_index=False)["words"].sum()
    totals = df.groupby("speaker")["words"].transform("sum")
    df = df[totals >= min_words].assign(share=lambda d: d["words"] / d.groupby("speaker")["words"].transform("sum"))
    grid = df.pivot_table(index="speaker", columns="label", values="share", fill_value=0.0)
    labels = df.drop_duplicates("label").sort_values("topic_id")["label"].tolist()
    grid = grid.reindex(columns=labels)
    # topics down the side (labels stay horizontal and readable), speakers across on two lines
    fig = go.Figure(go.Heatmap(z=grid.T.to_numpy(), x=list(grid.index),
                               y=["<br>".join(wrapped(t, 20)) for t in grid.columns], colorscale="Blues", zmin=0,
                               customdata=[[s] * len(grid.index) for s in grid.columns],
                               hovertemplate="%{x}: %{z:.0%} of their words on %{customdata}<extra></extra>",
                               colorbar={"title": "share", "tickformat": ".0%", "thickness": 10}))
    fig.update_layout(title=f"Topics per speaker, share of their words ({MODEL_MADE})", yaxis={"autorange": "reversed"},
                      height=200 + sum(max(2, len(wrapped(t, 20))) * LINE_PX + 6 for t in grid.columns))
    return cell_values(fig, len(grid.index), size=9)


def topic_timeline(over_time: pd.DataFrame, episode_id: str, topics: pd.DataFrame, time_note: str = "",
                   bin_min: int = 5, name: str | None = None) -> go.Figure:
    """Stacked bars over an episode's ``bin_min``-minute bins: share of each bin's words per
    topic. ``time_note`` (e.g. "Times are estimated.") is shown under the title, which names
    the episode ``name`` (default its id)."""
    df = over_time[over_time["episode_id"] == episode_id]
    colors = label_colors(topics)
    fig = go.Figure()
    for label in [lab for lab in label_order(topics) if lab in set(df["label"])]:
        g = df[df["label"] == label]
        fig.add_bar(x=g["minute"], y=g["share"], name=label, marker_color=colors.get(label),
                    customdata=g[["passages"]].assign(end=g["minute"] + bin_min).to_numpy(),
                    hovertemplate=f"{label}<br>minutes %{{x}}–%{{customdata[1]}}: %{{y:.0%}} of the words "
                                  "(%{customdata[0]} passages)<extra></extra>")
    title = f"Topics over time in {name or episode_id} ({MODEL_MADE})" + (f"<br><sup>{time_note}</sup>" if time_note else "")
    fig.update_layout(title=title, barmode="stack", xaxis_title=f"minute ({bin_min}-minute bins)",
                      yaxis_title="share of the bin's words", yaxis_tickformat=".0%", legend_title="topic", bargap=0.05)
    if df.empty:
        fig.add_annotation(text="no passage of this episode has a start time", showarrow=False,
                           xref="paper", yref="paper", x=0.5, y=0.5)
    return fig


def topic_table(topics: pd.DataFrame, names: dict[str, str], video_ids: dict[str, str],
                quote_href: Callable[[str, str], str | None] | None = None,
                llm_labels: pd.DataFrame | None = None) -> Html:
    """Every topic (table ``topics``) with its keywords, share and representative quote,
    sortable; ``quote_href`` (episode id, passage id -> link) links each quote to its line,
    ``llm_labels`` (topic_id, label, description, model) adds a language model's labels."""
    rows = topics.sort_values("passages", ascending=False)
    cols = {"label": "Topic (model-made label)"}
    if llm_labels is not None and len(llm_labels):
        rows = rows.merge(llm_labels, on="topic_id", how="left", suffixes=("", "_llm"))
        rows["llm"] = [Html(f"{esc(lab)}<br><span class=\"muted\">{esc(d)} (model-made by {esc(m)})</span>")
                       if not missing(lab) else DASH for lab, d, m in zip(rows["label_llm"], rows["description"], rows["model"])]
        cols["llm"] = "Label and description written by a language model"
    rows["kw"] = rows["keywords"].str.replace(";", ", ")
    rows["quote"] = [Html(quote_html(r.quote_text, r.quote_speaker, r.quote_start_s, r.quote_time_source,
                                     video_ids.get(r.quote_episode_id),
                                     quote_href(r.quote_episode_id, r.quote_passage_id) if quote_href else None,
                                     names.get(r.quote_episode_id, r.quote_episode_id)))
                     if not missing(r.quote_text) else DASH for r in rows.itertuples()]
    return interactive_table(rows, {
        **cols, "kw": "Keywords", "share": "Share of passages", "episodes": "Episodes",
        "quote": "Representative quote"}, {"share": "pct", "episodes": "int"}, page_length=10)


def evaluation_tables(tev: dict) -> Html:
    """The topic-model evaluation (topic_evaluation.json) as tables."""
    out = []
    ours, default = tev["ours"], tev["default"]
    metrics = [("n_topics", "Topics", number), ("npmi", "NPMI coherence", lambda v: f"{v:.3f}"),
               ("npmi_neutral", "NPMI, neutral vocabulary", lambda v: f"{v:.3f}"),
               ("diversity", "Keyword diversity", lambda v: f"{v:.3f}"), ("outlier_share", "Outlier passages", pct),
               ("labels_with_fillers", "Labels with filler words", number)]
    rows = pd.DataFrame([{"m": label, "ours": f(ours[k]), "default": f(default[k])}
                         for k, label, f in metrics if k in ours and k in default])
    out.append(table(rows, {"m": "Measure", "ours": "podlens", "default": "Default BERTopic"},
                     numeric=("ours", "default"), caption=f"Topic model evaluation on {tev.get('passages', '–')} passages"))
    stab = [{"m": {"stability_same_seed": "Same seed, refitted", "stability_next_seed": "Next seed"}.get(k, k),
             "ari": f"{tev[k]['ari']:.3f}", "same": pct(tev[k]["identical_share"], 1)}
            for k in ("stability_same_seed", "stability_next_seed") if k in tev]
    if stab:
        out.append(table(pd.DataFrame(stab), {"m": "Run", "ari": "Adjusted Rand index", "same": "Passages with the same topic"},
                         numeric=("ari", "same"), caption="Stability"))
    if tev.get("checks"):
        out.append(table(pd.DataFrame([{"c": k.replace("_", " "), "r": "passed" if ok else "failed"}
                                       for k, ok in tev["checks"].items()]),
                         {"c": "Acceptance check", "r": "Result"}, caption="Acceptance checks"))
    return Html("".join(out))
