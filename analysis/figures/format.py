"""Values and tables formatted for readers, shared by the notebooks and the site: m:ss / h:mm:ss
times ("~" when estimated), percentages, names instead of slugs, a dash for a missing value in a
table, and every piece of data HTML-escaped (transcript text can hold markup; it must show as
text). Tables are plain HTML (static, or sortable with the offline DataTables bundle the site
ships): no script loads from another host and no itables fallback links online."""
from __future__ import annotations

import html
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
                        "model": "inferred from the text", "rule": "inferred by a rule",
                        "refused": "not attributed (the text cannot tell)", "none": "unknown"}
FLAG_WORDS = {"nonspeech": "music or sound cue", "hallucination_loop": "ASR loop", "timestamp_regression":
              "time runs backwards", "past_runtime": "past the runtime", "sponsor": "sponsor read",
              "promo": "show promotion", "cold_open": "cold open"}


_TAGS = re.compile(r"<[^>]+>")
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
    """'inferred from the text 90%, inferred by a rule 10%': a method mix with the method slugs
    in words, and no share where one method is all of it."""
    if missing(text) or not str(text):
        return DASH
    words = {**SPEAKER_SOURCE_WORDS, **TIME_SOURCE_WORDS}
    parts = []
    for part in str(text).split(", "):
        name, _, share = part.rpartition(" ")
        parts.append(f"{words.get(name, name.replace('_', ' '))}{'' if share == '100%' else ' ' + share}" if name else part)
    return ", ".join(parts)


STACK_COLUMNS = 4  # tables with this many columns or more show each row as a card on a phone,
STACK_TEXT = 60  # and so do tables of fewer columns with a cell of this many characters or more;
# a column holding such a cell is kept wide enough to read (class "wide") on larger screens


def table(rows: pd.DataFrame, columns: dict[str, str], numeric: tuple[str, ...] = (), caption: str = "") -> Html:
    """A static table: ``columns`` maps a column of ``rows`` (values already formatted as text
    or :class:`Html`) to its header in words; ``numeric`` columns align right. Each cell carries
    its header (``data-label``) for the phone layout, where a table of STACK_COLUMNS columns or
    more (or with long text in three or more) shows each row as a card."""
    wide = _wide(rows, columns)

    def cell(tag: str, c: str, text) -> str:
        label = f' data-label="{esc(columns[c])}"' if tag == "td" else ""
        cls = " ".join(k for k, on in (("num", c in numeric), ("wide", c in wide)) if on)
        return f'<{tag}{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}{label}>{esc(text)}</{tag}>'

    head = "".join(cell("th", c, h) for c, h in columns.items())
    body = "".join("<tr>" + "".join(cell("td", c, r[c]) for c in columns) + "</tr>" for _, r in rows.iterrows())
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    stack = " stack" if len(columns) >= STACK_COLUMNS or (len(columns) > 2 and wide) else ""
    return Html(f'<div class="table-wrap{stack}"><table class="table podlens-table">{cap}<thead><tr>{head}</tr></thead>'
                f"<tbody>{body}</tbody></table></div>")


def _wide(rows: pd.DataFrame, columns) -> set[str]:
    """The columns with a cell of STACK_TEXT characters or more (markup not counted)."""
    return {c for c in columns if any(len(_TAGS.sub("", str(esc(v)))) >= STACK_TEXT for v in rows[c])}


# Display renderers for interactive tables: the data stays numeric (so sorting is right) and
# each cell is formatted in the browser ({est}: "~" where the row's estimated flag is set).
_BLANK = "if(t!=='display'&&t!=='filter')return d;if(d===null||d===undefined||d!==d)return '–';"
_RENDER = {
    "clock": "function(d,t,row){" + _BLANK + "d=Math.round(d);var h=Math.floor(d/3600),m=Math.floor(d%3600/60),"
             "s=d%60,p=function(x){return (x<10?'0':'')+x};return {est}(h?h+':'+p(m)+':'+p(s):m+':'+p(s))}",
    "pct": "function(d,t){" + _BLANK + "return (d*100).toFixed(0)+'%'}",
    "int": "function(d,t){" + _BLANK + "return Math.round(d).toLocaleString('en')}",
    "num1": "function(d,t){" + _BLANK + "return d.toFixed(1)}",
}
# After each draw every cell gets its column's header as data-label (the phone layout shows it).
_LABEL_CELLS = ("function(){var t=this.api().table(),h=[...t.header().querySelectorAll('th')].map(e=>e.textContent);"
                "t.body().querySelectorAll('tr').forEach(r=>[...r.cells].forEach((c,i)=>c.setAttribute('data-label',h[i]||'')))}")
