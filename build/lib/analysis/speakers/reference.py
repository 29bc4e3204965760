"""Reference speaker turns made by reading a transcript (``data/annotations/<episode id>.speakers.tsv``),
aligned word by word to the corpus: the ground truth that attribution is trained and scored on.

File format (tab-separated, ``#`` lines are comments, first other line is the header)::

    line    speaker         sure    at
    10      Sherwin Wu      yes     We want Chatchy BTS first party up.
    12      Martin Casado   no      Sure, and thanks very much

Each row starts a turn: it begins at the first occurrence of the words ``at`` (exact words of
the raw file, whitespace-insensitive) on or after 1-based ``line`` of the episode's transcript
file and after the previous turn's start, and lasts until the next turn. ``speaker`` is a host
or guest named in the catalog, ``host``/``guest`` when only the role is known, or ``-`` for no
one's speech (music, ASR loops). ``sure`` is ``no`` where the annotator hesitated.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from ..catalog import Episode
from ..ingest.base import ParseError, read_file
from ..io import atomic_path, content_hash, keyed_pickle

COLUMNS = ("line", "speaker", "sure", "at")
SOURCE = "reference"  # identity.SOURCES value for labels corrected by a reference
UNSURE_CONFIDENCE = 0.6  # confidence of a reference turn the annotator marked unsure
NO_ONE = "-"
ROLE_ONLY = ("host", "guest")
_CODE = Path(__file__).read_bytes()  # read at import: cached corrections are keyed by the code that made them


class ReferenceError(ValueError):
    """A reference file that cannot be used; the message names the file and line."""


@dataclass(frozen=True)
class Turn:
    line: int  # 1-based line of the transcript where the search for ``at`` starts
    speaker: str | None  # catalog name, "host"/"guest", or None for no one's speech
    role: str | None  # host | guest | None
    sure: bool
    at: str
    row: int  # 1-based line of the reference file, for messages


@dataclass(frozen=True)
class Reference:
    episode_id: str
    path: Path
    transcript: Path  # the raw file the turns point into
    text: str  # its decoded text
    turns: tuple[Turn, ...]
    starts: tuple[int, ...]  # character offset in ``text`` where each turn starts


def path_for(episode_id: str) -> Path:
    return config.ANNOTATIONS / f"{episode_id}.speakers.tsv"


def load_reference(path: Path, episode: Episode) -> Reference:
    """Parse and check a reference file against the catalog entry (names, transcript)."""
    transcripts = [f for f in episode.files if f.kind == "transcript"]
    if not transcripts:
        raise ReferenceError(f"{path}: episode {episode.id} has no transcript file in the catalog")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReferenceError(f"{path}: cannot read ({exc})") from exc
    turns, header = [], None
    for n, raw in enumerate(lines, 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        cells = raw.split("\t")
        if header is None:
            if tuple(c.strip() for c in cells) != COLUMNS:
                raise ReferenceError(f"{path}:{n}: header must be {' / '.join(COLUMNS)} (tab-separated)")
            header = cells
            continue
        if len(cells) != len(COLUMNS) or not cells[0].strip().isdigit() or not cells[3].split():
            raise ReferenceError(f"{path}:{n}: expected line<TAB>speaker<TAB>sure<TAB>at, got {raw[:80]!r}")
        speaker, sure = cells[1].strip(), cells[2].strip().lower()
        if sure not in ("yes", "no"):
            raise ReferenceError(f"{path}:{n}: 'sure' must be yes or no, got {sure!r}")
        if speaker == NO_ONE:
            name, role = None, None
        elif speaker in ROLE_ONLY:
            name, role = speaker, speaker
        elif (person := episode.person(speaker)) is not None:
            name, role = person.name, person.role
        else:
            raise ReferenceError(f"{path}:{n}: {speaker!r} is not a host or guest of {episode.id} in the catalog")
        turns.append(Turn(int(cells[0]), name, role, sure == "yes", cells[3].strip(), n))
    if not turns:
        raise ReferenceError(f"{path}: no turns")
    transcript = Path(transcripts[0].path)
    try:
        raw, _ = read_file(transcript)  # decoded as the corpus decodes it
    except ParseError as exc:
        raise ReferenceError(f"{path}: cannot read the transcript ({exc})") from exc
    return Reference(episode.id, path, transcript, raw, tuple(turns), _locate(turns, raw, path, transcript))


def _locate(turns: list[Turn], raw: str, path: Path, transcript: Path) -> tuple[int, ...]:
    """Character offset of each turn's ``at`` in the transcript text, searched in order."""
    offsets = _line_offsets(raw)
    search = _WordSearch(raw)
    starts, pos = [], 0
    for turn in turns:
        lo = max(pos, offsets[min(turn.line, len(offsets)) - 1])
        m = search.find(turn.at, lo)
        if m is None:
            raise ReferenceError(f"{path}:{turn.row}: {turn.at[:60]!r} not found in {transcript.name} "
                                 f"on or after line {turn.line} (and after the previous turn)")
        starts.append(m[0])
        pos = m[0] + 1
    return tuple(starts)


