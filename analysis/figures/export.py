"""Figures as web page fragments: plain HTML that draws with the site's single copy of
plotly.js (no inlined library, no MathJax, no require.js), sized to the page at any width.

The title, the legend and any caption under the plot become HTML around the chart, so they wrap
on a phone instead of being clipped, scrolled or drawn over the axes; every trace must say what
it shows on hover (:func:`hover_missing`). Executed notebooks keep each output as a Markdown
raw-HTML block (:func:`site_outputs`): Quarto adds require.js and jQuery from a CDN to any
notebook with an HTML or JavaScript output, and renders a raw block exactly as the HTML."""
from __future__ import annotations

import html
import re

import plotly.graph_objects as go
import plotly.io as pio

from ..io import content_hash

PLOT_CONFIG = {"displayModeBar": False, "responsive": True}
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
_TAG = re.compile(r"<[^>]+>")
HTML_TYPES = ("text/html", "application/javascript")  # output types that make Quarto load require.js


def _text(plotly_markup: str) -> list[str]:
    """Plotly title/annotation markup as escaped plain lines (``<br>`` splits lines)."""
    parts = re.split(r"<br\s*/?>", plotly_markup or "")
    return [html.escape(_TAG.sub("", p).strip()) for p in parts if _TAG.sub("", p).strip()]


def _color(trace) -> str | None:
    for value in (getattr(trace, "line", None) and trace.line.color, getattr(trace, "marker", None) and trace.marker.color,
                  getattr(trace, "fillcolor", None)):
        if isinstance(value, str):
            return value
    return None


def legend_entries(fig: go.Figure) -> list[tuple[str, str, str]]:
    """(name, colour, 'line' or 'box') of each entry Plotly would show in ``fig``'s legend, in
    trace order, each name once; [] where Plotly shows no legend."""
    shown = [t for t in fig.data if t.showlegend is not False and t.name and t.type not in ("heatmap", "pie")]
    if fig.layout.showlegend is False or (fig.layout.showlegend is None and len(shown) < 2):
        return []
    out, seen = [], set()
    for t in shown:
        key = (t.legendgroup, t.name)
        if key in seen:
            continue
        seen.add(key)
        line = t.type == "scatter" and "lines" in (t.mode or "lines") and "markers" not in (t.mode or "")
        out.append((_TAG.sub("", str(t.name)), _color(t) or "#888", "line" if line else "box"))
    return out


def hover_missing(fig: go.Figure) -> list[str]:
    """Names (or types) of traces that would show Plotly's default hover (raw field names,
    unrounded numbers): every trace needs a hovertemplate, or hover text it shows, or no hover."""
    def explained(t) -> bool:
        info = t.hoverinfo if isinstance(t.hoverinfo, str) else ""
        return bool(t.hovertemplate) or info in ("skip", "none") or (info == "text" and t.hovertext is not None)
    return [str(t.name or t.type) for t in fig.data if not explained(t)]


def _legend_html(entries: list[tuple[str, str, str]], title: str) -> str:
    if not entries:
        return ""
    items = "".join(f'<li><span class="key {kind}" style="background:{html.escape(color, quote=True)}"></span>'
                    f"{html.escape(name)}</li>" for name, color, kind in entries)
    head = f'<span class="legend-title">{html.escape(title)}:</span>' if title else ""
    return f'<div class="figure-legend">{head}<ul>{items}</ul></div>'


