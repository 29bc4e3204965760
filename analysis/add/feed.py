"""A podcast RSS (or Atom) feed: one draft per item that has a transcript.

The feed itself is read by feedparser (title, date, duration, page URL, guid, episode number).
feedparser keeps only the last of repeated elements of other namespaces, so the Podcasting 2.0
elements of each item (``podcast:person``, ``podcast:transcript``, ``podcast:chapters``) are
read from the same XML with defusedxml. Hosts and guests come from ``podcast:person role=host|guest``
(the channel's for a role the item names nobody in); of the item's transcripts the first readable one in
the order JSON, WebVTT, SRT (speaker-labelled types first), plain text is fetched; chapters are
fetched from ``podcast:chapters``.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..ingest.base import parse_timestamp
from .draft import Draft, ItemError, RawFile, check_summary, finish
from .fetch import FetchError, read_source

NAMESPACES = ("https://podcastindex.org/namespace/1.0",
              "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md")
# transcript MIME type -> file extension, in order of preference
TRANSCRIPT_TYPES = {"application/json": "json", "text/vtt": "vtt", "application/srt": "srt",
                    "application/x-subrip": "srt", "text/srt": "srt", "text/plain": "txt"}
ATOM = "{http://www.w3.org/2005/Atom}"


@dataclass
class Item:
    """The Podcasting 2.0 elements of one feed item."""

    persons: list[dict]  # {name, role} of the item
    channel_persons: list[dict]  # of the channel: they stand for a role the item names nobody in
    transcripts: list[tuple[str, str]]  # (url, MIME type), in order of preference
    chapters: str | None  # URL


def is_feed(data: bytes) -> bool:
    """Whether ``data`` looks like an RSS or Atom document (its root element)."""
    head = data[:4096].lstrip().decode("utf-8", errors="ignore").lower()
    start = head.find("<rss")
    atom = head.find("<feed")
    return head.startswith("<") and (start >= 0 or atom >= 0)


def _podcast(el, name: str) -> list:
    return [c for c in el if isinstance(c.tag, str) and c.tag in (f"{{{ns}}}{name}" for ns in NAMESPACES)]


def _persons(el) -> list[dict]:
    out = []
    for p in _podcast(el, "person"):
        role = (p.get("role") or "host").strip().lower()  # the namespace's default role is host
        if role in ("host", "guest") and (p.text or "").strip():
            out.append({"name": " ".join(p.text.split()), "role": role})
    return out


def _items(data: bytes, where: str) -> list[Item]:
    """The podcast-namespace elements of every item, in document order."""
    from xml.etree.ElementTree import ParseError as XMLError

    from defusedxml import DefusedXmlException, ElementTree

    try:
        root = ElementTree.fromstring(data)
    except (XMLError, DefusedXmlException) as exc:  # unreadable, or refused (entities, DTDs)
        raise ItemError(f"{where}: not a readable feed ({exc})") from None
    channel = root.find("channel")
    items = channel.findall("item") if channel is not None else root.findall(f"{ATOM}entry")
    shared = _persons(channel if channel is not None else root)
    out = []
    for el in items:
        found = [(t.get("url"), (t.get("type") or "").split(";")[0].strip().lower()) for t in _podcast(el, "transcript")]
        order = list(TRANSCRIPT_TYPES)
        ranked = sorted([f for f in found if f[0] and f[1] in TRANSCRIPT_TYPES], key=lambda f: order.index(f[1]))
        chapters = next((c.get("url") for c in _podcast(el, "chapters") if c.get("url")), None)
        out.append(Item(_persons(el), shared, ranked, chapters))
    return out


def _duration(value) -> float | None:
    """Seconds from an itunes:duration ("3723", "62:03", "1:02:03"); None when unreadable."""
    text = str(value or "").strip()
    try:
        return float(text) if text.replace(".", "", 1).isdigit() else parse_timestamp(text)
    except ValueError:
        return None


def feed_drafts(data: bytes, where: str, show: str | None, known) -> tuple[list[Draft], list[str], int]:
    """Drafts of the feed's items that ``known(guid, url)`` does not find in the catalog, error
    lines (one per item that cannot be added, naming it), and how many items were known.
    Raises ItemError when the feed is not a feed."""
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.get("version") or (parsed.bozo and not parsed.entries):
        reason = parsed.get("bozo_exception") or "no RSS or Atom root element"
        raise ItemError(f"{where}: not an RSS or Atom feed ({reason})")
    items = _items(data, where)
    if len(items) != len(parsed.entries):
        items = [Item([], [], [], None)] * len(parsed.entries)  # cannot pair them: no podcast: elements
    channel = parsed.feed.get("title")
    drafts, errors, skipped = [], [], 0
    for k, (entry, item) in enumerate(zip(parsed.entries, items), 1):
        title = entry.get("title") or f"item {k}"
        origin = f"{where}: item {k} {title!r}"
        guid = entry.get("id") or entry.get("link")
        if known(guid, entry.get("link")):
            skipped += 1
            continue
        try:
            drafts.append(_draft(entry, item, origin, where, show or channel, "--show" if show else "feed <channel><title>", guid))
        except ItemError as exc:
            errors.append(str(exc))
    return drafts, errors, skipped


def _draft(entry, item: Item, origin: str, where: str, show: str | None, show_source: str, guid: str | None) -> Draft:
    draft = Draft(origin=origin, guid=guid)
    if not item.transcripts:
        raise ItemError(f"{origin}: no <podcast:transcript> of a type podlens reads ({', '.join(TRANSCRIPT_TYPES)})")
    failures = []
    for url, kind in item.transcripts:
        try:
            body, resolved = read_source(url, where)
            draft.files = [RawFile(f"transcript.{TRANSCRIPT_TYPES[kind]}", "transcript", body,
                                   resolved.rstrip("/").rsplit("/", 1)[-1] or f"transcript.{TRANSCRIPT_TYPES[kind]}",
                                   f"<podcast:transcript type={kind}> {resolved}")]
            finish(draft)
            break
        except (FetchError, ItemError) as exc:
            failures.append(f"{kind}: {str(exc).removeprefix(origin + ': ')}")
    else:
        raise ItemError(f"{origin}: no transcript could be read: " + "; ".join(failures))
    draft.notes += [f"transcript {f} (the next type was used)" for f in failures]
    draft.set("title", entry.get("title"), "feed <item><title>")
    if not show:
        raise ItemError(f"{origin}: the feed has no <channel><title>; give --show NAME")
    draft.set("show", show, show_source)
    when = entry.get("published_parsed") or entry.get("updated_parsed")
    if when:
        draft.set("published", dt.date(*when[:3]), "feed <pubDate>" if entry.get("published_parsed") else "feed <updated>")
    draft.set("url", entry.get("link"), "feed <item><link>")
    duration = _duration(entry.get("itunes_duration"))
    if duration:
        draft.set("duration_s", duration, "feed <itunes:duration>")
    for role in ("host", "guest"):
        mine = [p for p in item.persons if p["role"] == role]
        shared = [p for p in item.channel_persons if p["role"] == role]
        draft.set(f"{role}s", mine or shared, f"feed {'<item>' if mine else '<channel>'} <podcast:person role={role}>")
    if item.persons or item.channel_persons:  # the feed names the people: none come from the labels
        draft.fields.setdefault("hosts", [])
    if str(entry.get("itunes_episode") or "").isdigit():
        draft.number = int(entry["itunes_episode"])
    if item.chapters:
        try:
            body, resolved = read_source(item.chapters, where)
            draft.files.append(check_summary(RawFile("chapters.json", "summary", body,
                                                     resolved.rsplit("/", 1)[-1] or "chapters.json",
                                                     f"<podcast:chapters> {resolved}")))
        except (FetchError, ItemError) as exc:
            draft.notes.append(f"chapters not added: {exc}")
    return draft
