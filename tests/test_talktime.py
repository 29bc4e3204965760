"""Talk-time metrics on small hand-computed cases, the balance timeline and label, people
across episodes, and the figures' method captions."""
import numpy as np
import pandas as pd
import pytest

from analysis.figures import talktime as F
from analysis.speakers import talktime as T


def _utts(rows, episode="e1", source="file_label", time_source="file"):
    """rows: (speaker, role, start, end, text, is_conversation)."""
    df = pd.DataFrame(rows, columns=["speaker", "speaker_role", "start_s", "end_s", "text", "is_conversation"])
    return df.assign(episode_id=episode, order=range(len(df)), speaker_id=df["speaker"].str.lower(),
                     word_count=df["text"].str.split().str.len(), speaker_source=source, time_source=time_source)


ROWS = [  # host 0-10 (1 question), guest 10-40, host 40-42 backchannel, guest 42-60, host sponsor read 60-90 (flagged)
    ("Hal", "host", 0.0, 10.0, "How are you today? Tell me about your work.", True),
    ("Gia", "guest", 10.0, 40.0, " ".join(["word"] * 60), True),
    ("Hal", "host", 40.0, 42.0, "Yeah right.", True),
    ("Gia", "guest", 42.0, 60.0, " ".join(["more"] * 30), True),
    ("Hal", "host", 60.0, 90.0, "This episode is brought to you by a sponsor.", False),
]


def test_speaker_metrics_hand_computed():
    t = T.compute(_utts(ROWS))
    spk = t["talktime_speakers"].set_index("speaker_id")
    assert spk.loc["hal", "talk_s"] == 12 and spk.loc["gia", "talk_s"] == 48
    assert spk.loc["hal", "talk_share"] == pytest.approx(0.2) and spk.loc["gia", "word_share"] == pytest.approx(90 / 101)
    assert spk.loc["hal", "turns"] == 2 and spk.loc["gia", "turns"] == 2
    assert spk.loc["hal", "median_turn_s"] == 6 and spk.loc["gia", "longest_turn_s"] == 30
    assert spk.loc["gia", "longest_turn_words"] == 60
    assert spk.loc["hal", "questions"] == 1 and spk.loc["hal", "questions_per_hour"] == pytest.approx(60)
    assert spk.loc["hal", "time_method"] == "file 100%" and spk.loc["hal", "attribution_method"] == "file_label 100%"
    assert pd.isna(spk.loc["hal", "attribution_accuracy"])
    ep = t["talktime_episodes"].iloc[0]
    # backchannel "Yeah right." (2 words) ignored: host, guest, guest -> 1 switch in 60 s = 5 per 5 minutes
    assert ep["switches_per_5min"] == pytest.approx(5.0) and ep["turns"] == 4
    assert ep["host_talk_share"] == pytest.approx(0.2)
    roles = t["talktime_roles"].set_index("role")
    assert roles.loc["guest", "talk_s"] == 48 and roles.loc["host", "turns"] == 2


def test_include_flagged_counts_sponsor_reads():
    spk = T.compute(_utts(ROWS), include_flagged=True)["talktime_speakers"].set_index("speaker_id")
    assert spk.loc["hal", "talk_s"] == 42 and spk.loc["hal", "talk_share"] == pytest.approx(42 / 90)
    assert spk.loc["hal", "include_flagged"]


def test_turns_merge_consecutive_utterances_of_one_speaker():
    rows = [("Hal", "host", 0.0, 5.0, "Hi.", True), ("Hal", "host", 5.0, 9.0, "So?", True),
            ("Gia", "guest", 9.0, 20.0, "Well I think so.", True)]
    tr = T.turns(T.counted(_utts(rows)))
    assert tr[["speaker_id", "start_s", "end_s", "duration_s", "words", "questions", "utterances"]].values.tolist() == [
        ["hal", 0.0, 9.0, 9.0, 2, 1, 2], ["gia", 9.0, 20.0, 11.0, 4, 0, 1]]


