"""Every supported format: detection, speakers, utterances, words and times of a realistic sample."""
from __future__ import annotations

import json

import pytest
from conftest import RAW, SAMPLES

from analysis.ingest import FORMATS, Format, ParseError, detect_format, parse_file
from analysis.inspect import inspect_file
from analysis.speakers.identity import is_generic

FORMAT_DIR = SAMPLES / "formats"

# file -> (format, {speaker: utterances}, utterances, words, (first time, last time) or None)
EXPECTED = {
    "voices.vtt": ("webvtt", {"Dana Whitfield": 6, "Marcus Obi": 4, "Priya Raman": 4}, 14, 210, (0.5, 69.1)),
    "prefixed.vtt": ("webvtt", {"Dana": 2, "Marcus": 3, "Priya": 2}, 9, 88, (1.0, 37.1)),
    "youtube_auto.vtt": ("webvtt", {}, 18, 139, (0.03, 50.0)),
    "plain.srt": ("srt", {}, 12, 119, (0.8, 46.0)),
    "prefixed.srt": ("srt", {"DANA": 3, "PRIYA": 3, "MARCUS": 2}, 10, 97, (62.0, 104.3)),
    "youtube_auto.srt": ("srt", {}, 18, 139, (0.03, 50.01)),
    "whisper.json": ("whisper_json", {}, 12, 119, (0.0, 63.04)),
    "whisperx.json": ("whisperx_json", {"SPEAKER_00": 6, "SPEAKER_01": 5, "SPEAKER_02": 1}, 12, 126, (1.2, 66.2)),
    "podcasting20.json": ("podcasting20_json", {"Alex Rivera": 3, "Sam Okafor": 2, "Dr. Lena Hart": 3}, 8, 61, (0.0, 27.9)),
    "otter.txt": ("otter", {"Dana Whitfield": 8, "Marcus Obi": 8, "Unknown Speaker": 1}, 17, 281, (2.0, 3835.0)),
    "rev.txt": ("rev", {"Dana Whitfield": 5, "Priya Raman": 9, "Speaker 3": 1}, 15, 189, (3.0, 205.0)),
    "bracketed.txt": ("bracketed", {"Host": 6, "Jordan Park": 4, "Aisha Bello": 5, "Caller": 2}, 17, 198, (0.0, 267.0)),
    "markdown_bold.md": ("markdown_bold", {"Dana Whitfield": 7, "Tomas Lindqvist": 6}, 13, 174, (4.0, 88.0)),
    "generic_labels.txt": ("speaker_paragraphs", {"Speaker A": 6, "Speaker B": 6, "Speaker C": 1}, 13, 145, None),
    # cue times without hours (0.000, 1:35.000, 14:05.980) next to one with hours
    "short_times.vtt": ("webvtt", {"Hana Sato": 4, "Luis Ortega": 3, "Grace Kim": 1}, 8, 112, (0.0, 3727.5)),
    "speaker_tags.srt": ("srt", {"Lex": 4, "Andrej": 3}, 8, 80, (0.0, 31.35)),
    "youtube_turns.vtt": ("webvtt", {}, 5, 43, (0.06, 17.83)),
    "otter_unknown.txt": ("otter", {"Rosa Delgado": 5, "Speaker 2": 2, "Speaker 3": 2, "Unknown Speaker": 2}, 11, 136,
                          (0.0, 63.0)),
    "markdown_footer.md": ("markdown_bold", {"Ines Moreau": 4, "Kwame Asante": 2, "Li Wei": 2}, 8, 89, None),
    "whisperx_array.json": ("whisperx_json", {"SPEAKER_00": 3, "SPEAKER_01": 3, "SPEAKER_02": 2}, 8, 91, (0.031, 41.9)),
    "assemblyai.json": ("assemblyai_json", {"Speaker A": 4, "Speaker B": 3, "Speaker C": 2}, 9, 127, (0.24, 52.76)),
    "deepgram.json": ("deepgram_json", {"Speaker 0": 3, "Speaker 1": 2, "Speaker 2": 2}, 7, 100, (0.32, 44.0)),
    "deepgram_paragraphs.json": ("deepgram_json", {"Speaker 0": 3, "Speaker 1": 2, "Speaker 2": 1}, 6, 92, (0.08, 37.6)),
    "aws_transcribe.json": ("aws_transcribe_json", {"spk_0": 3, "spk_1": 2, "spk_2": 2}, 7, 103, (0.44, 36.04)),
    "revai.json": ("revai_json", {"Speaker 0": 2, "Speaker 1": 3, "Caller": 1}, 6, 44, (0.27, 18.02)),
    "youtube.json3": ("youtube_json3", {}, 5, 58, (0.08, 36.7)),
    "apple_podcasts.ttml": ("ttml", {"Marisol Vega": 3, "SPEAKER_2": 2, "SPEAKER_3": 1}, 6, 83, (0.56, 43.1)),
    # metadata files, read as summaries: no speech
    "podcasting20_chapters.json": ("podcasting20_chapters", {}, 0, 0, None),
    "ytdlp.info.json": ("ytdlp_info_json", {}, 0, 0, None),
}

