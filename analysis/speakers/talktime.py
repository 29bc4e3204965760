"""Talk-time metrics from the utterances table: turns, per-speaker / per-role / per-episode /
per-person figures and a host-guest balance timeline, each row stating its method.

All metrics count conversation only (flagged noise excluded) unless ``include_flagged``.
Times are seconds (``end_s - start_s`` of each utterance), words are ``word_count``; a
turn is a run of consecutive counted utterances by the same speaker.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..ingest.text import sentences
from ..io import write_json, write_table
from ..schema import Column, Table, register
from . import attribution, evaluation
from .questions import is_question

BACKCHANNEL_WORDS = 3  # turns shorter than this are ignored when counting speaker switches
SWITCH_PERIOD_S = 300.0  # switches are reported per five minutes
WINDOW_S, STEP_S = 150.0, 30.0  # balance timeline: 2.5-minute windows every 30 s
DOMINANT = 0.65  # a window where one side has at least this share of the talk is dominated by it
THROUGHOUT = 0.8  # "X-dominated throughout": at least this fraction of windows dominated by X
BALANCED = 0.5  # "back-and-forth": at least this fraction of windows dominated by neither side
BALANCE_LABELS = ("guest-dominated throughout", "host-dominated throughout", "back-and-forth", "alternating")

_METHOD_COLUMNS = (
    Column("time_method", "str", "Where the times come from: time_source mix weighted by seconds, e.g. 'file 100%'."),
    Column("attribution_method", "str", "How speakers were determined: speaker_source mix weighted by words."),
    Column("attribution_accuracy", "float", "Word accuracy of the attribution model measured on this episode (held "
           "out from training, scored against its hand-made reference) when the row relies on the model "
           "(speaker_source 'model'); null otherwise, and null for an episode without a reference: it is not "
           "measured there.", nullable=True),
    Column("attribution_accuracy_note", "str", "What is known of the model's accuracy for the row, in words: the "
           "figure measured on this episode, or the cross-show figure of its input shape beside the "
           "everyone-is-the-guest baseline (and whether the model is clearly better than it); '' when the row does "
           "not rely on the model."),
    Column("attribution_basis", "str", "Where the quoted accuracy was measured: 'this episode' (held out, against "
           "its hand-made reference), 'other shows' (leave-one-show-out on the labelled corpus, for the episode's "
           "input shape and cast), 'not measured'; '' when the row does not rely on the model.",
           allowed=("this episode", "other shows", "not measured", "")),
    Column("attribution_shape", "str", "The input shape and cast the quoted figure is for, e.g. 'unsegmented text; "
           "1 host, 2+ guests' ('any cast' where that cast was measured on too few episodes); '' when none."),
    Column("attribution_quoted_accuracy", "float", "Word accuracy (host vs guest) on that basis, 0-1; null when not "
           "measured or the row does not rely on the model.", nullable=True),
    Column("attribution_baseline", "float", "Word accuracy of calling everyone the guest on the same basis, 0-1; "
           "null where attribution_quoted_accuracy is.", nullable=True),
    Column("attribution_reliable", "bool", "True when the split can be trusted on that basis: across shows, the "
           "model is clearly better (the 5th percentile of its gain over resamples of shows above 0) than calling "
           "everyone the guest in word accuracy and than the other shows' average host share for the shape and cast "
           "in host-share error; on the episode itself, it beats everyone-is-the-guest; False when not (the note says "
           "which); null when not measured or not relied on.", nullable=True),
    Column("include_flagged", "bool", "True when flagged noise was counted as talk."),
)
_TALK_COLUMNS = (
    Column("talk_s", "float", "Talk time, seconds."),
    Column("talk_share", "float", "Share of the episode's talk time, 0-1."),
    Column("words", "int", "Words spoken."),
    Column("word_share", "float", "Share of the episode's words, 0-1."),
    Column("turns", "int", "Number of turns."),
    Column("median_turn_s", "float", "Median turn length, seconds."),
    Column("longest_turn_s", "float", "Longest turn (monologue), seconds."),
    Column("longest_turn_words", "int", "Longest turn, words."),
    Column("questions", "int", "Questions to the other person: sentences ending in '?', tag questions "
           "('..., right?', '..., isn't it?') and rhetorical checks ('You know?') excepted."),
    Column("questions_per_hour", "float", "Questions per hour of the episode's talk time."),
)
_SHARE_COLUMNS = tuple(
    Column(f"{kind}_share_{part}", "float", text.format(kind={"talk": "talk time", "word": "words"}[kind]))
    for kind in ("talk", "word") for part, text in (
        ("expected", ("Expected share of the episode's {kind}, 0-1, over the attribution decoder's posterior "
                      "draws (equals the share where no speaker relies on the model).")),
        ("low", ("Lower bound of the share's interval, 0-1: the 5th percentile of the posterior draws minus the "
                 "widening calibrated leave-one-show-out for the episode's input shape and cast (so that 90% of held-out "
                 "episodes' true host shares fall inside); talk seconds per utterance are held fixed.")),
        ("high", "Upper bound of the share's interval, 0-1: the 95th percentile plus the same widening.")))
TURNS = register(Table("talktime_turns", "Turns: runs of consecutive utterances by one speaker.", (
    Column("episode_id", "str", "Episode slug."),
    Column("turn_index", "int", "0-based turn position in the episode."),
    Column("speaker_id", "str", "Person slug."),
    Column("speaker", "str", "Display name."),
    Column("role", "str", "Role in the episode.", allowed=("host", "guest", "unknown")),
    Column("start_s", "float", "Turn start, seconds."),
    Column("end_s", "float", "Turn end, seconds."),
    Column("duration_s", "float", "Talk time of the turn, seconds."),
    Column("words", "int", "Words in the turn."),
    Column("questions", "int", "Questions to the other person (tag questions excepted; see talktime_speakers)."),
    Column("utterances", "int", "Utterances merged into the turn."),
), key=("episode_id", "turn_index")))
SPEAKERS = register(Table("talktime_speakers", "Talk-time metrics per episode and speaker.", (
    Column("episode_id", "str", "Episode slug."),
    Column("speaker_id", "str", "Person slug."),
    Column("speaker", "str", "Display name."),
    Column("role", "str", "Role in the episode.", allowed=("host", "guest", "unknown")),
) + _TALK_COLUMNS + _SHARE_COLUMNS + _METHOD_COLUMNS, key=("episode_id", "speaker_id")))
ROLES = register(Table("talktime_roles", "Talk-time metrics per episode and role (hosts together).", (
    Column("episode_id", "str", "Episode slug."),
    Column("role", "str", "Role.", allowed=("host", "guest", "unknown")),
) + _TALK_COLUMNS + _SHARE_COLUMNS + _METHOD_COLUMNS, key=("episode_id", "role")))
EPISODES = register(Table("talktime_episodes", "Talk-time summary per episode, for side-by-side comparison.", (
    Column("episode_id", "str", "Episode slug."),
    Column("talk_s", "float", "Counted talk time, seconds."),
    Column("words", "int", "Counted words."),
    Column("host_talk_share", "float", "Hosts' share of talk time, 0-1."),
    Column("guest_talk_share", "float", "Guests' share of talk time, 0-1."),
    Column("host_word_share", "float", "Hosts' share of words, 0-1."),
) + tuple(Column(f"host_{c.name}", c.type, "Hosts' " + c.description[0].lower() + c.description[1:])
          for c in _SHARE_COLUMNS) + (
    Column("turns", "int", "Number of turns."),
    Column("switches_per_5min", "float", "Speaker switches per five minutes, turns under "
           f"{BACKCHANNEL_WORDS} words (backchannels) ignored."),
    Column("questions_per_hour", "float", "Questions per hour of talk."),
    Column("longest_turn_s", "float", "Longest turn, seconds."),
    Column("balance_label", "str", f"Balance over {WINDOW_S:.0f}-s windows: a window is dominated by a side "
           f"with >= {DOMINANT:.0%} of its talk; 'X-dominated throughout' when >= {THROUGHOUT:.0%} of windows "
           f"are X-dominated, 'back-and-forth' when >= {BALANCED:.0%} are dominated by neither, else "
           "'alternating'.", allowed=BALANCE_LABELS),
) + _METHOD_COLUMNS, key=("episode_id",)))
PEOPLE = register(Table("talktime_people", "Per person across episodes (a person can appear in several).", (
    Column("speaker_id", "str", "Person slug."),
    Column("name", "str", "Display name."),
    Column("episodes", "int", "Episodes the person speaks in."),
    Column("episode_ids", "str", "';'-joined episode slugs."),
    Column("roles", "str", "';'-joined roles held."),
    Column("talk_s", "float", "Talk time over all episodes, seconds."),
    Column("words", "int", "Words over all episodes."),
    Column("turns", "int", "Turns over all episodes."),
    Column("questions", "int", "Questions over all episodes."),
    Column("mean_talk_share", "float", "Mean of the per-episode talk shares, 0-1."),
    Column("talk_shares", "str", "';'-joined 'episode_id=share' per episode."),
    Column("attribution_method", "str", "';'-joined per-episode attribution methods."),
), key=("speaker_id",)))
TIMELINE = register(Table("balance_timeline", f"Host/guest talk in sliding {WINDOW_S:.0f}-s windows every {STEP_S:.0f} s.", (
    Column("episode_id", "str", "Episode slug."),
    Column("window_start_s", "float", "Window start, seconds."),
    Column("window_end_s", "float", "Window end, seconds."),
    Column("host_s", "float", "Host talk inside the window, seconds."),
    Column("guest_s", "float", "Guest talk inside the window, seconds."),
    Column("guest_share", "float", "guest_s / (host_s + guest_s); null when nobody talks.", nullable=True),
    Column("time_method", "str", "Time source mix of the episode."),
), key=("episode_id", "window_start_s")))
TABLES = (TURNS, SPEAKERS, ROLES, EPISODES, PEOPLE, TIMELINE)


def counted(utterances: pd.DataFrame, include_flagged: bool = False) -> pd.DataFrame:
    """Utterances that count as talk: attributed, timed, and conversation unless ``include_flagged``."""
    keep = utterances["speaker_id"].notna() & utterances["start_s"].notna() & utterances["end_s"].notna()
    if not include_flagged:
        keep &= utterances["is_conversation"].astype(bool)
    out = utterances[keep].sort_values(["episode_id", "order"]).copy()
    out["duration_s"] = (out["end_s"] - out["start_s"]).clip(lower=0)
    out["questions"] = out["text"].fillna("").map(lambda t: sum(map(is_question, sentences(t))))
    return out


def turns(utts: pd.DataFrame) -> pd.DataFrame:
    """Turns (TURNS columns) from :func:`counted` utterances."""
    if utts.empty:
        return TURNS.empty()
    new = (utts["speaker_id"] != utts["speaker_id"].shift()) | (utts["episode_id"] != utts["episode_id"].shift())
    g = utts.assign(turn=new.cumsum()).groupby("turn", sort=True)
    out = g.agg(episode_id=("episode_id", "first"), speaker_id=("speaker_id", "first"), speaker=("speaker", "first"),
                role=("speaker_role", "first"), start_s=("start_s", "first"), end_s=("end_s", "last"),
                duration_s=("duration_s", "sum"), words=("word_count", "sum"), questions=("questions", "sum"),
                utterances=("order", "size")).reset_index(drop=True)
    out["turn_index"] = out.groupby("episode_id").cumcount()
    return TURNS.conform(out)


def _mix(values: pd.Series, weights: pd.Series) -> str:
    """'a 80%, b 20%': the share of each value, weighted, largest first."""
    total = weights.groupby(values.to_numpy()).sum().sort_values(ascending=False)
    total = total[total > 0] / max(total.sum(), 1e-9)
    return ", ".join(f"{k} {v:.0%}" for k, v in total.items()) or "none"


@dataclass(frozen=True)
class Quote:
    """What is known of the model's accuracy for one episode (see :meth:`Measured.quote`)."""

    basis: str  # "this episode", "other shows" or "not measured"
    shape: str  # the input shape and cast the figure is for ('' when not measured)
    accuracy: float | None  # word accuracy on that basis
    baseline: float | None  # everyone-is-the-guest word accuracy on the same basis
    reliable: bool | None  # the model is clearly better than that baseline there
    note: str  # all of it in words


