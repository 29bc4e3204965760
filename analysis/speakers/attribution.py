"""Attribute unlabelled speech to hosts and guests: a text-only host/guest sentence classifier
decoded jointly over the episode by a duration-aware hidden semi-Markov chain.

Pipeline, per episode: split conversation utterances into sentences (:func:`sentences`);
score each sentence P(host | text) with a logistic regression on hand-built role-level
features, no topic words, so it transfers across shows (:class:`SpeakerModel`); decode the
whole sequence with forward-backward/Viterbi over states (role, sentences so far in the
turn), where the chance of a speaker change depends on the role, on how long the turn has
lasted (hazard learned from labelled episodes) and on the boundary text (a question
before, "Yeah," after; a second logistic regression). Confidence is the decoder's posterior
of the chosen role. In episodes with several hosts a host turn is given to one host only when
it names the speaker (self-introduction, the other host addressed), else to "A / B".

Sentence tables (DataFrames) have columns: ``episode_id``, ``order`` (utterance),
``text``, ``words``, ``boundary`` (kind of boundary *before* the sentence: ``free``,
``turn`` or ``within``) and ``role`` (``host``/``guest`` when known, else None).
"""
from __future__ import annotations

import pickle
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from .. import clean, config
from . import identity, reference
from ..catalog import Episode, Person
from ..ingest.text import sentences as sentence_texts
from ..io import atomic_path, content_hash
from .reference import Reference

ROLES = ("host", "guest")  # state 0, state 1
MAX_RUN = 16  # sentences-in-turn states per role; the last one absorbs longer turns
EMISSION_POWER = 2.0  # weight of sentence evidence against the turn prior when decoding (chosen by LOEO)
CONFIDENCE_POWER = 1.0  # the same weight for the posterior reported as confidence (better calibrated)
FIRST_IS_HOST = 0.8  # P(the first sentence is the host's)
TURN_SWITCH = {1: 0.98, 2: 0.75}  # P(role changes at a marked turn) for 1 host, for 2+ hosts
LABEL_TRUST = 0.95  # emission of a sentence whose speaker the file gives (labels can be noisy)
TURN_SEGMENTED = 1.5  # an unlabelled episode with more sentences per utterance than this marks turns
TRAINED_SOURCES = ("file_label", "catalog_correction", "introduction", reference.SOURCE)  # labels we learn from
METHOD = "model"  # identity.SOURCES value for decoded speakers
_CODE = Path(__file__).read_bytes()  # read at import: cached models are keyed by the code that fits them

_WORD = re.compile(r"[a-z']+")
_YOU = {"you", "your", "you're", "you've", "you'd", "you'll", "yourself", "yours"}
_I = {"i", "i'm", "me", "my", "i've", "i'd", "i'll", "myself", "mine"}
_WE = {"we", "our", "us", "we're", "we've", "we'd", "we'll", "ours"}
_ANSWER = {"yeah", "yes", "yep", "right", "totally", "sure", "exactly", "absolutely", "definitely", "no",
           "well", "i", "great", "so", "honestly", "oh", "um", "uh"}
_CONTINUE = {"and", "but", "because", "or", "which", "then", "also"}
# What the person running the show says (introduces themself, welcomes, thanks the guest for
# coming) and what a guest says (thanks for having me); names are masked as HOSTNAME/GUESTNAME.
_HOSTING = re.compile(r"\b(?:(?:this is|i'm|i am|my name is)\s+hostname|welcome(?: back)? to|my guest|"
                      r"my co-?host|thank(?:s| you) (?:so much )?(?:for|to) (?:coming|joining|being here|sitting)|"
                      r"today we're|today i'm|today my)")
