"""Attribute unlabelled speech to hosts and guests: a text-only host/guest sentence classifier
decoded jointly over the episode by a duration-aware hidden semi-Markov chain, trained on the
labelled corpus of other shows and the hand-made speaker references (never on a file's own labels).

Pipeline, per episode: split conversation utterances into sentences (:func:`sentences`), noting
the input shape (one block, paragraphs without names, caption cues, partly labelled voices);
score each sentence P(host | text) with a logistic regression on hand-built role-level
features, no topic words, so it transfers across shows (:class:`SpeakerModel`); decode the
whole sequence with forward-backward/Viterbi over states (role, sentences so far in the
turn), where the chance of a speaker change depends on the role, on how long the turn has
lasted (hazards learned per input shape and number of hosts), on the boundary text (a question
before, "Yeah," after; a second logistic regression) and, at an unlabelled turn mark, on how
often such marks change the role. Confidence is the decoder's posterior of the chosen role,
taken on the episode's own turn-taking where its text supports that (:func:`turn_offsets`); so
are the posterior draws. Where a role has several people, a turn is given to one of them only
when the text names the speaker (:func:`name_people`), else to "A / B".
The fitted models are committed as numbers (``data/speakers.model.json``, written by
``python -m analysis train-speakers``: :mod:`.training`); :func:`episode_model` picks the one
that decodes an episode (never one trained on its own reference). The corpus stage
(:func:`attribute_stage`) decodes each episode behind a per-episode cache, attributes catch-all
labels utterance by utterance, refuses text without punctuation or too short
(:func:`refusal_reason`), and keeps posterior draws of each decoded episode (:data:`DRAWS`,
forward filtering, backward sampling) from which talk shares get intervals.

Sentence tables (DataFrames) have columns: ``episode_id``, ``order`` (utterance),
``text`` (names masked; for caption cues the whole sentence the piece belongs to), ``words``,
``boundary`` (kind of boundary *before* the sentence: ``free``, ``mark`` (an unlabelled turn
mark), ``turn`` (a change of voice label) or ``within``), ``role`` (``host``/``guest`` when
known, else None), ``weight`` (the row's share of its sentence's evidence) and ``shape``.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from .. import clean, config
from ..catalog import Episode, Person
from ..ingest.text import sentences as sentence_texts
from ..io import content_hash, keyed_pickle
from ..schema import Column, Table, register
from . import identity, reference
from .reference import Reference

ROLES = ("host", "guest")  # state 0, state 1
MAX_RUN = 16  # sentences-in-turn states per role; the last one absorbs longer turns
EMISSION_POWER = 3.0  # weight of sentence evidence against the turn prior on the best path (chosen leave-one-show-out
#   on the corpus: 2 -> 64.6%, 3 -> 65.2%, 4 -> 65.3%, 5 -> 65.2% word accuracy on 62 episodes; the smallest within 0.5 points of the best)
CONFIDENCE_POWER = 1.0  # the same weight for the posterior reported as confidence (better calibrated)
FIRST_IS_HOST = 0.8  # P(the first sentence is the host's)
TURN_SWITCH = {1: 0.98, 2: 0.75}  # P(role changes at a change of voice label) for 1 host, for 2+ hosts
LABEL_TRUST = 0.95  # emission of a sentence whose speaker the file gives (labels can be noisy)
TURN_SEGMENTED = 1.5  # an unlabelled episode with more sentences per utterance than this marks turns
CAPTION_ENDS = 0.5  # an unlabelled episode with fewer utterances ending at a sentence mark is captions
SHAPES = ("unsegmented", "paragraphs", "captions", "labelled")  # input shapes (sentences' ``shape``)
SHAPE_WORDS = {"unsegmented": "unsegmented text", "paragraphs": "paragraphs without names",
               "captions": "caption cues without speakers", "labelled": "partly labelled voices"}
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
_HOSTING = re.compile(r"\b(?:(?:this is|i'm|i am|my name is)\s+hostname|welcome(?: back)? to|my guests?\b|our guests?\b|"
                      r"my co-?hosts?|thank(?:s| you) (?:so much )?(?:for|to) (?:coming|joining|being here|sitting)|"
                      r"today we're|today i'm|today my|joining us|(?:we're|i'm) joined by|thanks for listening|"
                      r"see you next (?:time|week)|that's (?:our|the) show)")
_GUESTING = re.compile(r"\b(?:thank(?:s| you)(?: so much)? for (?:having|inviting) (?:me|us)|appreciate you having me|"
                       r"(?:glad|happy|excited|thrilled|blessed|great|good|honou?red|delighted|fun) to be (?:here|on)|"
                       r"(?:i'm|i am) guestname|(?:this is|my name is) guestname)\b")
# A name said to someone: "So, Adam, ...", "..., Adam?", "thanks, Adam" (names masked as HOSTNAME/GUESTNAME).
_ADDRESS = {role: re.compile(rf"(?:^(?:\w+,\s*)?{role}name(?:\s{role}name)?\s*,|,\s*{role}name(?:\s{role}name)?\s*[.?!]*$|"
                             rf"\b(?:thanks|thank you|welcome|hey|hi),?\s+{role}name)") for role in ROLES}
# What interviewers do besides asking: sum up the answer, praise it, move on, speak of the show.
_INTERVIEWING = [re.compile(p) for p in (
    (r"\b(?:what i'm hearing|what you're saying|you're saying|just to make sure|so your (?:take|point|advice)|"
     r"quick summary|to summarize|in other words|it sounds like|sounds like you)"),
    (r"^(?:i love (?:that|this|it|how)|amazing|awesome|great (?:tip|point|answer|advice|story)|wow|fascinating|"
     r"that's (?:amazing|awesome|incredible|so cool|great|fascinating|interesting))"),
    (r"\b(?:(?:last|final|next|one more|another) question|let's (?:talk|move|shift|switch|dig|go back|come back)|"
     r"shifting gears|on the flip side|i want to (?:ask|talk|start|dig|double down)|i'd love to (?:hear|ask|talk)|"
     r"(?:can|could) you (?:talk|tell|share|walk|explain|describe)|before we (?:go|wrap|move)|coming back to)"),
    r"\b(?:(?:this|our) (?:podcast|show|episode)|listeners|folks listening|podcast guest)")]


def sentences(utterances: pd.DataFrame, episode: Episode, hide_labels: bool = False,
              turn_marks: bool = True) -> pd.DataFrame:
    """Sentence table of one episode's conversation utterances (see the module docstring).

    The file's utterance boundaries count as turn marks (``mark``: the speaker may change there)
    when it names no speakers and its utterances average more than TURN_SEGMENTED sentences
    (paragraphs, dash-separated turns), unless ``turn_marks`` is False. The input ``shape``
    (:data:`SHAPES`) is recorded on every row: ``paragraphs`` (turn marks), ``captions`` (most
    utterances end mid-sentence), ``unsegmented``, or ``labelled`` (the file labels voices). In a file that labels speakers, an utterance is one
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
    shape = ("labelled" if by_voice else "paragraphs" if turns else "captions" if _caption_like(conv["text"])
             else "unsegmented")
    rows = []
    for (_, u), known, voice in zip(conv.iterrows(), labelled, new_voice):
        for k, s in enumerate(sentence_texts(u["text"])):
            rows.append({"episode_id": episode.id, "order": int(u["order"]), "text": s, "words": len(s.split()),
                         "boundary": ("within" if (turns or by_voice) and k else "mark" if turns else "turn" if voice
                                      else "free"),
                         "role": u["speaker_role"] if known and not hide_labels else None, "weight": 1.0})
    if shape == "captions":
        _whole_sentences(rows)
    out = pd.DataFrame(rows, columns=["episode_id", "order", "text", "words", "boundary", "role", "weight"])
    out = out.assign(text=[_mask_names(t, episode) for t in out["text"]], shape=shape)
    if len(out):
        out.loc[0, "boundary"] = "free"
    return out


