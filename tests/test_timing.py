"""Timing: file times, speaking rates, rate estimates pinned to anchors, chapter location."""
import numpy as np
import pandas as pd
import pytest

from analysis.speakers import timing


def _utts(words, start=None, role="guest", texts=None, conv=True):
    n = len(words)
    return pd.DataFrame({"episode_id": "e", "order": range(n), "word_count": words,
                         "start_s": start if start is not None else [np.nan] * n,
                         "speaker_role": role if isinstance(role, list) else [role] * n,
                         "text": texts or ["x"] * n, "is_conversation": conv if isinstance(conv, list) else [conv] * n,
                         "time_source": "none"})


def test_file_times_run_to_next_start_and_repair_regressions():
    out = timing.file_times(_utts([5, 5, 5, 5], start=[0.0, 10.0, 4.0, 30.0]), runtime_s=50.0)
    assert out["start_s"].tolist() == [0.0, 10.0, 20.0, 30.0]  # 4.0 runs backwards: interpolated
    assert out["end_s"].tolist() == [10.0, 20.0, 30.0, 50.0]  # last one ends at the runtime
    assert out["time_source"].tolist() == ["file", "file", "anchor_interpolated", "file"]
    assert out["time_uncertainty_s"].tolist() == [0.0, 0.0, 10.0, 0.0]


def test_speaking_rates_by_role():
    u = _utts([10, 30, 20, 99], start=[0.0, 5.0, 15.0, 100.0], role=["host", "guest", "host", "guest"])
    u["time_source"] = "file"
    rates = timing.speaking_rates(u)
    # host: 10 w / 5 s; guest: 30 w / 10 s; the third runs 85 s (> MAX_GAP_S), the last has no next start
    assert rates["host"] == pytest.approx(2.0) and rates["guest"] == pytest.approx(3.0)
    assert rates["all"] == pytest.approx(40 / 15)


def test_estimate_scales_rate_durations_between_anchors():
    u = _utts([10, 30, 0])  # the last is a word-less cue: NONSPEECH_S
    free = timing.estimate_times(u, {"all": 2.0})
    assert free["start_s"].tolist() == [0.0, 5.0, 20.0]
    assert free["end_s"].iloc[-1] == 20.0 + timing.NONSPEECH_S
    assert free["time_source"].tolist() == ["anchor_interpolated", "rate_estimated", "rate_estimated"]  # 0: the start anchor
    assert free["time_uncertainty_s"].tolist() == [0.0, pytest.approx(5 * timing.UNCERTAINTY_FRACTION),
                                                   pytest.approx(20 * timing.UNCERTAINTY_FRACTION)]
    pinned = timing.estimate_times(u, {"all": 2.0}, runtime_s=50.0)  # 25 s of estimates stretched to 50
    assert pinned["start_s"].tolist() == [0.0, 10.0, 40.0] and pinned["end_s"].iloc[-1] == 50.0
    assert (pinned["time_source"] == "anchor_interpolated").all()
    # uncertainty grows with the distance to the nearer anchor: 10 s from the start, 10 s from the end
    assert pinned["time_uncertainty_s"].tolist() == [0.0, pytest.approx(10 * timing.UNCERTAINTY_FRACTION),
                                                     pytest.approx(10 * timing.UNCERTAINTY_FRACTION)]


def test_chapter_start_located_by_title_words_and_used_as_anchor():
    texts = ["Welcome to the show.", "Let us talk about pricing.", "Pricing is hard.",
             "Now, structured outputs and JSON mode.", "JSON mode came first.", "Thanks."]
    u = _utts([10] * 6, texts=texts)
    chapters = pd.DataFrame({"start_s": [0.0, 100.0], "title": ["Intro", "Structured Outputs and JSON mode"]})
    anchors = timing.locate_chapters(u, chapters, np.arange(6) * 5.0)
    assert anchors == [(0, 0.0), (3, 100.0)]
    out = timing.estimate_times(u, {"all": 2.0}, chapters)
    assert out["start_s"].tolist() == pytest.approx([0.0, 100 / 3, 200 / 3, 100.0, 105.0, 110.0])
    assert out["time_source"].tolist() == ["anchor_interpolated"] * 4 + ["rate_estimated"] * 2
    far = pd.DataFrame({"start_s": [2000.0], "title": ["Structured Outputs and JSON mode"]})
    assert timing.locate_chapters(u, far, np.arange(6) * 5.0) == []  # outside the search window


def test_hidden_timestamps_are_recovered_within_stated_error(corpus_tables):
    from analysis.catalog import load_catalog
    from analysis.speakers.evaluation import evaluate_timing

    episodes, _ = load_catalog()
    (res,) = evaluate_timing(corpus_tables["utterances"], episodes)
    m = res["runtime_anchor"]
    assert res["episode_id"] == "a16z-2025-11-28-sherwin-wu"
    assert m["median_abs_error_s"] < 15 and m["p90_abs_error_s"] < 40 and m["talk_share_error"] < 0.05
    assert m["within_stated_uncertainty"] > 0.8


def test_stage_gives_every_utterance_a_time(corpus_tables):
    u = corpus_tables["utterances"]
    assert u["start_s"].notna().all() and (u["end_s"] >= u["start_s"]).all()
    src = u.groupby("episode_id")["time_source"].agg(lambda s: set(s))
    assert src["a16z-2025-11-28-sherwin-wu"] == {"file"}
    assert src["lenny-2026-02-12-sherwin-wu"] == {"anchor_interpolated"}
    assert "anchor_interpolated" in src["latent-space-2024-09-13-michelle-pokrass"]
    lenny = u[u["episode_id"] == "lenny-2026-02-12-sherwin-wu"]
    assert lenny["end_s"].max() == pytest.approx(4780)
    assert lenny.sort_values("order")["start_s"].is_monotonic_increasing


def test_chapter_anchors_found_and_left_out_ones_recovered(corpus_tables):
    from analysis.catalog import load_catalog
    from analysis.speakers.evaluation import evaluate_anchors

    episodes, _ = load_catalog()
    (res,) = evaluate_anchors(corpus_tables["utterances"], episodes)
    assert res["episode_id"] == "latent-space-2024-09-13-michelle-pokrass"
    assert res["anchors_located"] >= 18 and res["median_abs_error_s"] < 60
