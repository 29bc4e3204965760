"""Load and validate the theme lexicon (``data/themes.yaml``): errors name the file and line."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import config


class LexiconError(ValueError):
    """The lexicon file is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Theme:
    name: str
    description: str
    seeds: tuple[str, ...]
    keywords: tuple[str, ...] = ()

    @property
    def texts(self) -> list[str]:
        """What the passages are compared with by meaning: the description and each seed."""
        return [self.description, *self.seeds]

    def keyword_pattern(self) -> re.Pattern | None:
        """Case-insensitive whole-word match of any keyword (an optional plural "s"; hyphens
        and spaces inside a keyword match either), or None without keywords."""
        if not self.keywords:
            return None
        parts = sorted({re.escape(k).replace(r"\-", "[- ]").replace(r"\ ", "[- ]") for k in self.keywords},
                       key=len, reverse=True)
        return re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")s?(?![\w-])", re.IGNORECASE)


def _where(path: Path, node: yaml.Node) -> str:
    return f"{path}, line {node.start_mark.line + 1}"


def _text(path: Path, node: yaml.Node, what: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise LexiconError(f"{_where(path, node)}: {what} must be non-empty text")
    return str(node.value).strip()


def _texts(path: Path, node: yaml.Node, what: str) -> tuple[str, ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise LexiconError(f"{_where(path, node)}: {what} must be a list of texts")
    return tuple(_text(path, item, f"each of {what}") for item in node.value)


FIELDS = {"name", "description", "seeds", "keywords"}


def _theme(path: Path, node: yaml.Node) -> Theme:
    if not isinstance(node, yaml.MappingNode):
        raise LexiconError(f"{_where(path, node)}: a theme must be a mapping with name, description, seeds")
    fields = {}
    for key, value in node.value:
        k = str(key.value)
        if k not in FIELDS:
            raise LexiconError(f"{_where(path, key)}: unknown field {k!r} (expected {sorted(FIELDS)})")
        fields[k] = value
    for required in ("name", "description", "seeds"):
        if required not in fields:
            raise LexiconError(f"{_where(path, node)}: theme without {required!r}")
    name = _text(path, fields["name"], "name")
    seeds = _texts(path, fields["seeds"], f"seeds of {name!r}")
    if not seeds:
        raise LexiconError(f"{_where(path, fields['seeds'])}: theme {name!r} needs at least one seed phrase")
    keywords = _texts(path, fields["keywords"], f"keywords of {name!r}") if "keywords" in fields else ()
    return Theme(name, _text(path, fields["description"], f"description of {name!r}"), seeds, keywords)


def load_lexicon(path: Path | None = None, missing_ok: bool = False) -> list[Theme]:
    """The themes of ``path`` (default config.THEMES), in file order; with ``missing_ok``, no
    file or an empty ``themes:`` list gives none (a show nobody has written themes for).

    Raises :class:`LexiconError` naming the file and line for YAML syntax errors, missing or
    unknown fields, empty texts and duplicate names."""
    path = Path(path or config.THEMES)
    if missing_ok and not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark else ""
        raise LexiconError(f"{path}{line}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if root is None:
        raise LexiconError(f"{path}: empty lexicon")
    themes_node = None
    if isinstance(root, yaml.MappingNode):
        themes_node = next((v for k, v in root.value if k.value == "themes"), None)
    if not isinstance(themes_node, yaml.SequenceNode):
        raise LexiconError(f"{_where(path, themes_node or root)}: expected a top-level 'themes:' list")
    themes, seen = [], {}
    for item in themes_node.value:
        theme = _theme(path, item)
        if theme.name.lower() in seen:
            raise LexiconError(f"{_where(path, item)}: duplicate theme name {theme.name!r} "
                               f"(first at line {seen[theme.name.lower()]})")
        seen[theme.name.lower()] = item.start_mark.line + 1
        themes.append(theme)
    if not themes and not missing_ok:
        raise LexiconError(f"{_where(path, themes_node)}: the 'themes' list is empty")
    return themes
