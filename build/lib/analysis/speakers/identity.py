"""Resolve speaker labels as written in a file to people in the catalog.

Order of evidence: a catalog correction (``speaker_labels``), the label naming a host or
guest, a self-introduction or greeting in the label's own text for generic labels
(``SPEAKER_00``, ``Speaker A``), else the label is kept as an unresolved speaker. A catch-all
label (Otter's ``Unknown Speaker``, ``Unknown``, ``Speaker ?``) holds several voices, so no
evidence maps it to one person: its utterances are attributed one by one, or not at all.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from ..catalog import Episode, Person, slugify

# How a speaker was determined. "reference": the file's label corrected by a hand-made reference
# (see reference.correct_labels); "rule": flagged speech assigned by a documented rule (see
# attribution.attribute_flagged); "refused": the text cannot support attribution (no sentence
# punctuation, too little text; the corpus report says why); "none": no speaker (non-speech
# cues, ASR loops, unresolved).
SOURCES = ("file_label", "catalog_correction", "introduction", "reference", "model", "rule", "refused", "none")
GENERIC = re.compile(
    r"^(?:SPEAKER[ _]?\d{1,3}|Speaker(?: ?[A-Z0-9]{1,3})?|Unknown(?: Speaker)?|Unidentified(?: Speaker)?|"
    r"Spk[ _]?\d{1,3}|S\d{1,2}|Interviewer|Interviewee|Host|Guest|Narrator)$", re.IGNORECASE)


@dataclass(frozen=True)
class Resolution:
    speaker_id: str | None  # person slug; None when unresolved
    speaker: str | None  # display name, or the generic label when unresolved
    role: str  # host | guest | unknown
    source: str  # one of SOURCES
    confidence: float | None  # 0..1; None when there is no speaker at all


NO_SPEAKER = Resolution(None, None, "unknown", "none", None)


# Labels for whoever the tool could not tell apart: several voices, never one person.
CATCH_ALL = re.compile(
    r"^(?:Unknown(?: Speakers?)?|Unidentified(?: Speakers?)?|Speaker ?\?+|\?+|Speakers?|Multiple Speakers|"
    r"Various(?: Speakers)?|Crosstalk|Everyone|All|Audience|Others?)$", re.IGNORECASE)


def is_generic(label: str) -> bool:
    return bool(GENERIC.match(label.strip()) or CATCH_ALL.match(label.strip()))


def is_catch_all(label: str) -> bool:
    return bool(CATCH_ALL.match(label.strip()))


def _as(person: Person, source: str, confidence: float) -> Resolution:
    return Resolution(person.id, person.name, person.role, source, confidence)


def match_person(name: str, episode: Episode) -> Person | None:
    """The host or guest ``name`` refers to: full name, or a first or last name unique among them."""
    exact = episode.person(name)
    if exact:
        return exact
    key = slugify(name)
    hits = [p for p in episode.people if key and key in slugify(p.name).split("-")]
    return hits[0] if len(hits) == 1 else None


def introductions(texts_by_label: dict[str, list[str]], episode: Episode) -> dict[str, Person]:
    """Generic labels resolved from their own text (:func:`named_people`), catch-alls never.

    Every utterance of a label where one person introduces themself ("I'm X") is a vote for
    X; a label takes the person with most of its votes, if no other label has more votes for
    that person (ties: nobody). "Welcome X" / "thanks, X" names the other voice when exactly
    two labels speak and that voice introduced no one."""
    votes: dict[str, Counter] = {}
    addressed: dict[str, Person] = {}
    labels = [lab for lab in texts_by_label if not is_catch_all(lab)]
    for label in labels:
        votes[label] = Counter()
        for text in texts_by_label[label]:
            speaking, other = named_people(text, episode)
            if speaking:
                votes[label][speaking] += 1
            if other and label not in addressed:
                addressed[label] = other
    found: dict[str, Person] = {}
    for label, counts in votes.items():
        ranked = counts.most_common(2)
        if not ranked or (len(ranked) > 1 and ranked[1][1] == ranked[0][1]):
            continue
        person, n = ranked[0]
        rivals = [votes[other][person] for other in labels if other != label]
        if all(n > r for r in rivals):
            found[label] = person
    if len(labels) == 2:
        for label, person in addressed.items():
            other = labels[1 - labels.index(label)]
            if other not in found and person not in found.values():
                found[other] = person
    return found


def _longest_match(words: str, episode: Episode) -> Person | None:
    parts = words.split()
    for k in range(len(parts), 0, -1):
        person = match_person(" ".join(parts[:k]), episode)
        if person:
            return person
    return None


def resolve_labels(texts_by_label: dict[str, list[str]], episode: Episode) -> tuple[dict[str, Resolution], list[str]]:
    """Map each label in the file to a :class:`Resolution`; return it with warnings."""
    out: dict[str, Resolution] = {}
    warnings: list[str] = []
    generic = {lab: txt for lab, txt in texts_by_label.items() if is_generic(lab)}
    introduced = introductions(generic, episode) if generic else {}
    for label in texts_by_label:
        corrected = episode.speaker_labels.get(label)
        if corrected:
            out[label] = _as(episode.person(corrected), "catalog_correction", 1.0)
        elif label in introduced:
            out[label] = _as(introduced[label], "introduction", 0.9)
        elif is_catch_all(label):
            out[label] = Resolution(None, label, "unknown", "none", None)
            warnings.append(f"{episode.id}: catch-all label {label!r} holds several voices; its utterances are "
                            "attributed one by one by the model, or left unknown")
        elif is_generic(label):
            out[label] = Resolution(None, label, "unknown", "none", None)
            warnings.append(f"{episode.id}: generic label {label!r} not resolved by the catalog or an "
                            "introduction (the attribution model maps it to a host or guest where it can)")
        elif (person := match_person(label, episode)):
            out[label] = _as(person, "file_label", 1.0)
        else:
            out[label] = Resolution(slugify(label), label, "unknown", "file_label", 0.8)
            warnings.append(f"{episode.id}: speaker {label!r} is not a host or guest in the catalog")
    return out, warnings



_NAME = r"([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?|swyx)"  # a capitalised name (swyx writes his in lower case)
_SPEAKER_NAMED = re.compile(rf"\b(?i:I am|I'm|this is|my name is|it's)\s+{_NAME}")
_SELF_NAMED = re.compile(rf"\b(?i:I am|I'm|my name is)\s+{_NAME}")  # a name not in the catalog still is someone
_OTHER_NAMED = re.compile(
    rf"\b(?i:welcome|thank you|thanks|my co-?host|our co-?host|my guest is|joined by),?\s+(?:(?i:to the \w+),?\s+)?{_NAME}"
    rf"|^{_NAME},|,\s*{_NAME}[.!?]*$|{_NAME},\s+(?i:welcome|thank you|thanks)")


def named_people(text: str, episode: Episode) -> tuple[Person | None, Person | None]:
    """(the person ``text`` says is speaking, a person it addresses or presents), from one
    utterance: "This is Alessio" / "I'm X" name the speaker; "welcome X", "thank you X",
    "X, ...", "..., X.", "X, welcome" and "my co-host X" name someone else. Either may be None.
    Two different people introduced in one utterance ("I'm Kelly. I'm Allie.": a file that
    merged two voices) name no speaker."""
    intros = [m.group(1) for m in _SPEAKER_NAMED.finditer(text)]
    people = {p for name in intros if (p := _longest_match(name, episode))}
    strangers = {name.split()[0] for m in _SELF_NAMED.finditer(text) if not _longest_match(name := m.group(1), episode)}
    speaking = next(iter(people)) if len(people) == 1 and not strangers else None
    for m in _OTHER_NAMED.finditer(text):
        person = _longest_match(next(g for g in m.groups() if g), episode)
        if person and person != speaking:
            return speaking, person
    return speaking, None
