"""The executor (analysis.parallel): local processes and a dask.distributed cluster give the
same corpus as a build in one process."""
from __future__ import annotations

import pandas as pd
import pytest

from analysis import config
from analysis.__main__ import build_parser
from analysis.corpus import TABLES, build_corpus
from analysis.parallel import cluster_address, parallel_map


def test_parallel_map_keeps_order_and_raises_a_workers_error():
    items = [-5, 3, -1, 0, 8, -2]
    assert parallel_map(abs, items, workers=2) == [5, 3, 1, 0, 8, 2]
    assert parallel_map(abs, items, workers=1) == [5, 3, 1, 0, 8, 2]
    assert parallel_map(abs, [], workers=2) == []
    with pytest.raises(ValueError, match="'x'"):
        parallel_map(int, ["1", "x", "3"], workers=2)


def test_cluster_address_from_argument_or_environment(monkeypatch):
    monkeypatch.setattr(config, "CLUSTER", None)
    assert cluster_address() is None
    assert cluster_address("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    monkeypatch.setattr(config, "CLUSTER", "tcp://scheduler:8786")
    assert cluster_address() == "tcp://scheduler:8786"
    assert cluster_address("tcp://other:8786") == "tcp://other:8786"
    args = build_parser().parse_args(["corpus", "--cluster", "tcp://10.0.0.5:8786"])
    assert args.cluster == "tcp://10.0.0.5:8786"


def _assert_same_tables(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True)


def test_local_processes_build_the_same_corpus_as_one_process(corpus_tables, tmp_path, monkeypatch):
    """corpus_tables was built on local worker processes (config.WORKERS); one process agrees."""
    monkeypatch.setattr(config, "INTERIM", tmp_path / "interim")
    monkeypatch.setattr(config, "WORKERS", 1)
    build = build_corpus(out_dir=tmp_path / "out", progress=False)
    assert not build.errors and build.cached == []
    _assert_same_tables(corpus_tables, build.tables)


def test_corpus_on_a_local_dask_cluster_matches_the_local_build(corpus_tables, tmp_path, monkeypatch):
    """Two dask workers (separate processes) build every episode; the tables are identical."""
    distributed = pytest.importorskip("distributed")
    monkeypatch.setattr(config, "INTERIM", tmp_path / "interim")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        build = build_corpus(out_dir=tmp_path / "out", progress=False, cluster=cluster.scheduler_address)
        ran = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
        workers = client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.workers))
    assert not build.errors and build.cached == []
    assert "build_or_error" in ran, ran  # the episodes were built on the cluster (dask drops the "_")
    assert workers == 2
    _assert_same_tables(corpus_tables, build.tables)
    # the cluster's builds went into this machine's cache: a local rebuild takes them all from it
    again = build_corpus(out_dir=tmp_path / "out2", progress=False)
    assert sorted(again.cached) == sorted(corpus_tables["episodes"]["episode_id"])
    _assert_same_tables(corpus_tables, again.tables)
