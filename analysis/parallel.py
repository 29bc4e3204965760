"""Run one function over many items: in this process, on local worker processes, or on a
dask.distributed cluster when its address is given; one code path, results in input order.

Local processes are the default (``config.WORKERS``, the CPU count). A cluster is used when an
address is passed (``python -m analysis corpus --cluster tcp://host:8786``) or set in
``PODLENS_CLUSTER``; its workers must import this ``analysis`` package (same version) and read
the same data paths (a shared filesystem or the same volume), since tasks name files, not bytes.
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import TypeVar

from . import config

T = TypeVar("T")
R = TypeVar("R")


def cluster_address(cluster: str | None = None) -> str | None:
    """The dask scheduler address to use: ``cluster`` if given, else ``PODLENS_CLUSTER``, else None."""
    return cluster or config.CLUSTER or None


@contextmanager
def executor(cluster: str | None = None, workers: int | None = None) -> Iterator[Executor]:
    """A ``concurrent.futures.Executor``: the cluster's (``Client.get_executor``) when an address
    is given, else a pool of ``workers`` local processes (default ``config.WORKERS``)."""
    address = cluster_address(cluster)
    if address:
        from distributed import Client

        with Client(address) as client:  # closes the connection only, never the cluster
            yield client.get_executor(pure=False)
        return
    # forkserver: workers start clean (no threads or torch state inherited from this process)
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers or config.WORKERS, mp_context=multiprocessing.get_context(method)) as pool:
        yield pool


def parallel_map(fn: Callable[[T], R], items: Sequence[T], cluster: str | None = None,
                 workers: int | None = None, progress: str | None = None) -> list[R]:
    """``[fn(item) for item in items]``, computed on :func:`executor` (local processes or the
    cluster). Fewer than two items, or one local worker, run in this process without start-up
    cost. ``fn`` must be a module-level function; an exception in it is raised here.
    ``progress``: a progress-bar label (None: no bar)."""
    from tqdm.auto import tqdm

    items = list(items)
    local_workers = min(config.WORKERS if workers is None else workers, len(items))
    if not cluster_address(cluster) and local_workers <= 1:
        return [fn(x) for x in tqdm(items, desc=progress, disable=progress is None, leave=False)]
    with executor(cluster, local_workers) as ex:
        futures = {ex.submit(fn, x): i for i, x in enumerate(items)}
        out: list = [None] * len(items)
        for f in tqdm(as_completed(futures), total=len(items), desc=progress, disable=progress is None,
                      leave=False):
            out[futures[f]] = f.result()
    return out
