"""Attribute unlabelled speech to hosts and guests: a text-only host/guest sentence classifier
decoded jointly over the episode by a duration-aware hidden semi-Markov chain, trained only on
the hand-made speaker references (never on a file's own labels).

Pipeline, per episode: split conversation utterances into sentences (:func:`sentences`);
score each sentence P(host | text) with a logistic regression on hand-built role-level
features, no topic words, so it transfers across shows (:class:`SpeakerModel`); decode the
whole sequence with forward-backward/Viterbi over states (role, sentences so far in the
turn), where the chance of a speaker change depends on the role, on how long the turn has
lasted (hazard learned from labelled episodes) and on the boundary text (a question
before, "Yeah," after; a second logistic regression). Confidence is the decoder's posterior
of the chosen role, taken on the episode's own turn-taking where its text supports that
(:func:`turn_offsets`); so are the posterior draws. In episodes with several hosts a host turn is given to one host only when
it names the speaker (self-introduction, the other host addressed), else to "A / B".
The model is a versioned artifact of the references (:func:`reference_model`); the corpus stage
(:func:`attribute_stage`) decodes each episode behind a per-episode cache, attributes catch-all
labels utterance by utterance, refuses text without punctuation or too short
(:func:`refusal_reason`), and keeps posterior draws of each decoded episode (:data:`DRAWS`,
forward filtering, backward sampling) from which talk shares get intervals.

Sentence tables (DataFrames) have columns: ``episode_id``, ``order`` (utterance),
``text``, ``words``, ``boundary`` (kind of boundary *before* the sentence: ``free``,
``turn`` or ``within``) and ``role`` (``host``/``guest`` when known, else None).
"""
from __future__ import annotations

import json
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
from ..catalog import Episode, Person
from ..ingest.text import sentences as sentence_texts
from ..io import atomic_path, content_hash, keyed_pickle
from ..schema import Column, Table, register
from . import identity, reference
from .reference import Reference

