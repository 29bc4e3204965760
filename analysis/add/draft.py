"""A drafted catalog entry: its fields, where each was read (or why it is inferred), the raw
files it brings, what its transcript says (format, speaker labels, time span) and its id.

``finish`` parses the transcript and checks its speaker labels against the entry's people
(:func:`analysis.speakers.identity.resolve_labels`, as the corpus build will); ``assign_people``
takes hosts and guests from the labels of episodes that name nobody; ``episode_id`` follows the
id rules of docs/corpus.md and never reuses an id.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections import Counter
from dataclasses import dataclass, field

from ..catalog import Episode, Person, slugify
from ..ingest import ParseError, Transcript, decode, parse_text
from ..io import yaml_line
from ..speakers.identity import is_catch_all, is_generic, resolve_labels

# A label with fewer words than this (and under MIN_PERSON_SHARE of the file) is not taken as a
# person when hosts and guests come from the labels: a producer's "Break" marker, an "Announcer".
MIN_PERSON_WORDS = 50
MIN_PERSON_SHARE = 0.05


class ItemError(ValueError):
    """One source item cannot be added; the message names it and says why."""


@dataclass
class RawFile:
    """A file the entry brings into data/raw/, as ``<id>.<suffix>``."""

    suffix: str  # "transcript.vtt", "chapters.json", "info.json"
    kind: str  # transcript | summary
    data: bytes
    original_name: str
    origin: str  # where it was read, for the report


@dataclass
class Draft:
    """One episode to add. ``fields`` are catalog fields in entry order; ``sources[field]`` says
    where a field was read; ``provenance`` holds the facts not read in a source (catalog
    ``provenance``: basis inferred or approximate, and a note)."""

    origin: str  # the item, for messages: "feed.xml: item 3 'Title'"
    fields: dict = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, dict] = field(default_factory=dict)
    files: list[RawFile] = field(default_factory=list)
    guid: str | None = None  # the feed item's guid: how a later `add` knows the item
    number: int | None = None  # the episode number, for an id without a guest
    notes: list[str] = field(default_factory=list)  # warnings printed with the entry
    transcript: Transcript | None = None
    id: str | None = None

    def set(self, name: str, value, source: str) -> None:
        """Fill ``name`` with a value read in a source (None leaves it unset)."""
        if value not in (None, "", []):
            self.fields[name] = value
            self.sources[name] = source

    def infer(self, name: str, value, note: str, basis: str = "inferred") -> None:
        """Fill ``name`` with a value not read in a source: recorded under ``provenance``."""
        if value not in (None, "", []):
            self.fields[name] = value
            self.sources[name] = f"{basis}: {note}"
            self.provenance[name] = {"basis": basis, "note": note}

    @property
    def show(self) -> str:
        return self.fields.get("show", "")

    def labels(self) -> Counter:
        """Words per speaker label of the transcript, in order of first appearance."""
        words = Counter()
        for seg in self.transcript.segments if self.transcript else []:
            if seg.speaker:
                words[seg.speaker] += len(seg.text.split())
        return words

    def time_span(self) -> tuple[float, float] | None:
        times = [x for s in self.transcript.segments for x in (s.start, s.end) if x is not None]
        return (min(times), max(times)) if times else None

    def episode(self) -> Episode:
        """The entry as the catalog will read it (for resolving speaker labels)."""
        people = [Person(p["name"], p["role"]) for p in self.fields.get("hosts", []) + self.fields.get("guests", [])]
        return Episode(id=self.id or "draft", title=self.fields.get("title", ""), show=self.show,
                       published=self.fields.get("published"), files=[],
                       hosts=[p for p in people if p.role == "host"], guests=[p for p in people if p.role == "guest"])


def finish(draft: Draft) -> None:
    """Parse the draft's transcript (its first file), keeping what the file says: format,
    labels, time span. Raises ItemError naming the item when it is unreadable or holds no speech."""
    raw = draft.files[0]
    try:
        text, warnings = decode(raw.data, raw.original_name)
        tr = parse_text(text, path=raw.original_name)
    except ParseError as exc:
        raise ItemError(f"{draft.origin}: {exc}") from None
    if tr.kind != "transcript":
        raise ItemError(f"{draft.origin}: {raw.original_name} is a {tr.format} file (metadata, not speech), "
                        "not a transcript")
    if not tr.segments:
        raise ItemError(f"{draft.origin}: {raw.original_name} ({tr.format}) holds no speech")
    draft.transcript = tr
    more = len(tr.warnings) - 5
    draft.notes += warnings + tr.warnings[:5] + ([f"... {more} more warnings (python -m analysis inspect FILE)"]
                                                 if more > 0 else [])


def check_summary(raw: RawFile) -> RawFile:
    """``raw`` when it parses as a summary file (chapters, description); else ItemError saying why."""
    try:
        text, _ = decode(raw.data, raw.original_name)
        parsed = parse_text(text, path=raw.original_name)
    except ParseError as exc:
        raise ItemError(str(exc)) from None
    if parsed.kind != "summary":
        raise ItemError(f"{raw.original_name}: read as {parsed.format}, not chapters or a summary")
    raw.origin += f" ({len(parsed.chapters)} chapters)"
    return raw


def _few_words(n: int, total: int) -> bool:
    """Too little of a file's speech (``n`` of ``total`` words) for a label to be taken as a person."""
    return n < MIN_PERSON_WORDS and n / (total or 1) < MIN_PERSON_SHARE


