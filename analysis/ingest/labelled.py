"""Text exports where a header names the speaker and time of each paragraph.

Four shapes share one parser, each given by a line pattern with ``name``, ``time`` and
``text`` groups; lines that match no header continue the current segment:

* Otter.ai: ``Name  m:ss`` (``h:mm:ss`` past the hour) alone on a line, paragraph below;
* Rev: ``Name (hh:mm:ss):`` and ``(hh:mm:ss):`` continuation headers (same speaker);
* bracketed: ``[Name] [mm:ss] text``;
* Markdown bold: ``**Name:** text`` or ``**Name** (00:01:02): text``; a credential after a comma
  (``**Jane Roe, PhD:**``) is not part of the name.

A closing footer (``Transcribed by https://otter.ai``, an editor's note after a ``---`` rule)
is skipped as a footer, never read as the last speaker's words.
"""
from __future__ import annotations

import html
import re

from .base import (
    KNOWN_FOOTER,
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
from .text import SPEAKER

_TIME = r"\d{1,3}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?"
OTTER = re.compile(rf"^(?P<name>{SPEAKER})[ \t]{{1,4}}(?P<time>\d{{1,2}}:\d{{2}}(?::\d{{2}})?)(?P<text>)$")
REV = re.compile(rf"^(?:(?P<name>{SPEAKER})[ \t]+)?\((?P<time>{_TIME})\):(?:[ \t]+(?P<text>.*))?$")
BRACKET = re.compile(rf"^\[(?P<name>{SPEAKER})\][ \t]*\[(?P<time>{_TIME})\](?:[ \t]+(?P<text>.*))?$")
BOLD = re.compile(rf"^\*\*(?P<name>{SPEAKER})(?:,[ \t]*[A-Z][\w.]{{0,7}})?(?::\*\*|\*\*(?:[ \t]*\((?P<time>{_TIME})\))?:)(?:[ \t]+(?P<text>.*))?$")


def _sniffer(pattern: re.Pattern, weight: float):
    """A sniff scoring ``weight`` when header lines make up at least half the non-blank lines
    (a header and a one-line paragraph each), proportionally less below that; 0 under 2 hits."""
    def sniff(text: str) -> float:
        lines = [ln for ln in head_lines(text) if not KNOWN_FOOTER.match(ln)]
        hits = sum(bool(pattern.match(ln)) for ln in lines)
        return weight * min(1.0, 2 * hits / len(lines)) if hits >= 2 else 0.0
    sniff.__doc__ = f"Confidence (0..{weight}) that the text is made of {pattern.pattern[:30]}... headers."
    return sniff


def _front_matter(lines: list[str], t: Transcript) -> int:
    """Read a Markdown header that ends with ``---`` (a lone ``# Title`` line also counts);
    return the first body line. ``**Name:**`` lines are speech unless a ``---`` closes them."""
    meta, body = split_markdown_header(lines)
    if body and lines[body - 1].strip() == "---":
        t.metadata = meta
        return body
    first = next((i for i, ln in enumerate(lines) if ln.strip()), 0)
    if lines and lines[first].startswith("# "):
        t.metadata["title"] = lines[first][2:].strip()
        return first + 1
    return 0


def _start(m: re.Match, t: Transcript, line: int) -> float | None:
    if not m.group("time"):
        return None
    try:
        return parse_timestamp(m.group("time"))
    except ValueError:
        t.warn(f"time {m.group('time')!r} unreadable; segment kept without a time", line=line)
        return None


def _parser(pattern: re.Pattern, what: str, entities: bool = False):
    """A parser for files whose segments open with ``pattern`` header lines. A header
    without a name (Rev continuation) keeps the previous speaker. ``entities``: the text is
    Markdown, whose HTML entities (``&#39;``, ``&quot;``) stand for characters."""
    def parse(text: str, t: Transcript) -> None:
        lines = text.split("\n")
        texts: list[list[str]] = []  # lines per segment, joined once at the end
        for i in range(_front_matter(lines, t), skip_footer(lines, t, pattern.match)):
            line = lines[i].strip()
            if not line:
                continue
            if (m := pattern.match(line)):
                speaker = m.group("name") or (t.segments[-1].speaker if t.segments else None)
                t.segments.append(Segment("", speaker, _start(m, t, i + 1), line=i + 1))
                texts.append([m.group("text") or ""])
            elif t.segments:
                texts[-1].append(line)
            else:
                t.warn(f"text before the first {what} header ignored: {line[:60]!r}", line=i + 1)
        for seg, parts in zip(t.segments, texts):
            seg.text = "\n".join(p for p in parts if p)
            if entities and "&" in seg.text:
                seg.text = html.unescape(seg.text)
        if not t.segments:
            raise ParseError(f"no {what} header lines found", t.path)
        check_truncated(text, t)
    parse.__doc__ = f"Segments from {what} header lines and the paragraphs under them."
    return parse


FORMATS = [
    Format("otter", "Otter.ai text export: 'Name  m:ss' (or h:mm:ss) header line, paragraph below",
           _sniffer(OTTER, 0.92), _parser(OTTER, "Otter 'Name  m:ss'"),
           cue="'Name  m:ss' lines alone make up much of the file (2 or more)"),
    Format("rev", "Rev-style 'Name (hh:mm:ss):' headers; '(hh:mm:ss):' continues the same speaker",
           _sniffer(REV, 0.93), _parser(REV, "Rev 'Name (hh:mm:ss):'"),
           cue="'Name (hh:mm:ss):' lines make up much of the file (2 or more)"),
    Format("bracketed", "[Name] [mm:ss] text lines",
           _sniffer(BRACKET, 0.95), _parser(BRACKET, "'[Name] [mm:ss]'"),
           cue="'[Name] [mm:ss]' lines make up much of the file (2 or more)"),
    Format("markdown_bold", "Markdown '**Name:** text' or '**Name** (00:01:02): text' paragraphs",
           _sniffer(BOLD, 0.94), _parser(BOLD, "'**Name:**'", entities=True),
           cue="'**Name:**' lines make up much of the file (2 or more)"),
]
