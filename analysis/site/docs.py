"""The method notes in docs/ (one page per stage: method, measured figures and the command that
reproduces each) as pages of the site's Methods section, so a figure a reader sees and the method
behind it live on one site. Links between the notes point at their pages, images are shipped
with them, and a link to another repository file (not part of the site) keeps its text only."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from ..io import atomic_path
from .pages import Page

FOLDER = "methods"  # in site/: one page per docs/<name>.md, and docs/img/ as methods/img/
_LINK = re.compile(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)")
_TITLE = re.compile(r"\A#\s+(.+?)\s*\n+")


def doc_title(path: Path) -> str:
    """A note's title: its first-level heading, else its file name in words."""
    m = _TITLE.match(path.read_text())
    return m.group(1).replace("`", "") if m else path.stem.replace("-", " ").capitalize()


def _target(href: str, docs: Path) -> str | None:
    """Where a link of a note points in the site; None for a repository file outside it."""
    if re.match(r"^[a-z]+:|^#", href):
        return href
    path, _, anchor = href.partition("#")
    file = (docs / path).resolve()
    if file.suffix == ".md" and file.parent == docs.resolve() and file.exists():
        return f"{file.stem}.qmd" + (f"#{anchor}" if anchor else "")
    if file.is_file() and docs.resolve() / "img" in file.parents:
        return f"img/{file.relative_to(docs.resolve() / 'img').as_posix()}"
    return None


def site_markdown(text: str, docs: Path) -> str:
    """A note's Markdown for the site: its title line removed (it becomes the page title) and
    each link pointed at the site's page or image, or unlinked when it leaves the site."""
    def relink(m: re.Match) -> str:
        bang, label, href = m.groups()
        target = _target(href, docs)
        return f"{bang}[{label}]({target})" if target else label

    return _LINK.sub(relink, _TITLE.sub("", text, count=1))


def method_pages(docs: Path) -> list[Page]:
    """One page per docs/*.md, under methods/, in file order."""
    return [Page(f"{FOLDER}/{p.stem}.qmd", doc_title(p), site_markdown(p.read_text(), docs),
                 subtitle="Method notes", meta={"toc": True})
            for p in sorted(docs.glob("*.md"))]


def copy_images(docs: Path, site: Path) -> list[str]:
    """docs/img/ into site/methods/img/ (files changed or new only); their paths in site/."""
    out = []
    for src in sorted((docs / "img").glob("*")) if (docs / "img").is_dir() else []:
        rel = f"{FOLDER}/img/{src.name}"
        target = site / rel
        if not target.exists() or target.read_bytes() != src.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                shutil.copyfile(src, tmp)
        out.append(rel)
    return out