def people_labels(words: Counter) -> list[str]:
    """The labels that name a person: not generic, and with enough of the file's words."""
    total = sum(words.values())
    return [lab for lab, n in words.items() if not is_generic(lab) and not _few_words(n, total)]


def assign_people(drafts: list[Draft], catalog: list[Episode]) -> None:
    """Hosts and guests, from the speaker labels, of each draft that names no one: a label that
    recurs in more than half of the show's episodes (the catalog's and these drafts', when there
    are at least two) or names a host of the show in the catalog is a host; with none, the
    first voice is. Every other person label is a guest. All of it is inferred, to confirm."""
    for show in dict.fromkeys(d.show for d in drafts):
        mine = [d for d in drafts if d.show == show]
        known = [e for e in catalog if e.show == show]
        hosts_known = {p.id for e in known for p in e.hosts}
        seen = Counter(slugify(lab) for d in mine for lab in set(people_labels(d.labels())))
        seen.update(p.id for e in known for p in e.people)
        n = len(mine) + len(known)
        for d in mine:
            if "hosts" in d.fields or "guests" in d.fields:
                continue
            labels = people_labels(d.labels())
            if not labels:
                continue
            recurring = [lab for lab in labels if slugify(lab) in hosts_known or (n >= 2 and seen[slugify(lab)] > n / 2)]
            hosts = recurring or labels[:1]
            why = "; ".join(f"{h}: " + ("hosts the show in the catalog" if slugify(h) in hosts_known else
                                        f"speaks in {seen[slugify(h)]} of the show's {n} episodes" if recurring else
                                        "speaks first") for h in hosts)
            why = f"from the transcript's speaker labels (host {why}; the others are guests): confirm"
            d.infer("hosts", [{"name": h, "role": "host"} for h in hosts], why)
            d.infer("guests", [{"name": g, "role": "guest"} for g in labels if g not in hosts], why)
            if not d.fields.get("guests"):
                d.provenance.setdefault("guests", {"basis": "inferred", "note": why})


def unknown_labels(draft: Draft) -> list[str]:
    """One line per speaker label the corpus build will not resolve to a host or guest, with
    the ``speaker_labels`` line to add (a name suggested when one person alone is unmatched);
    one line for all the named labels with too few words to be a person (markers)."""
    words = draft.labels()
    if not words:
        return []
    texts: dict[str, list[str]] = {}
    for seg in draft.transcript.segments:
        if seg.speaker:
            texts.setdefault(seg.speaker, []).append(seg.text)
    episode = draft.episode()
    resolved, _ = resolve_labels(texts, episode)
    open_labels = [lab for lab, r in resolved.items() if r.role == "unknown" and not is_catch_all(lab)]
    matched = {r.speaker_id for r in resolved.values() if r.role != "unknown"}
    unmatched = [p.name for p in episode.people if p.id not in matched]
    total = sum(words.values())
    markers = [lab for lab in open_labels if not is_generic(lab) and _few_words(words[lab], total)]
    open_labels = [lab for lab in open_labels if lab not in markers]
    lines = []
    for lab in open_labels:
        name = unmatched[0] if len(unmatched) == 1 and len(open_labels) == 1 else "NAME"
        choice = (" (the one host or guest no label names)" if name != "NAME" else
                  f", NAME one of: {', '.join(p.name for p in episode.people)}" if episode.people else
                  ", after adding that person to hosts or guests")
        lines.append(f"speaker label {lab!r} ({words[lab]} words) names no host or guest: add "
                     f"`speaker_labels: {{{yaml_line(lab)}: {yaml_line(name)}}}`{choice}")
    if markers:
        many = len(markers) > 1
        lines.append(f"speaker label{'s' if many else ''} " + ", ".join(f"{lab!r} ({words[lab]} words)" for lab in markers)
                     + f" name{'' if many else 's'} no host or guest; so few words look like a marker (a break, a "
                     "jingle), kept as a speaker of unknown role: if one is a person, add "
                     f"`speaker_labels: {{{yaml_line(markers[0])}: NAME}}`")
    return lines