_GUESTING = re.compile(r"\bthank(?:s| you)(?: so much)? for having me\b|\bhappy to be here\b")
# What interviewers do besides asking: sum up the answer, praise it, move on, speak of the show.
_INTERVIEWING = [re.compile(p) for p in (
    (r"\b(?:what i'm hearing|what you're saying|you're saying|just to make sure|so your (?:take|point|advice)|"
     r"quick summary|to summarize|in other words|it sounds like|sounds like you)"),
    (r"^(?:i love (?:that|this|it|how)|amazing|awesome|great (?:tip|point|answer|advice|story)|wow|fascinating|"
     r"that's (?:amazing|awesome|incredible|so cool|great|fascinating|interesting))"),
    (r"\b(?:(?:last|final|next|one more|another) question|let's (?:talk|move|shift|switch|dig|go back|come back)|"
     r"shifting gears|on the flip side|i want to (?:ask|talk|start|dig|double down)|i'd love to (?:hear|ask|talk)|"
     r"(?:can|could) you (?:talk|tell|share|walk|explain|describe)|before we (?:go|wrap|move)|coming back to)"),
    r"\b(?:(?:on|to) (?:this|the|our) (?:podcast|show|episode)|listeners|folks listening|podcast guest)")]


def sentences(utterances: pd.DataFrame, episode: Episode, hide_labels: bool = False,
              turn_marks: bool = True) -> pd.DataFrame:
    """Sentence table of one episode's conversation utterances (see the module docstring).

    The file's utterance boundaries count as turn boundaries when it names no speakers and
    its utterances average more than TURN_SEGMENTED sentences (paragraphs, dash-separated
    turns), unless ``turn_marks`` is False. With ``hide_labels`` the file's speakers are
    ignored (``role`` None), which is how a labelled episode is held out for evaluation."""
    conv = utterances[utterances["is_conversation"] & (utterances["word_count"] > 0)].sort_values("order")
    labelled = conv["speaker_source"].isin(TRAINED_SOURCES) & conv["speaker_role"].isin(ROLES)
    n_sent = conv["text"].map(lambda t: len(sentence_texts(t)))
    turns = (turn_marks and len(conv) > 0 and n_sent.mean() > TURN_SEGMENTED
             and (hide_labels or not labelled.any()))
    rows = []
    for (_, u), known in zip(conv.iterrows(), labelled):
        for k, s in enumerate(sentence_texts(u["text"])):
            rows.append({"episode_id": episode.id, "order": int(u["order"]), "text": _mask_names(s, episode),
                         "words": len(s.split()),
                         "boundary": "within" if turns and k else "turn" if turns else "free",
                         "role": u["speaker_role"] if known and not hide_labels else None})
    out = pd.DataFrame(rows, columns=["episode_id", "order", "text", "words", "boundary", "role"])
    if len(out):
        out.loc[0, "boundary"] = "free"
    return out


def with_reference(sents: pd.DataFrame, utterances: pd.DataFrame, ref: Reference) -> pd.DataFrame:
    """``sents`` with ``host_share`` (fraction of each sentence's words the reference gives a
    host, NaN where it gives no one) and ``role`` (the reference's majority role) added."""
    share = reference.sentence_host_share(ref, utterances, sents)
    return sents.assign(host_share=share, role=np.where(np.isnan(share), None, np.where(share >= 0.5, "host", "guest")))


def _mask_names(text: str, episode: Episode) -> str:
    """Replace the episode's people's names with HOSTNAME / GUESTNAME so features generalise."""
    for person in episode.people:
        for part in person.name.split():
            text = re.sub(rf"\b{re.escape(part)}\b", f"{person.role.upper()}NAME", text)
    return text


def _hand_features(texts) -> np.ndarray:
    rows = []
    for t in texts:
        low = t.lower().replace("hostname", " hostname ").replace("guestname", " guestname ")
        words = _WORD.findall(low)
        n = max(len(words), 1)
        first = words[0] if words else ""
        rows.append([t.rstrip().endswith("?"), "?" in t, np.log1p(len(words)),
                     sum(w in _YOU for w in words) / n, sum(w in _I for w in words) / n,
                     sum(w in _WE for w in words) / n, first in _ANSWER, first in _CONTINUE,
                     "guestname" in words, "hostname" in words, bool(_HOSTING.search(low)), bool(_GUESTING.search(low))])
    return np.asarray(rows, dtype=float)


