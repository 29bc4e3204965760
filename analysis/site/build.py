"""Write every input Quarto needs into site/: the generated pages, _quarto.yml, the assets
(one plotly.js and one DataTables bundle for the whole site, the theme) and the downloads.
An episode's pages are made again only when what they show changed; pages of episodes no longer
in the catalog are removed; nothing else in site/ is touched."""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from .. import config
from ..io import atomic_path, content_hash, write_text
from . import docs as method_notes
from . import optional, pages, reference
from .data import SiteData, episode_page, transcript_page

SITE = config.SITE
NOTEBOOKS = config.NOTEBOOKS
DOCS = config.ROOT / "docs"  # the method notes, one page each in the site's Methods section (a `podlens new`
# project has none: podlens's own notes quote figures measured on its seed corpus)
STATIC = Path(__file__).parent / "static"
GENERATED_DIRS = ("episodes", "transcripts")
RENDER = ("*.qmd", "episodes/*.qmd", "transcripts/*.qmd", "methods/*.qmd", "notebooks/*.ipynb")  # what Quarto renders
ITABLES_READY = "itables-{v}-ready"


@dataclass
class SiteBuild:
    site: Path
    pages: list[pages.Page]  # the pages written by this build
    navbar: list[dict]
    kept: int = 0  # episodes whose episode and transcript pages were kept from the last build


def _itables_version() -> str:
    import itables

    return itables.__version__


def header(depth: int, charts: bool = True, tables: bool = True) -> str:
    """HTML for a page's <head>: the site's plotly.js (``charts``) and DataTables bundle
    (``tables``), by relative path; a page with neither loads neither."""
    up = "../" * depth or "./"  # a module specifier must start with ./ or ../
    v = _itables_version()
    key = "_itables_" + v.replace(".", "_")
    head = '<link rel="icon" href="data:,">'  # no request for /favicon.ico
    if charts:
        head += f'\n<script src="{up}assets/plotly.min.js"></script>'
    if tables:
        head += (f'\n<link rel="stylesheet" href="{up}assets/itables/dt_bundle.css">\n'
                 f'<script>if(!window.{key}){{window.{key}=import("{up}assets/itables/dt_bundle.js");'
                 f'window.{key}.then(function(){{window.dispatchEvent(new Event("{ITABLES_READY.format(v=v)}"))}})}}</script>')
    return head


def _assets(site: Path) -> list[str]:
    import itables
    import plotly

    plotly_js = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    bundle = Path(itables.__file__).parent / "html"
    files = {"assets/plotly.min.js": plotly_js, "assets/itables/dt_bundle.js": bundle / "dt_bundle.js",
             "assets/itables/dt_bundle.css": bundle / "dt_bundle.css",
             "assets/podlens.css": STATIC / "podlens.css", "assets/preview.css": STATIC / "preview.css"}
    for rel, src in files.items():
        target = site / rel
        if not target.exists() or target.read_bytes() != src.read_bytes():
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                shutil.copyfile(src, tmp)
    scss = ("/*-- scss:defaults --*/\n"
            '$font-family-sans-serif: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;\n'
            "$primary: #3b6ea5;\n$navbar-bg: #2c3e50;\n"
            "/*-- scss:rules --*/\n" + (STATIC / "podlens.css").read_text())
    write_text(scss, site / "assets" / "podlens.scss")
    return [*files, "assets/podlens.scss"]


def _downloads(data: SiteData, site: Path) -> list[tuple[str, str, int, str, int]]:
    """Every registered table present and not empty as CSV and Parquet under site/data/;
    a table whose Parquet copy there equals data/processed's is not written again."""
    from .. import corpus  # noqa: F401  (importing a module registers its tables)
    from ..entities import extract  # noqa: F401
    from ..llm import tables as llm_tables  # noqa: F401
    from ..schema import REGISTRY
    from ..speakers import talktime  # noqa: F401
    from ..themes import tagging, timelines  # noqa: F401
    from ..topics import passages, tables  # noqa: F401

    out = []
    for name in sorted(data.tables):
        if name not in REGISTRY or data[name].empty:  # an empty table is no download
            continue
        csv, pq = site / "data" / f"{name}.csv", site / "data" / f"{name}.parquet"
        source = data.processed / f"{name}.parquet"
        if not (csv.exists() and pq.exists() and pq.read_bytes() == source.read_bytes()):  # else both are current
            csv.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(csv) as tmp:
                data[name].to_csv(tmp, index=False)
            with atomic_path(pq) as tmp:
                shutil.copyfile(source, tmp)
        out.append((name, f"data/{name}.csv", csv.stat().st_size, f"data/{name}.parquet", pq.stat().st_size))
    return out