_SENTENCE_END = re.compile(r"[.?!][\"')\]]*$")


def _whole_sentences(rows: list[dict]) -> None:
    """Caption cues cut sentences: give each piece the text of the whole sentence it belongs to
    (read across cues), its share of that sentence's words as ``weight`` (the sentence's
    evidence counts once), and no change of speaker inside a sentence (``within``)."""
    start = 0
    for i, r in enumerate(rows):
        if _SENTENCE_END.search(r["text"]) or i == len(rows) - 1:
            group = rows[start:i + 1]
            whole = " ".join(g["text"] for g in group)
            total = max(sum(g["words"] for g in group), 1)
            for k, g in enumerate(group):
                g.update(text=whole, weight=g["words"] / total, boundary="within" if k else g["boundary"])
            start = i + 1


def _caption_like(texts: pd.Series) -> bool:
    """True when most utterances stop mid-sentence (caption cues), not at a sentence mark."""
    return len(texts) > 0 and float(texts.str.rstrip().str[-1:].isin(list(".?!\"')")).mean()) < CAPTION_ENDS


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


_HAND_FEATURES = ("ends_with_question", "has_question", "log_words", "you_rate", "i_rate", "we_rate", "answer_opening",
                  "continue_opening", "guest_named", "host_named", "hosting_phrase", "guesting_phrase",
                  "addresses_host", "addresses_guest")


