"""Caption files: WebVTT (read with ``webvtt-py``) and SubRip SRT (read with ``srt``).

Both become a list of :class:`Cue`; one shared path then removes the repeated lines of
rolling (YouTube auto) captions, strips cue markup (``<c>``, inline ``<00:00:01.500>`` word
times, ``<i>``, ``{\\an8}``), reads speakers from ``<v Name>`` voice tags, ``Name:`` prefixes
and ``[Name]`` tags (not ``[Music]``-like cues), splits turns at ``- `` and ``>>`` marks (the
speaker-change mark of YouTube auto captions), and joins the cues of one turn.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from itertools import pairwise

import srt
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from ..clean import CUE
from .base import (
    Format,
    ParseError,
    Segment,
    Transcript,
    check_truncated,
    head_lines,
    parse_timestamp,
)

_TIMING = re.compile(r"^[ \t]*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})[ \t]*-->", re.MULTILINE)
_SRT_TIMING = re.compile(r"^\d+:\d{2}:\d{2}[,.]\d{1,3}[ \t]*-->[ \t]*\d+:\d{2}:\d{2}[,.]\d{1,3}")
# webvtt-py ends a cue at a whitespace-only line; YouTube puts one (" ") right under the timing.
_SPACE_AFTER_TIMING = re.compile(r"^([^\n]*-->[^\n]*)\n[ \t]+(?=\n)", re.MULTILINE)
_VOICE = re.compile(r"<v(?:\.[\w-]+)*[ \t]+([^<>\n]+)>")
_MARKUP = re.compile(r"<[^<>\n]*>|\{\\[^{}\n]*\}")  # tags stop at the next "<" or "{": linear
_TURN_MARK = re.compile(r"^-[ \t]+|[ \t]*>>[ \t]*")
# "Name: text" inside a cue: capitalised words or a diarisation label (no lower-case words,
# which auto captions are full of).
_NAME_PREFIX = re.compile(r"^(SPEAKER_\d{1,3}|[A-Z][\w.'’-]*(?: [A-Z0-9][\w.'’-]*){0,3}):[ \t]+(\S.*)$")
# "[Lex] text" (human YouTube captions): a bracketed name opening a line, unless it is a
# non-speech cue such as [Music] or [Laughter].
_BRACKET_NAME = re.compile(r"^\[([A-Z][\w.'’-]*(?: [A-Z0-9][\w.'’-]*){0,3})\](?:[ \t]+(.*))?$")
# srt's cue regex backtracks polynomially inside long digit runs, so such text is refused first.
_LONG_DIGITS = re.compile(r"\d{40}")
_ROLLING_SHARE = 0.5  # share of cues opening with the previous cue's line that marks rolling captions


@dataclass(frozen=True)
class CueLine:
    text: str  # markup stripped, whitespace collapsed
    voice: str | None  # from a <v Name> tag


@dataclass(frozen=True)
class Cue:
    start: float  # seconds
    end: float  # seconds
    lines: tuple[CueLine, ...]
    line: int | None  # 1-based line of the cue's timing line in the file


# ---------------------------------------------------------------- shared cue handling

def cue_lines(payload: str) -> tuple[CueLine, ...]:
    """Non-empty text lines of a cue payload; a voice tag holds until the next one."""
    out: list[CueLine] = []
    parts = _VOICE.split(payload)
    voices = [None] + parts[1::2]
    for voice, chunk in zip(voices, parts[::2]):
        for raw in chunk.split("\n"):
            text = " ".join(html.unescape(_MARKUP.sub("", raw)).split())
            if text:
                out.append(CueLine(text, voice.strip() if voice else None))
    return tuple(out)


def _overlap(previous: tuple[CueLine, ...], lines: tuple[CueLine, ...]) -> int:
    """Largest k such that the last k lines of ``previous`` open ``lines`` (texts compared)."""
    for k in range(min(len(previous), len(lines)), 0, -1):
        if [c.text for c in previous[-k:]] == [c.text for c in lines[:k]]:
            return k
    return 0


def _is_rolling(cues: list[Cue]) -> bool:
    """True when most cues repeat the previous cue's last line (roll-up captions)."""
    pairs = list(pairwise(cues))
    repeats = sum(_overlap(a.lines, b.lines) > 0 for a, b in pairs)
    return repeats >= 2 and repeats >= _ROLLING_SHARE * len(pairs)


