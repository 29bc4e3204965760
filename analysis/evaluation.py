"""Measure speaker attribution (leave-one-episode-out on the labelled episodes) and timing
estimation (timestamps of the timestamped episodes hidden and re-estimated).

Attribution: each episode whose file names its speakers is held out in turn; its labels
and turn marks are hidden (text split into sentences), a model is fitted on the other
labelled episodes and the episode is decoded. Reported: sentence and word accuracy, the
same for the per-sentence classifier alone (no decoder), host talk-share error (words; and
seconds where the file has times), and how often confident sentences are right.

Timing: an episode's file times are hidden and re-estimated from a role-independent
default speaking rate (nothing calibrated on that episode) with the catalog runtime as end
anchor; reported are median and 90th-percentile absolute error of utterance starts (s) and
the host talk-share error (percentage points of time). Episodes timed from chapter anchors
are checked by leaving one anchor out at a time.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from . import attribution, timing
from .catalog import load_catalog

CONFIDENT = 0.9  # posterior above which a sentence counts as "confident"


def _host_share(role: pd.Series, weight: pd.Series) -> float:
    return float(weight[role == "host"].sum() / weight.sum()) if weight.sum() else float("nan")


def evaluate_attribution(utterances: pd.DataFrame, episodes: list) -> list[dict]:
    """One dict of figures per labelled episode held out (see the module docstring)."""
    results = []
    for ep in episodes:
        u = utterances[utterances["episode_id"] == ep.id]
        truth = attribution.sentences(u, ep)
        if truth.empty or truth["role"].notna().mean() <= 0.5:
            continue
        train = attribution.training_sentences(utterances, episodes, exclude=ep.id)
        if train.empty or train["role"].nunique() < 2:
            continue
        model = attribution.fit_cached(train)
        hidden = attribution.sentences(u, ep, hide_labels=True)
        pred = attribution.attribute_episode(model, hidden, len(ep.hosts))
        known = truth["role"].notna().to_numpy()
        t, p, w = truth["role"][known], pred["pred_role"][known], truth["words"][known]
        ok = (t.to_numpy() == p.to_numpy())
        clf = np.where(model.p_host(hidden["text"][known].tolist()) >= 0.5, "host", "guest") == t.to_numpy()
        conf = pred["confidence"][known].to_numpy() >= CONFIDENT
        r = {"episode_id": ep.id, "train_episodes": sorted(train["episode_id"].unique()),
             "sentences": int(known.sum()), "words": int(w.sum()),
             "sentence_accuracy": float(ok.mean()), "word_accuracy": float((ok * w).sum() / w.sum()),
             "classifier_only_word_accuracy": float((clf * w).sum() / w.sum()),
             "host_word_share_true": _host_share(t, w), "host_word_share_pred": _host_share(p, w),
             "confident_fraction": float(conf.mean()),
             "confident_accuracy": float(ok[conf].mean()) if conf.any() else None,
             "unconfident_accuracy": float(ok[~conf].mean()) if (~conf).any() else None}
        r["talk_share_error_words"] = abs(r["host_word_share_pred"] - r["host_word_share_true"])
        timed = u[u["time_source"].eq("file") & u["is_conversation"]]
        if len(timed):
            times = timing.file_times(u, ep.duration_s).set_index("order")
            per = attribution.to_utterances(pred)
            rows = times.loc[times.index.intersection(per.index)]
            rows = rows[rows["speaker_role"].isin(attribution.ROLES)]
            secs = rows["end_s"] - rows["start_s"]
            r["host_time_share_true"] = _host_share(rows["speaker_role"], secs)
            r["host_time_share_pred"] = _host_share(per.loc[rows.index, "pred_role"], secs)
            r["talk_share_error_time"] = abs(r["host_time_share_pred"] - r["host_time_share_true"])
        results.append(r)
    return results


def evaluate_timing(utterances: pd.DataFrame, episodes: list) -> list[dict]:
    """One dict per episode with file times: errors when those times are hidden."""
    results = []
    for ep in episodes:
        u = utterances[utterances["episode_id"] == ep.id]
        if u.empty or u["time_source"].ne("file").all():
            continue
        truth = timing.file_times(u, ep.duration_s).set_index("order")
        rates = {"all": timing.DEFAULT_RATE}
        r = {"episode_id": ep.id, "utterances": len(u)}
        for name, runtime in (("runtime_anchor", ep.duration_s), ("rate_only", None)):
            est = timing.estimate_times(u.assign(start_s=np.nan), rates, None, runtime).set_index("order")
            err = (est["start_s"] - truth["start_s"]).abs()
            conv = truth["is_conversation"] & truth["speaker_role"].isin(attribution.ROLES)
            share_true = _host_share(truth["speaker_role"][conv], (truth["end_s"] - truth["start_s"])[conv])
            share_est = _host_share(truth["speaker_role"][conv], (est["end_s"] - est["start_s"])[conv])
            within = (err <= est["time_uncertainty_s"]).mean()
            r[name] = {"median_abs_error_s": float(err.median()), "p90_abs_error_s": float(err.quantile(0.9)),
                       "max_abs_error_s": float(err.max()), "host_time_share_true": share_true,
                       "host_time_share_est": share_est, "talk_share_error": abs(share_est - share_true),
                       "within_stated_uncertainty": float(within)}
        results.append(r)
    return results


def evaluate_anchors(utterances: pd.DataFrame, episodes: list) -> list[dict]:
    """Per episode with a chapter list and no file times: leave one located chapter anchor
    out, re-estimate, and compare the anchored utterance's estimated start with the
    chapter's stated start (checks interpolation between anchors, given where they were found)."""
    rates = timing.speaking_rates(utterances)
    results = []
    for ep in episodes:
        u = utterances[utterances["episode_id"] == ep.id].sort_values("order")
        chapters = timing.chapter_list(ep).dropna(subset=["start_s"])
        if u.empty or chapters.empty or (u["time_source"] == "file").any():
            continue
        est = np.concatenate([[0.0], np.cumsum(timing.raw_durations(u, rates))])[:-1]
        anchors = timing.locate_chapters(u, chapters, est)
        errors = []
        for pos, t in anchors[1:]:
            out = timing.estimate_times(u, rates, chapters[chapters["start_s"] != t], ep.duration_s)
            errors.append(abs(float(out["start_s"].iloc[pos]) - t))
        if errors:
            results.append({"episode_id": ep.id, "chapters": len(chapters), "anchors_located": len(anchors),
                            "median_abs_error_s": float(np.median(errors)),
                            "p90_abs_error_s": float(np.quantile(errors, 0.9))})
    return results


