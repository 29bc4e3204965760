"""The same person across episodes: who recurs, and the most similar passage pairs."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.compare import recurring_people, similar_pairs


def test_recurring_people_are_catalogued_people_in_several_episodes():
    speakers = pd.DataFrame({"episode_id": ["a", "b", "a", "b", "b", "a", "b"],
                             "speaker_id": ["wu", "wu", "ann", "speaker-00", "bob", "break", "break"],
                             "name": ["Sherwin Wu", "Sherwin Wu", "Ann", "SPEAKER_00", "Bob", "Break", "Break"],
                             "resolved": [True, True, True, False, True, True, True],
                             "source": ["catalog"] * 3 + ["file_label", "catalog"] + ["file_label"] * 2})
    assert recurring_people(speakers)[["speaker_id", "episodes"]].values.tolist() == [["wu", 2]]


def test_similar_pairs_pick_the_closest_passages_once_each():
    passages = pd.DataFrame({"episode_id": ["a", "a", "b", "b", "b"]})
    v = np.array([[1, 0], [0, 1], [0.1, 1], [1, 0.05], [0.9, 0.1]], dtype=float)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    pairs = similar_pairs(passages, v, "a", "b", n=5)
    assert pairs[["row_a", "row_b"]].values.tolist() == [[0, 3], [1, 2]]  # each passage used once, best first
    assert pairs["similarity"].is_monotonic_decreasing
    assert similar_pairs(passages, v, "a", "zzz").empty


def _people_corpus(episodes: list[str]) -> tuple[dict, pd.DataFrame, np.ndarray]:
    """Corpus tables and passages (with unit vectors) for a person, Dana, in ``episodes``; her
    passage k in each episode points along axis k, tilted by the episode, so pairs are close."""
    eps = pd.DataFrame({"episode_id": episodes, "show": "Show", "published": pd.to_datetime(
        [f"2024-0{i + 1}-01" for i in range(len(episodes))]), "video_id": "VID"})
    speakers = pd.DataFrame({"episode_id": episodes, "speaker_id": "dana", "name": "Dana Lee", "resolved": True,
                             "source": "catalog"})
    talk = pd.DataFrame({"episode_id": episodes, "speaker_id": "dana", "talk_share": 0.5, "word_share": 0.4, "words": 900})
    rows, vecs = [], []
    for i, e in enumerate(episodes):
        for k in range(3):
            rows.append({"episode_id": e, "speaker_id": "dana", "word_count": 40 if k < 2 else 10,
                         "passage_key": f"{e}@{k}.0", "start_s": 60.0 * k, "time_source": "file", "text": f"{e} {k}"})
            v = np.zeros(8)
            v[k], v[7] = 1.0, 0.1 * (i + 1)
            vecs.append(v / np.linalg.norm(v))
    return ({"episodes": eps, "speakers": speakers, "talktime_speakers": talk}, pd.DataFrame(rows),
            np.array(vecs, dtype=np.float32))


def test_person_tables_pair_each_two_episodes_and_mark_the_same_point_by_the_threshold():
    from analysis.compare import PASSAGE_PAIRS, PERSON_EPISODES, person_tables

    corpus, passages, vectors = _people_corpus(["ep-a", "ep-b"])
    out = person_tables(corpus, passages, vectors, threshold=0.99)
    people, pairs = out[PERSON_EPISODES.name], out[PASSAGE_PAIRS.name]
    assert people["episode_id"].tolist() == ["ep-a", "ep-b"] and set(people["name"]) == {"Dana Lee"}
    # the 10-word passages are left out; the two long ones pair with their counterparts, best first
    assert pairs[["passage_key_a", "passage_key_b"]].values.tolist() == [["ep-a@0.0", "ep-b@0.0"], ["ep-a@1.0", "ep-b@1.0"]]
    assert pairs["same_point"].tolist() == (pairs["similarity"] >= 0.99).tolist() == [True, True]
    assert pairs["url_a"].iloc[1] == "https://www.youtube.com/watch?v=VID&t=60s" and pairs["time_b"].iloc[1] == "1:00"
    assert not person_tables(corpus, passages, vectors, threshold=1.01)[PASSAGE_PAIRS.name]["same_point"].any()


def test_an_added_episode_changes_no_pair_of_the_other_episodes():
    from analysis.compare import PASSAGE_PAIRS, person_tables

    before = person_tables(*_people_corpus(["ep-a", "ep-b"]), threshold=0.9)[PASSAGE_PAIRS.name]
    after = person_tables(*_people_corpus(["ep-a", "ep-b", "ep-c"]), threshold=0.9)[PASSAGE_PAIRS.name]
    old = after[(after["episode_id_a"] != "ep-c") & (after["episode_id_b"] != "ep-c")].reset_index(drop=True)
    pd.testing.assert_frame_equal(old, before)
    assert len(after) == 3 * len(before)


def test_compare_reads_the_tables_and_a_broken_threshold_file_names_itself(tmp_path):
    import pytest

    from analysis.compare import compare, pair_threshold, person_tables

    corpus, passages, vectors = _people_corpus(["ep-a", "ep-b"])
    tables = dict(corpus, **person_tables(corpus, passages, vectors, threshold=0.99))
    empty = pd.DataFrame(columns=["episode_id", "speaker_id", "speaker", "theme", "share", "topic_id", "label",
                                  "entity", "mentions", "rank"])
    tables.update(themes_per_speaker=empty, topics_per_speaker=empty, entities_per_speaker=empty)
    c = compare("dana", tables)
    assert c.person == "Dana Lee" and c.episodes["episode_id"].tolist() == ["ep-a", "ep-b"]
    assert c.pairs["same_point"].all() and c.pairs["similarity"].is_monotonic_decreasing
    single = dict(tables, person_episodes=tables["person_episodes"].iloc[:0])
    with pytest.raises(ValueError, match="one episode only"):
        compare("Dana Lee", single)
    bad = tmp_path / "pairs.threshold.json"
    bad.write_text('{"threshold": "high"}')
    with pytest.raises(ValueError, match="pairs.threshold.json"):
        pair_threshold(bad)
    with pytest.raises(FileNotFoundError, match="evaluate-pairs --write"):
        pair_threshold(tmp_path / "none.json")
    assert 0 < pair_threshold()["threshold"] < 1  # the shipped one
