"""TTML transcripts (Apple Podcasts, broadcast subtitles): ``<p begin end ttm:agent>`` paragraphs
of ``<span>`` words, read with the standard library's XML parser on defused input
(``defusedxml`` refuses entity expansion, DTDs and external references).

The speaker is the agent's ``<ttm:name>`` from the head when it has one, else the agent id as
written (``SPEAKER_1``); consecutive paragraphs of one speaker become one utterance. Times may
be clock values (``00:01:02.500``), offsets (``62.5s``, ``500ms``) or plain seconds (Apple).
"""
from __future__ import annotations

import re
from xml.etree.ElementTree import Element
from xml.etree.ElementTree import ParseError as XMLParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from .base import Format, ParseError, Segment, Transcript, parse_timestamp
from .json_formats import finish

_TTML_NS = "http://www.w3.org/ns/ttml"
_TTM_NS = "http://www.w3.org/ns/ttml#metadata"
_XML_ID = "{http://www.w3.org/XML/1998/namespace}id"
_OFFSET = re.compile(r"^(\d+(?:\.\d+)?)(h|m|s|ms)?$")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?…)\]])")


def sniff_ttml(text: str) -> float:
    head = text[:5000]
    return 0.98 if "<tt" in head and _TTML_NS in head else 0.0


def _time(value: str | None) -> float | None:
    """Seconds of a TTML time expression; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if (m := _OFFSET.match(value)):
        scale = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, None: 1}[m.group(2)]
        return float(m.group(1)) * scale
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _words(p: Element) -> str:
    """The text of a paragraph: each span a word boundary, ``<br/>`` a space, whitespace collapsed."""
    parts = [p.text or ""]
    for child in p:
        name = _local(child.tag)
        parts.append(" " if name == "br" else " " + _words(child) + " ")
        parts.append(child.tail or "")
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join("".join(parts).split()))


def parse_ttml(text: str, t: Transcript) -> None:
    try:
        root = safe_xml.fromstring(text)
    except XMLParseError as exc:
        line, column = exc.position
        raise ParseError(f"invalid XML: {exc} (column {column})", t.path, line) from exc
    except DefusedXmlException as exc:
        raise ParseError(f"XML refused for safety ({type(exc).__name__}): {exc}", t.path) from exc
    if _local(root.tag) != "tt":
        raise ParseError(f"not TTML: the root element is <{_local(root.tag)}>, not <tt>", t.path)
    names = {}
    for agent in root.iter(f"{{{_TTM_NS}}}agent"):
        name = agent.find(f"{{{_TTM_NS}}}name")
        if agent.get(_XML_ID) and name is not None and (name.text or "").strip():
            names[agent.get(_XML_ID)] = name.text.strip()
    title = root.find(f".//{{{_TTM_NS}}}title")
    if title is not None and (title.text or "").strip():
        t.metadata["title"] = title.text.strip()
    pieces = []
    for i, p in enumerate(el for el in root.iter() if _local(el.tag) == "p"):
        agent = p.get(f"{{{_TTM_NS}}}agent") or next(
            (el.get(f"{{{_TTM_NS}}}agent") for el in p.iter() if el.get(f"{{{_TTM_NS}}}agent")), None)
        try:
            words = _words(p)
        except RecursionError as exc:
            raise ParseError(f"<p> {i}: elements nested too deeply", t.path) from exc
        start, end = _time(p.get("begin")), _time(p.get("end"))
        if words and p.get("begin") and start is None:
            t.warn(f"<p> {i}: begin {p.get('begin')!r} is not a time; kept without one")
        speaker = names.get(agent, agent.strip() if agent else None)
        pieces.append(Segment(words, speaker or None, start, end))
    if not pieces:
        raise ParseError("TTML has no <p> paragraphs", t.path)
    finish(pieces, t)


FORMATS = [
    Format("ttml", "TTML (Apple Podcasts transcripts, broadcast subtitles): <p begin end ttm:agent> with <span> words",
           sniff_ttml, parse_ttml, line_based=False,
           cue="a <tt> element in the TTML namespace (http://www.w3.org/ns/ttml) near the top"),
]