def _sentence_features(texts) -> np.ndarray:
    """:func:`_hand_features` plus one flag per interviewer move (:data:`_INTERVIEWING`)."""
    moves = [[bool(m.search(t.lower().strip())) for m in _INTERVIEWING] for t in texts]
    return np.hstack([_hand_features(texts), np.asarray(moves, dtype=float).reshape(len(texts), -1)])


def _boundary_features(prev: list[str], nxt: list[str]) -> np.ndarray:
    """Features of the boundary between sentence ``prev[i]`` and ``nxt[i]``: both sentences'
    :func:`_sentence_features` ("I love that." after an answer often starts the host's turn)."""
    return np.hstack([_sentence_features(prev), _sentence_features(nxt)])


def _sentence_pipeline():
    """Role-level features only (questions, address, self-reference, discourse markers,
    interviewer moves, length, names). Word n-grams, MiniLM embeddings and a fine-tuned MiniLM
    learn one show's topics or voices and do no better on a held-out episode
    (benchmarks/attribution_alternatives.py compares them)."""
    return make_pipeline(
        FunctionTransformer(_sentence_features), StandardScaler(),
        LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, random_state=config.SEED))


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass
class SpeakerModel:
    """Fitted sentence classifier, boundary classifier and turn-length hazards."""

    sentence_clf: object
    boundary_clf: object
    boundary_base: float  # P(switch) at a free boundary in the training data
    hazard: np.ndarray  # [role, sentences so far - 1]: P(the turn ends after this sentence)

    def p_host(self, texts: list[str]) -> np.ndarray:
        """P(host | sentence), class-balanced (the decoder supplies the prior)."""
        classes = list(self.sentence_clf.classes_)
        return self.sentence_clf.predict_proba(list(texts))[:, classes.index("host")]


def fit(train: pd.DataFrame) -> SpeakerModel:
    """Fit a :class:`SpeakerModel` on labelled sentence tables (one or more episodes)."""
    train = train[train["role"].isin(ROLES)]
    clf = _sentence_pipeline().fit(train["text"].tolist(), train["role"].tolist())
    prev, nxt, switch = [], [], []
    counts = np.ones((2, MAX_RUN, 2))  # [role, run, ended?] with add-one smoothing
    for _, ep in train.groupby("episode_id", sort=True):
        roles, texts = ep["role"].tolist(), ep["text"].tolist()
        run = 0
        for i in range(len(roles) - 1):
            ended = roles[i + 1] != roles[i]
            counts[ROLES.index(roles[i]), min(run, MAX_RUN - 1), int(ended)] += 1
            run = 0 if ended else run + 1
            prev.append(texts[i]), nxt.append(texts[i + 1]), switch.append(ended)
    boundary = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=config.SEED))
    boundary.fit(_boundary_features(prev, nxt), switch)
    return SpeakerModel(clf, boundary, float(np.mean(switch)), counts[:, :, 1] / counts.sum(axis=2))


def fit_cached(train: pd.DataFrame) -> SpeakerModel:
    """:func:`fit`, cached under ``data/cache`` keyed by the training data and this code."""
    key = content_hash(train[["episode_id", "text", "role"]].to_csv(index=False), _CODE, str(config.SEED))
    path = config.CACHE / f"speaker_model_{key}.pkl"
    if path.exists():
        try:
            with path.open("rb") as fh:
                return pickle.load(fh)
        except (OSError, EOFError, AttributeError, pickle.UnpicklingError):  # unreadable entry: refit
            path.unlink(missing_ok=True)
    model = fit(train)
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        pickle.dump(model, fh)
    return model


