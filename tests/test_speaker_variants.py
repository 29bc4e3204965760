"""benchmarks/speaker_variants.py: its baselines are set on the other shows only, and its
boundary examples are the decoder's free boundaries within one episode."""
from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pandas as pd
from conftest import ROOT


def _variants(monkeypatch):
    spec = importlib.util.spec_from_file_location("podlens_speaker_variants", ROOT / "benchmarks" / "speaker_variants.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "podlens_speaker_variants", module)
    spec.loader.exec_module(module)
    return module


def _rows(truth_of_a: float) -> pd.DataFrame:
    return pd.DataFrame({"show": ["a", "a", "b", "b", "c", "c"],
                         "cast": ["1 host, 1 guest"] * 6,
                         "host_word_share_expected": [0.1, 0.2, 0.15, 0.3, 0.05, 0.25],
                         "host_word_share_true": [truth_of_a, truth_of_a, 0.3, 0.5, 0.2, 0.4]})


def test_a_shows_calibrated_and_average_share_come_from_the_other_shows(monkeypatch):
    sv = _variants(monkeypatch)
    low, high = sv.share_baselines(_rows(0.0)), sv.share_baselines(_rows(0.9))
    for kind in ("calibrated", "average"):
        assert np.allclose(low[kind][:2], high[kind][:2])  # show a's own truth is not used for it
        assert not np.allclose(low[kind][2:], high[kind][2:])  # but is for the others
    assert np.allclose(low["average"][:2], np.mean([0.3, 0.5, 0.2, 0.4]))


def test_boundary_examples_are_free_boundaries_inside_one_episode(monkeypatch):
    sv = _variants(monkeypatch)
    rows = pd.DataFrame({"episode_id": ["e1", "e1", "e1", "e2", "e2"],
                         "role": ["host", "guest", "guest", "guest", "host"],
                         "boundary": ["free", "free", "within", "free", "free"],
                         "text": ["So what do you do?", "I build tools.", "Mostly for data.", "Hi.", "Welcome to the show."]})
    x, y = sv._boundary_examples(rows)
    assert y.tolist() == [True, True]  # e1 0->1 and e2 3->4; not 1->2 (within), not 2->3 (across episodes)
    assert x.shape[0] == 2 and x.shape[1] % 2 == 0
