"""``podlens add SOURCE... [--show NAME] [--dry-run]``: catalog entries drafted from a podcast
feed (``feed``), a yt-dlp info JSON with its subtitles (``ytdlp``) or bare transcript files
(``files``); ``draft`` holds an entry, its id and its catalog text.

Every field filled is printed with where it was read; facts not read in a source go under the
entry's ``provenance``. Episodes already in the catalog are skipped (a feed item by its guid or
page URL, a video by its id or URL, a file by its content), so running ``add`` again on a grown
feed adds only the new items. An item that cannot be added gets one line naming it and the
others are added; raw files are written first, then the catalog at once (atomically), the new
entries appended as text so that its comments and order stay as they are.
"""
from __future__ import annotations

import hashlib
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .. import config
from ..catalog import CatalogError, Episode, load_catalog
from ..io import atomic_path, write_text
from .draft import (
    ORDER,
    Draft,
    ItemError,
    assign_people,
    entry,
    entry_text,
    episode_id,
    unknown_labels,
)
from .fetch import FetchError, is_url, read_source


@dataclass
class AddResult:
    added: list[Draft] = field(default_factory=list)
    known: int = 0  # items already in the catalog
    errors: list[str] = field(default_factory=list)


class Known:
    """What the catalog already holds: ids, feed guids, page URLs, video ids, transcript contents."""

    def __init__(self, episodes: list[Episode]):
        self.ids = {e.id for e in episodes}
        self.guids = {str(e.raw.get("guid")) for e in episodes if e.raw.get("guid")}
        self.urls = {e.url for e in episodes if e.url}
        self.videos = {e.video_id for e in episodes if e.video_id}
        self.contents = {_digest(f.path.read_bytes()) for e in episodes for f in e.files_of("transcript")[:1]
                         if f.path.is_file()}

    def item(self, guid: str | None, url: str | None) -> bool:
        return bool((guid and str(guid) in self.guids) or (url and url in self.urls))

    def draft(self, d: Draft) -> bool:
        return (self.item(d.guid, d.fields.get("url")) or d.fields.get("video_id") in self.videos
                or _digest(d.files[0].data) in self.contents)

    def remember(self, d: Draft) -> None:
        self.ids.add(d.id)
        self.guids.add(str(d.guid))
        self.urls.add(d.fields.get("url"))
        self.videos.add(d.fields.get("video_id"))
        self.contents.add(_digest(d.files[0].data))


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _expand(sources: list[str]) -> tuple[list[str], list[str]]:
    """Folders become the files in and below them (sorted, hidden ones left out); everything
    else stays. Also an error line per folder without a file."""
    out, errors = [], []
    for s in sources:
        p = Path(s)
        if not is_url(s) and p.is_dir():
            found = [str(f) for f in sorted(p.rglob("*"))
                     if f.is_file() and not any(x.startswith(".") for x in f.relative_to(p).parts)]
            out += found
            errors += [] if found else [f"{s}: a folder without files"]
        else:
            out.append(s)
    return out, errors


def collect(sources: list[str], show: str | None, known: Known) -> AddResult:
    """Drafts of every source not already in the catalog, and one error line per item that
    cannot be added."""
    from .feed import feed_drafts, is_feed
    from .files import file_draft
    from .ytdlp import info_draft, is_info_json, subtitles_beside

    result, drafts = AddResult(), []
    files: list[tuple[Path, bytes]] = []
    claimed: set[Path] = set()  # subtitle files of an info JSON given with it
    expanded, result.errors = _expand(sources)
    for source in expanded:
        try:
            data, where = read_source(source)
        except FetchError as exc:
            result.errors.append(str(exc))
            continue
        try:
            if is_feed(data):
                found, errors, n_known = feed_drafts(data, where, show, known.item)
                drafts += found
                result.errors += errors
                result.known += n_known
            elif is_url(source):
                raise ItemError(f"{source}: not an RSS or Atom feed (a URL must be a podcast feed; download "
                                "transcripts and add the files)")
            elif is_info_json(data):
                import json

                claimed.update(subtitles_beside(Path(source), json.loads(data.decode("utf-8", errors="replace"))))
                drafts.append(info_draft(Path(source), data, show))
            else:
                files.append((Path(source), data))
        except ItemError as exc:
            result.errors.append(str(exc))
    for path, data in [(p, data) for p, data in files if p not in claimed]:
        try:
            drafts.append(file_draft(path, show, data))
        except ItemError as exc:
            result.errors.append(str(exc))
    seen: set[str] = set()
    for d in drafts:
        key = _digest(d.files[0].data)
        if known.draft(d) or key in seen:
            result.known += 1
        else:
            seen.add(key)
            result.added.append(d)
    return result