def switch_probabilities(model: SpeakerModel, sents: pd.DataFrame, n_hosts: int = 1) -> np.ndarray:
    """[boundary before sentence t, role, run]: P(the speaker changes there)."""
    n = len(sents)
    out = np.zeros((n, 2, MAX_RUN))
    if n < 2:
        return out
    texts = sents["text"].tolist()
    shift = _logit(model.boundary_clf.predict_proba(_boundary_features(texts[:-1], texts[1:]))[:, 1]) \
        - _logit(model.boundary_base)
    free = 1 / (1 + np.exp(-(_logit(model.hazard)[None] + shift[:, None, None])))
    kinds = sents["boundary"].to_numpy()[1:]
    out[1:] = np.where((kinds == "free")[:, None, None], free, 0.0)
    out[1:][kinds == "turn"] = TURN_SWITCH[min(n_hosts, 2)]
    return out


def emissions(p_host: np.ndarray, roles: pd.Series, power: float = EMISSION_POWER) -> np.ndarray:
    """[sentence, role]: likelihoods, the classifier's P(host) to ``power``; sentences whose
    role is known (``roles`` host/guest) are clamped to LABEL_TRUST."""
    e = np.stack([p_host, 1 - p_host], axis=1) ** power
    known = roles.isin(ROLES).to_numpy()
    e[known] = np.where(roles[known].to_numpy()[:, None] == np.array(ROLES), LABEL_TRUST, 1 - LABEL_TRUST)
    return e


def _step(prev: np.ndarray, switch: np.ndarray) -> np.ndarray:
    """One forward transition of the (role, run) chain: prev[role, run] -> next[role, run]."""
    stay, leave = prev * (1 - switch), prev * switch
    nxt = np.zeros_like(prev)
    nxt[:, 1:] = stay[:, :-1]
    nxt[:, -1] += stay[:, -1]
    nxt[:, 0] = leave.sum(axis=1)[::-1]
    return nxt


def _init() -> np.ndarray:
    init = np.zeros((2, MAX_RUN))
    init[:, 0] = [FIRST_IS_HOST, 1 - FIRST_IS_HOST]
    return init


def posteriors(emit: np.ndarray, switch: np.ndarray) -> np.ndarray:
    """[sentence, role]: posterior P(role), by forward-backward over (role, run) states."""
    n = len(emit)
    if n == 0:
        return np.zeros((0, 2))
    init = _init()
    alpha = np.zeros((n, 2, MAX_RUN))
    a = init * emit[0][:, None]
    alpha[0] = a / a.sum()
    for t in range(1, n):
        a = _step(alpha[t - 1], switch[t]) * emit[t][:, None]
        alpha[t] = a / a.sum()
    beta = np.ones((2, MAX_RUN))
    post = np.zeros((n, 2))
    post[-1] = alpha[-1].sum(axis=1)
    for t in range(n - 1, 0, -1):
        # beta_{t-1}[s] = sum_s' P(s -> s') emit_t(s') beta_t(s'), with the same sparse structure
        b = beta * emit[t][:, None]
        stay = np.zeros_like(b)
        stay[:, :-1] = b[:, 1:]
        stay[:, -1] = b[:, -1]
        beta = (1 - switch[t]) * stay + switch[t] * b[::-1, 0][:, None]
        beta /= beta.sum()
        g = alpha[t - 1] * beta
        post[t - 1] = g.sum(axis=1) / g.sum()
    return post