ROLES = ("host", "guest")  # state 0, state 1
MAX_RUN = 16  # sentences-in-turn states per role; the last one absorbs longer turns
EMISSION_POWER = 2.0  # weight of sentence evidence against the turn prior when decoding (chosen by LOEO)
CONFIDENCE_POWER = 1.0  # the same weight for the posterior reported as confidence (better calibrated)
FIRST_IS_HOST = 0.8  # P(the first sentence is the host's)
TURN_SWITCH = {1: 0.98, 2: 0.75}  # P(role changes at a marked turn) for 1 host, for 2+ hosts
LABEL_TRUST = 0.95  # emission of a sentence whose speaker the file gives (labels can be noisy)
TURN_SEGMENTED = 1.5  # an unlabelled episode with more sentences per utterance than this marks turns
CLAMPED_SOURCES = ("file_label", "catalog_correction", "introduction", reference.SOURCE)  # speakers the decoder takes as given
N_DRAWS = 200  # posterior draws per episode (talk shares with intervals)
OFFSET_GRID = np.arange(-2.0, 2.01, 0.25)  # per-episode logit offsets to the turn-end hazards (turn_offsets)
OFFSET_PRIOR_SD = 1.0  # normal prior on those offsets, in logit units (set a priori, not tuned)
MIN_WORDS = 100  # an episode with fewer conversation words is not attributed
MAX_WORDS_PER_MARK = 60  # fewer sentence marks than one per this many words: no punctuation to read
REFUSED = "refused"  # identity.SOURCES value where the text cannot support attribution
METHOD = "model"  # identity.SOURCES value for decoded speakers
_CODE = Path(__file__).read_bytes()  # read at import: cached models are keyed by the code that fits them
DRAWS = register(Table("speaker_draws", "Posterior draws of the attribution decoder, per model-attributed utterance "
                      "(forward filtering, backward sampling; fixed seed): the talk-share intervals come from them.", (
    Column("episode_id", "str", "Episode slug."),
    Column("order", "int", "Utterance position in the episode."),
    Column("host_speaker_id", "str", "Who speaks the utterance in a draw that gives it to a host."),
    Column("host_speaker", "str", "That host's display name ('A / B' when the text does not say which host)."),
    Column("guest_speaker_id", "str", "Who speaks it in a draw that gives it to a guest."),
    Column("guest_speaker", "str", "That guest's display name."),
    Column("draws", "str", "One character per draw: 'h' host, 'g' guest (majority of the utterance's words)."),
), key=("episode_id", "order")))

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
    turns), unless ``turn_marks`` is False. In a file that labels speakers, an utterance is one
    voice's: no speaker change inside it, and a change of label between two utterances ("Unknown
    Speaker" after "Kelly Brandt") is a marked turn (a change of voice). With ``hide_labels`` the file's speakers are ignored
    (``role`` None), which is how a labelled episode is held out for evaluation."""
    conv = utterances[utterances["is_conversation"] & (utterances["word_count"] > 0)].sort_values("order")
    labelled = conv["speaker_source"].isin(CLAMPED_SOURCES) & conv["speaker_role"].isin(ROLES)
    n_sent = conv["text"].map(lambda t: len(sentence_texts(t)))
    turns = (turn_marks and len(conv) > 0 and n_sent.mean() > TURN_SEGMENTED
             and (hide_labels or not labelled.any()))
    by_voice = labelled.any() and not hide_labels  # a file that labels voices keeps each utterance to one voice
    label = conv["speaker_label"].where(conv["speaker_label"].map(lambda lab: isinstance(lab, str)))
    new_voice = (by_voice & label.notna() & label.shift().notna() & (label != label.shift())).to_numpy()
    rows = []
    for (_, u), known, voice in zip(conv.iterrows(), labelled, new_voice):
        for k, s in enumerate(sentence_texts(u["text"])):
            rows.append({"episode_id": episode.id, "order": int(u["order"]), "text": _mask_names(s, episode),
                         "words": len(s.split()),
                         "boundary": "within" if (turns or by_voice) and k else "turn" if turns or voice else "free",
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


def switch_probabilities(model: SpeakerModel, sents: pd.DataFrame, n_hosts: int = 1,
                         offsets: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """[boundary before sentence t, role, run]: P(the speaker changes there). ``offsets``
    (host, guest) are added to the logit of the turn-end hazards at free boundaries
    (:func:`turn_offsets` fits them to one episode)."""
    n = len(sents)
    out = np.zeros((n, 2, MAX_RUN))
    if n < 2:
        return out
    free = 1 / (1 + np.exp(-(_free_logits(model, sents) + np.asarray(offsets, dtype=float)[None, :, None])))
    kinds = sents["boundary"].to_numpy()[1:]
    out[1:] = np.where((kinds == "free")[:, None, None], free, 0.0)
    out[1:][kinds == "turn"] = TURN_SWITCH[min(n_hosts, 2)]
    return out


def _free_logits(model: SpeakerModel, sents: pd.DataFrame) -> np.ndarray:
    """[boundary before sentence t >= 1, role, run]: logit P(the speaker changes) at a free
    boundary: the turn-end hazard shifted by the boundary classifier's evidence."""
    texts = sents["text"].tolist()
    shift = _logit(model.boundary_clf.predict_proba(_boundary_features(texts[:-1], texts[1:]))[:, 1]) \
        - _logit(model.boundary_base)
    return _logit(model.hazard)[None] + shift[:, None, None]


