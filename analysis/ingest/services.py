"""JSON exports of transcription services: AssemblyAI, Deepgram, AWS Transcribe, Rev.ai and
YouTube timed text (``json3``, as yt-dlp saves it).

Each parser turns the service's timed units (utterances, paragraphs, monologues, words or
caption events) into segments; consecutive units of one speaker become one utterance. Speaker
labels stay as the service writes them: a string as is (``spk_0``), a bare number or letter
the way the service's own transcripts print it (``Speaker 0``, ``Speaker A``), so they remain
generic labels. Times are seconds (AssemblyAI and json3 give milliseconds). A unit with text
that cannot be placed is reported by its index; JSON has no useful line numbers.
"""
from __future__ import annotations

import re
from typing import Any

from .base import Format, ParseError, Segment, Transcript
from .captions import Cue, cue_lines, cues_to_segments
from .json_formats import finish, label_of, load_json, seconds, text_of

_HEAD = 200_000  # sniffers read the start of the file only


def _keys(*names: str) -> list[re.Pattern]:
    return [re.compile(rf'"{n}"\s*:') for n in names]


def _has(text: str, patterns: list[re.Pattern]) -> bool:
    head = text[:_HEAD]
    return head.lstrip()[:1] == "{" and all(p.search(head) for p in patterns)


def _speaker(value: Any) -> str | None:
    """A service's speaker value as a label: strings as written, numbers and single letters
    as the service prints them ("Speaker 0", "Speaker A")."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int) or (isinstance(value, str) and re.fullmatch(r"[A-Z]|\d{1,3}", value.strip())):
        return f"Speaker {str(value).strip()}"
    return label_of(value)


def _objects(value: Any, what: str, t: Transcript) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ParseError(f"{what} must be a list of objects", t.path)
    return value


def _dicts(value: Any) -> list[dict]:
    """The objects of an optional list (anything else, or a missing key, gives none)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _get(data: Any, *path: str | int) -> Any:
    for key in path:
        if isinstance(key, int):
            data = data[key] if isinstance(data, list) and len(data) > key else None
        else:
            data = data.get(key) if isinstance(data, dict) else None
    return data


# ---------------------------------------------------------------- AssemblyAI

_AAI = _keys("utterances", "speaker", "confidence")
_AAI_WORDS = _keys("words", "audio_duration")


def sniff_assemblyai(text: str) -> float:
    head = text[:_HEAD]
    if '"results"' in head or '"monologues"' in head:
        return 0.0
    return 0.97 if _has(text, _AAI) or _has(text, _AAI_WORDS) else 0.0


def parse_assemblyai(text: str, t: Transcript) -> None:
    """``utterances`` of ``speaker`` ("A"), ``start``/``end`` (ms) and ``text``; without
    diarisation, the ``words`` list joined into sentences."""
    data = load_json(text, t)
    if not isinstance(data, dict):
        raise ParseError("AssemblyAI JSON needs a top-level object", t.path)
    units = data.get("utterances") or data.get("words")
    pieces = [Segment(text_of(u.get("text")), _speaker(u.get("speaker")),
                      seconds(u.get("start"), "start", i, t, 0.001), seconds(u.get("end"), "end", i, t, 0.001))
              for i, u in enumerate(_objects(units, "'utterances' (or 'words')", t))]
    for key in ("id", "language_code"):
        if isinstance(data.get(key), str):
            t.metadata[key] = data[key]
    finish(pieces, t)


# ---------------------------------------------------------------- Deepgram

_DG = _keys("results", "channels", "alternatives")
_DG_UTT = _keys("results", "utterances")


def sniff_deepgram(text: str) -> float:
    return 0.97 if _has(text, _DG) or _has(text, _DG_UTT) else 0.0


