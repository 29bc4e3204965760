"""Open every preview page in headless Chromium (network off, the preview served on
localhost) and report what a reader would hit: console errors and exceptions, a dialog (an
injected alert), a request leaving the site, a Plotly chart that did not draw, an internal
link or anchor that does not resolve."""
from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
# Runs in each page once it has loaded: what it links to, its ids, and its charts.
_PROBE = """(() => {
  const charts = [...document.querySelectorAll('.plotly-graph-div')];
  return JSON.stringify({
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    charts: charts.length,
    drawn: charts.filter(c => c.querySelector('svg.main-svg')).length,
    tables: document.querySelectorAll('.dt-container').length,
    text: document.body.innerText,
  });
})()"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Browser:
    """A headless Chromium driven over the DevTools protocol (one tab)."""

    def __init__(self, profile: Path):
        import websocket

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--proxy-server=http://127.0.0.1:9",
             "--proxy-bypass-list=127.0.0.1", f"--user-data-dir={profile}", "--remote-debugging-port=0",
             "--window-size=1400,900", "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = profile / "DevToolsActivePort"
        for _ in range(300):
            if port_file.exists() and port_file.read_text().strip():
                break
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        tabs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        tab = next(t for t in tabs if t["type"] == "page")
        self.ws = websocket.create_connection(tab["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                return msg.get("result", {})
            self.events.append(msg)
            if msg.get("method") == "Page.javascriptDialogOpening":
                self.ws.send(json.dumps({"id": 0, "method": "Page.handleJavaScriptDialog", "params": {"accept": True}}))

    def wait_load(self, timeout: float = 30) -> None:
        end = time.time() + timeout
        while time.time() < end:
            msg = json.loads(self.ws.recv())
            self.events.append(msg)
            if msg.get("method") == "Page.javascriptDialogOpening":
                self.ws.send(json.dumps({"id": 0, "method": "Page.handleJavaScriptDialog", "params": {"accept": True}}))
            if msg.get("method") == "Page.loadEventFired":
                return

    def close(self) -> None:
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def _problems(events: list[dict], origin: str) -> list[str]:
    out = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            out.append(f"exception: {d.get('exception', {}).get('description', d.get('text'))}"[:300])
        elif m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append("console error: " + " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])[:300])
        elif m == "Log.entryAdded" and p["entry"]["level"] == "error":
            out.append(f"console error: {p['entry']['text']} {p['entry'].get('url', '')}"[:300])
        elif m == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if not url.startswith((origin, "data:", "blob:", "about:")):
                out.append(f"request leaves the site: {url}")
        elif m == "Page.javascriptDialogOpening":
            out.append(f"a dialog opened ({p.get('type')}: {p.get('message')}): injected script ran")
    return out


def check_site(preview: Path, settle_s: float = 0.4) -> list[str]:
    """Problems found on the pages of ``preview`` (a folder of .html files); [] when none.
    Also returns per-page facts through :func:`visit` for tests that need the page text."""
    return visit(preview, settle_s)[0]


def visit(preview: Path, settle_s: float = 0.4) -> tuple[list[str], dict[str, dict]]:
    """(problems, {page path relative to preview: probe result with 'problems'})."""
    if CHROMIUM is None:
        raise RuntimeError("headless Chromium is not installed")
    preview = Path(preview).resolve()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(preview)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}/"
    pages = sorted(p.relative_to(preview).as_posix() for p in preview.rglob("*.html"))
    facts, problems = {}, []
    with tempfile.TemporaryDirectory() as profile:
        browser = _Browser(Path(profile))
        try:
            for page in pages:
                browser.events = []
                browser.call("Page.navigate", url=origin + page)
                browser.wait_load()
                time.sleep(settle_s)  # DataTables loads as a module after the load event
                result = browser.call("Runtime.evaluate", expression=_PROBE, returnByValue=True)
                probe = json.loads(result["result"]["value"])
                own = _problems(browser.events, origin)
                if probe["drawn"] < probe["charts"]:
                    own.append(f"{probe['charts'] - probe['drawn']} of {probe['charts']} charts did not draw")
                probe["problems"] = own
                facts[page] = probe
                problems += [f"{page}: {p}" for p in own]
        finally:
            browser.close()
            server.shutdown()
    for page, probe in facts.items():  # internal links and anchors
        for href in probe["links"]:
            if not href.startswith(origin):
                continue
            url, fragment = urldefrag(href)
            target = unquote(urlparse(url).path).lstrip("/") or "index.html"
            if target.endswith("/"):
                target += "index.html"
            if not (preview / target).is_file():
                problems.append(f"{page}: broken link {href[len(origin):]}")
            elif fragment and target in facts and unquote(fragment) not in facts[target]["ids"]:
                problems.append(f"{page}: missing anchor {href[len(origin):]}")
    return problems, facts


def screenshots(preview: Path, shots: list[tuple[str, int, Path]], height: int = 2000, settle_s: float = 1.0) -> list[dict]:
    """Save PNGs of preview pages: (page, viewport width in px, output file); returns, per page,
    the widths of the document and of its widest chart (a chart wider than the page is cut off)."""
    import base64

    preview = Path(preview).resolve()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(preview)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}/"
    out = []
    with tempfile.TemporaryDirectory() as profile:
        browser = _Browser(Path(profile))
        try:
            for page, width, target in shots:
                browser.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                             mobile=width < 600)
                browser.call("Page.navigate", url=origin + page)
                browser.wait_load()
                time.sleep(settle_s)
                probe = browser.call("Runtime.evaluate", returnByValue=True, expression=(
                    "JSON.stringify({viewport: document.documentElement.clientWidth, scroll: document.documentElement.scrollWidth,"
                    " chart: Math.max(0, ...[...document.querySelectorAll('.plotly-graph-div')].map(d => d.getBoundingClientRect().right))})"))
                data = browser.call("Page.captureScreenshot", format="png")["data"]
                Path(target).parent.mkdir(parents=True, exist_ok=True)
                Path(target).write_bytes(base64.b64decode(data))
                out.append({"page": page, "width": width, **json.loads(probe["result"]["value"])})
        finally:
            browser.close()
            server.shutdown()
    return out