def turn_offsets(model: SpeakerModel, sents: pd.DataFrame, emit: np.ndarray, n_hosts: int = 1) -> tuple[float, float]:
    """The episode's own turn-taking: (host, guest) offsets to the logit of the turn-end
    hazards, the maximum a posteriori point on the grid OFFSET_GRID under a normal prior
    (sd OFFSET_PRIOR_SD) and the likelihood of the episode's sentences given ``emit``
    (at CONFIDENCE_POWER; class-balanced probabilities are likelihoods up to a factor that
    is the same for every path). How long a guest answers and how often a host cuts in
    differ from show to show; the references give the shape, the episode's text the level.
    The offsets are kept only where they improve the log-likelihood by more than the BIC
    penalty of two parameters (ln of the number of free boundaries): on a short episode, or
    where the sentence scores mislead, adapting the turn model amplifies their errors.
    (0, 0) otherwise, and where the episode has no free boundaries."""
    n = len(sents)
    kinds = sents["boundary"].to_numpy()
    if n < 2 or not (kinds[1:] == "free").any():
        return 0.0, 0.0
    grid = np.array([(h, g) for h in OFFSET_GRID for g in OFFSET_GRID])  # [G, role]
    logits = _free_logits(model, sents)
    fixed = TURN_SWITCH[min(n_hosts, 2)]
    a = np.repeat((_init() * emit[0][:, None])[None], len(grid), axis=0)
    loglik = np.log(a.sum(axis=(1, 2)))
    a /= a.sum(axis=(1, 2), keepdims=True)
    for t in range(1, n):
        sw = (1 / (1 + np.exp(-(logits[t - 1][None] + grid[:, :, None])))) if kinds[t] == "free" else \
            (fixed if kinds[t] == "turn" else 0.0)
        a = _step(a, sw) * emit[t][None, :, None]
        z = a.sum(axis=(1, 2))
        loglik += np.log(z)
        a /= z[:, None, None]
    best = int(np.argmax(loglik - (grid ** 2).sum(axis=1) / (2 * OFFSET_PRIOR_SD ** 2)))
    none = int(np.flatnonzero((grid == 0).all(axis=1))[0])
    if loglik[best] - loglik[none] <= np.log((kinds[1:] == "free").sum()):  # BIC, 2 parameters: not worth it
        return 0.0, 0.0
    return float(grid[best, 0]), float(grid[best, 1])


def share_switch(model: SpeakerModel, sents: pd.DataFrame, p_host: np.ndarray, n_hosts: int = 1) -> np.ndarray:
    """:func:`switch_probabilities` with the episode's own :func:`turn_offsets`: the chain the
    posterior (confidence, draws, expected shares) is taken on."""
    emit = emissions(p_host, sents["role"], CONFIDENCE_POWER)
    return switch_probabilities(model, sents, n_hosts, turn_offsets(model, sents, emit, n_hosts))


def emissions(p_host: np.ndarray, roles: pd.Series, power: float = EMISSION_POWER) -> np.ndarray:
    """[sentence, role]: likelihoods, the classifier's P(host) to ``power``; sentences whose
    role is known (``roles`` host/guest) are clamped to LABEL_TRUST."""
    e = np.stack([p_host, 1 - p_host], axis=1) ** power
    known = roles.isin(ROLES).to_numpy()
    e[known] = np.where(roles[known].to_numpy()[:, None] == np.array(ROLES), LABEL_TRUST, 1 - LABEL_TRUST)
    return e


def _step(prev: np.ndarray, switch) -> np.ndarray:
    """One forward transition of the (role, run) chain: prev[..., role, run] -> next[..., role, run]
    (leading axes: several chains at once)."""
    stay, leave = prev * (1 - switch), prev * switch
    nxt = np.zeros_like(prev)
    nxt[..., 1:] = stay[..., :-1]
    nxt[..., -1] += stay[..., -1]
    nxt[..., 0] = leave.sum(axis=-1)[..., ::-1]
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


