"""The report site, generated from the tables: ``data`` reads them, ``pages`` and ``reference``
build the pages (with the figures, reader tables and formatting of :mod:`analysis.figures`, which
the notebooks use too), ``themes`` the Themes page and each episode's theme section, ``optional``
adds sections for tables other stages may write, ``docs`` makes the method notes in docs/ pages
of the Methods section, ``build`` writes the Quarto inputs into site/, ``preview`` renders them
without Quarto (pandoc, nbconvert) and ``check`` opens every preview page in headless Chromium at
a desktop and a phone width. Quarto only renders."""
from __future__ import annotations

import shutil
import sys


def main_site(args) -> int:
    """``python -m analysis site [--no-preview] [--check]``: write the Quarto inputs, then the
    previews in site/_preview/ and their page weights; ``--check`` opens each in Chromium."""
    from .build import build_site
    from .preview import build_preview, weights_text

    built = build_site()
    print(f"wrote {len(built.pages)} pages, _quarto.yml and assets into {built.site} "
          f"({built.kept} episodes' pages unchanged, kept)")
    if args.no_preview:
        return 0
    if shutil.which("pandoc") is None:
        print("pandoc is not installed: skipped the previews in site/_preview/ (the Quarto inputs are written); "
              "install Debian's 'pandoc' (or see pandoc.org) for previews and their browser check.")
        return 0
    previews = build_preview(built.site)
    print(weights_text(previews))
    if args.check:
        from .check import check_site

        problems = check_site(built.site / "_preview")
        for p in problems:
            print(f"problem: {p}", file=sys.stderr)
        print(f"browser check: {len(previews)} pages, {len(problems)} problems")
        return 1 if problems else 0
    return 0
