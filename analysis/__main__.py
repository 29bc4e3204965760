"""Command line: ``python -m analysis <command>`` (also installed as ``podlens``)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def cmd_corpus(args: argparse.Namespace) -> int:
    from .corpus import build_corpus, report

    build = build_corpus(catalog=args.catalog, progress=not args.quiet, cluster=args.cluster)
    print(report(build))
    return 1 if build.errors and args.strict else 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from .inspect import inspect_file

    summary = inspect_file(args.file, format=args.format)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
    else:
        print(summary_text(summary))
    return 0 if summary["ok"] else 2


def summary_text(s: dict) -> str:
    if not s["ok"]:
        return f"error: {s['error']}"
    lines = [f"file:       {s['file']}", f"format:     {s['format']} ({s['kind']})"]
    if s["kind"] == "summary":
        lines.append(f"chapters:   {s['chapters']} summaries")
    else:
        span = s["time_span_s"]
        lines += [
            f"utterances: {s['utterances']}",
            f"words:      {s['words']}",
            "time span:  " + (f"{_hms(span[0])} - {_hms(span[1])}" if span else "no timestamps"),
            f"chapters:   {s['chapters']}",
            "speakers:   " + (", ".join(f"{sp['label']} ({sp['utterances']} utt, {sp['words']} words"
                                        + (", generic" if sp["generic"] else "") + ")"
                                        for sp in s["speakers"]) or "none in the file"),
        ]
    from .ingest.coverage import summary

    cov = s["coverage"]
    lines.append(f"coverage:   {summary(cov).strip()}; checked by {cov['basis']}, "
                 f"{cov['markup_lines']} markup and {cov['timing_lines']} timing lines not counted")
    lines += [(f"  line {c['line']}" + (f"-{c['end_line']}" if c["end_line"] != c["line"] else "")
               if c["line"] is not None else " ") + f": {c['kind']} ({c['reason']}), {c['words']} words: {c['text']!r}"
              for c in cov["skipped"][:20]]
    if len(cov["skipped"]) > 20:
        lines.append(f"  ... {len(cov['skipped']) - 20} more skipped stretches (all in --json)")
    lines.append(f"warnings:   {len(s['warnings'])}")
    lines += [f"  {w}" for w in s["warnings"]]
    return "\n".join(lines)


def _hms(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def cmd_formats(args: argparse.Namespace) -> int:
    from .ingest import FORMATS

    for name, fmt in sorted(FORMATS.items()):
        print(f"{name:<22} {fmt.description}")
        print(f"{'':<22} detected by: {fmt.cue}")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    # importing a module registers its tables
    from . import compare, corpus, search  # noqa: F401
    from .entities import extract  # noqa: F401
    from .entities import tables as entity_tables  # noqa: F401
    from .llm import tables as llm_tables  # noqa: F401
    from .schema import data_dictionary
    from .speakers import talktime  # noqa: F401
    from .themes import tagging, timelines  # noqa: F401
    from .topics import passages, tables  # noqa: F401

    print(data_dictionary())
    return 0


def cmd_speakers(args: argparse.Namespace) -> int:
    from .speakers.talktime import main_speakers

    return main_speakers(args)


def cmd_evaluate_speakers(args: argparse.Namespace) -> int:
    if args.llm:  # the language model's speaker turns beside the offline model's (analysis.llm)
        from .llm.turns import main_evaluate_llm

        return main_evaluate_llm(args)
    from .speakers.evaluation import main_evaluate_speakers

    return main_evaluate_speakers(args)


def cmd_train_speakers(args: argparse.Namespace) -> int:
    from .speakers.training import main_train_speakers

    return main_train_speakers(args)


def cmd_reference(args: argparse.Namespace) -> int:
    from .speakers.reference import main_reference

    return main_reference(args)


def cmd_enrich(args: argparse.Namespace) -> int:
    from .llm.pipeline import main_enrich

    return main_enrich(args)


def cmd_topics(args: argparse.Namespace) -> int:
    from .topics import main_topics

    return main_topics(args)


def cmd_evaluate_topics(args: argparse.Namespace) -> int:
    from .topics import main_evaluate_topics

    return main_evaluate_topics(args)


def cmd_themes(args: argparse.Namespace) -> int:
    if args.action == "draft":
        from .themes.draft import main_draft

        return main_draft(args)
    from .themes import main_themes

    return main_themes(args)


def cmd_evaluate_themes(args: argparse.Namespace) -> int:
    from .themes import main_evaluate_themes

    return main_evaluate_themes(args)


def cmd_entities(args: argparse.Namespace) -> int:
    from .entities import main_entities

    return main_entities(args)


def cmd_search(args: argparse.Namespace) -> int:
    from .search import main_search

    return main_search(args)


def cmd_evaluate_search(args: argparse.Namespace) -> int:
    from .search import main_evaluate_search

    return main_evaluate_search(args)


def cmd_index(args: argparse.Namespace) -> int:
    from .index import main_index

    return main_index(args)


def cmd_evaluate_pairs(args: argparse.Namespace) -> int:
    from .pairs import main_evaluate_pairs

    return main_evaluate_pairs(args)


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import main_compare

    return main_compare(args)


def cmd_notebooks(args: argparse.Namespace) -> int:
    from .notebooks import NotebookError, execute_notebooks

    try:
        runs = execute_notebooks(args.names or None, force=args.force)
    except NotebookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for run in runs:
        print(f"{run.name:<32} {run.status:<10} {run.seconds:6.1f}s")
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from .project import main_new

    return main_new(args)


def cmd_add(args: argparse.Namespace) -> int:
    from .add import main_add

    return main_add(args)


def cmd_build(args: argparse.Namespace) -> int:
    from .project import main_build

    return main_build(args)


def cmd_site(args: argparse.Namespace) -> int:
    from .site import main_site

    return main_site(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description="podlens: podcast transcript analysis")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("new", help="make a project of your own in DIR: empty catalog, raw/, lexicon templates, "
                       "annotation folders")
    p.add_argument("directory", type=Path)
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("add", help="draft catalog entries from a podcast feed (file or URL), a yt-dlp info JSON "
                       "with its subtitles, or transcript files; copy the files into data/raw/")
    p.add_argument("sources", nargs="+", metavar="SOURCE", help="feed file or URL, *.info.json, transcript files or folders")
    p.add_argument("--show", default=None, help="the show's name (required for bare transcript files; overrides "
                   "the feed's or channel's)")
    p.add_argument("--dry-run", action="store_true", help="print the entries, write nothing")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("build", help="run every stage (corpus ... site) on this project; render with Quarto if installed")
    p.add_argument("--refit", action="store_true", help="refit the topic model")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("corpus", help="build the canonical corpus from the catalog and print a report")
    p.add_argument("--catalog", type=Path, default=None, help="catalog file (default data/episodes.yaml)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--strict", action="store_true", help="exit 1 when an episode could not be built")
    p.add_argument("--cluster", default=None, metavar="tcp://HOST:PORT",
                   help="build episodes on this dask.distributed scheduler's workers (default: PODLENS_CLUSTER, "
                        "else local processes)")
    p.set_defaults(func=cmd_corpus)

    p = sub.add_parser("inspect", help="parse one transcript file and summarise it")
    p.add_argument("file", type=Path)
    p.add_argument("--format", default=None, help="skip detection and use this format (see `formats`)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("speakers", help="speaker talk-time metrics (corpus build attributes speakers and times)")
    p.add_argument("--include-flagged", action="store_true", help="count flagged noise as talk")
    p.set_defaults(func=cmd_speakers)

    p = sub.add_parser("evaluate-speakers",
                       help="leave-one-episode-out speaker attribution accuracy and timing error")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--llm", action="store_true", help="also score the language model's speaker turns (needs a "
                   "key or base URL, else cached responses only)")
    p.add_argument("--dry-run", action="store_true", help="with --llm: show what would be sent, send nothing")
    p.set_defaults(func=cmd_evaluate_speakers)

    p = sub.add_parser("train-speakers", help="train the speaker model on the labelled corpus of other shows and the "
                       "references, measure it leave-one-show-out and write the committed model (needs the corpus)")
    p.add_argument("--corpus", type=Path, default=None,
                   help="the labelled corpus (default PODLENS_LABELLED_CORPUS, ../shared/corpora/changelog)")
    p.set_defaults(func=cmd_train_speakers)

    p = sub.add_parser("reference", help="draft a speaker reference from an episode's file labels, for review")
    p.add_argument("episode_id")
    p.add_argument("--out", type=Path, default=None,
                   help="where to write it (default data/annotations/drafts/EPISODE_ID.speakers.tsv)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_reference)

    p = sub.add_parser("enrich", help="optional language-model labels, summaries, chapters (off without a key)")
    p.add_argument("--llm", action="store_true", help="send requests (needs OPENAI_API_KEY or OPENAI_BASE_URL); "
                   "without it only cached responses are used")
    p.add_argument("--dry-run", action="store_true", help="show what would be sent and its cost, send nothing")
    p.add_argument("--speakers", action="store_true", help="also speaker turns for unlabelled episodes")
    p.add_argument("--publish", action="store_true",
                   help="copy the responses used into data/enrichments/llm/ so they can be committed")
    p.set_defaults(func=cmd_enrich)

    p = sub.add_parser("topics", help="assign passages to the stored topic model (fit one when needed); write topic tables")
    p.add_argument("--refit", action="store_true", help="fit a new model version even when the stored one applies")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("evaluate-topics",
                       help="NPMI coherence, diversity, outliers and stability vs a default BERTopic run")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--refit", action="store_true", help="re-evaluate even when the model is unchanged")
    p.set_defaults(func=cmd_evaluate_topics)

    p = sub.add_parser("themes", help="tag passages with the themes of data/themes.yaml; write theme tables "
                       "(`themes draft`: write a starting lexicon from the fitted topics)")
    p.add_argument("action", nargs="?", choices=("draft",), default=None,
                   help="draft: write a draft lexicon from the topic model's topics instead of tagging")
    p.add_argument("--force", action="store_true", help="recompute even when inputs are unchanged (draft: "
                   "overwrite an edited lexicon)")
    p.add_argument("--out", type=Path, default=None, help="draft: where to write it (default data/themes.yaml)")
    p.add_argument("--topics", type=int, default=None, help="draft: at most this many themes (default 8)")
    p.set_defaults(func=cmd_themes)

    p = sub.add_parser("evaluate-themes",
                       help="theme tags vs the hand-labelled sample: precision/recall per theme "
                            "(leave-one-episode-out cross-validation)")
    p.add_argument("--calibrate", action="store_true",
                   help="also calibrate the chosen rule family on the whole sample (the config.py settings)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_evaluate_themes)

    p = sub.add_parser("entities", help="entity mentions (spaCy NER + alias table), cached per episode")
    p.add_argument("--check", action="store_true", help="print the top 30 entities with the hand check")
    p.set_defaults(func=cmd_entities)

    p = sub.add_parser("index", help="the search index, the hand-written queries' results, recurring people's "
                       "episodes and passage pairs (read by search, the notebooks and the site)")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="search the conversation by meaning and keywords; quotes with links "
                       "(no query: one query per line of standard input)")
    p.add_argument("query", nargs="?", default=None, help="the query (default: read queries from standard input "
                   "until its end)")
    p.add_argument("--speaker", default=None, help="only this speaker (name, part of it, or id)")
    p.add_argument("--episode", default=None, help="only this episode (id or a unique prefix)")
    p.add_argument("--top", type=int, default=5, help="number of quotes (default 5)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("evaluate-search", help="recall@k of search on the hand-written queries")
    p.add_argument("--k", type=int, default=5)
    p.set_defaults(func=cmd_evaluate_search)

    p = sub.add_parser("evaluate-pairs", help="the 'same point' threshold of passage pairs, measured on pairs "
                       "labelled by hand (leave one show out)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--write", action="store_true", help="store the threshold and its figures in "
                   "data/pairs.threshold.json (read by the index stage)")
    p.add_argument("--draft", default=None, metavar="FILE", help="instead, write unlabelled candidate pairs from "
                   "the Changelog transcripts (PODLENS_LABELLED_CORPUS) to FILE, for reading and labelling")
    p.add_argument("--per-bin", type=int, default=16, help="with --draft: pairs per similarity bin of 0.05")
    p.add_argument("--precision", type=float, default=0.9, help="the share of shown pairs that must be the same "
                   "point (default 0.9)")
    p.set_defaults(func=cmd_evaluate_pairs)

    p = sub.add_parser("compare", help="one person across their episodes (no name: list who recurs)")
    p.add_argument("person", nargs="?", default=None)
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("notebooks", help="execute the numbered notebooks into site/notebooks/ (for Quarto)")
    p.add_argument("names", nargs="*", help="only these notebooks (e.g. 01-corpus-overview)")
    p.add_argument("--force", action="store_true", help="re-run even when nothing changed")
    p.set_defaults(func=cmd_notebooks)

    p = sub.add_parser("site", help="write the Quarto site's pages from the tables, and previews in site/_preview/")
    p.add_argument("--no-preview", action="store_true", help="only the Quarto inputs, no pandoc/nbconvert previews")
    p.add_argument("--check", action="store_true", help="open every preview page in headless Chromium and report problems")
    p.set_defaults(func=cmd_site)

    p = sub.add_parser("formats", help="list supported transcript formats")
    p.set_defaults(func=cmd_formats)

    p = sub.add_parser("schema", help="print the data dictionary of every table (Markdown)")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    from . import stamps

    args = build_parser().parse_args(argv)
    plain, forced = stamps.gated(args)
    run = stamps.Run(args.command) if plain else None
    if run and not forced and (rc := run.up_to_date()) is not None:  # before any heavy import
        print(f"{args.command}: inputs, code and settings unchanged since its last run: nothing recomputed"
              + (f" (exit {rc}, as then)" if rc else ""))
        return rc
    if run:
        run.begin()
    rc = _dispatch(args)
    if run:
        run.done(rc)
    return rc


def _dispatch(args: argparse.Namespace) -> int:
    from .catalog import CatalogError
    from .entities.aliases import AliasError
    from .themes.lexicon import LexiconError

    try:
        return args.func(args)
    except (CatalogError, FileNotFoundError, LexiconError, AliasError) as exc:  # a broken catalog or a missing input table
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
