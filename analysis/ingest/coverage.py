"""How much of a file's text ended up in utterances, and what was skipped, where and why.

Run by :func:`analysis.ingest.parse_text` after every parser, so no format can drop text
silently. Words are runs of letters and digits (``[^\\W_]+``, lower-cased), counted after
removing tags (``<v Dana>``, ``<c>``, ``{\\an8}``) and timestamps.

* Line-based formats (captions, text exports) are checked line by line, independently of what
  the parser says it did: a non-blank line is *in utterances* when its end (up to 80
  characters) is verbatim in, or at least half its words occur in, the segments that start on
  or just before that line (their text and speaker label); a line of only timing (``-->``, timestamps) or a cue number is markup; any other
  line is skipped, with the reason the parser declared (:meth:`Transcript.skip`), as a header
  when its words are in the metadata or chapters, and otherwise as ``unread``: a loss nobody
  explained, which becomes a warning naming its lines.
* Structured formats (JSON, XML) have no meaningful lines: there the file's words are those of
  the units the parser read (segments, utterances, paragraphs), and a unit left out is
  reported by the parser with its index.

The share is counted in characters (segment text against skipped text that is not markup
or timing), which costs nothing on a 50 MB file; skipped runs also give their words.
"""
from __future__ import annotations

import html
import re
from bisect import bisect_right

from .base import SKIP_KINDS, Transcript

_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^<>\n]*>|\{\\[^{}\n]*\}")
_TIME = re.compile(r"\d{1,3}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?")
_IN_UTTERANCES = "in_utterances"


def words(text: str) -> list[str]:
    """The words of ``text`` as coverage counts them (markup and timestamps removed)."""
    if "&" in text:
        text = html.unescape(text)
    return _WORD.findall(_TIME.sub(" ", _TAG.sub(" ", text)).lower())


def measure(text: str, t: Transcript, line_based: bool = True) -> dict:
    """Fill ``t.coverage`` (see the module docstring) and warn about unexplained losses.

    Keys: ``kind`` (the transcript's: a summary page has no utterances); ``basis`` (lines or units); ``utterance_chars`` (characters of the segments' text)
    and ``skipped_chars`` (of the skipped text that is not markup or timing); ``share``
    (``utterance_chars`` over their sum); ``skipped_words`` (per kind); ``unexplained_words``
    (kind ``unread``); ``markup_lines``, ``timing_lines``; and ``skipped``: one entry per run
    of skipped lines (or per unit) with line, end_line, kind, reason, words, chars and the
    start of its text.
    """
    located = line_based and any(s.line is not None for s in t.segments)
    skipped, markup, timing = (_by_lines(text, t) if located or (line_based and not t.segments)
                               else (_units(t.skipped), 0, 0))
    said = sum(len(s.text) for s in t.segments)
    content = [s for s in skipped if s["kind"] not in ("markup", "timing")]
    lost = sum(s["chars"] for s in content)
    by_kind = {k: sum(s["words"] for s in content if s["kind"] == k) for k in SKIP_KINDS}
    t.coverage = {
        "kind": t.kind,
        "basis": "lines" if located or (line_based and not t.segments) else "units",
        "utterance_chars": said, "skipped_chars": lost,
        "share": round(said / (said + lost), 4) if said + lost else 1.0,
        "skipped_words": {k: n for k, n in by_kind.items() if n},
        "unexplained_words": by_kind["unread"],
        "markup_lines": markup, "timing_lines": timing, "skipped": skipped,
    }
    return t.coverage


def _entry(line, end_line, kind, reason, text) -> dict:
    return {"line": line, "end_line": end_line if end_line is not None else line, "kind": kind,
            "reason": reason, "words": len(words(text)), "chars": len(text.strip()),
            "text": " ".join(text.split())[:80]}


def _units(skips) -> list[dict]:
    return [_entry(s.line, s.end_line, s.kind, s.reason, s.text) for s in skips]


class _Groups:
    """Segments grouped by the line they start on: their text (with speaker labels) for a fast
    substring test, and their word sets, made only when a line needs the word test."""

    def __init__(self, t: Transcript):
        by_line: dict[int, list[str]] = {}
        for seg in t.segments:
            if seg.line is not None:
                by_line.setdefault(seg.line, []).extend((seg.speaker or "", seg.text))
        self.starts = sorted(by_line)
        self.texts = ["\n".join(by_line[k]) for k in self.starts]
        self._vocab: dict[int, set[str]] = {}

    def around(self, line: int) -> list[int]:
        """The group starting on or last before ``line``, and the one before it (which may run on)."""
        g = bisect_right(self.starts, line) - 1
        return [k for k in (g, g - 1) if k >= 0]

    def vocab(self, g: int) -> set[str]:
        if g not in self._vocab:
            self._vocab[g] = set(words(self.texts[g]))
        return self._vocab[g]


def _by_lines(text: str, t: Transcript) -> tuple[list[dict], int, int]:
    groups = _Groups(t)
    meta = set(words(" ".join([*t.metadata.keys(), *t.metadata.values()])))
    for c in t.chapters:
        meta.update(words(f"{c.title or ''} {c.summary or ''}"))
    declared = {}
    for s in t.skipped:
        if s.line is not None:
            for k in range(s.line, (s.end_line or s.line) + 1):
                declared.setdefault(k, s)
    markup = timing = 0
    runs: list[dict] = []
    last_class = None
    for i, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        near = groups.around(i)
        # fast path: the line's end (past any label or timestamp) is verbatim in a segment
        tail = line[-80:] if len(line) > 80 else line
        if any(tail in groups.texts[g] for g in near):
            last_class = _IN_UTTERANCES
            continue
        if "-->" in line:
            timing += 1
            continue
        toks = words(line)
        if not toks or (len(toks) == 1 and line.isdigit()):
            markup += 1
            continue
        if 2 * sum(any(w in groups.vocab(g) for g in near) for w in toks) >= len(toks):
            last_class = _IN_UTTERANCES
            continue
        if i in declared:
            kind, reason = declared[i].kind, declared[i].reason
        elif 2 * sum(w in meta for w in toks) >= len(toks):
            kind, reason = "header", "read into the metadata or chapters"
        else:
            kind, reason = "unread", "text in no utterance (not markup, timing or a known footer)"
        if kind in ("markup", "timing"):
            markup += kind == "markup"
            timing += kind == "timing"
            continue
        if runs and last_class == (kind, reason):
            run = runs[-1]
            run["end_line"], run["words"], run["chars"] = i, run["words"] + len(toks), run["chars"] + len(line)
        else:  # a declared skip's run starts where the parser says (a cue at its timing line)
            runs.append(_entry(min(i, declared[i].line) if i in declared else i, i, kind, reason, line))
        last_class = (kind, reason)
    for run in runs:
        if run["kind"] == "unread" and not any(
                s.kind == "unread" and s.line is not None and s.line <= run["line"] <= (s.end_line or s.line)
                for s in t.skipped):
            where = f"line {run['line']}" if run["end_line"] == run["line"] else f"lines {run['line']}-{run['end_line']}"
            t.warn(f"{run['words']} words on {where} are in no utterance: {run['text'][:60]!r}", line=run["line"])
    return runs + _units(s for s in t.skipped if s.line is None), markup, timing
