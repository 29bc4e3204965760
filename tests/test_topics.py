"""Topic model: passages, vectorizer filtering, evaluation metrics, table schemas, and (slow)
determinism and the fit/reload cache."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.quotes import deep_link
from analysis.topics import coherence as co
from analysis.topics import evaluate as ev
from analysis.topics import model as tm
from analysis.topics.passages import MAX_WORDS, PASSAGES, make_passages
from analysis.topics.tables import OUTPUTS, build_tables


def _utterances(rows: list[tuple[str, str | None, str, float | None]]) -> pd.DataFrame:
    """(episode_id, speaker or None, text, start_s or None) -> a minimal utterances table."""
    df = pd.DataFrame(rows, columns=["episode_id", "speaker", "text", "start_s"])
    df["order"] = df.groupby("episode_id").cumcount()
    df["speaker_id"] = df["speaker"].str.lower()
    df["speaker_role"] = np.where(df["speaker"].isna(), "unknown", "guest")
    df["end_s"] = df["start_s"] + 10
    df["time_source"] = np.where(df["start_s"].isna(), "none", "file")
    df["word_count"] = df["text"].str.split().str.len()
    df["is_conversation"] = True
    return df


def _sentence(k: int, n: int = 10) -> str:
    return " ".join(f"w{k}x{i}" for i in range(n - 1)) + " end."


EPISODES = pd.DataFrame({"episode_id": ["sent", "turns"], "transcript_format": ["plain_text", "dash_turns"],
                         "published": pd.to_datetime(["2024-01-01", "2024-02-01"]),
                         "video_id": ["VID", None]})


def test_passages_window_sentences_and_keep_turns_apart():
    rows = [("sent", None, _sentence(k), None) for k in range(30)]  # 300 words of sentences
    rows += [("turns", None, _sentence(k, 20) + " " + _sentence(k + 1, 20), None) for k in range(3)]
    rows += [("turns", None, "Yeah, exactly.", None)]  # too short to be a passage
    p = make_passages(_utterances(rows), EPISODES)
    sent, turns = p[p["episode_id"] == "sent"], p[p["episode_id"] == "turns"]
    assert sent["word_count"].sum() == 300 and sent["word_count"].between(40, MAX_WORDS).all()
    assert sent["text"].str.endswith("end.").all()  # cut at sentence ends
    assert len(turns) == 3 and (turns["first_order"] == turns["last_order"]).all()  # one turn each
    assert p["position"].between(0, 1).all() and sent["position"].is_monotonic_increasing
    assert list(sent["index"]) == list(range(len(sent)))
    pd.testing.assert_frame_equal(p, make_passages(_utterances(rows), EPISODES))  # deterministic
    PASSAGES.conform(p)


def test_passages_break_at_speaker_changes_and_interpolate_times():
    rows = [("sent", "Ann", _sentence(0, 30), 0.0), ("sent", "Ann", _sentence(1, 30), 10.0),
            ("sent", "Bob", _sentence(2, 30), 20.0)]
    p = make_passages(_utterances(rows), EPISODES)
    assert list(p["speaker"]) == ["Ann", "Bob"]
    assert p["start_s"].tolist() == [0.0, 20.0] and p["end_s"].tolist() == [20.0, 30.0]
    long = make_passages(_utterances([("sent", "Ann", " ".join(["word"] * 300), 0.0)]), EPISODES)
    assert long["word_count"].max() <= MAX_WORDS  # a run-on "sentence" is still cut
    assert long["start_s"].iloc[1] == pytest.approx(10 * long["word_count"].iloc[0] / 300)


def test_vectorizer_drops_fillers_and_keeps_bigrams():
    terms = tm.analyze("Uh, I think, like, fine-tuning and function calling are, you know, kind of "
                       "gonna matter. We don't know OpenAI's plans, yeah.")
    assert {"fine tuning", "function calling", "openai", "plans", "matter"} <= set(terms)
    assert not set(terms) & {"uh", "think", "like", "know", "kind", "gonna", "yeah", "don", "t", "s"}
    assert "calling matter" not in terms  # words with a filler between them do not form a bigram
    vocab = tm.make_vectorizer().fit(["uh like yeah structured outputs", "json mode um"]).vocabulary_
    assert set(vocab) == {"structured", "outputs", "structured outputs", "json", "mode", "json mode"}


def test_label_skips_repeated_words():
    assert tm.label(["models", "model", "fine tuning", "tuning api", "evals"]) == "models, fine tuning, evals"
    assert tm.label(["function", "calling", "json", "schema"], {"function calling"}) == "function calling, json, schema"
    assert tm.label(["json", "function", "api", "schema", "calling"], {"function calling"}) == "json, function, api"


def test_npmi_matches_hand_computation():
    docs = [{"a", "b"}, {"a", "b"}, {"a"}, {"c"}]
    # p(a)=3/4, p(b)=1/2, p(a,b)=1/2: log((1/2)/(3/8)) / -log(1/2) = log2(4/3)
    expected_ab = math.log2(4 / 3)
    mean, per_topic = co.npmi([["a", "b"], ["a", "c"]], docs)
    assert per_topic == pytest.approx([expected_ab, -1.0])  # a and c never co-occur
    assert mean == pytest.approx((expected_ab - 1) / 2)
    assert co.npmi_pair(0.5, 0.5, 0.5) == pytest.approx(1.0)  # always together
    assert co.npmi_pair(0.5, 0.5, 0.25) == pytest.approx(0.0)  # independent
    assert co.npmi([["a", "zzz"]], docs)[0] == -1.0  # unseen word


def test_coherent_keywords_prefer_words_that_co_occur():
    from types import SimpleNamespace

    from analysis.topics.keywords import CoherentKeywords

    docs = ["json schema", "json schema", "json schema", "json banana", "banana", "banana split"]
    vec = tm.make_vectorizer().fit(docs)
    model = SimpleNamespace(vectorizer_model=vec)
    cands = {0: [("json", 0.9), ("banana", 0.8), ("schema", 0.7), ("", 0.0)]}
    out = CoherentKeywords(n_words=3).extract_topics(model, pd.DataFrame({"Document": docs}), None, cands)
    assert [w for w, _ in out[0]] == ["json", "schema", "banana"]  # schema co-occurs with json


def test_diversity_and_stability():
    assert co.diversity([["a", "b"], ["b", "c"]]) == 0.75
    assert co.diversity([["a", "b"], ["c", "d"]]) == 1.0
    s = ev.stability(np.array([0, 0, 1, 1]), np.array([1, 1, 0, 0]))  # same partition, other ids
    assert s == {"ari": 1.0, "identical_share": 0.0}
    assert ev.filler_labels(["json mode, api", "like_yeah_think_know"]) == ["like_yeah_think_know"]


def test_tables_match_their_schemas():
    rows = [("sent", "Ann", _sentence(k, 40), 60.0 * k) for k in range(6)]
    rows += [("turns", None, _sentence(k, 40), None) for k in range(6)]
    passages = make_passages(_utterances(rows), EPISODES)
    n = len(passages)
    topics = np.array([0, 1, -1] * (n // 3) + [0] * (n % 3))
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(n, 8)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    probs = rng.uniform(size=(n, 2))
    words = {0: ["json mode", "api"], 1: ["codex", "code review"]}
    out = build_tables(passages, EPISODES, words, {0: "json mode", 1: "codex"}, topics, topics, probs, emb)
    for name, table in OUTPUTS.items():
        assert list(out[name].columns) == table.column_names
        table.conform(out[name])
    top = out["topics"]
    assert top["topic_id"].iloc[-1] == -1 and top["passages"].sum() == n
    assert top["passages"].iloc[:-1].is_monotonic_decreasing
    quote = top.iloc[0]
    assert quote["quote_passage_id"] in set(passages["passage_id"])
    if quote["quote_episode_id"] == "sent":
        assert quote["quote_url"] == deep_link("VID", quote["quote_start_s"])
    shares = out["topics_per_episode"].groupby("episode_id")["share"].sum()
    assert np.allclose(shares, 1.0)
    assert set(out["topics_over_time"]["episode_id"]) == {"sent"}  # only timed passages
    assert deep_link("VID", 61.7) == "https://www.youtube.com/watch?v=VID&t=61s"
    assert deep_link(None, 3.0) is None and deep_link("VID", np.nan) is None


@pytest.fixture(scope="module")
def small_corpus(corpus_tables, tmp_path_factory, monkeypatch_module):
    """Two seed episodes, with the caches and outputs in a temporary directory."""
    root = tmp_path_factory.mktemp("topics")
    monkeypatch_module.setattr(config, "CACHE", root / "cache")
    monkeypatch_module.setattr(config, "PROCESSED", root / "processed")
    keep = ["a16z-2025-11-28-sherwin-wu", "20vc-2024-11-04-sam-altman"]
    return {name: df[df["episode_id"].isin(keep)] if "episode_id" in df else df
            for name, df in corpus_tables.items()}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.mark.slow
def test_fit_is_deterministic_and_reloads_without_refitting(small_corpus):
    from analysis.embeddings import load_model
    from analysis.topics.pipeline import run

    first = run(progress=False, tables=small_corpus)
    assert first.refitted and len(first.passages) > 150
    again = tm.fit(first.passages["text"].tolist(), first.embeddings, load_model())
    np.testing.assert_array_equal(first.fit.topics, again.topics)
    assert first.fit.words == again.words and first.fit.labels == again.labels
    second = run(progress=False, tables=small_corpus)
    assert not second.refitted and "fit_s" not in second.timings
    for name in OUTPUTS:
        pd.testing.assert_frame_equal(first.tables[name], second.tables[name])
    assert (config.PROCESSED / "topics.parquet").exists()
    labels = first.tables["topics"].query("topic_id >= 0")["label"].head(10).tolist()
    assert not ev.filler_labels(labels)


def test_figures_say_labels_are_model_made():
    import plotly.graph_objects as go

    from analysis.figures import topics as figs

    rows = [("sent", "Ann", _sentence(k, 40), 60.0 * k) for k in range(6)]
    passages = make_passages(_utterances(rows), EPISODES)
    topics = np.array([0, 1] * len(passages))[: len(passages)]
    emb = np.eye(len(passages), 4, dtype=np.float32) + 0.1
    out = build_tables(passages, EPISODES, {0: ["a"], 1: ["b"]}, {0: "a", 1: "b"}, topics, topics, None, emb)
    built = [figs.topic_overview(out["topics"]),
             figs.topics_per_episode(out["topics_per_episode"], out["topics"]),
             figs.topics_per_speaker(out["topics_per_speaker"], min_words=0),
             figs.topic_timeline(out["topics_over_time"], "sent", out["topics"]),
             figs.topic_timeline(out["topics_over_time"], "turns", out["topics"])]
    for fig in built:
        assert isinstance(fig, go.Figure) and figs.MODEL_MADE in fig.layout.title.text


@pytest.mark.slow
def test_embeddings_do_not_depend_on_what_was_cached_before(tmp_path, monkeypatch):
    """A vector is the same whether its text was encoded alone, with others, or earlier into
    the cache: otherwise a corpus rebuilt after adding an episode would get other topics."""
    from analysis.embeddings import embed, equal_length_batches

    monkeypatch.setattr(config, "CACHE", tmp_path)
    texts = ["We shipped structured outputs in the API last year, and developers started using them right away.",
             "Fine tuning with reinforcement learning works when the grader is good and the tasks are narrow enough.",
             "Codex reviews every pull request we open, which changed how the team works day to day.", "Yeah.",
             "We shipped structured outputs in the app last year, and developers started using them right away.",
             "We shipped structured outputs in the API.", "We shipped structured outputs in the app."]
    batches = equal_length_batches(texts)
    # texts of one token length share a batch (20 tokens: 0, 2, 4); short ones (10 tokens) go alone
    assert sorted(map(sorted, batches)) == [[0, 2, 4], [1], [3], [5], [6]]
    embed(texts[2:5])  # an earlier run cached three of them, two encoded together
    incremental = embed(texts)
    from_scratch = embed(texts, use_cache=False)
    alone = np.vstack([embed([t], use_cache=False) for t in texts])
    np.testing.assert_array_equal(incremental, from_scratch)
    np.testing.assert_array_equal(from_scratch, alone)


@pytest.mark.slow
def test_batched_seed_passages_equal_passages_encoded_alone(corpus_tables, monkeypatch):
    """Bit for bit, on 160 real passages in batches of up to 64 texts of one token length."""
    from analysis.embeddings import embed, equal_length_batches

    texts = make_passages(corpus_tables["utterances"], corpus_tables["episodes"])["text"].head(160).tolist()
    monkeypatch.setattr(config, "EMBEDDING_BATCH_SIZE", 64)
    assert max(len(b) for b in equal_length_batches(texts)) >= 3
    batched = embed(texts, use_cache=False)
    alone = np.vstack([embed([t], use_cache=False) for t in texts])
    np.testing.assert_array_equal(batched, alone)


def test_fit_sample_is_deterministic_and_ignores_passage_order():
    docs = [f"passage number {k} about topic {k % 7}" for k in range(300)]
    rows = tm.fit_sample(docs, 100, seed=42)
    assert len(rows) == 100 and list(rows) == sorted(set(rows))
    assert tm.fit_sample(docs, 300, seed=42) is None and tm.fit_sample(docs, 0, seed=42) is None
    shuffled = docs[::-1]
    assert {docs[i] for i in rows} == {shuffled[i] for i in tm.fit_sample(shuffled, 100, seed=42)}
    more = docs + [f"a new episode's passage {k}" for k in range(30)]  # adding passages swaps only a few in
    assert len({docs[i] for i in rows} & {more[i] for i in tm.fit_sample(more, 100, seed=42)}) >= 80
    assert {docs[i] for i in rows} != {docs[i] for i in tm.fit_sample(docs, 100, seed=43)}


@pytest.mark.slow
def test_fit_on_a_sample_assigns_every_passage(small_corpus, monkeypatch):
    """Above TOPIC_FIT_SAMPLE passages the model is fitted on a sample and assigns the rest,
    deterministically; the evaluation reports reassigned outliers and the largest topic."""
    from analysis.embeddings import load_model
    from analysis.topics.pipeline import run

    result = run(progress=False, write=False, tables=small_corpus)
    docs, emb = result.passages["text"].tolist(), result.embeddings
    monkeypatch.setattr(config, "TOPIC_FIT_SAMPLE", 120)
    first = tm.fit(docs, emb, load_model())
    again = tm.fit(docs, emb, load_model())
    np.testing.assert_array_equal(first.topics, again.topics)
    assert len(first.topics) == len(docs) > 120 and first.probabilities.shape[0] == len(docs)
    assert set(first.topics) - {-1} == set(first.words)  # every assigned topic has keywords
    sampled = tm.fit_sample(docs, 120, config.SEED)
    rest = np.setdiff1d(np.arange(len(docs)), sampled)
    assert (first.raw_topics[rest] >= 0).any()  # passages outside the sample were assigned by the model
    s = ev.scores(first, docs, tm.make_vectorizer().build_analyzer())
    assert s["reassigned_share"] == pytest.approx(np.mean((first.raw_topics == -1) & (first.topics != -1)))
    assert 0 < s["largest_topic_share"] <= 1 and s["outlier_share"] + s["reassigned_share"] <= 1


def test_evaluation_is_reused_for_the_same_model_version(tmp_path, monkeypatch):
    """evaluate-topics fits nothing (and reads nothing) when its report belongs to the stored
    model version: passages added since are assigned, not refitted, so nothing is evaluated."""
    from analysis.topics import pipeline

    monkeypatch.setattr(config, "CACHE", tmp_path)
    (tmp_path / pipeline.MODEL_DIR).mkdir()
    (tmp_path / pipeline.MODEL_DIR / "key.txt").write_text("v1")
    monkeypatch.setattr(pipeline, "run", lambda **kw: pytest.fail("read the passages for an evaluated model"))
    monkeypatch.setattr(tm, "fit", lambda *a, **kw: pytest.fail("refitted an evaluated model"))
    previous = {"model_key": "v1", "passages": 2}
    assert ev.evaluate(progress=False, previous=previous) is previous
    (tmp_path / pipeline.MODEL_DIR / "key.txt").write_text("v2")  # a new model: evaluated again
    passages = pd.DataFrame({"passage_id": ["e/0", "e/1"], "text": ["one passage", "another passage"]})
    monkeypatch.setattr(pipeline, "run", lambda **kw: pipeline.TopicRun(passages, np.zeros((2, 4)), None, {}, True,
                                                                         version="v2"))
    with pytest.raises(pytest.fail.Exception, match="refitted"):
        ev.evaluate(progress=False, previous=previous)



def test_a_passages_similarity_does_not_depend_on_how_many_share_its_topic():
    """Similarity to the (fixed) centroid is the same bits whether a topic holds 7 passages or
    300: a matrix product would round by the row count, and an added episode would move the
    similarities of every other episode's passages in its topics."""
    from analysis.topics.tables import assignments

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    centroids = {0: vectors[:50].mean(axis=0)}
    passages = pd.DataFrame({"passage_id": [f"e/{i}" for i in range(300)], "episode_id": "e"})
    topics = np.zeros(300, dtype=int)
    every = assignments(passages, topics, topics, None, vectors, centroids)
    few = assignments(passages.head(7), topics[:7], topics[:7], None, vectors[:7], centroids)
    assert every["similarity"].head(7).tolist() == few["similarity"].tolist()