SEED_FORMATS = {
    "20vc-2024-11-04-sam-altman.transcript.txt": "speaker_paragraphs",
    "a16z-2025-11-28-sherwin-wu.summary.txt": "summary_page",
    "a16z-2025-11-28-sherwin-wu.transcript.txt": "timestamped_lines",
    "latent-space-2024-09-13-michelle-pokrass.transcript.txt": "dash_turns",
    "lenny-2026-02-12-sherwin-wu.transcript.txt": "plain_text",
}

# The caption lines of the two YouTube auto-caption samples, in order, each said once.
YOUTUBE_LINES = [
    "welcome back to the field notes podcast",
    "i'm here with priya and today we're",
    "talking about urban beekeeping which is",
    "something i knew nothing about until last",
    "spring when a swarm landed on my balcony",
    "yeah that happens more than people think",
    "a swarm is actually the calmest the bees",
    "will ever be because they have no home",
    "to defend so the first thing i tell",
    "people is don't spray them just call a",
    "local beekeeper and we'll come and collect",
    "them for free okay so what did you do",
    "with my swarm we put it in a nucleus box",
    "and it's now one of the strongest colonies",
    "on the rooftop at the community garden",
    "that's amazing so how many hives are up there",
    "right now we have eleven hives and about",
    "four hundred thousand bees at peak summer",
]


