"""Bare transcript files: the entry from the file itself. Format, speaker labels and time span
come from parsing it; title and date from its own header where it has one (a Markdown
``# Title`` and ``**Date:**``, a WebVTT header, a TTML title), else from the file name."""
from __future__ import annotations

import re
from pathlib import Path

from .draft import Draft, ItemError, RawFile, finish, parse_date

_DATE_IN_NAME = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
_NUMBER_IN_TITLE = re.compile(r"(?:\bepisode|\bep\.?|#)\s*(\d{1,5})\b", re.IGNORECASE)


def title_from_name(stem: str) -> str:
    """A readable title from a file name: separators to spaces, a date in it removed."""
    words = " ".join(_DATE_IN_NAME.sub(" ", stem).replace("_", " ").replace("-", " ").split())
    return words[:1].upper() + words[1:] if words else stem


def number_of(title: str) -> int | None:
    """The episode number a title states ("Episode 42", "Ep. 42", "#42"), else None."""
    m = _NUMBER_IN_TITLE.search(title or "")
    return int(m.group(1)) if m else None


def file_draft(path: Path, show: str | None, data: bytes | None = None) -> Draft:
    """The draft of one transcript file of ``show``. Raises ItemError naming the file (one that
    is not a transcript, or ``show`` missing)."""
    name = path.name
    stem = name.split(".")[0] if not name.startswith(".") else name
    draft = Draft(origin=str(path))
    suffix = "".join(path.suffixes[-1:]) or ".txt"
    draft.files.append(RawFile(f"transcript{suffix}", "transcript", data if data is not None else path.read_bytes(),
                               name, str(path)))
    finish(draft)
    if not show:
        raise ItemError(f"{path}: a bare transcript file needs --show NAME (the show it belongs to)")
    meta, fmt = draft.transcript.metadata, draft.transcript.format
    if meta.get("title"):
        draft.set("title", meta["title"], f"the file's header ({fmt})")
    else:
        draft.infer("title", title_from_name(stem), f"from the file name {name!r}")
    draft.set("show", show, "--show")
    header_date = parse_date(meta.get("date"))
    if header_date:
        draft.set("published", header_date, f"the file's header ({fmt}: date {meta['date']!r})")
    elif (m := _DATE_IN_NAME.search(stem)) and (named := parse_date("".join(m.groups()))):
        draft.infer("published", named, f"from the file name {name!r}")
    for key in ("video_url", "url"):
        if meta.get(key, "").startswith("http"):
            draft.set("url", meta[key], f"the file's header ({key})")
            break
    if meta.get("video_id"):
        draft.set("video_id", meta["video_id"], "the file's header (video_id)")
    span = draft.time_span()
    if span:
        draft.infer("duration_s", round(span[1]), f"the transcript's last timestamp ({span[1]:.0f} s); the episode "
                    "may run longer", basis="approximate")
    draft.number = number_of(draft.fields["title"])
    return draft