def _validate(d: Draft, catalog: Path) -> None:
    """Raise ItemError when the entry alone would not pass the catalog's checks."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=catalog.parent, delete=False, encoding="utf-8") as tmp:
        tmp.write("episodes:\n" + entry_text(d))
    try:
        _, errors = load_catalog(tmp.name)
    finally:
        Path(tmp.name).unlink()
    if errors:
        raise ItemError(f"{d.origin}: the drafted entry fails the catalog's checks: "
                        + "; ".join(e.split(": ", 1)[-1] for e in errors))


def write(drafts: list[Draft], catalog: Path, raw: Path) -> None:
    """Raw files first (each atomically), then the catalog with the entries appended, at once."""
    for d in drafts:
        for f in d.files:
            with atomic_path(raw / f"{d.id}.{f.suffix}") as tmp:
                tmp.write_bytes(f.data)
    text = catalog.read_text(encoding="utf-8")
    text = re.sub(r"^episodes:[ \t]*\[\][ \t]*$", "episodes:", text, count=1, flags=re.MULTILINE)
    text = text.rstrip("\n") + "\n"
    for d in drafts:
        text += "\n" + entry_text(d)
    write_text(text, catalog)


def _show(value) -> str:
    if isinstance(value, list):
        return ", ".join(p["name"] for p in value) or "none"
    return str(value)


def report(d: Draft, raw: Path) -> list[str]:
    """Every field of the entry with where it came from; the labels to map; warnings."""
    e = entry(d)
    lines = [f"+ {d.id}", f"    {'id':<13} {d.id}  (docs/corpus.md id rules: show, date, guest)"]
    for key in ORDER[1:]:
        if key == "published" and e[key] is None:
            lines.append(f"    {key:<13} none  (no date in the source: add `published: YYYY-MM-DD` to the entry)")
        elif key in e:
            lines.append(f"    {key:<13} {_show(e[key])}  ({d.sources.get(key, 'feed <guid>' if key == 'guid' else '')})")
    for f, spec in zip(d.files, e["files"]):
        lines.append(f"    {'file':<13} {config.data_relative(raw / Path(spec['path']).name)} ({f.kind})  <- {f.origin}")
    tr = d.transcript
    span = d.time_span()
    words = d.labels()
    lines.append(f"    {'transcript':<13} {tr.format}, {len(tr.segments)} segments, "
                 + (f"{span[0]:.0f}-{span[1]:.0f} s" if span else "no timestamps") + ", labels: "
                 + (", ".join(f"{lab} ({n} words)" for lab, n in words.items()) or "none"))
    lines += [f"    {key:<13} none  ({info['basis']}: {info['note']})" for key, info in d.provenance.items() if key not in e
              or not e[key]]
    lines += [f"  ! {line}" for line in unknown_labels(d)]
    if not d.fields.get("hosts") and not d.fields.get("guests"):
        lines.append("  ! no hosts or guests known: add them to the entry (the speaker model needs to know who hosts)")
    lines += [f"  ! {n}" for n in d.notes]
    return lines


def _stderr(line: str) -> None:
    print(line, file=sys.stderr)


def add(sources: list[str], show: str | None = None, dry_run: bool = False, out=print, err=_stderr) -> AddResult:
    """Draft entries for ``sources``, print them, and (unless ``dry_run``) write their raw files
    under config.RAW and append them to config.CATALOG."""
    catalog = Path(config.CATALOG)
    if not catalog.is_file():
        raise CatalogError("catalog not found: make a project with `podlens new DIR` (and work in it) or set "
                           "PODLENS_ROOT", catalog)
    episodes, bad = load_catalog(catalog)
    known = Known(episodes)
    known.ids |= {p.name.split(".")[0] for p in config.RAW.glob("*")} if config.RAW.is_dir() else set()
    result = collect(sources, show, known)
    assign_people(result.added, episodes)
    ready = []
    for d in result.added:
        d.id = episode_id(d, known.ids)
        try:
            _validate(d, catalog)
        except ItemError as exc:
            result.errors.append(str(exc))
            continue
        known.remember(d)
        ready.append(d)
        for line in report(d, config.RAW):
            out(line)
    result.added = ready
    if ready and not dry_run:
        write(ready, catalog, config.RAW)
    sys.stdout.flush()
    for line in result.errors:
        err(f"error: {line}")
    out(f"{'would add' if dry_run else 'added'} {len(ready)} episode(s) to {catalog}"
        + f"; {result.known} already in the catalog, skipped; {len(result.errors)} could not be added"
        + (f"; {len(bad)} catalog entries were already invalid (python -m analysis corpus lists them)" if bad else "")
        + ("" if dry_run or not ready else "\nnext: check the entries marked inferred, then `podlens build`"))
    return result


def main_add(args) -> int:
    """``podlens add SOURCE... [--show NAME] [--dry-run]``: exit 1 when an item could not be added."""
    result = add(args.sources, show=args.show, dry_run=args.dry_run)
    return 1 if result.errors else 0