def test_every_sample_has_an_expectation():
    assert sorted(p.name for p in FORMAT_DIR.iterdir()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_summary(name):
    fmt, speakers, utterances, words, span = EXPECTED[name]
    s = inspect_file(FORMAT_DIR / name)
    assert s["ok"], s.get("error")
    assert s["format"] == fmt
    assert {sp["label"]: sp["utterances"] for sp in s["speakers"]} == speakers
    assert s["utterances"] == utterances
    assert s["words"] == words
    assert s["unlabelled_utterances"] == utterances - sum(speakers.values())
    if span is None:
        assert s["time_span_s"] is None
    else:
        assert s["time_span_s"] == pytest.approx(list(span), abs=1e-6)
    assert s["warnings"] == []


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_is_claimed_by_its_format_alone(name):
    """Its own format scores strictly highest, so detection does not rest on a tie-break."""
    text = (FORMAT_DIR / name).read_text(encoding="utf-8")
    scores = sorted(((f.sniff(text), n) for n, f in FORMATS.items()), reverse=True)
    assert scores[0][1] == EXPECTED[name][0]
    assert scores[0][0] > scores[1][0]


@pytest.mark.parametrize("name", sorted(SEED_FORMATS))
def test_seed_files_keep_their_format(name):
    text = (RAW / name).read_text(encoding="utf-8")
    assert detect_format(text) == SEED_FORMATS[name]


def test_equal_scores_go_to_the_first_registered(monkeypatch):
    def tie(text):
        return 0.5

    def noop(text, t):
        return None

    monkeypatch.setattr("analysis.ingest.FORMATS", {"zeta": Format("zeta", "", tie, noop),
                                                    "alpha": Format("alpha", "", tie, noop)})
    assert detect_format("anything") == "zeta"


# ---------------------------------------------------------------- captions

@pytest.mark.parametrize("name", ["youtube_auto.vtt", "youtube_auto.srt"])
def test_rolling_captions_give_each_line_once(name):
    t = parse_file(FORMAT_DIR / name)
    assert [s.text for s in t.segments] == YOUTUBE_LINES
    spoken = " ".join(s.text for s in t.segments)
    for line in YOUTUBE_LINES:
        assert spoken.count(line) == 1
    starts = [s.start for s in t.segments]
    assert starts == sorted(starts)


def test_youtube_vtt_word_timing_tags_are_removed():
    t = parse_file(FORMAT_DIR / "youtube_auto.vtt")
    assert not any("<" in s.text or ">" in s.text for s in t.segments)
    assert t.segments[1].start == pytest.approx(2.52)  # the cue with the new words, not its 10 ms echo
    assert t.segments[1].line == 13


def test_vtt_voices_markup_and_cue_continuation():
    t = parse_file(FORMAT_DIR / "voices.vtt")
    first = t.segments[0]
    # two cues of the same voice make one utterance spanning both
    assert first.speaker == "Dana Whitfield" and (first.start, first.end) == (0.5, 8.9)
    assert first.text.endswith("and by Priya Raman from the city parks department.")
    assert first.line == 10
    # one cue holding two voices gives two utterances
    two = [s for s in t.segments if s.start == 40.2]
    assert [(s.speaker, s.text) for s in two] == [
        ("Dana Whitfield", "Three hundred?"), ("Marcus Obi", "And that's only the ones people told her about.")]
    text = " ".join(s.text for s in t.segments)
    assert "mosquitoes & other pests" in text and "<i>" not in text
    assert any(s.speaker == "Marcus Obi" and s.text.startswith("Opening the hive") for s in t.segments)  # <v.loud ...>


@pytest.mark.parametrize("name,names", [("prefixed.vtt", ("Dana", "Marcus")), ("prefixed.srt", ("DANA", "PRIYA"))])
def test_caption_name_prefixes_and_dash_turns(name, names):
    t = parse_file(FORMAT_DIR / name)
    assert t.segments[0].speaker == names[0] and ":" not in t.segments[0].text
    dashed = [s for s in t.segments if s.speaker is None]
    assert len(dashed) == 2 and dashed[0].start == dashed[1].start
    assert not any(s.text.startswith("-") for s in t.segments)
    # an unprefixed cue continues the current speaker's turn
    assert t.segments[1].speaker == names[1] and len(t.segments[1].text.split(". ")) >= 2


def test_plain_srt_keeps_one_segment_per_cue_without_markup():
    t = parse_file(FORMAT_DIR / "plain.srt")
    assert [s.line for s in t.segments[:3]] == [2, 6, 11]
    assert t.segments[4].text == "Most beekeepers try to prevent this."
    assert t.segments[10].text == "Next week: how to tell a swarm from a supersedure."
    assert all(s.speaker is None for s in t.segments)


# ---------------------------------------------------------------- JSON

def test_whisper_json_segments_and_language():
    t = parse_file(FORMAT_DIR / "whisper.json")
    assert t.metadata["language"] == "en"
    assert t.segments[0].text == "Okay, let's get started with today's episode."
    assert (t.segments[0].start, t.segments[0].end) == (0.0, 3.4)


def test_whisperx_splits_a_segment_where_its_words_change_speaker():
    t = parse_file(FORMAT_DIR / "whisperx.json")
    q, a = [s for s in t.segments if 41 < s.start < 45]
    assert (q.speaker, q.text, q.end) == ("SPEAKER_00", "Do they get stung much?", 43.44)
    assert (a.speaker, a.text, a.start) == ("SPEAKER_01", "Every single week.", 43.78)
    # consecutive segments of one speaker are one utterance
    assert t.segments[0].text.endswith("My guest today keeps forty hives across Chicago.")
    assert all(is_generic(s.speaker) for s in t.segments)


def test_podcasting20_words_are_merged_into_utterances():
    t = parse_file(FORMAT_DIR / "podcasting20.json")
    assert t.metadata["version"] == "1.0.0"
    first = t.segments[0]
    assert (first.speaker, first.text) == ("Alex Rivera", "Hi everyone, and welcome to Pollinator Weekly. I'm Alex.")
    assert first.start == 0.0 and first.end == pytest.approx(4.02)
    assert t.segments[-1].text == "Exactly."


# ---------------------------------------------------------------- labelled text exports

def test_otter_hours_footer_and_multi_line_paragraphs():
    t = parse_file(FORMAT_DIR / "otter.txt")
    assert [s.start for s in t.segments[-3:]] == [3612.0, 3616.0, 3835.0]  # h:mm:ss past the hour
    assert t.metadata["transcribed_by"] == "otter.ai"
    assert not any("otter.ai" in s.text for s in t.segments)
    honey = next(s for s in t.segments if s.start == 1272.0)
    assert honey.text.endswith("Goldenrod, mostly, and a bit of knotweed.") and honey.line == 28


def test_rev_continuation_keeps_the_previous_speaker():
    t = parse_file(FORMAT_DIR / "rev.txt")
    cont = next(s for s in t.segments if s.start == 26.0)
    assert cont.speaker == "Priya Raman" and cont.text.startswith("We mail them")
    assert [s.speaker for s in t.segments if 37 <= s.start <= 59] == ["Priya Raman"] * 3


def test_markdown_bold_header_and_untimed_turns():
    t = parse_file(FORMAT_DIR / "markdown_bold.md")
    assert t.metadata["title"].startswith("Field Notes 42") and t.metadata["date"] == "2025-06-14"
    untimed = [s for s in t.segments if s.start is None]
    assert [(s.speaker, s.text) for s in untimed] == [
        ("Dana Whitfield", "And how many candles is that?"), ("Tomas Lindqvist", "About twelve of the small ones.")]
    wax = next(s for s in t.segments if s.start == 20.0)
    assert wax.text.endswith("around the city.")  # second paragraph kept with its turn


def test_markdown_entities_are_the_characters_they_stand_for():
    from analysis.ingest import parse_text

    t = parse_text("**Jon Calhoun:** It&#39;s a &quot;GUI&quot; toolkit &amp; more.\n\n**Andy Williams:** Yes.\n",
                   path="gotime.md")
    assert t.format == "markdown_bold" and t.segments[0].text == 'It\'s a "GUI" toolkit & more.'


def test_generic_labels_stay_labels():
    s = inspect_file(FORMAT_DIR / "generic_labels.txt")
    assert all(sp["generic"] for sp in s["speakers"])
    t = parse_file(FORMAT_DIR / "generic_labels.txt")
    assert t.segments[3].text.endswith("almost nothing in late summer.")


# ---------------------------------------------------------------- cases from real files (issue 10)

def test_vtt_cue_times_without_hours_or_minutes_are_all_read():
    """Browser-style times (0.000, 1:35.000, 14:05.980) once dropped every cue before 10:10."""
    t = parse_file(FORMAT_DIR / "short_times.vtt")
    assert [s.start for s in t.segments] == [0.0, 8.1, 11.9, 16.5, 95.0, 100.5, 845.98, 851.7]
    assert t.segments[0].end == 7.92 and t.segments[4].end == pytest.approx(100.2)
    assert t.segments[0].line == 7 and t.segments[4].line == 22
    assert t.segments[0].text.startswith("Welcome to Overnight Oats") and t.segments[-1].end == 3727.5
    assert t.metadata["kind"] == "captions" and t.coverage["unexplained_words"] == 0


@pytest.mark.parametrize("timing", ["1:75.000 --> 1:80.000", "soon --> later", "0.000 -> 3.480", "100:00:00.000 --> 100:00:01.000"])
def test_an_unreadable_vtt_cue_is_skipped_with_its_line_and_the_rest_is_read(tmp_path, timing):
    text = (FORMAT_DIR / "short_times.vtt").read_text(encoding="utf-8").replace("1:35.000 --> 1:40.200", timing)
    path = tmp_path / "episode.vtt"
    path.write_text(text, encoding="utf-8")
    t = parse_file(path)
    assert "You've been here thirty years." not in " ".join(s.text for s in t.segments)
    assert [s.start for s in t.segments] == [0.0, 8.1, 11.9, 16.5, 845.98, 851.7]  # Luis's two cues now one turn
    reason = "text outside any cue" if "-->" not in timing else "unreadable cue timing"
    assert [w for w in t.warnings if w.startswith(f"{path}:22: skipped ({reason}")]
    assert t.coverage["unexplained_words"] == (10 if "-->" in timing else 14)  # + the 4 numbers of a non-timing line


def test_srt_bracket_speaker_tags_become_speakers():
    t = parse_file(FORMAT_DIR / "speaker_tags.srt")
    assert [(s.speaker, s.start) for s in t.segments] == [
        (None, 0.0), ("Lex", 3.1), ("Lex", 6.7), ("Andrej", 10.3), ("Lex", 18.05), ("Andrej", 20.6),
        ("Lex", 22.2), ("Andrej", 27.0)]
    assert t.segments[0].text == "[Music]"  # a sound cue is not a speaker
    assert not any(s.text.startswith("[Lex]") or "[Andrej]" in s.text for s in t.segments)
    assert t.segments[3].text.endswith("matches what you wanted. [laughs]")  # unmarked cue continues the turn
    assert t.segments[5].text == "Right, billions of them."  # a tag alone on its line names the next line's speaker


def test_youtube_auto_caption_turn_marks_start_turns():
    t = parse_file(FORMAT_DIR / "youtube_turns.vtt")
    assert [s.text for s in t.segments] == [
        "so how long have you been fixing bikes",
        "since i was twelve my uncle had a shop behind the train station",
        "and is the shop still there",
        "no it's a bakery now but i still buy my bread there",
        "that's a good ending"]
    assert [s.start for s in t.segments] == [0.06, 2.56, 7.64, 10.28, 15.32]
    assert all(s.speaker is None for s in t.segments)  # a turn, not a name


def test_otter_unknown_speaker_kept_as_written_and_footer_skipped():
    s = inspect_file(FORMAT_DIR / "otter_unknown.txt")
    labels = {sp["label"]: sp["generic"] for sp in s["speakers"]}
    assert labels == {"Rosa Delgado": False, "Speaker 2": True, "Speaker 3": True, "Unknown Speaker": True}
    assert s["metadata"]["transcribed_by"] == "otter.ai"
    assert s["coverage"]["skipped"] == [{"line": 37, "end_line": 37, "kind": "footer",
                                         "reason": "footer of the transcribing tool or editor", "words": 4,
                                         "chars": 23, "text": "Transcribed by otter.ai"}]
    t = parse_file(FORMAT_DIR / "otter_unknown.txt")
    assert t.segments[-1].text == "Of course it is."


def test_markdown_editor_footer_is_not_speech_and_no_false_truncation():
    t = parse_file(FORMAT_DIR / "markdown_footer.md")
    assert not (FORMAT_DIR / "markdown_footer.md").read_bytes().endswith(b"\n")
    assert t.segments[-1].speaker == "Ines Moreau" and t.segments[-1].text == "Kwame, Li Wei, thank you."
    assert not any("Mara Quinn" in s.text or "Open Air Audio" in s.text for s in t.segments)
    assert t.warnings == []
    assert [(s.kind, s.line) for s in t.skipped] == [("markup", 24), ("footer", 26), ("footer", 27)]


def test_markdown_ending_in_complete_speech_without_final_newline(tmp_path):
    path = tmp_path / "episode.md"
    path.write_text("**Ana:** Welcome to the show.\n\n**Ben:** Glad to be here.\n\n**Ana:** That's all for today!",
                    encoding="utf-8")
    t = parse_file(path)
    assert t.warnings == [] and t.segments[-1].text == "That's all for today!"


def test_markdown_footer_after_a_rule_ends_the_last_turn_but_speech_after_a_rule_does_not(tmp_path):
    path = tmp_path / "episode.md"
    path.write_text("**Ana:** Welcome.\n\n**Ben:** Thanks.\n\n---\n\n**Ana:** Part two starts now.\n", encoding="utf-8")
    t = parse_file(path)
    assert t.segments[-1].text == "Part two starts now." and t.coverage["unexplained_words"] == 0


@pytest.mark.parametrize("fmt", [None, "whisperx_json"])
def test_whisperx_bare_array_is_detected_and_parsed(fmt):
    t = parse_file(FORMAT_DIR / "whisperx_array.json", format=fmt)
    assert t.format == "whisperx_json"
    assert [s.speaker for s in t.segments] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00", "SPEAKER_01",
                                               "SPEAKER_02", "SPEAKER_01", "SPEAKER_00", "SPEAKER_02"]
    assert t.segments[0].text.endswith("whether they really hurt shops.") and t.segments[0].end == 8.87
    assert (t.segments[2].start, t.segments[2].text) == (15.42, "Twelve streets in one city?")