@dataclass(frozen=True)
class Measured:
    """What the speaker evaluation measured (:func:`evaluation.evaluate`), as the tables quote it:
    the held-out reference episodes' own figures, the committed model's leave-one-show-out figures
    per input shape and cast (``cross_show``), and each model-attributed episode's shape and cast
    (``attributed``: the corpus build's ``speaker_attribution`` rows)."""

    by_episode: dict[str, float] = field(default_factory=dict)  # word accuracy of each held-out reference episode
    baseline_by_episode: dict[str, float] = field(default_factory=dict)  # everyone-is-the-guest there
    cross_show: dict = field(default_factory=dict)  # evaluation.cross_show_summary()
    attributed: dict[str, tuple[str, int, int]] = field(default_factory=dict)  # episode -> (shape, hosts, guests)

    @classmethod
    def from_evaluation(cls, result: dict, attributed: pd.DataFrame | None = None) -> Measured:
        s = result["summary"]
        rows = {} if attributed is None else {r.episode_id: (r.shape, int(r.hosts), int(r.guests))
                                              for r in attributed.itertuples() if isinstance(r.shape, str)}
        return cls(dict(s["word_accuracy_by_episode"]), dict(s.get("baseline_by_episode") or {}),
                   dict(result.get("cross_show") or {}), rows)

    def quote(self, episode_id: str) -> Quote:
        """The accuracy quoted for ``episode_id``: measured there against its reference, else the
        cross-show figure of its input shape (and cast, where measured on enough episodes)."""
        if episode_id in self.by_episode:
            acc, base = self.by_episode[episode_id], self.baseline_by_episode.get(episode_id)
            reliable = None if base is None else acc > base
            vs = "" if base is None else f"; everyone-is-the-guest: {base:.1%}"
            return Quote("this episode", self._shape_words(episode_id), acc, base, reliable,
                         f"{acc:.1%} of words right on this episode (held out from training, scored against its "
                         f"hand-made reference{vs})")
        shape, hosts, guests = self.attributed.get(episode_id, (None, 0, 0))
        figures, label = evaluation.quote_figures(self.cross_show, shape, hosts, guests)
        if figures is None:
            why = ("no episode has a hand-made speaker reference and no model was measured across shows"
                   if not self.cross_show and not self.by_episode else
                   f"the model was not measured on {attribution.SHAPE_WORDS.get(shape, 'this input')}")
            return Quote("not measured", "", None, None, None, f"not measured: {why}")
        acc, base, ok = figures["word_accuracy"], figures["guest_baseline_accuracy"], bool(figures["reliable"])
        note = (f"not measured here; on {figures['episodes']} episodes of {figures['shows']} other shows in this shape "
                f"({label}) the model got {acc:.1%} of words right, everyone-is-the-guest {base:.1%}; its host share "
                f"was off by {figures['share_error_mean'] * 100:.0f} points on average, the other shows' average share "
                f"by {figures['share_baseline_error_mean'] * 100:.0f}")
        if not ok:
            worse = [what for what, better in (("words", figures["clearly_better"]),
                                               ("host share", figures["share_clearly_better"])) if not better]
            note += (f"; the model is not clearly better than that baseline for this shape ({' and '.join(worse)}), "
                     "so this split is not reliable")
        return Quote("other shows", label, acc, base, ok, note)

    def _shape_words(self, episode_id: str) -> str:
        shape, hosts, guests = self.attributed.get(episode_id, (None, 0, 0))
        return "" if shape is None else f"{attribution.SHAPE_WORDS[shape]}; {attribution.cast_class(hosts, guests)}"

    def note(self, episode_id: str) -> str:
        """The model's accuracy for ``episode_id`` in words (:meth:`quote`)."""
        return self.quote(episode_id).note

    def widening(self, episode_id: str) -> float:
        """How much a share interval is widened each side for ``episode_id`` (0-1): calibrated
        leave-one-show-out for its input shape and cast."""
        return evaluation.widening(self.cross_show, *self.attributed.get(episode_id, (None, 1, 1)))


