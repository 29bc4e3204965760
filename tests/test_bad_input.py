"""Files users really bring: empty, binary, odd encodings, cut off, huge, or not a transcript."""
from __future__ import annotations

import time

import pytest
from conftest import SAMPLES

from analysis.ingest import ParseError, parse_file
from analysis.inspect import inspect_file

BRACKETED = (SAMPLES / "formats" / "bracketed.txt").read_text(encoding="utf-8")


def _write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _error(path) -> str:
    with pytest.raises(ParseError) as info:
        parse_file(path)
    message = str(info.value)
    assert str(path) in message
    return message


@pytest.mark.parametrize("data", [b"", b"  \n\t\r\n   \n"], ids=["empty", "whitespace"])
def test_empty_files(tmp_path, data):
    assert "empty file" in _error(_write(tmp_path, "episode.txt", data))


def test_binary_file(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\x00\x00\x01\x00\x08\x06\x00\x00\x00" + bytes(range(256))
    assert "binary" in _error(_write(tmp_path, "cover.png", png))


def test_utf16_with_bom_parses_and_says_so(tmp_path):
    path = _write(tmp_path, "episode.txt", BRACKETED.encode("utf-16"))
    t = parse_file(path)
    assert t.format == "bracketed" and len(t.segments) == 17
    assert t.segments[0].text == "Good evening and welcome to The Neighbourhood Hour on community radio."
    assert any("UTF-16" in w and str(path) in w for w in t.warnings)


def test_cp1252_bytes_parse_with_a_warning_naming_file_and_line(tmp_path):
    text = "Speaker A: Welcome back.\nSpeaker B: Thanks.\nSpeaker A: We met at the caf\xe9 \u201cLe Rucher\u201d last spring.\n"
    path = _write(tmp_path, "episode.txt", text.encode("cp1252"))
    t = parse_file(path)
    assert t.segments[2].text == "We met at the caf\u00e9 \u201cLe Rucher\u201d last spring."
    assert [w for w in t.warnings if w.startswith(f"{path}:3:") and "Windows-1252" in w]


def test_file_cut_off_mid_line_warns_with_the_line(tmp_path):
    cut = BRACKETED[:BRACKETED.index("Thanks for calling") + 10]
    path = _write(tmp_path, "episode.txt", cut.encode())
    t = parse_file(path)
    assert t.segments[-1].text == "Thanks for"
    assert any(w.startswith(f"{path}:17:") and "truncated" in w for w in t.warnings)


def test_timestamps_out_of_order_still_parse(tmp_path):
    text = "[Host] [00:40] Third, by the clock.\n[Guest] [00:05] First.\n[Host] [00:20] Second.\n"
    t = parse_file(_write(tmp_path, "episode.txt", text.encode()))
    assert [s.start for s in t.segments] == [40.0, 5.0, 20.0]  # file order kept; the corpus flags it


def test_fifty_megabyte_transcript(tmp_path):
    para = ("Speaker A: " + "We keep the hives on the roof because the sun reaches them early. " * 30 + "\n"
            "Speaker B: " + "And the bees start foraging sooner in the morning. " * 30 + "\n")
    path = tmp_path / "long.txt"
    path.write_text(para * (50 * 2**20 // len(para)), encoding="utf-8")
    started = time.perf_counter()
    s = inspect_file(path)
    assert s["ok"] and s["format"] == "speaker_paragraphs"
    assert s["utterances"] == 2 * (50 * 2**20 // len(para))
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize("name,data", [
    ("episodes.csv", b"episode,start,end,speaker,text\n12,0.0,3.5,SPEAKER_00,welcome\n12,3.5,6.0,SPEAKER_01,thanks\n"),
    ("feed.xml", (b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Field Notes</title>'
                  b"<item><title>Episode 41</title></item></channel></rss>\n")),
])
def test_unknown_format_names_the_file_and_the_supported_formats(tmp_path, name, data):
    message = _error(_write(tmp_path, name, data))
    assert "unknown transcript format" in message
    assert "webvtt" in message and "whisperx_json" in message and "speaker_paragraphs" in message


def test_malformed_json_names_line_and_column(tmp_path):
    text = '{\n  "segments": [\n    {"start": 0.0, "end": 1.0, "text": "Hi"},\n    {"start": 1.0 "end": 2.0}\n  ]\n}\n'
    message = _error(_write(tmp_path, "episode.json", text.encode()))
    assert f"{tmp_path / 'episode.json'}:4:" in message and "invalid JSON" in message and "column" in message


def test_truncated_json_is_a_parse_error(tmp_path):
    text = (SAMPLES / "formats" / "whisperx.json").read_text(encoding="utf-8")
    path = _write(tmp_path, "episode.json", text[: len(text) // 2].encode())
    message = _error(path)
    assert "invalid JSON" in message and f"{path}:" in message


def test_json_without_segments_list(tmp_path):
    text = b'{"version": "1.0.0", "segments": {"speaker": "Alex", "startTime": 0, "body": "Hi"}}'
    assert "'segments' list" in _error(_write(tmp_path, "episode.json", text))


def test_bad_vtt_timing_skips_only_that_cue_with_a_warning_naming_its_line(tmp_path):
    text = ("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHello.\n\n00:00:03.000 --> 00:61:04.000\nBye.\n\n"
            "00:00:05.000 --> 00:00:06.000\nStill here.\n")
    path = _write(tmp_path, "episode.vtt", text.encode())
    t = parse_file(path)
    assert [s.text for s in t.segments] == ["Hello.", "Still here."]
    assert [w for w in t.warnings if w.startswith(f"{path}:6:") and "unreadable cue timing" in w and "Bye." in w]
    assert t.coverage["skipped"] == [{"line": 6, "end_line": 7, "kind": "unread", "reason": t.skipped[-1].reason,
                                      "words": 1, "chars": 4, "text": "Bye."}]
    assert t.coverage["unexplained_words"] == 1 and t.coverage["share"] == round(17 / 21, 4)  # characters


def test_srt_with_junk_before_the_first_cue_names_its_line(tmp_path):
    cues = "1\n00:00:01,000 --> 00:00:02,000\nHello.\n\n2\n00:00:03,000 --> 00:00:04,000\nBye.\n"
    path = _write(tmp_path, "junk.srt", ("\nSubtitles by ACME\n\n" + cues).encode())
    with pytest.raises(ParseError) as info:
        parse_file(path, format="srt")
    assert str(info.value).startswith(f"{path}:2: not an SRT cue: 'Subtitles by ACME")


@pytest.mark.parametrize("name,text,expected", [
    ("huge_hours.srt", "1\n99999999999999999999:00:00,000 --> 99999999999999999999:00:01,000\nHi.\n", "bad SRT timestamp"),
    ("digits.srt", "1\n00:00:01,000 --> 00:00:02,000\nHi " + "9" * 5000 + "\n", "run of 40 or more digits"),
    ("huge_int.json", '{"segments": [{"start": ' + "9" * 5000 + ', "text": "Hi"}]}', "invalid JSON"),
    ("no_text.vtt", "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n<c></c>\n", "cues hold no text"),
])
def test_inputs_that_once_escaped_as_other_exceptions(tmp_path, name, text, expected):
    """Found by tests/test_fuzz.py: each used to raise OverflowError, ValueError, hang, or return nothing."""
    fmt = {"srt": "srt", "json": "whisper_json", "vtt": "webvtt"}[name.rsplit(".", 1)[1]]
    path = _write(tmp_path, name, text.encode())
    with pytest.raises(ParseError, match=expected) as info:
        parse_file(path, format=fmt)
    assert str(path) in str(info.value)