def test_balance_timeline_and_labels():
    rows = [("Hal", "host", 0.0, 150.0, "a b c", True), ("Gia", "guest", 150.0, 300.0, "d e f", True)]
    tl = T.balance_timeline(T.counted(_utts(rows)))
    assert tl["window_start_s"].tolist() == [0, 30, 60, 90, 120, 150]
    assert tl["guest_share"].tolist() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    assert T.balance_label(pd.Series([0.9] * 9 + [0.5])) == "guest-dominated throughout"
    assert T.balance_label(pd.Series([0.5, 0.45, 0.6, 0.9])) == "back-and-forth"
    assert T.balance_label(pd.Series([0.9, 0.9, 0.2, 0.2, 0.5])) == "alternating"
    assert T.balance_label(pd.Series([0.1] * 5)) == "host-dominated throughout"
    assert T.balance_label(pd.Series([np.nan])) == "alternating"


def test_people_span_episodes_and_model_rows_carry_accuracy():
    a = _utts(ROWS[:2], episode="e1")
    b = _utts([("Gia", "guest", 0.0, 30.0, "one two three", True), ("Ned", "host", 30.0, 40.0, "Why?", True)],
              episode="e2", source="model", time_source="rate_estimated")
    t = T.compute(pd.concat([a, b], ignore_index=True), T.Measured({"e2": 0.85}, {"e2": 0.7}))
    gia = t["talktime_people"].set_index("speaker_id").loc["gia"]
    assert gia["episodes"] == 2 and gia["talk_s"] == 60 and gia["episode_ids"] == "e1;e2"
    assert gia["mean_talk_share"] == pytest.approx((30 / 40 + 30 / 40) / 2)
    spk = t["talktime_speakers"].set_index(["episode_id", "speaker_id"])
    assert spk.loc[("e2", "ned"), "attribution_accuracy"] == 0.85 and pd.isna(spk.loc[("e1", "gia"), "attribution_accuracy"])
    for table in T.TABLES:  # every table conforms to its schema
        table.conform(t[table.name])


def test_figures_say_when_speakers_are_inferred_or_times_estimated():
    a = _utts(ROWS[:2], episode="e1")
    b = _utts([("Gia", "guest", 0.0, 30.0, "one two three", True), ("Ned", "host", 30.0, 40.0, "Why?", True)],
              episode="e2", source="model", time_source="rate_estimated")
    t = T.compute(pd.concat([a, b], ignore_index=True), T.Measured({"e2": 0.85}, {"e2": 0.7}))
    figs = [F.talk_share(t["talktime_speakers"]), F.turn_lengths(t["talktime_turns"], t["talktime_episodes"]),
            F.balance(t["balance_timeline"], t["talktime_episodes"])]
    for fig in figs:  # in reader words, from the numeric accuracy column
        assert "some speakers inferred" in fig.layout.title.text and "estimated" in fig.layout.title.text
        caption = fig.layout.annotations[0].text
        assert "Who speaks is inferred from the text in e2 (about 9 words in 10 right on this episode)" in caption
        assert "Times are estimated in e2." in caption and "e1" not in caption
    only_file = T.compute(a)
    fig = F.talk_share(only_file["talktime_speakers"])
    assert "inferred" not in fig.layout.title.text and not fig.layout.annotations


def _model_episode(episode):
    return _utts([("Gia", "guest", 0.0, 30.0, "one two three", True), ("Ned", "host", 30.0, 40.0, "Why?", True)],
                 episode=episode, source="model", time_source="rate_estimated")


def _figures(episodes, shows, acc, base, better, widening=0.1):
    return {"episodes": episodes, "shows": shows, "word_accuracy": acc, "guest_baseline_accuracy": base,
            "clearly_better": better, "share_clearly_better": True, "reliable": better, "share_error_mean": 0.08,
            "share_baseline_error_mean": 0.1, "widening": widening}


CROSS_SHOW = {"by_shape": {"unsegmented": _figures(200, 11, 0.7, 0.6, True), "captions": _figures(200, 11, 0.6, 0.62, False)},
              "by_shape_cast": {"unsegmented": {"1 host, 1 guest": _figures(40, 6, 0.75, 0.68, True),
                                                "1 host, 2+ guests": _figures(8, 2, 0.6, 0.7, False)},
                                "captions": {}},
              "quote_rule": {"min_episodes": 10, "min_shows": 3}}


