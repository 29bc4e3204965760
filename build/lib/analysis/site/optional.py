"""Sections and pages that appear only when optional tables exist; each hook returns nothing
when its tables are absent, so the site builds the same without them.

- themes (``theme_*.parquet``, ``entity_*.parquet``): a Themes page and a section per episode.
  Charts come from ``analysis.figures.themes.site_figures(tables, episode_id=None)`` when that
  function exists (a list of Plotly figures; ``episode_id`` selects one episode); the tables are
  shown as sortable tables either way.
- language-model output (``llm_topic_labels.parquet``, ``llm_summaries.parquet``): shown beside
  the offline results and marked "model-made by <model>".
"""
from __future__ import annotations

import importlib

import pandas as pd

from ..figures.export import to_html
from .data import SiteData, transcript_page
from .format import clock, esc, interactive_table, link, missing
from .pages import Page, raw, rel, utterance_anchor


def _theme_tables(data: SiteData) -> dict[str, pd.DataFrame]:
    return {n: df for n, df in data.tables.items() if n.startswith(("theme_", "entity_"))}


def _theme_figures(data: SiteData, episode_id: str | None) -> list:
    try:
        module = importlib.import_module("analysis.figures.themes")
    except ImportError:
        return []
    build = getattr(module, "site_figures", None)
    return list(build(data.tables, episode_id=episode_id)) if build else []


def _generic_table(df: pd.DataFrame) -> str:
    """Any table for readers: headers in words, seconds as clocks, shares as percentages."""
    kinds, cols = {}, {}
    for c in df.columns:
        if c.endswith(("_id", "_index")) and c != "episode_id":
            continue
        cols[c] = c.replace("_s", "").replace("_", " ").capitalize() if c.endswith("_s") else c.replace("_", " ").capitalize()
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
            kinds[c] = "clock" if c.endswith("_s") else "pct" if "share" in c else "num1" if pd.api.types.is_float_dtype(df[c]) else "int"
    return interactive_table(df, cols, kinds)


def themes_page(data: SiteData) -> Page | None:
    tables = _theme_tables(data)
    if not tables:
        return None
    body = raw("<p>Themes and named entities found in the conversations, along each episode and across episodes. "
               "Theme labels are made by a model unless the methods say otherwise.</p>")
    body += "".join(raw(to_html(f)) for f in _theme_figures(data, None))
    for name, df in tables.items():
        shown = data.with_names(df) if "episode_id" in df else df
        body += f"## {name.replace('_', ' ').capitalize()}\n\n" + raw(_generic_table(shown))
    return Page("themes.qmd", "Themes", body, subtitle="Themes and entities across the conversations")


def episode_themes(data: SiteData, episode_id: str, page: str) -> str:
    tables = {n: df[df["episode_id"] == episode_id] for n, df in _theme_tables(data).items() if "episode_id" in df}
    tables = {n: df for n, df in tables.items() if len(df)}
    figs = _theme_figures(data, episode_id) if _theme_tables(data) else []
    if not tables and not figs:
        return ""
    body = "## Themes\n\n" + "".join(raw(to_html(f)) for f in figs)
    for name, df in tables.items():
        body += raw(f"<p><strong>{esc(name.replace('_', ' ').capitalize())}</strong></p>"
                    + _generic_table(df.drop(columns="episode_id")))
    return body


def llm_topic_labels(data: SiteData) -> pd.DataFrame | None:
    """topic_id, label, description, model (a language model's labels), or None."""
    if not data.has("llm_topic_labels"):
        return None
    return data["llm_topic_labels"][["topic_id", "label", "description", "model"]]


def episode_summary(data: SiteData, episode_id: str, page: str) -> str:
    """The language model's episode and chapter summaries, marked as model-made."""
    rows = data.rows("llm_summaries", episode_id)
    if rows.empty:
        return ""
    models = ", ".join(sorted(rows["model"].astype(str).unique()))
    utt = data.rows("utterances", episode_id)
    html = f'<div class="model-made"><p class="muted">Model-made by {esc(models)}; check it against the transcript.</p>'
    for r in rows.sort_values(["section", "chapter_index"], ascending=[False, True]).itertuples():
        head = ""
        if r.section == "chapter":
            at = utt[utt["start_s"] >= r.start_s - 0.5].head(1) if not missing(r.start_s) else utt.head(0)
            when = clock(r.start_s) if not missing(r.start_s) else ""
            target = rel(page, transcript_page(episode_id), utterance_anchor(at["order"].iloc[0])) if len(at) else None
            head = f"<strong>{esc(r.title)}</strong> {link(target, when)} "
        cites = f' <span class="muted">(cites: {esc(r.citations)})</span>' if not missing(r.citations) and str(r.citations) else ""
        html += f"<p>{head}{esc(r.text)}{cites}</p>"
    return "## Summary written by a language model\n\n" + raw(html + "</div>")


EPISODE_SECTIONS = (episode_summary, episode_themes)
EXTRA_PAGES = (themes_page,)
