"""Answer requests from the cache, else from the model, and account for the run: what was
cached, sent, planned (dry run) or is missing and why, with estimated and real cost."""
from __future__ import annotations

from dataclasses import dataclass, field

from .cache import Answer, ResponseCache
from .prompts import InvalidResponse, LLMError, Request, StopSending
from .settings import Settings

PREVIEW_CHARS = 1200  # of each task's first user message in a dry run
MISSING_SHOWN = 6  # items named per reason in the report


@dataclass
class Runner:
    """``mode``: ``send`` (cache, else ask the model), ``cache`` (cached answers only: no key, or
    enrichment off) or ``plan`` (dry run: record what would be sent, send nothing)."""
    settings: Settings
    mode: str
    client: object = None  # an LLMClient, for mode "send"
    publish: bool = False  # copy every answer used into the committed folder
    cached: int = 0
    sent: int = 0
    published: int = 0
    asked: list[Request] = field(default_factory=list)
    planned: list[Request] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)  # (item, reason)
    stopped: str | None = None  # why sending stopped early

    def __post_init__(self):
        self.cache = ResponseCache(self.settings.cache_dir, self.settings.enrichments_dir)
        if self.mode == "send" and self.client is None:
            from .client import LLMClient
            self.client = LLMClient(self.settings)

    def answer(self, request: Request) -> Answer | None:
        """The request's answer, or None (recorded in ``missing`` or ``planned``)."""
        s = self.settings
        self.asked.append(request)
        hit = self.cache.get(request, s.model, s.temperature, any_model=self.mode == "cache")
        if hit is None and self.mode == "send" and self.stopped is None:
            try:
                hit = self.cache.put(request, s.model, s.temperature, self.client.complete(request))
                self.sent += 1
            except StopSending as exc:
                self.stopped = str(exc)
                self.missing.append((request.item, self.stopped))
                return None
            except (InvalidResponse, LLMError) as exc:
                self.missing.append((request.item, str(exc)))
                return None
        elif hit is not None:
            self.cached += 1
        if hit is None:
            if self.mode == "plan":
                self.planned.append(request)
            else:
                self.missing.append((request.item, "not sent: sending stopped" if self.stopped else "not cached"))
            return None
        if self.publish and self.cache.publish(hit) is not None:
            self.published += 1
        return hit

    def estimate(self, requests: list[Request]) -> tuple[int, int, float]:
        """(requests not cached, their tokens at most, their cost at most in USD)."""
        s = self.settings
        todo = [r for r in requests if self.cache.get(r, s.model, s.temperature) is None]
        prompt = sum(r.estimated_prompt_tokens for r in todo)
        out = sum(r.prompt.max_output_tokens for r in todo)
        return len(todo), prompt + out, s.cost_usd(prompt, out)

    def estimate_line(self, requests: list[Request]) -> str:
        n, tokens, usd = self.estimate(requests)
        return (f"LLM: {len(requests) - n} of {len(requests)} responses cached; {n} to send to "
                f"{self.settings.model} at {self.settings.endpoint}: at most ~{tokens:,} tokens, "
                f"~${usd:.4f} at the configured prices")

    def report(self) -> list[str]:
        """Lines saying what the run used, sent, spent, and what is missing."""
        s = self.settings
        lines = []
        if self.mode == "plan":
            lines += self.plan_lines()
        else:
            line = f"LLM: {self.cached} responses from the cache, {self.sent} from {s.model}"
            if self.client is not None:
                u = self.client.usage
                line += (f"; sent {u.requests} requests, {u.prompt_tokens:,} prompt + {u.completion_tokens:,} "
                         f"completion tokens, ~${s.cost_usd(u.prompt_tokens, u.completion_tokens):.4f}")
            lines.append(line)
        if self.published:
            lines.append(f"LLM: {self.published} responses copied to {s.enrichments_dir} (commit them)")
        if self.stopped:
            lines.append(f"LLM: stopped sending: {self.stopped}")
        by_reason: dict[str, list[str]] = {}
        for item, reason in self.missing:
            by_reason.setdefault(reason, []).append(item)
        for reason, items in by_reason.items():
            shown = "; ".join(items[:MISSING_SHOWN]) + (f"; ... {len(items) - MISSING_SHOWN} more"
                                                        if len(items) > MISSING_SHOWN else "")
            lines.append(f"LLM: missing {len(items)} ({reason}): {shown}")
        return lines

    def plan_lines(self) -> list[str]:
        """Dry run: what would be sent, with the first full request of each task."""
        s = self.settings
        prompt = sum(r.estimated_prompt_tokens for r in self.planned)
        out = sum(r.prompt.max_output_tokens for r in self.planned)
        lines = [(f"dry run: would send {len(self.planned)} requests to {s.model} at {s.endpoint} "
                  f"(temperature {s.temperature}): ~{prompt:,} prompt tokens + at most {out:,} completion "
                  f"tokens, at most ~${s.cost_usd(prompt, out):.4f}; {self.cached} answers cached")]
        shown = set()
        for r in self.planned:
            lines.append(f"  {r.prompt.version_label:<24} {r.item:<60} ~{r.estimated_prompt_tokens:>6,} tokens")
        for r in self.planned:
            if r.prompt.task in shown:
                continue
            shown.add(r.prompt.task)
            user = r.user if len(r.user) <= PREVIEW_CHARS else (
                r.user[:PREVIEW_CHARS] + f"\n[... {len(r.user) - PREVIEW_CHARS} more characters]")
            head = f"--- first {r.prompt.version_label} request ({r.item}); response schema {r.prompt.task!r} ---"
            lines += [head, "[system]", r.prompt.system, "[user]", user]
        return lines
