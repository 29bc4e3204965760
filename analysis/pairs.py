"""How similar two of a person's passages from different episodes must be to be the same point
said twice: a threshold on the cosine of their embeddings, measured on passage pairs read and
labelled by hand (data/annotations/passage_pairs.tsv: most from Changelog Media's transcripts,
read in place from config.LABELLED_CORPUS, a few from the seed episodes).

The labelled pairs are drawn from the pairs the `index` stage makes (analysis.compare: for each
person in several episodes and each two of their episodes, the closest pairs of their passages),
spread over the similarity range (``--draft``). The page says such a pair is the same point, so
the threshold is set for precision: the lowest similarity at which at least PRECISION of the
labelled pairs at or above it are the same point (a 0.01 grid). It is measured by leaving one
show out: each show's pairs (pairs across two shows form their own group) are judged with the
threshold chosen on the other groups, and the held-out judgements are pooled, beside the rule of
showing every closest pair (what the site did before). ``python -m analysis evaluate-pairs`` prints the
figures; ``--write`` stores the threshold and them in config.PAIR_THRESHOLD."""
from __future__ import annotations

import itertools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import config

LABELS = "passage_pairs.tsv"  # under config.ANNOTATIONS
COLUMNS = ["episode_a", "passage_a", "episode_b", "passage_b", "speaker", "label", "excerpt_a", "excerpt_b", "note"]
VERDICTS = ("same", "different")
NOTE_KINDS = ("verbatim", "boilerplate")  # a note starting with one: the same words, or a show's opening or closing
GRID = np.round(np.arange(0.30, 1.00, 0.01), 2)  # thresholds tried
EXCERPT_WORDS = 12  # a labelled passage is recognised by its first words
DRAFT_BINS = np.round(np.arange(0.40, 1.01, 0.05), 2)  # similarity bins the draft draws evenly from
DRAFT_SEED = 21
PRECISION = 0.9  # the share of shown pairs that must be the same point: the page claims they are


class PairsError(ValueError):
    """The labelled pairs file is malformed or names a passage that no longer exists."""


@dataclass
class Episodes:
    """The episodes the labelled pairs come from: passages (with passage_key) and episode shows."""

    passages: pd.DataFrame
    shows: dict[str, str]


def changelog_id(path: str) -> str:
    """The corpus id of a Changelog transcript ('friends/changelog--friends-11.md' ->
    'changelog-friends-changelog-friends-11')."""
    from .catalog import slugify

    return "changelog-" + slugify(path.removesuffix(".md"))


