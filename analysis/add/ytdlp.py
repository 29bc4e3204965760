"""A video's yt-dlp info JSON (``yt-dlp --write-info-json --write-subs --write-auto-subs
--skip-download URL``) with its subtitle file beside it: title, channel as the show, upload
date, duration, page URL and (YouTube) video id from the JSON, chapters from it too (the JSON is
kept as the entry's summary file), the speech from the subtitles."""
from __future__ import annotations

import json
from pathlib import Path

from .draft import Draft, ItemError, RawFile, finish, parse_date
from .files import number_of

SUBTITLE_EXTS = (".vtt", ".srt", ".json3", ".ttml", ".srv3")  # in order of preference
INFO_SUFFIX = ".info.json"


def is_info_json(data: bytes) -> bool:
    from ..ingest.metadata import sniff_ytdlp_info

    try:
        return sniff_ytdlp_info(data[:200_000].decode("utf-8", errors="ignore")) > 0
    except ValueError:
        return False


def subtitles_beside(info_path: Path, info: dict) -> list[Path]:
    """The subtitle files yt-dlp wrote beside ``info_path`` (``<name>.<lang>.<ext>``), best
    first: the video's language, then other languages with subtitles made by people, then
    automatic captions; within a language VTT, SRT, json3, TTML."""
    stem = info_path.name[: -len(INFO_SUFFIX)] if info_path.name.endswith(INFO_SUFFIX) else info_path.stem
    found = [p for p in info_path.parent.glob(f"{_glob_escape(stem)}.*")
             if p.suffix in SUBTITLE_EXTS and p != info_path]
    manual = set((info.get("subtitles") or {}).keys())
    language = info.get("language") or ""

    def rank(p: Path):
        lang = p.name[len(stem) + 1: -len(p.suffix)]
        return (not lang.startswith(language) if language else False, lang not in manual,
                SUBTITLE_EXTS.index(p.suffix), p.name)
    return sorted(found, key=rank)


def _glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "[]*?" else c for c in text)


def info_draft(path: Path, data: bytes, show: str | None) -> Draft:
    """The draft of one info JSON. Raises ItemError naming the file (no subtitles beside it,
    unreadable JSON)."""
    try:
        info = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ItemError(f"{path}: not a readable yt-dlp info JSON ({exc})") from None
    subs = subtitles_beside(path, info)
    if not subs:
        raise ItemError(f"{path}: no subtitle file beside it (<name>.<lang>{'|'.join(SUBTITLE_EXTS)}); "
                        "download with --write-subs --write-auto-subs --skip-download")
    sub = subs[0]
    title = info.get("title") or info.get("fulltitle")
    draft = Draft(origin=f"{path} ({info.get('extractor_key') or 'video'} {info.get('id', '?')})")
    draft.files.append(RawFile(f"transcript{sub.suffix}", "transcript", sub.read_bytes(), sub.name, str(sub)))
    finish(draft)
    if len(subs) > 1:
        draft.notes.append(f"subtitles from {sub.name}; also beside it, not used: {', '.join(p.name for p in subs[1:])}")
    draft.set("title", title, "info JSON (title)")
    if show:
        draft.set("show", show, "--show")
    else:
        key = "channel" if info.get("channel") else "uploader"
        draft.set("show", info.get(key), f"info JSON ({key})")
    if not draft.show:
        raise ItemError(f"{path}: the info JSON names no channel or uploader; give --show NAME")
    date_key = "release_date" if info.get("release_date") else "upload_date"
    draft.set("published", parse_date(info.get(date_key)), f"info JSON ({date_key})")
    draft.set("url", info.get("webpage_url"), "info JSON (webpage_url)")
    if (info.get("extractor_key") or info.get("extractor") or "").lower().startswith("youtube"):
        draft.set("video_id", info.get("id"), "info JSON (id; YouTube deep links)")
    if isinstance(info.get("duration"), (int, float)) and info["duration"] > 0:
        draft.set("duration_s", info["duration"], "info JSON (duration)")
    if info.get("chapters") or info.get("description"):
        draft.files.append(RawFile("info.json", "summary", data, path.name,
                                   f"{path} ({len(info.get('chapters') or [])} chapters, description)"))
    draft.number = number_of(title or "")
    return draft