_ITABLES_FALLBACK = re.compile(r'\n?<div id="(?P<id>[\w-]+)_fallback">.*?</script>', re.DOTALL)
_ITABLES_LOADING = re.compile(r'(<table id="[\w-]+")[^>]*>\s*<tbody>.*?</tbody>\s*</table>', re.DOTALL)


def _offline(fragment: str) -> str:
    """itables' HTML without its loading message and static fallback, which link to itables.org:
    the table is drawn by the site's DataTables bundle or not at all."""
    out = _ITABLES_LOADING.sub(r"\1></table>", _ITABLES_FALLBACK.sub("", fragment, count=1), count=1)
    if "itables.org" in out or "Loading ITables" in out:
        raise RuntimeError("itables changed the HTML around its tables: update analysis.figures.format._offline")
    return out


def interactive_table(rows: pd.DataFrame, columns: dict[str, str], kinds: dict[str, str] | None = None,
                      page_length: int = 15, estimated: dict[str, str] | None = None) -> Html:
    """A sortable, searchable table (itables, offline: the DataTables bundle is a site asset).

    ``columns`` maps a column to its header in words; ``kinds`` marks numeric columns as
    'clock' (seconds), 'pct' (0-1), 'int' or 'num1' so they sort as numbers and display
    formatted; ``estimated`` maps a 'clock' column to a boolean column of ``rows`` whose true
    rows show the time with "~". Other cells are escaped text or :class:`Html`. Long text wraps
    between words; with STACK_COLUMNS columns or more each row becomes a card on a phone.
    """
    from itables import JavascriptFunction, to_html_datatable

    kinds, estimated = kinds or {}, estimated or {}
    data = pd.DataFrame(index=rows.index)
    for col in columns:
        if col in kinds:
            data[columns[col]] = [None if missing(v) else float(v) for v in rows[col]]
        else:
            data[columns[col]] = [str(esc(v)) for v in rows[col]]
    flags = {}
    for col, flag in estimated.items():  # hidden columns after the shown ones
        flags[col] = len(columns) + len(flags)
        data[f"_{flag}"] = [bool(v) and not missing(v) for v in rows[flag]]
    def render(c: str) -> str:
        est = f"(row[{flags[c]}]?'~':'')+" if c in flags else ""
        return _RENDER[kinds[c]].replace("{est}", est)

    defs = [{"targets": [i], "render": JavascriptFunction(render(c)), "className": "dt-right"}
            for i, c in enumerate(columns) if c in kinds]
    long_text = _wide(rows, [c for c in columns if c not in kinds])
    wide = [i for i, c in enumerate(columns) if c in long_text]
    if wide:
        defs.append({"targets": wide, "className": "wide"})
    if flags:
        defs.append({"targets": sorted(flags.values()), "visible": False, "searchable": False})
    options = dict(connected=False, allow_html=True, showIndex=False, maxBytes=0, classes="display compact",
                   columnDefs=defs, drawCallback=JavascriptFunction(_LABEL_CELLS), autoWidth=False, display_logo_when_loading=False,
                   order=[], style="width:100%;margin:0")
    if len(rows) <= page_length:
        options["paging"] = False
        options["layout"] = {"topStart": None, "topEnd": "search", "bottomStart": None, "bottomEnd": None}
    else:
        options["pageLength"] = page_length
        options["lengthMenu"] = sorted({10, 25, 50, 100, page_length})
    data = data.reset_index(drop=True)
    # the element id from the table itself (itables' default is random): same table, same page bytes
    options["table_id"] = "itables_" + content_hash(data.to_csv(), repr(sorted(options.items(), key=str)))
    stack = " stack" if len(columns) >= STACK_COLUMNS else ""
    return Html(f'<div class="table-wrap interactive{stack}">' + _offline(to_html_datatable(data, **options)) + "</div>")


def estimated(time_source) -> bool:
    """Whether a time with this ``time_source`` is estimated (not from the file)."""
    return not missing(time_source) and time_source not in ("file", "none")


def quote_html(text, speaker, start_s, time_source, video_id, transcript_href=None, label="") -> str:
    """A quote with its speaker, its time ("~" when estimated) linked to its line where
    ``transcript_href`` is given, the video at that moment and a muted ``label``."""
    from ..quotes import deep_link

    return _quote(text, speaker, clock(start_s, estimated(time_source)), transcript_href, deep_link(video_id, start_s), label)


