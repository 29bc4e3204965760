"""Load the episode catalog (``data/episodes.yaml``) into validated :class:`Episode` records.

A malformed catalog raises :class:`CatalogError` with its line; a single bad entry is
reported (file and line) and skipped so the other episodes still build.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import config

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ROLES = ("host", "guest")
FILE_KINDS = ("transcript", "summary")
BASES = ("stated", "inferred", "approximate")


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser where PyYAML has it (faster)
    """SafeLoader that keeps dates as text: an impossible date (2024-13-45) then skips only its
    entry (with its line) instead of failing the whole catalog inside the YAML constructor."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class CatalogError(ValueError):
    def __init__(self, message: str, path: str | Path, line: int | None = None):
        self.path, self.line = str(path), line
        super().__init__(f"{path}{f':{line}' if line else ''}: {message}")


@dataclass(frozen=True)
class Person:
    name: str
    role: str  # host | guest
    title: str | None = None
    affiliation: str | None = None

    @property
    def id(self) -> str:
        return slugify(self.name)


@dataclass(frozen=True)
class EpisodeFile:
    path: Path  # absolute
    kind: str  # transcript | summary
    original_name: str | None = None
    format: str = "auto"


@dataclass
class Episode:
    id: str
    title: str
    show: str
    published: dt.date | None
    files: list[EpisodeFile]
    hosts: list[Person] = field(default_factory=list)
    guests: list[Person] = field(default_factory=list)
    url: str | None = None
    video_id: str | None = None
    duration_s: float | None = None
    venue: str | None = None
    speaker_labels: dict[str, str] = field(default_factory=dict)  # label in file -> person name
    provenance: dict[str, dict] = field(default_factory=dict)  # field -> {basis, note}
    source: str = ""  # "episodes.yaml:LINE", for error messages
    raw: dict = field(default_factory=dict, repr=False)  # the entry as written (cache key)

    @property
    def people(self) -> list[Person]:
        return self.hosts + self.guests

    def person(self, name: str) -> Person | None:
        key = slugify(name)
        return next((p for p in self.people if p.id == key), None)

    def files_of(self, kind: str) -> list[EpisodeFile]:
        return [f for f in self.files if f.kind == kind]


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def load_catalog(path: str | Path | None = None) -> tuple[list[Episode], list[str]]:
    """Return (valid episodes in catalog order, errors for skipped entries as 'file:line: msg')."""
    path = Path(path or config.CATALOG)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CatalogError("catalog not found", path) from exc
    except UnicodeDecodeError as exc:
        raise CatalogError(f"catalog is not UTF-8 text (byte {exc.start})", path) from exc
    try:
        root = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CatalogError(f"malformed YAML: {getattr(exc, 'problem', exc)}", path,
                           mark.line + 1 if mark else None) from exc
    if not isinstance(data, dict) or "episodes" not in data or not isinstance(data["episodes"], (list, type(None))):
        raise CatalogError("expected a mapping with an 'episodes' list", path, 1)
    if not data.get("episodes"):  # `episodes:` with no entry yet (a new project's catalog)
        return [], []
    entry_nodes = next(v for k, v in root.value if k.value == "episodes").value
    episodes, errors, seen = [], [], set()
    for entry, node in zip(data["episodes"], entry_nodes):
        line = node.start_mark.line + 1
        try:
            ep = _episode(entry, path.parent, f"{path.name}:{line}")
            if ep.id in seen:
                raise ValueError(f"duplicate episode id {ep.id!r}")
            seen.add(ep.id)
            episodes.append(ep)
        except (ValueError, TypeError, KeyError) as exc:
            errors.append(str(CatalogError(f"entry skipped: {exc}", path, line)))
    return episodes, errors


def _episode(entry: dict, base: Path, source: str) -> Episode:
    if not isinstance(entry, dict):
        raise ValueError("an entry must be a mapping")
    for key in ("id", "title", "show", "files"):
        if not entry.get(key):
            raise ValueError(f"missing {key!r}")
    eid = str(entry["id"])
    if not SLUG.match(eid):
        raise ValueError(f"id {eid!r} is not a slug (lower-case words joined by '-')")
    published = entry.get("published")
    if isinstance(published, str):
        try:
            published = dt.date.fromisoformat(published)
        except ValueError:
            raise ValueError(f"published {published!r} is not a YYYY-MM-DD date") from None
    if published is not None and not isinstance(published, dt.date):
        raise ValueError(f"published {published!r} is not a YYYY-MM-DD date")
    for key in ("files", "hosts", "guests"):
        if entry.get(key) is not None and not isinstance(entry[key], list):
            raise ValueError(f"{key} must be a list, not {type(entry[key]).__name__}")
    files = [_file(f, base) for f in entry["files"]]
    if not any(f.kind == "transcript" for f in files):
        raise ValueError("no file of kind 'transcript'")
    people = [_person(p, "host") for p in entry.get("hosts") or []]
    people += [_person(p, "guest") for p in entry.get("guests") or []]
    labels = entry.get("speaker_labels") or {}
    if not isinstance(labels, dict):
        raise ValueError("speaker_labels must map a label to a person's name")
    names = {p.name for p in people}
    for label, name in labels.items():
        if name not in names:
            raise ValueError(f"speaker_labels: {label!r} maps to {name!r}, not a host or guest")
    provenance = entry.get("provenance") or {}
    if not isinstance(provenance, dict):
        raise ValueError("provenance must map a field to {basis, note}")
    for fld, info in provenance.items():
        if not isinstance(info, dict) or info.get("basis") not in BASES:
            raise ValueError(f"provenance.{fld}: needs basis, one of {BASES}")
    duration = entry.get("duration_s")
    if duration is not None and (not isinstance(duration, (int, float)) or duration <= 0):
        raise ValueError(f"duration_s {duration!r} is not a positive number of seconds")
    return Episode(
        id=eid, title=str(entry["title"]), show=str(entry["show"]), published=published,
        files=files, hosts=[p for p in people if p.role == "host"],
        guests=[p for p in people if p.role == "guest"], url=entry.get("url"),
        video_id=entry.get("video_id"), duration_s=float(duration) if duration else None,
        venue=entry.get("venue"), speaker_labels={str(k): str(v) for k, v in labels.items()},
        provenance=provenance, source=source, raw=entry,
    )


def _file(spec, base: Path) -> EpisodeFile:
    if isinstance(spec, str):
        spec = {"path": spec}
    if not isinstance(spec, dict) or not spec.get("path"):
        raise ValueError(f"file entry {spec!r} needs a 'path'")
    kind = spec.get("kind", "transcript")
    if kind not in FILE_KINDS:
        raise ValueError(f"file kind {kind!r} not in {FILE_KINDS}")
    return EpisodeFile(path=(base / spec["path"]).resolve(), kind=kind,
                       original_name=spec.get("original_name"), format=spec.get("format") or "auto")


def _person(spec, default_role: str) -> Person:
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or not spec.get("name"):
        raise ValueError(f"person {spec!r} needs a 'name'")
    role = spec.get("role", default_role)
    if role not in ROLES:
        raise ValueError(f"role {role!r} not in {ROLES}")
    return Person(name=str(spec["name"]), role=role, title=spec.get("title"),
                  affiliation=spec.get("affiliation"))
