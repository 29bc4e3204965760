"""The report site without Quarto: the generator writes every Quarto input from the tables (one
page and one transcript per catalog episode, an added episode included), the notebooks execute
with HTML figures, and every preview page, opened in headless Chromium with the network off,
loads without errors or outside requests, draws its charts, resolves its links and shows
injected markup as text. One corpus (the seeds plus an added episode) is built for all tests."""
from __future__ import annotations

import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import ClassVar

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml

from analysis import config, notebooks
from analysis.site import check
from analysis.site.build import build_site
from analysis.site.data import SiteData
from analysis.site.preview import build_preview

ROOT = config.ROOT
XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
ADDED = "field-notes-2024-06-01-marcus-obi"
ADDED_TITLE = "Rooftop bees <b>live</b> & more"
READER_NOTEBOOKS = ["01-corpus-overview", "02-talk-time"]  # 03 needs a topic model fit
ENTITY_WORDS = {"OpenAI": "ORG", "ChatGPT": "PRODUCT", "Codex": "PRODUCT", "API": "PRODUCT"}


def word_vectors(texts, **_) -> np.ndarray:
    """Stand-in for the embedding model (no model in these tests): a hashed bag of words, unit
    length, so passages with the same words are close."""
    out = np.zeros((len(texts), 512), dtype=np.float32)
    for i, text in enumerate(texts):
        for w in re.findall(r"[a-z]+", str(text).lower()):
            out[i, zlib.crc32(w.encode()) % 512] += 1
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    return out / np.where(norm == 0, 1, norm)


def _theme_and_entity_tables(mp) -> None:
    """The real theme stage (with :func:`word_vectors`) and entity tables from mentions of a few
    names found by a regular expression (spaCy is not loaded here), into config.PROCESSED."""
    from analysis import embeddings
    from analysis.corpus import load_corpus
    from analysis.entities.extract import MENTIONS
    from analysis.entities.tables import build_tables
    from analysis.io import write_table
    from analysis.themes import pipeline

    mp.setattr(embeddings, "embed", word_vectors)  # compare and search import it when called
    mp.setattr(pipeline, "embed", word_vectors)
    corpus = load_corpus()
    pipeline.run(tables=corpus)
    utt = corpus["utterances"][corpus["utterances"]["is_conversation"]]
    rows = [{"episode_id": u.episode_id, "order": u.order, "char_start": m.start(), "entity": m.group(0),
             "label": ENTITY_WORDS[m.group(0)], "text": m.group(0), "source": "alias", "speaker_id": u.speaker_id,
             "speaker": u.speaker, "start_s": u.start_s, "time_source": u.time_source}
            for u in utt.itertuples() for m in re.finditer("|".join(ENTITY_WORDS), str(u.text))]
    mentions = pd.DataFrame(rows).drop_duplicates(["episode_id", "order", "char_start"])
    write_table(mentions, MENTIONS, config.PROCESSED / f"{MENTIONS.name}.parquet")
    for name, df in build_tables(mentions, pipeline.conversation_passages(corpus)).items():
        df.to_parquet(config.PROCESSED / f"{name}.parquet")


