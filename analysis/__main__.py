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
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    from . import corpus  # noqa: F401  (importing a module registers its tables)
    from .speakers import talktime  # noqa: F401
    from .schema import data_dictionary
    from .topics import passages, tables  # noqa: F401

    print(data_dictionary())
    return 0


def cmd_speakers(args: argparse.Namespace) -> int:
    from .speakers.talktime import main_speakers

    return main_speakers(args)


def cmd_evaluate_speakers(args: argparse.Namespace) -> int:
    from .speakers.evaluation import main_evaluate_speakers

    return main_evaluate_speakers(args)


def cmd_topics(args: argparse.Namespace) -> int:
    from .topics import main_topics

    return main_topics(args)


def cmd_evaluate_topics(args: argparse.Namespace) -> int:
    from .topics import main_evaluate_topics

    return main_evaluate_topics(args)


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description="podlens: podcast transcript analysis")
    sub = parser.add_subparsers(dest="command", required=True)

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
    p.set_defaults(func=cmd_evaluate_speakers)

    p = sub.add_parser("topics", help="fit (or reload) the topic model and write topic tables")
    p.add_argument("--refit", action="store_true", help="refit even when inputs are unchanged")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("evaluate-topics",
                       help="NPMI coherence, diversity, outliers and stability vs a default BERTopic run")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--refit", action="store_true", help="re-evaluate even when the model is unchanged")
    p.set_defaults(func=cmd_evaluate_topics)

    p = sub.add_parser("notebooks", help="execute the numbered notebooks into site/notebooks/ (for Quarto)")
    p.add_argument("names", nargs="*", help="only these notebooks (e.g. 01-corpus-overview)")
    p.add_argument("--force", action="store_true", help="re-run even when nothing changed")
    p.set_defaults(func=cmd_notebooks)

    p = sub.add_parser("formats", help="list supported transcript formats")
    p.set_defaults(func=cmd_formats)

    p = sub.add_parser("schema", help="print the data dictionary of every table (Markdown)")
    p.set_defaults(func=cmd_schema)
    return parser


def main(argv: list[str] | None = None) -> int:
    from .catalog import CatalogError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CatalogError, FileNotFoundError) as exc:  # a broken catalog or a missing input table
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
