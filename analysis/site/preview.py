"""Previews of the site without Quarto, in site/_preview/: generated pages through pandoc,
executed notebooks through nbconvert (code hidden), each in a shell with the site's navbar
and header, links rewritten from .qmd/.ipynb to .html as Quarto does. Serve the folder
(``python -m http.server -d site/_preview``): the DataTables bundle is an ES module, which
browsers do not load from file:// pages."""
from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from .. import config
from ..figures.export import block_html
from ..io import content_hash, write_text

_LOCAL_LINK = re.compile(r'href="(?![a-z]+:|#)([^"#]*?)\.(?:qmd|ipynb)((?:#[^"]*)?)"')


@dataclass
class PreviewPage:
    source: str  # relative to site/
    path: Path
    bytes: int


def _front_matter(text: str) -> tuple[dict, str]:
    if text.startswith("---\n"):
        end = text.index("\n---\n", 4)
        return yaml.safe_load(text[4:end]) or {}, text[end + 5:]
    return {}, text


def _plain(markdown: str) -> str:
    """A Markdown-escaped title as plain text."""
    return re.sub(r"\\(.)", r"\1", str(markdown))


def _nav(navbar: list[dict], up: str) -> str:
    items = []
    for item in navbar:
        if "menu" in item:
            links = "".join(f'<a href="{up}{html.escape(m["href"])}">{html.escape(_plain(m["text"]))}</a>' for m in item["menu"])
            items.append(f"<details><summary>{html.escape(item['text'])}</summary><div>{links}</div></details>")
        else:
            items.append(f'<a href="{up}{html.escape(item["href"])}">{html.escape(item["text"])}</a>')
    return '<nav class="site">' + "".join(items) + "</nav>"


def _shell(title: str, subtitle: str, head: str, nav: str, body: str, up: str) -> str:
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)} – podlens</title>"
            f'<link rel="stylesheet" href="{up}assets/preview.css"><link rel="stylesheet" href="{up}assets/podlens.css">'
            f"{head}</head><body>{nav}<main><header><h1>{html.escape(title)}</h1>"
            + (f'<p class="subtitle">{html.escape(subtitle)}</p>' if subtitle else "")
            + f"</header>{body}</main></body></html>\n")
    return _LOCAL_LINK.sub(lambda m: f'href="{m.group(1)}.html{m.group(2)}"', page)


def _pandoc(markdown: str) -> str:
    done = subprocess.run(["pandoc", "-f", "markdown", "-t", "html5", "--section-divs", "--wrap=none"],
                          input=markdown, capture_output=True, text=True, check=True)
    return done.stdout


def _notebook(path: Path) -> tuple[dict, str]:
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(path, as_version=4)
    meta = {}
    if nb.cells and nb.cells[0].cell_type == "raw":
        meta = yaml.safe_load(nb.cells[0].source.strip().strip("-")) or {}
        nb.cells = nb.cells[1:]
    for cell in nb.cells:  # the raw-HTML blocks the site keeps (Quarto renders them as HTML; nbconvert would not)
        for out in cell.get("outputs", []):
            fragment = block_html(out.get("data", {}).get("text/markdown", ""))
            if fragment is not None:
                out["data"] = {"text/html": fragment}
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    return meta, body


MANIFEST = ".sources.json"  # in the preview folder: page -> hash of what its preview was made from
NAVBAR_KEY = ".navbar"  # in the manifest: hash of the navbar the previews carry
_CODE = content_hash(Path(__file__).read_bytes())
_BODY_NAV = re.compile(r"<body><nav class=\"site\">.*?</nav><main>", re.DOTALL)


def _renav(target: Path, nav: str) -> None:
    """Put ``nav`` (links already rewritten) in place of the navbar of the preview ``target``."""
    text = target.read_text(encoding="utf-8")
    write_text(_BODY_NAV.sub(lambda m: f"<body>{nav}<main>", text, count=1), target)


def build_preview(site: Path, out: Path | None = None, workers: int | None = None) -> list[PreviewPage]:
    """Render every page listed by site/_quarto.yml into ``out`` (default site/_preview); a page
    whose source and header are unchanged since its preview was made is not rendered again
    (when only the navbar changed, as when an episode is added, its preview gets the new navbar
    in place). pandoc and nbconvert run on ``workers`` threads (default config.WORKERS)."""
    from concurrent.futures import ThreadPoolExecutor

    out = out or site / "_preview"
    project = yaml.safe_load((site / "_quarto.yml").read_text())
    navbar = project["website"]["navbar"]["left"]
    sources = sorted({p for pattern in project["project"]["render"] for p in site.glob(pattern.lstrip("/"))})
    for resource in (r.lstrip("/") for r in project["project"]["resources"]):
        target = out / resource
        if not target.exists() or target.read_bytes() != (site / resource).read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(site / resource, target)
    nb_meta = yaml.safe_load((site / "notebooks" / "_metadata.yml").read_text()) if (site / "notebooks" / "_metadata.yml").exists() else {}
    manifest_path = out / MANIFEST
    made = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    shared = content_hash(json.dumps(nb_meta, sort_keys=True), _CODE)
    nav_key = content_hash(json.dumps(navbar, sort_keys=True))

    def render(src: Path) -> tuple[str, Path, str]:
        rel = src.relative_to(site).as_posix()
        target = out / Path(rel).with_suffix(".html")
        key = content_hash(src.read_bytes(), shared)
        up = "../" * rel.count("/")
        if made.get(rel) == key and target.exists():
            if made.get(NAVBAR_KEY) != nav_key:
                _renav(target, _LOCAL_LINK.sub(lambda m: f'href="{m.group(1)}.html{m.group(2)}"', _nav(navbar, up)))
            return rel, target, key
        if src.suffix == ".ipynb":
            meta, body = _notebook(src)
            head = nb_meta.get("include-in-header", {}).get("text", "")
        else:
            meta, markdown = _front_matter(src.read_text())
            body = _pandoc(markdown)
            head = meta.get("include-in-header", {}).get("text", "")
        write_text(_shell(_plain(meta.get("title", src.stem)), _plain(meta.get("subtitle", "")), head,
                          _nav(navbar, up), body, up), target)
        return rel, target, key

    notebooks = [render(src) for src in sources if src.suffix == ".ipynb"]  # nbconvert here, pandoc on threads
    with ThreadPoolExecutor(max(1, workers or config.WORKERS)) as pool:
        pages = dict(zip([s for s in sources if s.suffix != ".ipynb"],
                         pool.map(render, [s for s in sources if s.suffix != ".ipynb"])))
    rendered = [pages[src] if src in pages else notebooks.pop(0) for src in sources]
    write_text(json.dumps({NAVBAR_KEY: nav_key} | {rel: key for rel, _, key in rendered}, indent=0, sort_keys=True)
               + "\n", manifest_path)
    return [PreviewPage(rel, target, target.stat().st_size) for rel, target, _ in rendered]


def weights_text(previews: list[PreviewPage]) -> str:
    """Page weights: each page's HTML, and the shared assets every page loads once."""
    lines = [f"{'page':<58} {'HTML':>9}"]
    lines += [f"{p.source:<58} {p.bytes / 1e6:>7.2f} MB" for p in previews]
    if previews:
        assets = previews[0].path.parent
        while not (assets / "assets").exists() and assets != assets.parent:
            assets = assets.parent
        shared = sum(f.stat().st_size for f in (assets / "assets").rglob("*") if f.is_file() and f.suffix in (".js", ".css"))
        lines.append(f"shared by every page, loaded once (plotly.js, DataTables, styles): {shared / 1e6:.2f} MB")
    return "\n".join(lines)