def parse_deepgram(text: str, t: Transcript) -> None:
    """``results.utterances`` (``speaker``, ``start``/``end`` s, ``transcript``; every channel);
    else the first channel's ``paragraphs`` (``speaker``, ``sentences``), else its ``words``
    (per-word ``speaker``), else its plain ``transcript``; other channels are reported unread."""
    data = load_json(text, t)
    results = _get(data, "results")
    alt = _get(results, "channels", 0, "alternatives", 0)
    pieces: list[Segment] = []
    if _get(results, "utterances"):
        for i, u in enumerate(_objects(results["utterances"], "results.utterances", t)):
            pieces.append(Segment(text_of(u.get("transcript")), _speaker(u.get("speaker")),
                                  seconds(u.get("start"), "start", i, t), seconds(u.get("end"), "end", i, t)))
    elif _get(alt, "paragraphs", "paragraphs"):
        for i, p in enumerate(_objects(alt["paragraphs"]["paragraphs"], "paragraphs", t)):
            sentences = _dicts(p.get("sentences"))
            pieces.append(Segment(" ".join(text_of(s.get("text")) for s in sentences).strip(),
                                  _speaker(p.get("speaker")), seconds(p.get("start"), "start", i, t),
                                  seconds(p.get("end"), "end", i, t)))
    elif _get(alt, "words"):
        for i, w in enumerate(_objects(alt["words"], "words", t)):
            pieces.append(Segment(text_of(w.get("punctuated_word") or w.get("word")), _speaker(w.get("speaker")),
                                  seconds(w.get("start"), "start", i, t), seconds(w.get("end"), "end", i, t)))
    elif isinstance(_get(alt, "transcript"), str):
        pieces.append(Segment(alt["transcript"].strip()))
    else:
        raise ParseError("Deepgram JSON has no results.utterances, paragraphs, words or transcript", t.path)
    if not _get(results, "utterances"):  # the paragraphs, words or transcript read are channel 0's
        for k, channel in enumerate(_dicts(_get(results, "channels"))[1:], 1):
            if isinstance(text := _get(channel, "alternatives", 0, "transcript"), str) and text.strip():
                t.skip(text, f"channel {k} not read (only the first channel is; results.utterances has all)")
    if isinstance(_get(data, "metadata", "request_id"), str):
        t.metadata["request_id"] = data["metadata"]["request_id"]
    finish(pieces, t)


# ---------------------------------------------------------------- AWS Transcribe

_AWS = _keys("results", "transcripts", "items")


def sniff_aws(text: str) -> float:
    return 0.97 if _has(text, _AWS) and ('"pronunciation"' in text[:_HEAD] or '"jobName"' in text[:_HEAD]) else 0.0


def parse_aws(text: str, t: Transcript) -> None:
    """``results.items`` (words with ``start_time``/``end_time`` s, punctuation attached to the
    word before) with the speaker of each word from ``speaker_label`` on the item or from the
    ``results.speaker_labels.segments`` that contain its start."""
    data = load_json(text, t)
    results = _get(data, "results")
    items = _objects(_get(results, "items"), "results.items", t)
    spans = []
    for i, seg in enumerate(_dicts(_get(results, "speaker_labels", "segments"))):
        spans.append((seconds(seg.get("start_time"), "start_time", i, t),
                      seconds(seg.get("end_time"), "end_time", i, t), label_of(seg.get("speaker_label"))))
    spans = [(a, b, who) for a, b, who in spans if a is not None and b is not None]
    pieces: list[Segment] = []
    for i, item in enumerate(items):
        word = text_of(_get(item, "alternatives", 0, "content"))
        if not word:
            continue
        if item.get("type") == "punctuation" and pieces:
            pieces[-1].text += word
            continue
        start = seconds(item.get("start_time"), "start_time", i, t)
        who = label_of(item.get("speaker_label")) or next(
            (w for a, b, w in spans if start is not None and a - 1e-3 <= start <= b + 1e-3), None)
        pieces.append(Segment(word, who, start, seconds(item.get("end_time"), "end_time", i, t)))
    if isinstance(_get(data, "jobName"), str):
        t.metadata["job_name"] = data["jobName"]
    finish(pieces, t)


# ---------------------------------------------------------------- Rev.ai

_REV = _keys("monologues", "elements")


def sniff_revai(text: str) -> float:
    return 0.97 if _has(text, _REV) else 0.0