def _hand_features(texts) -> np.ndarray:
    """One row of :data:`_HAND_FEATURES` per text."""
    rows = []
    for t in texts:
        low = t.lower().replace("hostname", " hostname ").replace("guestname", " guestname ")
        words = _WORD.findall(low)
        n = max(len(words), 1)
        first = words[0] if words else ""
        rows.append([t.rstrip().endswith("?"), "?" in t, np.log1p(len(words)),
                     sum(w in _YOU for w in words) / n, sum(w in _I for w in words) / n,
                     sum(w in _WE for w in words) / n, first in _ANSWER, first in _CONTINUE,
                     "guestname" in words, "hostname" in words, bool(_HOSTING.search(low)), bool(_GUESTING.search(low)),
                     bool(_ADDRESS["host"].search(low.strip())), bool(_ADDRESS["guest"].search(low.strip()))])
    return np.asarray(rows, dtype=float)


def _sentence_features(texts) -> np.ndarray:
    """:func:`_hand_features` plus one flag per interviewer move (:data:`_INTERVIEWING`). The
    last result is kept: decoding one episode asks for the same sentences several times."""
    texts = tuple(texts)
    if _LAST_FEATURES.get("texts") != texts:
        moves = [[bool(m.search(t.lower().strip())) for m in _INTERVIEWING] for t in texts]
        _LAST_FEATURES.update(texts=texts, x=np.hstack([_hand_features(texts),
                                                         np.asarray(moves, dtype=float).reshape(len(texts), -1)]))
    return _LAST_FEATURES["x"]


_LAST_FEATURES: dict = {}


def _boundary_features(prev: list[str], nxt: list[str]) -> np.ndarray:
    """Features of the boundary between sentence ``prev[i]`` and ``nxt[i]``: both sentences'
    :func:`_sentence_features` ("I love that." after an answer often starts the host's turn)."""
    return np.hstack([_sentence_features(prev), _sentence_features(nxt)])


def _logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass
class Logistic:
    """A standardised logistic regression, kept as plain numbers (see :meth:`to_dict`)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, balanced: bool) -> Logistic:
        scaler = StandardScaler().fit(x)
        clf = LogisticRegression(C=1.0, class_weight="balanced" if balanced else None, max_iter=2000,
                                 random_state=config.SEED).fit(scaler.transform(x), y)
        return cls(scaler.mean_, scaler.scale_, clf.coef_[0], float(clf.intercept_[0]))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """P(y = 1) per row of ``x``."""
        return 1 / (1 + np.exp(-(((x - self.mean) / self.scale) @ self.coef + self.intercept)))

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept}

    @classmethod
    def from_dict(cls, d: dict) -> Logistic:
        return cls(np.asarray(d["mean"]), np.asarray(d["scale"]), np.asarray(d["coef"]), float(d["intercept"]))


@dataclass
class SpeakerModel:
    """Fitted sentence classifier, boundary classifier, turn-length hazards per input shape and
    the chance of a change of role at an unlabelled turn mark."""

    sentence_clf: Logistic  # P(host | sentence features), class-balanced
    boundary_clf: Logistic  # P(the role changes | features of the sentences either side)
    boundary_base: float  # P(switch) at a free boundary in the training data
    hazard: dict[str, np.ndarray]  # "shape/hosts" -> [role, sentences so far - 1]: P(the turn ends after this sentence)
    mark_switch: dict[int, float]  # hosts (1, 2 for 2+) -> P(the role changes at a turn mark)

    def p_host(self, texts: list[str]) -> np.ndarray:
        """P(host | sentence), class-balanced (the decoder supplies the prior)."""
        texts = list(texts)
        return self.sentence_clf.predict(_sentence_features(texts)) if texts else np.zeros(0)

    def hazard_of(self, shape: str, n_hosts: int) -> np.ndarray:
        """Turn-end hazards for sentences of ``shape`` with ``n_hosts`` hosts (1, or 2 and more):
        captions have their own, other shapes the text's (:data:`HAZARD_SHAPES`)."""
        kind = "captions" if shape == "captions" else "unsegmented"
        return self.hazard[f"{kind}/{min(n_hosts, 2)}"]

    def to_dict(self) -> dict:
        """The model as JSON-ready numbers (the committed artifact holds it)."""
        return {"sentence": self.sentence_clf.to_dict(), "boundary": self.boundary_clf.to_dict(),
                "boundary_base": self.boundary_base, "hazard": {k: v.tolist() for k, v in sorted(self.hazard.items())},
                "mark_switch": {str(k): v for k, v in sorted(self.mark_switch.items())}}

    @classmethod
    def from_dict(cls, d: dict) -> SpeakerModel:
        return cls(Logistic.from_dict(d["sentence"]), Logistic.from_dict(d["boundary"]), float(d["boundary_base"]),
                   {k: np.asarray(v) for k, v in d["hazard"].items()},
                   {int(k): float(v) for k, v in d["mark_switch"].items()})