def sample_paths(emit: np.ndarray, switch: np.ndarray, draws: int, seed: int = config.SEED) -> np.ndarray:
    """[draw, sentence]: role paths (0 host, 1 guest) drawn from the decoder's posterior by
    forward filtering, backward sampling over the same (role, run) chain, with a fixed seed."""
    n = len(emit)
    if n == 0:
        return np.zeros((draws, 0), dtype=int)
    rng = np.random.default_rng(seed)
    alpha = np.zeros((n, 2, MAX_RUN))
    a = _init() * emit[0][:, None]
    alpha[0] = a / a.sum()
    for t in range(1, n):
        a = _step(alpha[t - 1], switch[t]) * emit[t][:, None]
        alpha[t] = a / a.sum()
    flat = alpha[-1].ravel()
    state = rng.choice(flat.size, size=draws, p=flat / flat.sum())
    role, run = state // MAX_RUN, state % MAX_RUN
    out = np.zeros((draws, n), dtype=int)
    out[:, -1] = role
    last = MAX_RUN - 1
    for t in range(n - 1, 0, -1):
        prev, sw = alpha[t - 1], switch[t]
        u = rng.random(draws)
        # a turn that started at t came from the other role, any run length j
        w = prev[1 - role] * sw[1 - role]  # [draw, j]
        cum = np.cumsum(w, axis=1)
        j = np.minimum((cum < (u * cum[:, -1])[:, None]).sum(axis=1), last)
        # a turn that goes on came from run - 1, or (the absorbing last run) from itself
        grow = prev[role, np.maximum(run - 1, 0)] * (1 - sw[role, np.maximum(run - 1, 0)])
        hold = np.where(run == last, prev[role, last] * (1 - sw[role, last]), 0.0)
        stays = np.where(u * (grow + hold) < hold, last, run - 1)
        started = run == 0
        role, run = np.where(started, 1 - role, role), np.where(started, j, stays)
        out[:, t - 1] = role
    return out


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
                      p_host: np.ndarray | None = None, posterior_switch: np.ndarray | None = None) -> pd.DataFrame:
    """``sents`` with ``pred_role`` (Viterbi on the references' turn model) and ``confidence``
    (posterior of that role at CONFIDENCE_POWER on the episode's own turn-taking,
    :func:`share_switch`, or ``posterior_switch`` when the caller has it). ``p_host``
    replaces the model's sentence scores (P(host) per sentence), so other sentence
    classifiers can be decoded the same way."""
    switch = switch_probabilities(model, sents, n_hosts)
    if p_host is None:
        p_host = model.p_host(sents["text"].tolist()) if len(sents) else np.zeros(0)
    if posterior_switch is None:
        posterior_switch = share_switch(model, sents, p_host, n_hosts)
    path = viterbi(emissions(p_host, sents["role"]), switch)
    post = posteriors(emissions(p_host, sents["role"], CONFIDENCE_POWER), posterior_switch)
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


