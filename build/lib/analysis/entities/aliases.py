"""The alias table (data/entities.yaml) and the catalog's people and shows as EntityRuler
patterns, and the normalisation of any entity span to its canonical name."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from .. import config

LABELS = ("ORG", "PRODUCT", "PERSON", "EVENT")
# Never entities: numbers, amounts, times and timestamps ("2:15", "1:02:03", "$10", "95%").
_NOT_A_NAME = re.compile(r"^[\W\d_]*$|^\W*\d+([:.,]\d+)*\W*(s|m|h|k|%|am|pm)?\W*$", re.IGNORECASE)
_EDGES = re.compile(r"^(the|a|an)\s+|(['’]s|['’])$", re.IGNORECASE)


class AliasError(ValueError):
    """The alias file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Entity:
    name: str
    label: str
    aliases: tuple[str, ...] = ()  # any case
    cased: tuple[str, ...] = ()  # exact case


@dataclass
class AliasTable:
    entities: list[Entity]
    ignore: frozenset[str] = field(default_factory=frozenset)

    def lookup(self) -> dict[str, Entity]:
        """Lower-cased spelling (names and any-case aliases) -> entity."""
        out = {}
        for e in self.entities:
            for s in (e.name, *e.aliases):
                out.setdefault(s.lower(), e)
        return out

    def patterns(self) -> list[dict]:
        """EntityRuler patterns (id = canonical name): token patterns on LOWER, or on TEXT for
        cased spellings, tokens split like spaCy's English tokenizer would split them."""
        pats = []
        for e in self.entities:
            for s in dict.fromkeys((e.name, *e.aliases)):
                if s not in e.cased:
                    pats.append({"label": e.label, "id": e.name, "pattern": [{"LOWER": t.lower()} for t in _tokens(s)]})
            for s in e.cased:
                pats.append({"label": e.label, "id": e.name, "pattern": [{"TEXT": t} for t in _tokens(s)]})
        return pats


_TOKEN = re.compile(r"\w+|[^\w\s]")


def _tokens(text: str) -> list[str]:
    """Tokens as spaCy's English tokenizer splits names: words, and each punctuation mark apart
    (a "'s" suffix is one token)."""
    text = re.sub(r"(['’]s)\b", r" \1", text)
    return [t for part in text.split() for t in ([part] if re.fullmatch(r"['’]s", part) else _TOKEN.findall(part))]


def load_aliases(path: Path | None = None) -> AliasTable:
    """Read the alias file; errors name the file and line."""
    path = Path(path or config.ENTITY_ALIASES)
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise AliasError(f"{path}{f', line {mark.line + 1}' if mark else ''}: not valid YAML: "
                         f"{getattr(exc, 'problem', exc)}") from exc
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lines = {}
    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if k.value == "entities" and isinstance(v, yaml.SequenceNode):
                lines = {i: item.start_mark.line + 1 for i, item in enumerate(v.value)}
    if not isinstance(data, dict) or not isinstance(data.get("entities"), list):
        raise AliasError(f"{path}, line 1: expected a top-level 'entities:' list")
    entities = []
    for i, item in enumerate(data["entities"]):
        where = f"{path}, line {lines.get(i, '?')}"
        if not isinstance(item, dict) or not str(item.get("name") or "").strip():
            raise AliasError(f"{where}: an entity needs a name")
        if item.get("label") not in LABELS:
            raise AliasError(f"{where}: label of {item['name']!r} must be one of {list(LABELS)}, not {item.get('label')!r}")
        lists = {}
        for key in ("aliases", "cased"):
            v = item.get(key) or []
            if not isinstance(v, list) or not all(isinstance(a, (str, int, float)) and str(a).strip() for a in v):
                raise AliasError(f"{where}: {key} of {item['name']!r} must be a list of spellings")
            lists[key] = tuple(str(a).strip() for a in v)
        unknown = set(item) - {"name", "label", "aliases", "cased"}
        if unknown:
            raise AliasError(f"{where}: unknown field(s) {sorted(unknown)}")
        entities.append(Entity(str(item["name"]).strip(), item["label"], lists["aliases"], lists["cased"]))
    ignore = frozenset(str(w).lower() for w in (data.get("ignore") or []))
    return AliasTable(entities, ignore)


def with_catalog(table: AliasTable, speakers: pd.DataFrame, episodes: pd.DataFrame) -> AliasTable:
    """The alias table plus the catalog: resolved speakers (PERSON), their affiliations and the
    shows (ORG), unless the table already names them."""
    known = table.lookup()
    extra = []
    resolved = speakers[speakers["resolved"]] if "resolved" in speakers else speakers
    for name in sorted(set(resolved["name"].dropna())):
        if name.lower() not in known:
            extra.append(Entity(name, "PERSON"))
    orgs = set(speakers.get("affiliation", pd.Series(dtype=str)).dropna()) | set(episodes["show"].dropna())
    for name in sorted(orgs):
        if name.lower() not in known:
            extra.append(Entity(name, "ORG"))
    return AliasTable(table.entities + extra, table.ignore)


def normalise(text: str, label: str, lookup: dict[str, Entity], ignore: frozenset[str],
              first_names: dict[str, str] | None = None) -> tuple[str, str] | None:
    """(canonical name, label) of an entity span, or None when it is not a name (a number,
    time or timestamp, or an ignored word). ``first_names``: lower-cased first name -> full name
    of the episode's catalog people, so "Sam" in Sam Altman's episode is Sam Altman."""
    clean = _EDGES.sub("", text.strip().strip(".,;:!?\"“”()")).strip()
    if not clean or _NOT_A_NAME.match(clean) or clean.lower() in ignore:
        return None
    hit = lookup.get(clean.lower()) or lookup.get(text.strip().lower())
    if hit:
        return hit.name, hit.label
    if first_names and clean.lower() in first_names:  # whatever label the model gave it
        return first_names[clean.lower()], "PERSON"
    return clean, label
