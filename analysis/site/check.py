"""Open every preview page in headless Chromium (network off, the preview served on
localhost) at a desktop and a phone width and report what a reader would hit: console errors
and exceptions, a dialog (an injected alert), a request leaving the site, a Plotly chart that
did not draw, an internal link or anchor that does not resolve; and, at each width, a legend
that scrolls or runs off its chart, chart labels drawn over one another, a trace with Plotly's
default hover (raw field names), a table wider than the page, a squeezed table column, and a
time broken over two lines."""
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
WIDTHS = (1400, 390)  # a desktop and a phone viewport, px
SQUEEZED_LINES, SQUEEZED_EM = 8, 11  # a cell of plain text taller than this many lines in a column narrower than
# this many em sits in a column too narrow for it
# Runs in each page once it has loaded: what it links to, its ids, and its charts.
_PROBE = """(() => {
  const charts = [...document.querySelectorAll('.plotly-graph-div')];
  return JSON.stringify({
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    charts: charts.length,
    drawn: charts.filter(c => c.querySelector('svg.main-svg')).length,
    tables: document.querySelectorAll('.dt-container').length,
    turns: document.querySelectorAll('section.turn').length,
    sentences: document.querySelectorAll('section.turn .s').length,
    bands: document.querySelectorAll('.band').length,
    band_labels: document.querySelectorAll('.band > .band-label').length,
    text: document.body.innerText,
  });
})()"""
# Runs at each width: what does not fit or cannot be read (one message per problem).
_LAYOUT = """(() => {
  const out = [], vw = document.documentElement.clientWidth;
  const box = e => e.getBoundingClientRect();
  const overlap = (a, b) => Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left))
                          * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
  const shown = e => { const r = box(e); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== 'hidden'
                       && e.textContent.trim() !== ''; };
  // turned tick labels (Plotly turns them so they clear one another) have boxes that overlap by geometry
  const turned = e => /rotate\\((?!0[,)])/.test(e.getAttribute('transform') || '');
  document.querySelectorAll('.plotly-graph-div').forEach((gd, i) => {
    const name = (gd.closest('figure')?.querySelector('.figure-title')?.textContent || 'chart ' + (i + 1)).trim().slice(0, 60);
    const chart = box(gd);
    gd.querySelectorAll('g.legend').forEach(lg => {
      const sb = lg.querySelector('.scrollbar'), r = box(lg);
      if (sb && box(sb).height > 0) out.push(`"${name}": its legend scrolls, hiding entries`);
      if (r.right > chart.right + 1 || r.right > vw + 1) out.push(`"${name}": its legend runs off the right edge`);
    });
    const labels = [...gd.querySelectorAll('g.xtick text, g.ytick text, text.bartext, g.textpoint text, g.legendtext, '
                   + 'g.annotation-text-g text, g.g-xtitle text, g.g-ytitle text, g.hm text, g.heatmaplayer text')]
                   .filter(e => shown(e) && !turned(e));
    let hits = 0;
    for (let a = 0; a < labels.length && hits < 3; a++) for (let b = a + 1; b < labels.length && hits < 3; b++) {
      const ra = box(labels[a]), rb = box(labels[b]);
      if (overlap(ra, rb) > 0.25 * Math.min(ra.width * ra.height, rb.width * rb.height)) {
        hits++; out.push(`"${name}": labels drawn over one another ("${labels[a].textContent}" / "${labels[b].textContent}")`);
      }
    }
    (gd.data || []).forEach(t => {
      const info = typeof t.hoverinfo === 'string' ? t.hoverinfo : '';
      if (!t.hovertemplate && !['skip', 'none'].includes(info) && !(info === 'text' && t.hovertext))
        out.push(`"${name}": trace "${t.name || t.type}" has no hover template`);
    });
  });
  document.querySelectorAll('.figure-legend ul').forEach(ul => {
    if (ul.scrollWidth > ul.clientWidth + 1 || box(ul).right > vw + 1) out.push('a legend runs off the page');
  });
  document.querySelectorAll('.table-wrap, .dt-container').forEach((t, i) => {
    const head = (t.querySelector('th')?.textContent || 'table ' + (i + 1)).trim().slice(0, 40);
    if (t.scrollWidth > t.clientWidth + 1 || box(t).right > vw + 1) out.push(`table "${head}": cut off on the right`);
    const cells = [...t.querySelectorAll('td')].filter(td => !td.querySelector('blockquote, table'));
    const tall = cells.find(td => { const st = getComputedStyle(td), lh = parseFloat(st.lineHeight) || 1.5 * parseFloat(st.fontSize);
                                    const r = document.createRange(); r.selectNodeContents(td);
                                    return st.display === 'table-cell' && r.getBoundingClientRect().height > __LINES__ * lh
                                           && box(td).width < __EM__ * parseFloat(st.fontSize); });
    if (tall) out.push(`table "${head}": a column too narrow for its text ("${tall.textContent.trim().slice(0, 40)}")`);
  });
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const time = /~?\\d{1,2}:\\d\\d(?::\\d\\d)?/g;
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    for (const m of n.textContent.matchAll(time)) {
      const r = document.createRange(); r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
      const lines = new Set([...r.getClientRects()].filter(q => q.width > 0).map(q => Math.round(q.top)));
      if (lines.size > 1) { out.push(`a time broken over two lines: "${m[0]}"`); break; }
    }
  }
  return JSON.stringify(out);
})()""".replace("__LINES__", str(SQUEEZED_LINES)).replace("__EM__", str(SQUEEZED_EM))


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


def visit(preview: Path, settle_s: float = 0.4, widths: tuple[int, ...] = WIDTHS) -> tuple[list[str], dict[str, dict]]:
    """(problems, {page path relative to preview: probe result with 'problems'}); the page is
    probed at the first of ``widths`` and its layout checked at each."""
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
                probe, own = None, []
                for width in widths:
                    browser.events = []
                    browser.call("Emulation.setDeviceMetricsOverride", width=width, height=900, deviceScaleFactor=1,
                                 mobile=width < 600)
                    browser.call("Page.navigate", url=origin + page)
                    browser.wait_load()
                    time.sleep(settle_s)  # DataTables loads as a module after the load event
                    if probe is None:
                        probe = json.loads(browser.call("Runtime.evaluate", expression=_PROBE,
                                                        returnByValue=True)["result"]["value"])
                        own += _problems(browser.events, origin)
                        if probe["drawn"] < probe["charts"]:
                            own.append(f"{probe['charts'] - probe['drawn']} of {probe['charts']} charts did not draw")
                    layout = json.loads(browser.call("Runtime.evaluate", expression=_LAYOUT,
                                                     returnByValue=True)["result"]["value"])
                    own += [f"at {width} px: {p}" for p in layout]
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
