"""Speaker turns from a language model, for transcripts without speaker labels or turns.

The episode's sentences (:func:`analysis.speakers.attribution.sentences`: names masked as
HOSTNAME/GUESTNAME) are sent in overlapping windows; the model returns the turns of each window
(first sentence, host or guest). Windows are reconciled into one P(host) per sentence, each
window's vote weighted by the sentence's distance from the window's edge (context on both
sides), and decoded by the offline model's turn decoder, so the result goes through the same
leave-one-episode-out evaluation (:func:`compare`, ``evaluate-speakers --llm``) as the offline
sentence classifier, and is shown side by side with it."""
from __future__ import annotations

import json
import sys
from functools import partial

import numpy as np
import pandas as pd

from ..speakers import attribution
from .prompts import InvalidResponse, Prompt, Request, obj
from .runner import Runner
from .tables import SPEAKER_TURNS

P_FLOOR = 0.05  # reconciled P(host) kept in [P_FLOOR, 1 - P_FLOOR] so the decoder can still weigh turn length

PROMPT = Prompt(
    "speaker_turns", 1, max_output_tokens=800,
    schema=obj({"turns": {"type": "array", "items": obj({"first": {"type": "integer"},
                                                         "role": {"type": "string", "enum": ["host", "guest"]}})}}),
    system=("You split an excerpt of a podcast transcript into speaker turns. Names are replaced by HOSTNAME "
            "(a host) and GUESTNAME (a guest). Sentences are numbered; a line starting with '¶' begins a new "
            "paragraph of the file (paragraphs usually, not always, start a new speaker); without '¶' marks "
            "nothing in the layout tells who speaks. Hosts introduce the show and the guest, ask questions, "
            "sum up and react; guests answer at length and speak of their own work. Return the turns in "
            "order: for each, the number of its first sentence and who speaks, 'host' or 'guest'. The first "
            "turn starts at sentence 1; a turn lasts until the next one starts."))


def window_starts(n: int, size: int, overlap: int) -> list[int]:
    """0-based starts of windows of ``size`` sentences sharing ``overlap`` with the next, covering n."""
    step = max(1, size - overlap)
    starts = [0]
    while starts[-1] + size < n:
        starts.append(starts[-1] + step)
    return starts


def _check(response: dict, n: int, where: str) -> None:
    firsts = [t["first"] for t in response["turns"]]
    if not firsts or firsts != sorted(set(firsts)) or firsts[0] < 1 or firsts[-1] > n:
        raise InvalidResponse(f"{where}: turn starts {firsts[:12]} are not increasing sentence numbers in 1..{n}")


def window_requests(sents: pd.DataFrame, n_hosts: int, n_guests: int, size: int, overlap: int) -> list[Request]:
    """One request per window of ``sents`` (a sentence table), numbered from 1 within it."""
    out = []
    episode = sents["episode_id"].iloc[0] if len(sents) else ""
    for s in window_starts(len(sents), size, overlap):
        w = sents.iloc[s:s + size]
        lines = [("¶ " if b == "turn" else "") + f"{i}. {t}"
                 for i, (t, b) in enumerate(zip(w["text"], w["boundary"]), 1)]
        user = f"Hosts: {n_hosts}. Guests: {n_guests}.\n\n" + "\n".join(lines)
        item = f"speaker turns of {episode}, sentences {s + 1}-{s + len(w)}"
        where = f"speaker_turns response for {item}"
        out.append(Request(PROMPT, item, user, check=partial(_check, n=len(w), where=where)))
    return out


def reconcile(n: int, starts: list[int], responses: list[dict], size: int) -> np.ndarray:
    """P(host) per sentence from the windows' turns (see the module docstring)."""
    host, weight = np.zeros(n), np.zeros(n)
    for s, r in zip(starts, responses):
        length = min(size, n - s)
        roles = np.empty(length, dtype=object)
        for t, nxt in zip(r["turns"], r["turns"][1:] + [None]):
            roles[t["first"] - 1:(nxt["first"] - 1 if nxt else length)] = t["role"]
        roles[:r["turns"][0]["first"] - 1] = r["turns"][0]["role"]
        k = np.arange(length)
        w = np.minimum(k + 1, length - k).astype(float)
        host[s:s + length] += w * (roles == "host")
        weight[s:s + length] += w
    return np.clip(host / np.maximum(weight, 1e-9), P_FLOOR, 1 - P_FLOOR)


def episode_requests(sents: pd.DataFrame, episode, settings) -> list[Request]:
    return window_requests(sents, len(episode.hosts), len(episode.guests), settings.speaker_window,
                           settings.speaker_overlap)


def p_host(runner: Runner, sents: pd.DataFrame, episode) -> tuple[np.ndarray | None, str]:
    """Reconciled P(host) per sentence (None when a window has no answer), and the model(s)
    that answered."""
    s = runner.settings
    answers = [runner.answer(r) for r in episode_requests(sents, episode, s)]
    if any(a is None for a in answers):
        return None, ""
    starts = window_starts(len(sents), s.speaker_window, s.speaker_overlap)
    models = ", ".join(sorted({a.model for a in answers}))
    return reconcile(len(sents), starts, [a.response for a in answers], s.speaker_window), models


def scorer(runner: Runner):
    """A ``sentence_scorer`` for :func:`analysis.speakers.evaluation.evaluate_attribution`."""
    def score(model, train, sents, episode):
        return p_host(runner, sents.reset_index(drop=True), episode)[0]
    return score