def _quote(text, speaker, when: str, transcript_href, video, label) -> str:
    return (f'<blockquote class="quote"><p>{esc(text)}</p><footer>{esc(speaker if not missing(speaker) else "unknown speaker")}'
            f" · {link(transcript_href, when)}" + (f" · {link(video, 'video', external=True)}" if video else "")
            + (f' · <span class="muted">{esc(label)}</span>' if label else "") + "</footer></blockquote>")


def results_html(hits: pd.DataFrame, names: dict[str, str], text: str = "quote", time: str = "time",
                 url: str = "url", speaker: str = "speaker") -> Html:
    """Rows of search results (:func:`analysis.search.search`) or of passage pairs as quotes:
    the ``text`` column, the speaker, the ``time`` column (already formatted, "~" when
    estimated), the ``url`` column (the video at that moment) and the episode's name."""
    if hits.empty:
        return Html("<p>Nothing found.</p>")
    return Html("".join(_quote(getattr(h, text), getattr(h, speaker), getattr(h, time) or "", None,
                               getattr(h, url) if not missing(getattr(h, url)) else None,
                               names.get(h.episode_id, h.episode_id)) for h in hits.itertuples()))


def frame_table(frame: pd.DataFrame, index_header: str, fmt=pct, names: dict[str, str] | None = None,
                caption: str = "") -> Html:
    """A wide DataFrame (e.g. theme x episode shares) as a static table: its index as the first
    column under ``index_header``, every value through ``fmt``, column names through ``names``."""
    names = names or {}
    rows = pd.DataFrame({"_i": frame.index.astype(str)})
    columns = {"_i": index_header}
    for k, c in enumerate(frame.columns):
        rows[f"c{k}"] = [fmt(v) if not missing(v) else DASH for v in frame[c]]
        columns[f"c{k}"] = names.get(c, str(c))
    return table(rows, columns, numeric=tuple(c for c in columns if c != "_i" and fmt is not str), caption=caption)


def episode_names(episodes: pd.DataFrame, speakers: pd.DataFrame | None) -> dict[str, str]:
    """Short reader names, 'Show: Guest', with the date added where two would be equal."""
    guests = {}
    if speakers is not None and len(speakers):
        g = speakers[(speakers["role"] == "guest") & speakers["resolved"].fillna(False).astype(bool)]
        guests = g.groupby("episode_id")["name"].agg(lambda s: " & ".join(s)).to_dict()
    names = {r.episode_id: f"{r.show}: {guests[r.episode_id]}" if r.episode_id in guests else f"{r.show}: {r.title}"
             for r in episodes.itertuples()}
    counts = pd.Series(list(names.values())).value_counts()
    for r in episodes.itertuples():
        if counts[names[r.episode_id]] > 1 and not missing(r.published):
            names[r.episode_id] += f" ({pd.Timestamp(r.published):%Y-%m-%d})"
    return names


def quotes_html(hits: pd.DataFrame, utterances: pd.DataFrame, video_ids: dict[str, str], names: dict[str, str],
                href=None) -> Html:
    """Hits of :func:`analysis.quotes.find_quotes` as quotes: the matching line, its speaker and
    time, the video moment, and a link to its line where ``href`` ((episode id, order) -> link) is given."""
    if hits.empty:
        return Html("<p>No quote matches.</p>")
    text = utterances.set_index(["episode_id", "order"])["text"]
    return Html("".join(quote_html(text.loc[(h.episode_id, h.order)], h.speaker, h.start_s, h.time_source,
                                   video_ids.get(h.episode_id), href(h.episode_id, h.order) if href else None,
                                   names.get(h.episode_id, h.episode_id)) for h in hits.itertuples()))


def with_names(df: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """A copy of ``df`` whose episode_id column holds episode names (for chart axes)."""
    return df.assign(episode_id=df["episode_id"].map(lambda e: names.get(e, e)))


def published(value, basis) -> str:
    """A publication date, with how it is known where it is not stated ('2024-09-13 (approximate)')."""
    return date(value) + ("" if missing(basis) or basis == "stated" else f" ({basis})")


def provenance_words(text) -> str:
    """The catalog's facts not stated in a source ('venue (inferred): note;...', table episodes
    column inferred_facts) in sentences ('Venue inferred: note.'); '' when there are none."""
    out = []
    for part in ("" if missing(text) else str(text)).split(";"):
        field, _, rest = part.partition(" (")
        basis, _, note = rest.partition("): ")
        if field.strip():
            out.append(f"{field.strip().capitalize()} {basis}" + (f": {note.strip()}" if note.strip() else "") + ".")
    return " ".join(out)
