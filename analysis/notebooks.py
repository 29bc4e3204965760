"""Execute the numbered notebooks in ``notebooks/`` and write executed copies into ``site/``.

This is the half of the site build that needs Python, not Quarto: Quarto later renders the
executed notebooks as they are (``execute: enabled: false``). A notebook is re-run only when
its source, the processed data or the analysis code changed; notebooks run side by side, one
kernel each (config.WORKERS at once); a failing notebook raises :class:`NotebookError` naming
the cell and leaves no partial output.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from . import config
from .figures.export import site_outputs
from .io import atomic_path, content_hash

NOTEBOOKS = config.NOTEBOOKS
SITE_NOTEBOOKS = config.SITE / "notebooks"
TIMEOUT_S = 600


class NotebookError(RuntimeError):
    pass


@dataclass
class NotebookRun:
    name: str
    status: str  # executed | unchanged
    seconds: float


def _inputs_key(source: Path) -> str:
    parts = [source.read_bytes()]
    parts += [p.read_bytes() for p in sorted(config.PROCESSED.glob("*.parquet"))]
    parts += [p.read_bytes() for p in sorted(Path(__file__).parent.rglob("*.py"))]
    return content_hash(*parts)


def _execute(src: Path, target: Path, key: str, source_dir: Path) -> NotebookRun:
    """Run one notebook on its own kernel and write it to ``target`` (atomically)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(src, as_version=4)
    t0 = time.perf_counter()
    client = NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(source_dir)}})
    try:
        client.execute()
    except CellExecutionError as exc:
        cell = next((i for i, c in enumerate(nb.cells) if c.get("cell_type") == "code"
                     and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        raise NotebookError(f"{src}: cell {cell} failed:\n{str(exc)[-1500:]}") from exc
    site_outputs(nb)  # Quarto keeps the HTML of each figure; it cannot draw Plotly JSON
    nb.metadata["podlens"] = {"inputs": key}
    with atomic_path(target) as tmp:
        nbformat.write(nb, tmp)
    return NotebookRun(src.stem, "executed", time.perf_counter() - t0)


def execute_notebooks(names: list[str] | None = None, force: bool = False, source_dir: Path = NOTEBOOKS,
                      out_dir: Path = SITE_NOTEBOOKS, workers: int | None = None) -> list[NotebookRun]:
    """Execute ``source_dir/NN-*.ipynb`` (all, or those named) into ``out_dir``, on up to
    ``workers`` kernels at once (default config.WORKERS; each kernel is its own process). A
    notebook's output does not depend on what ran beside it (no execution times are recorded).
    The largest earlier outputs start first, so the longest notebook does not start last. When
    notebooks fail, the others are still written and one :class:`NotebookError` names each
    failed notebook and cell. Runs come back in notebook order."""
    from concurrent.futures import ThreadPoolExecutor

    import nbformat

    runs: dict[Path, NotebookRun] = {}
    todo: list[tuple[Path, Path, str]] = []
    for src in sorted(source_dir.glob("[0-9][0-9]-*.ipynb")):
        if names and src.stem not in names and src.name not in names:
            continue
        target = out_dir / src.name
        key = _inputs_key(src)
        if not force and target.exists():
            done = nbformat.read(target, as_version=4)
            if done.metadata.get("podlens", {}).get("inputs") == key:
                runs[src] = NotebookRun(src.stem, "unchanged", 0.0)
                continue
        todo.append((src, target, key))
    todo.sort(key=lambda job: -(job[1].stat().st_size if job[1].exists() else 0))  # stable: else in name order
    errors: dict[Path, NotebookError] = {}
    with ThreadPoolExecutor(max(1, min(len(todo), workers or config.WORKERS))) as pool:
        futures = {src: pool.submit(_execute, src, target, key, source_dir) for src, target, key in todo}
        for src, future in futures.items():
            try:
                runs[src] = future.result()
            except NotebookError as exc:
                errors[src] = exc
    if errors:
        first = min(errors)
        raise NotebookError("\n\n".join(str(errors[s]) for s in sorted(errors))) from errors[first]
    return [runs[src] for src in sorted(runs)]
