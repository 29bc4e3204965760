"""Scale benchmark: a synthetic archive of N one-hour episodes, and the whole pipeline run on it.

    .venv/bin/python benchmarks/scale.py 12                 # generate, then cold / no-op / add-one runs
    .venv/bin/python benchmarks/scale.py 100 --root /tmp/podlens-100 --scenarios cold
    .venv/bin/python benchmarks/scale.py 30 --stages corpus,speakers,entities   # only these stages
    .venv/bin/python benchmarks/scale.py 50 --generate-only --root /tmp/podlens-50
    .venv/bin/python benchmarks/scale.py 12 --cluster tcp://scheduler:8786   # per-episode work on dask
    .venv/bin/python benchmarks/scale.py 100 --root /tmp/podlens-100 --reuse --scenarios add-one  # one more, on a built root

The generator is deterministic (same N and seed, same bytes). Each episode is about 60 minutes
of conversation (``--minutes``, at 160 words a minute) remixed from the sentences of the seed
transcripts in data/raw and the format samples in tests/data/formats: blocks of consecutive
sentences (so topics persist for a while), with every sentence swapped for a nearby one at
random, so no two episodes share passages (the embedding cache gets no free hits). Formats
cycle through labelled (timestamped lines, WebVTT voices, Otter, Rev), generic labels
(``Speaker A:`` paragraphs, WhisperX ``SPEAKER_00``; half of them mapped to names in the
catalog) and unlabelled (one plain block, SRT captions, Whisper JSON) files; shows have one or
two hosts, episodes one or two guests.

The runner writes the archive and its catalog into a project folder (a temporary one unless
``--root``) and runs every stage of ``make all`` in its order (corpus, speakers, topics,
evaluate-topics, themes, index, entities, enrich, notebooks, site pages and previews; Quarto is not run)
as ``python -m analysis <stage>`` with ``PODLENS_ROOT`` set to it, so nothing under this
repository's data/ or site/ is touched; the OpenAI settings are removed, so enrich is off. Three
scenarios: cold (no caches, no site), a rerun with nothing changed, and a rerun after adding one
episode. Each stage prints its wall time, CPU time (the process and its workers), the peak
resident memory of its largest process (``wait4``), the peak summed over the process and its
workers (proportional set size, sampled every 0.2 s) and the 1-minute load average when it
started (other work on the machine inflates wall times); each scenario's totals are compared with
the targets, which are set for 100 episodes. Results go to ``.bench/scale-<N>.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WORDS_PER_MINUTE = 160
# Every stage of `make all`, in the Makefile's order (`make site` then only runs Quarto).
STAGES = [("corpus", ["corpus", "--quiet"]), ("speakers", ["speakers"]), ("topics", ["topics"]),
          ("evaluate-topics", ["evaluate-topics"]), ("themes", ["themes"]), ("index", ["index"]), ("entities", ["entities"]),
          ("enrich", ["enrich"]), ("notebooks", ["notebooks"]), ("site", ["site"])]
ALLOWED_TO_FAIL = {"evaluate-topics", "enrich"}  # the Makefile goes on after these (`|| echo warning`)
SUMMARY_LINE = re.compile(r"^(?:corpus: \d+ episodes|topics: \d+ passages|topic model evaluation)")  # shown after a stage's time
TARGETS = {"cold_s": 15 * 60, "noop_s": 5.0, "add_one_s": 120.0, "peak_mib": 3e9 / 2**20}  # at 100 episodes; 3 GB

SHOWS = [("Signal and Noise", ["Maya Castellanos"]), ("The Build Log", ["Tom Okafor"]),
         ("Machine Room", ["Priya Natarajan", "Leo Brandt"]), ("Open Questions", ["Sam Kowalski"]),
         ("Deep Stack", ["Hannah Reyes"])]
FIRST = ["Alice", "Bruno", "Chen", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
         "Kemi", "Lars", "Mariam", "Nikhil", "Olga", "Pablo", "Quinn", "Rosa", "Sven", "Tariq"]
LAST = ["Abara", "Bergstrom", "Costa", "Dubois", "Eriksen", "Fujita", "Gallo", "Haddad", "Ivanova",
        "Jensen", "Kaur", "Lindqvist", "Moreau", "Nakamura", "Oyelaran", "Petrov", "Quispe", "Rossi",
        "Santos", "Tanaka"]
# Format per episode index (cycled): 6 labelled, 3 with generic labels, 3 without speakers.
CYCLE = ["timestamped_lines", "webvtt", "speaker_paragraphs", "otter", "plain_text", "rev",
         "whisperx_json", "timestamped_lines", "srt", "speaker_paragraphs", "whisper_json", "webvtt"]
EXTENSION = {"timestamped_lines": "txt", "webvtt": "vtt", "speaker_paragraphs": "txt", "otter": "txt",
             "plain_text": "txt", "rev": "txt", "whisperx_json": "json", "srt": "srt", "whisper_json": "json"}
GENERIC = {"speaker_paragraphs": "Speaker {letter}", "whisperx_json": "SPEAKER_{n:02d}"}
UNLABELLED = {"plain_text", "srt", "whisper_json"}


# ---------------------------------------------------------------- generator

def sentence_streams() -> list[list[str]]:
    """Sentences (4-60 words, in file order) of each seed transcript, and of all format samples
    together (each sample alone is too short to draw an hour from)."""
    from analysis.ingest import ParseError, parse_file
    from analysis.ingest.text import sentences

    def read(path: Path) -> list[str]:
        try:
            segments = parse_file(path).segments
        except ParseError:
            return []
        return [s for seg in segments for s in sentences(seg.text) if 4 <= len(s.split()) <= 60]

    seeds = [read(p) for p in sorted((ROOT / "data" / "raw").glob("*.transcript.txt"))]
    samples = [s for p in sorted((ROOT / "tests" / "data" / "formats").glob("*")) for s in read(p)]
    return [s for s in seeds + [list(dict.fromkeys(samples))] if s]


@dataclass
class Turn:
    speaker: str  # display name
    label: str | None  # label written in the file (None: unlabelled format)
    start: float  # seconds
    end: float
    sentences: list[str]


def _hms(t: float, sep: str = ".", ms: bool = True) -> str:
    whole = int(t)
    out = f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return out + (f"{sep}{round((t - whole) * 1000) % 1000:03d}" if ms else "")


def _ms(t: float) -> str:
    whole = int(t)
    return f"{whole // 60}:{whole % 60:02d}" if whole < 3600 else _hms(t, ms=False).lstrip("0")


def _sentence_times(turns: list[Turn]):
    for turn in turns:
        t = turn.start
        for s in turn.sentences:
            d = len(s.split()) * 60 / WORDS_PER_MINUTE
            yield turn, s, t, t + d
            t += d


def write_format(fmt: str, turns: list[Turn], title: str, show: str, published: str) -> str:
    """The transcript file text of ``turns`` in ``fmt``."""
    if fmt == "timestamped_lines":
        head = f"# {title}\n\n**Podcast:** {show}\n**Date:** {published}\n\n---\n\n"
        return head + "".join(f"[{_hms(a, ms=False)}] {t.label}: {s}\n" for t, s, a, _ in _sentence_times(turns))
    if fmt == "webvtt":
        return "WEBVTT\n\n" + "".join(f"{_hms(a)} --> {_hms(b)}\n<v {t.label}>{s}\n\n"
                                      for t, s, a, b in _sentence_times(turns))
    if fmt == "otter":
        return "".join(f"{t.label}  {_ms(t.start)}\n{' '.join(t.sentences)}\n\n" for t in turns)
    if fmt == "rev":
        return "".join(f"{t.label} ({_hms(t.start, ms=False)}):\n{' '.join(t.sentences)}\n\n" for t in turns)
    if fmt == "speaker_paragraphs":
        return "".join(f"{t.label}: {' '.join(t.sentences)}\n\n" for t in turns)
    if fmt == "plain_text":
        return " ".join(s for t in turns for s in t.sentences) + "\n"
    if fmt == "srt":
        cues, words, start, k = [], [], None, 1
        for _, s, a, b in _sentence_times(turns):
            start = a if start is None else start
            words += s.split()
            if len(words) >= 12:
                cues.append(f"{k}\n{_hms(start, ',')} --> {_hms(b, ',')}\n{' '.join(words)}\n")
                words, start, k = [], None, k + 1
        return "\n".join(cues)
    if fmt in ("whisperx_json", "whisper_json"):
        segments = [{"start": round(a, 3), "end": round(b, 3), "text": " " + s}
                    | ({"speaker": t.label} if fmt == "whisperx_json" else {})
                    for t, s, a, b in _sentence_times(turns)]
        doc = {"segments": segments} | ({"text": "".join(x["text"] for x in segments), "language": "en"}
                                         if fmt == "whisper_json" else {})
        return json.dumps(doc, indent=1) + "\n"
    raise ValueError(f"unknown format {fmt}")


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def make_episode(index: int, streams: list[list[str]], seed: int = 0, minutes: float = 60.0) -> tuple[dict, str, str]:
    """Catalog entry, file name and file text of synthetic episode ``index`` (deterministic)."""
    rng = random.Random(f"podlens-scale:{seed}:{index}")
    show, hosts = SHOWS[index % len(SHOWS)]
    guests = [_person(rng) for _ in range(2 if rng.random() < 0.25 else 1)]
    guests = list(dict.fromkeys(g for g in guests if g not in hosts))
    fmt = CYCLE[index % len(CYCLE)]
    people = hosts + guests
    generic = GENERIC.get(fmt)
    labels = {p: (generic.format(letter=chr(65 + k), n=k) if generic else p) for k, p in enumerate(people)}

    turns: list[Turn] = []
    t, words, target = rng.uniform(0, 5), 0, minutes * WORDS_PER_MINUTE
    weights = [len(s) for s in streams]
    while words < target:
        stream = rng.choices(streams, weights)[0]  # a block on one subject: consecutive sentences ...
        pos = rng.randrange(len(stream))
        for _ in range(rng.randint(4, 12)):
            speaker = hosts[rng.randrange(len(hosts))] if not turns or turns[-1].speaker not in hosts else \
                guests[rng.randrange(len(guests))]
            n = rng.randint(1, 2) if speaker in hosts else rng.randint(2, 8)
            said = []
            for _ in range(n):  # ... each swapped for a nearby one now and then, so no episode repeats another
                j = pos + (rng.randint(-15, 15) if rng.random() < 0.35 else 0)
                if stream[j % len(stream)] in said:
                    j = pos
                said.append(stream[j % len(stream)])
                pos += 1
            d = sum(len(s.split()) for s in said) * 60 / WORDS_PER_MINUTE
            turns.append(Turn(speaker, None if fmt in UNLABELLED else labels[speaker], t, t + d, said))
            t += d + rng.uniform(0.2, 1.0)
            words += sum(len(s.split()) for s in said)

    slug = show.lower().replace(" ", "-")
    published = (date(2023, 1, 2) + timedelta(days=7 * index)).isoformat()
    eid = f"{slug}-{published}-ep{index:04d}"
    title = f"{show} #{index + 1}: {' and '.join(guests)}"
    name = f"{eid}.{EXTENSION[fmt]}"
    entry = {
        "id": eid, "title": title, "show": show, "published": published, "url": None, "video_id": None,
        "duration_s": round(t),
        "hosts": [{"name": h, "role": "host", "title": "Host", "affiliation": show} for h in hosts],
        "guests": [{"name": g, "role": "guest", "title": None, "affiliation": None} for g in guests],
        "files": [{"path": f"raw/{name}", "kind": "transcript", "original_name": f"{index:04d}.{EXTENSION[fmt]}",
                   "format": "auto"}],
        # half of the generic-label episodes come with the labels mapped, half are left to attribution
        "speaker_labels": {labels[p]: p for p in people} if generic and index % 2 == 0 else {},
        "provenance": {},
    }
    return entry, name, write_format(fmt, turns, title, show, published)


def generate(root: Path, n: int, seed: int = 0, minutes: float = 60.0, start: int = 0) -> list[str]:
    """Write episodes ``start..n-1`` into ``root/data/raw`` and (re)write ``root/data/episodes.yaml``
    with every episode so far; the project's settings in data/ (glossary, theme lexicon, entity
    aliases: its .yaml and .json files) are copied from this repository. Returns the new ids."""
    data = root / "data"
    (data / "raw").mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "data").glob("*.*")):  # settings: ASR glossary, theme lexicon (and model), entity aliases
        if path.is_file() and path.suffix in (".yaml", ".json") and path.name != "episodes.yaml":
            shutil.copy(path, data / path.name)
    catalog = data / "episodes.yaml"
    entries = yaml.safe_load(catalog.read_text())["episodes"] if start and catalog.exists() else []
    streams = sentence_streams()
    ids = []
    for i in range(start, n):
        entry, name, text = make_episode(i, streams, seed, minutes)
        (data / "raw" / name).write_text(text, encoding="utf-8")
        entries.append(entry)
        ids.append(entry["id"])
    catalog.write_text("# synthetic archive written by benchmarks/scale.py\n"
                       + yaml.safe_dump({"episodes": entries}, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return ids


# ---------------------------------------------------------------- runner

@dataclass
class StageRun:
    scenario: str
    stage: str
    seconds: float
    cpu_s: float  # user + system CPU time of the process and all its descendants (workers, kernels, pandoc)
    load: float  # 1-minute load average when the stage started
    peak_mib: float  # largest single process (wait4 ru_maxrss)
    tree_peak_mib: float  # process and its children together (PSS), sampled every 0.2 s
    rc: int
    note: str


def _tree_memory(pid: int) -> float:
    """MiB used by a process and its children together: the sum of their proportional set sizes
    (shared pages counted once overall), or of their resident sets where PSS is unavailable."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc] + proc.children(recursive=True)
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for p in procs:
        try:
            info = p.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return total / 2**20