CLASSIFIER_SHAPES = ("unsegmented", "labelled")  # training sentences the classifiers learn from (others repeat them)
HAZARD_SHAPES = {"unsegmented": ("unsegmented", "labelled"), "captions": ("captions",)}  # hazard -> shapes counted


def fit(train: pd.DataFrame) -> SpeakerModel:
    """Fit a :class:`SpeakerModel` on labelled sentence tables (one or more episodes; columns of
    :func:`sentences` with ``role`` set, and ``n_hosts``, the episode's hosts). The classifiers learn from the CLASSIFIER_SHAPES rows
    (``paragraphs`` and ``captions`` renderings repeat the same words); each hazard from the
    episodes of its HAZARD_SHAPES with one host, or with two and more (turn-length priors per
    shape and cast), counted where the speaker may change; the turn-mark switch from ``mark`` boundaries, by hosts."""
    train = train[train["role"].isin(ROLES)]
    text_rows = train[train["shape"].isin(CLASSIFIER_SHAPES)]
    clf = Logistic.fit(_sentence_features(text_rows["text"].tolist()), (text_rows["role"] == "host").to_numpy(), True)
    prev, nxt, switch = [], [], []
    counts = {f"{h}/{n}": np.ones((2, MAX_RUN, 2)) for h in HAZARD_SHAPES for n in (1, 2)}  # [role, run, ended?], add-one
    marks = {1: [1, 2], 2: [1, 2]}  # hosts -> [switches, marks], with a weak (1 in 2) prior
    for _, ep in train.groupby("episode_id", sort=True):
        roles, texts, kinds = ep["role"].tolist(), ep["text"].tolist(), ep["boundary"].tolist()
        shape, hosts = ep["shape"].iloc[0], min(int(ep["n_hosts"].iloc[0]), 2)
        hazard = next((h for h, shapes in HAZARD_SHAPES.items() if shape in shapes), None)
        run = 0
        for i in range(len(roles) - 1):
            ended = roles[i + 1] != roles[i]
            if kinds[i + 1] == "mark":
                marks[hosts][0] += ended
                marks[hosts][1] += 1
            if hazard is not None and kinds[i + 1] == "free":  # where the decoder may change speaker
                counts[f"{hazard}/{hosts}"][ROLES.index(roles[i]), min(run, MAX_RUN - 1), int(ended)] += 1
                if shape in CLASSIFIER_SHAPES:
                    prev.append(texts[i]), nxt.append(texts[i + 1]), switch.append(ended)
            run = 0 if ended else run + 1
    boundary = Logistic.fit(_boundary_features(prev, nxt), np.asarray(switch), False)
    return SpeakerModel(clf, boundary, float(np.mean(switch)),
                        {h: c[:, :, 1] / c.sum(axis=2) for h, c in counts.items()},
                        {h: n / d for h, (n, d) in marks.items()})


def switch_probabilities(model: SpeakerModel, sents: pd.DataFrame, n_hosts: int = 1,
                         offsets: tuple[float, float] = (0.0, 0.0), mark: float | None = None) -> np.ndarray:
    """[boundary before sentence t, role, run]: P(the role changes there). ``offsets``
    (host, guest) are added to the logit of the turn-end hazards at free boundaries
    (:func:`turn_offsets` fits them to one episode); ``mark`` replaces the model's chance of a
    change of role at a turn mark (:func:`mark_rate` fits it)."""
    n = len(sents)
    out = np.zeros((n, 2, MAX_RUN))
    if n < 2:
        return out
    free = 1 / (1 + np.exp(-(_free_logits(model, sents, n_hosts) + np.asarray(offsets, dtype=float)[None, :, None])))
    kinds = sents["boundary"].to_numpy()[1:]
    out[1:] = np.where((kinds == "free")[:, None, None], free, 0.0)
    for kind in ("turn", "mark"):
        out[1:][kinds == kind] = mark if kind == "mark" and mark is not None else _fixed_switch(model, kind, n_hosts)
    return out


def _fixed_switch(model: SpeakerModel, kind: str, n_hosts: int) -> float:
    """P(the role changes) at a boundary that is not free: a change of voice label
    (TURN_SWITCH), an unlabelled turn mark (learned: a long turn may span several marks), or
    within an utterance (0)."""
    if kind == "turn":
        return TURN_SWITCH[min(n_hosts, 2)]
    return model.mark_switch[min(n_hosts, 2)] if kind == "mark" else 0.0


def _free_logits(model: SpeakerModel, sents: pd.DataFrame, n_hosts: int) -> np.ndarray:
    """[boundary before sentence t >= 1, role, run]: logit P(the speaker changes) at a free
    boundary: the turn-end hazard shifted by the boundary classifier's evidence."""
    x = _sentence_features(sents["text"].tolist())
    shift = _logit(model.boundary_clf.predict(np.hstack([x[:-1], x[1:]]))) - _logit(model.boundary_base)
    shape = sents["shape"].iloc[0] if len(sents) else "unsegmented"
    return _logit(model.hazard_of(shape, n_hosts))[None] + shift[:, None, None]