def _catalog_with_added_episode(tmp) -> tuple:
    """A copy of the catalog (seed paths made absolute) plus an episode the seeds do not have:
    three speakers, an Otter export, and transcript lines that carry markup."""
    catalog = yaml.safe_load((ROOT / "data" / "episodes.yaml").read_text())
    for ep in catalog["episodes"]:
        for f in ep["files"]:
            f["path"] = str(ROOT / "data" / f["path"])
    transcript = (ROOT / "tests" / "data" / "formats" / "otter.txt").read_text()
    transcript += (f"\nMarcus Obi  1:04:10\nI typed {XSS[0]} into the hive log, and {XSS[1]} too.\n"
                   "\nDana Whitfield  1:04:30\nAnd the page showed it as text?\n")
    (tmp / "raw").mkdir()
    (tmp / "raw" / f"{ADDED}.transcript.txt").write_text(transcript)
    catalog["episodes"].append({
        "id": ADDED, "title": ADDED_TITLE, "show": "Field Notes", "published": "2024-06-01",
        "url": None, "video_id": "abcDEF12345", "duration_s": 3900,
        "hosts": [{"name": "Dana Whitfield", "role": "host"}], "guests": [{"name": "Marcus Obi", "role": "guest"}],
        "files": [{"path": f"raw/{ADDED}.transcript.txt", "kind": "transcript", "format": "auto"}],
        "speaker_labels": {}, "provenance": {}})
    path = tmp / "episodes.yaml"
    path.write_text(yaml.safe_dump(catalog, sort_keys=False, allow_unicode=True))
    return path, len(catalog["episodes"])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Seeds plus the added episode: corpus and talk-time tables, executed notebooks, the
    generated site, its previews and what Chromium saw on every preview page."""
    if shutil.which("pandoc") is None:
        pytest.skip("pandoc is not installed: the previews of the site need it (.ci/run installs it)")
    tmp = tmp_path_factory.mktemp("site")
    catalog, n_episodes = _catalog_with_added_episode(tmp)
    env = {"PODLENS_PROCESSED": str(tmp / "processed"), "PODLENS_INTERIM": str(tmp / "interim"),
           "PODLENS_CACHE": str(tmp / "cache")}
    for cmd in (["corpus", "--quiet", "--catalog", str(catalog)], ["speakers"]):
        subprocess.run([sys.executable, "-m", "analysis", *cmd], check=True, cwd=ROOT, capture_output=True,
                       env={**os.environ, **env})
    sources = tmp / "notebooks"
    sources.mkdir()
    for name in READER_NOTEBOOKS:
        shutil.copy(ROOT / "notebooks" / f"{name}.ipynb", sources)
    out = tmp / "site"
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)  # the kernel inherits these
        mp.setattr(config, "PROCESSED", tmp / "processed")
        mp.setattr(config, "CACHE", tmp / "cache")
        runs = notebooks.execute_notebooks(source_dir=sources, out_dir=out / "notebooks")
        again = notebooks.execute_notebooks(source_dir=sources, out_dir=out / "notebooks")
        _theme_and_entity_tables(mp)
        built = build_site(tmp / "processed", site=out, notebooks=sources)
    previews = build_preview(out)
    problems, facts = check.visit(out / "_preview") if check.CHROMIUM else (None, None)
    return {"tmp": tmp, "site": out, "built": built, "previews": previews, "problems": problems, "facts": facts,
            "runs": runs, "again": again, "n_episodes": n_episodes, "processed": tmp / "processed"}


def test_one_page_and_one_transcript_per_catalog_episode(site):
    out = site["site"]
    episodes = sorted(p.stem for p in (out / "episodes").glob("*.qmd"))
    assert len(episodes) == site["n_episodes"] and ADDED in episodes
    assert sorted(p.stem for p in (out / "transcripts").glob("*.qmd")) == episodes
    home = (out / "index.qmd").read_text()
    assert f"episodes/{ADDED}.html" in home  # the generated episode list links the added episode
    menu = yaml.safe_load((out / "_quarto.yml").read_text())["website"]["navbar"]["left"][1]["menu"]
    assert f"episodes/{ADDED}.qmd" in [m["href"] for m in menu]
    data = SiteData(site["processed"])
    assert "Field Notes: Marcus Obi" == data.names[ADDED]


def test_an_episode_removed_from_the_catalog_loses_its_pages(site, tmp_path):
    processed, out = tmp_path / "processed", tmp_path / "site"
    shutil.copytree(site["processed"], processed)
    shutil.copytree(site["site"], out, ignore=shutil.ignore_patterns("_preview"))
    for path in processed.glob("*.parquet"):  # what a rerun without it writes
        df = pd.read_parquet(path)
        if "episode_id" in df:
            df[df["episode_id"] != ADDED].to_parquet(path)
    build_site(processed, site=out, notebooks=tmp_path / "none")
    assert not (out / "episodes" / f"{ADDED}.qmd").exists() and not (out / "transcripts" / f"{ADDED}.qmd").exists()
    assert len(list((out / "episodes").glob("*.qmd"))) == site["n_episodes"] - 1
    assert ADDED not in (out / "index.qmd").read_text() and ADDED not in (out / "_quarto.yml").read_text()


def test_quarto_inputs_are_complete_offline_and_need_no_kernel(site):
    out = site["site"]
    project = yaml.safe_load((out / "_quarto.yml").read_text())
    assert project["project"]["type"] == "website" and project["execute"]["enabled"] is False
    assert "cosmo" not in str(project["format"]) and project["format"]["html"]["html-math-method"] == "plain"
    for item in project["website"]["navbar"]["left"]:
        for entry in item.get("menu", [item]):
            target = out / entry["href"]
            assert target.exists() or (entry["href"].startswith("notebooks/") and target.parent.exists()), entry
    globs = project["project"]["resources"] + project["project"]["render"]
    assert all(g.startswith("/") for g in globs)  # from the project root: the copies in _preview/ are not shipped
    for resource in project["project"]["resources"]:
        assert (out / resource.lstrip("/")).is_file(), resource
    downloads = {"utterances", "episodes", "talktime_speakers"}  # every canonical table, as CSV and Parquet
    assert {f"/data/{t}.{ext}" for t in downloads for ext in ("csv", "parquet")} <= set(project["project"]["resources"])
    data_page = (out / "data.qmd").read_text()
    assert all(f'href="data/{t}.csv"' in data_page and f"{{#table-{t}}}" in data_page for t in downloads)
    assert pd.read_csv(out / "data" / "utterances.csv")["episode_id"].nunique() == site["n_episodes"]
    for page in [*out.glob("*.qmd"), *out.glob("*/*.qmd")]:
        text = page.read_text()
        head = yaml.safe_load(text.split("---\n")[1])["include-in-header"]["text"]
        for src in re.findall(r'(?:src|href)="([^"]+)"', head) + re.findall(r'import\("([^"]+)"\)', head):
            if not src.startswith("data:"):
                assert (page.parent / src).resolve().is_file(), (page, src)
        assert not re.search(r'<(?:script|link|img)[^>]+(?:src|href)="https?:', text), page  # nothing from a CDN
    assert (out / "assets" / "podlens.scss").read_text().count("scss:defaults") == 1
    assert "include-in-header" in yaml.safe_load((out / "notebooks" / "_metadata.yml").read_text())


def _outputs_html(name: str, site) -> tuple[list[dict], list[str]]:
    """An executed notebook's outputs, and the HTML of those stored as raw-HTML blocks."""
    from analysis.figures.export import block_html

    nb = nbformat.read(site["site"] / "notebooks" / f"{name}.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    html = [block_html(o["data"]["text/markdown"]) for o in outputs if "text/markdown" in o.get("data", {})]
    return outputs, [h for h in html if h is not None]


def test_notebooks_execute_with_html_figures_and_rerun_only_when_inputs_change(site):
    assert [(r.name, r.status) for r in site["runs"]] == [(n, "executed") for n in READER_NOTEBOOKS]
    assert [r.status for r in site["again"]] == ["unchanged"] * len(READER_NOTEBOOKS)
    for name in READER_NOTEBOOKS:
        outputs, html = _outputs_html(name, site)
        assert not [o for o in outputs if o.output_type == "error"]
        assert any("plotly-graph-div" in h for h in html) and any("itables_" in h for h in html), name
        # Quarto loads require.js and jQuery from a CDN for any text/html or JavaScript output, and
        # cannot draw Plotly JSON: every output is Markdown (a raw-HTML block) or plain text
        kinds = {k for o in outputs for k in o.get("data", {})}
        assert kinds <= {"text/markdown", "text/plain"}, (name, kinds)
        joined = "\n".join(html)
        assert not re.search(r"\b(?:require|define)\(", joined) and "mathjax" not in joined.lower(), name
        assert "itables.org" not in joined and "Loading ITables" not in joined, name  # no fallback linking online
        assert not any(o.output_type == "stream" for o in outputs), name  # no developer printouts
    page = (site["site"] / "notebooks" / "02-talk-time.ipynb").read_text()
    assert "leave-one-episode-out" in page and "inferred from the text" in page


class _Loads(html.parser.HTMLParser):
    """Addresses an HTML fragment loads by itself: scripts, stylesheets, images, frames, media
    (links a reader clicks are not loads)."""

    LOADS: ClassVar[dict[str, str]] = {"script": "src", "img": "src", "iframe": "src", "frame": "src", "embed": "src", "source": "src",
             "video": "src", "audio": "src", "track": "src", "object": "data", "input": "src"}

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and "stylesheet" in (attrs.get("rel") or "") or tag == "link" and attrs.get("rel") in (
                "preload", "modulepreload", "icon"):
            self.urls.append(attrs.get("href") or "")
        elif tag in self.LOADS and attrs.get(self.LOADS[tag]):
            self.urls.append(attrs[self.LOADS[tag]])
        self.urls += re.findall(r"url\(['\"]?([^'\")]+)", attrs.get("style") or "")

    def handle_data(self, data):  # imports and fetches inside scripts
        self.urls += re.findall(r"""(?:import\s*\(?|fetch\(|src\s*=)\s*['"]([^'"]+)['"]""", data)


def test_executed_notebooks_load_nothing_from_another_host(site):
    """No script, stylesheet, image or frame in an executed notebook's output comes from another
    host (what Quarto renders them into must work offline); links a reader clicks may leave."""
    for name in READER_NOTEBOOKS:
        loads = _Loads()
        for fragment in _outputs_html(name, site)[1]:
            loads.feed(fragment)
        outside = [u for u in loads.urls if re.match(r"^(?:[a-z][a-z0-9+.-]*:)?//", u, re.IGNORECASE)
                   or (re.match(r"^[a-z][a-z0-9+.-]*:", u, re.IGNORECASE) and not u.startswith("data:"))]
        assert outside == [], (name, outside)


def test_the_outside_load_finder_finds_them():
    loads = _Loads()
    loads.feed('<script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//cdn.example/a.css">'
               '<img src="http://x/y.png"><iframe src="https://v/embed"></iframe><a href="https://ok.example/">link</a>'
               '<script type="module">import("https://cdn.example/m.js")</script><div style="background:url(https://x/b.png)">')
    assert loads.urls == ["https://cdn.example/x.js", "//cdn.example/a.css", "http://x/y.png", "https://v/embed",
                          "https://cdn.example/m.js", "https://x/b.png"]


def test_failing_notebook_names_the_cell_and_writes_nothing(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise ValueError('boom')")]
    nbformat.write(nb, src / "01-broken.ipynb")
    with pytest.raises(notebooks.NotebookError, match=r"01-broken.ipynb: cell 1 failed(.|\n)*boom"):
        notebooks.execute_notebooks(source_dir=src, out_dir=out)
    assert not out.exists() or not list(out.iterdir())


def test_notebooks_run_side_by_side_give_the_bytes_of_a_serial_run(tmp_path):
    """Three notebooks on two kernels at once: the same files as one after another, runs in
    notebook order; a failing one is named with its cell while the others are still written."""
    src = tmp_path / "src"
    src.mkdir()
    for k in range(3):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(f"import pandas as pd\npd.DataFrame({{'x': range({k + 3})}})"),
                    nbformat.v4.new_code_cell(f"sum(range({10 ** (k + 3)}))")]
        nbformat.write(nb, src / f"0{k + 1}-n{k}.ipynb")
    serial = notebooks.execute_notebooks(source_dir=src, out_dir=tmp_path / "serial", workers=1)
    parallel = notebooks.execute_notebooks(source_dir=src, out_dir=tmp_path / "parallel", workers=2)
    assert [r.name for r in serial] == [r.name for r in parallel] == ["01-n0", "02-n1", "03-n2"]
    for r in serial:
        assert (tmp_path / "serial" / f"{r.name}.ipynb").read_bytes() == (tmp_path / "parallel" / f"{r.name}.ipynb").read_bytes()
    broken = nbformat.v4.new_notebook()
    broken.cells = [nbformat.v4.new_code_cell("raise ValueError('boom')")]
    nbformat.write(broken, src / "02-n1.ipynb")
    with pytest.raises(notebooks.NotebookError, match=r"02-n1.ipynb: cell 0 failed(.|\n)*boom"):
        notebooks.execute_notebooks(source_dir=src, out_dir=tmp_path / "mixed", workers=2)
    assert sorted(p.name for p in (tmp_path / "mixed").iterdir()) == ["01-n0.ipynb", "03-n2.ipynb"]


def test_source_notebooks_are_thin_have_no_outputs_and_state_no_counts_by_hand():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path.name
        assert all(len(c.source.splitlines()) <= 20 for c in code), f"{path.name}: logic belongs in analysis/"
        assert any("from analysis" in c.source for c in code)
        # notebooks call the analysis and its figures, never the site generator's page builders
        assert not any(re.search(r"\banalysis\.site\b|from analysis import site\b", c.source) for c in code), path.name
        prose = " ".join(c.source for c in nb.cells if c.cell_type != "code").lower()
        numbers = r"\b(one|two|three|four|five|six|seven|eight|nine|ten|\d+) (episodes?|shows?|conversations?)\b"
        assert not re.search(numbers, prose), path.name
        assert not re.search(r"lenny|a16z|20vc|latent space|sherwin|altman|pokrass", prose), path.name


def test_page_weights_stay_light(site):
    for page in site["previews"]:
        if not page.source.startswith("transcripts/"):
            assert page.bytes < 1.5e6, (page.source, page.bytes)


needs_chromium = pytest.mark.skipif(check.CHROMIUM is None, reason="headless Chromium not installed")


@needs_chromium
def test_every_preview_page_loads_offline_draws_its_charts_and_resolves_its_links(site):
    facts = site["facts"]
    expected = {p.path.relative_to(site["site"] / "_preview").as_posix() for p in site["previews"]}
    notes = len(list((ROOT / "docs").glob("*.md")))  # the method notes are pages of the Methods section
    assert set(facts) == expected and len(expected) == 2 * site["n_episodes"] + 8 + len(READER_NOTEBOOKS) + notes
    assert site["problems"] == []  # at 1400 and 390 px: no legend scrolls or runs off, no labels collide, ...
    assert facts["index.html"]["charts"] >= 4 and facts["talk-time.html"]["charts"] >= 3
    assert facts["index.html"]["tables"] == 1  # the episode list became a sortable, searchable table
    transcript = site["site"] / "transcripts" / f"{ADDED}.qmd"
    assert "plotly" not in transcript.read_text().split("---")[1]  # a page without charts loads no plotly.js
    assert all(f["charts"] >= 1 for p, f in facts.items() if p.startswith("episodes/"))


@needs_chromium
def test_markup_in_transcripts_shows_as_text(site):
    facts = site["facts"]
    page = facts[f"transcripts/{ADDED}.html"]["text"]
    for payload in XSS:
        assert payload in page  # shown literally, so it did not become an element
    assert ADDED_TITLE in facts[f"episodes/{ADDED}.html"]["text"]
    assert ADDED_TITLE in facts["index.html"]["text"]
    # a dialog would be reported as a problem; so would the <img> fetching "x"
    assert not [p for p in site["problems"] if "dialog" in p or "/x" in p]


@needs_chromium
def test_transcripts_read_as_turns_with_one_band_per_noise_run(site):
    """A speaker's consecutive sentences are one turn (every sentence keeps its anchor); each
    run of flagged lines is one greyed band labelled once with its reason; every turn is a
    search section of its own (Quarto indexes level-2 sections), so a hit lands near its line."""
    data = SiteData(site["processed"])
    for episode_id in data.episodes["episode_id"]:
        utt = data.rows("utterances", episode_id).sort_values("order")
        f = site["facts"][f"transcripts/{episode_id}.html"]
        assert f["sentences"] == len(utt)  # every line is there, with its u<order> anchor
        assert {f"u{o}" for o in utt["order"]} <= set(f["ids"])
        who = utt["speaker_id"].fillna(utt["speaker"]).fillna("")
        changes = int((who.ne(who.shift()) | utt["is_conversation"].ne(utt["is_conversation"].shift())).sum())
        assert f["turns"] >= changes, episode_id  # a new turn at each change of speaker (and long ones split)
        flags = utt["flags"].where(~utt["is_conversation"], "")
        runs = int(((flags != "") & flags.ne(flags.shift())).sum())
        assert runs <= f["bands"] == f["band_labels"], episode_id  # one label per band (a part may split a run)
        if runs:
            assert f["text"].count("cold open") + f["text"].count("sponsor read") < len(utt[~utt["is_conversation"]])
    lenny = site["facts"]["transcripts/lenny-2026-02-12-sherwin-wu.html"]
    assert lenny["turns"] < lenny["sentences"] / 2
    qmd = (site["site"] / "transcripts" / "lenny-2026-02-12-sherwin-wu.qmd").read_text()
    sections = re.findall(r'<section class="level2 turn[^"]*" id="(t\d+)"><h2 class="turn-head">', qmd)
    assert len(sections) == lenny["turns"] and not re.search(r"(?m)^## ", qmd)  # no Markdown section around turns
    from analysis.site.pages import SECTION_WORDS

    for body in re.findall(r'<section class="level2 turn[^>]*>.*?</h2>(?:<a class="v"[^>]*>▶</a>)?<p>(.*?)</p></section>', qmd):
        words = len(re.sub(r"<[^>]+>", " ", body).split())
        assert words <= SECTION_WORDS or body.count('class="s"') == 1  # a section holds about a minute at most


@needs_chromium
def test_reader_pages_show_no_developer_output(site):
    for page, f in site["facts"].items():
        text = f["text"]
        assert "[ok]" not in text and "NaN" not in text and "<NA>" not in text, page
        if not page.startswith("methods/"):  # the method notes may name Python's None
            assert "None" not in text, page
        if page not in ("methods.html", "explore.html") and not page.startswith(("notebooks/", "methods/")):
            assert "python -m" not in text, page
        if page.startswith(("episodes/", "index")):  # empty fields are left out, not shown as a dash
            assert not re.search(r"(?m)^(Recorded at|Not stated in a source|Episode page|Video)\s*\n\s*–", text), page
            assert "text model 100%" not in text and "between anchors" not in text, page  # reader words
    transcript = site["facts"]["transcripts/lenny-2026-02-12-sherwin-wu.html"]["text"]
    assert "~" in transcript and "sponsor read" in transcript  # estimated times and labelled noise
    episode = site["facts"]["episodes/lenny-2026-02-12-sherwin-wu.html"]["text"]
    assert re.search(r"Who speaks is inferred from the text: about \d+ words in 10 right on this episode", episode)


def test_quotes_escape_markup_and_link_to_their_line(site):
    from analysis.figures.format import quotes_html
    from analysis.quotes import find_quotes

    data = SiteData(site["processed"])
    hits = find_quotes(data.tables, "hive log")
    video_ids = data.episodes.set_index("episode_id")["video_id"].dropna().to_dict()
    html = quotes_html(hits, data["utterances"], video_ids, data.names,
                       lambda e, order: f"../transcripts/{e}.html#u{order}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert "<img src=x" not in html and f"../transcripts/{ADDED}.html#u" in html
    assert "https://www.youtube.com/watch?v=abcDEF12345&amp;t=3850s" in html  # the video at that moment


def test_optional_tables_add_sections_only_when_present(site, tmp_path):
    from analysis.site import optional, pages

    processed = tmp_path / "processed"
    shutil.copytree(site["processed"], processed, ignore=shutil.ignore_patterns("theme*", "entit*"))
    data = SiteData(processed)
    assert optional.themes_page(data) is None and optional.episode_themes(data, ADDED, "x.qmd") == ""
    assert optional.themes_page(data) is None and optional.episode_summary(data, ADDED, "x.qmd") == ""
    assert optional.llm_topic_labels(data) is None
    pd.DataFrame({"episode_id": [ADDED, ADDED], "section": ["episode", "chapter"], "chapter_index": [0, 0],
                  "start_s": [None, 3850.0], "title": [None, "Hive logs"], "text": ["About bees <i>x</i>.", "Logs."],
                  "citations": ["u3", "u9"], "model": ["gpt-test", "gpt-test"], "prompt_version": ["1", "1"]}
                 ).to_parquet(processed / "llm_summaries.parquet")
    data = SiteData(processed)
    summary = optional.episode_summary(data, ADDED, f"episodes/{ADDED}.qmd")
    assert "Model-made by gpt-test" in summary and "&lt;i&gt;x&lt;/i&gt;" in summary
    assert f"../transcripts/{ADDED}.html#u" in summary
    # a share with an interval shows the expected value the interval belongs to, and no range
    # where the interval rounds to one value
    speakers = data["talktime_speakers"].query("episode_id == @ADDED")
    html = pages._speaker_table(speakers.assign(talk_share=0.2, talk_share_expected=0.4, talk_share_low=0.3,
                                                talk_share_high=0.5))
    assert "40% (30%–50%)" in html and "20%" not in html
    html = pages._speaker_table(speakers.assign(talk_share=0.4, talk_share_expected=0.4, talk_share_low=0.4,
                                                talk_share_high=0.4))
    assert "40%" in html and "(40%–40%)" not in html


def test_quarto_project_renders_existing_pages_without_executing(site):
    """Quarto only renders (execution off) what the build wrote: every page the navbar names
    exists, and Explore lists every numbered notebook, the project's themes notebook included."""
    from analysis.site import build, reference

    out = site["site"]
    project = yaml.safe_load((out / "_quarto.yml").read_text())
    assert project["execute"]["enabled"] is False
    navbar = project["website"]["navbar"]["left"]
    for entry in (e for item in navbar for e in item.get("menu", [item])):
        assert (out / entry["href"]).is_file(), entry  # the executed notebooks included
    explore = next(item for item in navbar if item["text"] == "Explore")["menu"]
    assert [e["href"] for e in explore] == ["explore.qmd"] + [f"notebooks/{n}.ipynb" for n in READER_NOTEBOOKS]
    own = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    assert "04-themes.ipynb" in [p.name for p in own]
    menu = next(i for i in build._navbar(SiteData(site["processed"]), [], own) if i["text"] == "Explore")["menu"]
    assert [e["href"] for e in menu[1:]] == [f"notebooks/{p.name}" for p in own]
    assert all(f'href="notebooks/{p.stem}.html"' in reference.explore(own).body for p in own)


def test_themes_page_is_generated_from_the_theme_tables_with_charts_and_light(site):
    """With theme and entity tables the site gets a Themes page (in the navbar) and a Themes
    section on each episode page: charts, generated prose, compact tables, no per-mention dump."""
    from analysis.search import load_queries

    out = site["site"]
    page = (out / "themes.qmd").read_text()
    navbar = yaml.safe_load((out / "_quarto.yml").read_text())["website"]["navbar"]["left"]
    assert "themes.qmd" in [item.get("href") for item in navbar]
    assert "model" in page and "not by a person" in page  # tags are said to be model-made
    measured = json.loads((site["processed"] / "theme_evaluation.json").read_text())  # by the theme stage
    assert f"macro precision is {measured['cv']['macro_precision']:.2f}" in page and "Two readers" in page
    assert page.count('class="plotly-graph-div') >= 3  # themes per episode, per person, top entities
    assert "### Sherwin Wu" in page  # the seeds list one person in two episodes; the prose names them
    pair = page.split('<div class="quote-pair">')[1]
    assert pair.count("<blockquote") == 2 and pair.count("../transcripts/") == 0  # themes.qmd is at the top
    assert re.search(r'href="transcripts/[^"#]+\.html#u\d+"', pair)
    assert page.count('<p class="query">') == min(3, len(load_queries()))
    assert "itables" not in page and "interactive" not in page  # compact tables, not table dumps
    mentions = pd.read_parquet(site["processed"] / "entity_mentions.parquet")
    assert len(mentions) > 15 and page.count("<tr>") < 60  # no row per mention or per passage
    weights = {p.source: p.bytes for p in site["previews"]}
    assert weights["themes.qmd"] < 1.5e6
    episode = (out / "episodes" / "lenny-2026-02-12-sherwin-wu.qmd").read_text()
    themes = episode.split("## Themes")[1].split("\n## ")[0]
    assert 'class="plotly-graph-div' in themes and "Most mentioned" in themes
    assert "Times in this episode are estimated" in themes  # the Lenny transcript has no timestamps
    if site["facts"] is not None:
        assert site["facts"]["themes.html"]["charts"] >= 3
        assert site["facts"]["episodes/lenny-2026-02-12-sherwin-wu.html"]["charts"] >= 2  # balance, themes


def test_methods_table_shows_the_expected_host_share_and_its_interval_where_it_is_shown():
    """The methods page quotes the share the site shows (expected, interval) next to the best path."""
    from analysis.site.reference import host_share_cell
    held_out = {"host_word_share_true": 0.173, "host_word_share_pred": 0.138}
    assert host_share_cell(held_out) == "17.3% → 13.8%"
    shown = dict(held_out, host_word_share_expected=0.166, shown_low=0.096, shown_high=0.233)
    assert host_share_cell(shown) == "17.3% → 13.8% / 16.6% (9.6%–23.3%)"


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and "_preview" not in p.parts}


def test_pages_are_the_same_built_on_workers_or_here_and_across_builds(site, tmp_path, monkeypatch):
    """Episode and transcript pages made on two worker processes equal those made in this
    process, byte for byte (figure and table ids come from their content, not chance), and a
    second build writes the same bytes."""
    from analysis import embeddings
    from analysis.site import build

    monkeypatch.setattr(embeddings, "embed", word_vectors)  # the Themes page's pairs, as in the fixture
    monkeypatch.setattr(build, "PARALLEL_MIN_EPISODES", 1)
    here = build_site(site["processed"], site=tmp_path / "here", notebooks=tmp_path / "none", workers=1)
    there = build_site(site["processed"], site=tmp_path / "there", notebooks=tmp_path / "none", workers=2)
    assert [p.path for p in here.pages] == [p.path for p in there.pages]
    first = _files(tmp_path / "here")
    assert len([f for f in first if f.startswith("episodes/")]) == site["n_episodes"]
    assert first == _files(tmp_path / "there")
    build_site(site["processed"], site=tmp_path / "here", notebooks=tmp_path / "none", workers=1)
    assert _files(tmp_path / "here") == first


def test_adding_an_episode_makes_only_its_pages_and_equals_a_build_from_scratch(site, tmp_path, monkeypatch):
    """The site built without the added episode, then again with it: only the added episode's
    pages are made (the others' kept byte for byte, though corpus-wide tables changed), and the
    result equals a site built from scratch from the same tables."""
    import json

    from analysis import embeddings
    from analysis.site import pages

    monkeypatch.setattr(embeddings, "embed", word_vectors)  # the Themes page's pairs, as in the fixture
    before = tmp_path / "before"
    before.mkdir()
    for path in site["processed"].iterdir():
        if path.suffix == ".parquet":
            df = pd.read_parquet(path)
            df = df[df["episode_id"] != ADDED] if "episode_id" in df.columns else df
            df.to_parquet(before / path.name, index=False)
        elif path.is_file():
            shutil.copy(path, before)
    out, none = tmp_path / "site", tmp_path / "none"
    first = build_site(before, site=out, notebooks=none, workers=1)
    assert first.kept == 0 and not (out / "episodes" / f"{ADDED}.qmd").exists()
    old = {k: v for k, v in _files(out).items() if k.startswith(("episodes/", "transcripts/"))}
    made, episode, transcript = [], pages.episode, pages.transcript
    monkeypatch.setattr(pages, "episode", lambda data, e, sections=(): made.append(e) or episode(data, e, sections))
    monkeypatch.setattr(pages, "transcript", lambda data, e: made.append(e) or transcript(data, e))
    built = build_site(site["processed"], site=out, notebooks=none, workers=1)
    assert made == [ADDED, ADDED] and built.kept == site["n_episodes"] - 1
    now = _files(out)
    assert {k: now[k] for k in old} == old and f"episodes/{ADDED}.qmd" in now
    build_site(site["processed"], site=tmp_path / "scratch", notebooks=none, workers=1)
    assert _files(tmp_path / "scratch") == now
    assert sorted(json.loads((out / ".episode-pages.json").read_text())) == sorted(
        p.stem for p in (out / "episodes").glob("*.qmd"))


def test_previews_are_rendered_again_only_for_pages_that_changed(site, tmp_path, monkeypatch):
    from analysis.site import preview

    out = tmp_path / "site"
    shutil.copytree(site["site"], out)  # with the fixture's previews and their manifest
    rendered = []
    pandoc, notebook = preview._pandoc, preview._notebook
    monkeypatch.setattr(preview, "_pandoc", lambda md: rendered.append(md) or pandoc(md))
    monkeypatch.setattr(preview, "_notebook", lambda path: rendered.append(path) or notebook(path))
    before = {p.source: p.path.read_bytes() for p in site["previews"]}
    again = build_preview(out)
    assert rendered == [] and {p.source: p.path.read_bytes() for p in again} == before
    page = out / "methods.qmd"
    page.write_text(page.read_text() + "\nOne more sentence for the test.\n")
    again = build_preview(out)
    assert len(rendered) == 1 and "One more sentence for the test." in rendered[0]
    changed = {p.source for p in again if p.path.read_bytes() != before[p.source]}
    assert changed == {"methods.qmd"}
    (out / "_quarto.yml").write_text((out / "_quarto.yml").read_text().replace('"text": "Data"', '"text": "How"')
                                     .replace("text: Data", "text: How"))
    rendered.clear()
    again = build_preview(out)
    assert rendered == []  # only the navbar changed (as when an episode is added): replaced in place
    fresh = build_preview(out, out=tmp_path / "fresh")  # every page rendered anew
    assert len(rendered) == len(before)
    assert {p.source: p.path.read_bytes() for p in again} == {p.source: p.path.read_bytes() for p in fresh}
    navs = [re.search(rb'<nav class="site">.*?</nav>', p.path.read_bytes(), re.DOTALL).group(0) for p in again]
    assert all(b">How</a>" in nav and b">Data</a>" not in nav for nav in navs)


def test_corpus_charts_stay_readable_at_a_hundred_episodes():
    """Entities across 100 episodes: one bar per entity (coloured by type), not 100 legend
    entries; a person heard in 20 episodes: a theme-by-episode grid of normal height."""
    from analysis.figures import themes as figures

    eps = [f"ep{k:03d}" for k in range(100)]
    per_ep = pd.DataFrame([(e, ent, label, 1 + k % 3) for k, e in enumerate(eps)
                           for ent, label in (("OpenAI", "ORG"), ("Codex", "PRODUCT"))],
                          columns=["episode_id", "entity", "label", "mentions"])
    fig = figures.top_entities(per_ep)
    assert len(fig.data) == 2 and sorted(t.name for t in fig.data) == ["ORG", "PRODUCT"]
    assert sum(sum(t.x) for t in fig.data) == per_ep["mentions"].sum()
    few = figures.top_entities(per_ep[per_ep["episode_id"].isin(eps[:3])])
    assert len(few.data) == 3  # one colour per episode while they fit a legend
    per_speaker = pd.DataFrame([(e, "dana", "Dana", theme, 0.1 * (1 + k % 4), 2, f"2023-{1 + k // 28:02d}-{1 + k % 28:02d}")
                                for k, e in enumerate(eps[:20]) for theme in ("agents", "pricing")],
                               columns=["episode_id", "speaker_id", "speaker", "theme", "share", "passages", "published"])
    fig = figures.themes_of_person(per_speaker, "dana")
    assert fig.data[0].type == "heatmap" and len(fig.data[0].x) == 20 and fig.layout.height < 600


def test_a_recurring_person_without_a_similar_pair_keeps_the_pair_columns(site, monkeypatch):
    """Notebook 04 and the themes page index the pair table by column: a person whose passages are
    all too short to pair (a user's archive) still gets the columns, with no rows."""
    from analysis import compare, embeddings

    monkeypatch.setattr(embeddings, "embed", word_vectors)
    tables = SiteData(site["processed"]).tables
    paired = compare.compare("Sherwin Wu", tables)
    assert len(paired.pairs) and list(paired.pairs.columns) == compare.PAIR_COLUMNS
    monkeypatch.setattr(compare, "MIN_PAIR_WORDS", 10**6)
    unpaired = compare.compare("Sherwin Wu", tables)
    assert unpaired.pairs.empty and list(unpaired.pairs.columns) == compare.PAIR_COLUMNS
    assert unpaired.episodes["episode_id"].tolist() == paired.episodes["episode_id"].tolist()


def test_figures_have_html_legends_and_say_what_they_show_on_hover():
    """The legend is HTML under the chart (it wraps instead of scrolling or covering the axes);
    a trace without a hover template (Plotly's default shows raw field names) is refused."""
    import plotly.graph_objects as go

    from analysis.figures.export import hover_missing, to_html

    fig = go.Figure([go.Bar(x=[1], y=["a"], name=f"topic {k}", marker_color="#123456",
                            hovertemplate="%{x} passages<extra></extra>") for k in range(14)])
    html = to_html(fig)
    assert html.count("<li>") == 14 and '"showlegend":false' in html.replace(" ", "")
    bare = go.Figure(go.Scatter(x=[1], y=[2], name="raw"))
    assert hover_missing(bare) == ["raw"]
    with pytest.raises(ValueError, match="raw"):
        to_html(bare)


def test_close_chapter_numbers_are_not_drawn_into_one_another():
    from analysis.figures.themes import chapter_labels

    labels = chapter_labels([0, 10, 70, 71, 72, 80], 80)  # "4 5 6" would read as one number
    assert labels[:3] == ["1", "2", "3"] and labels[3:5] == ["", ""] and labels[5] == "6"


def test_reader_note_is_said_from_the_numeric_accuracy_columns(monkeypatch):
    """How an episode was measured, in reader words: from attribution_accuracy (a number), and
    from any accuracy column added to ACCURACY_COLUMNS, never by parsing the method note."""
    from analysis.figures import talktime as tt

    row = pd.DataFrame([{"episode_id": "Show: Guest", "attribution_method": "model 100%", "time_method": "rate_estimated 90%, file 10%",
                         "attribution_accuracy": 0.87, "attribution_accuracy_note": "ignored"}])
    assert tt.reader_note(row) == "Who speaks is inferred from the text: about 9 words in 10 right on this episode. Times are estimated."
    unmeasured = row.assign(attribution_accuracy=None, other=0.71)
    assert "not measured on this episode" in tt.reader_note(unmeasured)
    monkeypatch.setattr(tt, "ACCURACY_COLUMNS", (*tt.ACCURACY_COLUMNS, ("other", "on other shows")))
    assert "about 7 words in 10 right on other shows" in tt.reader_note(unmeasured)
    named = row.assign(attribution_method="file_label 100%", time_method="file 100%")
    assert tt.reader_note(named) == "" and tt.measured_words(named.iloc[0]) == ("speakers named in the transcript; "
                                                                                  "times from the transcript")


def test_method_notes_link_to_their_pages_and_leave_repository_files_as_text(tmp_path):
    from analysis.site.docs import method_pages

    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "shot.png").write_bytes(b"png")
    (tmp_path / "a.md").write_text("# Stage A\n\nSee [B](b.md#part-two), ![shot](img/shot.png), "
                                   "[the code](../analysis/x.py) and [web](https://example.org).\n")
    (tmp_path / "b.md").write_text("## Part two\n\nBack to [A](a.md).\n")
    a, b = method_pages(tmp_path)
    assert a.path == "methods/a.qmd" and a.title == "Stage A" and not a.body.startswith("#")
    assert "[B](b.qmd#part-two)" in a.body and "![shot](img/shot.png)" in a.body
    assert "the code" in a.body and "../analysis/x.py" not in a.body and "(https://example.org)" in a.body
    assert b.title == "B" and "[A](a.qmd)" in b.body


