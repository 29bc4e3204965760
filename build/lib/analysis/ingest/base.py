"""Plain data types every parser returns, plus decoding and timestamp helpers they share.

A parser turns text into a :class:`Transcript`: segments in file order (speaker label as
written, times in seconds when the file has them), chapters, header metadata and warnings.
It never resolves speakers or cleans noise; that happens later in the corpus build.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import config


class ParseError(ValueError):
    """A transcript cannot be read. ``str()`` names the file and, where known, the line."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None):
        self.path, self.line, self.message = (str(path) if path else None), line, message
        where = f"{self.path}" if self.path else "<text>"
        if line is not None:
            where += f":{line}"
        super().__init__(f"{where}: {message}")


@dataclass
class Segment:
    """One stretch of text as the file gives it.

    ``speaker`` is the label as written (None when the file has none); ``start``/``end``
    are seconds from the episode start when the file states them; ``line`` is the
    1-based line of the raw file where the segment starts.
    """

    text: str
    speaker: str | None = None
    start: float | None = None
    end: float | None = None
    line: int | None = None


# Why a stretch of the file is in no utterance. Only "unread" is a loss (and a warning); the
# others are structure the format defines: markup, timing, header fields read into metadata,
# footers of the transcribing tool or editor, and caption lines shown twice (rolling captions).
SKIP_KINDS = ("markup", "timing", "header", "footer", "duplicate", "unread")


@dataclass
class Skipped:
    """Text of the file that no segment holds: lines ``line``..``end_line`` (1-based; None for
    JSON units, which are named in ``reason``), why, and of what ``kind`` (see SKIP_KINDS)."""

    line: int | None
    text: str
    kind: str
    reason: str
    end_line: int | None = None


@dataclass
class Chapter:
    start: float | None  # seconds
    title: str | None
    summary: str | None = None
    line: int | None = None


@dataclass
class Transcript:
    """What one file says. ``kind`` is ``transcript`` (speech) or ``summary`` (metadata only)."""

    format: str
    segments: list[Segment] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)  # header fields: title, date, ...
    warnings: list[str] = field(default_factory=list)  # "path:line: message"
    kind: str = "transcript"
    path: str | None = None
    skipped: list[Skipped] = field(default_factory=list)  # declared by the parser
    coverage: dict = field(default_factory=dict)  # filled by ingest.coverage after parsing

    def warn(self, message: str, line: int | None = None) -> None:
        where = (self.path or "<text>") + (f":{line}" if line is not None else "")
        self.warnings.append(f"{where}: {message}")

    def skip(self, text: str, reason: str, kind: str = "unread", line: int | None = None,
             end_line: int | None = None) -> None:
        """Record text the parser leaves out of every segment; an ``unread`` skip also warns."""
        if kind not in SKIP_KINDS:
            raise ValueError(f"skip kind {kind!r} not in {SKIP_KINDS}")
        self.skipped.append(Skipped(line, text, kind, reason, end_line))
        if kind == "unread":
            self.warn(f"skipped ({reason}): {' '.join(text.split())[:60]!r}", line=line)


@dataclass(frozen=True)
class Format:
    """A registered transcript format.

    ``sniff(text)`` returns a confidence in [0, 1] that ``text`` is this format (0: surely
    not); ``parse(text, transcript)`` fills ``transcript`` or raises :class:`ParseError`.
    ``cue`` says what detection looks for; ``line_based`` is False for structured formats
    (JSON, XML) whose coverage is counted over the units the parser read, not file lines.
    """

    name: str
    description: str
    sniff: Callable[[str], float]
    parse: Callable[[str, Transcript], None]
    kind: str = "transcript"
    cue: str = ""
    line_based: bool = True


# ---------------------------------------------------------------- decoding