def _grid_loglik(model: SpeakerModel, sents: pd.DataFrame, emit: np.ndarray, n_hosts: int,
                 offsets: np.ndarray, marks: np.ndarray) -> np.ndarray:
    """[G]: log-likelihood of the episode's sentences (given ``emit``) under each of G turn
    models: hazard offsets ``offsets`` [G, role] at free boundaries, change-of-role chance
    ``marks`` [G] at turn marks. Forward pass, all G chains at once."""
    kinds = sents["boundary"].to_numpy()
    logits = _free_logits(model, sents, n_hosts)
    a = np.repeat((_init() * emit[0][:, None])[None], len(offsets), axis=0)
    loglik = np.log(a.sum(axis=(1, 2)))
    a /= a.sum(axis=(1, 2), keepdims=True)
    for t in range(1, len(sents)):
        if kinds[t] == "free":
            sw = 1 / (1 + np.exp(-(logits[t - 1][None] + offsets[:, :, None])))
        elif kinds[t] == "mark":
            sw = marks[:, None, None]
        else:
            sw = _fixed_switch(model, kinds[t], n_hosts)
        a = _step(a, sw) * emit[t][None, :, None]
        z = a.sum(axis=(1, 2))
        loglik += np.log(z)
        a /= z[:, None, None]
    return loglik


def turn_offsets(model: SpeakerModel, sents: pd.DataFrame, emit: np.ndarray, n_hosts: int = 1,
                 mark: float | None = None) -> tuple[float, float]:
    """The episode's own turn-taking: (host, guest) offsets to the logit of the turn-end
    hazards, the maximum a posteriori point on the grid OFFSET_GRID under a normal prior
    (sd OFFSET_PRIOR_SD) and the likelihood of the episode's sentences given ``emit``
    (at CONFIDENCE_POWER; class-balanced probabilities are likelihoods up to a factor that
    is the same for every path), turn marks at ``mark`` (default: the model's). How long a
    guest answers and how often a host cuts in differ from show to show; the training data give
    the shape, the episode's text the level. The offsets are kept only where they improve the
    log-likelihood by more than the BIC penalty of two parameters (ln of the number of free
    boundaries): on a short episode, or where the sentence scores mislead, adapting the turn
    model amplifies their errors. (0, 0) otherwise, and where the episode has no free boundaries."""
    kinds = sents["boundary"].to_numpy()
    if len(sents) < 2 or not (kinds[1:] == "free").any():
        return 0.0, 0.0
    grid = np.array([(h, g) for h in OFFSET_GRID for g in OFFSET_GRID])  # [G, role]
    mark = _fixed_switch(model, "mark", n_hosts) if mark is None else mark
    loglik = _grid_loglik(model, sents, emit, n_hosts, grid, np.full(len(grid), mark))
    best = int(np.argmax(loglik - (grid ** 2).sum(axis=1) / (2 * OFFSET_PRIOR_SD ** 2)))
    none = int(np.flatnonzero((grid == 0).all(axis=1))[0])
    if loglik[best] - loglik[none] <= np.log((kinds[1:] == "free").sum()):  # BIC, 2 parameters: not worth it
        return 0.0, 0.0
    return float(grid[best, 0]), float(grid[best, 1])


def mark_rate(model: SpeakerModel, sents: pd.DataFrame, emit: np.ndarray, n_hosts: int = 1) -> float:
    """The episode's chance of a change of role at a turn mark. Files mark turns in two ways: a
    mark per change of speaker (a dash per turn, as Latent Space: the role changes there as at a
    change of voice label, TURN_SWITCH, nearly always with one host, three times in four with two)
    or a mark per paragraph (a long turn has several: the rate learned on the labelled corpus). A
    per-turn rate is taken where it explains the episode's sentences (``emit``) better by more
    than the BIC penalty of one parameter (half the ln of the number of marks); else the learned rate. (A free rate fitted per episode drifted to the grid's edge on
    paragraph marks and lowered their accuracy.)"""
    kinds = sents["boundary"].to_numpy()
    learned = _fixed_switch(model, "mark", n_hosts)
    n_marks = int((kinds[1:] == "mark").sum())
    if n_marks < 2:
        return learned
    marks = np.array([learned, *sorted(set(TURN_SWITCH.values()))])
    loglik = _grid_loglik(model, sents, emit, n_hosts, np.zeros((len(marks), 2)), marks)
    best = int(np.argmax(loglik))
    return float(marks[best]) if loglik[best] - loglik[0] > 0.5 * np.log(n_marks) else learned


