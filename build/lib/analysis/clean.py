"""Flag what is not conversation (cues, hallucination loops, sponsor reads, cold opens, ...)
without deleting it: each utterance gets ``flags`` and a human-readable ``flag_reason``.

All detectors use general signals (phrases, repetition, timestamps), never offsets of a
particular file. They operate on one episode's utterances as a list of dicts with at least
``text``, ``raw_text``, ``word_count`` and ``start_s`` (seconds or None), in order.
"""
from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise

FLAGS = ("nonspeech", "hallucination_loop", "timestamp_regression", "past_runtime",
         "sponsor", "promo", "cold_open")

# ---------------------------------------------------------------- non-speech cues

_CUE_WORDS = (r"music|laugh\w*|chuckl\w*|applause|clapping|inaudible|crosstalk|silence|sigh\w*|"
              r"cough\w*|beep\w*|intro|outro|jingle|theme|sound effect|static|unintelligible|"
              r"background noise|pause")
CUE = re.compile(rf"[(\[](?=[^)\]]*\b(?:{_CUE_WORDS})\b)[A-Za-z' -]{{1,40}}[)\]]|♪[^♪\n]{{0,80}}♪|♪",
                 re.IGNORECASE)
_EDGE_CUES = re.compile(rf"^(?:\s*(?:{CUE.pattern}))+|(?:\s*(?:{CUE.pattern}))+\s*$", re.IGNORECASE)


def split_edge_cues(text: str) -> list[tuple[str, bool]]:
    """Split cues at the start or end of ``text`` into their own pieces: [(piece, is_cue)].

    "(upbeat music) Hey, everyone." -> [("(upbeat music)", True), ("Hey, everyone.", False)].
    Cues inside the text stay there (they are removed from the clean ``text`` later).
    """
    pieces: list[tuple[str, bool]] = []
    lead = re.match(rf"^(?:\s*(?:{CUE.pattern}))+", text, re.IGNORECASE)
    if lead:
        pieces.append((lead.group().strip(), True))
        text = text[lead.end():]
    trail = re.search(rf"(?:\s*(?:{CUE.pattern}))+\s*$", text, re.IGNORECASE)
    body, tail = (text[:trail.start()], trail.group().strip()) if trail else (text, "")
    if body.strip():
        pieces.append((body.strip(), False))
    if tail:
        pieces.append((tail, True))
    return pieces


def strip_cues(text: str) -> str:
    return " ".join(CUE.sub(" ", text).split())


# ---------------------------------------------------------------- flagging

def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9' ]+", "", text.lower()).strip()


def _add(utt: dict, flag: str, reason: str) -> None:
    if flag not in utt["flags"]:
        utt["flags"].append(flag)
        utt["reasons"].append(reason)


def flag_nonspeech(utts: list[dict]) -> None:
    for u in utts:
        if u["word_count"] == 0:
            _add(u, "nonspeech", f"only a non-speech cue: {u['raw_text'][:40]}")


def flag_loops(utts: list[dict], max_words: int = 3, min_run: int = 6, dominance: float = 0.7) -> None:
    """Runs of >= ``min_run`` consecutive short segments (<= ``max_words`` words) in which one
    text makes up >= ``dominance`` of the run: the signature of ASR hallucination loops."""
    i = 0
    while i < len(utts):
        j = i
        while j < len(utts) and 0 < utts[j]["word_count"] <= max_words:
            j += 1
        run = utts[i:j]
        if len(run) >= min_run:
            text, n = Counter(_norm(u["text"]) for u in run).most_common(1)[0]
            if n >= dominance * len(run):
                for u in run:
                    _add(u, "hallucination_loop", f"{len(run)} short segments in a row, {n}x {text!r}")
        i = max(j, i + 1)


def flag_time_anomalies(utts: list[dict], duration_s: float | None, tolerance_s: float = 1.0) -> None:
    """Timestamps earlier than one already seen (regressions) and starts past the known runtime."""
    latest = None
    for u in utts:
        start = u["start_s"]
        if start is None:
            continue
        if latest is not None and start < latest - tolerance_s:
            _add(u, "timestamp_regression", f"starts at {start:.0f}s, after a segment at {latest:.0f}s")
        latest = start if latest is None else max(latest, start)
        if duration_s and start > duration_s + tolerance_s:
            _add(u, "past_runtime", f"starts at {start:.0f}s, past the runtime of {duration_s:.0f}s")


# How reads are announced: "brought to you by", "this episode is sponsored by", "support for this
# show comes from", "thanks to our sponsor", "a quick message from our partners", "today's sponsor is".
_SPONSOR_START = re.compile(
    r"\b(?:brought to you by|(?:sponsored|presented|underwritten) by|made possible by|"
    r"(?:a |short |quick )?(?:word|message|break) from (?:our|this week's|today's) (?:\w+ )*(?:sponsors?|partners?)|"
    r"thanks to (?:our|this week's|today's) (?:\w+ )?sponsors?|"
    r"(?:our|today's|this week's|this episode's) sponsors? (?:today |this week )?(?:is|are)|"
    r"support for (?:this|the|today's|our) (?:show|episode|podcast|program)\b.{0,40}?\bcomes? from|"
    r"this (?:episode|show|podcast) is (?:also )?(?:brought|sponsored|supported))\b", re.IGNORECASE)