def changelog_episodes(files: list[str], root: Path | None = None) -> Episodes:
    """Build ``files`` (paths under ``root``, default config.LABELLED_CORPUS) as a corpus (its per-episode
    cache in config.INTERIM, like any episode) and cut their conversation passages as the topic
    stage does. The catalog lists no people: speakers are the transcripts' full-name labels."""
    import yaml

    from .corpus import build_corpus
    from .io import write_text
    from .themes.tagging import passage_keys
    from .topics.passages import make_passages

    root = Path(root or config.LABELLED_CORPUS)
    missing = [f for f in files if not (root / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{root}: {len(missing)} Changelog transcript(s) not found, e.g. {missing[0]} "
                                "(set PODLENS_LABELLED_CORPUS to the corpus folder)")
    entries = [{"id": changelog_id(f), "title": Path(f).stem, "show": f.split("/")[0], "published": None,
                "files": [{"path": str(root / f), "kind": "transcript", "format": "auto"}]} for f in sorted(set(files))]
    catalog = config.CACHE / "pairs" / "changelog.yaml"
    write_text(yaml.safe_dump({"episodes": entries}, sort_keys=False), catalog)
    build = build_corpus(catalog=catalog, progress=False, write=False)
    if build.errors:
        print("\n".join(f"warning: {e}" for e in build.errors), file=sys.stderr)
    passages = make_passages(build.tables["utterances"], build.tables["episodes"])
    return Episodes(passages.assign(passage_key=passage_keys(passages)),
                    dict(zip(build.tables["episodes"]["episode_id"], build.tables["episodes"]["show"])))


def seed_episodes(corpus: dict[str, pd.DataFrame] | None = None) -> Episodes:
    """This project's corpus tables (default: as built in data/processed) and their passages, for
    the pairs from the seed episodes."""
    from .corpus import load_corpus
    from .themes.tagging import passage_keys
    from .topics.passages import make_passages

    corpus = corpus if corpus is not None else load_corpus()
    passages = make_passages(corpus["utterances"], corpus["episodes"])
    return Episodes(passages.assign(passage_key=passage_keys(passages)),
                    dict(zip(corpus["episodes"]["episode_id"], corpus["episodes"]["show"])))


def load_labels(path: Path | None = None) -> pd.DataFrame:
    """The labelled pairs (tab-separated, '#' lines are comments), with their line numbers;
    a malformed line raises :class:`PairsError` naming the file and line."""
    path = Path(path or config.ANNOTATIONS / LABELS)
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if cells[:len(COLUMNS)] == COLUMNS:
            continue  # the header
        if len(cells) != len(COLUMNS):
            raise PairsError(f"{path}, line {n}: {len(cells)} tab-separated fields, expected {len(COLUMNS)} "
                             f"({', '.join(COLUMNS)})")
        row = dict(zip(COLUMNS, cells), line=n)
        if row["label"] not in VERDICTS:
            raise PairsError(f"{path}, line {n}: label {row['label']!r}, expected one of {', '.join(VERDICTS)}")
        rows.append(row)
    if not rows:
        raise PairsError(f"{path}: no labelled pair")
    return pd.DataFrame(rows)


def _episode(name: str) -> str:
    """A labels file's episode cell: a Changelog path ('show/file.md') or a corpus episode id."""
    return changelog_id(name) if name.endswith(".md") else name


def similarities(labels: pd.DataFrame, path: Path | None = None,
                 corpus: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """``labels`` with each pair's group (its show, or 'show a + show b'), its two passage texts
    and the cosine of their embeddings (through the embedding cache). A passage that is not
    found as it is cut now (:func:`analysis.themes.tagging.resolve_keys`, by its excerpt), raises :class:`PairsError` with its line.
    Pairs from this project's episodes are cut from ``corpus`` (default: data/processed)."""
    from .embeddings import embed

    path = Path(path or config.ANNOTATIONS / LABELS)
    files = sorted({f for col in ("episode_a", "episode_b") for f in labels[col] if f.endswith(".md")})
    sources = [changelog_episodes(files)] if files else []
    if not labels[["episode_a", "episode_b"]].stack().str.endswith(".md").all():
        sources.append(seed_episodes(corpus))
    from .themes.tagging import resolve_keys

    passages = pd.concat([src.passages for src in sources], ignore_index=True)
    texts = dict(zip(passages["passage_key"], passages["text"]))
    shows = {e: show for src in sources for e, show in src.shows.items()}
    # each labelled passage as it is cut now (a passage holding its excerpt and utterance)
    sides = {side: [f"{_episode(e)}@{k}" for e, k in zip(labels[f"episode_{side}"], labels[f"passage_{side}"])]
             for side in ("a", "b")}
    resolved = {side: resolve_keys(keys, passages, [str(x).removesuffix("…").strip() for x in labels[f"excerpt_{side}"]])
                for side, keys in sides.items()}
    rows = []
    for i, r in enumerate(labels.itertuples()):
        pair = {}
        for side in ("a", "b"):
            episode = _episode(getattr(r, f"episode_{side}"))
            key = resolved[side][i] or sides[side][i]
            text = texts.get(key)
            excerpt = " ".join(str(getattr(r, f"excerpt_{side}")).split())
            if text is None or excerpt.removesuffix("…").strip()[:60] not in " ".join(text.split()):
                found = "not found" if text is None else f"starts {' '.join(text.split()[:EXCERPT_WORDS])!r}"
                raise PairsError(f"{path}, line {r.line}: passage {key} {found}, and no passage of the episode holds "
                                 f"{excerpt!r} (label the pairs again with `evaluate-pairs --draft`)")
            pair[f"text_{side}"], pair[f"show_{side}"] = text, shows[episode]
        kind = r.note.split(":")[0].strip()
        rows.append({"line": r.line, "changelog": r.episode_a.endswith(".md"), "kind": kind if kind in NOTE_KINDS else "",
                     "group": " + ".join(sorted({pair["show_a"], pair["show_b"]})),
                     "same": r.label == "same", "speaker": r.speaker, **pair})
    out = pd.DataFrame(rows)
    vectors = embed(out["text_a"].tolist() + out["text_b"].tolist())
    out["similarity"] = (vectors[:len(out)] * vectors[len(out):]).sum(axis=1).astype(float)
    return out


def scores(same: np.ndarray, shown: np.ndarray) -> dict:
    """Precision, recall (None where undefined: nothing shown, nothing the same) and F1 of
    ``shown`` (pairs judged the same point) against ``same``."""
    tp = int((same & shown).sum())
    p = tp / shown.sum() if shown.sum() else None
    r = tp / same.sum() if same.sum() else None
    f1 = 2 * p * r / (p + r) if p and r else 0.0
    return {"precision": p, "recall": r, "f1": f1, "shown": int(shown.sum()), "same": int(same.sum()), "pairs": len(same)}


def best_threshold(similarity: np.ndarray, same: np.ndarray, precision: float | None = PRECISION) -> float:
    """The lowest GRID threshold at which "similarity >= threshold" has at least ``precision``
    on these pairs (the most pairs shown at that precision); with ``precision`` None, or when no
    threshold reaches it, the one with the highest F1 (ties: the highest threshold)."""
    if precision is not None:
        reach = [t for t in GRID if (similarity >= t).any() and (scores(same, similarity >= t)["precision"] or 0) >= precision]
        if reach:
            return float(reach[0])
    f1 = np.array([scores(same, similarity >= t)["f1"] for t in GRID])
    return float(GRID[np.flatnonzero(f1 == f1.max())[-1]])


def held_out(pairs: pd.DataFrame, precision: float | None = PRECISION) -> tuple[np.ndarray, dict]:
    """Each group's pairs judged with the threshold :func:`best_threshold` chooses on the other
    groups: the judgements (pair order) and each group's figures and threshold."""
    sim, same = pairs["similarity"].to_numpy(), pairs["same"].to_numpy()
    shown, folds = np.zeros(len(pairs), dtype=bool), {}
    for group in sorted(pairs["group"].unique()):
        out = (pairs["group"] == group).to_numpy()
        t = best_threshold(sim[~out], same[~out], precision)
        shown[out] = sim[out] >= t
        folds[group] = dict(scores(same[out], shown[out]), threshold=t)
    return shown, folds


def evaluate(pairs: pd.DataFrame, precision: float = PRECISION) -> dict:
    """The threshold chosen on all ``pairs`` (:func:`similarities`) and its held-out figures (each
    group judged with the threshold chosen on the others, pooled), beside the rule of showing
    every pair and the threshold of highest F1 (measured the same way)."""
    sim, same = pairs["similarity"].to_numpy(), pairs["same"].to_numpy()
    shown, folds = held_out(pairs, precision)
    threshold = best_threshold(sim, same, precision)
    f1_shown = held_out(pairs, None)[0]
    plain = pairs["kind"].eq("").to_numpy()  # neither word for word nor a show's opening or closing
    return {"threshold": threshold, "target_precision": precision,
            "method": f"the lowest similarity (0.30-0.99, step 0.01) at which at least {precision:.0%} of the labelled "
                      "pairs at or above it are the same point; measured leaving one show (or show pair) out",
            "pairs": len(pairs), "same": int(same.sum()), "groups": len(folds), "people": int(pairs["speaker"].nunique()),
            "changelog_pairs": int(pairs["changelog"].sum()),
            "cv": scores(same, shown), "cv_reworded": scores(same[plain], shown[plain]),
            "baseline_every_pair": scores(same, np.ones(len(same), dtype=bool)),
            "max_f1": {"threshold": best_threshold(sim, same, None), "cv": scores(same, f1_shown)},
            "in_sample": scores(same, sim >= threshold), "folds": folds,
            "similarity_same": _spread(sim[same]), "similarity_different": _spread(sim[~same]),
            "measured": time.strftime("%Y-%m-%d"), "model": config.EMBEDDING_MODEL,
            "command": "python -m analysis evaluate-pairs"}


def _spread(values: np.ndarray) -> dict:
    if not len(values):
        return {}
    q = np.quantile(values, [0.1, 0.5, 0.9])
    return {"p10": float(q[0]), "median": float(q[1]), "p90": float(q[2])}


def report(result: dict) -> str:
    """The figures of :func:`evaluate` as text."""
    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    def line(name: str, s: dict) -> str:
        return (f"  {name:<44} precision {f(s['precision'])}  recall {f(s['recall'])}  F1 {s['f1']:.2f}  "
                f"({s['shown']} of {s['pairs']} pairs shown, {s['same']} the same point)")

    lines = [(f"{result['pairs']} labelled pairs ({result['same']} the same point) of {result['people']} people, "
              f"{result['changelog_pairs']} from the Changelog transcripts, in {result['groups']} show groups; "
              f"model {result['model']}"),
             f"threshold: {result['method']}: {result['threshold']:.2f}",
             line("held out, pooled (each group's threshold set on the others)", result["cv"]),
             line("  pairs neither word for word nor a show's opening/closing", result["cv_reworded"]),
             line("baseline: every closest pair shown", result["baseline_every_pair"]),
             line(f"highest F1 instead ({result['max_f1']['threshold']:.2f} on all), held out", result["max_f1"]["cv"]),
             line("in sample (the threshold on the pairs it was chosen on)", result["in_sample"]),
             "similarity of pairs that are the same point (10th / 50th / 90th percentile): "
             + " / ".join(f"{v:.2f}" for v in result["similarity_same"].values()),
             "similarity of pairs that are not: "
             + " / ".join(f"{v:.2f}" for v in result["similarity_different"].values()),
             "per held-out group (threshold set on the others):"]
    for group, fold in result["folds"].items():
        lines.append(f"  {group:<40} threshold {fold['threshold']:.2f}: {fold['shown']} shown of {fold['pairs']}, "
                     f"{fold['same']} the same point, precision {f(fold['precision'])}, recall {f(fold['recall'])}")
    return "\n".join(lines)


def draft(per_bin: int, root: Path | None = None, most_episodes: int = 6) -> tuple[pd.DataFrame, dict[str, int]]:
    """Unlabelled candidate pairs to read (the ``COLUMNS`` of the labels file, label empty, no
    similarity: the reader labels blind), from the Changelog transcripts under ``root``: every
    person in two or more episodes (at most ``most_episodes`` of theirs, evenly spread), their
    pairs as the `index` stage makes them, up to ``per_bin`` drawn at random from each similarity
    bin of DRAFT_BINS, in random order; and how many pairs each bin holds."""
    from .compare import person_pairs
    from .embeddings import embed

    root = Path(root or config.LABELLED_CORPUS)
    files = sorted(str(p.relative_to(root)) for p in root.glob("*/*.md"))
    src = changelog_episodes(files, root)
    by_id = {changelog_id(f): f for f in files}
    p = src.passages
    long_enough = p[p["speaker_id"].notna() & (p["word_count"] >= 30)]
    spread = long_enough.groupby("speaker_id")["episode_id"].agg(lambda e: sorted(set(e)))
    chosen = {sid: [eps[round(k)] for k in np.linspace(0, len(eps) - 1, min(len(eps), most_episodes))]
              for sid, eps in spread.items() if len(eps) > 1}
    keep = p[p["speaker_id"].isin(list(chosen)) & p.apply(lambda r: r["episode_id"] in chosen.get(r["speaker_id"], ()),
                                                          axis=1)].reset_index(drop=True)
    vectors = embed(keep["text"].tolist(), progress=True)
    video = pd.Series(dtype=object)
    pairs = pd.DataFrame([r for sid, eps in chosen.items() for r in person_pairs(sid, eps, keep, vectors, video)])
    names = dict(zip(keep["speaker_id"], keep["speaker"]))
    rng = np.random.default_rng(DRAFT_SEED)
    picked, counts = [], {}
    for lo, hi in itertools.pairwise(DRAFT_BINS):
        b = pairs[(pairs["similarity"] >= lo) & (pairs["similarity"] < hi)]
        picked.append(b.iloc[rng.permutation(len(b))[:per_bin]])
        counts[f"{lo:.2f}-{hi:.2f}"] = len(b)
    out = pd.concat(picked, ignore_index=True)
    out = out.iloc[rng.permutation(len(out))]
    excerpt = lambda t: " ".join(str(t).split()[:EXCERPT_WORDS])
    return pd.DataFrame({
        "episode_a": [by_id[e] for e in out["episode_id_a"]], "passage_a": out["passage_key_a"].str.split("@").str[1],
        "episode_b": [by_id[e] for e in out["episode_id_b"]], "passage_b": out["passage_key_b"].str.split("@").str[1],
        "speaker": [names[s] for s in out["speaker_id"]], "label": "", "excerpt_a": out["quote_a"].map(excerpt),
        "excerpt_b": out["quote_b"].map(excerpt), "note": ""})[COLUMNS], counts


def main_evaluate_pairs(args) -> int:
    """``python -m analysis evaluate-pairs [--json] [--write] [--draft FILE [--per-bin N]]``."""
    from .io import write_json, write_text

    if args.draft:
        rows, counts = draft(args.per_bin)
        write_text("\t".join(COLUMNS) + "\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows.values),
                   Path(args.draft))
        print(f"wrote {len(rows)} unlabelled pairs to {args.draft}: read each pair, write same or different in "
              f"'label', then add them to {config.ANNOTATIONS / LABELS}; pairs per similarity bin: "
              + ", ".join(f"{k} {n}" for k, n in counts.items()))
        return 0
    try:
        result = evaluate(similarities(load_labels()), args.precision)
    except PairsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2) if args.json else report(result))
    if args.write:
        out = config.writable_artifact(config.PAIR_THRESHOLD)
        write_json(result, out)
        print(f"wrote {out} (threshold {result['threshold']:.2f})")
    return 0