def viterbi(emit: np.ndarray, switch: np.ndarray) -> np.ndarray:
    """Most likely role per sentence (0 host, 1 guest) over the same (role, run) chain."""
    n = len(emit)
    if n == 0:
        return np.zeros(0, int)
    with np.errstate(divide="ignore"):
        le, lsw, lst = np.log(emit), np.log(switch), np.log1p(-switch)
        v = np.log(_init()) + le[0][:, None]
    back = np.zeros((n, 2, MAX_RUN, 2), dtype=int)  # previous (role, run) of the best path
    for t in range(1, n):
        stay, leave = v + lst[t], v + lsw[t]
        nv = np.full_like(v, -np.inf)
        nb = np.zeros((2, MAX_RUN, 2), dtype=int)
        for r in range(2):
            nv[r, 1:] = stay[r, :-1]
            nb[r, 1:] = np.stack([np.full(MAX_RUN - 1, r), np.arange(MAX_RUN - 1)], axis=1)
            if stay[r, -1] > nv[r, -1]:
                nv[r, -1], nb[r, -1] = stay[r, -1], (r, MAX_RUN - 1)
            k = int(np.argmax(leave[1 - r]))
            nv[r, 0], nb[r, 0] = leave[1 - r, k], (1 - r, k)
        v = nv + le[t][:, None]
        back[t] = nb
    state = np.unravel_index(int(np.argmax(v)), v.shape)
    path = np.zeros(n, dtype=int)
    for t in range(n - 1, -1, -1):
        path[t] = state[0]
        state = tuple(back[t][state])
    return path


def attribute_episode(model: SpeakerModel, sents: pd.DataFrame, n_hosts: int = 1,
                      p_host: np.ndarray | None = None) -> pd.DataFrame:
    """``sents`` with ``pred_role`` (Viterbi) and ``confidence`` (posterior of that role at
    CONFIDENCE_POWER) added. ``p_host`` replaces the model's sentence scores (P(host) per
    sentence), so other sentence classifiers can be decoded the same way."""
    switch = switch_probabilities(model, sents, n_hosts)
    if p_host is None:
        p_host = model.p_host(sents["text"].tolist()) if len(sents) else np.zeros(0)
    path = viterbi(emissions(p_host, sents["role"]), switch)
    post = posteriors(emissions(p_host, sents["role"], CONFIDENCE_POWER), switch)
    out = sents.copy()
    out["pred_role"] = [ROLES[i] for i in path]
    out["confidence"] = post[np.arange(len(path)), path]
    return out


def to_utterances(sents: pd.DataFrame) -> pd.DataFrame:
    """Per utterance (``order``): the word-weighted majority role and its mean confidence."""
    s = sents.assign(host_w=np.where(sents["pred_role"] == "host", sents["words"], 0))
    g = s.groupby("order", sort=True)
    out = pd.DataFrame({"host_w": g["host_w"].sum(), "words": g["words"].sum()})
    out["pred_role"] = np.where(out["host_w"] * 2 >= out["words"], "host", "guest")
    agree = s[s["pred_role"] == out.loc[s["order"], "pred_role"].to_numpy()]
    conf = (agree["confidence"] * agree["words"]).groupby(agree["order"]).sum() / out["words"]
    out["confidence"] = conf.reindex(out.index).fillna(0.5).clip(upper=1.0)
    return out[["pred_role", "confidence"]]


def assign_labels(utts: pd.DataFrame, episode: Episode) -> dict[str, tuple[Person | None, float]]:
    """One person per unresolved diarisation label (SPEAKER_00, Speaker A): the file already
    says which utterances one voice spoke, so they are decided together, not one by one.

    ``utts``: that episode's labelled, unresolved utterances with decoded ``pred_role`` and
    ``confidence``. A label's host score is the word-weighted mean P(host) of its utterances.
    Of the (hosts + guests) labels with most words, the most host-like become the hosts and
    the others the guests, each in catalog order; the confidence is the label's mean
    posterior of that role. Further labels (an engineer, a caller) stay unresolved (None)."""
    if utts.empty:
        return {}
    p_host = np.where(utts["pred_role"] == "host", utts["confidence"], 1 - utts["confidence"])
    w = utts["word_count"].clip(lower=1).to_numpy(dtype=float)
    stats = (pd.DataFrame({"label": utts["speaker_label"].to_numpy(), "w": w, "hw": p_host * w})
             .groupby("label", sort=True).sum())
    stats["host"] = stats["hw"] / stats["w"]
    ranked = stats.sort_values(["w", "host"], ascending=False, kind="stable")
    cand = ranked.head(len(episode.hosts) + len(episode.guests))
    host_labels = cand.sort_values("host", ascending=False, kind="stable").head(len(episode.hosts)).index
    out: dict[str, tuple[Person | None, float]] = {label: (None, 0.0) for label in ranked.index}
    out.update({label: (p, float(cand.at[label, "host"])) for label, p in zip(host_labels, episode.hosts)})
    guest_labels = [label for label in cand.index if label not in host_labels]
    out.update({label: (p, float(1 - cand.at[label, "host"])) for label, p in zip(guest_labels, episode.guests)})
    return out