def unlabelled(utterances: pd.DataFrame, episodes: list) -> list:
    """Catalog episodes whose conversation the offline model attributed (no labels in the file)."""
    by_model = utterances.loc[utterances["speaker_source"] == attribution.METHOD, "episode_id"]
    return [ep for ep in episodes if ep.id in set(by_model)]


def requests(utterances: pd.DataFrame, episodes: list, settings) -> list[Request]:
    """Every window request :func:`speaker_turns` makes (for estimates before sending)."""
    return [r for ep in unlabelled(utterances, episodes)
            for r in episode_requests(attribution.sentences(utterances[utterances["episode_id"] == ep.id], ep),
                                      ep, settings)]


def speaker_turns(utterances: pd.DataFrame, episodes: list, runner: Runner) -> pd.DataFrame:
    """Table ``llm_speaker_turns`` for the unlabelled episodes whose windows are all answered;
    each decoded with the committed turn model that the attribution stage uses for it."""
    files = attribution.reference_files(episodes)
    rows = []
    for ep in unlabelled(utterances, episodes):
        u = utterances[utterances["episode_id"] == ep.id]
        sents = attribution.sentences(u, ep)
        p, model = p_host(runner, sents, ep)
        turn_model = attribution.episode_model(ep.id, files.get(ep.id))[0]
        if p is None or turn_model is None:
            continue
        pred = attribution.attribute_episode(turn_model, sents, len(ep.hosts), p_host=p)
        per = attribution.to_utterances(pred).join(u.set_index("order")[["start_s", "word_count"]])
        run = (per["pred_role"] != per["pred_role"].shift()).cumsum()
        for i, (_, g) in enumerate(per.groupby(run, sort=True)):
            rows.append({"episode_id": ep.id, "turn_index": i, "speaker_role": g["pred_role"].iloc[0],
                         "first_order": int(g.index[0]), "last_order": int(g.index[-1]),
                         "start_s": g["start_s"].iloc[0], "words": int(g["word_count"].sum()),
                         "confidence": float((g["confidence"] * g["word_count"]).sum() / max(g["word_count"].sum(), 1)),
                         "model": model, "prompt_version": PROMPT.version_label})
    return SPEAKER_TURNS.conform(pd.DataFrame(rows, columns=SPEAKER_TURNS.column_names))


def compare(runner: Runner, utterances: pd.DataFrame | None = None) -> list[dict]:
    """Leave-one-episode-out figures of the LLM turns (decoded, and the reconciled windows alone)
    per held-out episode and turn-mark setting, as :func:`evaluate_attribution` reports them."""
    from ..catalog import load_catalog
    from ..speakers import evaluation, reference

    if utterances is None:
        from ..corpus import load_corpus
        utterances = load_corpus()["utterances"]
    episodes, _ = load_catalog()
    episodes = [ep for ep in episodes if ep.id in set(utterances["episode_id"])]
    refs, _ = reference.load_references(episodes)
    return evaluation.evaluate_attribution(utterances, episodes, refs, sentence_scorer=scorer(runner))


def report(offline: list[dict], llm: list[dict], model: str) -> str:
    """Side-by-side table: offline and LLM word accuracy per held-out episode and turn-mark setting."""
    got = {(r["episode_id"], r["turn_marks"]): r for r in llm}
    lines = [(f"Speaker attribution, leave-one-episode-out: offline model vs language model ({model}, windows "
              "decoded by the same turn model); word accuracy:"),
             f"  {'held out':<42} {'turn marks':<10} {'offline':>8} {'LLM':>8} {'LLM windows':>11}"]
    for a in offline:
        r = got.get((a["episode_id"], a["turn_marks"]))
        marks = ("kept" if a["turn_marks"] else "none") + ("*" if a["as_processed"] else "")
        llm_acc = f"{r['word_accuracy']:>8.1%} {r['classifier_only_word_accuracy']:>11.1%}" if r else \
            f"{'missing':>8} {'-':>11}"
        lines.append(f"  {a['episode_id']:<42} {marks:<10} {a['word_accuracy']:>8.1%} {llm_acc}")
    for name, rows in (("offline", offline), ("LLM", llm)):
        done = [r["word_accuracy"] for r in rows if r["as_processed"]]
        if done:
            lines.append(f"  mean as processed (*), {name}: {np.mean(done):.1%} over {len(done)} episodes")
    lines.append("  'LLM windows': the reconciled window labels alone, before the turn decoder.")
    return "\n".join(lines)


def main_evaluate_llm(args) -> int:
    """``evaluate-speakers --llm [--dry-run] [--json]``: the offline figures, then the LLM's."""
    from ..speakers import evaluation
    from .settings import Settings, mode

    offline = evaluation.evaluate()
    settings = Settings.from_config()
    how, why = mode(True, getattr(args, "dry_run", False), settings)
    messages = sys.stderr if getattr(args, "json", False) else sys.stdout  # JSON alone on stdout
    if how == "send":
        plan = Runner(settings, "plan")
        compare(plan)
        print(plan.estimate_line(plan.asked), file=messages)
    runner = Runner(settings, how)
    llm = compare(runner)
    if getattr(args, "json", False):
        print(json.dumps({"offline": offline, "llm": llm}, indent=2, default=str))
    else:
        print(evaluation.report(offline))
        print(report(offline["attribution"], llm, settings.model))
    notes = ([why + "; the LLM column shows cached responses only."] if why else []) + runner.report()
    print("\n".join(notes), file=messages)
    return 0
