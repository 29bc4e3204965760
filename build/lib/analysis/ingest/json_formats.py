"""JSON transcripts: Whisper, WhisperX (with diarisation) and Podcasting 2.0 (``podcast:transcript``).

All three hold a list of timed segments (Whisper and WhisperX segments may also be saved as a
bare JSON array, as many scripts do). JSON has no line numbers once loaded, so problems
in a segment are reported by its index; invalid JSON is reported at its line and column.
Consecutive pieces of one speaker are merged into utterances (Podcasting 2.0 files often
have one word per segment); unlabelled single words are merged up to sentence ends.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

from .base import Format, ParseError, Segment, Transcript

_KEY = r'"{}"\s*:'
_SEGMENTS, _SPEAKER, _START, _START_TIME, _BODY, _TEXT = (
    re.compile(_KEY.format(k)) for k in ("segments", "speaker", "start", "startTime", "body", "text"))
_SENTENCE_END = (".", "?", "!", "…")


def load_json(text: str, t: Transcript) -> Any:
    """Parse ``text`` as JSON; ParseError at the offending line and column if it is not."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg} (column {exc.colno})", t.path, exc.lineno) from exc
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise ParseError(f"invalid JSON: {exc}", t.path) from exc
    except RecursionError as exc:
        raise ParseError("invalid JSON: nested too deeply", t.path) from exc


def _segments(data: Any, t: Transcript, bare: bool = False) -> list[dict]:
    """The ``segments`` list of objects; with ``bare``, a top-level array of segment objects too."""
    segments = data if bare and isinstance(data, list) else data.get("segments") if isinstance(data, dict) else None
    if not isinstance(segments, list) or not all(isinstance(s, dict) for s in segments):
        raise ParseError("JSON transcript needs a top-level object with a 'segments' list of objects"
                         + (" (or a top-level array of them)" if bare else ""), t.path)
    return segments


def seconds(value: Any, what: str, index: int, t: Transcript, scale: float = 1.0) -> float | None:
    """A time field (number or numeric string) in seconds, after multiplying by ``scale``
    (0.001 for milliseconds); None, with a warning naming the unit's index, if unreadable."""
    if value is None:
        return None
    try:
        out = float(value) * scale if scale == 1.0 else round(float(value) * scale, 6)
    except (TypeError, ValueError, OverflowError):
        out = math.nan
    if not math.isfinite(out):
        t.warn(f"segment {index}: {what} {value!r} is not a time; left empty")
        return None
    return out


def text_of(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def label_of(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def merge_utterances(pieces: list[Segment]) -> list[Segment]:
    """Join consecutive pieces of the same labelled speaker into one utterance; join
    unlabelled one-word pieces until a sentence ends. Times span the joined pieces."""
    out: list[Segment] = []
    texts: list[list[str]] = []  # text parts per utterance, joined once at the end
    for p in pieces:
        last = out[-1] if out else None
        joins = last is not None and p.speaker == last.speaker and (p.speaker is not None or (
            len(p.text.split()) == 1 and not texts[-1][-1].endswith(_SENTENCE_END)))
        if joins:
            texts[-1].append(p.text)
            last.end = p.end if p.end is not None else last.end
        else:
            out.append(Segment("", p.speaker, p.start, p.end, p.line))
            texts.append([p.text])
    for seg, parts in zip(out, texts):
        seg.text = " ".join(parts)
    return out


# ---------------------------------------------------------------- Whisper / WhisperX

def _looks_like_json_segments(text: str) -> bool:
    return text[:1000].lstrip()[:1] == "{" and bool(_SEGMENTS.search(text))


def _looks_like_bare_segments(text: str) -> bool:
    """A top-level array whose first object has ``start`` and ``text`` (Whisper segments saved bare)."""
    head = text[:2000].lstrip()
    return head[:1] == "[" and head[1:].lstrip()[:1] == "{" and bool(_START.search(head) and _TEXT.search(head))


def sniff_whisper(text: str) -> float:
    if _looks_like_bare_segments(text):
        return 0.9
    return 0.9 if _looks_like_json_segments(text) and _START.search(text) else 0.0


def sniff_whisperx(text: str) -> float:
    speaker = _SPEAKER.search(text[:2000] if _looks_like_bare_segments(text) else text)
    return 0.95 if sniff_whisper(text) and speaker else 0.0


def _word_pieces(seg: dict, index: int, t: Transcript) -> list[Segment]:
    """One piece per word of a WhisperX segment whose words name more than one speaker
    (merged back into runs later); empty when they do not, so the segment stands whole."""
    words = seg.get("words")
    if not isinstance(words, list) or not all(isinstance(w, dict) for w in words):
        return []
    labels = [label_of(w.get("speaker")) for w in words]
    if None in labels or len(set(labels)) < 2:
        return []
    return [Segment(text_of(w.get("word")), label, seconds(w.get("start"), "word start", index, t),
                    seconds(w.get("end"), "word end", index, t)) for label, w in zip(labels, words)]


def parse_whisper(text: str, t: Transcript) -> None:
    """Whisper and WhisperX ``segments`` (``start``/``end`` in seconds, optional ``speaker``;
    a segment whose words carry different speakers is split at the speaker changes), in an
    object's ``segments`` list or a bare top-level array."""
    data = load_json(text, t)
    pieces = []
    for i, seg in enumerate(_segments(data, t, bare=True)):
        pieces += _word_pieces(seg, i, t) or [
            Segment(text_of(seg.get("text")), label_of(seg.get("speaker")),
                    seconds(seg.get("start"), "start", i, t), seconds(seg.get("end"), "end", i, t))]
    if isinstance(data, dict) and isinstance(data.get("language"), str):
        t.metadata["language"] = data["language"]
    finish(pieces, t)


def finish(pieces: list[Segment], t: Transcript) -> None:
    t.segments = merge_utterances([p for p in pieces if p.text])
    if not t.segments:
        raise ParseError("JSON transcript has no segment with text", t.path)


# ---------------------------------------------------------------- Podcasting 2.0

def sniff_podcasting20(text: str) -> float:
    ok = _looks_like_json_segments(text) and _START_TIME.search(text) and _BODY.search(text)
    return 0.97 if ok else 0.0


def parse_podcasting20(text: str, t: Transcript) -> None:
    """Podcasting 2.0 JSON: ``segments`` of ``speaker``, ``startTime``/``endTime`` (seconds), ``body``."""
    data = load_json(text, t)
    pieces = [Segment(text_of(seg.get("body")), label_of(seg.get("speaker")),
                      seconds(seg.get("startTime"), "startTime", i, t), seconds(seg.get("endTime"), "endTime", i, t))
              for i, seg in enumerate(_segments(data, t))]
    if isinstance(data.get("version"), str):
        t.metadata["version"] = data["version"]
    finish(pieces, t)


FORMATS = [
    Format("podcasting20_json", "Podcasting 2.0 transcript JSON: segments of speaker, startTime, endTime, body",
           sniff_podcasting20, parse_podcasting20, cue='a JSON object with "segments" holding "startTime" and "body"',
           line_based=False),
    Format("whisperx_json", "WhisperX JSON: segments (and words) with diarisation labels such as SPEAKER_00; "
           "also a bare array of {start, end, text, speaker}",
           sniff_whisperx, parse_whisper, cue='Whisper segments ("segments" object or bare array, "start") with "speaker"',
           line_based=False),
    Format("whisper_json", "Whisper JSON: {text, segments: [{start, end, text, words?}]} (or a bare array) without speakers",
           sniff_whisper, parse_whisper, cue='a JSON object with "segments" and "start", or a bare array of {start, text}',
           line_based=False),
]
