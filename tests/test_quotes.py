"""The quote search: phrase, speaker filter, context, deep links and estimated-time honesty."""
from __future__ import annotations

import pandas as pd

from analysis.quotes import deep_link, find_quotes


def _tables():
    utt = pd.DataFrame({
        "episode_id": ["a"] * 4 + ["b"] * 2,
        "order": [0, 1, 2, 3, 0, 1],
        "speaker": ["Host", "Guest", "Host", "Guest", "Host", "Guest"],
        "speaker_id": ["host", "guest", "host", "guest", "host", "guest"],
        "speaker_source": ["file_label"] * 4 + ["model"] * 2,
        "start_s": [0.0, 10.0, 95.5, 100.0, None, None],
        "time_source": ["file"] * 4 + ["none"] * 2,
        "text": ["Tell me about fine-tuning.", "Fine tuning is great.", "Brought to you by X.",
                 "We ship fine tuning soon.", "And fine-tuning?", "Yes, fine tuning."],
        "is_conversation": [True, True, False, True, True, True],
    })
    eps = pd.DataFrame({"episode_id": ["a", "b"], "show": ["Show A", "Show B"],
                        "published": pd.to_datetime(["2024-01-01", "2025-01-01"]), "video_id": ["VID", None]})
    return {"utterances": utt, "episodes": eps}


def test_finds_phrase_variants_newest_episode_first_with_speaker_filter():
    q = find_quotes(_tables(), r"fine[- ]tuning", speaker="guest")
    assert list(zip(q["episode_id"], q["order"])) == [("b", 1), ("a", 1), ("a", 3)]
    assert set(q["speaker"]) == {"Guest"}


def test_flagged_text_is_skipped_and_context_stays_in_episode():
    q = find_quotes(_tables(), "fine", speaker="Guest", context=1)
    a3 = q[(q["episode_id"] == "a") & (q["order"] == 3)].iloc[0]
    # the flagged sponsor line (order 2) is not conversation, so the context is orders 1 and 3
    assert a3["quote"] == "[Guest] Fine tuning is great. [Guest] We ship fine tuning soon."
    b1 = q[q["episode_id"] == "b"].iloc[0]
    assert b1["quote"].startswith("[Host] And fine-tuning?") and "Show A" not in b1["quote"]


def test_links_only_with_video_and_time_and_time_source_is_kept():
    q = find_quotes(_tables(), "fine", context=0, limit=None)
    a = q[q["episode_id"] == "a"].set_index("order")
    assert a.at[1, "url"] == deep_link("VID", 10.0) == "https://www.youtube.com/watch?v=VID&t=10s"
    b = q[q["episode_id"] == "b"]
    assert b["url"].isna().all() and set(b["time_source"]) == {"none"}
    assert b["speaker_source"].eq("model").all()


def test_seed_corpus_sherwin_on_fine_tuning(corpus_tables):
    q = find_quotes(corpus_tables, r"fine[- ]tun", speaker="Sherwin Wu", limit=None)
    assert len(q) > 5 and set(q["speaker"]) == {"Sherwin Wu"}
    a16z = q[q["episode_id"] == "a16z-2025-11-28-sherwin-wu"]
    assert a16z["url"].str.startswith("https://www.youtube.com/watch?v=3x0jhpEj_6o&t=").all()
    assert (a16z["time_source"] == "file").all()