def _become_subreaper() -> None:
    """Adopt orphaned descendants (Linux): worker processes started by a forkserver outlive the
    stage's process, and their CPU time only reaches this process's children's usage (which the
    stage's CPU time is measured by) if they are reaped here."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _reap_orphans(timeout: float = 10.0) -> None:
    """Wait (at most ``timeout`` s) for the adopted descendants of a finished stage to exit."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if not pid:
            time.sleep(0.05)


def _children_cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def run_stage(scenario: str, stage: str, args: list[str], env: dict, log: Path) -> StageRun:
    """``python -m analysis <args>`` in ``env``: wall time, CPU time of it and all its descendants,
    peak memory, exit code, its summary line."""
    load = os.getloadavg()[0]
    cpu = _children_cpu()
    with log.open("a") as out:
        out.write(f"\n===== {scenario}: {stage}\n")
        out.flush()
        t = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "analysis", *args], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        peak = [0.0]
        done = threading.Event()

        def sample():
            while not done.wait(0.2):
                peak[0] = max(peak[0], _tree_memory(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        done.set()
        sampler.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        _reap_orphans()
    text = log.read_text(encoding="utf-8", errors="replace").rsplit(f"===== {scenario}: {stage}\n", 1)[-1]
    note = next((ln.strip()[:110] for ln in text.splitlines() if SUMMARY_LINE.match(ln)), "")
    return StageRun(scenario, stage, seconds, _children_cpu() - cpu, load, usage.ru_maxrss / 1024, peak[0],
                    proc.returncode, note)


def run_all(root: Path, scenario: str, env: dict, log: Path, stages: list[tuple[str, list[str]]],
            keep_going: bool = False) -> list[StageRun]:
    runs = []
    for stage, args in stages:
        r = run_stage(scenario, stage, args, env, log)
        print(f"  {scenario:<8} {stage:<16} {r.seconds:8.1f} s  cpu {r.cpu_s:7.1f} s  {r.peak_mib:6.0f} MiB  "
              f"(with workers {r.tree_peak_mib:6.0f} MiB)  load {r.load:4.1f}  rc {r.rc}  {r.note}", flush=True)
        runs.append(r)
        if r.rc and stage not in ALLOWED_TO_FAIL:
            if not keep_going:
                raise SystemExit(f"{stage} failed (exit {r.rc}); see {log}")
            print(f"  {scenario:<8} {stage} FAILED (exit {r.rc}; see {log}): make would stop here; going on")
    total = sum(r.seconds for r in runs)
    print(f"  {scenario:<8} {'total':<16} {total:8.1f} s  cpu {sum(r.cpu_s for r in runs):7.1f} s  "
          f"peak {max((r.tree_peak_mib for r in runs), default=0):6.0f} MiB", flush=True)
    return runs


def verdict(runs: list[StageRun], n: int) -> list[str]:
    """One line per target: the scenario's total (or the peak) against the target for 100 episodes."""
    lines = []
    for scenario, key in (("cold", "cold_s"), ("no-op", "noop_s"), ("add-one", "add_one_s")):
        mine = [r for r in runs if r.scenario == scenario]
        if mine:
            total = sum(r.seconds for r in mine)
            lines.append(f"{scenario:<8} {total:8.1f} s  (cpu {sum(r.cpu_s for r in mine):.1f} s, "
                         f"{total / n:.2f} s/episode)  target {TARGETS[key]:.0f} s: "
                         f"{'met' if total <= TARGETS[key] else 'MISSED'}")
    peak = max((r.tree_peak_mib for r in runs), default=0.0)
    lines.append(f"peak     {peak:8.0f} MiB  target {TARGETS['peak_mib']:.0f} MiB: "
                 f"{'met' if peak <= TARGETS['peak_mib'] else 'MISSED'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, help="episodes in the archive (e.g. 12, 50, 100)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed")
    parser.add_argument("--minutes", type=float, default=60.0, help="length of each episode")
    parser.add_argument("--root", type=Path, default=None, help="project folder (default: a temporary one, removed)")
    parser.add_argument("--generate-only", action="store_true", help="write the archive and catalog, run nothing")
    parser.add_argument("--stages", default=None, help="comma-separated subset of the stages (default: all of "
                        + ",".join(s for s, _ in STAGES) + ")")
    parser.add_argument("--keep-going", action="store_true", help="run the later stages after a stage fails "
                        "(make would stop; the totals then say so)")
    parser.add_argument("--scenarios", default="cold,no-op,add-one", help="which runs (default cold,no-op,add-one)")
    parser.add_argument("--cluster", default=None, help="dask scheduler address for the per-episode work")
    parser.add_argument("--reuse", action="store_true", help="keep the archive and derived data of --root (built "
                        "by an earlier run) instead of regenerating and wiping them: N is then the number of "
                        "episodes its catalog holds, and add-one adds the next one (quick reruns of one scenario)")
    parser.add_argument("--json", type=Path, default=None, help="where to save the results")
    args = parser.parse_args(argv)

    tmp = None
    root = args.root
    if root is None:
        tmp = tempfile.TemporaryDirectory(prefix=f"podlens-scale-{args.n}-")
        root = Path(tmp.name)
    root = root.resolve()
    if args.reuse:
        if args.root is None or not (root / "data" / "episodes.yaml").exists():
            parser.error("--reuse needs a --root built by an earlier run")
        args.n = len(yaml.safe_load((root / "data" / "episodes.yaml").read_text())["episodes"])
        print(f"reusing the {args.n} episodes and the derived data in {root}")
    else:
        t = time.perf_counter()
        generate(root, args.n, args.seed, args.minutes)
        print(f"generated {args.n} episodes of {args.minutes:.0f} min into {root}/data in {time.perf_counter() - t:.1f} s")
        if args.generate_only:
            return 0
        for name in ("interim", "processed", "cache"):
            shutil.rmtree(root / "data" / name, ignore_errors=True)
        shutil.rmtree(root / "site", ignore_errors=True)
    if not (root / "notebooks").exists():
        (root / "notebooks").symlink_to(ROOT / "notebooks")
    chosen = args.stages.split(",") if args.stages else [s for s, _ in STAGES]
    unknown = set(chosen) - {s for s, _ in STAGES}
    if unknown:
        parser.error(f"unknown stage(s) {sorted(unknown)}; choose from {[s for s, _ in STAGES]}")
    stages = [(s, a) for s, a in STAGES if s in chosen]
    scenarios = args.scenarios.split(",")
    if set(scenarios) - {"cold", "no-op", "add-one"}:
        parser.error("--scenarios takes cold, no-op and add-one")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PODLENS_", "OPENAI_"))}  # no key, no base URL: enrich is off
    env.update(PODLENS_ROOT=str(root), TQDM_DISABLE="1", PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])))
    if args.cluster:
        env["PODLENS_CLUSTER"] = args.cluster
    log = root / "scale.log"
    _become_subreaper()
    print(f"podlens scale benchmark  N={args.n}  python {platform.python_version()}  {os.cpu_count()} CPUs  "
          f"load {os.getloadavg()[0]:.1f}  {time.strftime('%Y-%m-%d %H:%M')}  (stage output: {log})")
    runs = []
    for scenario in ("cold", "no-op", "add-one"):
        if scenario == "add-one" and scenario in scenarios:
            generate(root, args.n + 1, args.seed, args.minutes, start=args.n)
        if scenario in scenarios:
            runs += run_all(root, scenario, env, log, stages, args.keep_going)

    totals = {s: sum(r.seconds for r in runs if r.scenario == s) for s in scenarios}
    peak = max(r.tree_peak_mib for r in runs)
    print(f"\nN={args.n}, {len(stages)} of {len(STAGES)} stages, load average at the end "
          f"{os.getloadavg()[0]:.1f}; targets are for 100 episodes, every stage:")
    for line in verdict(runs, args.n):
        print("  " + line)
    failed = sorted({f"{r.scenario} {r.stage}" for r in runs if r.rc and r.stage not in ALLOWED_TO_FAIL})
    if failed:
        print(f"  FAILED stages (the totals are not those of a complete `make all`): {', '.join(failed)}")
    out = args.json or ROOT / ".bench" / f"scale-{args.n}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"n": args.n, "minutes": args.minutes, "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                               "cpus": os.cpu_count(), "stages": [s for s, _ in stages], "totals_s": totals,
                               "peak_mib": peak, "runs": [asdict(r) for r in runs]}, indent=2) + "\n")
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
