"""Episodes of other shows added to the seed catalog (tests/data/episodes: generic diarisation
voices, an Otter catch-all "Unknown Speaker", an unpunctuated auto-caption SRT, wrong labels,
a five-person panel, an unlabelled interview): the seed episodes' speakers, shares and turns
stay byte for byte the same, and each new episode is handled as its evidence allows."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import config
from analysis.corpus import build_corpus
from analysis.speakers import attribution, evaluation, talktime
from tests.conftest import ROOT, SAMPLES

EPISODES = SAMPLES / "episodes"
SEEDS = ("lenny-2026-02-12-sherwin-wu", "a16z-2025-11-28-sherwin-wu", "20vc-2024-11-04-sam-altman",
         "latent-space-2024-09-13-michelle-pokrass")


def _build(root: Path, with_others: bool, monkeypatch) -> tuple:
    """Build the seeds (and the other shows) in ``root`` with their own, empty caches."""
    shutil.copytree(ROOT / "data" / "raw", root / "raw")
    catalog = (ROOT / "data" / "episodes.yaml").read_text(encoding="utf-8")
    if with_others:
        for f in EPISODES.iterdir():
            if f.name != "episodes.yaml":
                shutil.copy(f, root / "raw" / f.name)
        catalog += (EPISODES / "episodes.yaml").read_text(encoding="utf-8").split("episodes:\n", 1)[1]
    (root / "episodes.yaml").write_text(catalog, encoding="utf-8")
    monkeypatch.setattr(config, "DATA", root)  # file paths in the tables are relative to it
    monkeypatch.setattr(config, "INTERIM", root / "interim")
    monkeypatch.setattr(config, "CACHE", root / "cache")
    monkeypatch.setattr(config, "CATALOG", root / "episodes.yaml")
    monkeypatch.setattr(config, "WORKERS", 1)  # worker processes would not see the patched paths
    build = build_corpus(catalog=root / "episodes.yaml", out_dir=root / "out", progress=False)
    assert not build.errors, build.errors
    key = evaluation.evaluation_inputs(build.tables["utterances"])[0]
    return build, key


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        seeds = _build(tmp_path_factory.mktemp("seeds"), False, mp)
    with pytest.MonkeyPatch.context() as mp:
        mixed = _build(tmp_path_factory.mktemp("mixed"), True, mp)
    return seeds, mixed


def _seed_rows(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["episode_id"].isin(SEEDS)].reset_index(drop=True)


def test_other_shows_leave_the_seed_episodes_unchanged(builds):
    (alone, key_alone), (mixed, key_mixed) = builds
    assert set(mixed.tables["episodes"]["episode_id"]) - set(SEEDS)  # the other shows were built
    for name in ("utterances", "speakers", "chapters", attribution.DRAWS.name, attribution.ATTRIBUTED.name):
        pd.testing.assert_frame_equal(_seed_rows(alone.tables[name]), _seed_rows(mixed.tables[name]), check_exact=True)
    for table in ("talktime_speakers", "talktime_turns", "talktime_roles", "talktime_episodes"):
        a = talktime.compute(alone.tables["utterances"], draws=alone.tables[attribution.DRAWS.name])[table]
        m = talktime.compute(mixed.tables["utterances"], draws=mixed.tables[attribution.DRAWS.name])[table]
        pd.testing.assert_frame_equal(_seed_rows(a), _seed_rows(m), check_exact=True)
    assert key_alone == key_mixed  # the evaluation is not redone
    # each reference episode is decoded by the committed model trained without its reference; the others by "all"
    decided = mixed.tables[attribution.ATTRIBUTED.name].set_index("episode_id")["model"]
    assert decided["lenny-2026-02-12-sherwin-wu"] == "without:lenny-2026-02-12-sherwin-wu"
    assert decided["quiet-hour-2024-02-02-ian-cole"] == "all"


def _episode(build, episode_id):
    u = build.tables["utterances"]
    return u[(u["episode_id"] == episode_id) & u["is_conversation"]]


def test_generic_voices_resolved_from_their_own_introductions(builds):
    wire = _episode(builds[1][0], "wire-talk-2025-03-04-ravi-menon")
    who = wire.groupby("speaker_label")["speaker"].agg(set)
    # SPEAKER_1 introduces himself in his fourth cue; the first voice in her first
    assert who["SPEAKER_0"] == {"Lena Park"} and who["SPEAKER_1"] == {"Tom Avery"}
    # the third voice is whoever is left: the guest, not a host a voice already claimed
    assert who["SPEAKER_2"] == {"Ravi Menon"}
    panel = _episode(builds[1][0], "panel-hour-2024-11-20-roundtable")
    assert set(panel.loc[panel["speaker_label"] == "Speaker A", "speaker"]) == {"Zoe Adams"}
    assert panel["speaker_id"].nunique() == 5


def test_a_catch_all_label_is_attributed_utterance_by_utterance(builds):
    kitchen = _episode(builds[1][0], "kitchen-table-2024-06-10-nina-feld")
    unknown = kitchen[kitchen["speaker_label"] == "Unknown Speaker"]
    assert (unknown["speaker_source"] == "model").all()  # never one person for the whole label
    assert unknown["speaker_role"].nunique() == 2
    # "I'm Kelly. I'm Allie." is two people: neither host is taken for the label's speaker
    intro = unknown[unknown["text"].str.contains("I'm Kelly. I'm Allie.")]
    assert intro["speaker"].tolist() not in (["Kelly Brandt"], ["Allie Moreau"])
    assert (kitchen["speaker_source"] != "introduction").all()
    guest = kitchen.loc[kitchen["speaker_id"] == "nina-feld", "word_count"].sum() / kitchen["word_count"].sum()
    assert 0.2 < guest < 0.8  # neither host nor guest gets (almost) everything
    # a change of label is a change of voice: between the hosts' labelled questions, the
    # "Unknown Speaker" segments are the guest's answers; the opening and the one follow-up
    # question ("Wait, so should we ...?", the same label as the answer after it) are the hosts'
    hosts = unknown["text"].str.startswith(("Hi, everybody", "Wait, so should we"))
    assert (unknown.loc[hosts, "speaker_role"] == "host").all()
    assert (unknown.loc[~hosts, "speaker_id"] == "nina-feld").all()


def test_unpunctuated_captions_are_refused_with_a_reason(builds):
    mixed = builds[1][0]
    street = _episode(mixed, "street-level-2023-09-01-city-budget")
    assert (street["speaker_source"] == attribution.REFUSED).all() and street["speaker_id"].isna().all()
    assert any(w.startswith("street-level-2023-09-01-city-budget: speakers not attributed (no sentence punctuation")
               for w in mixed.warnings)
    tables = talktime.compute(mixed.tables["utterances"], draws=mixed.tables[attribution.DRAWS.name])
    assert "street-level-2023-09-01-city-budget" not in set(tables["talktime_speakers"]["episode_id"])


def test_unlabelled_interview_gets_model_speakers_with_honest_intervals(builds):
    mixed = builds[1][0]
    quiet = _episode(mixed, "quiet-hour-2024-02-02-ian-cole")
    assert (quiet["speaker_source"] == "model").all()
    result = {"summary": {"word_accuracy_by_episode": {s: 0.9 for s in SEEDS}}, "cross_show": evaluation.cross_show_summary()}
    measured = talktime.Measured.from_evaluation(result, mixed.tables[attribution.ATTRIBUTED.name])
    spk = talktime.compute(mixed.tables["utterances"], measured, draws=mixed.tables[attribution.DRAWS.name])[
        "talktime_speakers"].set_index(["episode_id", "speaker_id"])
    host = spk.loc[("quiet-hour-2024-02-02-ian-cole", "nora-vance")]
    assert host["talk_share_low"] < host["talk_share_expected"] < host["talk_share_high"]
    widening = measured.widening("quiet-hour-2024-02-02-ian-cole")
    assert widening > 0 and host["word_share_high"] - host["word_share_low"] >= min(2 * widening, 1 - host["word_share_low"])
    assert pd.isna(host["attribution_accuracy"])  # no reference: nothing is measured on it
    quote = measured.quote("quiet-hour-2024-02-02-ian-cole")  # the cross-show figure for its shape and cast
    assert quote.basis == "other shows" and quote.shape.startswith("unsegmented text; 1 host, 1 guest")
    assert host["attribution_basis"] == "other shows" and host["attribution_accuracy_note"] == quote.note
    assert (host["attribution_quoted_accuracy"], host["attribution_baseline"]) == (quote.accuracy, quote.baseline)
    assert quote.note.startswith("not measured here; on ")
    wrong_labels = spk.loc["open-ledger-2025-01-15-sara-quinn"]  # file labels are shown as the file says
    assert (wrong_labels["talk_share_low"] == wrong_labels["talk_share_high"]).all()