def test_whisper_bare_array_without_speakers(tmp_path):
    path = tmp_path / "segments.json"
    path.write_text('[{"start": 0.0, "end": 2.0, "text": " Hello there."}, {"start": 2.0, "end": 3.5, "text": " Bye."}]',
                    encoding="utf-8")
    t = parse_file(path)
    assert t.format == "whisper_json" and [s.text for s in t.segments] == ["Hello there.", "Bye."]


# ---------------------------------------------------------------- transcription services

def test_assemblyai_utterances_in_milliseconds():
    t = parse_file(FORMAT_DIR / "assemblyai.json")
    first, second = t.segments[:2]
    assert (first.speaker, first.start, first.end) == ("Speaker A", 0.24, 9.88)  # two utterances of A merged
    assert first.text.endswith("who started the first one in our neighbourhood.")
    assert (second.speaker, second.start) == ("Speaker B", 10.21)
    assert t.metadata["language_code"] == "en_us"
    assert all(is_generic(s.speaker) for s in t.segments)


def test_assemblyai_without_diarisation_uses_words(tmp_path):
    path = tmp_path / "aai.json"
    path.write_text('{"id": "x", "text": "Hi there. Bye.", "audio_duration": 3, "words": ['
                    '{"text": "Hi", "start": 100, "end": 300}, {"text": "there.", "start": 300, "end": 700},'
                    '{"text": "Bye.", "start": 1500, "end": 1900}]}', encoding="utf-8")
    t = parse_file(path)
    assert t.format == "assemblyai_json"
    assert [(s.text, s.start, s.end) for s in t.segments] == [("Hi there.", 0.1, 0.7), ("Bye.", 1.5, 1.9)]


