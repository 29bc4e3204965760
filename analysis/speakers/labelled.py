"""The labelled corpus of other shows (``config.LABELLED_CORPUS``, e.g. 303 Changelog transcripts
of eleven shows, ``**Full Name:**`` turns): read it, derive each show's hosts from its recurring
voices, and turn every file into episodes of the shapes users bring, with known speakers.

Nothing here is committed data: the corpus stays outside the repository and is read only by
``python -m analysis train-speakers`` (:mod:`.training`). Each file is parsed with the project's
``markdown_bold`` parser; its turns are then written out again without names, in one of
:data:`SHAPES`, and that file goes through the corpus build of a user's episode
(:func:`analysis.corpus.build_episode`: format parser, cues, noise flags). Its true speakers are a
:class:`~.reference.Reference` with exact turn offsets, aligned word by word as the seeds' are.

Shapes: ``unsegmented`` (one block of text, as Lenny's seed: parsed as ``plain_text``),
``paragraphs`` (the file's paragraphs without names, each starting with ``- `` as a turn mark
might: ``dash_turns``; a long turn has several, so not every mark is a change of speaker) and
``captions`` (SubRip cues of :data:`CAPTION_WORDS` words, punctuation kept, no speakers, as
Whisper gives them; a cue never spans two turns).
"""
from __future__ import annotations

import hashlib
import html
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .. import config
from ..catalog import Episode, EpisodeFile, Person, slugify
from ..ingest import parse_file
from ..ingest.base import read_file
from . import reference
from .reference import Reference, Turn

SHAPES = ("unsegmented", "paragraphs", "captions")
_FORMATS = {"unsegmented": ("txt", "plain_text"), "paragraphs": ("txt", "dash_turns"), "captions": ("srt", "srt")}
CAPTION_WORDS = (9, 12, 7, 11, 10, 8, 13, 6)  # words per caption cue, cycled (fixed, not random)
CAPTION_RATE = 2.5  # words per second, for the cues' times
HOST_SHARE = 0.15  # a voice in at least this share of a show's episodes (and in 3) is a host of the show
HOST_MIN_EPISODES = 3
OPENING_TURNS = 3  # a voice that opens the show ("Welcome to ...") in one of its first turns hosts that episode
_OPENING = re.compile(r"\b(?:(?i:welcome(?: back)? to|i'm your host|you're listening to)|(?i:this is) [A-Z][\w']*)\b")
_TIMESTAMP = re.compile(r"\\?\[\d{1,2}(?::\d{2}){1,2}(?:\.\d+)?\\?\]\s*")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")


@dataclass(frozen=True)
class SourceEpisode:
    """One labelled file: its show (folder), stem and turns (speaker label, paragraphs)."""

    show: str
    name: str
    path: Path
    turns: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def voices(self) -> list[str]:
        """Speakers in order of first turn."""
        return list(dict.fromkeys(s for s, _ in self.turns))


@dataclass
class LabelledEpisode:
    """One source file in one shape, built as a user's episode would be, with its truth."""

    show: str
    shape: str
    episode: Episode
    utterances: pd.DataFrame  # the corpus build's utterances table of the episode
    ref: Reference  # the true speakers, as a reference with exact offsets


def corpus_root() -> Path:
    return Path(config.LABELLED_CORPUS)


def corpus_files(root: Path | None = None) -> list[Path]:
    """The corpus's Markdown transcripts (``<show>/<episode>.md``), in a stable order."""
    root = root or corpus_root()
    return sorted(p for p in root.glob("*/*.md") if p.is_file())


def corpus_commit(root: Path | None = None) -> str | None:
    """The source commit the corpus was copied at, as its SOURCE.md states it (None if not stated)."""
    path = (root or corpus_root()) / "SOURCE.md"
    m = re.search(r"\bcommit\s+`?([0-9a-f]{40})`?", path.read_text(encoding="utf-8")) if path.exists() else None
    return m.group(1) if m else None


def corpus_hash(files: list[Path], root: Path) -> str:
    """sha256 of the corpus files' relative paths and bytes (what training read)."""
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _clean(text: str) -> str:
    """A paragraph as a user's transcript would hold it: inline timestamps dropped, Markdown
    escapes and HTML entities (``&#39;``) undone, whitespace collapsed."""
    return " ".join(html.unescape(_ESCAPE.sub(r"\1", _TIMESTAMP.sub("", text))).split())


def is_voice(label: str) -> bool:
    """A person's label: the corpus names every person in full (``**Full Name:**``); a one-word
    label is a production mark (Break, Outro, Jingle), not someone's speech."""
    return len(label.split()) >= 2


def read_source(path: Path) -> SourceEpisode:
    """Parse one labelled file with the ``markdown_bold`` parser into turns of real voices
    (consecutive segments of one voice merged; production marks dropped)."""
    tr = parse_file(path, "markdown_bold")
    turns: list[tuple[str, list[str]]] = []
    for seg in tr.segments:
        if not seg.speaker or not is_voice(seg.speaker):
            continue
        paras = [p for p in (_clean(x) for x in seg.text.split("\n")) if p]
        if not paras:
            continue
        if turns and turns[-1][0] == seg.speaker:
            turns[-1][1].extend(paras)
        else:
            turns.append((seg.speaker, paras))
    return SourceEpisode(path.parent.name, path.stem, path, tuple((s, tuple(p)) for s, p in turns))


