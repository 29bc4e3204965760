"""Parsers for plain-text transcript shapes: timestamped speaker lines, ``Name:`` paragraphs,
dash-separated turns with a chapter list, an unsegmented block, and an episode summary page."""
from __future__ import annotations

import re

from .base import (
    Chapter,
    Format,
    ParseError,
    Segment,
    Transcript,
    check_truncated,
    head_lines,
    parse_timestamp,
    skip_footer,
    split_markdown_header,
)

# A speaker label: up to four capitalised words ("Sherwin Wu", "Dr. Jane O'Neil", "Torkel Ödegaard"),
# a generic diarisation label ("SPEAKER_00", "Speaker A") or a lower-case handle ("swyx").
_CAPITAL = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĲĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽ"
SPEAKER = (rf"(?:SPEAKER_\d{{1,3}}|[{_CAPITAL}][\w.'’-]*(?: (?:[{_CAPITAL}0-9][\w.'’-]*|de|van|von|da|bin)){{0,3}}"
           r"|[a-z][\w.-]{1,19})")
_NAME_LINE = re.compile(rf"^({SPEAKER}):[ \t]+(\S.*)$")
_TS_LINE = re.compile(rf"^\[(\d{{1,3}}(?::\d{{1,2}}){{1,2}}(?:[.,]\d{{1,3}})?)\][ \t]*(?:({SPEAKER}):[ \t]+)?(.*)$")
_CHAPTER = re.compile(r"^(\d{1,3}(?::\d{1,2}){1,2})[ \t]+(\S.*)$")
# A turn mark: "- " at the start of a paragraph or after whitespace inside it.
_DASH_TURN = re.compile(r"(?:^|(?<=\s))-[ \t]+(?=\S)", re.MULTILINE)
# Sentence boundary: terminal punctuation (optionally closed by a quote or bracket), then space.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9¿¡])|\n\s*\n")


# ---------------------------------------------------------------- [hh:mm:ss] Name: text

def sniff_timestamped_lines(text: str) -> float:
    lines = head_lines(text)
    if not lines:
        return 0.0
    hits = sum(bool(_TS_LINE.match(ln)) for ln in lines)
    return 0.95 * hits / len(lines) if hits >= 2 else 0.0


def _join_continuations(segments: list[Segment], extra: list[list[str]], sep: str) -> None:
    """Append each segment's continuation lines, joined once (appending one by one is quadratic)."""
    for seg, more in zip(segments, extra):
        if more:
            seg.text = sep.join([seg.text, *more])


def parse_timestamped_lines(text: str, t: Transcript) -> None:
    lines = text.split("\n")
    t.metadata, body = split_markdown_header(lines)
    extra: list[list[str]] = []  # continuation lines of each segment
    for i in range(body, skip_footer(lines, t, _TS_LINE.match)):
        line = lines[i].strip()
        if not line:
            continue
        m = _TS_LINE.match(line)
        if not m:
            if t.segments:  # a wrapped line continues the previous segment
                extra[-1].append(line)
            else:
                t.warn(f"text before the first timestamp ignored: {line[:60]!r}", line=i + 1)
            continue
        try:
            start = parse_timestamp(m.group(1))
        except ValueError as exc:
            raise ParseError(str(exc), t.path, i + 1) from exc
        t.segments.append(Segment(text=m.group(3).strip(), speaker=m.group(2), start=start, line=i + 1))
        extra.append([])
    if not t.segments:
        raise ParseError("no timestamped lines found", t.path)
    _join_continuations(t.segments, extra, " ")
    check_truncated(text, t)


# ---------------------------------------------------------------- Name: paragraph

