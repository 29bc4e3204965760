"""Give every utterance start/end seconds: file timestamps where the transcript has them,
else speaking-rate estimates pinned to anchors (chapter starts found in the text, the
catalog runtime) and interpolated between them.

Columns filled in the utterances table: ``start_s``, ``end_s`` (seconds from the episode
start), ``time_source`` (``file``, ``anchor_interpolated``, ``rate_estimated``) and
``time_uncertainty_s`` (seconds; 0 for file times).
"""
from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd

from ..catalog import Episode
from ..ingest import ParseError, parse_file
from . import reference

DEFAULT_RATE = 2.6  # words/second of conversation (pauses included) when nothing is calibrated
NONSPEECH_S = 5.0  # seconds a word-less flagged cue (music, laughter) is assumed to last
MAX_GAP_S = 30.0  # a file gap longer than this is not used to calibrate rates
ANCHOR_WINDOW_S = 240.0  # search this far either side of the rate-estimated chapter position
ANCHOR_MIN_OVERLAP = 2  # chapter title stems that must appear near the located utterance
ANCHOR_LOOKAHEAD = 3  # utterances (from the candidate on) whose words a chapter title is matched against
UNCERTAINTY_FRACTION = 0.08  # relative drift of rate estimates: uncertainty = this x distance to an anchor (s)
_STOP = {"with", "from", "that", "this", "what", "and", "the", "for", "how", "why", "are", "its", "into",
         "about", "your", "their", "they", "vs", "on", "of", "to", "in", "a"}


def file_times(utts: pd.DataFrame, runtime_s: float | None) -> pd.DataFrame:
    """One episode with timestamps: each utterance runs from its start to the next start.
    A start earlier than the one before (a regression) is dropped and interpolated; the
    last utterance ends at the runtime, or after its words at the default rate."""
    out = utts.sort_values("order").copy()
    start = out["start_s"].to_numpy(dtype=float)
    running = np.fmax.accumulate(np.nan_to_num(start, nan=-np.inf))
    bad = np.isnan(start) | (start < np.concatenate([[-np.inf], running[:-1]]))
    idx = np.arange(len(start))
    if (~bad).sum():
        start = np.where(bad, np.interp(idx, idx[~bad], start[~bad]), start)
    last_end = start[-1] + max(out["word_count"].iloc[-1] / DEFAULT_RATE, 1.0)
    end = np.append(start[1:], max(runtime_s or last_end, start[-1]))
    out["start_s"], out["end_s"] = start, end
    out["time_source"] = np.where(bad, "anchor_interpolated", "file")
    out["time_uncertainty_s"] = np.where(bad, np.diff(np.append(start, end[-1])), 0.0)
    return out


def speaking_rates(utterances: pd.DataFrame) -> dict[str, float]:
    """Words per second by speaker role (and ``all``), calibrated on utterances with file
    times: conversation words over the seconds from each start to the next (gaps over
    MAX_GAP_S ignored). Falls back to DEFAULT_RATE when there are none."""
    rates = {"all": DEFAULT_RATE}
    parts = []
    for _, ep in utterances[utterances["time_source"] == "file"].groupby("episode_id", sort=True):
        ep = ep.sort_values("order")
        dur = ep["start_s"].shift(-1) - ep["start_s"]
        parts.append(ep.assign(dur=dur)[(dur > 0) & (dur <= MAX_GAP_S) & ep["is_conversation"]])
    if not parts:
        return rates
    timed = pd.concat(parts)
    rates["all"] = timed["word_count"].sum() / timed["dur"].sum()
    for role, g in timed.groupby("speaker_role"):
        rates[str(role)] = g["word_count"].sum() / g["dur"].sum()
    return rates


def curated_rates(utterances: pd.DataFrame, episodes: list[Episode]) -> dict[str, float]:
    """:func:`speaking_rates` of the episodes that have a hand-made speaker reference only."""
    curated = [ep.id for ep in episodes if reference.path_for(ep.id).exists()]
    return speaking_rates(utterances[utterances["episode_id"].isin(curated)])


def raw_durations(utts: pd.DataFrame, rates: dict[str, float]) -> np.ndarray:
    """Seconds each utterance takes at its role's rate; word-less cues take NONSPEECH_S."""
    rate = utts["speaker_role"].map(lambda r: rates.get(r, rates["all"])).fillna(rates["all"]).to_numpy(float)
    words = utts["word_count"].to_numpy(float)
    return np.where(words > 0, words / rate, NONSPEECH_S)


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2 and w not in _STOP}


