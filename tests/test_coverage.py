"""Coverage: every file says how much of its text reached utterances and what was skipped, where
and why; text lost without a reason is a warning naming its lines, on every format."""
from __future__ import annotations

import dataclasses
import json

import pytest
from conftest import RAW, SAMPLES

from analysis import config
from analysis import corpus as corpus_module
from analysis.corpus import build_corpus, report
from analysis.ingest import FORMATS, parse_file, parse_text
from analysis.inspect import inspect_file

FORMAT_DIR = SAMPLES / "formats"

# file -> skipped words by kind; nothing else may be missing from the utterances
SKIPPED = {
    "apple_podcasts.ttml": {}, "assemblyai.json": {}, "aws_transcribe.json": {}, "bracketed.txt": {},
    "deepgram.json": {}, "deepgram_paragraphs.json": {}, "generic_labels.txt": {},
    "markdown_bold.md": {"header": 20},  # title, date and guest fields above the '---'
    "markdown_footer.md": {"header": 14, "footer": 17},  # the editor's note after the last '---'
    "otter.txt": {"footer": 5}, "otter_unknown.txt": {"footer": 4},  # "Transcribed by ... otter.ai"
    "plain.srt": {}, "podcasting20.json": {}, "prefixed.srt": {}, "prefixed.vtt": {}, "rev.txt": {},
    "revai.json": {}, "short_times.vtt": {"header": 4}, "speaker_tags.srt": {},
    "voices.vtt": {"header": 8},  # "WEBVTT - <title>"
    "whisper.json": {}, "whisperx.json": {}, "whisperx_array.json": {}, "youtube.json3": {},
    "youtube_auto.srt": {}, "youtube_auto.vtt": {"header": 4}, "youtube_turns.vtt": {"header": 4},  # Kind:, Language:
    "podcasting20_chapters.json": {"header": 11}, "ytdlp.info.json": {"header": 11},  # metadata, not speech
    "20vc-2024-11-04-sam-altman.transcript.txt": {},
    "a16z-2025-11-28-sherwin-wu.transcript.txt": {"header": 34},
    "latent-space-2024-09-13-michelle-pokrass.transcript.txt": {"header": 125},  # title and chapter list
    "lenny-2026-02-12-sherwin-wu.transcript.txt": {},
    "a16z-2025-11-28-sherwin-wu.summary.txt": {"header": 476},  # a summary page is all metadata
}
FILES = {**{p.name: p for p in FORMAT_DIR.iterdir()}, **{p.name: p for p in RAW.glob("*.txt")}}


def test_every_file_has_an_expectation():
    assert sorted(FILES) == sorted(SKIPPED)


@pytest.mark.parametrize("name", sorted(SKIPPED))
def test_every_file_is_read_completely_or_says_what_was_skipped(name):
    t = parse_file(FILES[name])
    cov = t.coverage
    assert cov["skipped_words"] == SKIPPED[name]
    assert cov["unexplained_words"] == 0
    assert cov["basis"] == ("lines" if FORMATS[t.format].line_based else "units")
    said = sum(len(s.text) for s in t.segments)
    assert cov["utterance_chars"] == said
    assert cov["share"] == (round(said / (said + cov["skipped_chars"]), 4) if said else 0.0)
    if not SKIPPED[name]:
        assert cov["share"] == 1.0 and cov["skipped"] == []
    for s in cov["skipped"]:  # units of JSON files have no line
        assert s["kind"] in ("header", "footer") and s["words"] > 0 and (s["line"] is None or s["line"] <= s["end_line"])


def _dropping(fmt, index: int):
    """``fmt`` with a parser that silently loses its ``index``-th segment, as a buggy one would."""
    def parse(text, t):
        fmt.parse(text, t)
        del t.segments[index]
    return dataclasses.replace(fmt, parse=parse)


LINE_BASED = sorted(n for n, p in FILES.items() if n in SKIPPED and p.parent == FORMAT_DIR
                    and FORMATS[parse_file(p).format].line_based)


