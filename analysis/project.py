"""A project of one's own: ``podlens new DIR`` makes one, ``podlens build`` runs every stage on it.

A project is a folder with a ``podlens.yaml`` (config.PROJECT_FILE), ``data/`` (an empty
catalog, ``raw/``, a theme lexicon template with one worked example, an empty entity alias
table and glossary, empty annotation folders) and, once built, ``site/``. podlens commands run
in it or below it use it (config.ROOT); the notebooks come from the podlens installation.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from . import config, stamps
from .io import write_text

TEMPLATES = Path(__file__).parent / "templates"
# data/ files of a new project: template name -> path under the project
FILES = {"podlens.yaml": config.PROJECT_FILE, "episodes.yaml": "data/episodes.yaml", "themes.yaml": "data/themes.yaml",
         "entities.yaml": "data/entities.yaml", "glossary.yaml": "data/glossary.yaml", "gitignore": ".gitignore",
         "annotations.md": "data/annotations/README.md"}
FOLDERS = ("data/raw", "data/annotations/drafts")
# The stages of `make all` in its order (the stamps' list: one list for both), and the exit codes
# that only warn (an acceptance check of the topic model failed; some language-model enrichments
# are missing).
STAGES = tuple(stamps.STAGES)
WARN_ONLY = {"evaluate-topics": "a topic-model acceptance check failed (see above)",
             "enrich": "some LLM enrichments are missing (see above)"}


class ProjectError(ValueError):
    pass


def new_project(directory: Path) -> list[Path]:
    """Make a project in ``directory`` (new or empty); return the files written. Raises
    ProjectError when the folder already holds files."""
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ProjectError(f"{directory}: exists and is not an empty folder; give a new folder")
    written = []
    for template, rel in FILES.items():
        write_text((TEMPLATES / template).read_text(encoding="utf-8"), directory / rel)
        written.append(directory / rel)
    for rel in FOLDERS:
        (directory / rel).mkdir(parents=True, exist_ok=True)
    return written


def main_new(args) -> int:
    """``podlens new DIR``."""
    try:
        written = new_project(args.directory)
    except ProjectError as exc:
        print(f"error: {exc}")
        return 1
    d = args.directory
    print(f"made a podlens project in {d}:")
    print("\n".join(f"  {p.relative_to(d)}" for p in written) + "\n  " + "\n  ".join(f"{f}/" for f in FOLDERS))
    print(f"next:\n  cd {d}\n  podlens add FEED_URL_OR_FILE   (or: podlens add --show NAME FILES...)\n  podlens build")
    return 0


def main_build(args) -> int:
    """``podlens build [--refit]``: every stage of ``make all`` in order, on this project (each
    skipped when its inputs are unchanged), then ``quarto render site`` where Quarto is installed."""
    from .__main__ import main

    print(f"building {config.ROOT} (site: {config.SITE}; notebooks from {config.NOTEBOOKS})")
    for stage in STAGES:
        print(f"== {stage}", flush=True)
        rc = main([stage, *(["--refit"] if stage == "topics" and args.refit else [])])
        if rc and stage in WARN_ONLY:
            print(f"warning: {WARN_ONLY[stage]}")
        elif rc:
            print(f"error: stage {stage} failed (exit {rc}); later stages not run")
            return rc
    if shutil.which("quarto"):
        return subprocess.call(["quarto", "render", str(config.SITE)])
    print(f"Quarto is not installed: the site's pages are in {config.SITE}, previews of every page in "
          f"{config.SITE / '_preview'} (view: python3 -m http.server -d {config.SITE / '_preview'} 8000, then open "
          "http://localhost:8000). Install Quarto (quarto.org, conda-forge 'quarto', or 'pip install quarto-cli') "
          "to render the site into site/_site/.")
    return 0
