"""Values and tables formatted for readers: m:ss / h:mm:ss times ("~" when estimated),
percentages, names instead of slugs, a dash for missing values, and every piece of data
HTML-escaped (transcript text can hold markup; it must show as text)."""
from __future__ import annotations

import html
import json
import math
import re

import pandas as pd

from ..io import content_hash

DASH = "–"
# Below this speaker confidence an inferred speaker name is shown faint.
LOW_CONFIDENCE = 0.6
TIME_SOURCE_WORDS = {"file": "from the file", "anchor_interpolated": "estimated between anchors",
                     "rate_estimated": "estimated from speaking rate", "none": "no time"}
SPEAKER_SOURCE_WORDS = {"file_label": "named in the file", "catalog_correction": "corrected in the catalog",
                        "introduction": "from an introduction", "reference": "hand-made reference",
                        "model": "inferred by a text model", "rule": "inferred by a rule", "none": "unknown"}
FLAG_WORDS = {"nonspeech": "music or sound cue", "hallucination_loop": "ASR loop", "timestamp_regression":
              "time runs backwards", "past_runtime": "past the runtime", "sponsor": "sponsor read",
              "promo": "show promotion", "cold_open": "cold open"}


_PAGE_SOURCE = re.compile(r"^(?![a-z]+:)([^#]*)\.(?:qmd|ipynb)((?:#.*)?)$")


class Html(str):
    """A string that is already safe HTML (built here from escaped parts); notebooks show it as HTML."""

    def _repr_html_(self) -> str:
        return str(self)


def esc(value) -> Html:
    """Escaped text of ``value`` (a dash when missing); :class:`Html` passes through."""
    if isinstance(value, Html):
        return value
    if missing(value):
        return Html(DASH)
    return Html(html.escape(str(value)).replace("`", "&#96;"))


def missing(value) -> bool:
    try:
        return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) or pd.isna(value)
    except (TypeError, ValueError):
        return False


def clock(seconds, estimated: bool = False) -> str:
    """``seconds`` as m:ss or h:mm:ss, prefixed with "~" when ``estimated``; a dash when missing."""
    if missing(seconds):
        return DASH
    s = int(round(float(seconds)))
    text = f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"
    return ("~" if estimated else "") + text


def pct(share, digits: int = 0) -> str:
    return DASH if missing(share) else f"{float(share) * 100:.{digits}f}%"


def number(value, digits: int = 0) -> str:
    return DASH if missing(value) else f"{float(value):,.{digits}f}"


def date(value) -> str:
    return DASH if missing(value) else pd.Timestamp(value).strftime("%Y-%m-%d")


def link(href: str | None, text, cls: str = "", external: bool = False) -> Html:
    """An anchor with escaped text and target (just the text when there is no target). Links
    to site pages name the rendered .html, as links inside table data are not rewritten by Quarto."""
    if missing(href) or not href:
        return esc(text)
    href = _PAGE_SOURCE.sub(r"\1.html\2", str(href))
    extra = f' class="{cls}"' if cls else ""
    extra += ' rel="noopener"' if external else ""
    return Html(f'<a href="{html.escape(str(href), quote=True)}"{extra}>{esc(text)}</a>')


def method_mix(text) -> str:
    """'model 100%, rule 5%' with the method slugs in words."""
    if missing(text) or not str(text):
        return DASH
    words = {**SPEAKER_SOURCE_WORDS, **TIME_SOURCE_WORDS}
    parts = []
    for part in str(text).split(", "):
        name, _, share = part.rpartition(" ")
        parts.append(f"{words.get(name, name.replace('_', ' '))} {share}" if name else part)
    return ", ".join(parts)


def table(rows: pd.DataFrame, columns: dict[str, str], numeric: tuple[str, ...] = (), caption: str = "") -> Html:
    """A static table: ``columns`` maps a column of ``rows`` (values already formatted as text
    or :class:`Html`) to its header in words; ``numeric`` columns align right."""
    head = "".join(f'<th{" class=num" if c in numeric else ""}>{esc(h)}</th>' for c, h in columns.items())
    body = "".join("<tr>" + "".join(f'<td{" class=num" if c in numeric else ""}>{esc(r[c])}</td>' for c in columns)
                   + "</tr>" for _, r in rows.iterrows())
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    return Html(f'<div class="table-wrap"><table class="table podlens-table">{cap}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>")


# Display renderers for interactive tables: the data stays numeric (so sorting is right) and
# each cell is formatted in the browser.
_RENDER = {
    "clock": "function(d,t){if(t!=='display'&&t!=='filter')return d;if(d===null||d===undefined||d!==d)return '–';"
             "d=Math.round(d);var h=Math.floor(d/3600),m=Math.floor(d%3600/60),s=d%60,p=function(x){return (x<10?'0':'')+x};"
             "return h?h+':'+p(m)+':'+p(s):m+':'+p(s)}",
    "pct": "function(d,t){if(t!=='display'&&t!=='filter')return d;return (d===null||d!==d)?'–':(d*100).toFixed(0)+'%'}",
    "int": "function(d,t){if(t!=='display'&&t!=='filter')return d;return (d===null||d!==d)?'–':Math.round(d).toLocaleString('en')}",
    "num1": "function(d,t){if(t!=='display'&&t!=='filter')return d;return (d===null||d!==d)?'–':d.toFixed(1)}",
}


def interactive_table(rows: pd.DataFrame, columns: dict[str, str], kinds: dict[str, str] | None = None,
                      page_length: int = 15) -> Html:
    """A sortable, searchable table (itables, offline: the DataTables bundle is a site asset).

    ``columns`` maps a column to its header in words; ``kinds`` marks numeric columns as
    'clock' (seconds), 'pct' (0-1), 'int' or 'num1' so they sort as numbers and display
    formatted. Other cells are escaped text or :class:`Html`.
    """
    from itables import JavascriptFunction, to_html_datatable

    kinds = kinds or {}
    data = pd.DataFrame(index=rows.index)
    for col in columns:
        if col in kinds:
            data[columns[col]] = [None if missing(v) else float(v) for v in rows[col]]
        else:
            data[columns[col]] = [str(esc(v)) for v in rows[col]]
    defs = [{"targets": [i], "render": JavascriptFunction(_RENDER[kinds[c]]), "className": "dt-right"}
            for i, c in enumerate(columns) if c in kinds]
    options = dict(connected=False, allow_html=True, showIndex=False, maxBytes=0, classes="display compact",
                   columnDefs=defs, scrollX=True, autoWidth=False, display_logo_when_loading=False,
                   order=[], style="width:100%;margin:0")
    if len(rows) <= page_length:
        options["paging"] = False
        options["layout"] = {"topStart": None, "topEnd": "search", "bottomStart": None, "bottomEnd": None}
    else:
        options["pageLength"] = page_length
    data = data.reset_index(drop=True)
    # the element id from the table itself (itables' default is random): same table, same page bytes
    options["table_id"] = "itables_" + content_hash(data.to_csv(), repr(sorted(options.items(), key=str)))
    return Html('<div class="table-wrap interactive">' + to_html_datatable(data, **options) + "</div>")


def json_attr(value) -> str:
    return html.escape(json.dumps(value), quote=True)
