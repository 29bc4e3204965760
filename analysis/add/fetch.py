"""Read a source given as a URL (HTTP(S), with timeouts and retries) or as a local path."""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlparse

from .. import config


class FetchError(RuntimeError):
    """A source could not be read; the message names the URL or path and why."""


def is_url(source: str) -> bool:
    return urlparse(str(source)).scheme in ("http", "https")


def _session():
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(total=config.HTTP_RETRIES, connect=config.HTTP_RETRIES, read=config.HTTP_RETRIES,
                  status=config.HTTP_RETRIES, backoff_factor=config.HTTP_BACKOFF_S / 2,
                  status_forcelist=(429, 500, 502, 503, 504), allowed_methods=("GET",), raise_on_status=False)
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=retry))
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.headers["User-Agent"] = "podlens (podcast transcript analysis)"
    return session


def fetch(url: str) -> bytes:
    """The body of ``url``: config.HTTP_TIMEOUT_S per try, config.HTTP_RETRIES more tries after a
    timeout, a connection error, 429 or 5xx (waits of config.HTTP_BACKOFF_S, doubling). Raises
    :class:`FetchError` naming the URL for any failure, an HTTP error status or a body over
    config.MAX_FILE_BYTES."""
    import requests

    tries = config.HTTP_RETRIES + 1
    try:
        with _session() as session, session.get(url, timeout=config.HTTP_TIMEOUT_S, stream=True) as r:
            if r.status_code >= 400:
                raise FetchError(f"{url}: HTTP {r.status_code} {r.reason}")
            body = bytearray()
            for chunk in r.iter_content(1 << 16):
                body += chunk
                if len(body) > config.MAX_FILE_BYTES:
                    raise FetchError(f"{url}: larger than {config.MAX_FILE_BYTES / 2**20:.0f} MiB (PODLENS_MAX_FILE_BYTES)")
            return bytes(body)
    except requests.exceptions.Timeout:
        raise FetchError(f"{url}: timed out ({config.HTTP_TIMEOUT_S:g} s per try, {tries} tries; "
                         "PODLENS_HTTP_TIMEOUT_S)") from None
    except requests.exceptions.RetryError as exc:
        raise FetchError(f"{url}: failed after {tries} tries ({exc.args[0].reason if exc.args else exc})") from None
    except requests.exceptions.ConnectionError as exc:
        reason = getattr(exc.args[0], "reason", exc.args[0]) if exc.args else exc
        text = "timed out" if "timed out" in str(reason).lower() else f"cannot connect ({reason})"
        raise FetchError(f"{url}: {text} after {tries} tries") from None
    except requests.exceptions.RequestException as exc:
        raise FetchError(f"{url}: {exc}") from None


def read_source(source: str, base: str | None = None) -> tuple[bytes, str]:
    """(bytes, resolved location) of ``source``: a URL, or a path (relative paths and URLs
    resolved against ``base``, the feed they come from)."""
    if base is not None and not is_url(source) and not Path(source).is_absolute():
        source = urljoin(base, source) if is_url(base) else str(Path(base).parent / source)
    if is_url(source):
        return fetch(source), source
    try:
        return Path(source).read_bytes(), source
    except OSError as exc:
        raise FetchError(f"{source}: {exc.strerror or exc}") from None
