"""`make bench` (benchmarks/bench.py) on a corpus with a broken episode: it reports it and goes on."""
from __future__ import annotations

import importlib.util
import json
import shutil
import sys

from conftest import RAW, ROOT

from analysis import config
from analysis import corpus as corpus_module

GOOD = "20vc-2024-11-04-sam-altman.transcript.txt"


def _bench(monkeypatch):
    spec = importlib.util.spec_from_file_location("podlens_bench", ROOT / "benchmarks" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "podlens_bench", module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_bench_reports_a_broken_episode_and_goes_on(tmp_path, monkeypatch, capsys):
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(RAW / GOOD, raw / GOOD)
    (raw / "broken.transcript.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    catalog = tmp_path / "episodes.yaml"
    catalog.write_text(json.dumps({"episodes": [
        {"id": "broken-one", "title": "Broken", "show": "Show",
         "files": [{"path": str(raw / "broken.transcript.txt"), "kind": "transcript"}]},
        {"id": "good-one", "title": "Good", "show": "20VC", "hosts": ["Harry Stebbings"], "guests": ["Sam Altman"],
         "speaker_labels": {"Unknown": "Harry Stebbings"},
         "files": [{"path": str(raw / GOOD), "kind": "transcript"}]},
    ]}), encoding="utf-8")
    monkeypatch.setattr(config, "RAW", raw)
    monkeypatch.setattr(config, "CATALOG", catalog)
    monkeypatch.setattr(corpus_module, "STAGES", [])  # the per-episode build is what can break
    out_json = tmp_path / "results.json"
    assert _bench(monkeypatch).main(["--only", "ingest,corpus", "--repeat", "1", "--json", str(out_json)]) == 0
    printed = capsys.readouterr().out
    assert "parse seed files" in printed and "cold build" in printed and "warm build" in printed
    assert "1 episodes, 44 utterances" in printed and "1 left out (see problems)" in printed
    problems = printed.split("problems (2), left out of the figures above:")[1]
    assert "broken.transcript.txt: binary file" in problems and "(episode broken-one skipped)" in problems
    saved = json.loads(out_json.read_text(encoding="utf-8"))
    assert len(saved["problems"]) == 2 and any(r["measure"] == "cold build" for r in saved["rows"])
