"""Topic-model evaluation: NPMI coherence, topic diversity, outliers and seed stability,
for our model and a default BERTopic run on the same passages."""
from __future__ import annotations

import json

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from .. import config
from ..embeddings import load_model
from . import model as tm
from .coherence import diversity, npmi

TOP_N = 10  # words per topic that NPMI and diversity look at
LABELS_CHECKED = 10  # the largest topics whose labels must be filler-free
MAX_OUTLIER_SHARE = 0.15
MAX_LARGEST_TOPIC_SHARE = 0.3  # after outlier reduction; clustering caps topics at model.MAX_TOPIC_SHARE


def stability(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Agreement of two assignments of the same passages: adjusted Rand index and share identical."""
    from sklearn.metrics import adjusted_rand_score

    return {"ari": float(adjusted_rand_score(a, b)), "identical_share": float(np.mean(a == b))}


def filler_labels(labels: list[str]) -> list[str]:
    """The labels that contain a filler or stop word."""
    stop = tm.FILLERS | tm.STOP_WORDS
    return [lab for lab in labels if any(w in stop for w in lab.replace(",", " ").replace("_", " ").split())]


def scores(fit: tm.Fit, docs: list[str], analyzer) -> dict:
    """Metrics of one fit. ``npmi``: reference passages tokenised the way the model's vectorizer
    does; ``npmi_neutral``: tokenised the same for every model (all words, unigrams and adjacent
    bigrams, no stop list). Labels are listed largest topic first."""
    labels = [fit.labels[t] for t in _sizes_order(fit.topics)]
    topic_words = [fit.words[t][:TOP_N] for t in sorted(fit.words)]
    neutral = CountVectorizer(ngram_range=(1, 2)).build_analyzer()
    return {
        "n_topics": len(topic_words), "npmi": npmi(topic_words, [set(analyzer(d)) for d in docs])[0],
        "npmi_neutral": npmi(topic_words, [set(neutral(d)) for d in docs])[0],
        "diversity": diversity(topic_words),
        "outlier_share": float(np.mean(fit.topics == -1)),
        # clustering left these as outliers; outlier reduction gave them a topic
        "reassigned_share": float(np.mean((fit.raw_topics == -1) & (fit.topics != -1))),
        "largest_topic_share": float(np.max(np.unique(fit.topics[fit.topics >= 0], return_counts=True)[1],
                                            initial=0) / len(fit.topics)),
        "labels_with_fillers": len(filler_labels(labels[:LABELS_CHECKED])),
        "top_labels": labels[:LABELS_CHECKED],
    }


def _sizes_order(topics: np.ndarray) -> list[int]:
    ids, counts = np.unique(topics[topics >= 0], return_counts=True)
    return [int(t) for _, t in sorted(zip(-counts, ids))]


def evaluate(progress: bool = True, previous: dict | None = None) -> dict:
    """Fit the default run and two refits of ours (same seed, next seed) on the stage's passages.

    ``previous``: an earlier report, returned as is when it was made for the stored model
    version (``model_key``): the evaluation belongs to a fitted model, so passages added since
    (assigned to its topics, not refitted) fit nothing here either."""
    from .pipeline import MODEL_DIR, run

    stored = config.CACHE / MODEL_DIR / "key.txt"
    if previous and stored.exists() and previous.get("model_key") == stored.read_text():
        return previous
    result = run(progress=progress, write=False)
    if previous and previous.get("model_key") == result.version:
        return previous
    docs = result.passages["text"].tolist()
    emb = load_model()
    ours = result.fit
    default = tm.fit(docs, result.embeddings, emb, default=True)
    same = tm.fit(docs, result.embeddings, emb, seed=config.SEED)
    other = tm.fit(docs, result.embeddings, emb, seed=config.SEED + 1)
    return {
        "model_key": result.version,
        "passages": len(docs),
        "passages_added_since_fit": result.added,
        "fit_sample": config.TOPIC_FIT_SAMPLE if len(docs) > config.TOPIC_FIT_SAMPLE > 0 else None,
        "ours": scores(ours, docs, tm.make_vectorizer().build_analyzer()),
        "default": scores(default, docs, default.model.vectorizer_model.build_analyzer()),
        "stability_same_seed": stability(ours.topics, same.topics),
        "stability_next_seed": stability(ours.topics, other.topics),
    }


def checks(report: dict) -> dict[str, bool]:
    """The acceptance criteria of the topic model."""
    ours, default = report["ours"], report["default"]
    return {
        "no filler in the top labels": ours["labels_with_fillers"] == 0,
        f"outliers <= {MAX_OUTLIER_SHARE:.0%}": ours["outlier_share"] <= MAX_OUTLIER_SHARE,
        f"largest topic <= {MAX_LARGEST_TOPIC_SHARE:.0%}": ours["largest_topic_share"] <= MAX_LARGEST_TOPIC_SHARE,
        "NPMI >= default": ours["npmi"] >= default["npmi"],
        "diversity >= default": ours["diversity"] >= default["diversity"],
        "same seed, same assignments": report["stability_same_seed"]["identical_share"] == 1.0,
    }


def report_text(report: dict) -> str:
    ours, default = report["ours"], report["default"]
    head = (f"topic model evaluation of model version {report.get('model_key')} on {report['passages']} passages "
            f"(NPMI: document co-occurrence in the passages, top {TOP_N} words)")
    if report.get("passages_added_since_fit"):
        head += f"; {report['passages_added_since_fit']} of them added after the fit (nearest topic)"
    if report.get("fit_sample"):
        head += f"; models fitted on a sample of {report['fit_sample']} passages, the rest assigned"
    lines = [head, f"  {'':<24}{'ours':>10}{'default':>10}"]
    for key, fmt in (("n_topics", "d"), ("npmi", ".3f"), ("npmi_neutral", ".3f"), ("diversity", ".3f"), ("outlier_share", ".1%"),
                     ("reassigned_share", ".1%"), ("largest_topic_share", ".1%"), ("labels_with_fillers", "d")):
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
    """``python -m analysis evaluate-topics [--json]``: print the evaluation and save it as
    ``topic_evaluation.json`` (read by the notebooks); exit 1 when a check fails."""
    from ..io import write_json

    path = config.PROCESSED / "topic_evaluation.json"
    previous = json.loads(path.read_text()) if path.exists() and not getattr(args, "refit", False) else None
    report = evaluate(progress=not getattr(args, "json", False), previous=previous)
    report["checks"] = checks(report)
    write_json(report, path)
    print(json.dumps(report, indent=2) if getattr(args, "json", False) else report_text(report))
    return 0 if all(report["checks"].values()) else 1
