"""Grounded summaries: an episode summary, a summary per chapter, and chapters (start and title,
with their summaries) for episodes without a chapter list with times.

The transcript is sent as citable passages (runs of one speaker's consecutive utterances of
about UNIT_WORDS words, each named by its first utterance's order); every bullet must cite
passages that were sent (for a chapter: passages inside it), else the response is rejected."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .cache import Answer
from .prompts import InvalidResponse, Prompt, Request, obj
from .tables import CHAPTERS, SUMMARIES

UNIT_WORDS = 100  # a citable passage grows to about this many words
MAX_TITLE_WORDS = 10
_BULLETS = {"type": "array", "items": obj({"text": {"type": "string"},
                                           "citations": {"type": "array", "items": {"type": "integer"}}})}
_GROUNDING = ("The transcript is a list of passages; each starts with its id in square brackets, then its "
              "time and speaker. Every bullet is one or two sentences, says who holds a view where it "
              "matters, and cites the ids of the 1 to 4 passages it is based on (only ids that appear "
              "in the transcript). Transcripts contain speech-recognition errors and inferred "
              "speakers: state only what the passages support.")
EPISODE = Prompt("episode_summary", 1, max_output_tokens=1200, schema=obj({"bullets": _BULLETS}),
                 system="You summarise a podcast episode for readers of an analysis site. Write 4 to 8 bullets "
                        "covering its main points in the order they come up. " + _GROUNDING)
CHAPTER = Prompt("chapter_summary", 1, max_output_tokens=600, schema=obj({"bullets": _BULLETS}),
                 system="You summarise one chapter of a podcast episode for readers of an analysis site. Write "
                        "1 to 4 bullets covering what is said in it. " + _GROUNDING)
CHAPTERS_PROMPT = Prompt(
    "chapters", 1, max_output_tokens=2500,
    schema=obj({"chapters": {"type": "array", "items": obj({"start": {"type": "integer"}, "title": {"type": "string"},
                                                            "bullets": _BULLETS})}}),
    system="You divide a podcast episode into chapters for readers of an analysis site: 3 to 12 chapters, "
           "each starting where the conversation turns to a new subject (typically every 5 to 10 minutes). "
           "The first chapter starts at the first passage. For each chapter give the id of the passage "
           f"where it starts, a short title (at most {MAX_TITLE_WORDS} words) and 1 to 3 bullets summarising "
           "it that cite passages inside the chapter. " + _GROUNDING)


@dataclass(frozen=True)
class Section:
    """What one request summarises, and the passages it may cite (order -> citation label)."""
    episode_id: str
    section: str  # "episode", "chapter", or "chapters" (to be generated)
    chapter_index: int | None
    start_s: float | None
    title: str | None
    cites: dict  # passage id (utterance order) -> "<episode>:<order>@<m:ss>"
    times: dict  # passage id -> (start_s, time_source)


def clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def passages(utts: pd.DataFrame) -> pd.DataFrame:
    """Citable passages of one episode's conversation (columns ``order``, ``start_s``,
    ``time_source``, ``speaker``, ``text``, ``words``), in order."""
    conv = utts[utts["is_conversation"] & (utts["word_count"] > 0)].sort_values("order")
    rows: list[dict] = []
    for u in conv.itertuples():
        speaker = u.speaker if isinstance(u.speaker, str) else "unknown speaker"
        last = rows[-1] if rows else None
        if last and last["speaker"] == speaker and last["words"] + u.word_count <= UNIT_WORDS * 1.3 \
                and last["words"] < UNIT_WORDS:
            last["text"] += " " + u.text
            last["words"] += u.word_count
        else:
            rows.append({"order": int(u.order), "start_s": u.start_s, "time_source": u.time_source,
                         "speaker": speaker, "text": u.text, "words": int(u.word_count)})
    return pd.DataFrame(rows, columns=["order", "start_s", "time_source", "speaker", "text", "words"])


def _transcript(units: pd.DataFrame) -> str:
    return "\n".join(f"[{u.order}] " + (f"({clock(u.start_s)}) " if not math.isnan(u.start_s) else "")
                     + f"{u.speaker}: {u.text}" for u in units.itertuples())


def _section(units: pd.DataFrame, episode_id: str, **kw) -> Section:
    cites = {int(u.order): f"{episode_id}:{u.order}" + ("" if math.isnan(u.start_s) else f"@{clock(u.start_s)}")
             for u in units.itertuples()}
    times = {int(u.order): (None if math.isnan(u.start_s) else float(u.start_s), u.time_source)
             for u in units.itertuples()}
    return Section(episode_id, cites=cites, times=times, **kw)


def _check_bullets(bullets: list[dict], allowed, where: str) -> None:
    if not bullets:
        raise InvalidResponse(f"{where}: no bullets")
    for b in bullets:
        if not b["text"].strip() or not b["citations"]:
            raise InvalidResponse(f"{where}: a bullet without text or citations")
        bad = [c for c in b["citations"] if c not in allowed]
        if bad:
            raise InvalidResponse(f"{where}: cites passage(s) {bad} that were not sent for it")


def _check_chapters(response: dict, section: Section, where: str) -> None:
    chapters, ids = response["chapters"], sorted(section.cites)
    starts = [c["start"] for c in chapters]
    if not chapters:
        raise InvalidResponse(f"{where}: no chapters")
    if any(s not in section.cites for s in starts) or starts != sorted(set(starts)):
        raise InvalidResponse(f"{where}: chapter starts {starts} are not increasing passage ids that were sent")
    for c, end in zip(chapters, starts[1:] + [math.inf]):
        if not c["title"].strip() or len(c["title"].split()) > MAX_TITLE_WORDS:
            raise InvalidResponse(f"{where}: chapter title {c['title'][:80]!r} empty or too long")
        _check_bullets(c["bullets"], {i for i in ids if c["start"] <= i < end}, f"{where}, chapter at {c['start']}")


def requests(utterances: pd.DataFrame, chapters: pd.DataFrame, episodes: pd.DataFrame) -> list[tuple[Request, Section]]:
    """Per episode: its summary, then a summary per chapter of its chapter list when that has
    start times, else one request generating chapters."""
    out = []
    for ep in episodes.sort_values("episode_id").itertuples():
        units = passages(utterances[utterances["episode_id"] == ep.episode_id])
        if units.empty:
            continue
        head = f"Episode: {ep.title} ({ep.show})\n"
        whole = f"{head}\nTranscript:\n{_transcript(units)}"
        sec = _section(units, ep.episode_id, section="episode", chapter_index=None, start_s=None, title=ep.title)
        out.append(_request(EPISODE, f"summary of {ep.episode_id}", whole, sec))
        listed = chapters[(chapters["episode_id"] == ep.episode_id) & chapters["start_s"].notna()
                          & (chapters["source"] == "chapter_list")].sort_values("start_s")
        if listed.empty:
            sec = _section(units, ep.episode_id, section="chapters", chapter_index=None, start_s=None, title=None)
            out.append(_request(CHAPTERS_PROMPT, f"chapters of {ep.episode_id}", whole, sec))
            continue
        ends = list(listed["start_s"].iloc[1:]) + [math.inf]
        for ch, end in zip(listed.itertuples(), ends):
            inside = units[(units["start_s"] >= ch.start_s) & (units["start_s"] < end)]
            if inside.empty:
                continue
            title = ch.title if isinstance(ch.title, str) else f"chapter {ch.chapter_index}"
            sec = _section(inside, ep.episode_id, section="chapter", chapter_index=int(ch.chapter_index),
                           start_s=float(ch.start_s), title=title)
            out.append(_request(CHAPTER, f"chapter {ch.chapter_index} of {ep.episode_id}",
                                f"{head}Chapter: {title}\n\nTranscript:\n{_transcript(inside)}", sec))
    return out


def _request(prompt: Prompt, item: str, user: str, sec: Section) -> tuple[Request, Section]:
    where = f"{prompt.task} response for {item}"
    if prompt is CHAPTERS_PROMPT:
        def check(r):
            _check_chapters(r, sec, where)
    else:
        def check(r):
            _check_bullets(r["bullets"], sec.cites, where)
    return Request(prompt, item, user, check=check), sec


def _row(sec: Section, bullets: list[dict], answer: Answer, prompt: Prompt, **kw) -> dict:
    cited: list[str] = []
    lines = []
    for b in bullets:
        labels = [sec.cites[c] for c in b["citations"]]
        cited += [c for c in labels if c not in cited]
        lines.append(f"- {' '.join(b['text'].split())} [{'; '.join(labels)}]")
    row = {"episode_id": sec.episode_id, "section": sec.section, "chapter_index": sec.chapter_index,
           "start_s": sec.start_s, "title": sec.title}
    row.update(kw)
    return {**row, "text": "\n".join(lines), "citations": "; ".join(cited), "model": answer.model,
            "prompt_version": prompt.version_label}


def tables(results: list[tuple[Section, Answer]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tables ``llm_summaries`` and ``llm_chapters`` from the answered sections."""
    summaries, chapters = [], []
    for sec, answer in results:
        if sec.section != "chapters":
            summaries.append(_row(sec, answer.response["bullets"], answer, EPISODE if sec.section == "episode"
                                  else CHAPTER))
            continue
        for i, c in enumerate(answer.response["chapters"]):
            start_s, source = sec.times[c["start"]]
            title = " ".join(c["title"].split())
            chapters.append({"episode_id": sec.episode_id, "chapter_index": i, "start_order": c["start"],
                             "start_s": start_s, "time_source": source, "title": title, "model": answer.model,
                             "prompt_version": CHAPTERS_PROMPT.version_label})
            summaries.append(_row(sec, c["bullets"], answer, CHAPTERS_PROMPT, section="chapter", chapter_index=i,
                                  start_s=start_s, title=title))
    s = pd.DataFrame(summaries, columns=SUMMARIES.column_names)
    s = s.sort_values(["episode_id", "chapter_index"], na_position="first", kind="stable")
    return SUMMARIES.conform(s), CHAPTERS.conform(pd.DataFrame(chapters, columns=CHAPTERS.column_names))
