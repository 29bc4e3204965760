"""Episode metadata files that hold no speech, read as summaries (catalog ``kind: summary``):
Podcasting 2.0 chapters (``podcast:chapters``) and a yt-dlp info JSON (``--write-info-json``).

Both give chapters with start times; the info JSON also gives the video's description.
``podlens add`` stores them beside the transcript (analysis/add).
"""
from __future__ import annotations

import re

from .base import Chapter, Format, ParseError, Transcript
from .json_formats import load_json, seconds, text_of

_CHAPTERS = re.compile(r'"chapters"\s*:\s*\[')
_START_TIME = re.compile(r'"startTime"\s*:')
_EXTRACTOR = re.compile(r'"extractor(?:_key)?"\s*:')
_WEBPAGE = re.compile(r'"webpage_url"\s*:')


def sniff_chapters(text: str) -> float:
    head = text[:20_000]
    return 0.96 if head.lstrip()[:1] == "{" and _CHAPTERS.search(head) and _START_TIME.search(head) else 0.0


def _chapters(items, t: Transcript, start_key: str) -> None:
    """Append the chapters of ``items`` (objects with ``start_key`` seconds and ``title``);
    a chapter without a readable time or title is skipped, naming its index."""
    if not isinstance(items, list):
        raise ParseError("'chapters' must be a list of objects", t.path)
    for i, ch in enumerate(items):
        start = seconds(ch.get(start_key), start_key, i, t) if isinstance(ch, dict) else None
        title = text_of(ch.get("title")).strip() if isinstance(ch, dict) else ""
        if start is None or not title:
            t.skip(str(ch)[:200], f"chapter {i}: no {start_key} or title", line=None)
            continue
        t.chapters.append(Chapter(start=start, title=title))
        t.skip(title, f"chapter {i}: its title, read as a chapter", "header")


def parse_chapters(text: str, t: Transcript) -> None:
    """Podcasting 2.0 chapters JSON: ``{"version", "chapters": [{"startTime", "title", "toc"?}]}``;
    chapters marked ``"toc": false`` (not part of the table of contents) are left out as markup."""
    t.kind = "summary"
    data = load_json(text, t)
    if not isinstance(data, dict) or "chapters" not in data:
        raise ParseError("chapters JSON needs a top-level object with a 'chapters' list", t.path)
    items = data["chapters"]
    if isinstance(items, list):
        hidden = [i for i, ch in enumerate(items) if isinstance(ch, dict) and ch.get("toc") is False]
        for i in hidden:
            t.skip(str(items[i].get("title", ""))[:200], f"chapter {i}: toc false", "markup")
        items = [ch for i, ch in enumerate(items) if i not in hidden]
    _chapters(items, t, "startTime")
    if not t.chapters:
        raise ParseError("chapters JSON has no chapter with a startTime and a title", t.path)


def sniff_ytdlp_info(text: str) -> float:
    head = text[:200_000]
    return 0.96 if head.lstrip()[:1] == "{" and _EXTRACTOR.search(head) and _WEBPAGE.search(head) else 0.0


def parse_ytdlp_info(text: str, t: Transcript) -> None:
    """yt-dlp info JSON: ``description`` and ``chapters`` (``start_time``, ``title``); the
    title, channel, upload date, duration and video id are read into the metadata."""
    t.kind = "summary"
    data = load_json(text, t)
    if not isinstance(data, dict):
        raise ParseError("yt-dlp info JSON must be an object", t.path)
    for key in ("title", "channel", "uploader", "upload_date", "release_date", "id", "webpage_url", "extractor_key"):
        if data.get(key) not in (None, ""):
            t.metadata[key] = str(data[key])
    if isinstance(data.get("duration"), (int, float)):
        t.metadata["duration"] = str(data["duration"])
    if text_of(data.get("description")).strip():
        t.metadata["description"] = text_of(data["description"]).strip()
        t.skip(t.metadata["description"], "description, read into the metadata", "header")
    if data.get("chapters"):
        _chapters(data["chapters"], t, "start_time")


FORMATS = [
    Format("podcasting20_chapters", "Podcasting 2.0 chapters JSON (podcast:chapters): chapters with startTime and title "
           "(metadata, not speech)", sniff_chapters, parse_chapters, kind="summary",
           cue='a JSON object with a "chapters" list holding "startTime"', line_based=False),
    Format("ytdlp_info_json", "yt-dlp info JSON (--write-info-json): description and chapters (metadata, not speech)",
           sniff_ytdlp_info, parse_ytdlp_info, kind="summary",
           cue='a JSON object with "extractor" and "webpage_url"', line_based=False),
]
