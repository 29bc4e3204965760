"""Incremental reruns: a stage with unchanged inputs recomputes nothing, a changed input or code
reruns the stages that read it, and an added episode changes no other episode's results."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from analysis import __main__ as cli
from analysis import config, stamps

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import scale


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty project folder with config pointing at it."""
    data = tmp_path / "data"
    for name, path in {"ROOT": tmp_path, "DATA": data, "RAW": data / "raw", "CATALOG": data / "episodes.yaml",
                       "GLOSSARY": data / "glossary.yaml", "INTERIM": data / "interim",
                       "PROCESSED": data / "processed", "CACHE": data / "cache", "THEMES": data / "themes.yaml",
                       "ANNOTATIONS": data / "annotations", "ENTITY_ALIASES": data / "entities.yaml",
                       "LLM_ENRICHMENTS": data / "enrichments" / "llm", "SITE": tmp_path / "site",
                       "NOTEBOOKS": tmp_path / "notebooks"}.items():
        monkeypatch.setattr(config, name, path)
    (data / "raw").mkdir(parents=True)
    return tmp_path


def _fake_stages(monkeypatch, calls: list[str]):
    """Stages that record their call and write one output file each (no model work)."""
    def dispatch(args):
        calls.append(args.command)
        out = config.PROCESSED / f"{args.command}.out"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"{args.command} {len(calls)}")
        return 1 if args.command == "evaluate-topics" else 0  # a failed acceptance check is a result too

    monkeypatch.setattr(cli, "_dispatch", dispatch)