def _front_matter(page: pages.Page) -> str:
    meta = {"title": pages.md(page.title)}
    if page.subtitle:
        meta["subtitle"] = pages.md(page.subtitle)
    meta.update(page.meta)
    meta["include-in-header"] = {"text": header(page.path.count("/"), charts="plotly-graph-div" in page.body,
                                                tables="itables_" in page.body)}
    return "---\n" + yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=10_000) + "---\n"


PARALLEL_MIN_EPISODES = 16  # fewer episodes' pages are made in this process (a worker's start-up,
# imports and reading the tables, costs about as much as 4 episode pages)


@lru_cache(maxsize=1)
def _site_data(processed: str) -> SiteData:
    return SiteData(Path(processed))


def _episode_pages(job: tuple[str, list[str]]) -> list[pages.Page]:
    """The episode pages, then the transcript pages, of some episodes (a worker's share)."""
    processed, ids = job
    data = _site_data(processed)
    return ([pages.episode(data, e, optional.EPISODE_SECTIONS) for e in ids]
            + [pages.transcript(data, e) for e in ids])


def episode_pages(data: SiteData, ids: list[str], workers: int | None = None) -> list[pages.Page]:
    """The episode pages, then the transcript pages, of ``ids``: on local processes or the
    cluster (analysis.parallel, each worker reading the tables once) from PARALLEL_MIN_EPISODES
    on, else here. The pages do not depend on where they were made."""
    workers = config.WORKERS if workers is None else workers
    if len(ids) < PARALLEL_MIN_EPISODES or workers <= 1:
        return [pages.episode(data, e, optional.EPISODE_SECTIONS) for e in ids] + [pages.transcript(data, e) for e in ids]
    from ..parallel import parallel_map

    chunks = [ids[k::2 * workers] for k in range(2 * workers)]  # interleaved: long and short episodes mixed
    made = parallel_map(_episode_pages, [(str(data.processed), c) for c in chunks], workers=workers)
    by_path = {p.path: p for part in made for p in part}
    return [by_path[episode_page(e)] for e in ids] + [by_path[transcript_page(e)] for e in ids]


PAGE_KEYS = ".episode-pages.json"  # in site/: episode id -> hash of what its two pages were made from
CORPUS_RANKS = {"topic_assignments": ("rank_in_topic",)}  # per-episode columns ranked over the whole
# corpus (they change when any episode is added), which the episode pages do not show


def _rows_hashes(df: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row of ``df`` (values of every column; lists and arrays as text)."""
    try:
        return pd.util.hash_pandas_object(df, index=False).to_numpy()
    except TypeError:  # unhashable cells (lists, arrays)
        return pd.util.hash_pandas_object(df.astype(str), index=False).to_numpy()


def episode_keys(data: SiteData) -> dict[str, str]:
    """Per episode, a hash of everything its episode and transcript pages are made from: its
    rows of every table that has an ``episode_id`` (less CORPUS_RANKS), its display name, the
    corpus-wide facts the pages show (topic labels, the theme names and their order, the
    evaluations) and the code and plotly/itables versions. Adding an episode changes no other
    episode's key, so their pages are kept as they are (tests/test_site.py checks that a site
    updated this way equals one built from scratch)."""
    import plotly

    from .themes import theme_names

    package = Path(__file__).resolve().parent.parent
    topics = data["topics"][["topic_id", "label"]].sort_values("topic_id").to_csv(index=False) if data.has("topics") else ""
    themes = "\n".join(theme_names(data)) if data.has("theme_tags") or data.has("themes_per_episode") else ""
    shared = content_hash(*(p.read_bytes() for p in sorted(package.rglob("*.py"))), plotly.__version__,
                          _itables_version(), topics, themes, json.dumps(data.evaluations, sort_keys=True, default=str))
    parts: dict[str, list[str]] = {e: [shared, data.names.get(e, "")] for e in data.episodes["episode_id"]}
    for name, df in sorted(data.tables.items()):
        if "episode_id" not in df.columns or df.empty:
            continue
        hashes = _rows_hashes(df.drop(columns=[c for c in CORPUS_RANKS.get(name, ()) if c in df.columns]))
        for e, idx in df.groupby("episode_id", sort=False).indices.items():
            if e in parts:
                parts[e].append(name + ":" + hashes[idx].tobytes().hex())
    return {e: content_hash(*p) for e, p in parts.items()}


def build_site(processed: Path | None = None, site: Path = SITE, notebooks: Path = NOTEBOOKS,
               workers: int | None = None, docs: Path = DOCS) -> SiteBuild:
    """Generate the site's pages from the tables in ``processed`` (default data/processed) and
    the method notes in ``docs``; episode and transcript pages on ``workers`` processes (default
    config.WORKERS), only for episodes whose pages' inputs changed (:func:`episode_keys`): the
    others' pages are kept."""
    data = SiteData(processed or config.PROCESSED)
    ids = data.episodes["episode_id"].tolist()
    sources = sorted(notebooks.glob("[0-9][0-9]-*.ipynb"))
    extra = [p for p in (hook(data) for hook in optional.EXTRA_PAGES) if p is not None]
    keys = episode_keys(data)
    made = json.loads((site / PAGE_KEYS).read_text()) if (site / PAGE_KEYS).exists() else {}
    todo = [e for e in ids if made.get(e) != keys[e] or not (site / episode_page(e)).exists()
            or not (site / transcript_page(e)).exists()]
    notes = method_notes.method_pages(docs)
    built = ([pages.home(data)]
             + episode_pages(data, todo, workers)
             + [pages.talk_time(data), pages.topics_page(data, optional.llm_topic_labels(data)),
                pages.speakers_page(data), *extra, reference.methods(data, notes), *notes])
    site.mkdir(parents=True, exist_ok=True)
    assets = _assets(site) + method_notes.copy_images(docs, site)
    downloads = _downloads(data, site)
    built += [reference.data_page(data, downloads), reference.explore(sources)]
    for d in GENERATED_DIRS:  # episodes no longer in the catalog lose their pages
        for old in (site / d).glob("*.qmd"):
            if old.stem not in ids:
                old.unlink()
    for old in (site / method_notes.FOLDER).glob("*.qmd"):  # so do notes no longer in docs/
        if f"{method_notes.FOLDER}/{old.name}" not in {n.path for n in notes}:
            old.unlink()
    for page in built:
        (site / page.path).parent.mkdir(parents=True, exist_ok=True)
        write_text(_front_matter(page) + "\n" + page.body, site / page.path)
    write_text(json.dumps(keys, indent=0, sort_keys=True) + "\n", site / PAGE_KEYS)
    navbar = _navbar(data, extra, sources, notes)
    write_text(_quarto_yml(navbar, assets, downloads), site / "_quarto.yml")
    (site / "notebooks").mkdir(exist_ok=True)
    write_text("# Written by `python -m analysis site`: the notebooks load the site's plotly.js once.\n"
               + yaml.safe_dump({"include-in-header": {"text": header(1)}}, width=10_000), site / "notebooks" / "_metadata.yml")
    return SiteBuild(site, built, navbar, len(ids) - len(todo))


