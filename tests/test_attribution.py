"""Speaker attribution: sentence splitting, the (role, run) decoder on hand-made evidence,
a model fitted on a small hand-written dialogue, host splitting, and the corpus stage."""
import numpy as np
import pandas as pd
import pytest

from analysis.catalog import Episode, Person
from analysis.ingest.text import sentences
from analysis.speakers import attribution as A


def _episode(hosts=("Lenny Rachitsky",), guests=("Sherwin Wu",)):
    return Episode(id="show-2024-01-01-x", title="t", show="s", published=None, files=[],
                   hosts=[Person(n, "host") for n in hosts], guests=[Person(n, "guest") for n in guests])


def test_sentences_split_as_the_ingest_splitter_does():
    assert sentences("Hi there. How are you? I'm fine!  3 things.") == [
        "Hi there.", "How are you?", "I'm fine!", "3 things."]
    assert sentences("e.g. this stays") == ["e.g. this stays"]


def _switch(n, p):
    s = np.full((n, 2, A.MAX_RUN), p)
    s[0] = 0.0
    return s


def test_decoder_smooths_a_weak_outlier_but_follows_strong_evidence():
    guest = [0.2, 0.8]
    emit = np.array([[0.9, 0.1]] + [guest] * 4 + [[0.55, 0.45]] + [guest] * 4 + [[0.95, 0.05]] * 3)
    path = A.viterbi(emit, _switch(len(emit), 0.1))
    assert path.tolist() == [0] + [1] * 9 + [0] * 3  # the 0.55 sentence stays with the guest
    post = A.posteriors(emit, _switch(len(emit), 0.1))
    assert np.allclose(post.sum(axis=1), 1)
    assert post[5, 1] > 0.5 and post[0, 0] > 0.5 and post[-1, 0] > 0.9
    assert post[5, 1] < post[3, 1]  # the doubtful sentence is less certain than its neighbours


def test_decoder_respects_forced_and_forbidden_switches():
    emit = np.full((4, 2), 0.5)
    s = np.zeros((4, 2, A.MAX_RUN))
    s[1:] = 1.0  # every boundary is a change of speaker (a two-person episode with marked turns)
    assert A.viterbi(emit, s).tolist() == [0, 1, 0, 1]  # first speaker: host (FIRST_IS_HOST)
    s[1:] = 0.0  # no boundary may switch (one turn): one role for all, the likelier one
    emit[2] = [0.1, 0.9]  # host 0.8 * 0.1 < guest 0.2 * 0.9
    assert A.viterbi(emit, s).tolist() == [1, 1, 1, 1]
    emit[2] = [0.3, 0.7]  # host 0.8 * 0.3 > guest 0.2 * 0.7
    assert A.viterbi(emit, s).tolist() == [0, 0, 0, 0]


HOST = ["What do you think about {}?", "How did you get into {}?", "Tell me more about {}, why does it matter to you?",
        "GUESTNAME, what is your take on {}?"]
GUEST = ["I think {} is really important for us.", "We spent years building {} at my company.",
         "So my view is that {} will keep getting better.", "Yeah, I learned a lot about {} early in my career.",
         "And our team uses {} every day."]
TOPICS = ["pricing", "agents", "hiring", "databases", "research", "open source", "startups", "infrastructure"]


def _dialogue(topics, episode_id):
    rows = []
    for k, t in enumerate(topics):
        rows += [{"text": HOST[k % len(HOST)].format(t), "role": "host"}]
        rows += [{"text": GUEST[(k + j) % len(GUEST)].format(t), "role": "guest"} for j in range(3)]
    df = pd.DataFrame(rows).assign(episode_id=episode_id, order=range(len(rows)), boundary="free", shape="unsegmented",
                                   n_hosts=1, weight=1.0)
    df["words"] = df["text"].str.split().str.len()
    return df


