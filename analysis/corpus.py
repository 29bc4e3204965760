"""Build the canonical corpus (episodes, speakers, utterances, chapters) from the catalog.

Per episode: parse its files, split edge cues, flag noise, apply ASR fixes and resolve
speaker labels; the result is cached in ``data/interim`` keyed by the files' bytes, the
catalog entry and this code, so unchanged episodes are not recomputed. Corpus-wide stages
(speaker attribution, timing) then run on all episodes, and the tables are validated and
written atomically as Parquet to ``data/processed``.
"""
from __future__ import annotations

import bisect
import json
import pickle
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from . import clean, config
from .catalog import CatalogError, Episode, load_catalog
from .ingest import ParseError, parse_file
from .ingest.coverage import summary as coverage_summary
from .io import atomic_path, content_hash, load_tables, write_json, write_table
from .parallel import parallel_map
from .schema import Column, Table, register
from .speakers import attribution, identity, reference, timing

TIME_SOURCES = ("file", "anchor_interpolated", "rate_estimated", "none")
ROLES = ("host", "guest", "unknown")

EPISODES = register(Table("episodes", "One row per episode, from the catalog and the files' headers.", (
    Column("episode_id", "str", "Stable slug from the catalog."),
    Column("title", "str", "Episode title."),
    Column("show", "str", "Podcast or show name."),
    Column("published", "date", "Publication date.", nullable=True),
    Column("published_basis", "str", "How the date is known.", allowed=("stated", "inferred", "approximate")),
    Column("url", "str", "Canonical URL.", nullable=True),
    Column("video_id", "str", "YouTube video id, for deep links.", nullable=True),
    Column("duration_s", "float", "Runtime in seconds, when known.", nullable=True),
    Column("venue", "str", "Where it was recorded, when known.", nullable=True),
    Column("description", "str", "Description from the summary page, when there is one.", nullable=True),
    Column("transcript_format", "str", "Detected (or declared) format of the transcript file."),
    Column("source_files", "str", "';'-joined files under data/ that belong to the episode."),
    Column("original_files", "str", "';'-joined original file names, as received."),
    Column("inferred_facts", "str", "';'-joined 'field (basis): note' for facts not stated in a source; '' if none."),
    Column("n_utterances", "int", "Utterances, including flagged ones."),
    Column("n_words", "int", "Words in conversation (flagged utterances excluded)."),
), key=("episode_id",)))

SPEAKERS = register(Table("speakers", "People (and unresolved labels) per episode.", (
    Column("episode_id", "str", "Episode slug."),
    Column("speaker_id", "str", "Person slug (stable across episodes), or the label's slug when unresolved."),
    Column("name", "str", "Display name, or the generic label when unresolved."),
    Column("role", "str", "Role in this episode.", allowed=ROLES),
    Column("title", "str", "Job title, from the catalog.", nullable=True),
    Column("affiliation", "str", "Organisation, from the catalog.", nullable=True),
    Column("resolved", "bool", "False for generic labels (SPEAKER_00, Speaker A) no evidence resolved."),
    Column("source", "str", "Where the speaker comes from.", allowed=("catalog", "file_label")),
), key=("episode_id", "speaker_id")))

UTTERANCES = register(Table("utterances", "Every stretch of text in file order; noise is flagged, never dropped.", (
    Column("episode_id", "str", "Episode slug."),
    Column("order", "int", "0-based position in the episode."),
    Column("source_file", "str", "File under data/ the text comes from."),
    Column("source_line", "int", "1-based line in that file where the text starts.", nullable=True),
    Column("speaker_label", "str", "Speaker label as written in the file.", nullable=True),
    Column("speaker_id", "str", "Person slug; null when unknown or unresolved.", nullable=True),
    Column("speaker", "str", "Display name (or generic label); null when unknown.", nullable=True),
    Column("speaker_role", "str", "Role of the speaker in this episode.", allowed=ROLES),
    Column("speaker_source", "str", "How the speaker was determined.", allowed=identity.SOURCES),
    Column("speaker_confidence", "float", "Confidence in the speaker, 0-1; null when none.", nullable=True),
    Column("start_s", "float", "Start, seconds from the episode start.", nullable=True),
    Column("end_s", "float", "End, seconds from the episode start.", nullable=True),
    Column("time_source", "str", "Where the times come from.", allowed=TIME_SOURCES),
    Column("time_uncertainty_s", "float", "Uncertainty of start_s in seconds (0 for file times).", nullable=True),
    Column("raw_text", "str", "Text exactly as in the file (whitespace collapsed)."),
    Column("text", "str", "Clean text: inline cues removed, ASR glossary applied."),
    Column("word_count", "int", "Words in text."),
    Column("flags", "str", "';'-joined noise flags, '' for conversation. Flags: " + ", ".join(clean.FLAGS) + "."),
    Column("flag_reason", "str", "Why each flag was set ('; '-joined); '' when none."),
    Column("is_conversation", "bool", "True when not flagged: what metrics and models use by default."),
), key=("episode_id", "order")))