def _methods(utts: pd.DataFrame, measured: Measured, include_flagged: bool) -> dict:
    model = (utts["speaker_source"] == attribution.METHOD).any()
    ep = utts["episode_id"].iloc[0]
    q = measured.quote(ep) if model else Quote("", "", None, None, None, "")
    return {"time_method": _mix(utts["time_source"], utts["duration_s"]),
            "attribution_method": _mix(utts["speaker_source"], utts["word_count"]),
            "attribution_accuracy": measured.by_episode.get(ep) if model else None,
            "attribution_accuracy_note": q.note, "attribution_basis": q.basis, "attribution_shape": q.shape,
            "attribution_quoted_accuracy": q.accuracy, "attribution_baseline": q.baseline,
            "attribution_reliable": q.reliable,
            "include_flagged": include_flagged}


def talk_metrics(utts: pd.DataFrame, trns: pd.DataFrame, by: list[str], measured: Measured | None = None,
                 include_flagged: bool = False) -> pd.DataFrame:
    """_TALK_COLUMNS and method columns per episode and ``by`` (e.g. ["speaker_id"] or ["role"])."""
    measured = measured or Measured()
    ep_s = utts.groupby("episode_id")["duration_s"].sum()
    ep_w = utts.groupby("episode_id")["word_count"].sum()
    tkey = ["episode_id"] + [{"speaker_role": "role"}.get(c, c) for c in by]
    turns_of = {k if isinstance(k, tuple) else (k,): g for k, g in trns.groupby(tkey, sort=False)}
    rows = []
    for key, u in utts.groupby(["episode_id"] + by, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        t = turns_of.get(key, trns.iloc[:0])
        ep = key[0]
        talk = float(u["duration_s"].sum())
        q = int(u["questions"].sum())
        row = dict(zip(tkey, key))
        row.update(talk_s=talk, talk_share=talk / ep_s[ep] if ep_s[ep] else 0.0, words=int(u["word_count"].sum()),
                   word_share=u["word_count"].sum() / ep_w[ep] if ep_w[ep] else 0.0, turns=len(t),
                   median_turn_s=float(t["duration_s"].median()), longest_turn_s=float(t["duration_s"].max()),
                   longest_turn_words=int(t["words"].max()), questions=q,
                   questions_per_hour=q / (ep_s[ep] / 3600) if ep_s[ep] else 0.0,
                   **_methods(u, measured, include_flagged))
        if "speaker_id" in by:
            row.update(speaker=u["speaker"].iloc[0], role=u["speaker_role"].iloc[0])
        rows.append(row)
    return pd.DataFrame(rows)


def share_intervals(utts: pd.DataFrame, draws: pd.DataFrame | None, by: str, measured: Measured | None = None,
                    quantiles: tuple[float, float] = (0.05, 0.95)) -> pd.DataFrame:
    """Expected talk and word share per episode and ``by`` (``speaker_id`` or ``speaker_role``)
    with an interval (_SHARE_COLUMNS), from the attribution decoder's posterior draws.

    In each draw a model-attributed utterance (a row of ``draws``) goes to its host or its
    guest; every other counted utterance keeps its speaker; each utterance keeps its seconds
    and words. Expected share: the mean over draws; interval: the ``quantiles`` of the draws,
    widened each side by :meth:`Measured.widening` and clipped to 0-1."""
    measured = measured or Measured()
    out = []
    draws = draws if draws is not None else pd.DataFrame(columns=["episode_id", "order", "draws"])
    for ep, u in utts.groupby("episode_id", sort=True):
        d = draws[(draws["episode_id"] == ep) & draws["order"].isin(u["order"])]
        fixed = u[~u["order"].isin(d["order"])]
        if d.empty:
            keys, words, secs = fixed[by].to_numpy(), fixed["word_count"].to_numpy(float)[:, None], \
                fixed["duration_s"].to_numpy(float)[:, None]
        else:
            host = np.array([list(x) for x in d["draws"]]) == "h"  # [utterance, draw]
            moved = u.set_index("order").loc[d["order"]]
            w, sec = moved["word_count"].to_numpy(float)[:, None], moved["duration_s"].to_numpy(float)[:, None]
            host_key = d["host_speaker_id"].to_numpy() if by == "speaker_id" else np.full(len(d), "host")
            guest_key = d["guest_speaker_id"].to_numpy() if by == "speaker_id" else np.full(len(d), "guest")
            n = host.shape[1]
            keys = np.concatenate([fixed[by].to_numpy(), host_key, guest_key])
            words = np.vstack([np.repeat(fixed["word_count"].to_numpy(float)[:, None], n, axis=1), w * host, w * ~host])
            secs = np.vstack([np.repeat(fixed["duration_s"].to_numpy(float)[:, None], n, axis=1), sec * host, sec * ~host])
        wide = measured.widening(ep) if not d.empty else 0.0
        row = {}
        for kind, m in (("word", words), ("talk", secs)):
            per = pd.DataFrame(m).groupby(keys, sort=True).sum()
            share = per / per.sum(axis=0).replace(0, np.nan)
            lo, hi = share.quantile(quantiles[0], axis=1), share.quantile(quantiles[1], axis=1)
            row[f"{kind}_share_expected"] = share.mean(axis=1)
            row[f"{kind}_share_low"] = (lo - wide).clip(lower=0.0)
            row[f"{kind}_share_high"] = (hi + wide).clip(upper=1.0)
        part = pd.DataFrame(row).fillna(0.0)
        part.index.name = by
        out.append(part.reset_index().assign(episode_id=ep))
    cols = ["episode_id", by] + [c.name for c in _SHARE_COLUMNS]
    return pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)