@pytest.mark.parametrize("name", LINE_BASED)
def test_a_silently_dropped_segment_is_a_warning_naming_its_line(name, monkeypatch):
    """The guard does not trust the parser: lose one segment and coverage finds its line.
    (The longest segment: a two-word line such as "Three hundred?" right after "...over three
    hundred this year" is indistinguishable from an echo of its neighbour.)"""
    good = parse_file(FILES[name])
    k = max(range(len(good.segments)), key=lambda i: (len(good.segments[i].text.split()), -i))
    lost = good.segments[k]
    monkeypatch.setitem(FORMATS, good.format, _dropping(FORMATS[good.format], k))
    t = parse_file(FILES[name])
    cov = t.coverage
    assert cov["unexplained_words"] > 0 and cov["share"] < good.coverage["share"]
    run = next(s for s in cov["skipped"] if s["kind"] == "unread")
    assert run["line"] <= lost.line + 2 <= run["end_line"] + 2  # a cue's text sits just under its timing line
    assert any(w.startswith(f"{FILES[name]}:{run['line']}:") and "in no utterance" in w for w in t.warnings)


def test_unit_formats_report_a_unit_they_cannot_place():
    doc = json.loads((FORMAT_DIR / "youtube.json3").read_text(encoding="utf-8"))
    del doc["events"][3]["tStartMs"]
    t = parse_text(json.dumps(doc), path="episode.json3")
    assert [s["reason"] for s in t.coverage["skipped"]] == ["event 3 has no readable tStartMs"]
    assert t.coverage["unexplained_words"] == 7  # "today we're fixing a wobbly chair" ("we're": 2 words)
    assert any("event 3" in w for w in t.warnings)


def test_inspect_json_and_text_report_coverage():
    s = inspect_file(FORMAT_DIR / "markdown_footer.md")
    assert s["coverage"]["skipped"][-1] == {
        "line": 26, "end_line": 27, "kind": "footer", "reason": "footer of the transcribing tool or editor",
        "words": 17, "chars": 99, "text": "*Transcript edited by Mara Quinn for length and clarity.*"}
    from analysis.__main__ import summary_text

    text = summary_text(s)
    assert "coverage:   " in text and "% of the text (characters) in utterances" in text
    assert "line 26-27: footer (footer of the transcribing tool or editor), 17 words" in text


def test_corpus_report_gives_each_files_coverage(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INTERIM", tmp_path / "interim")
    monkeypatch.setattr(corpus_module, "STAGES", [])
    catalog = tmp_path / "episodes.yaml"
    catalog.write_text(json.dumps({"episodes": [
        {"id": "street-level-2025-09-02-night-market", "title": "The night market", "show": "Street Level",
         "files": [{"path": str(FORMAT_DIR / "markdown_footer.md"), "kind": "transcript"}]},
        {"id": "overnight-oats-diner", "title": "Diner", "show": "Overnight Oats",
         "files": [{"path": str(FORMAT_DIR / "short_times.vtt"), "kind": "transcript"}]},
    ]}), encoding="utf-8")
    build = build_corpus(catalog, out_dir=tmp_path / "out", progress=False)
    assert not build.errors
    saved = json.loads((tmp_path / "out" / "corpus_report.json").read_text(encoding="utf-8"))
    night = saved["coverage"]["street-level-2025-09-02-night-market"]
    assert [c["format"] for c in night] == ["markdown_bold"] and night[0]["skipped_words"] == {"header": 14, "footer": 17}
    assert saved["coverage"]["overnight-oats-diner"][0]["unexplained_words"] == 0
    text = report(build)
    assert "coverage (share of each file's text in utterances" in text
    assert "footer 17 words (lines 26-27)" in text


@pytest.mark.parametrize("drop", [False, True])
def test_the_neighbourhood_shortcut_changes_no_result(drop, monkeypatch):
    """Coverage rules a line's pieces out by one scan of its two groups' text before searching
    near the cursors; with the shortcut off (every piece searched in full) every file's coverage
    and warnings are the same, also when a parser loses a segment and lines go unread."""
    from analysis.ingest import coverage

    def measured(name):
        if drop:
            good = parse_file(FILES[name])
            if len(good.segments) > 1:
                monkeypatch.setitem(FORMATS, good.format, _dropping(FORMATS[good.format], len(good.segments) // 2))
        t = parse_file(FILES[name])
        monkeypatch.undo()
        return t.coverage, t.warnings

    names = [n for n in LINE_BASED + sorted(p.name for p in RAW.glob("*.txt")) if n in SKIPPED]
    fast = {n: measured(n) for n in names}
    monkeypatch.setattr(coverage, "_NEAR_MAX", 0)
    slow = {}
    for n in names:
        slow[n] = measured(n)
        monkeypatch.setattr(coverage, "_NEAR_MAX", 0)
    assert fast == slow
    assert not drop or sum(c["unexplained_words"] for c, _ in fast.values()) > 0
