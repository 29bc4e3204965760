"""The half of the site that runs without Quarto: the Quarto project is consistent, the
notebooks execute without errors (and only when their inputs changed), a failing notebook
leaves no output, and an executed page shows its figures to a reader in headless Chromium."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import nbformat
import pytest
import yaml

from analysis import config, notebooks

ROOT = config.ROOT
SITE = ROOT / "site"


def test_quarto_project_renders_existing_pages_without_executing():
    project = yaml.safe_load((SITE / "_quarto.yml").read_text())
    assert project["project"]["type"] == "website"
    assert project["execute"]["enabled"] is False  # notebooks are executed by `make notebooks`
    sources = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    assert len(sources) >= 3
    for entry in project["project"]["render"]:
        if "*" not in entry:
            assert (SITE / entry).exists(), entry
    for item in project["website"]["navbar"]["left"]:
        href = item["href"]
        if href.startswith("notebooks/"):
            assert href.split("/", 1)[1] in sources, href  # executed into site/notebooks by make
        else:
            assert (SITE / href).exists(), href
    nav = {i["href"].split("/", 1)[-1] for i in project["website"]["navbar"]["left"]}
    assert set(sources) <= nav  # every notebook is reachable from the navbar


def test_source_notebooks_are_thin_and_have_no_outputs():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), path.name
        assert all(len(c.source.splitlines()) <= 20 for c in code), f"{path.name}: logic belongs in analysis/"
        assert any("from analysis" in c.source for c in code)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Corpus and talk-time tables of the seed corpus in a temporary data/processed."""
    processed = tmp_path_factory.mktemp("processed")
    env = {"PODLENS_PROCESSED": str(processed), "PODLENS_INTERIM": str(tmp_path_factory.mktemp("interim")),
           "PODLENS_CACHE": str(tmp_path_factory.mktemp("cache"))}
    for cmd in (["corpus", "--quiet"], ["speakers"]):
        subprocess.run([sys.executable, "-m", "analysis", *cmd], check=True, cwd=ROOT, capture_output=True,
                       env={**os.environ, **env})
    return processed, env


def test_notebooks_execute_into_site_and_rerun_only_when_inputs_change(built, tmp_path, monkeypatch):
    processed, env = built
    for key, value in env.items():
        monkeypatch.setenv(key, value)  # the kernel inherits these
    monkeypatch.setattr(config, "PROCESSED", processed)
    names = ["01-corpus-overview", "02-talk-time"]
    runs = notebooks.execute_notebooks(names, out_dir=tmp_path)
    assert [(r.name, r.status) for r in runs] == [(n, "executed") for n in names]
    for name in names:
        nb = nbformat.read(tmp_path / f"{name}.ipynb", as_version=4)
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"]
        assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs), name
    again = notebooks.execute_notebooks(names, out_dir=tmp_path)
    assert [r.status for r in again] == ["unchanged", "unchanged"]
    # the talk-time page states the measured accuracy it rests on
    page = (tmp_path / "02-talk-time.ipynb").read_text()
    assert "leave-one-episode-out" in page and "inferred by a text model" in page


def test_failing_notebook_names_the_cell_and_writes_nothing(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise ValueError('boom')")]
    nbformat.write(nb, src / "01-broken.ipynb")
    with pytest.raises(notebooks.NotebookError, match=r"01-broken.ipynb: cell 1 failed(.|\n)*boom"):
        notebooks.execute_notebooks(source_dir=src, out_dir=out)
    assert not out.exists() or not list(out.iterdir())


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (.ci/run installs it)")
def test_reader_sees_rendered_figures_and_method_notes(built, tmp_path, monkeypatch):
    processed, env = built
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(config, "PROCESSED", processed)
    notebooks.execute_notebooks(["02-talk-time"], out_dir=tmp_path)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "html", str(tmp_path / "02-talk-time.ipynb")],
                   check=True, capture_output=True)
    dom = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000", "--dump-dom",
         (tmp_path / "02-talk-time.html").as_uri()],
        check=True, capture_output=True, text=True, timeout=120).stdout
    assert dom.count('class="main-svg"') >= 3  # plotly drew the figures (plotly.js is embedded, no CDN)
    assert "Share of talk time per episode" in dom
    assert "speakers inferred by a text model" in dom and "times estimated" in dom
