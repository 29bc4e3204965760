"""Search: time formatting, reciprocal-rank fusion and filters on a tiny corpus, (slow) search
by meaning with the real model, and the hand-written query file."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import config
from analysis.search import (
    SearchIndex,
    build_index,
    clock,
    format_results,
    index_passages,
    load_queries,
    search,
)
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
    """A maintainer's own archive has no data/annotations/search.queries.yaml: the index stage writes
    empty query tables, and notebook 04 and the site say search was not measured instead of failing."""
    from analysis.search import query_tables, recall_note

    monkeypatch.setattr(config, "ANNOTATIONS", tmp_path)
    assert load_queries(missing_ok=True) == []
    with pytest.raises(FileNotFoundError):
        load_queries()
    tables = query_tables(_fake_index(), [], vectors=np.zeros((0, 4), dtype=np.float32))
    assert all(df.empty for df in tables.values()) and set(tables) == {"search_queries", "search_results"}
    note = recall_note(tables["search_queries"])
    assert note.startswith("**Search was not measured on this corpus**") and "search.queries.yaml" in note


def test_query_tables_hold_each_querys_recall_and_top_results():
    from analysis.search import EXAMPLE_K, query_tables, recall_at

    index = _fake_index()
    queries = [{"query": "price per token", "relevant": ["ep-a@1.0", "elsewhere@3.0"]},
               {"query": "hiking", "relevant": ["ep-b@1.0"], "episode": "ep-b"}]
    vectors = np.array([[0, 1, 0, 0], [0, 0, 1, 0]], dtype=np.float32)
    tables = query_tables(index, queries, vectors=vectors)
    per_query, results = tables["search_queries"], tables["search_results"]
    expected = recall_at(index, queries, EXAMPLE_K, vectors)[0]
    cols = ["query", "relevant", "found", "recall", "missing_keys"]
    assert per_query[cols].astype(object).values.tolist() == expected[cols].astype(object).values.tolist()
    assert per_query["recall"].tolist() == [0.5, 1.0] and per_query["missing_keys"].tolist() == [1, 0]
    assert per_query["episode"].tolist()[1] == "ep-b" and per_query["first_hit_rank"].tolist() == [1, 1]
    first = results[results["query_id"] == 0]
    assert first["passage_key"].tolist() == search(index, "price per token", top=EXAMPLE_K,
                                                   query_vector=vectors[0])["passage_key"].tolist()
    assert first["relevant"].tolist() == [k == "ep-a@1.0" for k in first["passage_key"]]
    assert set(results.loc[results["query_id"] == 1, "episode_id"]) == {"ep-b"}  # the query's filter holds


def _seed_passages(corpus_tables) -> pd.DataFrame:
    from analysis.themes.tagging import passage_keys

    passages = make_passages(corpus_tables["utterances"], corpus_tables["episodes"])
    return passages.assign(passage_key=passage_keys(passages))


def _probe_queries(passages: pd.DataFrame) -> list[str]:
    """The hand-written queries, and words cut from passages (repeated words, stop words, pairs)."""
    rng = np.random.default_rng(0)
    words = [t.split() for t in passages["text"].sample(40, random_state=0)]
    cuts = [" ".join(w[i:i + n]) for w in words for i, n in [(int(rng.integers(0, max(1, len(w) - 12))), 12)]]
    return [q["query"] for q in load_queries()] + cuts + ["the the and of", "", "Pricing pricing PRICING per token",
                                                          "zzzz qqqq"]


def test_keyword_scores_are_sklearns_bit_for_bit(corpus_tables):
    """KeywordIndex scores a query without sklearn or scipy; on the seed passages it gives exactly
    what the fitted TfidfVectorizer and scipy's product give."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from analysis.search import KeywordIndex

    passages = _seed_passages(corpus_tables)
    vec = TfidfVectorizer(stop_words="english", sublinear_tf=True, ngram_range=(1, 2), min_df=1)
    tfidf = vec.fit_transform(passages["text"])
    keywords = KeywordIndex.fit(passages["text"].tolist())
    for q in _probe_queries(passages):
        expected = (tfidf @ vec.transform([q]).T).toarray().ravel()
        assert np.array_equal(keywords.scores(q), expected), q
    assert KeywordIndex.fit([]).scores("anything").shape == (0,)
    assert not KeywordIndex.fit(["the and of", "it is"]).scores("the").any()  # only stop words: nothing matches


