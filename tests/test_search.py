"""Search: time formatting, reciprocal-rank fusion and filters on a tiny corpus, (slow) search
by meaning with the real model, and the hand-written query file."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.search import SearchIndex, build_index, clock, index_passages, load_queries, search
from analysis.topics.passages import make_passages

TEXTS = [
    ("ep-a", "Ann", "We let the model choose a tool from the list and it returns the arguments as JSON for your code.", 65.0, "file"),
    ("ep-a", "Bob", "Our pricing is per token and we cut the price of the model again this year for developers.", 200.0, "file"),
    ("ep-b", "Cy", "Reasoning models think for longer before they answer, which helps on maths problems a lot.", 30.0, "rate_estimated"),
    ("ep-b", "Ann", "I went hiking last weekend with my dog and we ate sandwiches at the top of the hill.", 400.0, "rate_estimated"),
]


def tiny_corpus() -> dict[str, pd.DataFrame]:
    u = pd.DataFrame(TEXTS, columns=["episode_id", "speaker", "text", "start_s", "time_source"])
    u["order"] = u.groupby("episode_id").cumcount()
    u["speaker_id"] = u["speaker"].str.lower()
    u["speaker_role"] = "guest"
    u["end_s"] = u["start_s"] + 20
    u["word_count"] = u["text"].str.split().str.len()
    u["is_conversation"] = True
    e = pd.DataFrame({"episode_id": ["ep-a", "ep-b"], "transcript_format": "timestamped_lines",
                      "show": ["Show A", "Show B"], "published": pd.to_datetime(["2024-01-01", "2025-01-01"]),
                      "video_id": ["VID123", None]})
    return {"utterances": u, "episodes": e}


def test_clock_marks_estimated_times():
    assert clock(65, False) == "1:05" and clock(3725, True) == "~1:02:05" and clock(float("nan"), True) == ""


def _fake_index() -> SearchIndex:
    """The tiny corpus indexed with hand-made vectors: passage i is unit vector e_i."""
    corpus = tiny_corpus()
    passages = make_passages(corpus["utterances"], corpus["episodes"])
    return index_passages(passages, np.eye(4, dtype=np.float32)[: len(passages)], corpus["episodes"])


def test_fusion_filters_and_links():
    index = _fake_index()
    near_third = np.array([0, 0, 1, 0], dtype=np.float32)
    hits = search(index, "price per token", top=4, query_vector=near_third)
    assert hits["passage_key"].iloc[0] in {"ep-a@1.0", "ep-b@0.0"}  # one rank each: the fusion ties them
    assert set(hits["passage_key"].iloc[:2]) == {"ep-a@1.0", "ep-b@0.0"}
    top = search(index, "price per token", top=1, query_vector=np.array([0, 1, 0, 0], dtype=np.float32))
    assert top["passage_key"].item() == "ep-a@1.0"
    assert top["url"].item() == "https://www.youtube.com/watch?v=VID123&t=200s" and top["time"].item() == "3:20"
    est = search(index, "hiking", episode="ep-b", top=1, query_vector=near_third)
    assert est["passage_key"].item() == "ep-b@1.0"  # the keyword wins over a close vector
    assert est["time"].item() == "~6:40" and est["url"].isna().all()
    only_ann = search(index, "anything", speaker="ann", top=5, query_vector=near_third)
    assert set(only_ann["speaker"]) == {"Ann"} and len(only_ann) == 2
    assert search(index, "x", speaker="nobody", query_vector=near_third).empty


@pytest.mark.slow
def test_search_by_meaning_finds_function_calling_without_its_words(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "CACHE", tmp_path)
    index = build_index(tiny_corpus())
    hits = search(index, "letting the model decide which function to call", top=1)
    assert hits["passage_key"].item() == "ep-a@0.0"
    hits = search(index, "models that deliberate before responding", top=1)
    assert hits["passage_key"].item() == "ep-b@0.0"


def test_the_query_file_has_twenty_queries_with_known_passages():
    queries = load_queries()
    assert len(queries) >= 20
    assert all(len(q["relevant"]) >= 1 and "@" in q["relevant"][0] for q in queries)


def test_the_semantic_score_mixes_passage_and_context_window_by_weight():
    index = _fake_index()  # ep-a@0.0 = e0 and ep-a@1.0 = e1 are neighbours; ep-b's passages are e2, e3
    q = np.array([0, 1, 0, 0], dtype=np.float32)
    alone = search(index, "zzz", top=2, query_vector=q, weights=(1.0, 0.0))
    assert alone["passage_key"].tolist() == ["ep-a@1.0", "ep-a@0.0"]
    assert alone["semantic"].tolist() == pytest.approx([1.0, 0.0])
    # contexts: ep-a@1.0 is (e0 + 2 e1) / sqrt(5), ep-a@0.0 is (2 e0 + e1) / sqrt(5); ep-b is untouched
    ctx = search(index, "zzz", top=3, query_vector=q, weights=(0.0, 0.0))
    assert ctx["semantic"].tolist() == pytest.approx([2 / np.sqrt(5), 1 / np.sqrt(5), 0.0])
    half = search(index, "zzz", top=1, query_vector=q, weights=(0.5, 0.0))
    assert half["semantic"].item() == pytest.approx(0.5 + 1 / np.sqrt(5))


def test_leave_one_query_out_recall_picks_weights_without_the_held_out_query():
    from analysis.search import WEIGHT_GRID, cross_validated_recall

    index = _fake_index()
    queries = [{"query": "price per token", "relevant": ["ep-a@1.0"]},
               {"query": "hiking", "relevant": ["ep-b@1.0"]}]
    vectors = np.array([[0, 1, 0, 0], [0, 0, 1, 0]], dtype=np.float32)
    cv, grid = cross_validated_recall(index, queries, k=1, vectors=vectors)
    assert len(grid) == len(WEIGHT_GRID) and grid["recall"].between(0, 1).all()
    # "hiking" is found at rank 1 only through its keyword (weight > 0); the price query by either
    assert grid.loc[grid["keyword_weight"] == 0, "recall"].max() == 0.5
    assert grid.loc[grid["keyword_weight"] > 0, "recall"].min() == 1.0
    # held out, "hiking" gets the weights the price query alone prefers (the first of its ties,
    # no keyword weight) and is missed: 0.5, not the 1.0 of choosing weights on both queries
    assert cv == 0.5 and grid["recall"].max() == 1.0


def test_recall_note_leaves_out_queries_whose_passages_are_elsewhere():
    from analysis.search import recall_note

    per_query = pd.DataFrame({"query": ["a", "b", "c"], "relevant": [2, 1, 3], "found": [2, 0, 0],
                              "recall": [1.0, 0.0, 0.0], "missing_keys": [0, 0, 3]})
    note = recall_note(per_query)
    assert note.startswith("On 2 hand-written queries, recall@5 is **0.50**") and "50%" in note
    assert "1 queries whose passages are not in this corpus left out" in note
    elsewhere = per_query.assign(missing_keys=per_query["relevant"])  # another show's corpus
    assert recall_note(elsewhere).startswith("**Search was not measured on this corpus**")


def test_a_corpus_without_a_query_file_is_not_measured(tmp_path, monkeypatch):
    """A maintainer's own archive has no data/annotations/search.queries.yaml: notebook 04 and the
    site say search was not measured instead of failing."""
    from analysis import config
    from analysis.search import load_queries, measured_recall_note

    monkeypatch.setattr(config, "ANNOTATIONS", tmp_path)
    assert load_queries(missing_ok=True) == []
    with pytest.raises(FileNotFoundError):
        load_queries()
    note = measured_recall_note(index=None)
    assert note.startswith("**Search was not measured on this corpus**") and "search.queries.yaml" in note