CHAPTERS = register(Table("chapters", "Chapters with start times (chapter lists) and summaries (summary pages).", (
    Column("episode_id", "str", "Episode slug."),
    Column("chapter_index", "int", "0-based position within its source."),
    Column("start_s", "float", "Start in seconds; null when the source gives none.", nullable=True),
    Column("title", "str", "Chapter title.", nullable=True),
    Column("summary", "str", "Chapter summary.", nullable=True),
    Column("source", "str", "Where the chapter comes from: the transcript's chapter list, a summary page, or a "
           "chapters file (Podcasting 2.0 chapters JSON, yt-dlp info JSON).", allowed=("chapter_list", "summary_page", "chapters_file")),
    Column("source_file", "str", "File under data/."),
    Column("source_line", "int", "1-based line in that file.", nullable=True),
), key=("episode_id", "source", "chapter_index")))

TABLES = {t.name: t for t in (EPISODES, SPEAKERS, UTTERANCES, CHAPTERS, attribution.DRAWS, attribution.ATTRIBUTED)}

# Corpus-wide stages run after the per-episode build, in order: each takes the utterances of
# all episodes and the catalog episodes, and returns the utterances with columns filled in.
CorpusStage = Callable[[pd.DataFrame, list[Episode]], pd.DataFrame]
STAGES: list[tuple[str, CorpusStage]] = [
    ("reference labels", reference.correct_labels),
    ("attribution", attribution.attribute_stage),
    ("flagged speech", attribution.attribute_flagged),
    ("timing", timing.timing_stage),
]

_CODE_FILES = ("corpus.py", "clean.py", "speakers/identity.py", "catalog.py", "ingest")


@dataclass
class EpisodeBuild:
    """One episode's tables and what happened while building them."""

    episode: dict
    speakers: list[dict]
    utterances: list[dict]
    chapters: list[dict]
    warnings: list[str] = field(default_factory=list)
    cached: bool = False
    coverage: list[dict] = field(default_factory=list)  # per file: ingest coverage, with "file" and "format"


@dataclass
class CorpusBuild:
    tables: dict[str, pd.DataFrame]
    errors: list[str]  # episodes or files that could not be built
    warnings: list[str]
    cached: list[str]  # episode ids taken from the cache
    seconds: float = 0.0
    coverage: dict[str, list[dict]] = field(default_factory=dict)  # episode id -> per-file coverage


def _code_version() -> str:
    base = Path(__file__).parent
    files = []
    for name in _CODE_FILES:
        p = base / name
        files += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    return content_hash(*(f.read_bytes() for f in files))


# Hashed once, at import: the code this process runs, even if the files are edited meanwhile.
CODE_VERSION = _code_version()


def load_glossary(path: Path | None = None) -> list[tuple[re.Pattern, str]]:
    path = Path(path or config.GLOSSARY)
    if not path.exists():
        return []
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CatalogError(f"malformed glossary: {exc}", path) from exc
    return [(re.compile(rf"(?<!\w){k}(?!\w)", re.IGNORECASE), str(v)) for k, v in entries.items()]


def _line_locator(path: Path) -> Callable[[str, int], int]:
    """``locate(raw_text, line, within)``: the line on which ``raw_text`` (whitespace collapsed)
    first occurs in ``path`` at or after ``line`` (at most ``within`` characters further);
    ``line`` itself when it is not found there."""
    from .ingest.base import read_file

    text, _ = read_file(path)
    starts, pieces, pos = [], [], 0
    for ln in text.split("\n"):
        starts.append(pos)
        collapsed = " ".join(ln.split())
        if collapsed:
            pieces.append(collapsed)
            pos += len(collapsed) + 1
    flat = " ".join(pieces)

    def locate(raw: str, line: int, within: int) -> int:
        if not raw or not 0 < line <= len(starts):
            return line
        at = flat.find(raw, starts[line - 1], starts[line - 1] + within)
        return bisect.bisect_right(starts, at) if at >= 0 else line

    return locate