def test_an_episode_without_a_reference_quotes_the_cross_show_figure_for_its_shape():
    measured = T.Measured({"e2": 0.85}, {"e2": 0.8}, CROSS_SHOW,
                          {"e3": ("unsegmented", 1, 1), "e4": ("captions", 1, 1), "e5": ("unsegmented", 1, 2),
                           "e6": ("labelled", 1, 1)})
    eps = ["e2", "e3", "e4", "e5", "e6"]
    t = T.compute(pd.concat([_model_episode(e) for e in eps], ignore_index=True), measured)
    ep = t["talktime_episodes"].set_index("episode_id")
    assert ep.loc["e2", "attribution_accuracy"] == 0.85 and ep.loc["e2", "attribution_basis"] == "this episode"
    assert ep.loc["e2", "attribution_baseline"] == 0.8 and ep.loc["e2", "attribution_reliable"]
    for e in eps[1:]:  # another episode's accuracy is never quoted as measured there
        assert pd.isna(ep.loc[e, "attribution_accuracy"])
    e3 = ep.loc["e3"]  # its cast was measured on enough episodes and shows: that figure
    assert (e3["attribution_basis"], e3["attribution_shape"]) == ("other shows", "unsegmented text; 1 host, 1 guest")
    assert (e3["attribution_quoted_accuracy"], e3["attribution_baseline"], e3["attribution_reliable"]) == (0.75, 0.68, True)
    assert e3["attribution_accuracy_note"] == ("not measured here; on 40 episodes of 6 other shows in this shape "
                                               "(unsegmented text; 1 host, 1 guest) the model got 75.0% of words "
                                               "right, everyone-is-the-guest 68.0%; its host share was off by 8 "
                                               "points on average, the other shows' average share by 10")
    e4 = ep.loc["e4"]  # not clearly better than the baseline: said in the columns and the note
    assert not e4["attribution_reliable"] and e4["attribution_accuracy_note"].endswith(
        "(words), so this split is not reliable")
    assert ep.loc["e5", "attribution_shape"] == "unsegmented text; any cast"  # 8 episodes of its cast: too few
    assert ep.loc["e5", "attribution_quoted_accuracy"] == 0.7
    assert ep.loc["e6", "attribution_basis"] == "not measured" and pd.isna(ep.loc["e6", "attribution_reliable"])
    assert ep.loc["e6", "attribution_accuracy_note"] == "not measured: the model was not measured on partly labelled voices"
    spk = t["talktime_speakers"].set_index(["episode_id", "speaker_id"])
    assert spk.loc[("e3", "ned"), "attribution_accuracy_note"] == e3["attribution_accuracy_note"]
    caption = F.talk_share(t["talktime_speakers"]).layout.annotations[0].text
    # in reader words: the episode's own figure, else the cross-show figure for its shape, and
    # "not reliable" where the model is not clearly better than a simple guess
    assert F.accuracy_words(ep.loc["e2"]) == "about 9 words in 10 right on this episode"
    assert F.accuracy_words(ep.loc["e3"]) == "about 8 words in 10 right on other shows in this shape"
    assert F.accuracy_words(ep.loc["e4"]) == ("about 6 words in 10 right on other shows in this shape, "
                                              "not clearly better than a simple guess")
    assert F.accuracy_words(ep.loc["e6"]) == ""
    assert "Who speaks is inferred from the text in every episode." in caption  # five: counted, not named
    few = F.talk_share(t["talktime_speakers"].query("episode_id in ['e2', 'e3', 'e6']")).layout.annotations[0].text
    assert ("in e2 (about 9 words in 10 right on this episode), e3 (about 8 words in 10 right on other shows "
            "in this shape) and e6 (accuracy not measured there)") in few
    assert T.Measured().note("e3") == ("not measured: no episode has a hand-made speaker reference and no model was "
                                       "measured across shows")
    for table in T.TABLES:
        table.conform(t[table.name])


def test_tag_questions_and_rhetorical_checks_are_not_questions():
    from analysis.speakers.questions import is_question

    assert is_question("What did you build first?") and is_question('He asked "why?"')
    for s in ("That's the whole point, right?", "It scales, doesn't it?", "You ship it and learn, you know?",
              "Right?", "You know?", "We tried that, no?", "It's cheap, isn't it?", "So it works - right?"):
        assert not is_question(s), s
    rows = [("Hal", "host", 0.0, 10.0, "Why did you start? It was hard, right?", True),
            ("Gia", "guest", 10.0, 40.0, "It was hard, wasn't it? You know? But we did it, right? Did we?", True)]
    spk = T.compute(_utts(rows))["talktime_speakers"].set_index("speaker_id")
    assert spk.loc["hal", "questions"] == 1 and spk.loc["gia", "questions"] == 1


