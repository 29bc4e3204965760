"""The episode catalog: the real one loads cleanly; a malformed file fails with its line; a bad
entry is skipped with an error naming file:line while the other entries load."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES

from analysis import config
from analysis.catalog import CatalogError, load_catalog, slugify

CATALOGS = SAMPLES / "catalogs"


def entry_lines(path: Path) -> dict[str, list[int]]:
    """Line numbers of the '- id: X' lines of a catalog, per id (read from the file itself)."""
    out: dict[str, list[int]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1):
        m = re.match(r"^\s*- id: (.+?)\s*$", line)
        if m:
            out.setdefault(m.group(1), []).append(n)
    return out


def test_real_catalog_loads_without_errors():
    episodes, errors = load_catalog(config.CATALOG)
    assert errors == []
    assert len(episodes) == 4 == len({e.id for e in episodes})
    assert sum(len(e.files) for e in episodes) == 5
    for ep in episodes:
        assert ep.files_of("transcript"), ep.id
        for f in ep.files:
            assert f.path.is_absolute() and f.path.is_file(), f.path
            assert f.path.parent == ROOT / "data" / "raw"
        for name in ep.speaker_labels.values():
            assert ep.person(name) is not None
        assert isinstance(ep.published, dt.date)
        assert ep.source.startswith("episodes.yaml:")
    a16z = next(e for e in episodes if e.id.startswith("a16z"))
    assert a16z.speaker_labels == {"Erik Torenberg": "Martin Casado"}
    assert [f.kind for f in a16z.files] == ["transcript", "summary"]
    latent = next(e for e in episodes if e.id.startswith("latent-space"))
    assert latent.provenance["published"]["basis"] == "approximate"
    assert [p.id for p in latent.hosts] == ["alessio-fanelli", "swyx"]


def test_episode_source_names_its_line():
    episodes, _ = load_catalog(config.CATALOG)
    lines = entry_lines(config.CATALOG)
    for ep in episodes:
        assert ep.source == f"episodes.yaml:{lines[ep.id][0]}"


def test_malformed_yaml_raises_with_line():
    path = CATALOGS / "malformed.yaml"
    with pytest.raises(CatalogError) as info:
        load_catalog(path)
    text = path.read_text(encoding="utf-8").split("\n")
    unclosed = next(n for n, ln in enumerate(text, start=1) if "{" in ln and "}" not in ln)
    err = info.value
    assert err.line is not None and unclosed <= err.line <= unclosed + 1
    assert str(err).startswith(f"{path}:{err.line}: malformed YAML")


@pytest.mark.parametrize("content, message, line", [
    ("just a string\n", "expected a mapping with an 'episodes' list", 1),
    ("episodes: {a: 1}\n", "expected a mapping with an 'episodes' list", 1),
    ("", "expected a mapping", 1),
    ("episodes:\n  - id: a\n  - id: b\n    title: [unclosed\n", "malformed YAML", None),
])
def test_catalog_shape_errors(tmp_path, content, message, line):
    path = tmp_path / "episodes.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError, match=re.escape(message)) as info:
        load_catalog(path)
    if line is not None:
        assert info.value.line == line
    else:
        assert info.value.line is not None and info.value.line >= 4
    assert str(path) in str(info.value)


def test_missing_and_undecodable_catalog(tmp_path):
    with pytest.raises(CatalogError, match="catalog not found"):
        load_catalog(tmp_path / "nope.yaml")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes("episodes:\n  - id: caf\xe9\n".encode("latin-1"))
    with pytest.raises(CatalogError, match="not UTF-8"):
        load_catalog(bad)


# Each bad entry of mixed.yaml, by its id, and what its error must say.
BAD_ENTRIES = {
    "no-title-2024-01-02": "missing 'title'",
    "Bad Slug!": "is not a slug",
    "unknown-label-2024-01-03": "'Carol Nobody', not a host or guest",
    "bad-date-2024-01-04": "'2024-13-45' is not a YYYY-MM-DD date",
    "provenance-list-2024-01-05": "provenance must map",
    "hosts-string-2024-01-06": "hosts must be a list",
    "summary-only-2024-01-07": "no file of kind 'transcript'",
}


def test_bad_entries_skipped_with_file_and_line():
    path = CATALOGS / "mixed.yaml"
    episodes, errors = load_catalog(path)
    lines = entry_lines(path)
    assert [e.id for e in episodes] == ["good-2024-01-01-guest", "second-good-2024-01-08"]
    assert len(errors) == len(BAD_ENTRIES) + 1  # + the duplicate id
    for eid, message in BAD_ENTRIES.items():
        (line,) = lines[eid]
        hits = [e for e in errors if e.startswith(f"{path}:{line}: entry skipped")]
        assert len(hits) == 1, (eid, errors)
        assert message in hits[0]
    first, duplicate = lines["good-2024-01-01-guest"]
    dup = [e for e in errors if e.startswith(f"{path}:{duplicate}:")]
    assert len(dup) == 1 and "duplicate episode id 'good-2024-01-01-guest'" in dup[0]
    assert episodes[0].source == f"mixed.yaml:{first}"
    assert episodes[0].title == "A good episode"  # the first of the two with that id is kept


def test_valid_entry_fields():
    episodes, _ = load_catalog(CATALOGS / "mixed.yaml")
    good = episodes[0]
    assert good.published == dt.date(2024, 1, 1)
    assert [p.name for p in good.hosts] == ["Ann Host"] and [p.name for p in good.guests] == ["Bob Guest"]
    assert good.speaker_labels == {"Unknown": "Ann Host"}
    # paths are relative to the catalog's folder and resolved
    assert good.files[0].path == (ROOT / "data" / "raw" / "20vc-2024-11-04-sam-altman.transcript.txt")
    assert good.files[0].format == "auto"
    second = episodes[1]
    assert second.published is None and second.hosts == [] and second.files[0].kind == "transcript"


@pytest.mark.parametrize("extra, message", [
    ("    duration_s: -5\n", "duration_s"),
    ("    duration_s: long\n", "duration_s"),
    ("    published: 2024\n", "not a YYYY-MM-DD date"),
    ("    hosts: [{name: A, role: producer}]\n", "role 'producer'"),
    ("    hosts: [{role: host}]\n", "needs a 'name'"),
    ("    provenance: {published: {basis: guessed}}\n", "provenance.published"),
    ("    speaker_labels: [a, b]\n", "speaker_labels must map"),
])
def test_single_field_errors(tmp_path, extra, message):
    path = tmp_path / "episodes.yaml"
    path.write_text("episodes:\n  - id: ok-one\n    title: T\n    show: S\n    files: [a.txt]\n"
                    "  - id: bad-one\n    title: T\n    show: S\n    files: [{path: b.txt, kind: transcript}]\n"
                    + extra, encoding="utf-8")
    episodes, errors = load_catalog(path)
    assert [e.id for e in episodes] == ["ok-one"]
    assert len(errors) == 1 and errors[0].startswith(f"{path}:6: entry skipped") and message in errors[0]


def test_bad_file_kind(tmp_path):
    path = tmp_path / "episodes.yaml"
    path.write_text("episodes:\n  - id: x\n    title: T\n    show: S\n    files: [{path: a.txt, kind: video}]\n",
                    encoding="utf-8")
    episodes, errors = load_catalog(path)
    assert episodes == [] and "file kind 'video'" in errors[0] and f"{path}:2:" in errors[0]


def test_slugify():
    assert slugify("Sherwin Wu") == "sherwin-wu"
    assert slugify("  Dr. Jane O'Neil ") == "dr-jane-o-neil"
    assert slugify("swyx") == "swyx"