def test_deepgram_utterances_and_paragraphs():
    t = parse_file(FORMAT_DIR / "deepgram.json")
    assert [s.speaker for s in t.segments] == ["Speaker 0", "Speaker 1", "Speaker 0", "Speaker 2", "Speaker 1",
                                               "Speaker 2", "Speaker 0"]
    assert (t.segments[3].start, t.segments[3].end) == (22.5, 29.85)
    assert t.metadata["request_id"].startswith("8e2f5c1a")
    p = parse_file(FORMAT_DIR / "deepgram_paragraphs.json")
    assert [(s.speaker, s.start, s.end) for s in p.segments][:2] == [("Speaker 0", 0.08, 7.2), ("Speaker 1", 7.6, 14.8)]
    assert p.segments[1].text == "And I'm a baker, so my day starts at two in the morning. My name's Pavel Novak."


def test_aws_transcribe_items_with_speaker_segments():
    t = parse_file(FORMAT_DIR / "aws_transcribe.json")
    assert [s.speaker for s in t.segments] == ["spk_0", "spk_1", "spk_0", "spk_1", "spk_2", "spk_0", "spk_2"]
    assert t.segments[1].text == "Morning, Iris. Mind the roots here, they're slick after the rain."  # punctuation attached
    assert t.segments[0].start == 0.44 and t.segments[1].start == 11.3
    assert t.metadata["job_name"] == "field-guide-ep7"
    assert all(is_generic(s.speaker) for s in t.segments)  # AWS's spk_N labels are diarised voices, not names