def test_shares_from_posterior_draws_with_an_interval():
    # e5: host Ned said utterance 0 (10 words, file label); utterances 1-2 (10 words each) were
    # attributed by the model; in the draws utterance 1 is the host's 3 times in 4, utterance 2 once in 4.
    rows = [("Ned", "host", 0.0, 10.0, " ".join(["a"] * 10), True), ("Gia", "guest", 10.0, 20.0, " ".join(["b"] * 10), True),
            ("Gia", "guest", 20.0, 40.0, " ".join(["c"] * 10), True)]
    u = _utts(rows, episode="e5")
    u["speaker_source"] = ["file_label", "model", "model"]
    draws = pd.DataFrame({"episode_id": "e5", "order": [1, 2], "host_speaker_id": "ned", "host_speaker": "Ned",
                          "guest_speaker_id": "gia", "guest_speaker": "Gia", "draws": ["hhhg", "hggg"]})
    cross = {**CROSS_SHOW, "by_shape": {"unsegmented": _figures(200, 11, 0.7, 0.6, True, widening=0.05)},
             "by_shape_cast": {}}
    measured = T.Measured(cross_show=cross, attributed={"e5": ("unsegmented", 1, 1)})
    spk = T.compute(u, measured, draws=draws)["talktime_speakers"].set_index("speaker_id")
    # host words per draw: 10 + 10*[1,1,1,0] + 10*[1,0,0,0] = 30, 20, 20, 10 of 30 -> expected 20/30
    assert spk.loc["ned", "word_share_expected"] == pytest.approx(20 / 30)
    assert spk.loc["ned", "word_share"] == pytest.approx(10 / 30)  # the best path gives both to the guest
    assert spk.loc["ned", "word_share_low"] == pytest.approx(np.quantile([1, 2 / 3, 2 / 3, 1 / 3], 0.05) - 0.05)
    assert spk.loc["ned", "word_share_high"] == pytest.approx(1.0)  # clipped
    # seconds: host 10 + 10*[1,1,1,0] + 20*[1,0,0,0] of 40 -> 40, 20, 20, 10
    assert spk.loc["ned", "talk_share_expected"] == pytest.approx((40 + 20 + 20 + 10) / 4 / 40)
    assert spk.loc["gia", "talk_share_expected"] == pytest.approx(1 - (40 + 20 + 20 + 10) / 4 / 40)
    roles = T.compute(u, measured, draws=draws)["talktime_roles"].set_index("role")
    assert roles.loc["host", "word_share_expected"] == pytest.approx(20 / 30)
    # talk shares per draw 1, .5, .5, .25: mean 56%, 5th-95th percentile 29-92%, widened by 5 points
    assert spk.loc["ned", "talk_share_low"] == pytest.approx(np.quantile([1, .5, .5, .25], 0.05) - 0.05)
    assert F.share_label(spk.loc["ned"]) == "Ned 56% (24-97%)"
    assert F.share_label(spk.loc["ned"], "word") == "Ned 67% (33-100%)"
    plain = T.compute(_utts(ROWS))["talktime_speakers"].set_index("speaker_id").loc["hal"]
    assert plain["talk_share_low"] == plain["talk_share_high"] == plain["talk_share"]
    assert F.share_label(plain) == "Hal 20%"


def test_balance_of_many_episodes_has_a_short_legend():
    """Up to a dozen episodes each get a coloured line and a legend entry; beyond, every episode
    is a thin grey line (named on hover) and the legend holds their median only."""
    from analysis.figures.palette import LEGEND_MAX_EPISODES

    def balance(n):
        utts = pd.concat([_utts(ROWS, episode=f"e{k:02d}") for k in range(n)], ignore_index=True)
        t = T.compute(utts)
        return F.balance(t["balance_timeline"], t["talktime_episodes"])

    few = balance(3)
    assert len(few.data) == 3 and all(tr.showlegend is not False for tr in few.data)
    many = balance(LEGEND_MAX_EPISODES + 3)
    shown = [tr for tr in many.data if tr.showlegend is not False]
    assert len(many.data) == LEGEND_MAX_EPISODES + 4 and len(shown) == 1 and "median of 15 episodes" in shown[0].name
