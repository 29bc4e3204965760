"""Resolve speaker labels as written in a file to people in the catalog.

Order of evidence: a catalog correction (``speaker_labels``), the label naming a host or
guest, a self-introduction or greeting in the text for generic labels (``SPEAKER_00``,
``Speaker A``, ``Unknown``), else the label is kept as an unresolved speaker.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..catalog import Episode, Person, slugify

# How a speaker was determined. "reference": the file's label corrected by a hand-made reference
# (see reference.correct_labels); "rule": flagged speech assigned by a documented rule (see
# attribution.attribute_flagged); "none": no speaker (non-speech cues, ASR loops, unresolved).
SOURCES = ("file_label", "catalog_correction", "introduction", "reference", "model", "rule", "none")
GENERIC = re.compile(
    r"^(?:SPEAKER[ _]?\d{1,3}|Speaker(?: ?[A-Z0-9]{1,3})?|Unknown(?: Speaker)?|Unidentified(?: Speaker)?|"
    r"Spk ?\d{1,3}|S\d{1,2}|Interviewer|Interviewee|Host|Guest|Narrator)$", re.IGNORECASE)


@dataclass(frozen=True)
class Resolution:
    speaker_id: str | None  # person slug; None when unresolved
    speaker: str | None  # display name, or the generic label when unresolved
    role: str  # host | guest | unknown
    source: str  # one of SOURCES
    confidence: float | None  # 0..1; None when there is no speaker at all


NO_SPEAKER = Resolution(None, None, "unknown", "none", None)


def is_generic(label: str) -> bool:
    return bool(GENERIC.match(label.strip()))


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
    """Generic labels resolved from what they say (:func:`named_people`): "I'm X" names the
    speaker; "welcome X" names the other person when exactly two labels speak."""
    found: dict[str, Person] = {}
    addressed: dict[str, Person] = {}
    for label, texts in texts_by_label.items():
        for text in texts[:5]:  # introductions happen early
            speaking, other = named_people(text, episode)
            if speaking and label not in found:
                found[label] = speaking
            if other and label not in addressed:
                addressed[label] = other
    labels = list(texts_by_label)
    if len(labels) == 2:
        for label, person in addressed.items():
            other = labels[1 - labels.index(label)]
            if other not in found and found.get(label) != person:
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
_OTHER_NAMED = re.compile(
    rf"\b(?i:welcome|thank you|thanks|my co-?host|our co-?host|my guest is|joined by),?\s+(?:(?i:to the \w+),?\s+)?{_NAME}"
    rf"|^{_NAME},|,\s*{_NAME}[.!?]*$|{_NAME},\s+(?i:welcome|thank you|thanks)")


def named_people(text: str, episode: Episode) -> tuple[Person | None, Person | None]:
    """(the person ``text`` says is speaking, a person it addresses or presents), from one
    utterance: "This is Alessio" / "I'm X" name the speaker; "welcome X", "thank you X",
    "X, ...", "..., X.", "X, welcome" and "my co-host X" name someone else. Either may be None."""
    speaking = next((p for m in _SPEAKER_NAMED.finditer(text) if (p := _longest_match(m.group(1), episode))), None)
    for m in _OTHER_NAMED.finditer(text):
        person = _longest_match(next(g for g in m.groups() if g), episode)
        if person and person != speaking:
            return speaking, person
    return speaking, None