def switches_per_5min(trns: pd.DataFrame, talk_s: float) -> float:
    """Speaker switches per SWITCH_PERIOD_S of talk, turns under BACKCHANNEL_WORDS words dropped
    and the remaining same-speaker neighbours merged."""
    kept = trns.loc[trns["words"] >= BACKCHANNEL_WORDS, "speaker_id"].to_numpy()
    switches = int((kept[1:] != kept[:-1]).sum())
    return switches / (talk_s / SWITCH_PERIOD_S) if talk_s else 0.0


def balance_timeline(utts: pd.DataFrame) -> pd.DataFrame:
    """Host and guest seconds in each window of one episode's :func:`counted` utterances."""
    if utts.empty:
        return TIMELINE.empty()
    end = float(utts["end_s"].max())
    starts = np.arange(0.0, max(end - WINDOW_S, 0.0) + STEP_S / 2, STEP_S)
    s, e = utts["start_s"].to_numpy(float), utts["end_s"].to_numpy(float)
    overlap = np.clip(np.minimum(e[None], starts[:, None] + WINDOW_S) - np.maximum(s[None], starts[:, None]), 0, None)
    role = utts["speaker_role"].to_numpy()
    host, guest = overlap[:, role == "host"].sum(axis=1), overlap[:, role == "guest"].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(host + guest > 0, guest / (host + guest), np.nan)
    return pd.DataFrame({"episode_id": utts["episode_id"].iloc[0], "window_start_s": starts,
                         "window_end_s": starts + WINDOW_S, "host_s": host, "guest_s": guest, "guest_share": share,
                         "time_method": _mix(utts["time_source"], utts["duration_s"])})


