"""Prompts and requests: what is sent to the model, its response schema, and its cache key.

A :class:`Prompt` is versioned: bump ``version`` when its wording or schema changes on purpose
(the key hashes the text too, so an edit never reuses stale answers). A :class:`Request` is one
prompt applied to one input; ``check`` rejects responses that match the schema but not the
input (e.g. a citation of a passage that was not sent)."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from ..io import content_hash

CHARS_PER_TOKEN = 4  # rough English average, for estimates before sending


class LLMError(Exception):
    """A request failed; the item is reported as missing."""


class InvalidResponse(LLMError):
    """A response that is not JSON, does not match its schema, or fails its request's check."""


class StopSending(LLMError):
    """No further request should be sent this run (budget spent, server keeps failing, bad key)."""


class BudgetExceeded(StopSending):
    """The next request would exceed the run's request or token budget."""


@dataclass(frozen=True)
class Prompt:
    task: str  # e.g. "topic_label"; also the cache folder
    version: int
    system: str
    schema: dict  # JSON schema of the response (Structured Outputs, strict)
    max_output_tokens: int

    @property
    def version_label(self) -> str:
        return f"{self.task}/v{self.version}"


@dataclass(frozen=True)
class Request:
    prompt: Prompt
    item: str  # what the request is about, for messages ("topic 3", "episode x")
    user: str  # the user message: the input
    check: Callable[[dict], None] | None = field(default=None, compare=False)  # raises InvalidResponse

    def messages(self) -> list[dict]:
        return [{"role": "system", "content": self.prompt.system}, {"role": "user", "content": self.user}]

    def response_format(self) -> dict:
        return {"type": "json_schema",
                "json_schema": {"name": self.prompt.task, "strict": True, "schema": self.prompt.schema}}

    def key(self, temperature: float) -> str:
        """Content hash of everything that shapes the answer except the model (kept apart)."""
        p = self.prompt
        return content_hash(p.task, str(p.version), p.system, json.dumps(p.schema, sort_keys=True),
                            self.user, repr(float(temperature)))

    @property
    def estimated_prompt_tokens(self) -> int:
        chars = len(self.prompt.system) + len(self.user) + len(json.dumps(self.prompt.schema))
        return chars // CHARS_PER_TOKEN + 16

    @property
    def estimated_tokens(self) -> int:
        """Upper estimate of the request's tokens: prompt plus the completion cap."""
        return self.estimated_prompt_tokens + self.prompt.max_output_tokens


def obj(properties: dict, **extra) -> dict:
    """A strict JSON-schema object: every property required, no others allowed."""
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False, **extra}


def validate(response: dict, request: Request) -> None:
    """Raise :class:`InvalidResponse` unless ``response`` matches the prompt's schema and passes
    the request's check."""
    import jsonschema

    try:
        jsonschema.validate(response, request.prompt.schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise InvalidResponse(f"{request.prompt.task} response for {request.item} does not match its schema "
                              f"at {where}: {exc.message[:200]}") from None
    if request.check is not None:
        request.check(response)
