"""Topic-model evaluation: NPMI coherence, topic diversity, outliers and seed stability,
for our model and a default BERTopic run on the same passages."""
from __future__ import annotations

import json
from itertools import combinations

import numpy as np

from .. import config
from ..embeddings import load_model
from . import model as tm

TOP_N = 10  # words per topic that NPMI and diversity look at
LABELS_CHECKED = 10  # the largest topics whose labels must be filler-free
MAX_OUTLIER_SHARE = 0.15


def npmi_pair(p1: float, p2: float, p12: float) -> float:
    """Normalised PMI, log(p12 / (p1 p2)) / -log(p12): -1 when the words never co-occur,
    1 when they always do, 0 when independent."""
    if p12 == 0:
        return -1.0
    if p12 == 1:
        return 1.0
    return float(np.log(p12 / (p1 * p2)) / -np.log(p12))


def npmi(topic_words: list[list[str]], documents: list[set[str]]) -> tuple[float, list[float]]:
    """Mean NPMI over word pairs of each topic and over topics, with probabilities estimated
    by document co-occurrence in ``documents`` (each the set of terms in one document).
    Returns (model mean, per-topic means)."""
    n = len(documents)
    vocab = sorted({w for words in topic_words for w in words})
    index = {w: i for i, w in enumerate(vocab)}
    occurs = np.zeros((len(vocab), n), dtype=bool)
    for j, doc in enumerate(documents):
        for w in doc & index.keys():
            occurs[index[w], j] = True
    per_topic = []
    for words in topic_words:
        scores = [npmi_pair(occurs[index[a]].mean(), occurs[index[b]].mean(),
                            (occurs[index[a]] & occurs[index[b]]).mean())
                  for a, b in combinations(words, 2)]
        per_topic.append(float(np.mean(scores)) if scores else 0.0)
    return (float(np.mean(per_topic)) if per_topic else 0.0), per_topic


def diversity(topic_words: list[list[str]]) -> float:
    """Share of unique words among all topics' top words (1: no word shared by two topics)."""
    words = [w for ws in topic_words for w in ws]
    return len(set(words)) / len(words) if words else 0.0


def stability(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Agreement of two assignments of the same passages: adjusted Rand index and share identical."""
    from sklearn.metrics import adjusted_rand_score

    return {"ari": float(adjusted_rand_score(a, b)), "identical_share": float(np.mean(a == b))}


def filler_labels(labels: list[str]) -> list[str]:
    """The labels that contain a filler or stop word."""
    stop = tm.FILLERS | tm.STOP_WORDS
    return [lab for lab in labels if any(w in stop for w in lab.replace(",", " ").replace("_", " ").split())]


def scores(fit: tm.Fit, docs: list[str], analyzer, labels: list[str]) -> dict:
    """Metrics of one fit; ``analyzer`` tokenises the reference passages the way the model's
    vectorizer does, ``labels`` are its topic labels, largest topic first."""
    words = tm.top_words(fit.model, TOP_N)
    topic_words = [words[t] for t in sorted(words)]
    coherence, _ = npmi(topic_words, [set(analyzer(d)) for d in docs])
    return {
        "n_topics": len(words), "npmi": coherence, "diversity": diversity(topic_words),
        "outlier_share": float(np.mean(fit.topics == -1)),
        "labels_with_fillers": len(filler_labels(labels[:LABELS_CHECKED])),
        "top_labels": labels[:LABELS_CHECKED],
    }


def _sizes_order(topics: np.ndarray) -> list[int]:
    ids, counts = np.unique(topics[topics >= 0], return_counts=True)
    return [int(t) for _, t in sorted(zip(-counts, ids))]


def evaluate(progress: bool = True) -> dict:
    """Fit the default run and two refits of ours (same seed, next seed) on the stage's passages."""
    from .pipeline import run

    result = run(progress=progress, write=False)
    docs = result.passages["text"].tolist()
    emb = load_model()
    ours = result.fit
    ours_labels = [tm.label(result.words[t]) for t in _sizes_order(ours.topics)]
    default = tm.fit(docs, result.embeddings, emb, default=True)
    default_words = tm.top_words(default.model, 4)
    default_labels = ["_".join(default_words[t]) for t in _sizes_order(default.topics)]
    same = tm.fit(docs, result.embeddings, emb, seed=config.SEED)
    other = tm.fit(docs, result.embeddings, emb, seed=config.SEED + 1)
    return {
        "passages": len(docs),
        "ours": scores(ours, docs, tm.make_vectorizer().build_analyzer(), ours_labels),
        "default": scores(default, docs, default.model.vectorizer_model.build_analyzer(), default_labels),
        "stability_same_seed": stability(ours.topics, same.topics),
        "stability_next_seed": stability(ours.topics, other.topics),
    }


def checks(report: dict) -> dict[str, bool]:
    """The acceptance criteria of the topic model."""
    ours, default = report["ours"], report["default"]
    return {
        "no filler in the top labels": ours["labels_with_fillers"] == 0,
        f"outliers <= {MAX_OUTLIER_SHARE:.0%}": ours["outlier_share"] <= MAX_OUTLIER_SHARE,
        "NPMI >= default": ours["npmi"] >= default["npmi"],
        "diversity >= default": ours["diversity"] >= default["diversity"],
        "same seed, same assignments": report["stability_same_seed"]["identical_share"] == 1.0,
    }


def report_text(report: dict) -> str:
    ours, default = report["ours"], report["default"]
    lines = [f"topic model evaluation on {report['passages']} passages (NPMI: document co-occurrence "
             f"in the passages, top {TOP_N} words)", f"  {'':<24}{'ours':>10}{'default':>10}"]
    for key, fmt in (("n_topics", "d"), ("npmi", ".3f"), ("diversity", ".3f"), ("outlier_share", ".1%"),
                     ("labels_with_fillers", "d")):
        lines.append(f"  {key:<24}{ours[key]:>10{fmt}}{default[key]:>10{fmt}}")
    for name in ("stability_same_seed", "stability_next_seed"):
        s = report[name]
        lines.append(f"  {name:<24}ARI {s['ari']:.3f}, identical {s['identical_share']:.1%}")
    lines.append("top labels, ours (model-made) | default:")
    for a, b in zip(ours["top_labels"], default["top_labels"] + [""] * LABELS_CHECKED):
        lines.append(f"  {a:<45} | {b}")
    lines += [f"[{'ok' if ok else 'FAIL'}] {name}" for name, ok in report["checks"].items()]
    return "\n".join(lines)


def main_evaluate_topics(args) -> int:
    """``python -m analysis evaluate-topics [--json]``; exit 1 when a check fails."""
    report = evaluate(progress=not getattr(args, "json", False))
    report["checks"] = checks(report)
    print(json.dumps(report, indent=2) if getattr(args, "json", False) else report_text(report))
    return 0 if all(report["checks"].values()) else 1