def either_host(episode: Episode) -> Person:
    """The stand-in speaker for a host turn when the text does not say which host speaks."""
    return Person(" / ".join(h.name for h in episode.hosts), "host")


def split_hosts(utts: pd.DataFrame, episode: Episode) -> list[Person | None]:
    """Which host said each host utterance of ``utts`` (columns ``text``, ``pred_role``), in
    order; None for guest utterances and for host utterances the text does not settle.

    Only direct evidence names a host: a self-introduction ("This is Alessio") names the
    speaker, and a host named in the turn ("my co-host swyx", "Alessio, ...") makes the speaker
    the other host. Alternation and continuity rules were measured against the Latent Space
    reference and named the right host no more often than chance, so they are not used."""
    out: list[Person | None] = []
    for text, role in zip(utts["text"], utts["pred_role"]):
        who = None
        if role == "host":
            speaking, named = identity.named_people(text, episode)
            if speaking in episode.hosts:
                who = speaking
            elif named in episode.hosts and len(episode.hosts) == 2:
                who = next(h for h in episode.hosts if h != named)
        out.append(who)
    return out


def training_sentences(utterances: pd.DataFrame, episodes: list[Episode], refs: dict[str, Reference],
                       exclude: str | None = None) -> pd.DataFrame:
    """Sentences with a known role from every episode except ``exclude``: roles from its
    reference where it has one (``refs``), else from its file when that names most speakers."""
    parts = []
    for ep in episodes:
        if ep.id == exclude:
            continue
        u = utterances[utterances["episode_id"] == ep.id]
        sents = sentences(u, ep)
        if ep.id in refs:
            sents = with_reference(sents, u, refs[ep.id])
        elif sents.empty or sents["role"].notna().mean() <= 0.5:
            continue
        parts.append(sents[sents["role"].notna()])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["episode_id", "text", "role"])


def attribute_stage(utterances: pd.DataFrame, episodes: list[Episode]) -> pd.DataFrame:
    """Corpus stage: fill speaker_id/speaker/role/source='model'/confidence for conversation
    utterances with no speaker, decoding each episode (labelled sentences clamped) with a model
    trained on the *other* episodes, so what is shown is what the leave-one-episode-out
    evaluation measures (an episode's own reference never informs its speakers)."""
    refs, _ = reference.load_references(episodes)  # unusable references are reported by the corpus build
    out = utterances.copy()
    cols = ["speaker_id", "speaker", "speaker_role", "speaker_source", "speaker_confidence"]
    for ep in episodes:
        mask = out["episode_id"] == ep.id
        todo = mask & out["is_conversation"] & (out["word_count"] > 0) & out["speaker_id"].isna()
        if not todo.any() or not ep.hosts or not ep.guests:
            continue
        train = training_sentences(utterances, episodes, refs, exclude=ep.id)
        if train.empty or train["role"].nunique() < 2:
            continue
        model = fit_cached(train)
        per = to_utterances(attribute_episode(model, sentences(out[mask], ep), len(ep.hosts)))
        conv = out[mask & out["is_conversation"] & (out["word_count"] > 0)].sort_values("order")
        conv = conv.assign(pred_role=per.loc[conv["order"], "pred_role"].to_numpy(),
                           confidence=per.loc[conv["order"], "confidence"].to_numpy())
        hosts = split_hosts(conv, ep) if len(ep.hosts) > 1 else [ep.hosts[0]] * len(conv)
        labelled = conv[todo[conv.index].to_numpy() & conv["speaker_label"].notna().to_numpy()]
        by_label = assign_labels(labelled, ep)
        rows = []
        for label, role, conf, host in zip(conv["speaker_label"], conv["pred_role"], conv["confidence"], hosts):
            person, conf = by_label[label] if label in by_label else (
                (host or either_host(ep)) if role == "host" else ep.guests[0], conf)
            rows.append([None, label, "unknown", "none", None] if person is None else
                        [person.id, person.name, person.role, METHOD, round(float(conf), 4)])
        update = pd.DataFrame(rows, index=conv.index, columns=cols)
        idx = conv.index[todo[conv.index]]
        for c in cols:
            out[c] = out[c].astype(object)
            out.loc[idx, c] = update.loc[idx, c]
    return out