def test_revai_monologues_elements_and_names():
    t = parse_file(FORMAT_DIR / "revai.json")
    assert t.segments[0].text == "Welcome back to Small Print, the show about contracts. Today I'm with a tenant lawyer."
    assert (t.segments[0].speaker, t.segments[0].start) == ("Speaker 0", 0.27)
    assert t.segments[3].text == "The repair clause, [inaudible] usually."
    assert (t.segments[4].speaker, t.segments[4].start) == ("Caller", 13.9)


def test_youtube_json3_events_and_turn_marks():
    t = parse_file(FORMAT_DIR / "youtube.json3")
    assert [s.text for s in t.segments][:2] == ["welcome back to the workshop hour today we're fixing a wobbly chair",
                                                "and i brought the chair it's my grandmother's so please be gentle"]
    assert [s.start for s in t.segments] == [0.08, 7.3, 14.9, 25.9, 30.2]
    assert t.segments[2].text.endswith("[Music]")


def test_ttml_agents_spans_and_times():
    t = parse_file(FORMAT_DIR / "apple_podcasts.ttml")
    assert t.metadata["title"] == "Tidewater, episode 19: Oyster gardens"
    assert [(s.speaker, s.start, s.end) for s in t.segments][:3] == [
        ("Marisol Vega", 0.56, 6.12), ("SPEAKER_2", 6.5, 13.04), ("Marisol Vega", 13.5, 16.2)]
    assert t.segments[0].text == "Welcome to Tidewater. I'm Marisol Vega, and we're on a dock in Norfolk with two gardeners."
    assert t.segments[3].end == 31.8  # two paragraphs of one speaker