def test_fitted_model_finds_turn_changes_in_an_unseen_dialogue():
    model = A.fit(pd.concat([_dialogue(TOPICS[:6], "a"), _dialogue(TOPICS[2:], "b")], ignore_index=True))
    test = _dialogue(["compilers", "music", "evaluation"], "c")
    truth = test["role"].tolist()
    out = A.attribute_episode(model, test.assign(role=None))
    assert out["pred_role"].tolist() == truth
    assert out["confidence"].between(0.5, 1).all()
    hazard = model.hazard_of("unsegmented", 1)
    assert hazard.shape == (2, A.MAX_RUN) and (hazard > 0).all() and (hazard < 1).all()
    assert A.SpeakerModel.from_dict(model.to_dict()).p_host(test["text"]).tolist() == \
        model.p_host(test["text"]).tolist()  # the artifact's numbers are the model


def test_sentence_classifier_uses_role_cues_not_topic_words():
    model = A.fit(pd.concat([_dialogue(TOPICS[:6], "a"), _dialogue(TOPICS[2:], "b")], ignore_index=True))
    p = model.p_host(["What do you think about pricing?", "What do you think about compilers?",
                      "I think compilers is really important for us.", "GUESTNAME, how did you start?"])
    assert p[0] == pytest.approx(p[1])  # a topic word seen in training carries no weight
    assert p[1] > 0.5 > p[2]  # a question to "you" vs. a first-person statement, on an unseen topic
    assert p[3] > 0.5  # the guest addressed by name


def test_interviewer_moves_are_flagged_without_questions_or_names():
    texts = ["What I'm hearing is that the team reviews everything.", "I love that.",
             "One last question before we go.", "He said exactly that on this podcast.",
             "We shipped the model last week."]
    moves = A._sentence_features(texts)[:, -len(A._INTERVIEWING):]
    # summing up, praise, moving on, speaking of the show; an answer has none of them
    assert moves.tolist() == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]


def test_to_utterances_takes_word_weighted_majority():
    s = pd.DataFrame({"order": [0, 0, 1], "words": [10, 2, 5], "pred_role": ["guest", "host", "host"],
                      "confidence": [0.8, 0.6, 0.9]})
    out = A.to_utterances(s)
    assert out["pred_role"].tolist() == ["guest", "host"]
    assert out.loc[0, "confidence"] == pytest.approx(0.8 * 10 / 12)


def test_people_of_one_role_are_named_only_on_direct_evidence():
    ep = _episode(("Alessio Fanelli", "swyx"), ("Michelle Pokrass", "Ted Lowe"))
    utts = pd.DataFrame({"text": ["This is Alessio, with my co-host swyx.", "Alessio, you take this one.",
                                  "Thanks for having me.", "So what is structured output?", "It is JSON.",
                                  "Cool.", "Ted, do you agree?", "I'm Ted, and yes."],
                         "pred_role": ["host", "host", "guest", "host", "guest", "host", "guest", "guest"]})
    hosts = [(p.name if p else None, rule) for p, rule in A.name_people(utts, ep, "host")]
    # self-introduction; the other host addressed; nothing else says which host speaks
    assert hosts == [("Alessio Fanelli", "introduction"), ("swyx", "addressed")] + [(None, None)] * 6
    guests = [p.name if p else None for p, _ in A.name_people(utts, ep, "guest")]
    # a guest addressing the other guest is the first; a guest introducing himself is himself
    assert guests == [None] * 6 + ["Michelle Pokrass", "Ted Lowe"]
    solo = [(p.name, rule) for p, rule in A.name_people(utts, _episode(), "host") if p]
    assert solo == [("Lenny Rachitsky", "only")] * 4  # one host: every host utterance is his
    assert A.either_host(ep).name == "Alessio Fanelli / swyx" and A.either_host(ep).role == "host"