def turn_model(model: SpeakerModel, sents: pd.DataFrame, p_host: np.ndarray,
               n_hosts: int = 1) -> tuple[np.ndarray, np.ndarray, dict]:
    """(the chain the best path is decoded on, the chain the posterior, its confidences and
    draws are taken on, what was fitted to the episode): both use the episode's own
    :func:`mark_rate`; the posterior's also its own :func:`turn_offsets`."""
    emit = emissions(p_host, sents, CONFIDENCE_POWER)
    mark = mark_rate(model, sents, emit, n_hosts)
    offsets = turn_offsets(model, sents, emit, n_hosts, mark)
    best = switch_probabilities(model, sents, n_hosts, mark=mark)
    post = switch_probabilities(model, sents, n_hosts, offsets, mark) if any(offsets) else best
    return best, post, {"mark_switch": mark, "turn_offsets": list(offsets)}


def emissions(p_host: np.ndarray, sents: pd.DataFrame, power: float = EMISSION_POWER) -> np.ndarray:
    """[sentence, role]: likelihoods, the classifier's P(host) to ``power`` (times each row's
    ``weight``: a caption piece carries its share of its sentence's evidence); sentences whose
    role is known (``role`` host/guest) are clamped to LABEL_TRUST."""
    weight = sents["weight"].to_numpy(dtype=float) if "weight" in sents else np.ones(len(p_host))
    e = np.stack([p_host, 1 - p_host], axis=1) ** (power * weight[:, None])
    roles = sents["role"]
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


def attribute_episode(model: SpeakerModel, sents: pd.DataFrame, n_hosts: int = 1, p_host: np.ndarray | None = None,
                      switches: tuple[np.ndarray, np.ndarray] | None = None) -> pd.DataFrame:
    """``sents`` with ``pred_role`` (Viterbi) and ``confidence`` (posterior of that role at
    CONFIDENCE_POWER), on the chains of :func:`turn_model` or ``switches`` (best path,
    posterior) when the caller has them. ``p_host`` replaces the model's sentence scores
    (P(host) per sentence), so other sentence classifiers can be decoded the same way."""
    if p_host is None:
        p_host = model.p_host(sents["text"].tolist()) if len(sents) else np.zeros(0)
    best, post_switch = switches if switches is not None else turn_model(model, sents, p_host, n_hosts)[:2]
    path = viterbi(emissions(p_host, sents), best)
    post = posteriors(emissions(p_host, sents, CONFIDENCE_POWER), post_switch)
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


NAMING_RULES = ("only", "introduction", "addressed")  # how name_people named someone


def name_people(utts: pd.DataFrame, episode: Episode, role: str) -> list[tuple[Person | None, str | None]]:
    """Which of the episode's people of ``role`` says each utterance of ``utts`` (columns
    ``text``, ``pred_role``) the model gives that role, with the rule that says so
    (:data:`NAMING_RULES`), in order; (None, None) for the others and where the text does not
    settle it.

    Only direct evidence names someone: the only person of the role (``only``); a
    self-introduction ("This is Alessio") names the speaker (``introduction``); one of two
    people of the role named in the utterance ("my co-host swyx", "Alessio, ...") makes the
    speaker the other (``addressed``). Measured across shows (``evaluate-speakers``), these name
    the right person 88% and 96% of the time; giving the opening host utterance to the catalog's
    first host was right 38% of the time, and alternation and continuity rules named the right
    Latent Space host no more often than chance, so none of those is used."""
    people = episode.hosts if role == "host" else episode.guests
    out: list[tuple[Person | None, str | None]] = []
    for text, pred in zip(utts["text"], utts["pred_role"]):
        who: tuple[Person | None, str | None] = (None, None)
        if pred == role and people:
            speaking, named = identity.named_people(text, episode)
            if len(people) == 1:
                who = (people[0], "only")
            elif speaking in people:
                who = (speaking, "introduction")
            elif named in people and len(people) == 2:
                who = (next(p for p in people if p != named), "addressed")
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


def load_artifact(path: Path | None = None) -> dict | None:
    """The committed speaker model (``config.SPEAKER_MODEL``, written by ``python -m analysis
    train-speakers``) as a dict, or None when the file is absent. Raises ValueError naming the
    file when it is unreadable or its features are not this code's."""
    path = Path(path or config.SPEAKER_MODEL)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    key = (str(path), content_hash(data))
    if key not in _ARTIFACTS:
        try:
            artifact = json.loads(data)
        except ValueError as exc:
            raise ValueError(f"{path}: not a speaker model ({exc}); retrain with `python -m analysis train-speakers`") from exc
        if artifact.get("format") != ARTIFACT_FORMAT or artifact.get("features") != feature_names():
            raise ValueError(f"{path}: made for other features (format {artifact.get('format')!r}); retrain it with "
                             "`python -m analysis train-speakers`")
        _ARTIFACTS.clear()
        _ARTIFACTS[key] = artifact
    return _ARTIFACTS[key]


