"""The labelled corpus of other shows and the committed speaker model: reading the corpus
(tests/data/speaker_corpus, nine short files of three made-up shows written for the tests),
deriving hosts, the input shapes, training end to end, and the committed artifact
(data/speakers.model.json) that every build uses. The checks against the real corpus
(PODLENS_LABELLED_CORPUS) are skipped where it is absent."""
from __future__ import annotations

import json

import numpy as np
import pytest

from analysis import config
from analysis.speakers import attribution, evaluation, labelled, reference, training
from tests.conftest import ROOT, SAMPLES

SMALL = SAMPLES / "speaker_corpus"


@pytest.fixture(scope="module")
def sources():
    return [labelled.read_source(p) for p in labelled.corpus_files(SMALL)]


def test_reading_keeps_voices_and_drops_production_marks(sources):
    by_name = {s.name: s for s in sources}
    first = by_name["field-notes-1"]
    assert first.show == "fieldnotes" and first.voices == ["Dana Reyes", "Priya Nair"]  # "Break" is no one
    answer = first.turns[3]  # a long turn: two paragraphs, its timestamp and HTML entity undone
    assert answer[0] == "Priya Nair" and len(answer[1]) == 2 and answer[1][0].startswith("It started by accident.")
    assert by_name["field-notes-1"].turns[4][1][0].startswith("That's amazing.")
    assert "Jane Roe" in by_name["mend-it-5"].voices  # "**Jane Roe, PhD:**": the credential is not the name


def test_hosts_are_the_recurring_voices_and_whoever_opens_or_is_called_co_host(sources):
    casts = {s.name: labelled.derive_casts(sources)[s.path] for s in sources}
    assert casts["field-notes-2"] == (["Dana Reyes"], ["Lena Park", "Tom Avery"])  # 1 host, 2 guests
    assert casts["mend-it-6"] == (["Jane Roe", "Omar Haddad"], ["Ben Ford"])  # 2 hosts, 1 guest
    # Allie Moreau speaks in two of three episodes: a host where she opens the show, or is called co-host
    assert casts["stack-chat-10"] == (["Kelly Brandt", "Allie Moreau"], ["Nina Feld"])
    assert casts["stack-chat-11"] == (["Kelly Brandt", "Allie Moreau"], ["Sara Quinn"])
    assert casts["stack-chat-12"] == (["Kelly Brandt"], ["Ian Cole"])
    assert labelled.corpus_commit(SMALL) == "0" * 40


@pytest.mark.parametrize("shape", labelled.SHAPES)
def test_every_shape_is_built_as_a_users_episode_and_aligned_word_by_word(sources, shape, tmp_path):
    cast = labelled.derive_casts(sources)
    source = next(s for s in sources if s.name == "stack-chat-10")
    e = labelled.build(source, cast[source.path], shape, tmp_path)
    conv = e.utterances[e.utterances["is_conversation"]]
    assert conv["speaker_id"].isna().all()  # no names: the speakers are the model's to find
    expected = {"unsegmented": "plain_text", "paragraphs": "dash_turns", "captions": "srt"}[shape]
    assert (tmp_path / e.episode.files[0].path.name).exists() and e.episode.files[0].format == expected
    sents = attribution.with_reference(attribution.sentences(e.utterances, e.episode, hide_labels=True),
                                       e.utterances, e.ref)
    assert set(sents["shape"]) == {shape} and sents["host_share"].notna().all()  # every word aligned
    words = " ".join(" ".join(p) for _, p in source.turns).split()
    assert int(sents["words"].sum()) == len(words)
    truth = reference.utterance_speakers(e.ref, e.utterances)
    kelly = truth[truth["speaker"] == "Kelly Brandt"]
    assert len(kelly) and (kelly["role"] == "host").all()
    nina = conv[conv["text"].str.contains("Three of us regularly")]["order"]
    assert set(truth.loc[nina, "speaker"]) == {"Nina Feld"}
    if shape == "paragraphs":  # a mark per paragraph, so a long turn has marks where no one changes
        assert (sents["boundary"] == "mark").sum() == sum(len(p) for _, p in source.turns) - 1
    if shape == "captions":
        assert conv["word_count"].max() <= max(labelled.CAPTION_WORDS) + 5


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """train() on the small corpus twice, with its own caches (seed references built in them too)."""
    out = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "INTERIM", tmp_path_factory.mktemp("interim"))
        mp.setattr(config, "CACHE", tmp_path_factory.mktemp("cache"))
        mp.setattr(config, "WORKERS", 1)
        for _ in range(2):
            out.append(training.train(SMALL))
    return out