_CALL_TO_ACTION = re.compile(
    r"\b[\w-]+(?:\.| dot )(?:com|io|ai|org|net|co|dev|fm|app|so|xyz|tv|me|us|video|shop)\b(?:\s*(?:/|slash)\s*\w+)?|"
    r"\b(?:promo|discount|coupon|use) code\b|\b(?:slash|dot) [A-Z]\w+|\brequest a demo\b|"
    r"\b(?:[A-Z]-){2,}[A-Z]\b|\btext [A-Z]{2,}\w* to \d{4,}|\b(?:\d+\s?%|\w+ percent) off\b|"
    r"\bfirst (?:month|week|order|box) (?:free|for free)\b|\bfree trial\b|\bdownload the app\b", re.IGNORECASE)
_PROMO = re.compile(
    r"\b(?:subscribe to (?:the|our) (?:show|channel|podcast|newsletter)|leav(?:e|ing) (?:us )?a (?:rating|review)|"
    r"giving us a rating|find all (?:the )?past episodes|hit the (?:like|subscribe)|"
    r"see you in the next episode|thank(?:s| you)(?: so much)? for listening)\b", re.IGNORECASE)


def flag_sponsors(utts: list[dict], max_gap_words: int = 250) -> None:
    """Sponsor reads: from an announcement ("brought to you by", "support for this show comes
    from", "today's sponsor is", ...) through the last call to action (a URL, "slash name",
    promo code, spelled-out domain, "text CODE to 55222", "20% off", "free trial")
    that follows within ``max_gap_words`` of the previous one; back-to-back reads chain."""
    i = 0
    while i < len(utts):
        if not _SPONSOR_START.search(utts[i]["text"]):
            i += 1
            continue
        end, words_since, j = None, 0, i
        while j < len(utts) and words_since <= max_gap_words:
            if _CALL_TO_ACTION.search(utts[j]["text"]):
                end, words_since = j, 0
            else:
                words_since += utts[j]["word_count"]
            j += 1
        if end is None:
            i += 1
            continue
        for u in utts[i:end + 1]:
            _add(u, "sponsor", "sponsor read: announcement and call to action (URL, code)")
        i = end + 1


def flag_promos(utts: list[dict]) -> None:
    """Show promotion read by the host (subscribe, leave a review, see you next episode)."""
    for u in utts:
        if _PROMO.search(u["text"]):
            _add(u, "promo", "show promotion: " + _PROMO.search(u["text"]).group(0))
    # the sentences between two promo sentences belong to the same read
    idx = [k for k, u in enumerate(utts) if "promo" in u["flags"]]
    for a, b in pairwise(idx):
        if b - a <= 4:
            for u in utts[a + 1:b]:
                _add(u, "promo", "inside a show promotion")


def shingles(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = _norm(text).split()
    return {tuple(words[k:k + n]) for k in range(len(words) - n + 1)}


def flag_cold_open(utts: list[dict], window_share: float = 0.15, window_max_words: int = 1500,
                   containment: float = 0.35, max_gap_words: int = 30, min_distance: int = 20) -> None:
    """A cold open: the episode opens with passages that are said again later.

    An utterance in the opening window (the first ``window_share`` of words, at most
    ``window_max_words``) matches when >= ``containment`` of its word 4-grams occur again at
    least ``min_distance`` utterances later. The cold open runs from the first utterance (which must match, or follow a match
    within ``max_gap_words``) to the last match before ``max_gap_words`` unmatched words in a row.
    """
    total = sum(u["word_count"] for u in utts)
    limit, seen, cut = min(total * window_share, window_max_words), 0, 0
    while cut < len(utts) and seen < limit:
        seen += utts[cut]["word_count"]
        cut += 1
    last_seen: dict[tuple[str, ...], int] = {}  # 4-gram -> index of the last utterance with it
    for k, u in enumerate(utts):
        for g in shingles(u["text"]):
            last_seen[g] = k
    last, gap, matches = None, 0, 0
    for k, u in enumerate(utts[:cut]):
        grams = shingles(u["text"])
        again = sum(last_seen[g] >= k + min_distance for g in grams)
        if len(grams) >= 2 and again >= containment * len(grams):
            last, gap, matches = k, 0, matches + 1
        else:
            gap += u["word_count"]
            if gap > max_gap_words:
                break
    if last is None or matches < 2:
        return
    for k in range(last + 1):
        _add(utts[k], "cold_open", "cold open: the episode opens with passages said again later")


def flag_episode(utts: list[dict], duration_s: float | None = None) -> None:
    """Run every detector on one episode's utterances (in place)."""
    for u in utts:
        u.setdefault("flags", [])
        u.setdefault("reasons", [])
    flag_nonspeech(utts)
    speech = [u for u in utts if "nonspeech" not in u["flags"]]
    flag_loops(speech)
    flag_time_anomalies(utts, duration_s)
    flag_sponsors(speech)
    flag_promos(speech)
    flag_cold_open([u for u in speech if "hallucination_loop" not in u["flags"]])