def test_stage_attributes_unlabelled_episodes(corpus_tables):
    u = corpus_tables["utterances"]
    lenny = u[(u["episode_id"] == "lenny-2026-02-12-sherwin-wu") & u["is_conversation"]]
    assert (lenny["speaker_source"] == "model").all()
    assert lenny["speaker_confidence"].between(0, 1).all()
    first = lenny[lenny["text"].str.startswith("Sherwin, thank you so much")]
    assert (first["speaker_role"] == "host").all()
    host = lenny.loc[lenny["speaker_role"] == "host", "word_count"].sum() / lenny["word_count"].sum()
    assert 0.05 < host < 0.4
    ls = u[(u["episode_id"] == "latent-space-2024-09-13-michelle-pokrass") & u["is_conversation"]]
    assert set(ls["speaker_id"]) == {"alessio-fanelli", "alessio-fanelli-swyx", "michelle-pokrass"}
    intro = ls[ls["text"].str.contains("This is Alessio")]
    assert intro["speaker"].tolist() == ["Alessio Fanelli"]  # he introduces himself
    labelled = u[u["episode_id"] == "20vc-2024-11-04-sam-altman"]
    assert (labelled["speaker_source"] != "model").all()  # file labels (checked by the reference) are kept


def test_leave_one_episode_out_accuracy(corpus_tables):
    from analysis.catalog import load_catalog
    from analysis.speakers.evaluation import evaluate_attribution

    episodes, _ = load_catalog()
    res = {(r["episode_id"], r["turn_marks"]): r for r in evaluate_attribution(corpus_tables["utterances"], episodes)}
    # every episode has a reference, so each is held out; those with turn marks also without them
    assert set(res) == {("lenny-2026-02-12-sherwin-wu", False), ("a16z-2025-11-28-sherwin-wu", False),
                        ("20vc-2024-11-04-sam-altman", True), ("20vc-2024-11-04-sam-altman", False),
                        ("latent-space-2024-09-13-michelle-pokrass", True),
                        ("latent-space-2024-09-13-michelle-pokrass", False)}
    lenny = res[("lenny-2026-02-12-sherwin-wu", False)]
    assert "lenny-2026-02-12-sherwin-wu" not in lenny["train_episodes"]
    assert len(lenny["train_episodes"]) == 3
    # guard the measured levels (README figures): decoding beats the classifier alone
    for key in [("lenny-2026-02-12-sherwin-wu", False), ("20vc-2024-11-04-sam-altman", True),
                ("latent-space-2024-09-13-michelle-pokrass", True)]:
        r = res[key]
        assert r["word_accuracy"] >= 0.85 and r["word_accuracy"] > r["classifier_only_word_accuracy"], key
    assert res[("20vc-2024-11-04-sam-altman", True)]["talk_share_error_words"] < 0.02
    # issue 9's target on the model-attributed episodes: expected host word share within 2 points
    # (met for Latent Space; Lenny's is test_lenny_expected_share_within_two_points, not met)
    r = res[("latent-space-2024-09-13-michelle-pokrass", True)]
    assert r["expected_share_error"] <= 0.02
    assert r["host_word_share_low"] <= r["host_word_share_true"] <= r["host_word_share_high"]
    # another sentence model plugs into the same evaluation; one that always says "guest"
    # gets every host word wrong, so its word accuracy is the guest's share of the words
    guest = {(r["episode_id"], r["turn_marks"]): r for r in evaluate_attribution(
        corpus_tables["utterances"], episodes, sentence_scorer=lambda m, tr, s, ep: np.full(len(s), 1e-9))}
    r = guest[("lenny-2026-02-12-sherwin-wu", False)]
    assert r["host_word_share_pred"] == 0 and r["word_accuracy"] == pytest.approx(1 - r["host_word_share_true"])


@pytest.mark.xfail(strict=True, reason="issue 19 target NOT met: the corpus-trained model gives Lenny's host 11.2% "
                   "of the words against 17.3% (docs/speakers.md); strict, so it fails once the target is met")