def test_unchanged_inputs_run_nothing_and_changes_rerun_the_right_stages(project, monkeypatch, tmp_path):
    calls: list[str] = []
    _fake_stages(monkeypatch, calls)
    code = tmp_path / "code"
    shutil.copytree(stamps.PACKAGE, code, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(stamps, "PACKAGE", code)
    (config.DATA / "raw" / "a.txt").write_text("Ann: hello there")
    config.CATALOG.write_text("episodes: []\n")
    order = ["corpus", "speakers", "topics", "evaluate-topics", "themes"]

    def make_all():
        calls.clear()
        return [cli.main([s]) for s in order]

    assert make_all() == [0, 0, 0, 1, 0] and calls == order
    mtimes = {p: p.stat().st_mtime_ns for p in config.PROCESSED.glob("*.out")}
    assert make_all() == [0, 0, 0, 1, 0] and calls == []  # nothing changed: nothing runs, same exit codes
    assert {p: p.stat().st_mtime_ns for p in config.PROCESSED.glob("*.out")} == mtimes

    raw = config.DATA / "raw" / "a.txt"
    raw.touch()  # a newer time, the same bytes: make would start the stage, which stops at once
    make_all()
    assert calls == []
    raw.write_text("Ann: hello again")  # new bytes: every stage that reads the raw files
    make_all()
    assert calls == ["corpus"]  # the fake corpus stage wrote the same tables: nothing downstream changed
    (config.PROCESSED / "utterances.parquet").write_text("new utterances")
    make_all()
    assert calls == ["speakers", "topics", "themes"]  # the evaluation reads the model version only
    (config.CACHE / "topics").mkdir(parents=True)
    (config.CACHE / "topics" / "key.txt").write_text("model 2")  # a refit: evaluated once
    make_all()
    assert calls == ["evaluate-topics"]
    config.THEMES.write_text("themes: []\n")
    make_all()
    assert calls == ["themes"]

    (code / "topics" / "tables.py").write_text((code / "topics" / "tables.py").read_text() + "\n# edited\n")
    make_all()
    assert calls == ["topics", "evaluate-topics", "themes"]  # themes reads all of the package's code
    monkeypatch.setenv("PODLENS_SEED", "7")  # a setting: every stage
    make_all()
    assert calls == order
    monkeypatch.setenv("PODLENS_WORKERS", "1")  # how fast, not what: none
    make_all()
    assert calls == []

    (config.PROCESSED / "topics.out").unlink()  # a missing output is rebuilt
    make_all()
    assert calls == ["topics"]
    cli.main(["topics", "--refit"])  # forced: runs, and its stamp holds after it
    assert calls == ["topics", "topics"]
    make_all()
    assert calls == []
    cli.main(["evaluate-topics", "--json"])  # another output than the plain run: runs, not stamped
    assert calls == ["evaluate-topics"]


STAGES = ("corpus", "speakers", "topics", "evaluate-topics", "index")


def _tables(names):
    return {n: pd.read_parquet(config.PROCESSED / f"{n}.parquet") for n in names}


@pytest.mark.slow
def test_adding_an_episode_changes_no_other_episode_and_fits_nothing(project, monkeypatch):
    """A synthetic archive of four 15-minute episodes, built by the command line; a fifth is
    added: its passages are assigned to the stored model's topics (no fit, no evaluation) and
    every table row of the first four is as before."""
    from analysis import embeddings
    from analysis.topics import evaluate, model

    monkeypatch.setattr(config, "ANNOTATIONS", Path(__file__).resolve().parent.parent / "data" / "annotations")
    ids = scale.generate(project, 4, minutes=15)
    evaluations = []
    monkeypatch.setattr(evaluate, "main_evaluate_topics", lambda args: evaluations.append(1) or 0)
    for stage in STAGES:
        assert cli.main([stage]) == 0
    assert evaluations == [1]
    per_episode = ["episodes", "speakers", "utterances", "chapters", "topic_passages", "topic_assignments",
                   "topics_per_episode", "topics_per_speaker", "topics_over_time"]
    before = _tables(per_episode + ["topics", "person_episodes"])
    assert before["person_episodes"].empty  # four shows, four hosts: nobody recurs yet
    version = before["topic_assignments"]["model_version"].iloc[0]
    assert (before["topic_assignments"]["assigned_by"] == "fit").all() and before["topics"]["topic_id"].max() >= 1

    new = scale.generate(project, 6, minutes=15, start=5)  # episode 5 (Rev format); 4 is a plain block
    monkeypatch.setattr(model, "fit", lambda *a, **kw: pytest.fail("refitted the topic model for one episode"))
    for stage in STAGES:
        if stage == "index":  # the new passages were embedded by the topic stage, the queries before
            monkeypatch.setattr(embeddings, "_encode", lambda *a, **kw: pytest.fail("the index stage encoded texts"))
        assert cli.main([stage]) == 0
    assert evaluations == [1]  # same model version: not evaluated again
    after = _tables(per_episode)
    pairs = _tables(["passage_pairs"])["passage_pairs"]  # episode 5 is the first show's again: its host recurs
    assert len(pairs) and set(pairs["episode_id_b"]) == {new[0]} and set(pairs["episode_id_a"]) == {ids[0]}
    for name in per_episode:
        old, now = before[name], after[name]
        now_old = now[now["episode_id"].isin(ids)].reset_index(drop=True)
        if name == "topic_assignments":  # the rank within a topic is over the corpus
            old, now_old = old.drop(columns="rank_in_topic"), now_old.drop(columns="rank_in_topic")
        pd.testing.assert_frame_equal(old.reset_index(drop=True), now_old, obj=name)
    assign = after["topic_assignments"]
    added = assign[assign["episode_id"] == new[0]]
    assert len(added) > 10 and (added["assigned_by"] == "nearest_topic").all()
    assert (added["topic_id"] >= 0).mean() > 0.5 and (assign["model_version"] == version).all()
    assert (added["clustered_topic_id"] == -1).all() and added["probability"].isna().all()


def test_a_stage_that_writes_into_a_folder_it_reads_is_stamped_after_its_own_writes(project, monkeypatch):
    """The site stage reads site/notebooks and writes its metadata there: its next run is a no-op."""
    calls: list[str] = []

    def dispatch(args):
        calls.append(args.command)
        out = config.ROOT / "site" / "notebooks" / "_metadata.yml"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("execute: {enabled: false}\n")
        return 0

    monkeypatch.setattr(cli, "_dispatch", dispatch)
    assert cli.main(["site"]) == 0 and cli.main(["site"]) == 0
    assert calls == ["site"]
    (config.ROOT / "site" / "notebooks" / "01-corpus.ipynb").write_text("{}")  # the notebooks stage wrote
    cli.main(["site"])
    assert calls == ["site", "site"]


def test_a_new_theme_model_reruns_themes_only(project, monkeypatch):
    """The theme model file (config.THEME_MODEL) is an input of the themes stage, not of the corpus."""
    calls: list[str] = []
    _fake_stages(monkeypatch, calls)
    monkeypatch.setattr(config, "THEME_MODEL", config.DATA / "themes.model.json")
    config.THEME_MODEL.write_text('{"threshold": 0.5}\n')
    (config.DATA / "raw" / "a.txt").write_text("Ann: hello there")
    config.CATALOG.write_text("episodes: []\n")
    order = ["corpus", "speakers", "topics", "evaluate-topics", "themes"]
    for stage in order:
        cli.main([stage])
    calls.clear()
    config.THEME_MODEL.write_text('{"threshold": 0.6}\n')
    for stage in order:
        cli.main([stage])
    assert calls == ["themes"]
