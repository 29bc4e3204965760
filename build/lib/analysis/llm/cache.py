"""Responses on disk, one JSON file per (prompt version, input, model).

Layout: ``<dir>/<task>/v<version>/<input key>.<model>.json`` holding the task, prompt version,
model, item and validated response, never the key or the endpoint. Runs write to the cache
folder (data/cache/llm/); a maintainer copies the responses a run used to the enrichments folder
(data/enrichments/llm/, ``enrich --publish``) and commits it, so readers get them without a key."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..io import write_json
from .prompts import InvalidResponse, Request, validate


@dataclass(frozen=True)
class Answer:
    response: dict
    model: str
    path: Path  # where it was read or written


def _slug(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", model)


class ResponseCache:
    """Reads from ``directory`` then ``committed``; writes to ``directory``."""

    def __init__(self, directory: Path, committed: Path | None = None):
        self.directory = Path(directory)
        self.committed = Path(committed) if committed else None

    def _folder(self, root: Path, request: Request) -> Path:
        return root / request.prompt.task / f"v{request.prompt.version}"

    def get(self, request: Request, model: str, temperature: float, any_model: bool = False) -> Answer | None:
        """The cached answer for ``model``; with ``any_model``, else the one of any model (the
        first by name), so readers without a key use whatever model the maintainer ran."""
        key = request.key(temperature)
        roots = [self.directory] + ([self.committed] if self.committed else [])
        candidates = [self._folder(r, request) / f"{key}.{_slug(model)}.json" for r in roots]
        if any_model:
            candidates += [p for r in roots for p in sorted(self._folder(r, request).glob(f"{key}.*.json"))]
        for path in candidates:
            answer = self._read(path, request)
            if answer is not None:
                return answer
        return None

    @staticmethod
    def _read(path: Path, request: Request) -> Answer | None:
        """The entry at ``path``, or None when absent, unreadable or no longer valid."""
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            validate(entry["response"], request)
            return Answer(entry["response"], entry["model"], path)
        except (OSError, ValueError, KeyError, TypeError, InvalidResponse):
            return None

    def put(self, request: Request, model: str, temperature: float, response: dict) -> Answer:
        path = self._folder(self.directory, request) / f"{request.key(temperature)}.{_slug(model)}.json"
        write_json({"task": request.prompt.task, "prompt_version": request.prompt.version, "model": model,
                    "item": request.item, "response": response}, path)
        return Answer(response, model, path)

    def publish(self, answer: Answer) -> Path | None:
        """Copy an answer from the cache folder into the committed folder; its new path, or None
        when it is already there (or there is no committed folder)."""
        if self.committed is None:
            return None
        try:
            rel = answer.path.relative_to(self.directory)
        except ValueError:
            return None
        target = self.committed / rel
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            write_json(json.loads(answer.path.read_text(encoding="utf-8")), target)
        return target
