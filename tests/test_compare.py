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
