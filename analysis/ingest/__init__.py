"""Read a transcript file of any supported format into a :class:`Transcript`.

``parse_file(path)`` detects the format from the content (``format=`` overrides it);
``FORMATS`` lists every registered format with its description and detection cue. After
every parser, :mod:`.coverage` measures how much of the file's text ended up in segments
and what was skipped (``Transcript.coverage``), so no format drops text silently.
"""
from __future__ import annotations

from pathlib import Path

from . import captions as _captions
from . import json_formats as _json
from . import labelled as _labelled
from . import metadata as _metadata
from . import services as _services
from . import text as _text
from . import ttml as _ttml
from .base import Chapter, Format, ParseError, Segment, Skipped, Transcript, decode, read_file
from .coverage import measure as measure_coverage

# Registration order is the tie-break in detection: specific formats first, the seed text
# shapes after them, plain_text (the fallback) last.
FORMATS: dict[str, Format] = {f.name: f for module in (_captions, _json, _metadata, _services, _ttml, _labelled, _text)
                              for f in module.FORMATS}


def register(fmt: Format) -> Format:
    FORMATS[fmt.name] = fmt
    return fmt


def detect_format(text: str, path: str | Path | None = None) -> str:
    """Name of the format that claims ``text`` most confidently; ParseError if none does.

    Equal scores go to the format registered first in ``FORMATS``.
    """
    best, name = max(((f.sniff(text), name) for name, f in FORMATS.items()), key=lambda s: s[0])
    if best <= 0:
        raise ParseError("unknown transcript format; supported: " + ", ".join(sorted(FORMATS)), path)
    return name


def parse_text(text: str, format: str | None = None, path: str | Path | None = None) -> Transcript:
    """Parse already-decoded text. ``format`` (a name in FORMATS) skips detection."""
    if format in (None, "auto"):
        format = detect_format(text, path)
    elif format not in FORMATS:
        raise ParseError(f"unknown format {format!r}; supported: " + ", ".join(sorted(FORMATS)), path)
    fmt = FORMATS[format]
    transcript = Transcript(format=fmt.name, kind=fmt.kind, path=str(path) if path else None)
    fmt.parse(text, transcript)
    for seg in transcript.segments:
        seg.text = seg.text.strip()
    transcript.segments = [s for s in transcript.segments if s.text]
    measure_coverage(text, transcript, fmt.line_based)
    return transcript


def parse_file(path: str | Path, format: str | None = None) -> Transcript:
    """Decode and parse one transcript file; raises ParseError naming the file (and line)."""
    text, warnings = read_file(path)
    transcript = parse_text(text, format=format, path=path)
    transcript.warnings[:0] = warnings
    return transcript


__all__ = [
    "FORMATS",
    "Chapter",
    "Format",
    "ParseError",
    "Segment",
    "Skipped",
    "Transcript",
    "decode",
    "detect_format",
    "parse_file",
    "parse_text",
    "register",
]
