"""Summarise one transcript file: the first thing a user runs on their own file."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from .ingest import ParseError, parse_file
from .speakers.identity import is_generic


def inspect_file(path: str | Path, format: str | None = None) -> dict:
    """Detected format, speakers, utterance and word counts, time span, coverage (how much of
    the file's text is in utterances, what was skipped where and why; see ingest.coverage) and warnings.

    Returns ``{"ok": False, "error": "file:line: message"}`` instead of raising on bad input.
    """
    try:
        t = parse_file(path, format)
    except ParseError as exc:
        return {"ok": False, "file": str(path), "error": str(exc)}
    words = Counter()
    utts = Counter()
    for s in t.segments:
        key = s.speaker or ""
        utts[key] += 1
        words[key] += len(s.text.split())
    times = [x for s in t.segments for x in (s.start, s.end) if x is not None]
    return {
        "ok": True, "file": str(path), "format": t.format, "kind": t.kind,
        "utterances": len(t.segments), "words": sum(words.values()),
        "time_span_s": [min(times), max(times)] if times else None,
        "chapters": len(t.chapters), "metadata": t.metadata,
        "speakers": [{"label": label, "utterances": utts[label], "words": words[label], "generic": is_generic(label)}
                     for label in sorted(utts, key=lambda k: -words[k]) if label],
        "unlabelled_utterances": utts.get("", 0),
        "coverage": t.coverage,
        "warnings": t.warnings,
    }
