"""LLM settings as one object (read from :mod:`analysis.config`), and whether enrichment can run.

The API key is never held here: only whether one is set (``OPENAI_API_KEY``); the ``openai``
client reads it itself when :class:`~analysis.llm.client.LLMClient` is built."""
from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .. import config

KEY_VARIABLE = "OPENAI_API_KEY"


@dataclass(frozen=True)
class Settings:
    model: str
    temperature: float
    base_url: str | None  # None: api.openai.com
    max_requests: int  # per run, retries included
    max_tokens: int  # per run, prompt + completion tokens
    usd_per_mtok_in: float
    usd_per_mtok_out: float
    max_retries: int
    backoff_s: float  # wait before the first retry; doubles each time
    timeout_s: float
    context_tokens: int  # prompts estimated longer than this are not sent
    cache_dir: Path
    enrichments_dir: Path
    speaker_window: int  # sentences per speaker-turn request
    speaker_overlap: int  # sentences shared by neighbouring windows

    @classmethod
    def from_config(cls, **overrides) -> Settings:
        s = cls(model=config.LLM_MODEL, temperature=config.LLM_TEMPERATURE, base_url=config.LLM_BASE_URL,
                max_requests=config.LLM_MAX_REQUESTS, max_tokens=config.LLM_MAX_TOKENS,
                usd_per_mtok_in=config.LLM_USD_PER_MTOK_IN, usd_per_mtok_out=config.LLM_USD_PER_MTOK_OUT,
                max_retries=config.LLM_MAX_RETRIES, backoff_s=config.LLM_BACKOFF_S,
                timeout_s=config.LLM_TIMEOUT_S, context_tokens=config.LLM_CONTEXT_TOKENS,
                cache_dir=config.LLM_CACHE, enrichments_dir=config.LLM_ENRICHMENTS,
                speaker_window=config.LLM_SPEAKER_WINDOW, speaker_overlap=config.LLM_SPEAKER_OVERLAP)
        return replace(s, **overrides)

    @property
    def has_endpoint(self) -> bool:
        """True when a key or a base URL is configured (a local server may need no key)."""
        return bool(os.environ.get(KEY_VARIABLE) or self.base_url)

    @property
    def endpoint(self) -> str:
        """Where requests go, for messages (any user:password in the URL removed)."""
        if not self.base_url:
            return "api.openai.com"
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        return urlunsplit((parts.scheme, host + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.usd_per_mtok_in + completion_tokens * self.usd_per_mtok_out) / 1e6


def mode(enabled: bool, dry_run: bool, settings: Settings) -> tuple[str, str | None]:
    """How a run answers requests, and the one-line reason when it sends none:
    ``send`` (enabled and an endpoint configured), ``plan`` (dry run: list what would be sent),
    or ``cache`` (off: only responses already cached or committed are used)."""
    if dry_run:
        return "plan", None
    if not enabled:
        return "cache", (f"LLM enrichment off (enable with --llm or PODLENS_LLM=1, and set {KEY_VARIABLE} "
                         "or OPENAI_BASE_URL)")
    if not settings.has_endpoint:
        return "cache", f"LLM enrichment skipped: --llm given but neither {KEY_VARIABLE} nor OPENAI_BASE_URL is set"
    return "send", None