def test_training_on_a_corpus_writes_the_same_artifact_every_time(small_model):
    first, second = small_model
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)  # deterministic
    assert first["corpus"]["commit"] == "0" * 40 and first["corpus"]["files"] == 9
    assert first["corpus"]["sha256"] == labelled.corpus_hash(labelled.corpus_files(SMALL), SMALL)
    seeds = sorted(p.name.removesuffix(".speakers.tsv") for p in config.ANNOTATIONS.glob("*.speakers.tsv"))
    assert set(first["models"]) == {"all", *(f"without:{s}" for s in seeds)}
    for name, m in first["models"].items():  # each leave-one-out model is trained without that reference
        assert m["references"] == [s for s in seeds if f"without:{s}" != name]
        assert len(m["training_data_sha256"]) == 64
    assert "Priya" not in json.dumps(first)  # no text of the corpus in the artifact


def test_training_measures_every_shape_across_shows(small_model):
    cross = small_model[0]["cross_show"]
    assert set(cross["by_shape"]) == set(labelled.SHAPES)
    u = cross["by_shape"]["unsegmented"]
    assert (u["episodes"], u["shows"]) == (9, 3)
    assert set(cross["by_show"]["unsegmented"]) == {"fieldnotes", "mendit", "stackchat"}
    assert 0 <= u["word_accuracy"] <= 1 and 0 < u["guest_baseline_accuracy"] < 1
    assert 0 <= u["interval_coverage"] <= 1 and u["widening"] >= 0
    assert set(cross["by_shape_cast"]["unsegmented"]) == {"1 host, 1 guest", "1 host, 2+ guests", "2+ hosts, 1 guest",
                                                         "2+ hosts, 2+ guests"}
    assert set(cross["naming"]["rules"]) <= {*attribution.NAMING_RULES, "none"}


def test_conformal_widening_holds_the_stated_share_of_episodes():
    needed = np.array([0.0] * 8 + [0.1, 0.3])
    assert training.conformal_widening(needed, 0.8) == 0.1  # ceil(11 * 0.8) = 9th smallest
    assert training.conformal_widening(needed, 0.9) == 0.3
    assert training.conformal_widening(np.array([]), 0.9) == 0.0


def test_train_speakers_without_the_corpus_says_so_and_keeps_the_model(tmp_path, capsys):
    from analysis.__main__ import main

    before = config.SPEAKER_MODEL.read_bytes()
    assert main(["train-speakers", "--corpus", str(tmp_path / "nowhere")]) == 1
    assert "the labelled corpus is not at" in capsys.readouterr().err
    assert config.SPEAKER_MODEL.read_bytes() == before


def test_the_committed_model_is_what_the_build_uses():
    artifact = attribution.load_artifact()
    assert artifact is not None and artifact["features"] == attribution.feature_names()
    assert config.SPEAKER_MODEL == ROOT / "data" / "speakers.model.json"
    for seed in artifact["references"]:  # each seed episode is decoded by the model that never saw its reference
        _, name, _ = attribution.episode_model(seed, (config.ANNOTATIONS / f"{seed}.speakers.tsv").read_bytes())
        assert name == f"without:{seed}" and seed not in artifact["models"][name]["references"]
    assert attribution.episode_model("a-new-episode")[1] == "all"
    by_shape = evaluation.cross_show_summary()["by_shape"]
    assert set(by_shape) == set(labelled.SHAPES) and all(f["episodes"] >= 200 for f in by_shape.values())


@pytest.mark.skipif(not (config.LABELLED_CORPUS / "SOURCE.md").exists(), reason="the labelled corpus is not here")
def test_the_committed_model_was_trained_on_the_corpus_here():
    artifact = attribution.load_artifact()
    files = labelled.corpus_files(config.LABELLED_CORPUS)
    assert artifact["corpus"]["sha256"] == labelled.corpus_hash(files, config.LABELLED_CORPUS)
    assert artifact["corpus"]["commit"] == labelled.corpus_commit(config.LABELLED_CORPUS)
    sources = [labelled.read_source(p) for p in files]
    casts = labelled.derive_casts(sources)
    hosts: dict[str, set] = {}
    for s in sources:
        hosts.setdefault(s.show, set()).update(casts[s.path][0])
    assert artifact["corpus"]["hosts"] == {k: sorted(v) for k, v in sorted(hosts.items())}


def test_cross_show_report_prints_targets_and_baselines():
    text = evaluation.cross_show_report(attribution.load_artifact())
    assert "leave-one-show-out" in text and "Target: unsegmented mean word accuracy >= 85%" in text
    assert "everyone-is-the-guest" in text
