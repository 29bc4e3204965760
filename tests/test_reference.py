"""Reference speaker turns: parsing, word alignment, label correction, bad files, seed coverage."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

from analysis import config
from analysis.catalog import load_catalog
from analysis.corpus import build_corpus
from analysis.speakers import attribution, evaluation, reference

TRANSCRIPT = """\
[00:00:00] Ann Host: Welcome to the show. Today my guest is Bob.
[00:00:05] Bob Guest: Thanks for having me. Glad to be here.
[00:00:09] Bob Guest: So what do you build? We build rockets.
[00:00:14] Ann Host: Yes, and they fly very high indeed.
[00:00:18] Ann Host: Wonderful, thank you Bob.
"""
# line 3 holds a question by Ann then Bob's answer; line 4 is Bob's, labelled Ann by the file
REFERENCE = """\
# a comment
line\tspeaker\tsure\tat
1\tAnn Host\tyes\tWelcome to the show
2\tBob Guest\tyes\tThanks for having me
3\tAnn Host\tyes\tSo what do you build?
3\tBob Guest\tyes\tWe build rockets.
4\tBob Guest\tno\tYes, and they fly
5\tAnn Host\tyes\tWonderful, thank you Bob.
"""


@pytest.fixture
def show(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INTERIM", tmp_path / "interim")
    monkeypatch.setattr(config, "ANNOTATIONS", tmp_path / "annotations")
    (tmp_path / "annotations").mkdir()
    (tmp_path / "show.txt").write_text(TRANSCRIPT)
    entry = {"id": "show-1", "title": "t", "show": "Show", "hosts": ["Ann Host"], "guests": ["Bob Guest"],
             "files": [{"path": "show.txt", "kind": "transcript", "format": "timestamped_lines"}]}
    (tmp_path / "episodes.yaml").write_text(yaml.safe_dump({"episodes": [entry]}))
    return tmp_path


def _build(tmp_path):
    return build_corpus(catalog=tmp_path / "episodes.yaml", out_dir=tmp_path / "out", progress=False)


def test_turns_align_word_by_word_and_correct_the_files_labels(show):
    (show / "annotations" / "show-1.speakers.tsv").write_text(REFERENCE)
    build = _build(show)
    assert not build.errors
    u = build.tables["utterances"].sort_values("order").reset_index(drop=True)
    episodes, _ = load_catalog(show / "episodes.yaml")
    ref = reference.load_reference(show / "annotations" / "show-1.speakers.tsv", episodes[0])
    assert [t.row for t in ref.turns] == [3, 4, 5, 6, 7, 8] and not ref.turns[4].sure

    per = reference.utterance_speakers(ref, u)
    assert per["speaker"].tolist() == ["Ann Host", "Bob Guest", "Ann Host", "Bob Guest", "Ann Host"]
    assert per.loc[2, "share"] == pytest.approx(5 / 8) and per.loc[2, "host_share"] == pytest.approx(5 / 8)
    assert per["sure"].tolist() == [True, True, True, False, True]

    # the file was right on lines 1, 2 and 5; the reference corrects lines 3 and 4
    assert u["speaker"].tolist() == ["Ann Host", "Bob Guest", "Ann Host", "Bob Guest", "Ann Host"]
    assert u["speaker_source"].tolist() == ["file_label", "file_label", "reference", "reference", "file_label"]
    assert u.loc[2, "speaker_confidence"] == pytest.approx(0.625)  # 5 of its 8 words are Ann's
    assert u.loc[3, "speaker_confidence"] == reference.UNSURE_CONFIDENCE  # the annotator hesitated

    # sentence level: line 3 splits into the question (Ann's) and the answer (Bob's)
    sents = attribution.sentences(u, episodes[0], hide_labels=True)
    share = reference.sentence_host_share(ref, u, sents)
    assert sents["text"].tolist()[4:6] == ["So what do you build?", "We build rockets."]
    assert share.tolist() == [1, 1, 0, 0, 1, 0, 0, 1]


def test_word_accuracy_weights_each_sentence_by_the_words_each_side_says():
    share = np.array([1.0, 0.0, 0.25])  # host's fraction of each sentence's words
    words = np.array([10, 10, 20])
    word_acc, sent_acc = evaluation._scores(share, np.array([True, True, False]), words)
    assert word_acc == pytest.approx((10 + 0 + 15) / 40) and sent_acc == pytest.approx(2 / 3)


@pytest.mark.parametrize("text, message", [
    ("line\tspeaker\tat\n1\tAnn Host\tWelcome", "show-1.speakers.tsv:1: header must be"),
    ("line\tspeaker\tsure\tat\n1\tAnn Host\tyes\tWelcome\n2\tCarol\tyes\tThanks",
     "show-1.speakers.tsv:3: 'Carol' is not a host or guest"),
    ("line\tspeaker\tsure\tat\n1\tAnn Host\tmaybe\tWelcome", "show-1.speakers.tsv:2: 'sure' must be yes or no"),
    ("line\tspeaker\tsure\tat\n2\tBob Guest\tyes\tThanks for having me\n1\tAnn Host\tyes\tWelcome to the show",
     "show-1.speakers.tsv:3: 'Welcome to the show' not found"),  # turns must come in file order
    ("line\tspeaker\tsure\tat\nfirst\tAnn Host\tyes\tWelcome", "show-1.speakers.tsv:2: expected line<TAB>"),
    ("# only a comment\n", "show-1.speakers.tsv: no turns"),
])
def test_a_bad_reference_is_reported_with_file_and_line_and_the_episode_still_builds(show, text, message):
    (show / "annotations" / "show-1.speakers.tsv").write_text(text)
    build = _build(show)
    assert len(build.errors) == 1 and message in build.errors[0], build.errors
    u = build.tables["utterances"]
    assert len(u) == 5 and (u["speaker_source"] == "file_label").all()  # built, just without the reference


def test_seed_references_cover_the_conversation_and_record_the_a16z_label_noise(corpus_tables):
    episodes, _ = load_catalog()
    refs, errors = reference.load_references(episodes)
    assert not errors and set(refs) == {ep.id for ep in episodes}
    u = corpus_tables["utterances"]
    for ep_id, ref in refs.items():
        conv = u[(u["episode_id"] == ep_id) & u["is_conversation"]]
        words = reference.word_speakers(ref, conv)
        covered = sum(t is not None and t.speaker is not None for ts in words.values() for t in ts)
        assert covered / conv["word_count"].sum() > 0.98, ep_id
    errors = {e["episode_id"]: e for e in evaluation.label_errors(u, episodes, refs)}
    assert set(errors) == {"a16z-2025-11-28-sherwin-wu", "20vc-2024-11-04-sam-altman"}  # the labelled files
    assert errors["20vc-2024-11-04-sam-altman"]["wrong_share"] == 0  # right, bar three short interjections
    disagree = errors["a16z-2025-11-28-sherwin-wu"]["wrong_share"]
    assert 0.15 < disagree < 0.5  # the diarisation gives a large share of lines to the wrong voice


def test_shown_speakers_score_as_the_evaluation_says(corpus_tables):
    """The unlabelled episodes' speakers come from a model trained without them, so scoring
    the corpus against their reference gives the leave-one-episode-out figure."""
    episodes, _ = load_catalog()
    refs, _ = reference.load_references(episodes)
    u = corpus_tables["utterances"]
    measured = {(r["episode_id"], r["as_processed"]): r["word_accuracy"]
                for r in evaluation.evaluate_attribution(u, episodes, refs)}
    for ep_id in ("lenny-2026-02-12-sherwin-wu", "latent-space-2024-09-13-michelle-pokrass"):
        conv = u[(u["episode_id"] == ep_id) & u["is_conversation"] & (u["speaker_source"] == "model")]
        truth = reference.utterance_speakers(refs[ep_id], conv).reindex(conv["order"])
        host = (conv["speaker_role"] == "host").to_numpy()
        share = truth["host_share"].to_numpy()
        known = ~np.isnan(share)
        w = conv["word_count"].to_numpy(dtype=float)[known]
        shown = (np.where(host[known], share[known], 1 - share[known]) * w).sum() / w.sum()
        assert shown == pytest.approx(measured[(ep_id, True)], abs=0.02), ep_id


def test_evaluation_is_reused_until_a_reference_changes(corpus_tables, tmp_path, monkeypatch):
    import shutil

    notes = tmp_path / "annotations"
    shutil.copytree(config.ANNOTATIONS, notes)
    monkeypatch.setattr(config, "ANNOTATIONS", notes)
    monkeypatch.setattr(config, "CACHE", tmp_path / "cache")
    u = corpus_tables["utterances"]
    first = evaluation.evaluate(u)
    assert len(list(config.CACHE.glob("speaker_evaluation_*.json"))) == 1
    calls = []
    monkeypatch.setattr(evaluation, "evaluate_attribution", lambda *a, **k: calls.append(1) or [])
    assert evaluation.evaluate(u) == first and not calls  # served from the cache
    # a reference turn given to the other speaker: a new key, so it is measured again
    path = notes / "20vc-2024-11-04-sam-altman.speakers.tsv"
    path.write_text(path.read_text(encoding="utf-8").replace("\tSam Altman\t", "\tHarry Stebbings\t", 1),
                    encoding="utf-8")
    evaluation.evaluate(u)
    assert calls and len(list(config.CACHE.glob("speaker_evaluation_*.json"))) == 2


def test_reference_command_drafts_from_trusted_labels_and_never_overwrites(corpus_tables, tmp_path, monkeypatch, capsys):
    from analysis.__main__ import main

    monkeypatch.setattr(config, "ANNOTATIONS", tmp_path / "annotations")
    monkeypatch.setattr("analysis.corpus.load_corpus", lambda *a, **k: corpus_tables)
    episodes = {ep.id: ep for ep in load_catalog()[0]}
    twenty = episodes["20vc-2024-11-04-sam-altman"]
    assert main(["reference", twenty.id]) == 0
    draft = tmp_path / "annotations" / "drafts" / f"{twenty.id}.speakers.tsv"
    out = capsys.readouterr().out
    assert str(draft) in out and "move it to" in out
    # the draft is a valid reference, and the 20VC file's labels agree with the hand-made one
    drafted = reference.load_reference(draft, twenty)
    made = reference.load_reference(config.ROOT / "data" / "annotations" / f"{twenty.id}.speakers.tsv", twenty)
    u = corpus_tables["utterances"][corpus_tables["utterances"]["episode_id"] == twenty.id]
    a, b = reference.utterance_speakers(drafted, u), reference.utterance_speakers(made, u)
    assert (a["speaker"] == b.loc[a.index, "speaker"]).mean() == 1.0
    assert all(t.sure for t in drafted.turns)
    # an existing file is not overwritten without --force
    draft.write_text("# edited by a reviewer\n")
    assert main(["reference", twenty.id]) == 1 and "--force" in capsys.readouterr().err
    assert draft.read_text() == "# edited by a reviewer\n"
    assert main(["reference", twenty.id, "--force"]) == 0 and draft.read_text().count("\n") > 40
    # an episode without labels cannot be drafted: nothing is written
    lenny = "lenny-2026-02-12-sherwin-wu"
    assert main(["reference", lenny]) == 1 and "only 0% of its words" in capsys.readouterr().err
    assert not (tmp_path / "annotations" / "drafts" / f"{lenny}.speakers.tsv").exists()
