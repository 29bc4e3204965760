"""Shared fixtures: paths to the seed data and to small sample files written for the tests."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
SAMPLES = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def corpus_tables(tmp_path_factory):
    """The seed corpus built once into a temporary directory (not data/processed)."""
    from analysis import config
    from analysis.corpus import build_corpus

    out = tmp_path_factory.mktemp("processed")
    with pytest.MonkeyPatch.context() as mp:  # keep the per-episode cache out of data/interim
        mp.setattr(config, "INTERIM", tmp_path_factory.mktemp("interim"))
        build = build_corpus(out_dir=out, progress=False)
    assert not build.errors, build.errors
    return build.tables