def derive_casts(sources: list[SourceEpisode]) -> dict[Path, tuple[list[str], list[str]]]:
    """Per file: (hosts, guests). A show's hosts are its recurring voices (in at least
    HOST_SHARE of its episodes and in HOST_MIN_EPISODES), most frequent first; in an episode, a
    voice that opens the show ("Welcome to ...", "This is Go Time") in one of its first
    OPENING_TURNS turns also hosts it, and so does a voice a host there calls a co-host ("my
    co-host Allie", "I host it with Jane"). Everyone else is a guest, in alphabetical order (the
    corpus does not say in which order a catalog would list them)."""
    by_show: dict[str, list[SourceEpisode]] = {}
    for s in sources:
        by_show.setdefault(s.show, []).append(s)
    out = {}
    for eps in by_show.values():
        counts = Counter(v for s in eps for v in s.voices)
        need = max(HOST_MIN_EPISODES, HOST_SHARE * len(eps))
        regular = [v for v, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if n >= need]
        for s in eps:
            opening = s.turns[:OPENING_TURNS]
            openers = [sp for sp, paras in opening if _OPENING.search(" ".join(paras))]
            hosts = [v for v in regular if v in s.voices] + [v for v in dict.fromkeys(openers) if v not in regular]
            said = " ".join(" ".join(paras) for sp, paras in opening if sp in hosts)
            hosts += [v for v in s.voices if v not in hosts and re.search(
                rf"\b(?i:co-?hosts?|host it with|with me (?:as always )?is)\b[^.?!]{{0,30}}\b{re.escape(v.split()[0])}\b", said)]
            out[s.path] = (hosts, sorted(v for v in s.voices if v not in hosts))
    return out


def render(source: SourceEpisode, shape: str) -> tuple[str, list[int]]:
    """(the file's text in ``shape``, character offset where each turn starts)."""
    parts, starts, pos = [], [], 0
    if shape == "unsegmented":
        for _, paras in source.turns:
            starts.append(pos)
            chunk = " ".join(paras) + " "
            parts.append(chunk)
            pos += len(chunk)
        return "".join(parts).rstrip() + "\n", starts
    if shape == "paragraphs":
        for _, paras in source.turns:
            starts.append(pos + 2)
            for p in paras:
                chunk = f"- {p}\n\n"
                parts.append(chunk)
                pos += len(chunk)
        return "".join(parts), starts
    if shape == "captions":
        cue, t = 0, 0.0
        for _, paras in source.turns:
            words = " ".join(paras).split()
            first = True
            while words:
                n = CAPTION_WORDS[cue % len(CAPTION_WORDS)]
                while n < len(words) and _caption_mark(" ".join(words[n:n + 5])):
                    n += 1  # the next cue would open with what reads as a turn mark or a speaker
                text, words = " ".join(words[:n]), words[n:]
                end = t + len(text.split()) / CAPTION_RATE
                head = f"{cue + 1}\n{_srt_time(t)} --> {_srt_time(end)}\n"
                if first:
                    starts.append(pos + len(head))
                    first = False
                chunk = f"{head}{text}\n\n"
                parts.append(chunk)
                pos += len(chunk)
                cue, t = cue + 1, end
        return "".join(parts), starts
    raise ValueError(f"unknown shape {shape!r}; shapes: {', '.join(SHAPES)}")


def _caption_mark(start: str) -> bool:
    """True where a cue opening with ``start`` would be read as a turn mark or a ``Name:``
    prefix (the caption parser's cues for speakers): such a cut would be the renderer's, not
    the speaker's."""
    from ..ingest.captions import CueLine, _pieces

    pieces = _pieces(CueLine(start, None))
    return bool(pieces) and (pieces[0].turn or pieces[0].speaker is not None or len(pieces) > 1)


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def episode_id(source: SourceEpisode, shape: str) -> str:
    return slugify(f"{source.show}-{source.name}-{shape}")


def build(source: SourceEpisode, cast: tuple[list[str], list[str]], shape: str, workdir: Path) -> LabelledEpisode:
    """``source`` written out in ``shape`` under ``workdir`` and built as a user's episode with the
    catalog entry ``cast`` (hosts, guests): its utterances and its true speakers."""
    from ..corpus import UTTERANCES, build_episode  # the corpus stage imports this package

    text, starts = render(source, shape)
    ext, fmt = _FORMATS[shape]
    eid = episode_id(source, shape)
    path = workdir / f"{eid}.{ext}"
    path.write_text(text, encoding="utf-8")
    hosts, guests = cast
    ep = Episode(id=eid, title=source.name, show=source.show, published=None,
                 files=[EpisodeFile(path, "transcript", path.name, fmt)],
                 hosts=[Person(n, "host") for n in hosts], guests=[Person(n, "guest") for n in guests],
                 raw={"id": eid, "show": source.show, "hosts": hosts, "guests": guests, "shape": shape})
    built = build_episode(ep, [])
    utts = UTTERANCES.conform(pd.DataFrame(built.utterances))
    raw, _ = read_file(path)
    role = {n: "host" for n in hosts} | {n: "guest" for n in guests}
    turns = tuple(Turn(1, sp, role[sp], True, " ".join(paras)[:40], k + 1) for k, (sp, paras) in enumerate(source.turns))
    ref = Reference(eid, path, path, raw, turns, tuple(starts))
    return LabelledEpisode(source.show, shape, ep, utts, ref)


def host_share_truth(ep: LabelledEpisode) -> pd.Series:
    """Per conversation utterance ``order``: the share of its words a host says (0-1)."""
    return reference.utterance_speakers(ep.ref, ep.utterances)["host_share"]