def parse_revai(text: str, t: Transcript) -> None:
    """``monologues`` of ``speaker`` (number; ``speaker_name`` when set) and ``elements``
    (``text`` with ``ts``/``end_ts`` s, ``punct``, ``unknown`` tags written as ``[tag]``)."""
    data = load_json(text, t)
    pieces = []
    for i, mono in enumerate(_objects(_get(data, "monologues"), "monologues", t)):
        elements = _dicts(mono.get("elements"))
        parts, times = [], []
        for e in elements:
            value = e.get("value") if isinstance(e.get("value"), str) else ""
            parts.append(f"[{value.strip('<> ')}]" if e.get("type") == "unknown" and value.strip() else value)
            if e.get("type") == "text":
                times.append((e.get("ts"), e.get("end_ts")))
        who = label_of(mono.get("speaker_name")) or _speaker(mono.get("speaker"))
        pieces.append(Segment(" ".join("".join(parts).split()), who,
                              seconds(times[0][0], "ts", i, t) if times else None,
                              seconds(times[-1][1], "end_ts", i, t) if times else None))
    finish(pieces, t)


# ---------------------------------------------------------------- YouTube json3

_JSON3 = _keys("events", "segs")


def sniff_json3(text: str) -> float:
    return 0.97 if _has(text, _JSON3) and re.search(r'"tStartMs"\s*:', text[:_HEAD]) else 0.0


def parse_json3(text: str, t: Transcript) -> None:
    """``events`` with ``tStartMs``/``dDurationMs`` and ``segs`` of ``utf8`` text, read as
    caption cues: ``>>`` marks a new speaker, ``[Name]`` and ``Name:`` name one."""
    data = load_json(text, t)
    cues = []
    for i, ev in enumerate(_objects(_get(data, "events"), "events", t)):
        segs = _dicts(ev.get("segs"))
        payload = "".join(s["utf8"] for s in segs if isinstance(s.get("utf8"), str))
        start = seconds(ev.get("tStartMs"), "tStartMs", i, t, 0.001)
        if not payload.strip() or start is None:
            if payload.strip():
                t.skip(payload, f"event {i} has no readable tStartMs")
            continue
        duration = seconds(ev.get("dDurationMs"), "dDurationMs", i, t, 0.001) or 0.0
        cues.append(Cue(start, round(start + duration, 6), cue_lines(payload), None))
    if not cues:
        raise ParseError("json3 has no caption event with text", t.path)
    cues_to_segments(cues, t)


FORMATS = [
    Format("assemblyai_json", "AssemblyAI transcript JSON: utterances of speaker (A, B: 'Speaker A'), start/end in ms, text",
           sniff_assemblyai, parse_assemblyai, line_based=False,
           cue='a JSON object with "utterances", "speaker" and "confidence" (or "words" and "audio_duration")'),
    Format("deepgram_json", "Deepgram JSON: results.utterances, or channels[].alternatives[].paragraphs, "
           "with speaker numbers ('Speaker 0') and times in s",
           sniff_deepgram, parse_deepgram, line_based=False,
           cue='a JSON object with "results" holding "channels"/"alternatives" or "utterances"'),
    Format("aws_transcribe_json", "AWS Transcribe JSON: results.items (words, s) with speakers from "
           "results.speaker_labels.segments (spk_0)",
           sniff_aws, parse_aws, line_based=False,
           cue='a JSON object with "results", "transcripts" and "items" ("pronunciation" items or "jobName")'),
    Format("revai_json", "Rev.ai JSON: monologues of speaker ('Speaker 0') and timed text elements (ts, end_ts in s)",
           sniff_revai, parse_revai, line_based=False, cue='a JSON object with "monologues" and "elements"'),
    Format("youtube_json3", "YouTube timed text json3 (yt-dlp): events with tStartMs and segs; '>>' turns, "
           "[Name] and Name: speakers",
           sniff_json3, parse_json3, line_based=False, cue='a JSON object with "events", "segs" and "tStartMs"'),
]