def drop_rolling_repeats(cues: list[Cue]) -> list[Cue]:
    """Keep only the new lines of each cue in roll-up captions, so each line comes out once.

    Roll-up captions (YouTube auto VTT and SRT) show the previous line again above the new
    one, and VTT adds 10 ms cues repeating a whole line. Files that do not roll are returned
    as they are, so a line legitimately said twice in a row is kept there.
    """
    if not _is_rolling(cues):
        return cues
    out: list[Cue] = []
    previous: tuple[CueLine, ...] = ()
    for cue in cues:
        new = cue.lines[_overlap(previous, cue.lines):]
        if new:
            out.append(replace(cue, lines=new))
        previous = cue.lines
    return out


@dataclass
class _Piece:
    text: str
    speaker: str | None  # as stated on this piece (voice tag or Name: prefix)
    turn: bool  # an explicit turn start: "- ", ">>" or "Name:"


def _pieces(line: CueLine) -> list[_Piece]:
    """Split one cue line at turn marks and read a ``Name:`` prefix on each part."""
    pieces = []
    cuts = list(_TURN_MARK.finditer(line.text))
    bounds = [(0, False)] + [(m.end(), True) for m in cuts]
    ends = [m.start() for m in cuts] + [len(line.text)]
    for (a, turn), b in zip(bounds, ends):
        text, speaker = line.text[a:b].strip(), line.voice
        if (m := _NAME_PREFIX.match(text)):
            speaker, text, turn = m.group(1), m.group(2), True
        elif (m := _BRACKET_NAME.match(text)) and not CUE.fullmatch(f"[{m.group(1)}]"):
            speaker, text, turn = m.group(1), (m.group(2) or "").strip(), True
            if not text:  # a tag alone on its line names the speaker of what follows
                pieces.append(_Piece("", speaker, True))
        if text:
            pieces.append(_Piece(text, speaker, turn))
    return pieces


def cues_to_segments(cues: list[Cue], t: Transcript) -> None:
    """Append the transcript's segments: one per turn when the file marks speakers or turns,
    else one per cue. A cue without a mark continues the current turn and speaker."""
    cues = drop_rolling_repeats(cues)
    cue_pieces = [[p for ln in cue.lines for p in _pieces(ln)] for cue in cues]
    marked = any(p.turn or p.speaker for ps in cue_pieces for p in ps)
    texts: list[list[str]] = []  # text parts per segment, joined once at the end
    pending = None  # speaker named by a tag alone on its line
    for cue, pieces in zip(cues, cue_pieces):
        for i, p in enumerate(pieces):
            if not p.text:
                pending = p.speaker
                continue
            if pending is not None:
                p.speaker, p.turn, pending = pending, True, None
            last = t.segments[-1] if t.segments else None
            if (last is None or p.turn or (p.speaker is not None and p.speaker != last.speaker)
                    or (not marked and i == 0)):
                t.segments.append(Segment("", p.speaker, cue.start, cue.end, cue.line))
                texts.append([p.text])
            else:
                texts[-1].append(p.text)
                last.end = max(last.end, cue.end)
    for seg, parts in zip(t.segments, texts):
        seg.text = " ".join(parts)


def _timing_lines(text: str) -> list[tuple[float, int]]:
    """(start seconds, 1-based line) of every ``start --> end`` line, in file order."""
    out, line, pos = [], 1, 0
    for m in _TIMING.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        try:
            out.append((parse_timestamp(m.group(1)), line))
        except ValueError:
            continue
    return out


def _line_numbers(starts: list[float], text: str) -> list[int | None]:
    """Line of each cue's timing line, matched in order by start time (libraries give none)."""
    return _match_lines(starts, _timing_lines(text))