def build_episode(ep: Episode, glossary: list[tuple[re.Pattern, str]]) -> EpisodeBuild:
    """Parse, clean and label one episode. Raises ParseError when its transcript is unreadable;
    an unreadable summary page is only a warning."""
    warnings: list[str] = []
    transcript_file = ep.files_of("transcript")[0]
    tr = parse_file(transcript_file.path, transcript_file.format)
    if tr.kind != "transcript":
        raise ParseError(f"parsed as {tr.format}, which holds no speech; set its format in the catalog",
                         transcript_file.path)
    warnings += tr.warnings
    coverage = [{"file": config.data_relative(transcript_file.path), "format": tr.format, **tr.coverage}]
    for extra in ep.files_of("transcript")[1:]:
        warnings.append(f"{ep.source}: only the first transcript file is used; {config.data_relative(extra.path)} ignored")
    src = config.data_relative(transcript_file.path)

    utts: list[dict] = []
    locate = None
    for seg in tr.segments:
        for k, (piece, is_cue) in enumerate(clean.split_edge_cues(seg.text)):
            text = clean.strip_cues(piece)
            for pattern, canonical in glossary:
                text = pattern.sub(canonical, text)
            raw = " ".join(piece.split())
            line = seg.line
            if k > 0 and line is not None:  # a piece split off a segment may start on a later line
                locate = locate or _line_locator(transcript_file.path)
                line = locate(raw, line, 2 * len(seg.text) + 200)
            utts.append({
                "raw_text": raw, "text": text, "word_count": len(text.split()),
                "speaker_label": None if is_cue else seg.speaker, "start_s": seg.start,
                "end_s": seg.end, "source_line": line,
            })
    clean.flag_episode(utts, ep.duration_s)

    by_label: dict[str, list[str]] = {}
    for u in utts:
        if u["speaker_label"]:
            by_label.setdefault(u["speaker_label"], []).append(u["text"])
    resolved, label_warnings = identity.resolve_labels(by_label, ep)
    warnings += label_warnings
    for order, u in enumerate(utts):
        r = resolved.get(u["speaker_label"], identity.NO_SPEAKER)
        u.update(episode_id=ep.id, order=order, source_file=src, speaker_id=r.speaker_id,
                 speaker=r.speaker, speaker_role=r.role, speaker_source=r.source,
                 speaker_confidence=r.confidence,
                 time_source="file" if u["start_s"] is not None else "none",
                 time_uncertainty_s=0.0 if u["start_s"] is not None else None,
                 flags=";".join(u["flags"]), flag_reason="; ".join(u.pop("reasons")),
                 is_conversation=not u["flags"])

    chapters = [
        {"episode_id": ep.id, "chapter_index": k, "start_s": c.start, "title": c.title, "summary": c.summary,
         "source": "chapter_list", "source_file": src, "source_line": c.line}
        for k, c in enumerate(tr.chapters)
    ]
    description = None
    for f in ep.files_of("summary"):
        try:
            page = parse_file(f.path, None if f.format == "auto" else f.format)
        except ParseError as exc:
            warnings.append(f"{ep.source}: summary page skipped: {exc}")
            continue
        if page.kind != "summary":
            warnings.append(f"{config.data_relative(f.path)}: listed as a summary but parsed as {page.format}; skipped")
            continue
        warnings += page.warnings
        coverage.append({"file": config.data_relative(f.path), "format": page.format, **page.coverage})
        description = page.metadata.get("description")
        chapters += [
            {"episode_id": ep.id, "chapter_index": k, "start_s": c.start, "title": c.title,
             "summary": c.summary, "source": "summary_page" if page.format == "summary_page" else "chapters_file",
             "source_file": config.data_relative(f.path), "source_line": c.line}
            for k, c in enumerate(page.chapters)
        ]
    header_date = tr.metadata.get("date")
    if header_date and ep.published and header_date != ep.published.isoformat():
        warnings.append(f"{src}: header date {header_date} differs from the catalog's {ep.published}")

    speakers = []
    for person in ep.people:
        speakers.append({"episode_id": ep.id, "speaker_id": person.id, "name": person.name, "role": person.role,
                         "title": person.title, "affiliation": person.affiliation, "resolved": True,
                         "source": "catalog"})
    known = {s["speaker_id"] for s in speakers}
    for r in resolved.values():
        sid = r.speaker_id or identity.slugify(r.speaker)
        if sid not in known:
            known.add(sid)
            speakers.append({"episode_id": ep.id, "speaker_id": sid, "name": r.speaker, "role": r.role,
                             "title": None, "affiliation": None, "resolved": r.speaker_id is not None,
                             "source": "file_label"})

    prov = ep.provenance
    episode = {
        "episode_id": ep.id, "title": ep.title, "show": ep.show,
        "published": pd.Timestamp(ep.published) if ep.published else None,
        "published_basis": prov.get("published", {}).get("basis", "stated"),
        "url": ep.url, "video_id": ep.video_id, "duration_s": ep.duration_s, "venue": ep.venue,
        "description": description, "transcript_format": tr.format,
        "source_files": ";".join(config.data_relative(f.path) for f in ep.files),
        "original_files": ";".join(f.original_name or f.path.name for f in ep.files),
        "inferred_facts": ";".join(f"{k} ({v['basis']}): {v.get('note', '')}" for k, v in prov.items()
                                   if v["basis"] != "stated"),
        "n_utterances": len(utts),
        "n_words": sum(u["word_count"] for u in utts if u["is_conversation"]),
    }
    return EpisodeBuild(episode, speakers, utts, chapters, warnings, coverage=coverage)