_ARTIFACTS: dict = {}
ARTIFACT_FORMAT = 1  # version of the artifact's layout


def feature_names() -> list[str]:
    """Names of the sentence features, in :func:`_sentence_features` order (the artifact lists them)."""
    return list(_HAND_FEATURES) + [f"move_{k}" for k in range(len(_INTERVIEWING))]


def episode_model(episode_id: str, ref_bytes: bytes | None = None) -> tuple[SpeakerModel | None, str, str]:
    """(the committed model that decodes ``episode_id``, its name in the artifact, its version): for an episode whose
    reference the artifact was trained on (same id, or the same reference file ``ref_bytes``),
    the model trained without that reference, so what is shown is what the evaluation measures;
    for any other episode the model of the corpus and all references (``all``). (None, "none",
    "none") without an artifact."""
    artifact = load_artifact()
    if artifact is None:
        return None, "none", "none"
    ref_hash = hashlib.sha256(ref_bytes).hexdigest() if ref_bytes is not None else None
    name = next((n for n, m in sorted(artifact["models"].items()) if m["without"] is not None
                 and (m["without"] == episode_id or m["reference_sha256"] == ref_hash)), "all")
    entry = artifact["models"][name]
    version = content_hash(json.dumps(entry, sort_keys=True))
    if version not in _MODELS:
        _MODELS[version] = SpeakerModel.from_dict(entry["model"])
    return _MODELS[version], name, version


_MODELS: dict[str, SpeakerModel] = {}


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


def cast_class(hosts: int, guests: int) -> str:
    """'1 host, 2+ guests' and the like: the casts the cross-show figures are given for."""
    return f"{'1 host' if hosts == 1 else '2+ hosts'}, {'1 guest' if guests == 1 else '2+ guests'}"


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
    shape: str | None = None  # the input shape the model decoded (SHAPES); None when it was not used
    model: str | None = None  # the artifact's model that decoded it


ATTRIBUTED = register(Table("speaker_attribution", "Per episode whose speech the attribution model decoded or "
                            "refused: the input shape it read, the cast and which committed model decoded it.", (
    Column("episode_id", "str", "Episode slug."),
    Column("shape", "str", "Input shape the model read: 'unsegmented' (one block), 'paragraphs' (turn marks without "
           "names), 'captions' (cues that end mid-sentence) or 'labelled' (the file labels some voices); null when "
           "refused.", nullable=True, allowed=SHAPES),
    Column("hosts", "int", "Hosts in the catalog."),
    Column("guests", "int", "Guests in the catalog."),
    Column("model", "str", "The committed model that decoded it: 'all' (trained on the labelled corpus and every "
           "reference) or 'without:<episode id>' (the same without that episode's reference); null when refused.",
           nullable=True),
    Column("refused", "str", "Why the model was not used; null when it was.", nullable=True),
), key=("episode_id",)))

SPEAKER_COLUMNS = ["speaker_id", "speaker", "speaker_role", "speaker_source", "speaker_confidence"]


