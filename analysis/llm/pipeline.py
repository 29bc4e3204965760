"""``python -m analysis enrich``: build every request, answer it (cache, model, or dry run),
write the enrichment tables to data/processed/ and say what was used, spent and is missing."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import config
from ..io import load_tables, write_table
from . import labels, summaries, turns
from .runner import Runner
from .settings import Settings, mode
from .tables import CHAPTERS, SPEAKER_TURNS, SUMMARIES, TOPIC_LABELS


def _topic_inputs(directory: Path) -> dict[str, pd.DataFrame] | None:
    from ..topics.passages import PASSAGES
    from ..topics.tables import ASSIGNMENTS, TOPICS

    try:
        return load_tables(TOPICS, ASSIGNMENTS, PASSAGES, directory=directory)
    except FileNotFoundError:
        return None


def enrich(runner: Runner, speakers: bool = False, directory: Path | None = None) -> tuple[dict, list[str]]:
    """The enrichment tables (by name) answered by ``runner``, and notes on inputs it lacked.
    Tables are returned, not written; in a dry run (mode ``plan``) they hold cached answers only."""
    from ..catalog import load_catalog
    from ..corpus import load_corpus

    directory = Path(directory or config.PROCESSED)
    corpus = load_corpus(directory)
    notes = []
    jobs = []  # (kind, key, request)
    topic = _topic_inputs(directory)
    if topic is None:
        notes.append("no topic tables (run `python -m analysis topics`): topic labels skipped")
    else:
        jobs += [("label", t, r) for t, r in labels.requests(topic["topics"], topic["topic_assignments"],
                                                              topic["topic_passages"])]
    jobs += [("summary", sec, r) for r, sec in summaries.requests(corpus["utterances"], corpus["chapters"],
                                                                  corpus["episodes"])]
    episodes = load_catalog()[0] if speakers else []
    if runner.mode == "send":
        windows = turns.requests(corpus["utterances"], episodes, runner.settings) if speakers else []
        print(runner.estimate_line([r for _, _, r in jobs] + windows))
    answered = [(kind, key, runner.answer(r)) for kind, key, r in jobs]
    out = {TOPIC_LABELS.name: labels.table({k: a for kind, k, a in answered if kind == "label" and a})}
    out[SUMMARIES.name], out[CHAPTERS.name] = summaries.tables(
        [(k, a) for kind, k, a in answered if kind == "summary" and a])
    if speakers:
        out[SPEAKER_TURNS.name] = turns.speaker_turns(corpus["utterances"], episodes, runner)
    return out, notes


def _any_response(settings: Settings) -> bool:
    """Whether a cached or published response exists at all (else there is nothing to reuse)."""
    return any(next(d.rglob("*.json"), None) for d in (settings.cache_dir, settings.enrichments_dir) if d.exists())


def _existing_tables() -> list[str]:
    """The enrichment tables in data/processed (written by an earlier run)."""
    from .tables import TABLES

    return [n for n in TABLES if (config.PROCESSED / f"{n}.parquet").exists()]


def main_enrich(args) -> int:
    """``python -m analysis enrich [--llm] [--dry-run] [--speakers] [--publish]``."""
    settings = Settings.from_config()
    how, why = mode(args.llm or config.LLM_ENABLED, args.dry_run, settings)
    if how == "cache" and not _any_response(settings) and not _existing_tables():  # nothing to look up
        print(f"{why}: model-made topic labels, summaries and chapters skipped (none cached).")
        return 0
    runner = Runner(settings, how, publish=args.publish)
    tables, notes = enrich(runner, speakers=args.speakers)
    if how == "plan":
        print("\n".join(runner.plan_lines() + notes))
        return 0
    existing = [n for n in tables if (config.PROCESSED / f"{n}.parquet").exists()]
    if how == "cache" and not runner.cached and not existing:
        print(f"{why}: model-made topic labels, summaries and chapters skipped (none cached).")
        return 0
    from .tables import TABLES
    for name, df in tables.items():
        write_table(df, TABLES[name], config.PROCESSED / f"{name}.parquet")
    written = ", ".join(f"{name} ({len(df)} rows)" for name, df in tables.items())
    if how == "cache":
        print(f"{why}: {runner.cached} cached responses used, {len(runner.missing)} items not cached; wrote {written}.")
        return 0
    print(f"LLM: wrote {written} to {config.data_relative(config.PROCESSED)}/")
    print("\n".join(runner.report() + notes))
    return 1 if runner.missing or runner.stopped else 0