def test_a_stored_index_gives_the_same_results_and_a_stale_one_is_not_read(corpus_tables, tmp_path):
    from analysis.search import load_index, save_index

    passages = _seed_passages(corpus_tables).drop(columns="passage_key")
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(len(passages), 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = index_passages(passages, vectors, corpus_tables["episodes"])
    save_index(index, "key-1", tmp_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "PROCESSED", tmp_path)
        corpus_tables["episodes"].to_parquet(tmp_path / "episodes.parquet")
        stored = load_index(tmp_path, key="key-1")
        assert load_index(tmp_path, key="key-2") is None and load_index(tmp_path / "none", key="key-1") is None
    def same(a: pd.DataFrame, b: pd.DataFrame) -> None:  # values, not storage types (parquet reads strings back)
        assert a.astype(object).where(a.notna(), None).values.tolist() == b.astype(object).where(b.notna(), None).values.tolist()

    for k, q in enumerate(_probe_queries(passages)[:30]):
        same(search(stored, q, top=10, query_vector=vectors[k]), search(index, q, top=10, query_vector=vectors[k]))
    filtered = {"speaker": "sherwin", "episode": "lenny", "top": 5, "query_vector": vectors[0]}
    same(search(stored, "API", **filtered), search(index, "API", **filtered))


@pytest.mark.slow
def test_the_numpy_query_encoder_matches_the_model_and_search_returns_the_same(corpus_tables):
    """Queries embedded by analysis.query_encoder (no torch) are within 1e-6 of the model's
    vectors, and every hand-written query gets the same results, rank for rank, as with the
    model's vector (what `search` returned before the numpy encoder)."""
    from analysis.embeddings import embed
    from analysis.query_encoder import NumpyBert, embed_query, query_encoder

    assert isinstance(query_encoder(), NumpyBert)  # the default model is covered
    passages = _seed_passages(corpus_tables)
    texts = _probe_queries(passages)[:40] + passages["text"].sample(60, random_state=0).tolist()
    texts.append(" ".join(passages["text"].iloc[:8]))  # longer than the model's 256 tokens: cut as the model cuts
    model = embed(texts, use_cache=False)
    mine = np.vstack([embed_query(t) for t in texts])
    assert np.abs(model - mine).max() < 1e-6
    index = index_passages(passages.drop(columns="passage_key"), embed(passages["text"].tolist()),
                           corpus_tables["episodes"])
    for q in load_queries():
        before = search(index, q["query"], q.get("speaker"), q.get("episode"), top=10,
                        query_vector=embed([q["query"]], use_cache=False)[0])
        now = search(index, q["query"], q.get("speaker"), q.get("episode"), top=10)
        assert now["passage_key"].tolist() == before["passage_key"].tolist(), q["query"]
        assert now["keyword"].equals(before["keyword"])
        assert np.allclose(now["semantic"], before["semantic"], atol=1e-6)


HEAVY = ("torch", "sentence_transformers", "transformers", "sklearn", "scipy", "plotly", "bertopic", "umap",
         "spacy", "hdbscan")


def test_the_search_command_reads_the_stored_index_without_heavy_imports(corpus_tables, tmp_path):
    """`search` with no query answers each line of standard input from the stored index; it imports
    no model library (the query is embedded in numpy), nor plotly, sklearn or scipy."""
    import os
    import subprocess
    import sys

    from analysis.search import save_index, source_key

    passages = _seed_passages(corpus_tables).drop(columns="passage_key")
    passages.to_parquet(tmp_path / "topic_passages.parquet")
    corpus_tables["episodes"].to_parquet(tmp_path / "episodes.parquet")
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(len(passages), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "PROCESSED", tmp_path)
        index = index_passages(passages, vectors, corpus_tables["episodes"])
        save_index(index, source_key(), tmp_path / "search_index")
    code = ("import sys; from analysis.__main__ import main; rc = main(['search', '--top', '2']); "
            f"print('HEAVY', sorted({{m.split('.')[0] for m in sys.modules}} & set({list(HEAVY)!r}))); sys.exit(rc)")
    run = subprocess.run([sys.executable, "-c", code], input="structured outputs and JSON\n\nfine-tuning a model\n",
                         capture_output=True, text=True, env={**os.environ, "PODLENS_PROCESSED": str(tmp_path)},
                         cwd=config.ROOT, check=False)
    assert run.returncode == 0, run.stderr
    assert "HEAVY []" in run.stdout and "building it now" not in run.stderr
    expected = "".join(format_results(search(index, q, top=2)) + "\n\n"
                       for q in ("structured outputs and JSON", "fine-tuning a model"))  # the blank line is skipped
    assert run.stdout == expected + "HEAVY []\n"