def _match_lines(starts: list[float], timings: list[tuple[float, int]]) -> list[int | None]:
    j, out = 0, []
    for s in starts:
        k = next((k for k in range(j, min(j + 8, len(timings))) if abs(timings[k][0] - s) < 2e-3), None)
        out.append(timings[k][1] if k is not None else None)
        j = k + 1 if k is not None else j
    return out


def _line_of_offset(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


# ---------------------------------------------------------------- WebVTT

def sniff_webvtt(text: str) -> float:
    return 0.99 if text[:1000].lstrip()[:6] == "WEBVTT" else 0.0


def _vtt_seconds(ts) -> float:
    h, m, s, ms = ts.to_tuple()
    return h * 3600 + m * 60 + s + ms / 1000


# A cue time as players accept it: hh:mm:ss.ttt, mm:ss.ttt, m:ss.ttt and even ss.ttt (hours
# up to 99, which webvtt-py reads; minutes without hours may pass 59).
_VTT_TIME = re.compile(r"^(?:(?:(\d{1,2}):)?(\d{1,3}):)?(\d{1,2})[.,](\d{1,3})$")
_VTT_CUE_TIMING = re.compile(r"^[ \t]*(\S+)[ \t]+-->[ \t]+(\S+)(.*)$")
_HEADER_FIELD = re.compile(r"^([A-Za-z][\w-]{0,30}):[ \t]*(.*)$")


def _vtt_time(value: str) -> float:
    """Seconds of a WebVTT cue time; ValueError when it is not one."""
    m = _VTT_TIME.match(value)
    if not m:
        raise ValueError(value)
    h, mnt, s, frac = m.groups()
    if int(s) >= 60 or (h is not None and int(mnt) >= 60):
        raise ValueError(value)
    return int(h or 0) * 3600 + int(mnt or 0) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000


def _full_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def _prepare_webvtt(text: str, t: Transcript) -> tuple[str, list[tuple[float, int]]]:
    """Normalise cue times to ``hh:mm:ss.ttt`` for webvtt-py and record what is not speech.

    Header fields go to the metadata; NOTE, STYLE and REGION blocks and cue identifiers are
    skipped as markup; a cue whose timing is unreadable is skipped with a warning naming its
    line (the rest of the file is read). Returns the text from the ``WEBVTT`` line on, with
    the same lines, and the (start seconds, 1-based line) of every readable cue.
    """
    lines = text.split("\n")
    out, timings, n = list(lines), [], len(lines)
    first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if first is None or not lines[first].strip().startswith("WEBVTT"):
        raise ParseError("not WebVTT: the file must start with 'WEBVTT'", t.path, (first or 0) + 1)
    title = lines[first].strip()[6:].strip(" \t-")
    if title:
        t.metadata["title"] = title
    t.skip(lines[first], "WebVTT signature line", "header" if title else "markup", line=first + 1)
    i = first + 1
    while i < n and lines[i].strip() and "-->" not in lines[i]:
        if (m := _HEADER_FIELD.match(lines[i].strip())):
            t.metadata[m.group(1).lower()] = m.group(2).strip()
        t.skip(lines[i], "WebVTT header", "header", line=i + 1)
        i += 1
    while i < n:
        if not lines[i].strip():
            i += 1
            continue
        j = i + 1  # a whitespace-only line right under the timing line (YouTube) stays in the cue
        while j < n and (lines[j].strip() or (lines[j] and "-->" in lines[j - 1])):
            j += 1
        head = lines[i].strip()
        timing = next((k for k in range(i, min(i + 2, j)) if "-->" in lines[k]), None)
        if head.split(maxsplit=1)[0] in ("NOTE", "STYLE", "REGION"):
            t.skip("\n".join(lines[i:j]), f"WebVTT {head.split()[0]} block", "markup", line=i + 1, end_line=j)
        elif timing is None:
            t.skip("\n".join(lines[i:j]), "text outside any cue (no timing line above it)", line=i + 1, end_line=j)
            out[i:j] = [""] * (j - i)
        else:
            if timing > i:
                t.skip(lines[i], "cue identifier", "markup", line=i + 1)
            m = _VTT_CUE_TIMING.match(lines[timing])
            try:
                if not m:
                    raise ValueError(lines[timing].strip())
                start, end = _vtt_time(m.group(1)), _vtt_time(m.group(2))
            except ValueError:
                t.skip("\n".join(lines[timing + 1:j]) or lines[timing],
                       f"unreadable cue timing {lines[timing].strip()[:50]!r}", line=timing + 1, end_line=j)
                out[i:j] = [""] * (j - i)
            else:
                out[timing] = f"{_full_time(start)} --> {_full_time(end)}{m.group(3)}"
                timings.append((start, timing + 1))
        i = j
    return "\n".join(out[first:]), timings


def parse_webvtt(text: str, t: Transcript) -> None:
    normalised, timings = _prepare_webvtt(text, t)
    try:
        captions = webvtt.from_string(_SPACE_AFTER_TIMING.sub(r"\1", normalised)).captions
    except MalformedFileError as exc:
        raise ParseError("not WebVTT: the file must start with 'WEBVTT'", t.path, 1) from exc
    except MalformedCaptionError as exc:
        bad = str(exc).split()[-1].strip("'")
        line = _line_of_offset(text, text.find(bad)) if bad in text else None
        raise ParseError(f"bad WebVTT cue timing: {exc}", t.path, line) from exc
    starts = [_vtt_seconds(c.start_time) for c in captions]
    lines = _match_lines(starts, timings)
    cues = [Cue(s, _vtt_seconds(c.end_time), cue_lines(c.raw_text), ln)
            for c, s, ln in zip(captions, starts, lines)]
    _finish(cues, text, t)


def _finish(cues: list[Cue], text: str, t: Transcript) -> None:
    if not cues:
        raise ParseError("no caption cues found", t.path)
    cues_to_segments(cues, t)
    if not t.segments:
        raise ParseError("caption cues hold no text", t.path)
    check_truncated(text, t)


# ---------------------------------------------------------------- SRT

def sniff_srt(text: str) -> float:
    head = head_lines(text, chars=20_000)
    if len(head) < 2 or head[0].startswith("WEBVTT"):
        return 0.0
    opens = _SRT_TIMING.match(head[0]) or (head[0].isdigit() and _SRT_TIMING.match(head[1]))
    return 0.95 if opens else 0.0


def parse_srt(text: str, t: Transcript) -> None:
    if (m := _LONG_DIGITS.search(text)):
        raise ParseError("not SRT: a run of 40 or more digits", t.path, _line_of_offset(text, m.start()))
    try:
        subs = list(srt.parse(text))
    except srt.SRTParseError as exc:
        junk = exc.unmatched_content.strip()[:60]
        raise ParseError(f"not an SRT cue: {junk!r}", t.path,
                         _line_of_offset(text, exc.expected_start + len(exc.unmatched_content)
                                         - len(exc.unmatched_content.lstrip()))) from exc
    except (ValueError, OverflowError) as exc:  # srt.TimestampParseError, or hours past timedelta's range
        raise ParseError(f"bad SRT timestamp: {exc}", t.path) from exc
    starts = [s.start.total_seconds() for s in subs]
    lines = _line_numbers(starts, text)
    cues = [Cue(st, s.end.total_seconds(), cue_lines(s.content), ln)
            for s, st, ln in zip(subs, starts, lines)]
    _finish(cues, text, t)


FORMATS = [
    Format("webvtt", "WebVTT captions: <v Name> voices, Name: prefixes, '- ' turns; YouTube rolling captions de-duplicated",
           sniff_webvtt, parse_webvtt, cue="the file starts with WEBVTT"),
    Format("srt", "SubRip SRT captions: Name: prefixes, '- ' turns; YouTube rolling captions de-duplicated",
           sniff_srt, parse_srt, cue="a cue number and an 'hh:mm:ss,mmm --> hh:mm:ss,mmm' line at the top"),
]