def test_lenny_expected_share_within_two_points(corpus_tables):
    from analysis.catalog import load_catalog
    from analysis.speakers.evaluation import evaluate_attribution

    episodes, _ = load_catalog()
    r = next(r for r in evaluate_attribution(corpus_tables["utterances"], episodes)
             if r["episode_id"] == "lenny-2026-02-12-sherwin-wu" and not r["turn_marks"])
    assert r["expected_share_error"] <= 0.02
    assert r["host_word_share_low"] <= r["host_word_share_true"] <= r["host_word_share_high"]


def test_flagged_speech_gets_a_speaker_by_rule_and_artefacts_stay_speakerless():
    ep = _episode()
    rows = [  # (text, flags, speaker_id, speaker, role, confidence)
        ("Models will eat your scaffolding for breakfast.", "cold_open", None, None, "unknown", None),
        ("What a time to be alive.", "cold_open", None, None, "unknown", None),
        ("This episode is brought to you by Acme, go to acme dot com slash pod.", "sponsor", None, None, "unknown", None),
        ("(upbeat music)", "nonspeech", None, None, "unknown", None),
        ("Yeah.", "hallucination_loop", None, None, "unknown", None),
        ("So what should builders do?", "", "lenny-rachitsky", "Lenny Rachitsky", "host", 0.9),
        ("I think the models will eat your scaffolding for breakfast, honestly.", "", "sherwin-wu", "Sherwin Wu", "guest", 0.8),
    ]
    utt = pd.DataFrame([{"episode_id": ep.id, "order": k, "text": t, "flags": f, "is_conversation": f == "",
                         "word_count": 0 if f == "nonspeech" else len(t.split()), "speaker_id": sid, "speaker": name,
                         "speaker_role": role, "speaker_source": "model" if sid else "none", "speaker_confidence": conf}
                        for k, (t, f, sid, name, role, conf) in enumerate(rows)])
    out = A.attribute_flagged(utt, [ep]).set_index("order")
    # the cold-open quote repeats the guest's later sentence, with a discounted confidence
    assert out.at[0, "speaker"] == "Sherwin Wu" and out.at[0, "speaker_source"] == A.RULE
    assert out.at[0, "speaker_confidence"] == pytest.approx(A.QUOTE_DISCOUNT * 0.8)
    # a cold-open sentence that repeats nothing takes the nearest quote's speaker, with low confidence
    assert out.at[1, "speaker"] == "Sherwin Wu" and out.at[1, "speaker_confidence"] == A.UNMATCHED_CONFIDENCE
    assert (out.at[2, "speaker"], out.at[2, "speaker_role"]) == ("Lenny Rachitsky", "host")
    assert out.at[2, "speaker_confidence"] == A.READ_CONFIDENCE
    for order in (3, 4):  # music and ASR loops are nobody's speech
        assert out.at[order, "speaker_id"] is None and out.at[order, "speaker_source"] == "none"
    assert out.loc[5:, "speaker_source"].eq("model").all()  # conversation untouched


def test_diarised_labels_map_to_one_person_each_and_extra_voices_stay_unresolved():
    ep = _episode(hosts=("Dana Reyes",), guests=("Priya Nair",))
    # decoded per utterance: SPEAKER_00 mostly host, SPEAKER_01 mostly guest (one slip each)
    rows = [("SPEAKER_00", "host", 0.9, 10), ("SPEAKER_01", "host", 0.6, 5), ("SPEAKER_00", "host", 0.8, 8),
            ("SPEAKER_01", "guest", 0.9, 40), ("SPEAKER_00", "guest", 0.55, 6), ("SPEAKER_01", "guest", 0.8, 30),
            ("SPEAKER_02", "guest", 0.9, 12)]
    utts = pd.DataFrame(rows, columns=["speaker_label", "pred_role", "confidence", "word_count"])
    out = A.assign_labels(utts, ep.hosts, ep.guests)
    assert out["SPEAKER_00"][0].name == "Dana Reyes" and out["SPEAKER_01"][0].name == "Priya Nair"
    assert out["SPEAKER_02"] == (None, 0.0)  # a third voice is neither host nor guest
    host_score = (0.9 * 10 + 0.8 * 8 + 0.45 * 6) / 24  # word-weighted mean P(host) of SPEAKER_00
    assert out["SPEAKER_00"][1] == pytest.approx(host_score)
    assert out["SPEAKER_01"][1] == pytest.approx(1 - (0.6 * 5 + 0.1 * 40 + 0.2 * 30) / 75)