def _attribute_one(model: SpeakerModel | None, u: pd.DataFrame, ep: Episode, name: str | None = None) -> EpisodeAttribution:
    """Speakers for one episode's conversation utterances that have none (see attribute_stage)."""
    todo = u[u["is_conversation"] & (u["word_count"] > 0) & u["speaker_id"].isna()].sort_values("order")
    conv = u[u["is_conversation"] & (u["word_count"] > 0)].sort_values("order")
    refused = (refusal_reason(conv) or ("the catalog names no host or no guest" if not ep.hosts or not ep.guests
                                        else f"no speaker model ({config.SPEAKER_MODEL} is missing: run `python -m "
                                             "analysis train-speakers`)" if model is None
                                        else None))
    if todo.empty:
        return EpisodeAttribution(pd.DataFrame(columns=SPEAKER_COLUMNS), DRAWS.empty(), None)
    if refused:
        rows = pd.DataFrame({"speaker_id": None, "speaker": todo["speaker_label"].to_numpy(), "speaker_role": "unknown",
                             "speaker_source": REFUSED, "speaker_confidence": None}, index=todo["order"].to_numpy())
        return EpisodeAttribution(rows[SPEAKER_COLUMNS], DRAWS.empty(), refused)
    sents = sentences(u, ep)
    p_host = model.p_host(sents["text"].tolist())
    best, post_switch, _ = turn_model(model, sents, p_host, len(ep.hosts))
    per = to_utterances(attribute_episode(model, sents, len(ep.hosts), p_host, (best, post_switch)))
    conv = conv.assign(pred_role=per.loc[conv["order"], "pred_role"].to_numpy(),
                       confidence=per.loc[conv["order"], "confidence"].to_numpy())
    named_host = [p for p, _ in name_people(conv.assign(pred_role="host"), ep, "host")]
    named_guest = [p for p, _ in name_people(conv.assign(pred_role="guest"), ep, "guest")]
    is_todo = conv["order"].isin(todo["order"]).to_numpy()
    catch_all = conv["speaker_label"].map(lambda lab: isinstance(lab, str) and identity.is_catch_all(lab)).to_numpy()
    taken = set(conv.loc[~is_todo, "speaker_id"])
    by_label = assign_labels(conv[is_todo & conv["speaker_label"].notna().to_numpy() & ~catch_all],
                             [h for h in ep.hosts if h.id not in taken], [g for g in ep.guests if g.id not in taken])
    rows, one_by_one = {}, []
    for (_, c), todo_row, host, guest in zip(conv.iterrows(), is_todo, named_host, named_guest):
        if not todo_row:
            continue
        host, guest = host or either(ep.hosts), guest or either(ep.guests)
        if c["speaker_label"] in by_label:
            person, conf = by_label[c["speaker_label"]]
        else:
            person, conf = host if c["pred_role"] == "host" else guest, c["confidence"]
            one_by_one.append((int(c["order"]), host, guest))
        rows[int(c["order"])] = ([None, c["speaker_label"], "unknown", "none", None] if person is None else
                                 [person.id, person.name, person.role, METHOD, round(float(conf), 4)])
    draws = sample_paths(emissions(p_host, sents, CONFIDENCE_POWER), post_switch, N_DRAWS)
    host_w = pd.DataFrame((draws == 0).T * sents["words"].to_numpy()[:, None]).groupby(sents["order"].to_numpy()).sum()
    words = sents.groupby("order")["words"].sum()
    draw_rows = [{"episode_id": ep.id, "order": order, "host_speaker_id": h.id, "host_speaker": h.name,
                  "guest_speaker_id": g.id, "guest_speaker": g.name,
                  "draws": "".join(np.where(host_w.loc[order].to_numpy() * 2 >= words[order], "h", "g"))}
                 for order, h, g in one_by_one]
    return EpisodeAttribution(pd.DataFrame.from_dict(rows, orient="index", columns=SPEAKER_COLUMNS),
                              pd.DataFrame(draw_rows, columns=DRAWS.column_names), None, sents["shape"].iloc[0], name)


def _episode_attribution(utterances: pd.DataFrame, episodes: list[Episode]) -> dict[str, EpisodeAttribution]:
    """Per episode, :func:`_attribute_one` behind a cache (``data/cache/attribution``) keyed
    by the episode's inputs, the version of the committed model that decodes it
    (:func:`episode_model`) and this code: an episode whose inputs did not change is not decoded again."""
    files = reference_files(episodes)
    hashes = input_hashes(utterances, episodes)
    out = {}
    for ep in episodes:
        u = utterances[utterances["episode_id"] == ep.id]
        model, name, version = episode_model(ep.id, files.get(ep.id))
        key = content_hash(hashes[ep.id], version, _CODE)
        out[ep.id] = keyed_pickle(config.CACHE / "attribution" / f"{ep.id}.pkl", key,
                                  lambda u=u, ep=ep, model=model, name=name: _attribute_one(model, u, ep, name))
    return out


def attribute_stage(utterances: pd.DataFrame, episodes: list[Episode]) -> pd.DataFrame:
    """Corpus stage: speakers for conversation utterances that have none. Per episode: a
    committed model (never one trained on its own reference: see :func:`episode_model`) decodes its sentences with the file's trusted labels clamped;
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


def stage_report(utterances: pd.DataFrame, episodes: list[Episode]) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """(the DRAWS table, the ATTRIBUTED table, one warning per episode whose speakers were
    refused), from the attribution stage's cache (run :func:`attribute_stage` first: the
    utterances may carry its output)."""
    results = _episode_attribution(utterances, episodes)
    draws = [r.draws for r in results.values() if len(r.draws)]
    cast = {ep.id: (len(ep.hosts), len(ep.guests)) for ep in episodes}
    decided = pd.DataFrame([{"episode_id": e, "shape": r.shape, "hosts": cast[e][0], "guests": cast[e][1],
                             "model": r.model, "refused": r.refused}
                            for e, r in results.items() if r.shape or r.refused], columns=ATTRIBUTED.column_names)
    warnings = [f"{ep}: speakers not attributed ({r.refused}); its unlabelled speech is left without a speaker "
                f"(speaker_source '{REFUSED}')" for ep, r in results.items() if r.refused]
    return ((DRAWS.conform(pd.concat(draws, ignore_index=True)) if draws else DRAWS.empty()),
            ATTRIBUTED.conform(decided) if len(decided) else ATTRIBUTED.empty(), warnings)


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
