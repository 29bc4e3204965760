"""What counts as a question to the other person: a sentence ending in '?' that is not a tag
question ("..., right?", "..., isn't it?") or a rhetorical check ("You know?"), which ask
nothing of the listener."""
from __future__ import annotations

import re

_AUX = r"(?:is|are|was|were|do|does|did|have|has|had|can|could|will|would|should|must|might|ai|wo|ca|sha)"
_PRONOUN = r"(?:it|i|you|we|they|he|she|that|there|this|those|these)"
# A tag after a comma (or dash) that ends the sentence, e.g. "That's the point, right?".
_TAG = re.compile(
    rf"[,;\u2014-]\s*(?:right|you know(?: what i mean)?|you see|yeah|yes|no|huh|eh|ok(?:ay)?|correct|true|"
    rf"am i right|don't you think|if that makes sense|(?:does )?(?:that )?makes? sense|"
    rf"{_AUX}n'?t {_PRONOUN}|{_AUX} {_PRONOUN} not)\s*\?+[\"')\]]*$", re.IGNORECASE)
# A whole sentence that only checks the listener is following.
_CHECK = re.compile(r"^(?:right|you know|you know what i mean|(?:does that )?make sense|am i right)\s*\?+$",
                    re.IGNORECASE)


def is_tag_question(sentence: str) -> bool:
    """True for a sentence that ends in a tag question or is only a rhetorical check."""
    s = sentence.strip()
    return bool(_TAG.search(s) or _CHECK.match(s))


def is_question(sentence: str) -> bool:
    """True for a sentence ending in '?' (closing quotes allowed) that is not a tag question."""
    return bool(re.search(r"\?+[\"')\]]*$", sentence.strip())) and not is_tag_question(sentence)
