"""The scale benchmark's synthetic archive: deterministic, in the formats it claims, and buildable."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from analysis import config
from analysis.catalog import load_catalog
from analysis.corpus import build_corpus
from analysis.ingest import parse_file

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import scale


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    ids = scale.generate(root, 12, minutes=4)
    return root, ids


def test_archive_is_deterministic(archive, tmp_path):
    root, ids = archive
    assert scale.generate(tmp_path, 12, minutes=4) == ids and len(set(ids)) == 12
    for name in ["episodes.yaml"] + [p.name for p in (root / "data" / "raw").iterdir()]:
        sub = "" if name == "episodes.yaml" else "raw"
        assert (root / "data" / sub / name).read_bytes() == (tmp_path / "data" / sub / name).read_bytes(), name
    other = tmp_path / "other"
    scale.generate(other, 2, seed=1, minutes=4)
    first = min((other / "data" / "raw").iterdir())
    assert first.read_bytes() != (root / "data" / "raw" / first.name).read_bytes()


def test_archive_mixes_labelled_generic_and_unlabelled_formats(archive):
    root, _ = archive
    entries = yaml.safe_load((root / "data" / "episodes.yaml").read_text())["episodes"]
    kinds = {"labelled": 0, "generic": 0, "unlabelled": 0}
    for k, entry in enumerate(entries):
        tr = parse_file(root / "data" / entry["files"][0]["path"])
        assert tr.format == scale.CYCLE[k], entry["id"]
        labels = {s.speaker for s in tr.segments}
        people = {p["name"] for p in entry["hosts"] + entry["guests"]}
        words = sum(len(s.text.split()) for s in tr.segments)
        assert 0.9 * 4 * scale.WORDS_PER_MINUTE <= words <= 4 * scale.WORDS_PER_MINUTE + 600
        if labels == {None}:
            kinds["unlabelled"] += 1
        elif labels <= people:
            kinds["labelled"] += 1
            assert len(labels) >= 2
        else:
            kinds["generic"] += 1
            assert all(lab.startswith(("Speaker ", "SPEAKER_")) for lab in labels)
    assert kinds == {"labelled": 6, "generic": 3, "unlabelled": 3}
    assert len({e["show"] for e in entries}) == len(scale.SHOWS)
    assert any(len(e["guests"]) == 2 for e in entries)


def test_archive_builds_as_a_corpus_and_grows_by_one(archive, tmp_path, monkeypatch):
    root, ids = tmp_path / "archive", archive[1]
    shutil.copytree(archive[0], root)
    catalog = root / "data" / "episodes.yaml"
    episodes, errors = load_catalog(catalog)
    assert not errors and [e.id for e in episodes] == ids
    monkeypatch.setattr(config, "INTERIM", tmp_path / "interim")
    monkeypatch.setattr(config, "ANNOTATIONS", tmp_path / "no-annotations")
    build = build_corpus(catalog, out_dir=tmp_path / "out", progress=False)
    assert not build.errors, build.errors
    assert list(build.tables["episodes"]["episode_id"]) == ids
    new = scale.generate(root, 13, minutes=4, start=12)
    again = build_corpus(catalog, out_dir=tmp_path / "out", progress=False)
    assert sorted(again.cached) == sorted(ids) and len(new) == 1
    assert list(again.tables["episodes"]["episode_id"]) == ids + new


def test_benchmark_runs_every_stage_of_make_all_in_its_order():
    """The stages the benchmark times are the `python -m analysis` commands of `make all`'s recipes,
    in the order make runs them (each target after its prerequisites)."""
    import re

    makefile = (Path(scale.ROOT) / "Makefile").read_text()
    recipes = {m.group(1): (m.group(2).split(), m.group(3)) for m in re.finditer(
        r"^([^\s:=#]+):(?!=)([^#\n]*?)(?:##[^\n]*)?\n((?:\t[^\n]*\n)*)", makefile, re.MULTILINE)}  # stamp targets too
    order: list[str] = []

    def visit(target):
        if target not in recipes or target in order:
            return
        for dep in recipes[target][0]:
            visit(dep)
        order.append(target)

    visit("all")
    commands = [c for t in order for c in re.findall(r"\$\(PY\) -m analysis ([a-z-]+)", recipes[t][1])]
    assert commands and [args[0] for _, args in scale.STAGES] == commands
    assert scale.ALLOWED_TO_FAIL == {c for t in order for c in re.findall(
        r"\$\(PY\) -m analysis ([a-z-]+)[^\n]*\|\| echo", recipes[t][1])}