def balance_label(guest_share: pd.Series) -> str:
    """Summary of a timeline's guest shares (see BALANCE_LABELS and the thresholds above)."""
    g = guest_share.dropna()
    if g.empty:
        return "alternating"
    guest_dom, host_dom = (g >= DOMINANT).mean(), (g <= 1 - DOMINANT).mean()
    if guest_dom >= THROUGHOUT:
        return "guest-dominated throughout"
    if host_dom >= THROUGHOUT:
        return "host-dominated throughout"
    return "back-and-forth" if 1 - guest_dom - host_dom >= BALANCED else "alternating"


def people(speakers: pd.DataFrame) -> pd.DataFrame:
    """PEOPLE rows from the per-episode speaker metrics."""
    rows = []
    for sid, g in speakers.groupby("speaker_id", sort=True):
        rows.append({"speaker_id": sid, "name": g["speaker"].iloc[0], "episodes": len(g),
                     "episode_ids": ";".join(g["episode_id"]), "roles": ";".join(sorted(set(g["role"]))),
                     "talk_s": g["talk_s"].sum(), "words": int(g["words"].sum()), "turns": int(g["turns"].sum()),
                     "questions": int(g["questions"].sum()), "mean_talk_share": g["talk_share"].mean(),
                     "talk_shares": ";".join(f"{e}={s:.3f}" for e, s in zip(g["episode_id"], g["talk_share"])),
                     "attribution_method": ";".join(g["attribution_method"])})
    return pd.DataFrame(rows)


