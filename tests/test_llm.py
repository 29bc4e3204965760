"""OpenAI enrichment against a local server that speaks the chat-completions API (fake_openai),
so the real ``openai`` client sends real HTTP requests: success, malformed responses, retries,
a server that keeps failing, the cache, the budget, dry runs, and the key never written."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT
from fake_openai import FakeOpenAI

from analysis.io import write_table
from analysis.llm import labels, load_enrichments, summaries, turns
from analysis.llm.client import LLMClient
from analysis.llm.pipeline import enrich
from analysis.llm.runner import Runner
from analysis.llm.settings import Settings, mode
from analysis.llm.tables import TABLES
from analysis.topics.passages import PASSAGES, make_passages
from analysis.topics.tables import ASSIGNMENTS, TOPICS

KEY = "sk-test-podlens-0123456789abcdefSECRET"


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def settings(tmp_path, server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return Settings.from_config(base_url=server.base_url, model="test-model", backoff_s=0.5, max_retries=2,
                                cache_dir=tmp_path / "cache", enrichments_dir=tmp_path / "enrichments",
                                timeout_s=10)


def runner_for(settings, waits=None, **kw) -> Runner:
    client = LLMClient(settings, sleep=(waits.append if waits is not None else lambda s: None))
    return Runner(settings, "send", client=client, **kw)


@pytest.fixture(scope="session")
def processed(corpus_tables, tmp_path_factory):
    """The seed corpus plus two keyword topics over its real passages, as data/processed holds them."""
    from analysis.corpus import TABLES as CORPUS

    out = tmp_path_factory.mktemp("processed_llm")
    for name, table in CORPUS.items():
        write_table(corpus_tables[name], table, out / f"{name}.parquet")
    passages = make_passages(corpus_tables["utterances"], corpus_tables["episodes"])
    text = passages["text"].str.lower()
    topic = np.where(text.str.contains("structured output"), 0, np.where(text.str.contains("codex"), 1, -1))
    assign = pd.DataFrame({"passage_id": passages["passage_id"], "episode_id": passages["episode_id"],
                           "topic_id": topic, "clustered_topic_id": topic, "probability": np.nan,
                           "similarity": np.where(topic >= 0, 0.5, np.nan)})
    assign["rank_in_topic"] = assign[assign["topic_id"] >= 0].groupby("topic_id").cumcount() + 1
    assign["assigned_by"], assign["model_version"] = "fit", "keywords"
    topics = pd.DataFrame({"topic_id": [0, 1], "label": ["structured, outputs, json", "codex, engineers, agents"],
                           "keywords": ["structured;outputs;json", "codex;engineers;agents"],
                           "passages": [int((topic == 0).sum()), int((topic == 1).sum())], "words": [1, 1],
                           "share": [0.1, 0.1], "episodes": [1, 1], "model_version": "keywords"})
    for c in TOPICS.column_names:
        if c not in topics:
            topics[c] = None
    write_table(passages, PASSAGES, out / "topic_passages.parquet")
    write_table(assign, ASSIGNMENTS, out / "topic_assignments.parquet")
    write_table(topics, TOPICS, out / "topics.parquet")
    return out


def _files_text(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file())


# --- one request ---------------------------------------------------------------------------------

def _label_request():
    topics = pd.DataFrame({"topic_id": [3], "keywords": ["assistants api;successful;bet"],
                           "label": ["assistants api, successful, bet"]})
    assign = pd.DataFrame({"passage_id": ["e/0"], "topic_id": [3], "rank_in_topic": [1]})
    passages = pd.DataFrame({"passage_id": ["e/0"], "text": ["We bet on the Assistants API and it worked out."]})
    return labels.requests(topics, assign, passages)[0][1]


def test_success_sends_structured_outputs_and_caches(settings, server):
    run = runner_for(settings)
    answer = run.answer(_label_request())
    assert answer.response["label"] == "Assistants Api And Successful And Bet" and answer.model == "test-model"
    (req,) = server.requests
    body = req["body"]
    assert req["path"] == "/v1/chat/completions" and req["headers"]["Authorization"] == f"Bearer {KEY}"
    assert body["model"] == "test-model" and body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert "assistants api" in body["messages"][1]["content"]
    assert run.client.usage.requests == 1 and run.client.usage.prompt_tokens > 0
    entries = list(settings.cache_dir.rglob("*.json"))
    assert len(entries) == 1 and "topic_label/v1" in entries[0].as_posix()
    assert json.loads(entries[0].read_text())["response"] == answer.response


@pytest.mark.parametrize("content, error", [
    ("this is not json", "is not JSON"),
    (json.dumps({"label": 3, "description": "x"}), "does not match its schema at label"),
    (json.dumps({"label": "Assistants"}), "'description' is a required property"),
    (json.dumps({"label": "a label with far too many words to be a heading at all", "description": "x"}),
     "label has 13 words"),
])
def test_malformed_response_is_a_clear_error_and_nothing_is_cached(settings, server, content, error):
    server.script = [content]
    run = runner_for(settings)
    assert run.answer(_label_request()) is None
    (item, reason), = run.missing
    assert item == "topic 3" and error in reason, reason
    assert not list(settings.cache_dir.rglob("*.json"))
    assert run.answer(_label_request()) is not None  # the next (valid) answer is taken and cached
    assert len(list(settings.cache_dir.rglob("*.json"))) == 1


def test_rate_limit_then_success_is_retried_with_backoff(settings, server):
    server.script = [429, 503]
    waits = []
    run = runner_for(settings, waits)
    assert run.answer(_label_request()) is not None
    assert len(server.requests) == 3 and waits == [0.5, 1.0]  # backoff doubles; no real sleep
    assert run.client.usage.requests == 3 and not run.missing


def test_retry_after_header_is_honoured(settings, server):
    server.script = [(429, {"Retry-After": "3"})]
    waits = []
    assert runner_for(settings, waits).answer(_label_request()) is not None
    assert waits == [3.0] and len(server.requests) == 2


def test_server_error_every_time_gives_up_and_stops_sending(settings, server):
    server.script = [500] * 50
    run = runner_for(settings)
    first, second = _label_request(), summaries.requests(
        pd.DataFrame({"episode_id": ["e"], "order": [0], "is_conversation": [True], "word_count": [3],
                      "speaker": ["Ann"], "start_s": [0.0], "time_source": ["file"], "text": ["Hello there you"]}),
        pd.DataFrame(columns=["episode_id", "start_s", "source", "chapter_index", "title"]),
        pd.DataFrame({"episode_id": ["e"], "title": ["T"], "show": ["S"]}))[0][0]
    assert run.answer(first) is None and run.answer(second) is None
    assert len(server.requests) == settings.max_retries + 1  # gave up on the first; sent nothing more
    assert "HTTP 500" in run.stopped and "3 attempts" in run.stopped
    assert [m[0] for m in run.missing] == ["topic 3", "summary of e"]
    report = "\n".join(run.report())
    assert "missing 1 (topic 3: HTTP 500" in report and "missing 1 (not sent: sending stopped): summary of e" in report


def test_budget_stops_before_exceeding(settings, server):
    req = _label_request()
    tight = Settings.from_config(**{**settings.__dict__, "max_tokens": req.estimated_tokens + 50})
    run = runner_for(tight)
    other = labels.requests(pd.DataFrame({"topic_id": [4], "keywords": ["voice;audio"], "label": ["voice"]}),
                            pd.DataFrame(columns=["passage_id", "topic_id", "rank_in_topic"]),
                            pd.DataFrame(columns=["passage_id", "text"]))[0][1]
    assert run.answer(req) is not None
    used = run.client.usage.tokens
    assert used + other.estimated_tokens > tight.max_tokens
    assert run.answer(other) is None and "token budget" in run.stopped
    assert len(server.requests) == 1 and run.client.usage.tokens <= tight.max_tokens
    few = runner_for(Settings.from_config(**{**settings.__dict__, "max_requests": 1}))
    server.script = [429]
    assert few.answer(req) is not None  # from the cache: no request needed
    assert few.answer(other) is None and "request budget" in few.stopped
    assert len(server.requests) == 2


def test_changed_prompt_invalidates_only_its_own_entries(settings, server):
    import dataclasses
    run = runner_for(settings)
    req = _label_request()
    run.answer(req)
    changed = dataclasses.replace(req, prompt=dataclasses.replace(req.prompt, version=2))
    assert run.cache.get(changed, "test-model", 0.0) is None and run.cache.get(req, "test-model", 0.0)
    other_model = Runner(Settings.from_config(**{**settings.__dict__, "model": "other"}), "cache")
    assert other_model.answer(req).model == "test-model"  # readers without a key take any model's answer


# --- the enrich pipeline on the seed corpus ----------------------------------------------------------

def test_enrich_fills_tables_with_grounded_citations_and_second_run_sends_nothing(settings, server, processed):
    run = runner_for(settings)
    tables, notes = enrich(run, directory=processed)
    assert not notes and not run.missing, run.missing
    labels_, summ, chap = tables["llm_topic_labels"], tables["llm_summaries"], tables["llm_chapters"]
    assert list(labels_["topic_id"]) == [0, 1] and set(labels_["model"]) == {"test-model"}
    eps = pd.read_parquet(processed / "episodes.parquet")["episode_id"]
    assert set(summ.loc[summ["section"] == "episode", "episode_id"]) == set(eps)
    listed = pd.read_parquet(processed / "chapters.parquet").query("source == 'chapter_list'")
    latent = summ[(summ["section"] == "chapter") & summ["episode_id"].isin(listed["episode_id"])]
    assert set(latent["chapter_index"]) <= set(listed["chapter_index"]) and len(latent) >= 10
    # episodes without a timed chapter list get generated chapters, with summaries
    assert set(chap["episode_id"]) == set(eps) - set(listed["episode_id"])
    utt = pd.read_parquet(processed / "utterances.parquet").set_index(["episode_id", "order"])
    for cite in "; ".join(summ["citations"]).split("; "):
        ep, rest = cite.split(":", 1)
        order, _, clock = rest.partition("@")
        start = utt.loc[(ep, int(order)), "start_s"]
        assert clock == summaries.clock(start)
    assert all(line.startswith("- ") and line.endswith("]") for t in summ["text"] for line in t.split("\n"))
    sent = len(server.requests)
    again = runner_for(settings)
    tables2, _ = enrich(again, directory=processed)
    assert len(server.requests) == sent and again.sent == 0 and again.cached == sent
    for name in tables:
        pd.testing.assert_frame_equal(tables[name], tables2[name])


def test_nonexistent_citation_is_rejected(settings, server, processed):
    server.script = [None, None, json.dumps({"bullets": [{"text": "Made up.", "citations": [999999]}]})]
    run = runner_for(settings)
    tables, _ = enrich(run, directory=processed)
    (item, reason), = run.missing
    assert "cites passage(s) [999999] that were not sent" in reason
    first_episode = min(pd.read_parquet(processed / "episodes.parquet")["episode_id"])
    assert item == f"summary of {first_episode}"
    episode_rows = tables["llm_summaries"].query("section == 'episode'")
    assert first_episode not in set(episode_rows["episode_id"]) and len(episode_rows) == 3


def test_dry_run_sends_nothing_and_estimates(settings, server, processed):
    run = Runner(settings, "plan")
    enrich(run, directory=processed)
    assert not server.requests and run.planned
    text = "\n".join(run.plan_lines())
    assert f"would send {len(run.planned)} requests to test-model" in text
    assert "--- first topic_label/v1 request" in text and "[system]" in text and "$" in text


def test_mode_is_off_without_flag_or_endpoint(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    s = Settings.from_config(base_url=None)
    assert mode(False, False, s)[0] == "cache" and mode(True, False, s)[0] == "cache"
    assert "neither OPENAI_API_KEY nor OPENAI_BASE_URL" in mode(True, False, s)[1]
    assert mode(True, False, Settings.from_config(base_url="http://localhost:11434/v1"))[0] == "send"
    assert Settings.from_config(base_url="http://u:pw@host:8000/v1").endpoint == "http://host:8000/v1"


def test_load_enrichments_empty_when_absent(tmp_path):
    got = load_enrichments(tmp_path)
    assert set(got) == set(TABLES) and all(df.empty for df in got.values())
    assert list(got["llm_summaries"].columns) == ["episode_id", "section", "chapter_index", "start_s", "title",
                                                  "text", "citations", "model", "prompt_version"]


# --- speaker turns -----------------------------------------------------------------------------------

def test_windows_cover_and_reconcile_weights_the_centre():
    assert turns.window_starts(45, 30, 10) == [0, 20] and turns.window_starts(5, 30, 10) == [0]
    assert turns.window_starts(100, 30, 10) == [0, 20, 40, 60, 80]
    a = {"turns": [{"first": 1, "role": "host"}, {"first": 3, "role": "guest"}]}  # sentences 0-3
    b = {"turns": [{"first": 1, "role": "host"}]}  # sentences 2-5
    p = turns.reconcile(6, [0, 2], [a, b], 4)
    assert p[0] == p[1] == 1 - turns.P_FLOOR and p[4] == p[5] == 1 - turns.P_FLOOR
    # sentence 2: a says guest at weight 2 (inside), b host at weight 1 (its edge); sentence 3 the reverse
    assert p[2] == pytest.approx(1 / 3) and p[3] == pytest.approx(2 / 3)


def test_llm_speaker_turns_go_through_leave_one_episode_out(settings, server, corpus_tables):
    """With an oracle model (true roles), the LLM column scores near 100% where the offline model
    does not; a second run is answered from the cache."""
    from analysis.catalog import load_catalog
    from analysis.speakers import evaluation, reference

    utt = corpus_tables["utterances"]
    episodes = [ep for ep in load_catalog()[0] if ep.id in set(utt["episode_id"])]
    refs, _ = reference.load_references(episodes)
    truth = {}
    for ep in episodes:
        for marks in (True, False):
            t = evaluation.truth_sentences(utt[utt["episode_id"] == ep.id], ep, refs, marks).dropna(
                subset=["host_share"])
            truth.update(zip(t["text"], np.where(t["host_share"] >= 0.5, "host", "guest")))
    server.speaker_of = lambda text: truth.get(text, "guest")
    small = Settings.from_config(**{**settings.__dict__, "speaker_window": 60, "speaker_overlap": 15})
    llm = turns.compare(runner_for(small), utt)
    offline = evaluation.evaluate_attribution(utt, episodes, refs)
    assert {(r["episode_id"], r["turn_marks"]) for r in llm} == {(r["episode_id"], r["turn_marks"]) for r in offline}
    for r in llm:
        assert r["classifier_only_word_accuracy"] > 0.97, r
        assert r["word_accuracy"] > 0.95, r
    assert np.mean([r["word_accuracy"] for r in llm]) > np.mean([r["word_accuracy"] for r in offline])
    sent = len(server.requests)
    cached = runner_for(small)
    assert turns.compare(cached, utt) == llm and len(server.requests) == sent and cached.sent == 0
    table = turns.report(offline, llm, "test-model")
    assert "offline" in table and "LLM windows" in table


def test_missing_windows_leave_the_episode_out(settings, corpus_tables):
    llm = turns.compare(Runner(settings, "cache"), corpus_tables["utterances"])  # nothing cached
    assert llm == []


# --- the command line: make-all unchanged without a key; the key never written -----------------------

def _cli(*args, env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PODLENS_", "OPENAI_"))}
    environ.update(env)
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=300, check=False)


def test_cli_without_key_prints_one_line_and_writes_nothing(tmp_path, processed):
    import shutil
    out = tmp_path / "processed"
    shutil.copytree(processed, out)
    before = sorted(p.name for p in out.iterdir())
    env = {"PODLENS_PROCESSED": str(out), "PODLENS_LLM_CACHE": str(tmp_path / "cache"),
           "PODLENS_LLM_ENRICHMENTS": str(tmp_path / "enrichments")}
    for args in (["enrich"], ["enrich", "--llm"]):
        res = _cli(*args, env=env)
        assert res.returncode == 0, res.stderr
        assert len(res.stdout.strip().splitlines()) == 1 and "skipped" in res.stdout, res.stdout
    tables = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))  # .stamps: the stage's stamp
    assert tables == before and not (tmp_path / "cache").exists()


def test_cli_key_never_in_outputs_and_published_enrichments_serve_readers(tmp_path, processed, server):
    import shutil
    out = tmp_path / "processed"
    shutil.copytree(processed, out)
    env = {"PODLENS_PROCESSED": str(out), "PODLENS_LLM_CACHE": str(tmp_path / "cache"),
           "PODLENS_LLM_ENRICHMENTS": str(tmp_path / "enrichments"), "PODLENS_LLM_BACKOFF_S": "0",
           "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": KEY, "PODLENS_LLM_MODEL": "test-model"}
    dry = _cli("enrich", "--llm", "--dry-run", env=env)
    assert dry.returncode == 0 and "would send" in dry.stdout and not server.requests, dry.stderr
    res = _cli("enrich", "--llm", "--publish", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "LLM: wrote llm_topic_labels (2 rows)" in res.stdout and "copied to" in res.stdout
    assert "to send to test-model" in res.stdout and "completion tokens" in res.stdout
    assert server.requests and all(r["headers"]["Authorization"] == f"Bearer {KEY}" for r in server.requests)
    written = _files_text(tmp_path) + dry.stdout + dry.stderr + res.stdout + res.stderr
    assert "llm_summaries" in written and KEY not in written and KEY[8:20] not in written
    # a reader without a key: the committed responses rebuild the tables, no request sent
    shutil.rmtree(tmp_path / "cache")
    for name in TABLES:
        (out / f"{name}.parquet").unlink(missing_ok=True)
    sent = len(server.requests)
    reader = _cli("enrich", env={k: v for k, v in env.items() if not k.startswith("OPENAI_")}
                  | {"PODLENS_LLM_MODEL": "gpt-4o-mini"})
    assert reader.returncode == 0 and len(server.requests) == sent, reader.stderr
    assert "cached responses used" in reader.stdout and len(reader.stdout.strip().splitlines()) == 1
    got = load_enrichments(out)
    assert len(got["llm_topic_labels"]) == 2 and set(got["llm_summaries"]["model"]) == {"test-model"}


def test_cli_evaluate_speakers_llm_side_by_side(tmp_path, processed, server):
    env = {"PODLENS_PROCESSED": str(processed), "PODLENS_CACHE": str(tmp_path / "cache"),
           "PODLENS_LLM_BACKOFF_S": "0", "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": KEY,
           "PODLENS_LLM_MODEL": "test-model", "PODLENS_LLM_SPEAKER_WINDOW": "80", "PODLENS_LLM_SPEAKER_OVERLAP": "20"}
    res = _cli("evaluate-speakers", "--llm", env=env)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "offline model vs language model (test-model" in out and "to send to test-model" in out
    rows = [line for line in out.splitlines() if line.startswith("  ") and line.rstrip().endswith("%")
            and "(*)" not in line and len(line.split()) == 5]
    assert len(rows) >= 3 and not any("missing" in r for r in rows), out
    assert KEY not in out + res.stderr + _files_text(tmp_path)
    res2 = _cli("evaluate-speakers", "--llm", "--json", env=env)
    data = json.loads(res2.stdout)
    assert {r["episode_id"] for r in data["llm"]} == {r["episode_id"] for r in data["offline"]["attribution"]}
    assert "0 from test-model" in res2.stderr or "from the cache" in res2.stderr


def test_enrich_speakers_writes_turns_covering_unlabelled_episodes(settings, server, processed):
    run = runner_for(Settings.from_config(**{**settings.__dict__, "speaker_window": 80, "speaker_overlap": 20}))
    tables, _ = enrich(run, speakers=True, directory=processed)
    got = tables["llm_speaker_turns"]
    utt = pd.read_parquet(processed / "utterances.parquet")
    conv = utt[utt["is_conversation"] & (utt["word_count"] > 0)]
    unlabelled = set(utt.loc[utt["speaker_source"] == "model", "episode_id"])
    assert set(got["episode_id"]) == unlabelled and not run.missing
    for ep, g in got.groupby("episode_id"):
        orders = conv.loc[conv["episode_id"] == ep, "order"]
        assert g["first_order"].iloc[0] == orders.min() and g["last_order"].iloc[-1] == orders.max()
        assert (g["first_order"].iloc[1:].to_numpy() > g["last_order"].iloc[:-1].to_numpy()).all()
        assert (g["speaker_role"] != g["speaker_role"].shift()).iloc[1:].all()  # turns alternate
        assert g["words"].sum() == conv.loc[conv["episode_id"] == ep, "word_count"].sum()
    assert set(got["model"]) == {"test-model"} and got["confidence"].between(0, 1).all()