def locate_chapters(utts: pd.DataFrame, chapters: pd.DataFrame, est_start: np.ndarray) -> list[tuple[int, float]]:
    """(utterance position, chapter start s) anchors: for each chapter, in time order, the
    utterance after the previous anchor and within ANCHOR_WINDOW_S of its rate-estimated
    time (``est_start`` re-based on the previous anchor, so drift does not accumulate) whose
    next few utterances share the most title stems (at least ANCHOR_MIN_OVERLAP; ties go to
    the closest). A chapter at 0 s is the first utterance; unmatched chapters are skipped."""
    texts = utts["text"].fillna("").tolist()
    anchors: list[tuple[int, float]] = []
    for _, ch in chapters.dropna(subset=["start_s"]).sort_values("start_s").iterrows():
        t = float(ch["start_s"])
        if t <= 0:
            anchors.append((0, 0.0))
            continue
        title = _stems(ch["title"] or "")
        i0, t0 = anchors[-1] if anchors else (0, 0.0)
        est = t0 + est_start - est_start[i0]
        best, best_key = None, None
        for i in np.flatnonzero((np.abs(est - t) <= ANCHOR_WINDOW_S) & (np.arange(len(est)) > i0)):
            overlap = len(title & _stems(" ".join(texts[i:i + ANCHOR_LOOKAHEAD])))
            key = (overlap, -abs(est[i] - t))
            if overlap >= ANCHOR_MIN_OVERLAP and (best_key is None or key > best_key):
                best, best_key = int(i), key
        if best is not None and t > t0:
            anchors.append((best, t))
    return anchors


def estimate_times(utts: pd.DataFrame, rates: dict[str, float], chapters: pd.DataFrame | None = None,
                   runtime_s: float | None = None) -> pd.DataFrame:
    """One episode without timestamps: durations from speaking rates, scaled piecewise so
    that anchors (episode start, located chapter starts, the runtime at the end) hold.
    Between two anchors: ``anchor_interpolated``; after the last one: ``rate_estimated``."""
    out = utts.sort_values("order").copy()
    dur = raw_durations(out, rates)
    est = np.concatenate([[0.0], np.cumsum(dur)])  # boundaries: start of each utterance, then the end
    anchors = [(0, 0.0)]
    if chapters is not None and len(chapters):
        anchors = locate_chapters(out, chapters, est[:-1]) or anchors
        if anchors[0][0] != 0:
            anchors.insert(0, (0, 0.0))
    if runtime_s and runtime_s > anchors[-1][1]:
        anchors.append((len(out), float(runtime_s)))
    pos = np.array([a[0] for a in anchors])
    at = np.array([a[1] for a in anchors])
    times = est.copy()
    for (i0, t0), (i1, t1) in itertools.pairwise(anchors):
        span = est[i1] - est[i0]
        times[i0:i1 + 1] = t0 + (est[i0:i1 + 1] - est[i0]) * ((t1 - t0) / span if span > 0 else 0.0)
    tail = pos[-1]
    times[tail:] = at[-1] + est[tail:] - est[tail]
    idx = np.arange(len(out))
    before = np.searchsorted(pos, idx, side="right") - 1
    after = np.minimum(before + 1, len(pos) - 1)
    bounded = idx <= pos[-1]
    dist = np.where(bounded, np.minimum(times[idx] - at[before], at[after] - times[idx]), times[idx] - at[-1])
    out["start_s"], out["end_s"] = times[:-1], times[1:]
    out["time_source"] = np.where(bounded, "anchor_interpolated", "rate_estimated")
    out["time_uncertainty_s"] = np.round(UNCERTAINTY_FRACTION * np.maximum(dist, 0.0), 2)
    out.loc[np.isin(idx, pos), "time_uncertainty_s"] = 0.0
    return out


def chapter_list(ep: Episode) -> pd.DataFrame:
    """The transcript's own chapter list (columns ``start_s``, ``title``); empty when none."""
    try:
        tr = parse_file(ep.files_of("transcript")[0].path, ep.files_of("transcript")[0].format)
    except (ParseError, IndexError):
        return pd.DataFrame(columns=["start_s", "title"])
    return pd.DataFrame([{"start_s": c.start, "title": c.title} for c in tr.chapters], columns=["start_s", "title"])


def timing_stage(utterances: pd.DataFrame, episodes: list[Episode]) -> pd.DataFrame:
    """Corpus stage: file times where an episode has them, estimates elsewhere. Speaking rates
    are calibrated on the timestamped episodes that have a hand-made speaker reference (their
    roles are checked), so adding an episode never changes another episode's times."""
    rates = curated_rates(utterances, episodes)
    parts = []
    for ep in episodes:
        u = utterances[utterances["episode_id"] == ep.id]
        if u.empty:
            continue
        if u["start_s"].notna().mean() > 0.5:
            parts.append(file_times(u, ep.duration_s))
        else:
            parts.append(estimate_times(u, rates, chapter_list(ep), ep.duration_s))
    rest = utterances[~utterances["episode_id"].isin([ep.id for ep in episodes])]
    return pd.concat(parts + [rest]).sort_index()
