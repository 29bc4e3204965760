"""How much of a file's text ended up in utterances, and what was skipped, where and why.

Run by :func:`analysis.ingest.parse_text` after every parser, so no format can drop text
silently. Words are runs of letters and digits (``[^\\W_]+``, lower-cased), counted after
removing tags (``<v Dana>``, ``<c>``, ``{\\an8}``) and timestamps.

* Line-based formats (captions, text exports) are checked line by line, independently of what
  the parser says it did: a non-blank line is *in utterances* when its text (past a label or
  timestamp; its last 80 characters if longer), or else its words in order, occur in the
  segments that start on that line or last before it, or run on from the group before
  (their text and speaker label); a line of only timing (``-->``, timestamps) or a cue number is markup; any other
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
import itertools
import re
from bisect import bisect_right
from collections.abc import Iterator

from .base import SKIP_KINDS, Transcript

_WORD = re.compile(r"[^\W_]+")
_TAG = re.compile(r"<[^<>\n]*>|\{\\[^{}\n]*\}")
_SPACE = re.compile(r" ")
_TIME = re.compile(r"\d{1,3}(?::\d{1,2}){1,2}(?:[.,]\d{1,3})?")
_IN_UTTERANCES = "in_utterances"


def words(text: str) -> list[str]:
    """The words of ``text`` as coverage counts them (markup and timestamps removed)."""
    if "&" in text:
        text = html.unescape(text)
    if "<" in text or "{" in text:  # the substitutions only where they can match: most lines have neither
        text = _TAG.sub(" ", text)
    if ":" in text:
        text = _TIME.sub(" ", text)
    return _WORD.findall(text.lower())


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


def summary(c: dict) -> str:
    """One line of a file's coverage (the dict :func:`measure` makes, with an optional "file"):
    share in utterances and the skipped words by kind, with their lines."""
    skipped = "; ".join(f"{s['kind']} {s['words']} words (line{'s' if s['end_line'] != s['line'] else ''} "
                        f"{s['line']}{'' if s['end_line'] == s['line'] else '-' + str(s['end_line'])})"
                        if s["line"] is not None else f"{s['kind']} {s['words']} words ({s['reason']})"
                        for s in c["skipped"][:6])
    more = f"; ... {len(c['skipped']) - 6} more" if len(c["skipped"]) > 6 else ""
    if c.get("kind") == "summary":
        return f"{c.get('file', '')} summary page (metadata, not speech); skipped: {skipped}{more}"
    return (f"{c.get('file', '')} {100 * c['share']:.1f}% of the text (characters) in utterances"
            + (f", unexplained {c['unexplained_words']} words" if c["unexplained_words"] else "")
            + (f"; skipped: {skipped}{more}" if skipped else ""))


def _entry(line, end_line, kind, reason, text) -> dict:
    return {"line": line, "end_line": end_line if end_line is not None else line, "kind": kind,
            "reason": reason, "words": len(words(text)), "chars": len(text.strip()),
            "text": " ".join(text.split())[:80]}


def _units(skips) -> list[dict]:
    return [_entry(s.line, s.end_line, s.kind, s.reason, s.text) for s in skips]


class _Groups:
    """Segments grouped by the line they start on: their text (with speaker labels, whitespace
    collapsed), and the same as words only (made per group on first use), searched near cursors
    that follow the file, so a huge segment is scanned once, not once per line. A line's piece
    is first looked for in its two groups' text together (when short), one scan that rules out
    most pieces that miss without changing what a hit finds."""

    def __init__(self, t: Transcript):
        by_line: dict[int, list[str]] = {}
        for seg in t.segments:
            if seg.line is not None:
                by_line.setdefault(seg.line, []).extend((seg.speaker or "", seg.text))
        self.starts = sorted(by_line)
        self.texts = [" ".join(" ".join(by_line[k]).split()) for k in self.starts]
        self.cursor = [0] * len(self.starts)
        self.word_texts = _WordTexts(self.texts)  # each group's made when a line first needs it
        self.word_cursor = [0] * len(self.starts)
        self._near = [(-1, None), (-1, None)]  # per kind of text (0 verbatim, 1 words): (g, neighbourhood)

    def group(self, line: int) -> int:
        """The group starting on or last before ``line`` (-1 before the first)."""
        return bisect_right(self.starts, line) - 1

    def _find(self, kind: int, g: int, pieces) -> bool:
        """Whether group ``g``, or the end of group ``g - 1`` running into it, holds one of
        ``pieces`` (tried in order; searched in the groups' texts, kind 0, or their words, kind 1)."""
        if g < 0:
            return False
        texts, cursor = (self.texts, self.cursor) if kind == 0 else (self.word_texts, self.word_cursor)
        near_g, near = self._near[kind]
        if near_g != g:  # group g - 1's text, a space and group g's: every place looked at below lies in it
            size = len(texts[g]) + (len(texts[g - 1]) + 1 if g else 0)
            near = None if size > _NEAR_MAX else f"{texts[g - 1]} {texts[g]}" if g else texts[g]
            self._near[kind] = (g, near)
        for piece in pieces:
            if near is not None and piece not in near:  # one scan rules out most pieces that miss
                continue
            for k in (g, g - 1):
                if k < 0:
                    continue
                hit = texts[k].find(piece, max(0, cursor[k] - 2000), cursor[k] + 4 * len(piece) + 2000)
                if hit >= 0:
                    cursor[k] = hit + len(piece)
                    return True
            n = len(piece)
            if g >= 1 and piece in f"{texts[g - 1][-n:]} {texts[g][:n]}":  # a line ending one group, starting the next
                return True
        return False

    def holds(self, g: int, pieces) -> bool:
        """Whether group ``g`` (or ``g - 1`` running into it) holds one of ``pieces`` verbatim."""
        return self._find(0, g, pieces)

    def holds_words(self, g: int, toks: list[str]) -> bool:
        """Whether a line's words occur in this order in group ``g`` (or run on from ``g - 1``):
        for lines the parser reworded (markup, labels or turn marks removed)."""
        return self._find(1, g, (" ".join(toks),))


_NEAR_MAX = 8000  # characters of two groups' text still checked whole for a piece


class _WordTexts:
    """The words of each group's text joined by spaces, indexed like the groups' texts and made
    on first use: most lines are found verbatim, so most groups never need theirs."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.made: dict[int, str] = {}

    def __getitem__(self, k: int) -> str:
        out = self.made.get(k)
        if out is None:
            out = self.made[k] = " ".join(words(self.texts[k]))
        return out


def _verbatim_pieces(line: str) -> Iterator[str]:
    """What of ``line`` a segment holds verbatim when it holds the line, most likely first: its
    last 80 characters, or for a shorter line the line from its first, second, ... word on
    (past a label or timestamp); tags removed, entities decoded, whitespace collapsed."""
    if "<" in line or "{" in line or "&" in line:
        line = html.unescape(_TAG.sub("", line))
    if "  " in line or "\t" in line:
        line = " ".join(line.split())
    if len(line) > 80:
        yield line[-80:]
        return
    yield line
    for m in itertools.islice(_SPACE.finditer(line, 0, max(12, len(line) * 2 // 5)), 4):
        yield line[m.end():]


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
        g = groups.group(i)
        if groups.holds(g, _verbatim_pieces(line)):
            last_class = _IN_UTTERANCES
            continue
        if "-->" in line:
            timing += 1
            continue
        toks = words(line)
        if not toks or (len(toks) == 1 and line.isdigit()):
            markup += 1
            continue
        if groups.holds_words(g, toks):
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
