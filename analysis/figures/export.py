"""Figures as web page fragments: plain HTML that draws with the site's single copy of
plotly.js (no inlined library, no MathJax, no require.js), sized to the page at any width.

The title and any caption under the plot become HTML text around the chart, so they wrap on
a phone instead of being clipped or covered by the legend; the legend goes under the plot."""
from __future__ import annotations

import html
import re

import plotly.graph_objects as go
import plotly.io as pio

from ..io import content_hash

PLOT_CONFIG = {"displayModeBar": False, "responsive": True}
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif'
_TAG = re.compile(r"<[^>]+>")


def _text(plotly_markup: str) -> list[str]:
    """Plotly title/annotation markup as escaped plain lines (``<br>`` splits lines)."""
    parts = re.split(r"<br\s*/?>", plotly_markup or "")
    return [html.escape(_TAG.sub("", p).strip()) for p in parts if _TAG.sub("", p).strip()]


def to_html(fig: go.Figure, height: int | None = None) -> str:
    """``fig`` as an HTML fragment: title above, the chart, captions below (all escaped)."""
    fig = go.Figure(fig)  # a copy: the caller's figure keeps its title and captions
    title = _text(fig.layout.title.text or "")
    captions = [a for a in fig.layout.annotations if a.yref == "paper" and a.y is not None and a.y < 0]
    notes = [line for a in captions for line in _text(a.text)]
    fig.layout.annotations = [a for a in fig.layout.annotations if a not in captions]
    fig.update_layout(title=None, autosize=True, width=None, font_family=FONT,
                      margin={"t": 20, "l": 10, "r": 10, "b": 10, "autoexpand": True},
                      legend={"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0, "xanchor": "left",
                              "title": {"side": "top"}, "traceorder": "normal"})
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
    return f'<figure class="podlens-figure">{head}{div}{foot}</figure>'


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


def site_outputs(nb) -> int:
    """Keep only the HTML of each Plotly output in an executed notebook (Quarto would pick the
    JSON, which it cannot draw); returns how many outputs were changed."""
    changed = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "application/vnd.plotly.v1+json" in data:
                if "text/html" not in data:
                    data["text/html"] = to_html(go.Figure(data["application/vnd.plotly.v1+json"]))
                for key in [k for k in data if k != "text/html"]:
                    del data[key]
                changed += 1
    return changed