def _cache_entry(ep: Episode, glossary_key: str, code_key: str) -> tuple[str, Path, EpisodeBuild | None]:
    """The episode's cache key (file bytes, catalog entry, glossary, code version), cache file and
    cached build (None when absent or stale). Raises ParseError when a listed file is unreadable."""
    files = [f.path for f in ep.files]
    try:
        blobs = [p.read_bytes() for p in files]
    except FileNotFoundError as exc:
        raise ParseError(f"file listed in the catalog ({ep.source}) not found", exc.filename) from exc
    except OSError as exc:  # a directory, no permission, ...: this episode only
        raise ParseError(f"file listed in the catalog ({ep.source}) unreadable: {exc.strerror or exc}",
                         exc.filename) from exc
    key = content_hash(code_key, glossary_key, json.dumps(ep.raw, sort_keys=True, default=str), *blobs)
    path = config.INTERIM / "corpus" / f"{ep.id}.pkl"
    if path.exists():
        try:
            with path.open("rb") as fh:
                stored_key, build = pickle.load(fh)
            if stored_key == key:
                build.cached = True
                return key, path, build
        except Exception:  # a stale or unreadable cache entry is simply rebuilt
            pass
    return key, path, None


def _build_or_error(job: tuple[Episode, list[tuple[re.Pattern, str]]]) -> EpisodeBuild | str:
    """``build_episode`` for a worker process: the build, or the ParseError's text."""
    try:
        return build_episode(*job)
    except ParseError as exc:
        return str(exc)


def _cached_builds(episodes: list[Episode], glossary_key: str, code_key: str, cluster: str | None = None,
                   progress: bool = False) -> list[EpisodeBuild | str]:
    """Each episode's build (or error text): from the cache, else built in parallel (local
    processes or ``cluster``, see analysis.parallel) and stored in the cache."""
    out: list[EpisodeBuild | str | None] = []
    todo: list[tuple[int, str, Path]] = []
    for ep in episodes:
        try:
            key, path, build = _cache_entry(ep, glossary_key, code_key)
        except ParseError as exc:
            out.append(str(exc))
            continue
        if build is None:
            todo.append((len(out), key, path))
        out.append(build)
    glossary = load_glossary()
    built = parallel_map(_build_or_error, [(episodes[i], glossary) for i, _, _ in todo], cluster=cluster,
                         progress="corpus" if progress else None)
    for (i, key, path), build in zip(todo, built):
        if isinstance(build, EpisodeBuild):
            with atomic_path(path) as tmp, tmp.open("wb") as fh:
                pickle.dump((key, build), fh)
        out[i] = build
    return out


