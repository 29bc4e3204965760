"""One chat completion with Structured Outputs over the real ``openai`` client: the run's budget
is checked before sending, 429/5xx/connection errors are retried with exponential backoff, the
response is parsed and validated, and real token usage is added up."""
from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from .prompts import BudgetExceeded, InvalidResponse, LLMError, Request, StopSending, validate
from .settings import KEY_VARIABLE, Settings

MAX_RETRY_AFTER_S = 60.0  # a server's Retry-After is honoured up to this


@dataclass
class Usage:
    """What a run has sent: requests (retries included) and the tokens the server reported."""
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LLMClient:
    """Sends :class:`~analysis.llm.prompts.Request` objects to the configured model.

    ``sleep`` waits between retries (tests pass a recorder); the openai client's own retries
    are off so that every attempt is counted against the budget."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep):
        from openai import OpenAI

        self.settings = settings
        self.usage = Usage()
        self._sleep = sleep
        # A local server may need no key; the client requires a non-empty one.
        self._openai = OpenAI(api_key=os.environ.get(KEY_VARIABLE) or "unused", base_url=settings.base_url,
                              max_retries=0, timeout=settings.timeout_s)

    def _check_budget(self, request: Request) -> None:
        s, u = self.settings, self.usage
        if u.requests + 1 > s.max_requests:
            raise BudgetExceeded(f"request budget spent ({u.requests} of {s.max_requests} requests sent; "
                                 "raise PODLENS_LLM_MAX_REQUESTS)")
        if u.tokens + request.estimated_tokens > s.max_tokens:
            raise BudgetExceeded(f"token budget would be exceeded ({u.tokens} used + ~{request.estimated_tokens} "
                                 f"for {request.item} > {s.max_tokens}; raise PODLENS_LLM_MAX_TOKENS)")

    def _wait(self, attempt: int, exc: Exception) -> float:
        """Seconds before retry ``attempt`` (0-based): the server's Retry-After when it gives one,
        else backoff_s * 2**attempt."""
        headers = getattr(getattr(exc, "response", None), "headers", None) or {}
        try:
            return min(float(headers.get("retry-after")), MAX_RETRY_AFTER_S)
        except (TypeError, ValueError):
            return self.settings.backoff_s * 2 ** attempt

    def complete(self, request: Request) -> dict:
        """The validated response of ``request`` (a dict matching its schema).

        Raises InvalidResponse (bad JSON, schema, check or a refusal), StopSending (budget, a
        server that kept failing after retries, a rejected key or model) or LLMError."""
        import openai

        s = self.settings
        if request.estimated_prompt_tokens > s.context_tokens:
            raise LLMError(f"{request.item}: prompt of ~{request.estimated_prompt_tokens} tokens exceeds "
                           f"PODLENS_LLM_CONTEXT_TOKENS={s.context_tokens}; not sent")
        for attempt in range(s.max_retries + 1):
            self._check_budget(request)
            self.usage.requests += 1
            try:
                reply = self._openai.chat.completions.create(
                    model=s.model, messages=request.messages(), temperature=s.temperature,
                    max_tokens=request.prompt.max_output_tokens, response_format=request.response_format())
                break
            except (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError) as exc:
                if attempt == s.max_retries:
                    raise StopSending(f"{request.item}: {_describe(exc)}, still failing after "
                                      f"{attempt + 1} attempts") from None
                self._sleep(self._wait(attempt, exc))
            except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
                raise StopSending(f"{request.item}: {_describe(exc)} (check the key, base URL and model "
                                  f"{s.model!r})") from None
            except openai.APIError as exc:  # another HTTP status, or a reply the client cannot read
                raise LLMError(f"{request.item}: {_describe(exc)}") from None
        if reply.usage is not None:
            self.usage.prompt_tokens += reply.usage.prompt_tokens or 0
            self.usage.completion_tokens += reply.usage.completion_tokens or 0
        return parse(reply, request)


def parse(reply, request: Request) -> dict:
    """The JSON object in a chat completion, validated against ``request``."""
    what = f"{request.prompt.task} response for {request.item}"
    if not getattr(reply, "choices", None):
        raise InvalidResponse(f"{what}: no choices in the reply")
    choice = reply.choices[0]
    if getattr(choice.message, "refusal", None):
        raise InvalidResponse(f"{what}: the model refused ({choice.message.refusal[:200]})")
    if choice.finish_reason == "length":
        raise InvalidResponse(f"{what}: cut off at {request.prompt.max_output_tokens} tokens")
    try:
        data = json.loads(choice.message.content or "")
    except ValueError:
        raise InvalidResponse(f"{what} is not JSON: {(choice.message.content or '')[:120]!r}") from None
    if not isinstance(data, dict):
        raise InvalidResponse(f"{what} is not a JSON object")
    validate(data, request)
    return data


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    kind = type(exc).__name__
    return f"HTTP {status} ({kind})" if status else kind
