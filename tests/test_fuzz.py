"""Property tests: on any text, every parser and detection return a Transcript or raise ParseError.

Any other exception (IndexError, KeyError, a library's own error...) is a parser bug.
"""
from __future__ import annotations

import math
import re

from conftest import RAW, SAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.ingest import FORMATS, ParseError, Transcript, parse_text

FORMAT_NAMES = sorted(FORMATS)
SAMPLE_TEXTS = sorted((p.name, p.read_text(encoding="utf-8")[:6000])
                      for p in [*(SAMPLES / "formats").iterdir(), *RAW.glob("*.txt")])
FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text with the characters the formats care about, so random input reaches the parsers' insides.
STRUCTURAL = st.sampled_from(["\n", "\n\n", " ", ":", "-->", "[", "]", "(", ")", "{", "}", '"', ",", "**",
                              "<v A>", "<c>", "</c>", "<00:00:01.500>", "- ", ">>", "WEBVTT", "00:01",
                              "1:02:03", "00:00:01,000", "Speaker A", "SPEAKER_00", "Dana Whitfield", "#",
                              '"segments": [', '"start": 1', '"speaker": ', '"body": "x"', "---", "\t", "&amp;",
                              # the service JSONs, json3 and TTML
                              '{"utterances": [', '{"results": {"channels": [{"alternatives": [', '"items": [',
                              '{"monologues": [{"elements": [', '{"events": [{"tStartMs": 0, "segs": [{"utf8": "x"}]}',
                              '"type": "punctuation"', '"ts": 1', "}", "]", '<tt xmlns="http://www.w3.org/ns/ttml">',
                              '<p begin="1.5s" end="00:00:02.000" ttm:agent="A">', "<span>", "</span>", "</p>", "[Lex]",
                              "0.000 --> 3.480", "1:35.000 --> 1:40.200", "Transcribed by otter.ai", "*Edited by X*"])
CHUNKS = st.one_of(STRUCTURAL, st.text(max_size=12))
RANDOM_TEXT = st.lists(CHUNKS, max_size=40).map("".join)
HUGE_NUMBER = st.sampled_from(["99999999999999999999", "9" * 5000, "1e999"])
GARBAGE_LINE = st.one_of(st.text(max_size=40), STRUCTURAL)


def _check(text: str, format: str | None) -> None:
    """The only allowed outcomes: ParseError, or a Transcript of non-empty, well-typed segments."""
    try:
        t = parse_text(text, format=format)
    except ParseError:
        return
    assert isinstance(t, Transcript)
    for seg in t.segments:
        assert isinstance(seg.text, str) and seg.text.strip()
        for x in (seg.start, seg.end):
            assert x is None or (isinstance(x, float) and math.isfinite(x))


@st.composite
def mutated_samples(draw):
    """A real sample cut short, with lines inserted, dropped or duplicated, or a number made huge."""
    _, text = draw(st.sampled_from(SAMPLE_TEXTS))
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(lines)))
        action = draw(st.sampled_from(["insert", "drop", "duplicate", "huge number"]))
        if action == "insert":
            lines.insert(i, draw(GARBAGE_LINE))
        elif action == "huge number":
            numbered = [k for k, line in enumerate(lines) if re.search(r"\d", line)]
            if numbered:
                k = numbered[i % len(numbered)]
                lines[k] = re.sub(r"\d+", draw(HUGE_NUMBER), lines[k], count=1)
        elif lines and i < len(lines):
            lines[i:i + 1] = [] if action == "drop" else [lines[i], lines[i]]
    text = "\n".join(lines)
    return text[:draw(st.integers(0, len(text)))] if draw(st.booleans()) else text


@FUZZ
@given(RANDOM_TEXT)
def test_random_text_with_every_parser(text):
    for name in FORMAT_NAMES:
        _check(text, name)
    _check(text, None)


@FUZZ
@given(mutated_samples())
def test_mutated_samples_with_every_parser(text):
    for name in FORMAT_NAMES:
        _check(text, name)
    _check(text, None)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_unicode_detection(text):
    _check(text, None)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["text", "start", "end", "speaker", "words", "transcript", "sentences", "paragraphs",
                         "alternatives", "content", "type", "start_time", "end_time", "speaker_label", "items",
                         "elements", "value", "ts", "end_ts", "segs", "utf8", "tStartMs", "dDurationMs",
                         "speaker_name", "punctuated_word", "word"]), inner, max_size=5),
    max_leaves=20)
SHAPES = [
    lambda x: {"utterances": x, "speaker": "A", "confidence": 1}, lambda x: {"words": x, "audio_duration": 1},
    lambda x: {"results": {"utterances": x}}, lambda x: {"results": {"channels": [{"alternatives": [x]}]}},
    lambda x: {"results": {"transcripts": [], "items": x, "speaker_labels": {"segments": x}}, "jobName": "j"},
    lambda x: {"monologues": x, "elements": []}, lambda x: {"events": x, "segs": [], "tStartMs": 0},
    lambda x: [x], lambda x: {"segments": x},
]


@FUZZ
@given(st.sampled_from(SHAPES), JSON_VALUES)
def test_service_json_of_any_shape(shape, value):
    """Valid JSON with the right keys and the wrong types inside: a ParseError or segments, never a crash."""
    import json

    text = json.dumps(shape(value))
    for name in FORMAT_NAMES:
        if name.endswith(("_json", "json3")):
            _check(text, name)
    _check(text, None)