def decode(data: bytes, path: str | Path | None = None) -> tuple[str, list[str]]:
    """Decode a transcript's bytes to text; return the text and warnings.

    UTF-8 (with or without BOM) and UTF-16/32 with BOM are decoded as such; other bytes
    that are not valid UTF-8 fall back to Windows-1252 (a superset of printable Latin-1)
    with a warning. Empty and binary input raise :class:`ParseError`.
    """
    warnings: list[str] = []
    where = str(path) if path else "<text>"
    if not data.strip():
        raise ParseError("empty file", path)
    if len(data) > config.MAX_FILE_BYTES:
        raise ParseError(
            f"file is {len(data) / 2**20:.0f} MiB, over the limit of "
            f"{config.MAX_FILE_BYTES / 2**20:.0f} MiB (PODLENS_MAX_FILE_BYTES)", path)
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                     (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                text = data.decode(enc)
            except UnicodeDecodeError as exc:
                raise ParseError(f"invalid {enc} after byte-order mark at byte {exc.start}", path) from exc
            if enc != "utf-8-sig":
                warnings.append(f"{where}: decoded as {enc.upper()} (byte-order mark)")
            return _normalise_newlines(text), warnings
    if _looks_binary(data):
        raise ParseError("binary file (not text): NUL or control bytes in the first 8 KiB", path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        text = data.decode("cp1252", errors="replace")
        warnings.append(f"{where}:{line}: not valid UTF-8; decoded as Windows-1252/Latin-1")
    return _normalise_newlines(text), warnings


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return control > len(head) * 0.05


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")


def read_file(path: str | Path) -> tuple[str, list[str]]:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ParseError("file not found", path) from exc
    except IsADirectoryError as exc:
        raise ParseError("is a directory, not a transcript file", path) from exc
    return decode(data, path)


# ---------------------------------------------------------------- timestamps

_TS = re.compile(r"^(?:(\d{1,3}):)?(\d{1,3}):(\d{1,2})(?:[.,](\d{1,3}))?$")


def parse_timestamp(value: str) -> float:
    """Seconds from ``h:mm:ss``, ``mm:ss``, ``m:s`` (chapter lists write ``17:8``), with
    optional ``.mmm`` or ``,mmm`` fractions. Raises ValueError on anything else."""
    m = _TS.match(value.strip())
    if not m:
        raise ValueError(f"not a timestamp: {value!r}")
    h, mnt, s, frac = m.groups()
    if int(s) >= 60 or (h is not None and int(mnt) >= 60):
        raise ValueError(f"not a timestamp: {value!r}")
    seconds = int(h or 0) * 3600 + int(mnt) * 60 + int(s)
    return seconds + (int(frac) / 10 ** len(frac) if frac else 0.0)


# ---------------------------------------------------------------- shared text helpers

_HEADER_FIELD = re.compile(r"^\*\*([A-Za-z][\w ]{0,30}):\*\*\s*(.*)$")


def split_markdown_header(lines: list[str]) -> tuple[dict[str, str], int]:
    """Read a leading Markdown header (``# Title``, ``**Key:** value`` lines, up to ``---``).

    Returns the metadata (keys lower-cased with ``_``) and the index of the first body line.
    """
    meta: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if line.startswith("# ") and "title" not in meta:
            meta["title"] = line[2:].strip()
        elif (m := _HEADER_FIELD.match(line)):
            meta[m.group(1).strip().lower().replace(" ", "_")] = m.group(2).strip()
        elif line == "---":
            i += 1
            break
        else:
            break
        i += 1
    return meta, i


def head_lines(text: str, lines: int = 400, chars: int = 100_000) -> list[str]:
    """Stripped non-blank lines among the first ``lines`` (reads only the start of big files;
    sniffers use it so detection costs the same on a 50 MB file as on a small one)."""
    return [s for ln in text[:chars].split("\n")[:lines] if (s := ln.strip())]


# The closing lines transcription tools and editors add ("Transcribed by https://otter.ai",
# "Transcript edited for length and clarity", "Copyright ..."): never speech.
KNOWN_FOOTER = re.compile(
    r"^[\s*_>~–—-]*(?:"
    r"(?:this\s+)?(?:auto(?:matically|-generated)?\s+)?(?:transcript(?:ion)?|captions?|subtitles?)s?"
    r"(?:\s+(?:was|were|has\s+been|have\s+been|is))?(?:\s+(?:automatically|lightly|professionally|machine))?"
    r"\s+(?:generated|produced|edited|made|provided|created|prepared|by|powered|courtesy)\b"
    r"|(?:transcribed|captioned|subtitled|(?:lightly\s+)?edited)\s+(?:by|with|using|for|on)\b"
    r"|copyright\b|©|all rights reserved"
    r")", re.IGNORECASE)
_RULE = re.compile(r"^(?:-{3,}|\*{3,}|_{3,})$")
_ITALIC_LINE = re.compile(r"^(?:\*[^*\n]+\*|_[^_\n]+_)$")


def footer_start(lines: list[str], is_turn: Callable[[str], bool] | None = None) -> int:
    """Index of the first line of the file's closing footer (``len(lines)`` when none).

    The footer is the trailing run of known footer lines, Markdown rules and whole-line italic
    notes (at most 8 non-blank lines; italic lines alone are not a footer, they may be stage
    cues), or everything after a Markdown rule near the end when none of it opens a turn
    (``is_turn``: the format's speaker-line test), such as an editor's credits.
    """
    i, taken, known = len(lines), 0, False
    while i > 0 and taken < 8:
        line = lines[i - 1].strip()
        if line and not (KNOWN_FOOTER.match(line) or _RULE.match(line) or _ITALIC_LINE.match(line)):
            break
        if line:
            taken += 1
            known = known or bool(KNOWN_FOOTER.match(line) or _RULE.match(line))
        i -= 1
    start = i if known else len(lines)
    if is_turn is not None:
        tail = [k for k in range(len(lines) - 1, -1, -1) if lines[k].strip()][:9]
        rule = next((k for k in tail if _RULE.match(lines[k].strip())), None)
        if rule is not None and not any(is_turn(lines[k].strip()) for k in tail if k > rule):
            start = min(start, rule)
    while start < len(lines) and not lines[start].strip():
        start += 1
    return start


def skip_footer(lines: list[str], t: Transcript, is_turn: Callable[[str], bool] | None = None) -> int:
    """Record the closing footer of ``lines`` (see :func:`footer_start`) as skipped; return
    the index where it starts."""
    start = footer_start(lines, is_turn)
    for k in range(start, len(lines)):
        if (line := lines[k].strip()):
            t.skip(line, "markup rule" if _RULE.match(line) else "footer of the transcribing tool or editor",
                   "markup" if _RULE.match(line) else "footer", line=k + 1)
    if any("otter.ai" in ln.lower() for ln in lines[start:]):
        t.metadata["transcribed_by"] = "otter.ai"
    return start


def check_truncated(text: str, transcript: Transcript) -> None:
    """Warn when the file ends mid-line: no final newline and no closing punctuation. A last
    line the parser skipped as a footer or header is complete by definition."""
    stripped = text.rstrip(" \t")
    if stripped and not stripped.endswith("\n"):
        last_line = text.count("\n") + 1
        if any(s.kind in ("footer", "header", "markup") and s.line is not None
               and s.line <= last_line <= (s.end_line or s.line) for s in transcript.skipped):
            return
        last = stripped.rsplit("\n", 1)[-1].strip()
        if last and last[-1] not in ".?!\"')]}>…-♪*":
            transcript.warn(f"file ends mid-line (truncated?): ...{last[-40:]!r}",
                            line=last_line)