def evaluate(utterances: pd.DataFrame | None = None) -> dict:
    """Both evaluations on the built corpus (``data/processed``) or the given utterances."""
    if utterances is None:
        from .corpus import load_corpus
        utterances = load_corpus()["utterances"]
    episodes, _ = load_catalog()
    episodes = [ep for ep in episodes if ep.id in set(utterances["episode_id"])]
    attr = evaluate_attribution(utterances, episodes)
    summary = {"word_accuracy_mean": float(np.mean([a["word_accuracy"] for a in attr])) if attr else None,
               "sentence_accuracy_mean": float(np.mean([a["sentence_accuracy"] for a in attr])) if attr else None}
    tim = evaluate_timing(utterances, episodes)
    if tim:
        summary["timing_median_abs_error_s"] = tim[0]["runtime_anchor"]["median_abs_error_s"]
        summary["timing_p90_abs_error_s"] = tim[0]["runtime_anchor"]["p90_abs_error_s"]
    return {"attribution": attr, "timing": tim, "anchors": evaluate_anchors(utterances, episodes), "summary": summary}


def report(result: dict) -> str:
    """Plain-text table of :func:`evaluate`'s result."""
    lines = ["Speaker attribution, leave-one-episode-out (labels and turns hidden, text split into sentences):",
             (f"  {'held out':<30} {'sent acc':>8} {'word acc':>8} {'clf only':>8} {'host share true/pred':>21}"
              f" {'share err':>9} {'confident':>9} {'acc|conf':>8}")]
    for a in result["attribution"]:
        share = f"{a['host_word_share_true']:.1%}/{a['host_word_share_pred']:.1%}"
        acc_conf = f"{a['confident_accuracy']:.1%}" if a["confident_accuracy"] is not None else "-"
        lines.append(f"  {a['episode_id']:<30} {a['sentence_accuracy']:>8.1%} {a['word_accuracy']:>8.1%} "
                     f"{a['classifier_only_word_accuracy']:>8.1%} {share:>21} {a['talk_share_error_words']:>9.1%} "
                     f"{a['confident_fraction']:>9.1%} {acc_conf:>8}")
        if "talk_share_error_time" in a:
            lines.append(f"  {'':<30} host time share true/pred {a['host_time_share_true']:.1%}/"
                         f"{a['host_time_share_pred']:.1%} (error {a['talk_share_error_time']:.1%})")
    lines += ["  Trained on the other labelled episode(s) only. 'clf only': per-sentence classifier without the",
              f"  decoder. 'share err': |host word share error|. 'confident': posterior >= {CONFIDENT}; 'acc|conf': their accuracy.",
              "  The reference labels are the files' own: a16z's come from ASR diarisation and are themselves",
              "  noisy, so its figures bound the model from below and the true accuracy is unknown."]
    lines.append("Timing estimation with file timestamps hidden (default rate, nothing calibrated on the episode;"
                 " 'rate_only': no runtime anchor either):")
    for t in result["timing"]:
        for name in ("runtime_anchor", "rate_only"):
            m = t[name]
            lines.append(f"  {t['episode_id']:<30} {name:<15} start error median {m['median_abs_error_s']:.0f}s, "
                         f"p90 {m['p90_abs_error_s']:.0f}s, max {m['max_abs_error_s']:.0f}s; host time share "
                         f"{m['host_time_share_true']:.1%} -> {m['host_time_share_est']:.1%} "
                         f"(error {m['talk_share_error']:.1%}); within stated uncertainty {m['within_stated_uncertainty']:.0%}")
    for a in result["anchors"]:
        lines.append(f"  {a['episode_id']:<30} chapter anchors located {a['anchors_located']}/{a['chapters']}; "
                     f"leaving one out, its start is estimated with median error {a['median_abs_error_s']:.0f}s, "
                     f"p90 {a['p90_abs_error_s']:.0f}s")
    return "\n".join(lines)


def main_evaluate_speakers(args) -> int:
    """``python -m analysis evaluate-speakers [--json]``."""
    result = evaluate()
    print(json.dumps(result, indent=2, default=str) if getattr(args, "json", False) else report(result))
    return 0