def load_references(episodes: list[Episode]) -> tuple[dict[str, Reference], list[str]]:
    """The references present for ``episodes``, and one error message per unusable file
    (that episode then simply has no reference)."""
    refs, errors = {}, []
    for ep in episodes:
        path = path_for(ep.id)
        if path.exists():
            try:
                refs[ep.id] = load_reference(path, ep)
            except ReferenceError as exc:
                errors.append(str(exc))
    return refs, errors


class _WordSearch:
    """Whitespace-insensitive search in a text: ``find(words, pos)`` is where the words of
    ``words`` occur, separated by any whitespace, at or after offset ``pos`` of the text."""

    def __init__(self, text: str):
        pieces = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", text)]
        self.flat = " ".join(p for _, p in pieces)
        starts = np.asarray([at for at, _ in pieces], dtype=np.int64)
        lengths = np.asarray([len(p) for _, p in pieces], dtype=np.int64)
        flat_starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]) if len(pieces) else np.zeros(0, np.int64)
        self._raw_of_flat = starts - flat_starts  # add to a flat offset inside word k to get the text offset
        self._flat_starts = flat_starts
        self._raw_starts = starts

    def find(self, words: str, pos: int = 0) -> tuple[int, list[int]] | None:
        """(text offset where ``words`` start, text offset of each of their words), or None."""
        k = int(np.searchsorted(self._raw_starts, pos))  # first word starting at or after pos
        if k >= len(self._raw_starts):
            return None
        at = self.flat.find(" ".join(words.split()), int(self._flat_starts[k]))
        if at < 0:
            return None
        first = int(np.searchsorted(self._flat_starts, at, side="right")) - 1
        n = len(words.split())
        offsets = [at + self._raw_of_flat[first]] + [int(self._raw_starts[first + i]) for i in range(1, n)]
        return int(offsets[0]), [int(o) for o in offsets]