def test_user_episode_with_diarised_labels_gets_consistent_speakers(tmp_path, monkeypatch):
    """A WhisperX episode added to a catalog: each SPEAKER_xx becomes one person end to end."""
    import shutil

    from analysis import config
    from analysis.corpus import build_corpus
    from tests.conftest import RAW, SAMPLES

    for name in ("20vc-2024-11-04-sam-altman.transcript.txt", "a16z-2025-11-28-sherwin-wu.transcript.txt"):
        shutil.copy(RAW / name, tmp_path / name)
    (tmp_path / "annotations").mkdir()  # the seeds' references under other ids: their models without them decode them
    for seed, new_id in (("20vc-2024-11-04-sam-altman", "twenty"), ("a16z-2025-11-28-sherwin-wu", "a16z")):
        shutil.copy(config.ANNOTATIONS / f"{seed}.speakers.tsv", tmp_path / "annotations" / f"{new_id}.speakers.tsv")
    monkeypatch.setattr(config, "ANNOTATIONS", tmp_path / "annotations")
    shutil.copy(SAMPLES / "formats" / "whisperx.json", tmp_path / "demo.json")
    (tmp_path / "episodes.yaml").write_text("""episodes:
  - {id: twenty, title: t, show: 20VC, published: 2024-11-04, hosts: [Harry Stebbings], guests: [Sam Altman],
     speaker_labels: {Unknown: Harry Stebbings}, files: [20vc-2024-11-04-sam-altman.transcript.txt]}
  - {id: a16z, title: t, show: a16z, published: 2025-11-28, hosts: [Martin Casado], guests: [Sherwin Wu],
     speaker_labels: {Erik Torenberg: Martin Casado}, files: [a16z-2025-11-28-sherwin-wu.transcript.txt]}
  - {id: demo, title: Bees in cities, show: Hive Mind, published: 2025-01-01, hosts: [Dana Reyes],
     guests: [Priya Nair], files: [demo.json]}
""")
    monkeypatch.setattr(config, "INTERIM", tmp_path / "interim")
    build = build_corpus(catalog=tmp_path / "episodes.yaml", out_dir=tmp_path / "out", progress=False)
    assert not build.errors
    demo = build.tables["utterances"].query("episode_id == 'demo'")
    per_label = demo.groupby("speaker_label")["speaker"].agg(lambda s: set(s.fillna("?")))
    assert per_label["SPEAKER_00"] == {"Dana Reyes"} and per_label["SPEAKER_01"] == {"Priya Nair"}
    assert per_label["SPEAKER_02"] == {"SPEAKER_02"}  # the sound engineer stays an unresolved label
    assert demo["time_source"].eq("file").all()
    speakers = build.tables["speakers"].query("episode_id == 'demo'")
    assert set(speakers["name"]) == {"Dana Reyes", "Priya Nair", "SPEAKER_02"}
    assert not speakers.set_index("name").at["SPEAKER_02", "resolved"]


def test_refusal_when_the_text_cannot_support_attribution():
    def conv(texts):
        return pd.DataFrame({"text": texts, "word_count": [len(t.split()) for t in texts]})

    captions = ["so i went through the whole budget document it's like six hundred pages and nobody read it"] * 20
    assert A.refusal_reason(conv(captions)).startswith("no sentence punctuation")
    assert A.refusal_reason(conv(["Hi there. How are you?"])).startswith("too little text")
    spoken = ["So I went through the whole budget. It's six hundred pages! Did anyone read it?"] * 20
    assert A.refusal_reason(conv(spoken)) is None