def assign_labels(utts: pd.DataFrame, hosts: list[Person], guests: list[Person]) -> dict[str, tuple[Person | None, float]]:
    """One person per unresolved diarisation label (SPEAKER_00, Speaker A): the file already
    says which utterances one voice spoke, so they are decided together, not one by one.

    ``utts``: that episode's labelled, unresolved utterances with decoded ``pred_role`` and
    ``confidence``; ``hosts``, ``guests``: the catalog people no other label of the file
    already names. A label's host score is the word-weighted mean P(host) of its utterances.
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
    cand = ranked.head(len(hosts) + len(guests))
    host_labels = cand.sort_values("host", ascending=False, kind="stable").head(len(hosts)).index
    out: dict[str, tuple[Person | None, float]] = {label: (None, 0.0) for label in ranked.index}
    out.update({label: (p, float(cand.at[label, "host"])) for label, p in zip(host_labels, hosts)})
    guest_labels = [label for label in cand.index if label not in host_labels]
    out.update({label: (p, float(1 - cand.at[label, "host"])) for label, p in zip(guest_labels, guests)})
    return out


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
    """Sentences with the role their hand-made reference gives them, from every episode with a
    reference (``refs``) except ``exclude``. A file's own labels are never training data: they
    can be wrong (diarisation errors, catch-all labels), and a file that is added must not
    change the model. ``python -m analysis reference`` drafts a reference from trusted labels."""
    parts = []
    for ep in episodes:
        if ep.id == exclude or ep.id not in refs:
            continue
        u = utterances[utterances["episode_id"] == ep.id]
        sents = with_reference(sentences(u, ep), u, refs[ep.id])
        parts.append(sents[sents["role"].notna()])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["episode_id", "text", "role"])


_INPUT_COLUMNS = ["order", "source_file", "source_line", "raw_text", "text", "word_count", "is_conversation",
                  "speaker_label"]


def input_hashes(utterances: pd.DataFrame, episodes: list[Episode]) -> dict[str, str]:
    """Per episode: a hash of what attribution reads of it (text, file positions, the speakers
    the decoder takes as given, the catalog entry). Speakers the corpus stages filled in
    (model, rule) are left out, so the hash is the same before and after attribution."""
    out = {}
    by_episode = dict(list(utterances.groupby("episode_id", sort=False)))
    for ep in episodes:
        u = by_episode.get(ep.id, utterances.iloc[:0]).sort_values("order")
        given = u["speaker_source"].isin(CLAMPED_SOURCES)
        cols = u[_INPUT_COLUMNS].assign(given_id=u["speaker_id"].where(given), given_role=u["speaker_role"].where(given))
        out[ep.id] = content_hash(pd.util.hash_pandas_object(cols.astype(str), index=False).to_numpy().tobytes(),
                                  json.dumps(ep.raw, sort_keys=True, default=str))
    return out


def reference_files(episodes: list[Episode]) -> dict[str, bytes]:
    """Episode id -> bytes of its reference file, for the episodes that have one."""
    paths = {ep.id: reference.path_for(ep.id) for ep in episodes}
    return {e: p.read_bytes() for e, p in paths.items() if p.exists()}


def model_key(ref_files: dict[str, bytes], hashes: dict[str, str], exclude: str | None = None) -> str:
    """Version of the model trained on the references (:func:`reference_files`) but
    ``exclude``'s: their files, their episodes' inputs (:func:`input_hashes`), this code, the seed."""
    used = sorted(e for e in ref_files if e != exclude)
    return content_hash(*(f"{e}:{hashes[e]}:{content_hash(ref_files[e])}" for e in used), _CODE, str(config.SEED))


def reference_model(utterances: pd.DataFrame, episodes: list[Episode], exclude: str | None = None,
                    refs: dict[str, Reference] | None = None) -> tuple[SpeakerModel | None, str]:
    """(the model trained on every reference except ``exclude``'s, its :func:`model_key`),
    a versioned artifact in ``data/cache``; (None, key) when the references hold fewer than two
    roles. An episode with a reference is decoded by the model without it (what the
    evaluation measures); an episode without one by the model of all references. ``refs``:
    the loaded references, when the caller has them."""
    files = reference_files(episodes)
    key = model_key(files, input_hashes(utterances, [ep for ep in episodes if ep.id in files]), exclude)
    path = config.CACHE / f"speaker_model_{key}.pkl"
    if path.exists():
        try:
            with path.open("rb") as fh:
                return pickle.load(fh), key
        except (OSError, EOFError, AttributeError, pickle.UnpicklingError):  # unreadable entry: refit
            path.unlink(missing_ok=True)
    if refs is None:
        refs, _ = reference.load_references(episodes)  # unusable references are reported by the corpus build
    train = training_sentences(utterances, episodes, refs, exclude)
    model = fit(train) if len(train) and train["role"].nunique() == 2 else None
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        pickle.dump(model, fh)
    return model, key


def refusal_reason(conv: pd.DataFrame) -> str | None:
    """Why the text of an episode's conversation utterances cannot support attribution, or
    None: fewer than MIN_WORDS words, or fewer than one sentence mark (. ? !) per
    MAX_WORDS_PER_MARK words (auto-captions: the model reads sentences and questions)."""
    words = int(conv["word_count"].sum())
    if words < MIN_WORDS:
        return f"too little text ({words} words; at least {MIN_WORDS} needed)"
    marks = int(conv["text"].str.count(r"[.?!](?:\s|$)").sum())
    if marks * MAX_WORDS_PER_MARK < words:
        return (f"no sentence punctuation ({marks} sentence marks in {words} words; the model needs at least "
                f"one per {MAX_WORDS_PER_MARK} words)")
    return None


def either(people: list[Person]) -> Person:
    """The stand-in speaker when the text does not say which of several hosts (or guests) speaks."""
    return people[0] if len(people) == 1 else Person(" / ".join(p.name for p in people), people[0].role)


def either_host(episode: Episode) -> Person:
    """The stand-in speaker for a host turn when the text does not say which host speaks."""
    return either(episode.hosts)


@dataclass
class EpisodeAttribution:
    """What the attribution stage decided for one episode (cached by its inputs and model)."""

    speakers: pd.DataFrame  # index: utterance order; columns: SPEAKER_COLUMNS
    draws: pd.DataFrame  # DRAWS rows of its model-attributed utterances
    refused: str | None  # why the model was not used, when it was not


SPEAKER_COLUMNS = ["speaker_id", "speaker", "speaker_role", "speaker_source", "speaker_confidence"]


def _attribute_one(model: SpeakerModel | None, u: pd.DataFrame, ep: Episode) -> EpisodeAttribution:
    """Speakers for one episode's conversation utterances that have none (see attribute_stage)."""
    todo = u[u["is_conversation"] & (u["word_count"] > 0) & u["speaker_id"].isna()].sort_values("order")
    conv = u[u["is_conversation"] & (u["word_count"] > 0)].sort_values("order")
    refused = (refusal_reason(conv) or ("the catalog names no host or no guest" if not ep.hosts or not ep.guests
                                        else "no speaker references with both roles to train on" if model is None
                                        else None))
    if todo.empty:
        return EpisodeAttribution(pd.DataFrame(columns=SPEAKER_COLUMNS), DRAWS.empty(), None)
    if refused:
        rows = pd.DataFrame({"speaker_id": None, "speaker": todo["speaker_label"].to_numpy(), "speaker_role": "unknown",
                             "speaker_source": REFUSED, "speaker_confidence": None}, index=todo["order"].to_numpy())
        return EpisodeAttribution(rows[SPEAKER_COLUMNS], DRAWS.empty(), refused)
    sents = sentences(u, ep)
    p_host = model.p_host(sents["text"].tolist())
    post_switch = share_switch(model, sents, p_host, len(ep.hosts))
    per = to_utterances(attribute_episode(model, sents, len(ep.hosts), p_host, post_switch))
    conv = conv.assign(pred_role=per.loc[conv["order"], "pred_role"].to_numpy(),
                       confidence=per.loc[conv["order"], "confidence"].to_numpy())
    named_host = split_hosts(conv.assign(pred_role="host"), ep) if len(ep.hosts) > 1 else [ep.hosts[0]] * len(conv)
    is_todo = conv["order"].isin(todo["order"]).to_numpy()
    catch_all = conv["speaker_label"].map(lambda lab: isinstance(lab, str) and identity.is_catch_all(lab)).to_numpy()
    taken = set(conv.loc[~is_todo, "speaker_id"])
    by_label = assign_labels(conv[is_todo & conv["speaker_label"].notna().to_numpy() & ~catch_all],
                             [h for h in ep.hosts if h.id not in taken], [g for g in ep.guests if g.id not in taken])
    rows, one_by_one = {}, []
    for (_, c), todo_row, host in zip(conv.iterrows(), is_todo, named_host):
        if not todo_row:
            continue
        if c["speaker_label"] in by_label:
            person, conf = by_label[c["speaker_label"]]
        else:
            person, conf = (host or either(ep.hosts)) if c["pred_role"] == "host" else either(ep.guests), c["confidence"]
            one_by_one.append((int(c["order"]), host or either(ep.hosts), either(ep.guests)))
        rows[int(c["order"])] = ([None, c["speaker_label"], "unknown", "none", None] if person is None else
                                 [person.id, person.name, person.role, METHOD, round(float(conf), 4)])
    draws = sample_paths(emissions(p_host, sents["role"], CONFIDENCE_POWER), post_switch, N_DRAWS)
    host_w = pd.DataFrame((draws == 0).T * sents["words"].to_numpy()[:, None]).groupby(sents["order"].to_numpy()).sum()
    words = sents.groupby("order")["words"].sum()
    draw_rows = [{"episode_id": ep.id, "order": order, "host_speaker_id": h.id, "host_speaker": h.name,
                  "guest_speaker_id": g.id, "guest_speaker": g.name,
                  "draws": "".join(np.where(host_w.loc[order].to_numpy() * 2 >= words[order], "h", "g"))}
                 for order, h, g in one_by_one]
    return EpisodeAttribution(pd.DataFrame.from_dict(rows, orient="index", columns=SPEAKER_COLUMNS),
                              pd.DataFrame(draw_rows, columns=DRAWS.column_names), None)


def _episode_attribution(utterances: pd.DataFrame, episodes: list[Episode]) -> dict[str, EpisodeAttribution]:
    """Per episode, :func:`_attribute_one` behind a cache (``data/cache/attribution``) keyed
    by the episode's inputs, the version of the model that decodes it and this code: an
    episode whose inputs did not change is not decoded again."""
    files = reference_files(episodes)
    hashes = input_hashes(utterances, episodes)
    out = {}
    for ep in episodes:
        u = utterances[utterances["episode_id"] == ep.id]
        exclude = ep.id if ep.id in files else None
        key = content_hash(hashes[ep.id], model_key(files, hashes, exclude), _CODE)

        def decode(u=u, ep=ep, exclude=exclude):
            needs_model = (u["is_conversation"] & (u["word_count"] > 0) & u["speaker_id"].isna()).any()
            return _attribute_one(reference_model(utterances, episodes, exclude)[0] if needs_model else None, u, ep)

        out[ep.id] = keyed_pickle(config.CACHE / "attribution" / f"{ep.id}.pkl", key, decode)
    return out


def attribute_stage(utterances: pd.DataFrame, episodes: list[Episode]) -> pd.DataFrame:
    """Corpus stage: speakers for conversation utterances that have none. Per episode: a
    model trained on the hand-made references (never on its own reference: see
    :func:`reference_model`) decodes its sentences with the file's trusted labels clamped;
    a diarised voice (``SPEAKER_00``) is mapped to one person as a whole
    (:func:`assign_labels`), a catch-all label ("Unknown Speaker") and unlabelled speech
    utterance by utterance (source ``model``, confidence the decoder's posterior). Where the
    text cannot support attribution (:func:`refusal_reason`) the speakers stay unknown
    (source ``refused``; :func:`stage_report` says why)."""
    out = utterances.copy()
    for c in SPEAKER_COLUMNS:
        out[c] = out[c].astype(object)
    for ep_id, result in _episode_attribution(utterances, episodes).items():
        if result.speakers.empty:
            continue
        rows = out.index[out["episode_id"] == ep_id]
        idx = pd.Series(rows, index=out.loc[rows, "order"].to_numpy()).loc[result.speakers.index]
        out.loc[idx.to_numpy(), SPEAKER_COLUMNS] = result.speakers[SPEAKER_COLUMNS].to_numpy()
    return out


def stage_report(utterances: pd.DataFrame, episodes: list[Episode]) -> tuple[pd.DataFrame, list[str]]:
    """(the DRAWS table, one warning per episode whose speakers were refused), from the
    attribution stage's cache (run :func:`attribute_stage` first: the utterances may carry its output)."""
    results = _episode_attribution(utterances, episodes)
    draws = [r.draws for r in results.values() if len(r.draws)]
    warnings = [f"{ep}: speakers not attributed ({r.refused}); its unlabelled speech is left without a speaker "
                f"(speaker_source '{REFUSED}')" for ep, r in results.items() if r.refused]
    return (DRAWS.conform(pd.concat(draws, ignore_index=True)) if draws else DRAWS.empty()), warnings


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