def _line_offsets(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def word_speakers(ref: Reference, utterances: pd.DataFrame) -> dict[int, list[Turn | None]]:
    """Per utterance ``order`` of the reference's transcript: the turn each word of its clean
    ``text`` falls in (None before the first turn).

    Utterances are found in the raw file by their ``raw_text`` (in file order, from their
    ``source_line``); clean words are mapped to raw words proportionally (the glossary only
    merges or splits a few words). Utterances not found there (another file) are left out."""
    raw = ref.text
    offsets = _line_offsets(raw)
    search = _WordSearch(raw)
    starts_arr = np.asarray(ref.starts)
    out: dict[int, list[Turn | None]] = {}
    cursor = 0
    own = utterances[utterances["source_file"] == config.data_relative(ref.transcript)]
    for u in own.sort_values("order").itertuples():
        line_start = offsets[min(int(u.source_line), len(offsets)) - 1] if pd.notna(u.source_line) else 0
        m = search.find(u.raw_text, max(cursor, line_start)) if u.raw_text.split() else None
        if m is None:
            continue
        raw_words = m[1]
        cursor = raw_words[-1] + len(u.raw_text.split()[-1])
        n_clean = len(u.text.split())
        turn_of_raw = np.searchsorted(starts_arr, raw_words, side="right") - 1
        picks = (np.arange(n_clean) * len(raw_words)) // max(n_clean, 1)
        out[int(u.order)] = [ref.turns[i] if i >= 0 else None for i in turn_of_raw[picks]]
    return out


def utterance_speakers(ref: Reference, utterances: pd.DataFrame) -> pd.DataFrame:
    """Per utterance (index ``order``): the reference ``speaker`` and ``role`` of most of its
    words, ``share`` (that majority's fraction of words, 0-1), ``host_share`` (fraction of words
    a host says) and ``sure`` (no turn involved was marked unsure)."""
    rows = {}
    for order, turns in word_speakers(ref, utterances).items():
        named = [t for t in turns if t is not None]
        if not named:
            continue
        top, count = Counter(t.speaker for t in named).most_common(1)[0]  # ties: who speaks first
        lead = next(t for t in named if t.speaker == top)
        rows[order] = {"speaker": lead.speaker, "role": lead.role, "share": count / len(turns),
                       "host_share": sum(t.role == "host" for t in named) / len(turns),
                       "sure": all(t.sure for t in named)}
    return pd.DataFrame.from_dict(rows, orient="index", columns=["speaker", "role", "share", "host_share", "sure"])


def sentence_host_share(ref: Reference, utterances: pd.DataFrame, sents: pd.DataFrame) -> np.ndarray:
    """For each row of a sentence table (``order``, ``words``; sentences in text order within
    their utterance), the fraction of its words the reference gives to a host (NaN where the
    reference says no one speaks or does not cover it)."""
    per_word = word_speakers(ref, utterances)
    out = np.full(len(sents), np.nan)
    offset: dict[int, int] = {}
    for i, (order, n) in enumerate(zip(sents["order"], sents["words"])):
        start = offset.get(order, 0)
        offset[order] = start + n
        turns = per_word.get(int(order), [])[start:start + n]
        roles = [t.role for t in turns if t is not None and t.role is not None]
        if roles and len(roles) * 2 >= n:
            out[i] = sum(r == "host" for r in roles) / len(roles)
    return out


def correct_labels(utterances: pd.DataFrame, episodes: list[Episode]) -> pd.DataFrame:
    """Corpus stage: in episodes whose *file* labels its speakers and that have a reference,
    replace each utterance's speaker where the reference says someone else spoke most of it
    (source ``reference``; confidence the majority's word share, at most UNSURE_CONFIDENCE
    where the annotator was unsure). Cached per episode (``data/cache/reference``) by its
    utterances, its reference file and this code.

    Files without labels are not touched: their speakers come from the attribution model,
    and their reference only measures it."""
    out = utterances.copy()
    cols = ["speaker_id", "speaker", "speaker_role", "speaker_source", "speaker_confidence"]
    for c in cols:
        out[c] = out[c].astype(object)
    for ep in episodes:
        mask = out["episode_id"] == ep.id
        path = path_for(ep.id)
        if not path.exists() or not mask.any() or out.loc[mask, "speaker_label"].notna().mean() <= 0.5:
            continue
        fixes = _cached_corrections(out[mask], ep, path)
        if fixes.empty:
            continue
        row_of = pd.Series(out.index[mask], index=out.loc[mask, "order"].to_numpy())
        out.loc[row_of.loc[fixes.index].to_numpy(), cols] = fixes[cols].to_numpy()
    return out


def _cached_corrections(u: pd.DataFrame, ep: Episode, path: Path) -> pd.DataFrame:
    """:func:`_corrections` of one episode behind a cache keyed by its inputs."""
    inputs = u[["order", "source_file", "source_line", "raw_text", "text", "speaker_id"]].astype(str)
    key = content_hash(pd.util.hash_pandas_object(inputs, index=False).to_numpy().tobytes(), path.read_bytes(),
                       json.dumps(ep.raw, sort_keys=True, default=str), _CODE)
    try:
        return keyed_pickle(config.CACHE / "reference" / f"{ep.id}.pkl", key,
                            lambda: _corrections(load_reference(path, ep), u, ep))
    except ReferenceError:  # reported by the corpus build; the episode is built without it
        return pd.DataFrame()


def _corrections(ref: Reference, u: pd.DataFrame, ep: Episode) -> pd.DataFrame:
    """Per utterance ``order`` the reference corrects: its new speaker columns."""
    per = utterance_speakers(ref, u)
    per = per[per["speaker"].notna() & ~per["speaker"].isin(ROLE_ONLY)]
    ids = u.set_index("order")["speaker_id"]
    rows = {}
    for order, r in zip(per.index, per.itertuples()):
        person = ep.person(r.speaker)
        if str(ids.get(order)) == person.id:  # the file was right: keep its source
            continue
        conf = float(r.share) if r.sure else min(float(r.share), UNSURE_CONFIDENCE)
        rows[order] = [person.id, person.name, person.role, SOURCE, round(conf, 4)]
    return pd.DataFrame.from_dict(rows, orient="index",
                                  columns=["speaker_id", "speaker", "speaker_role", "speaker_source", "speaker_confidence"])


TRUSTED = ("file_label", "catalog_correction", "introduction", SOURCE)  # speaker sources a draft copies
DRAFT_MIN_TRUSTED = 0.8  # share of conversation words with a trusted speaker needed to draft a reference
DRAFT_WORDS = 8  # words of an utterance quoted in the ``at`` column


def draft(episode: Episode, utterances: pd.DataFrame) -> str:
    """A reference file (the format above) drafted from an episode's corpus utterances: one row
    per change of speaker, ``sure yes`` where the file (or the catalog) names the speaker, ``no``
    with the role where the speaker came from the model or a rule, ``-`` for non-speech.
    Raises ReferenceError when trusted labels cover less than DRAFT_MIN_TRUSTED of the words."""
    u = utterances[utterances["episode_id"] == episode.id].sort_values("order")
    conv = u[u["is_conversation"]]
    trusted = conv["speaker_source"].isin(TRUSTED) & conv["speaker_id"].isin([p.id for p in episode.people])
    share = conv.loc[trusted, "word_count"].sum() / max(conv["word_count"].sum(), 1)
    if share < DRAFT_MIN_TRUSTED:
        raise ReferenceError(f"{episode.id}: the file's labels name a catalog host or guest for only {share:.0%} of "
                             f"its words (at least {DRAFT_MIN_TRUSTED:.0%} needed to draft a reference from them)")
    names = {p.id: p.name for p in episode.people}
    lines = [f"# Speaker reference for {episode.id}, DRAFTED from the file's labels by",
             f"# `python -m analysis reference {episode.id}`. Read the transcript and check every row: fix",
             "# wrong speakers, split turns the file merged, mark doubtful rows sure=no. Then move it to",
             f"# {config.data_relative(path_for(episode.id))}: the attribution model learns from it.",
             "\t".join(COLUMNS)]
    last = None
    for r in u.itertuples():
        if not r.raw_text.split() or pd.isna(r.source_line):
            continue
        if r.speaker_source in TRUSTED and r.speaker_id in names:
            cell, sure = names[r.speaker_id], "yes"
        elif not r.is_conversation and ("nonspeech" in r.flags or "hallucination_loop" in r.flags):
            cell, sure = NO_ONE, "yes"
        else:
            cell, sure = (r.speaker_role if r.speaker_role in ROLE_ONLY else NO_ONE), "no"
        if (cell, sure) == last:
            continue
        last = (cell, sure)
        lines.append(f"{int(r.source_line)}\t{cell}\t{sure}\t{' '.join(r.raw_text.split()[:DRAFT_WORDS])}")
    return "\n".join(lines) + "\n"


def main_reference(args) -> int:
    """``python -m analysis reference EPISODE_ID [--out PATH] [--force]``: draft a reference."""
    import sys

    from ..catalog import load_catalog
    from ..corpus import load_corpus

    episodes, _ = load_catalog()
    ep = next((e for e in episodes if e.id == args.episode_id), None)
    if ep is None:
        print(f"error: no episode {args.episode_id!r} in the catalog ({config.CATALOG})", file=sys.stderr)
        return 1
    out = Path(args.out) if args.out else config.ANNOTATIONS / "drafts" / f"{ep.id}.speakers.tsv"
    if out.exists() and not args.force:
        print(f"error: {out} exists; pass --force to overwrite it", file=sys.stderr)
        return 1
    try:
        text = draft(ep, load_corpus()["utterances"])
        with atomic_path(out) as tmp:
            tmp.write_text(text, encoding="utf-8")
            load_reference(tmp, ep)  # every turn must be found in the transcript, else nothing is written
    except ReferenceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    n = sum(1 for line in text.splitlines() if line and not line.startswith("#")) - 1
    print(f"wrote a draft reference of {n} turns for {ep.id} to {out}")
    if out.resolve() != path_for(ep.id).resolve():
        print(f"review it against the transcript, then move it to {path_for(ep.id)} so the model learns from it")
    return 0