def build_corpus(catalog: Path | None = None, out_dir: Path | None = None, progress: bool = True,
                 write: bool = True, cluster: str | None = None) -> CorpusBuild:
    """Build (or refresh) every catalog episode and write the tables. Bad episodes are
    reported in ``errors`` and skipped; the rest of the corpus still builds. Episodes not in
    the cache are built on local processes, or on the dask cluster at ``cluster``
    (default ``PODLENS_CLUSTER``)."""
    t0 = time.perf_counter()
    episodes, errors = load_catalog(catalog)
    warnings: list[str] = []
    glossary_key = content_hash(config.GLOSSARY.read_bytes() if config.GLOSSARY.exists() else b"")
    code_key = CODE_VERSION
    builds, cached, built_eps, coverage = [], [], [], {}
    for ep, b in zip(episodes, _cached_builds(episodes, glossary_key, code_key, cluster, progress)):
        if isinstance(b, str):
            errors.append(f"{b} (episode {ep.id} skipped)")
            continue
        builds.append(b)
        built_eps.append(ep)
        coverage[ep.id] = b.coverage
        warnings += b.warnings
        if b.cached:
            cached.append(ep.id)
    tables = {
        "episodes": pd.DataFrame([b.episode for b in builds]),
        "speakers": pd.DataFrame([s for b in builds for s in b.speakers]),
        "utterances": pd.DataFrame([u for b in builds for u in b.utterances]),
        "chapters": pd.DataFrame([c for b in builds for c in b.chapters]),
    }
    for name, df in tables.items():
        tables[name] = TABLES[name].conform(df) if len(df) else TABLES[name].empty()
    errors += reference.load_references(built_eps)[1]  # such an episode is built without its reference
    for name, stage in STAGES:
        tables["utterances"] = UTTERANCES.conform(stage(tables["utterances"], built_eps))
    tables["speakers"] = _drop_resolved_labels(tables["speakers"], tables["utterances"])
    tables[attribution.DRAWS.name], tables[attribution.ATTRIBUTED.name], refusals = attribution.stage_report(
        tables["utterances"], built_eps)
    warnings += refusals
    if write:
        out = Path(out_dir or config.PROCESSED)
        for name, df in tables.items():
            write_table(df, TABLES[name], out / f"{name}.parquet")
        write_json({"errors": errors, "warnings": warnings, "flag_counts": flag_counts(tables["utterances"])
                    .reset_index().to_dict(orient="records"), "coverage": coverage}, out / "corpus_report.json")
    return CorpusBuild(tables, errors, warnings, cached, time.perf_counter() - t0, coverage)


def _drop_resolved_labels(speakers: pd.DataFrame, utterances: pd.DataFrame) -> pd.DataFrame:
    """Unresolved labels that the corpus-wide stages resolved are no longer speakers."""
    left = utterances[utterances["speaker_id"].isna() & utterances["speaker"].notna()]
    still = set(zip(left["episode_id"], left["speaker"]))
    keep = speakers["resolved"] | pd.Series([k in still for k in zip(speakers["episode_id"], speakers["name"])],
                                            index=speakers.index, dtype=bool)
    return speakers[keep].reset_index(drop=True)


def flag_counts(utterances: pd.DataFrame) -> pd.DataFrame:
    """Utterances per episode and flag (an utterance with two flags counts under both)."""
    exploded = utterances.assign(flag=utterances["flags"].str.split(";")).explode("flag")
    exploded = exploded[exploded["flag"].fillna("") != ""]
    counts = exploded.groupby(["episode_id", "flag"]).size().unstack(fill_value=0)
    return counts.reindex(columns=[f for f in clean.FLAGS if f in counts.columns])


def load_corpus(directory: Path | None = None) -> dict[str, pd.DataFrame]:
    """Read the corpus tables written by ``build_corpus`` (validated against their schemas)."""
    return load_tables(*TABLES.values(), directory=directory)


def report(build: CorpusBuild) -> str:
    """The short text report printed after a build."""
    utt, eps = build.tables["utterances"], build.tables["episodes"]
    conv = utt[utt["is_conversation"]]
    lines = [(f"corpus: {len(eps)} episodes, {len(utt)} utterances ({len(conv)} conversation), "
              f"{conv['speaker_id'].nunique()} speakers, {int(conv['word_count'].sum())} words "
              f"in {build.seconds:.2f}s ({len(build.cached)} episodes from cache)")]
    counts = flag_counts(utt)
    for _, e in eps.iterrows():
        eu = utt[utt["episode_id"] == e["episode_id"]]
        flagged = counts.loc[e["episode_id"]] if e["episode_id"] in counts.index else pd.Series(dtype=int)
        flag_text = ", ".join(f"{k} {int(v)}" for k, v in flagged.items() if v) or "none"
        lines.append(f"  {e['episode_id']:<42} {e['transcript_format']:<18} {len(eu):>5} utt "
                     f"{int(e['n_words']):>6} words  flagged: {flag_text}")
    if build.coverage:
        lines.append("coverage (share of each file's text in utterances; skipped words by kind):")
        lines += [f"  {eid:<42} {coverage_summary(c)}" for eid, files in build.coverage.items() for c in files]
    if build.warnings:
        lines.append(f"warnings ({len(build.warnings)}):")
        lines += [f"  {w}" for w in build.warnings]
    if build.errors:
        lines.append(f"errors ({len(build.errors)}):")
        lines += [f"  {e}" for e in build.errors]
    return "\n".join(lines)