def test_the_committed_model_decodes_a_reference_episode_without_its_reference(tmp_path, monkeypatch):
    import hashlib
    import json

    from analysis import config

    fitted = A.fit(pd.concat([_dialogue(TOPICS[:6], "a"), _dialogue(TOPICS[2:], "b")], ignore_index=True)).to_dict()
    other = A.fit(_dialogue(TOPICS, "a")).to_dict()
    artifact = {"format": A.ARTIFACT_FORMAT, "features": A.feature_names(), "models": {
        "all": {"model": fitted, "without": None, "reference_sha256": None, "references": ["x", "y"]},
        "without:x": {"model": other, "without": "x", "reference_sha256": hashlib.sha256(b"ref x").hexdigest(),
                      "references": ["y"]}}}
    path = tmp_path / "speakers.model.json"
    path.write_text(json.dumps(artifact))
    monkeypatch.setattr(config, "SPEAKER_MODEL", path)
    assert A.episode_model("x", b"ref x, edited")[1] == "without:x"  # its own reference, in any version
    assert A.episode_model("renamed", b"ref x")[1] == "without:x"  # the same reference under another id
    model, name, version = A.episode_model("z")  # any other episode: the model of everything
    assert name == "all" and model.to_dict() == fitted
    assert version != A.episode_model("x")[2]
    monkeypatch.setattr(config, "SPEAKER_MODEL", tmp_path / "absent.json")
    assert A.episode_model("z") == (None, "none", "none")
    path.write_text(json.dumps({**artifact, "features": ["something else"]}))
    monkeypatch.setattr(config, "SPEAKER_MODEL", path)
    with pytest.raises(ValueError, match="speakers.model.json: made for other features"):
        A.episode_model("z")


def test_caption_pieces_carry_their_whole_sentence():
    ep = _episode()
    cues = ["So how did you", "start the company? I think we", "just got lucky. Right, and", "then it grew."]
    u = pd.DataFrame({"order": range(4), "text": cues, "word_count": [len(c.split()) for c in cues],
                      "is_conversation": True, "speaker_label": None, "speaker_role": "unknown",
                      "speaker_source": "none"})
    s = A.sentences(u, ep)
    assert set(s["shape"]) == {"captions"}
    assert s["text"].tolist() == (["So how did you start the company?"] * 2 + ["I think we just got lucky."] * 2
                                  + ["Right, and then it grew."] * 2)
    assert s["weight"].tolist() == pytest.approx([4 / 7, 3 / 7, 3 / 6, 3 / 6, 2 / 5, 3 / 5])
    assert s["boundary"].tolist() == ["free", "within"] * 3  # no change of speaker inside a sentence
    e = A.emissions(np.full(6, 0.8), s, 2.0)
    assert e[0, 0] * e[1, 0] == pytest.approx(0.8 ** 2)  # the sentence's evidence counts once


def test_posterior_draws_follow_the_decoders_posterior():
    rng = np.random.default_rng(0)
    emit = rng.uniform(0.05, 0.95, (30, 2))
    switch = rng.uniform(0, 0.5, (30, 2, A.MAX_RUN))
    switch[0], switch[10] = 0.0, 0.0  # a boundary where the speaker cannot change
    draws = A.sample_paths(emit, switch, 4000)
    assert np.abs((draws == 0).mean(axis=0) - A.posteriors(emit, switch)[:, 0]).max() < 0.03
    assert (draws[:, 10] == draws[:, 9]).all()
    assert (A.sample_paths(emit, switch, 50) == A.sample_paths(emit, switch, 50)).all()  # fixed seed


def _long_answers(turns, answer):
    """A one-question, ``answer``-sentence-answer interview (training dialogues answer in three)."""
    rows = []
    for k in range(turns):
        t = TOPICS[k % len(TOPICS)]
        rows.append({"text": HOST[k % len(HOST)].format(t), "role": "host"})
        rows += [{"text": GUEST[(k + j) % len(GUEST)].format(t), "role": "guest"} for j in range(answer)]
    df = pd.DataFrame(rows).assign(episode_id="c", order=range(len(rows)), boundary="free", shape="unsegmented",
                                   n_hosts=1, weight=1.0)
    df["words"] = df["text"].str.split().str.len()
    return df