@pytest.mark.parametrize("value,seconds", [("00:01:02.500", 62.5), ("62.5s", 62.5), ("500ms", 0.5), ("1.5m", 90.0),
                                           ("12.160", 12.16)])
def test_ttml_time_expressions(value, seconds):
    from analysis.ingest.ttml import _time

    assert _time(value) == pytest.approx(seconds)


@pytest.mark.parametrize("doc,message", [
    ('<?xml version="1.0"?>\n<!DOCTYPE tt [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>\n'
     '<tt xmlns="http://www.w3.org/ns/ttml"><body><div><p begin="0s">&b;</p></div></body></tt>', "refused for safety"),
    ('<tt xmlns="http://www.w3.org/ns/ttml">\n<body><div><p begin="0s">Hi</div></body></tt>', "invalid XML"),
])
def test_ttml_hostile_or_broken_xml_is_a_parse_error(tmp_path, doc, message):
    path = tmp_path / "episode.ttml"
    path.write_text(doc, encoding="utf-8")
    with pytest.raises(ParseError, match=message) as info:
        parse_file(path)
    assert str(path) in str(info.value)


# ---------------------------------------------------------------- every registered format

SAMPLE_OF = {fmt: name for name, (fmt, *_) in EXPECTED.items()} | {fmt: name for name, fmt in SEED_FORMATS.items()}


def test_every_registered_format_has_a_sample_and_a_detection_cue():
    assert sorted(SAMPLE_OF) == sorted(FORMATS)
    assert all(f.cue for f in FORMATS.values())


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_format_option_works_for_every_format(fmt):
    name = SAMPLE_OF[fmt]
    path = FORMAT_DIR / name if name in EXPECTED else RAW / name
    forced, detected = inspect_file(path, format=fmt), inspect_file(path)
    assert forced["ok"] and forced["format"] == fmt
    assert forced == detected


def test_deepgram_second_channel_without_utterances_is_reported_not_dropped(tmp_path):
    doc = json.loads((FORMAT_DIR / "deepgram_paragraphs.json").read_text(encoding="utf-8"))
    doc["results"]["channels"].append({"alternatives": [{"transcript": "Caller on the phone line says hello."}]})
    path = tmp_path / "two_channels.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    t = parse_file(path)
    assert len(t.segments) == 6
    assert t.coverage["unexplained_words"] == 7 and t.coverage["skipped"][0]["reason"].startswith("channel 1 not read")
    assert any("channel 1 not read" in w for w in t.warnings)