# ---------------------------------------------------------------- dates, durations, ids

def parse_date(text: str | None) -> dt.date | None:
    """A date from header or feed text: ISO (2025-06-14, or a timestamp starting with it),
    20250614, RFC 2822 (Sat, 14 Jun 2025 ...), "June 14, 2025", "14 June 2025"; else None."""
    if not text:
        return None
    s = str(text).strip()
    if (m := re.match(r"^(\d{4})-?(\d{2})-?(\d{2})(?:$|[T\s])", s)):
        try:
            return dt.date(*map(int, m.groups()))
        except ValueError:
            return None
    try:
        return email.utils.parsedate_to_datetime(s).date()
    except (TypeError, ValueError, IndexError):
        pass
    for fmt in ("%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y", "%B %d %Y"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    return None


_STOP = frozenset(["a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "i", "in", "is", "it", "its", "my", "of", "on", "or", "our", "the", "this", "to", "we", "what", "when", "where", "who", "why", "with", "you", "your", "episode", "ep"])


def _show_slug(show: str) -> str:
    words = slugify(show.replace("'", "").replace("’", "")).split("-")
    words = words[1:] if words[:1] == ["the"] and len(words) > 1 else words
    return "-".join(words[:3])


def episode_id(draft: Draft, taken: set[str]) -> str:
    """``<show>-<yyyy-mm-dd>-<guest>`` (docs/corpus.md): the show's first three words (without a
    leading "the"); ``undated`` without a date; the guest's name, two guests' last names joined
    by ``and``, the first-billed of more; without a guest the episode number (``ep-42``) or the
    title's first four words. ``-2``, ``-3`` ... when the id is ``taken``."""
    published = draft.fields.get("published")
    guests = [g["name"] for g in draft.fields.get("guests", [])]
    if len(guests) == 2:
        who = "-and-".join(slugify(g).split("-")[-1] for g in guests)
    elif guests:
        who = slugify(guests[0])
    elif draft.number is not None:
        who = f"ep-{draft.number}"
    else:
        who = "-".join([w for w in slugify(draft.fields.get("title", "")).split("-") if w not in _STOP][:4]) or "episode"
    base = "-".join(p for p in (_show_slug(draft.show) or "show", published.isoformat() if published else "undated", who) if p)
    out, k = base, 2
    while out in taken:
        out, k = f"{base}-{k}", k + 1
    return out


# ---------------------------------------------------------------- the entry as catalog text

ORDER = ("id", "title", "show", "published", "url", "video_id", "guid", "duration_s", "hosts", "guests")


def entry(draft: Draft) -> dict:
    """The catalog entry (paths relative to data/)."""
    fields = dict(draft.fields, guid=draft.guid)
    out = {"id": draft.id, **{k: fields.get(k) for k in ORDER[1:] if fields.get(k) is not None or k == "published"}}
    if isinstance(out.get("duration_s"), float) and out["duration_s"].is_integer():
        out["duration_s"] = int(out["duration_s"])
    out["files"] = [{"path": f"raw/{draft.id}.{f.suffix}", "kind": f.kind, "original_name": f.original_name,
                     "format": "auto"} for f in draft.files]
    out["speaker_labels"] = {}
    out["provenance"] = draft.provenance
    return out


def entry_text(draft: Draft) -> str:
    """The entry as catalog YAML in the seed catalog's style (people and files one flow mapping
    a line), under a comment naming where it came from."""
    lines = [f"  # added by `podlens add` from {draft.origin}"]
    for i, (key, value) in enumerate(entry(draft).items()):
        lead = "  - " if i == 0 else "    "
        if isinstance(value, list) and value:
            lines.append(f"{lead}{key}:")
            lines += [f"      - {yaml_line(v)}" for v in value]
        elif isinstance(value, dict) and value:
            lines.append(f"{lead}{key}:")
            lines += [f"      {yaml_line(k)}: {yaml_line(v)}" for k, v in value.items()]
        else:
            lines.append(f"{lead}{key}: {yaml_line(value)}")
    return "\n".join(lines) + "\n"