@needs_chromium
def test_the_reader_check_finds_what_a_reader_would_hit(tmp_path):
    """The layout check is not blind: a table wider than a phone, a time broken over two lines,
    a Plotly legend that scrolls and a trace with the default hover are each reported."""
    import plotly

    (tmp_path / "assets").mkdir()
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", tmp_path / "assets")
    traces = ",".join(f'{{"type":"bar","x":[1],"y":["a"],"name":"entry number {k}","hovertemplate":"x"}}' for k in range(30))
    (tmp_path / "bad.html").write_text(
        '<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width">'
        '<script src="assets/plotly.min.js"></script></head><body>'
        '<div class="table-wrap" style="overflow-x:auto"><table><tr><td style="white-space:nowrap">'
        + "wide " * 80 + '</td></tr></table></div>'
        '<p style="width:2ch;word-break:break-all">~1:15:41</p>'
        '<div id="c" class="plotly-graph-div" style="height:260px"></div><script>'
        f'Plotly.newPlot("c",[{traces},{{"type":"scatter","x":[1],"y":[1],"name":"raw"}}],{{"height":260}})</script>'
        "</body></html>")
    problems = check.check_site(tmp_path, settle_s=0.5)
    assert any("cut off on the right" in p for p in problems)
    assert any("a time broken over two lines" in p for p in problems)
    assert any("legend scrolls" in p for p in problems)
    assert any('trace "raw" has no hover template' in p for p in problems)