def test_posterior_adapts_to_the_episodes_turn_taking_only_when_the_evidence_is_worth_it():
    model = A.fit(pd.concat([_dialogue(TOPICS[:6], "a"), _dialogue(TOPICS[2:], "b")], ignore_index=True))
    rng = np.random.default_rng(0)
    for turns, adapted in ((30, True), (3, False)):
        ep = _long_answers(turns, 8)  # answers far longer than the references' (three sentences)
        truth = (ep["role"] == "host").to_numpy()
        p_host = np.where(truth, 0.7, 0.4) + rng.uniform(-0.1, 0.1, len(ep))  # weak sentence evidence
        sents = ep.assign(role=None)
        offsets = A.turn_offsets(model, sents, A.emissions(p_host, sents, A.CONFIDENCE_POWER))
        if not adapted:  # 27 sentences: the likelihood gain does not pay the BIC penalty
            assert offsets == (0.0, 0.0)
            continue
        host_off, guest_off = offsets
        assert guest_off < 0 < host_off  # guests answer longer, hosts hand over sooner than in the references
        w = ep["words"].to_numpy()
        share = {o: (A.posteriors(A.emissions(p_host, sents, A.CONFIDENCE_POWER),
                                  A.switch_probabilities(model, sents, 1, o))[:, 0] * w).sum() / w.sum()
                 for o in ((0.0, 0.0), offsets)}
        true = (truth * w).sum() / w.sum()
        assert abs(share[offsets] - true) < abs(share[(0.0, 0.0)] - true)  # the expected host share moves toward the truth
        assert np.array_equal(A.turn_model(model, sents, p_host)[1], A.switch_probabilities(model, sents, 1, offsets))
    marked = _long_answers(30, 8)
    marked = marked.assign(role=None, boundary=np.where(marked["role"] != marked["role"].shift(), "turn", "within"))
    assert A.turn_offsets(model, marked, np.full((len(marked), 2), 0.5)) == (0.0, 0.0)  # no free boundary: nothing to learn


def test_turn_marks_are_read_as_turns_only_where_the_episodes_text_says_so():
    model = A.fit(pd.concat([_dialogue(TOPICS[:6], "a"), _dialogue(TOPICS[2:], "b")], ignore_index=True))
    model.mark_switch = {1: 0.4, 2: 0.4}  # learned where a turn spans several paragraph marks
    rng = np.random.default_rng(1)
    for turns, dashes in ((30, True), (30, False)):
        ep = _long_answers(turns, 3)
        truth = (ep["role"] == "host").to_numpy()
        change = ep["role"] != ep["role"].shift()
        # a dash per turn (every mark a change of speaker), or a mark per sentence (a change at one in two)
        sents = ep.assign(role=None, boundary=np.where(change | (not dashes), "mark", "within"))
        sents.loc[0, "boundary"] = "free"
        p_host = np.where(truth, 0.97, 0.03) + rng.uniform(-0.02, 0.02, len(ep))  # clear sentence evidence
        rate = A.mark_rate(model, sents, A.emissions(p_host, sents, A.CONFIDENCE_POWER))
        assert rate == (A.TURN_SWITCH[1] if dashes else 0.4), dashes
        best, _, fitted = A.turn_model(model, sents, p_host)
        assert fitted["mark_switch"] == rate and np.allclose(best[1:][sents["boundary"][1:] == "mark"], rate)
    one = sents.assign(boundary=["free"] + ["within"] * (len(sents) - 1))  # no marks: nothing to read
    assert A.mark_rate(model, one, A.emissions(p_host, one, A.CONFIDENCE_POWER)) == 0.4