def to_html(fig: go.Figure, height: int | None = None) -> str:
    """``fig`` as an HTML fragment: title above, the chart, its legend and captions below (all
    escaped); raises ValueError naming a trace without a hover template."""
    missing = hover_missing(fig)
    if missing:
        raise ValueError(f"traces without a hover template: {', '.join(missing)}")
    fig = go.Figure(fig)  # a copy: the caller's figure keeps its title and captions
    title = _text(fig.layout.title.text or "")
    captions = [a for a in fig.layout.annotations if a.yref == "paper" and a.y is not None and a.y < 0]
    notes = [line for a in captions for line in _text(a.text)]
    legend = _legend_html(legend_entries(fig), _TAG.sub("", fig.layout.legend.title.text or ""))
    fig.layout.annotations = [a for a in fig.layout.annotations if a not in captions]
    fig.update_layout(title=None, autosize=True, width=None, font_family=FONT, showlegend=False,
                      margin={"t": 20, "l": 10, "r": 10, "b": 10, "autoexpand": True})
    for axis in ("xaxis", "yaxis"):
        fig.layout[axis].automargin = True
    if height:
        fig.update_layout(height=height)
    # the element id from the figure itself (plotly's default is random): the same figure gives
    # the same page bytes, so unchanged pages are not rewritten or re-rendered
    div = pio.to_html(fig, full_html=False, include_plotlyjs=False, include_mathjax=False,
                      config=PLOT_CONFIG, default_width="100%", validate=False,
                      div_id="fig-" + content_hash(fig.to_json()))
    head = (f'<p class="figure-title"><strong>{title[0]}</strong>'
            + "".join(f"<br><span class=\"figure-sub\">{t}</span>" for t in title[1:]) + "</p>") if title else ""
    foot = f'<p class="figure-note">{"<br>".join(notes)}</p>' if notes else ""
    return f'<figure class="podlens-figure">{head}{div}{legend}{foot}</figure>'


class SiteRenderer(pio.base_renderers.MimetypeRenderer):
    """Notebook renderer for the site: an HTML output (what Quarto keeps) that needs the
    site's plotly.js, plus the Plotly JSON that JupyterLab draws by itself."""

    def to_mimebundle(self, fig_dict):
        return {"text/html": to_html(go.Figure(fig_dict)),
                "application/vnd.plotly.v1+json": pio.base_renderers.PlotlyRenderer().to_mimebundle(fig_dict)[
                    "application/vnd.plotly.v1+json"]}


def use_site_renderer() -> None:
    """Make ``fig.show()`` and a figure as a cell's last value emit :class:`SiteRenderer` output."""
    pio.renderers["podlens"] = SiteRenderer()
    pio.renderers.default = "podlens"


def raw_html_block(fragment: str) -> str:
    """``fragment`` as a Markdown raw-HTML block, fenced with more backticks than it holds."""
    ticks = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", fragment)), default=0))
    return f"{ticks}{{=html}}\n{fragment}\n{ticks}\n"


def block_html(markdown: str) -> str | None:
    """The HTML of a :func:`raw_html_block` (None for other Markdown)."""
    m = re.fullmatch(r"(`{3,})\{=html\}\n(.*)\n\1\n?", markdown, re.DOTALL)
    return m.group(2) if m else None


def site_outputs(nb) -> int:
    """Make an executed notebook's outputs what the site serves: each figure as its HTML (Quarto
    would pick the Plotly JSON, which it cannot draw), then every HTML output as a Markdown
    raw-HTML block and no JavaScript output, so Quarto adds no require.js or jQuery from a CDN
    (it does for any notebook with a text/html or application/javascript output). Returns how
    many outputs were changed."""
    changed = 0
    for cell in (c for c in nb.cells if c.get("cell_type") == "code"):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "application/vnd.plotly.v1+json" in data and "text/html" not in data:
                data["text/html"] = to_html(go.Figure(data["application/vnd.plotly.v1+json"]))
            if not any(k in data for k in (*HTML_TYPES, "application/vnd.plotly.v1+json")):
                continue
            fragment = data.get("text/html", "")
            fragment = "".join(fragment) if isinstance(fragment, list) else fragment
            out["data"] = {"text/markdown": raw_html_block(fragment)} if fragment else {}
            changed += 1
        cell["outputs"] = [o for o in cell.get("outputs", []) if o.get("output_type") not in ("display_data",
                                                                                            "execute_result")
                           or o.get("data")]
    return changed
