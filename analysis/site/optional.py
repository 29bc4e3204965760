"""Sections and pages that appear only when optional tables exist; each hook returns nothing
when its tables are absent, so the site builds the same without them.

- themes and entities (``themes_per_episode`` and the other theme and entity tables): the
  Themes page and a Themes section per episode, from :mod:`analysis.site.themes`.
- language-model output (``llm_topic_labels.parquet``, ``llm_summaries.parquet``): shown beside
  the offline results and marked "model-made by <model>".
"""
from __future__ import annotations

import pandas as pd

from ..figures.format import clock, esc, link, missing
from .data import SiteData, transcript_page
from .pages import raw, rel, utterance_anchor
from .themes import episode_themes, themes_page


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