RULE = "rule"  # identity.SOURCES value for flagged speech assigned by attribute_flagged
SPEAKERLESS_FLAGS = ("nonspeech", "hallucination_loop")  # artefacts, not anyone's speech
HOST_READ_FLAGS = ("sponsor", "promo")  # read by the host
READ_CONFIDENCE = 0.8  # confidence that a sponsor read or promotion is the (first) host's
QUOTE_DISCOUNT = 0.9  # a cold-open quote's confidence relative to the passage it repeats
UNMATCHED_CONFIDENCE = 0.5  # a cold-open sentence that repeats nothing: nearest quote's speaker


def attribute_flagged(utterances: pd.DataFrame, episodes: list[Episode]) -> pd.DataFrame:
    """Corpus stage: speakers for flagged speech that has none (source ``rule``).

    Sponsor reads and show promotion go to the episode's first host. A cold-open sentence takes
    the speaker of the later attributed utterance sharing most of its word 4-grams; one that
    repeats nothing takes the speaker of the nearest cold-open sentence that does, with low
    confidence. Non-speech cues and ASR loops stay without a speaker."""
    out = utterances.copy()
    cols = ["speaker_id", "speaker", "speaker_role", "speaker_source", "speaker_confidence"]
    for c in cols:
        out[c] = out[c].astype(object)
    for ep in episodes:
        mask = (out["episode_id"] == ep.id) & out["speaker_id"].isna() & (out["word_count"] > 0)
        todo = out[mask & ~out["is_conversation"]].sort_values("order")
        todo = todo[~todo["flags"].str.contains("|".join(SPEAKERLESS_FLAGS))]
        if todo.empty or not ep.hosts:
            continue
        host = ep.hosts[0]
        reads = todo[todo["flags"].str.contains("|".join(HOST_READ_FLAGS))]
        out.loc[reads.index, cols] = [host.id, host.name, host.role, RULE, READ_CONFIDENCE]
        quotes = todo[todo["flags"].str.contains("cold_open") & ~todo.index.isin(reads.index)]
        if quotes.empty:
            continue
        later = out[(out["episode_id"] == ep.id) & out["is_conversation"] & out["speaker_id"].notna()]
        later_grams = [(i, clean.shingles(t)) for i, t in zip(later.index, later["text"])]
        matched: dict[int, int] = {}  # cold-open row -> later row it repeats
        for i, text in zip(quotes.index, quotes["text"]):
            grams = clean.shingles(text)
            best = max(later_grams, key=lambda p: len(grams & p[1]), default=None)
            if best is not None and grams and len(grams & best[1]) >= 2:
                matched[i] = best[0]
        for i in quotes.index:
            if i in matched:
                src = out.loc[matched[i]]
                conf = QUOTE_DISCOUNT * float(src["speaker_confidence"] if pd.notna(src["speaker_confidence"]) else 1.0)
            elif matched:
                src = out.loc[matched[min(matched, key=lambda j: abs(out.at[j, "order"] - out.at[i, "order"]))]]
                conf = UNMATCHED_CONFIDENCE
            else:
                continue
            out.loc[i, cols] = [src["speaker_id"], src["speaker"], src["speaker_role"], RULE, round(conf, 4)]
    return out