def _navbar(data: SiteData, extra: list[pages.Page], notebooks: list[Path], notes: list[pages.Page] = ()) -> list[dict]:
    """Home, episodes, the reader pages, Methods (the measured accuracy, then every method note)
    and Explore: its overview and every numbered notebook."""
    episodes = [{"href": f"episodes/{e}.qmd", "text": pages.md(data.names[e])} for e in data.episodes["episode_id"]]
    explore = [{"href": "explore.qmd", "text": "All notebooks"}] + [
        {"href": f"notebooks/{name}", "text": pages.md(title)} for name, title, _ in reference.notebook_titles(notebooks)]
    return ([{"href": "index.qmd", "text": "Home"}, {"text": "Episodes", "menu": episodes},
             {"href": "talk-time.qmd", "text": "Talk time"}, {"href": "topics.qmd", "text": "Topics"},
             {"href": "speakers.qmd", "text": "Speakers"}]
            + [{"href": p.path, "text": p.title} for p in extra]
            + [{"text": "Methods", "menu": [{"href": "methods.qmd", "text": "Measured accuracy"}]
                + [{"href": n.path, "text": pages.md(n.title)} for n in notes]} if notes else
               {"href": "methods.qmd", "text": "Methods"},
               {"href": "data.qmd", "text": "Data"},
               {"text": "Explore", "menu": explore}])


def _quarto_yml(navbar: list[dict], assets: list[str], downloads) -> str:
    project = {
        # globs from the project root ("/..."): unanchored ones also match the copies in _preview/
        "project": {"type": "website", "output-dir": "_site",
                    "render": [f"/{g}" for g in RENDER],
                    "resources": [f"/{a}" for a in assets if not a.endswith(".scss")]
                    + [f"/{p}" for d in downloads for p in (d[1], d[3])]},
        "website": {"title": "podlens", "search": True, "navbar": {"left": navbar}},
        "format": {"html": {"theme": ["default", "assets/podlens.scss"], "toc": True, "code-fold": True,
                            "code-summary": "Show the code", "html-math-method": "plain", "anchor-sections": True,
                            "smooth-scroll": False}},
        "execute": {"enabled": False},
    }
    return ("# Written by `python -m analysis site` from the tables: edit analysis/site/, not this file.\n"
            "# Quarto only renders (execute: enabled: false); Python executed and generated everything.\n"
            + yaml.safe_dump(project, sort_keys=False, allow_unicode=True, width=10_000))
