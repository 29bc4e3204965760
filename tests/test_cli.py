"""The command line, run as users run it (``python -m analysis ...``) in a subprocess.

Outputs are redirected with PODLENS_ROOT to a copy of data/ under tmp_path: data/interim and
data/processed have no variables of their own; they follow PODLENS_ROOT.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import RAW, ROOT

from analysis.corpus import TABLES
from analysis.ingest import FORMATS

A16Z = RAW / "a16z-2025-11-28-sherwin-wu.transcript.txt"
SUMMARY = RAW / "a16z-2025-11-28-sherwin-wu.summary.txt"


def cli(*args: str, root: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PODLENS_")}
    if root is not None:
        environ["PODLENS_ROOT"] = str(root)
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def data_root(tmp_path):
    """A project root whose data/ holds copies of the catalog, glossary and raw files."""
    data = tmp_path / "data"
    shutil.copytree(RAW, data / "raw")
    for name in ("episodes.yaml", "glossary.yaml"):
        shutil.copy(ROOT / "data" / name, data / name)
    return tmp_path


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*")} if folder.exists() else {}


def test_corpus_prints_report_and_writes_under_root(data_root):
    real = _mtimes(ROOT / "data" / "processed"), _mtimes(ROOT / "data" / "interim" / "corpus")
    res = cli("corpus", "--quiet", root=data_root)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    head = re.match(r"corpus: (\d+) episodes, (\d+) utterances \((\d+) conversation\), (\d+) speakers, "
                    r"(\d+) words in [\d.]+s \(0 episodes from cache\)", out)
    assert head, out
    processed = data_root / "data" / "processed"
    tables = {name: pd.read_parquet(processed / f"{name}.parquet") for name in TABLES}
    utt, eps = tables["utterances"], tables["episodes"]
    conv = utt[utt["is_conversation"]]
    assert [int(g) for g in head.groups()] == [len(eps), len(utt), len(conv), conv["speaker_id"].nunique(),
                                               int(conv["word_count"].sum())]
    # one line per episode with its format, counts and flags
    for _, e in eps.iterrows():
        line = next(ln for ln in out.splitlines() if ln.strip().startswith(e["episode_id"]))
        assert e["transcript_format"] in line
        assert f"{(utt['episode_id'] == e['episode_id']).sum()} utt" in line
        assert f"{e['n_words']} words" in line
        eu = utt[utt["episode_id"] == e["episode_id"]]
        for flag in ("cold_open", "sponsor", "nonspeech", "hallucination_loop", "promo"):
            n = eu["flags"].str.split(";").apply(lambda fl, f=flag: f in fl).sum()
            assert (f"{flag} {n}" in line) == bool(n), (flag, line)
        if eu["flags"].eq("").all():
            assert line.endswith("flagged: none")
    assert len(list((data_root / "data" / "interim" / "corpus").glob("*.pkl"))) == len(eps) == 4
    assert (processed / "corpus_report.json").is_file()
    # the real data folders were not touched
    assert (_mtimes(ROOT / "data" / "processed"), _mtimes(ROOT / "data" / "interim" / "corpus")) == real


def test_corpus_with_missing_file_reports_error_and_strict_fails(data_root):
    catalog = data_root / "data" / "small.yaml"
    catalog.write_text(
        "episodes:\n"
        "  - id: vc-one\n    title: T\n    show: S\n    hosts: [Harry Stebbings]\n    guests: [Sam Altman]\n"
        "    speaker_labels: {Unknown: Harry Stebbings}\n"
        "    files: [raw/20vc-2024-11-04-sam-altman.transcript.txt]\n"
        "  - id: gone-one\n    title: T\n    show: S\n    files: [raw/20vc-missing.txt]\n", encoding="utf-8")
    res = cli("corpus", "--quiet", "--strict", "--catalog", str(catalog), root=data_root)
    assert res.returncode == 1, res.stderr
    assert "corpus: 1 episodes" in res.stdout and "vc-one" in res.stdout
    err = next(ln for ln in res.stdout.splitlines() if "20vc-missing.txt" in ln)
    assert "not found" in err and "gone-one" in err and "small.yaml:" in err
    assert "errors (1):" in res.stdout
    eps = pd.read_parquet(data_root / "data" / "processed" / "episodes.parquet")
    assert list(eps["episode_id"]) == ["vc-one"]


def test_corpus_with_malformed_catalog_fails(data_root):
    bad = data_root / "broken.yaml"
    bad.write_text("episodes:\n  - id: x\n    title: [unclosed\n", encoding="utf-8")
    res = cli("corpus", "--quiet", "--catalog", str(bad), root=data_root)
    assert res.returncode != 0
    assert f"{bad}:" in res.stdout + res.stderr and "malformed YAML" in res.stdout + res.stderr
    assert not (data_root / "data" / "processed").exists()


def test_inspect_text_and_json():
    res = cli("inspect", str(A16Z))
    assert res.returncode == 0, res.stderr
    lines = A16Z.read_text(encoding="utf-8").split("\n")
    stamped = [ln for ln in lines if re.match(r"^\[\d\d:\d\d:\d\d\]", ln)]
    assert "format:     timestamped_lines (transcript)" in res.stdout
    assert f"utterances: {len(stamped)}" in res.stdout
    assert f"time span:  0:00:00 - 0:{stamped[-1][4:9]}" in res.stdout
    assert "Erik Torenberg" in res.stdout and "Sherwin Wu" in res.stdout

    js = cli("inspect", str(A16Z), "--json")
    assert js.returncode == 0
    data = json.loads(js.stdout)
    assert data["ok"] is True and data["format"] == "timestamped_lines" and data["kind"] == "transcript"
    assert data["utterances"] == len(stamped)
    labels = {s["label"]: s["utterances"] for s in data["speakers"]}
    assert labels == {"Sherwin Wu": sum("] Sherwin Wu:" in ln for ln in stamped),
                      "Erik Torenberg": sum("] Erik Torenberg:" in ln for ln in stamped)}
    assert data["unlabelled_utterances"] == len(stamped) - sum(labels.values())
    assert data["metadata"]["video_id"] == "3x0jhpEj_6o"
    assert data["time_span_s"][0] == 0

    page = cli("inspect", str(SUMMARY))
    assert page.returncode == 0 and "summary_page (summary)" in page.stdout and "8 summaries" in page.stdout


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"\x00\x01\x02binary\x00" * 50, "binary file"),
    (b"{\"a\": 1}", "unknown transcript format"),
])
def test_inspect_bad_file_exits_nonzero(tmp_path, content, message):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    res = cli("inspect", str(bad))
    assert res.returncode == 2
    assert res.stdout.startswith(f"error: {bad}: ") and message in res.stdout
    js = cli("inspect", str(bad), "--json")
    assert js.returncode == 2 and json.loads(js.stdout)["ok"] is False


def test_inspect_missing_file():
    res = cli("inspect", "/nonexistent/episode.txt")
    assert res.returncode == 2 and "file not found" in res.stdout


def test_formats_and_schema():
    res = cli("formats")
    assert res.returncode == 0
    listed = [ln.split()[0] for ln in res.stdout.splitlines() if ln.strip() and not ln.startswith(" ")]
    assert listed == sorted(FORMATS)
    for name, fmt in FORMATS.items():
        assert fmt.cue, f"{name} has no detection cue"
        assert f"{name:<22} {fmt.description}\n{'':<22} detected by: {fmt.cue}\n" in res.stdout

    res = cli("schema")
    assert res.returncode == 0
    for name, table in TABLES.items():
        assert f"### `{name}`" in res.stdout
        assert all(f"| `{c.name}` |" in res.stdout for c in table.columns)


def test_data_dictionary_in_docs_is_current():
    """docs/data-dictionary.md is exactly what `python -m analysis schema` prints."""
    out = subprocess.run([sys.executable, "-m", "analysis", "schema"], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert (ROOT / "docs" / "data-dictionary.md").read_text() == out, "run: python -m analysis schema > docs/data-dictionary.md"