def compute(utterances: pd.DataFrame, measured: Measured | None = None, include_flagged: bool = False,
            draws: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Every talk-time table from the utterances table. ``measured``: the speaker evaluation's
    figures, quoted on rows that rely on the attribution model; ``draws``: the attribution
    decoder's posterior draws (``speaker_draws``), from which expected shares and intervals come."""
    measured = measured or Measured()
    utts = counted(utterances, include_flagged)
    trns = turns(utts)
    spk = talk_metrics(utts, trns, ["speaker_id"], measured, include_flagged)
    rol = talk_metrics(utts, trns, ["speaker_role"], measured, include_flagged)
    if len(spk):
        spk = spk.merge(share_intervals(utts, draws, "speaker_id", measured), on=["episode_id", "speaker_id"], how="left")
        rol = rol.merge(share_intervals(utts, draws, "speaker_role", measured).rename(columns={"speaker_role": "role"}),
                        on=["episode_id", "role"], how="left")
    timelines, episodes = [], []
    for ep, u in utts.groupby("episode_id", sort=True):
        tl = balance_timeline(u)
        timelines.append(tl)
        t = trns[trns["episode_id"] == ep]
        r = rol[rol["episode_id"] == ep].set_index("role")
        talk = float(u["duration_s"].sum())
        episodes.append({"episode_id": ep, "talk_s": talk, "words": int(u["word_count"].sum()),
                         "host_talk_share": float(r["talk_share"].get("host", 0.0)),
                         "guest_talk_share": float(r["talk_share"].get("guest", 0.0)),
                         "host_word_share": float(r["word_share"].get("host", 0.0)), "turns": len(t),
                         **{f"host_{c.name}": float(r[c.name].get("host", 0.0)) for c in _SHARE_COLUMNS},
                         "switches_per_5min": switches_per_5min(t, talk),
                         "questions_per_hour": u["questions"].sum() / (talk / 3600) if talk else 0.0,
                         "longest_turn_s": float(t["duration_s"].max()), "balance_label": balance_label(tl["guest_share"]),
                         **_methods(u, measured, include_flagged)})
    return {"talktime_turns": trns, "talktime_speakers": spk, "talktime_roles": rol,
            "talktime_episodes": pd.DataFrame(episodes), "talktime_people": people(spk),
            "balance_timeline": pd.concat(timelines, ignore_index=True) if timelines else TIMELINE.empty()}


def comparison(episodes: pd.DataFrame) -> str:
    """Episodes side by side (one column each), as text."""
    from ..figures.talktime import share_label

    shares = {f"host {kind} share (expected)": [share_label(r, kind, "") for _, r in
                                                episodes.rename(columns=lambda c: c.removeprefix("host_")).iterrows()]
              for kind in ("talk", "word")}
    cols = ["host_talk_share", "host_word_share", "turns", "switches_per_5min", "questions_per_hour",
            "longest_turn_s", "balance_label", "time_method", "attribution_method"]
    wide = episodes.set_index("episode_id")[cols].T
    fmt = {"host_talk_share": "{:.1%}", "host_word_share": "{:.1%}", "switches_per_5min": "{:.1f}",
           "questions_per_hour": "{:.0f}", "longest_turn_s": "{:.0f}"}
    for c, f in fmt.items():
        wide.loc[c] = [f.format(v) for v in wide.loc[c]]
    wide = pd.concat([pd.DataFrame(shares, index=wide.columns).T, wide.rename(
        index={"host_talk_share": "host talk share (best path)", "host_word_share": "host word share (best path)"})])
    short = [c.split("-")[0] for c in wide.columns]  # the show's first word, where that tells them apart
    wide.columns = short if len(set(short)) == len(short) else wide.columns
    return wide.to_string()


def main_speakers(args) -> int:
    """``python -m analysis speakers [--include-flagged]``: write the talk-time tables."""
    from .. import config
    from ..corpus import load_corpus
    from ..figures.talktime import share_label

    corpus = load_corpus()
    utterances, draws = corpus["utterances"], corpus[attribution.DRAWS.name]
    result = evaluation.evaluate(utterances)
    measured = Measured.from_evaluation(result, corpus[attribution.ATTRIBUTED.name])
    tables = compute(utterances, measured, getattr(args, "include_flagged", False), draws)
    for table in TABLES:
        write_table(tables[table.name], table, config.PROCESSED / f"{table.name}.parquet")
    write_json(result, config.PROCESSED / "speaker_evaluation.json")
    print(comparison(tables["talktime_episodes"]))
    spk = tables["talktime_speakers"]
    print("\nPer speaker (share of talk time, expected with interval / word share / turns / questions):")
    for _, r in spk.iterrows():
        print(f"  {r['episode_id'].split('-')[0]:<13} {share_label(r):<44} {r['role']:<6} "
              f"{r['word_share_expected']:6.1%} {r['turns']:5d} {r['questions']:4d}")
    for _, r in tables["talktime_episodes"].iterrows():
        if r["attribution_accuracy_note"]:
            print(f"\n{r['episode_id']}: speakers inferred by the model; accuracy: {r['attribution_accuracy_note']} "
                  "(python -m analysis evaluate-speakers).")
    refused = utterances[utterances["speaker_source"] == attribution.REFUSED]
    for ep, u in refused.groupby("episode_id", sort=True):
        conv = utterances[(utterances["episode_id"] == ep) & utterances["is_conversation"] & (utterances["word_count"] > 0)]
        why = attribution.refusal_reason(conv) or "see the corpus report"
        print(f"\n{ep}: speakers not attributed ({why}); {int(u['word_count'].sum())} words have no speaker "
              "and are left out of talk time.")
    print(f"wrote {', '.join(t.name for t in TABLES)} and speaker_evaluation.json to {config.PROCESSED}")
    return 0