def sniff_speaker_paragraphs(text: str) -> float:
    lines = head_lines(text)
    if len(lines) < 2:
        return 0.0
    matches = [m.group(1) for ln in lines if (m := _NAME_LINE.match(ln))]
    if len(matches) < 2 or len(set(matches)) > max(8, len(matches) // 2):
        return 0.0  # many distinct "labels" means ordinary prose with colons
    return 0.9 * len(matches) / len(lines)


def parse_speaker_paragraphs(text: str, t: Transcript) -> None:
    lines = text.split("\n")
    t.metadata, body = split_markdown_header(lines)
    extra: list[list[str]] = []
    for i in range(body, skip_footer(lines, t, _NAME_LINE.match)):
        line = lines[i].strip()
        if not line:
            continue
        m = _NAME_LINE.match(line)
        if m:
            t.segments.append(Segment(text=m.group(2).strip(), speaker=m.group(1), line=i + 1))
            extra.append([])
        elif t.segments:
            extra[-1].append(line)
        else:
            t.segments.append(Segment(text=line, line=i + 1))
            extra.append([])
            t.warn("text before the first speaker label kept without a speaker", line=i + 1)
    _join_continuations(t.segments, extra, "\n")
    if not any(s.speaker for s in t.segments):
        raise ParseError("no 'Name: text' lines found", t.path)
    check_truncated(text, t)


# ---------------------------------------------------------------- chapters + "- " turns

_PAGE_HEADINGS = ("chapters", "back to index", "transcript")


def _chapter_block(lines: list[str]) -> tuple[str | None, list[tuple[int, str, str]], int]:
    """Find an optional title and ``m:ss Title`` chapter list before the transcript body.

    Returns (title, [(line_index, timestamp, title)], index of the first body line).
    """
    title, chapters, i = None, [], 0
    limit = min(len(lines), 300)
    while i < limit:
        s = lines[i].strip()
        if s.lower() == "transcript":
            return title, chapters, i + 1
        if (m := _CHAPTER.match(s)):
            chapters.append((i, m.group(1), m.group(2).strip()))
        elif s.startswith("- ") or len(s) > 200:
            break
        elif s and s.lower() not in _PAGE_HEADINGS and title is None and not chapters:
            title = s
        i += 1
    return title, chapters, (i if chapters or title else 0)


def sniff_dash_turns(text: str) -> float:
    paras = [p.strip() for p in text[:200_000].split("\n\n") if p.strip()]
    dashed = sum(p.startswith("- ") or " - " in p for p in paras)
    if dashed < 3:
        return 0.0
    _, chapters, _ = _chapter_block(text.split("\n"))
    return min(0.9, 0.6 * dashed / len(paras) + (0.3 if chapters else 0.0))


def parse_dash_turns(text: str, t: Transcript) -> None:
    lines = text.split("\n")
    title, chapters, body = _chapter_block(lines)
    if title:
        t.metadata["title"] = title
    for k in range(body):
        if lines[k].strip().lower() in _PAGE_HEADINGS:
            t.skip(lines[k], "section heading", "markup", line=k + 1)
    for idx, ts, name in chapters:
        try:
            t.chapters.append(Chapter(start=parse_timestamp(ts), title=name, line=idx + 1))
        except ValueError:
            t.warn(f"chapter time {ts!r} unreadable; chapter kept without a time", line=idx + 1)
            t.chapters.append(Chapter(start=None, title=name, line=idx + 1))
    starts = [c.start for c in t.chapters if c.start is not None]
    if starts != sorted(starts):
        t.warn("chapter times are not in order")
    offset = sum(len(ln) + 1 for ln in lines[:body])
    end = skip_footer(lines, t, lambda line: line.startswith("- "))
    body_text = text[offset:sum(len(ln) + 1 for ln in lines[:end])]
    line_at = _line_counter(text, offset)
    extra: list[list[str]] = []
    for p_start, p_end in _paragraph_spans(body_text):
        para = body_text[p_start:p_end]
        cuts = [m.start() for m in _DASH_TURN.finditer(para)]
        pieces = ([(0, cuts[0])] if cuts and cuts[0] > 0 else []) if cuts else [(0, len(para))]
        pieces += [(a, b) for a, b in zip(cuts, cuts[1:] + [len(para)])]
        for a, b in pieces:
            chunk = para[a:b].strip()
            new_turn = chunk.startswith("-")
            chunk = chunk.lstrip("-").strip()
            if not chunk:
                continue
            line = line_at(p_start + a)
            if new_turn or not t.segments:
                t.segments.append(Segment(text=chunk, line=line))
                extra.append([])
            else:  # a paragraph without a leading dash continues the current turn
                extra[-1].append(chunk)
    if not t.segments:
        raise ParseError("no '- ' turns found", t.path)
    _join_continuations(t.segments, extra, "\n")
    check_truncated(text, t)


def _paragraph_spans(text: str):
    for m in re.finditer(r"[^\n](?:.|\n(?!\s*\n))*", text):
        yield m.start(), m.end()


def _line_counter(text: str, base: int):
    """Map an offset relative to ``base`` in ``text`` to a 1-based line number (monotone calls)."""
    state = {"pos": 0, "line": 1}

    def line_at(rel: int) -> int:
        pos = base + rel
        if pos < state["pos"]:
            state["pos"], state["line"] = 0, 1
        state["line"] += text.count("\n", state["pos"], pos)
        state["pos"] = pos
        return state["line"]

    return line_at


# ---------------------------------------------------------------- one unsegmented block

def sniff_plain_text(text: str) -> float:
    sample = text[:50_000]
    words = sample.split()
    if len(words) < 20:
        return 0.0
    letters = sum(map(str.isalpha, sample))
    structural = sum(sample.count(ch) for ch in "<>{}[]|=\t;")
    sentences = len(re.findall(r"[.!?](?:\s|$)", sample))
    if letters < 0.6 * len(sample.replace(" ", "").replace("\n", "")) or structural > 0.02 * len(sample):
        return 0.0
    if sentences < len(words) / 60:
        return 0.0
    return 0.1  # the fallback: any structured format that matches wins


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (terminal punctuation, or a blank line)."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        end = m.start() + (1 if text[m.start():m.start() + 1] in "\"')]" else 0)
        if text[start:end].strip():
            spans.append((start, end))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (see :func:`split_sentences`), whitespace collapsed."""
    return [" ".join(text[a:b].split()) for a, b in split_sentences(text)]


def parse_plain_text(text: str, t: Transcript) -> None:
    lines = text.split("\n")
    end = skip_footer(lines, t)
    if end < len(lines):
        text = "\n".join(lines[:end])
    line_at = _line_counter(text, 0)
    for a, b in split_sentences(text):
        chunk = " ".join(text[a:b].split())
        if chunk:
            t.segments.append(Segment(text=chunk, line=line_at(a + len(text[a:b]) - len(text[a:b].lstrip()))))
    if not t.segments:
        raise ParseError("no text found", t.path)
    check_truncated(text, t)


# ---------------------------------------------------------------- episode summary page

_SUMMARY_MARKERS = ("in this episode", "ask me anything about this", "try asking:", "| episode |",
                    "episode summary", "key takeaways", "show notes")


def sniff_summary_page(text: str) -> float:
    low = text[:20_000].lower()
    hits = sum(marker in low for marker in _SUMMARY_MARKERS)
    if hits == 0 or len(text.split()) > 3000 or _TS_LINE.match(text.lstrip()):
        return 0.0
    return min(0.97, 0.35 + 0.25 * hits)


def parse_summary_page(text: str, t: Transcript) -> None:
    """Description, chapter summaries (no times) and title of an episode page; never speech."""
    t.kind = "summary"
    paragraphs: list[tuple[int, str]] = []
    for i, raw in enumerate(text.split("\n")):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("|"):
            t.skip(line, "table on the page (not read)", "header", line=i + 1)
            continue
        words = len(line.split())
        if line.endswith(("...", "…")) and "teaser" not in t.metadata:
            t.metadata["teaser"] = line  # cut-off preview of the description
        elif (line.endswith((":", "...", "…")) or (words < 20 and line.endswith("?"))
              or line.lower().startswith("ask me")):
            t.skip(line, "page furniture: a prompt or button", "markup", line=i + 1)
        elif words < 25 and line[-1] not in ".!?":
            t.metadata.setdefault("title", line)
        else:
            paragraphs.append((i + 1, line))
    if not paragraphs:
        raise ParseError("summary page has no description or chapter paragraphs", t.path)
    # The description is the page's preview line when it has one (shown cut off, so marked
    # truncated); then every full paragraph is a chapter summary. Else the first paragraph.
    if "teaser" in t.metadata:
        t.metadata["description"] = t.metadata.pop("teaser")
        t.metadata["description_truncated"] = "true"
    else:
        t.metadata["description"] = paragraphs.pop(0)[1]
    for line_no, para in paragraphs:
        t.chapters.append(Chapter(start=None, title=None, summary=para, line=line_no))


FORMATS = [
    Format("timestamped_lines", "[hh:mm:ss] Name: text lines (Name optional), optional Markdown header",
           sniff_timestamped_lines, parse_timestamped_lines,
           cue="share of lines that open with '[h:mm:ss]' (2 or more)"),
    Format("speaker_paragraphs", "Name: paragraph lines (also generic labels: Speaker A:, SPEAKER_00:)",
           sniff_speaker_paragraphs, parse_speaker_paragraphs,
           cue="share of lines that open with 'Name: ' from a few recurring names"),
    Format("dash_turns", "optional 'm:ss Title' chapter list, then paragraphs where '- ' starts a turn",
           sniff_dash_turns, parse_dash_turns,
           cue="3 or more paragraphs with '- ' turns; an 'm:ss Title' chapter list adds confidence"),
    Format("summary_page", "episode summary page: description and chapter summaries (metadata, not speech)",
           sniff_summary_page, parse_summary_page, kind="summary",
           cue="page phrases ('In this episode', 'Key takeaways', 'Show notes', ...) in under 3,000 words"),
    Format("plain_text", "one unsegmented block of text without speakers or times (split into sentences)",
           sniff_plain_text, parse_plain_text,
           cue="fallback: 20+ words of prose with sentence punctuation and little markup"),
]
