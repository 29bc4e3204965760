"""Topic labels: a short label and a one-sentence description per topic, from its keywords and
most representative passages (as BERTopic's OpenAI representation does)."""
from __future__ import annotations

import pandas as pd

from .cache import Answer
from .prompts import InvalidResponse, Prompt, Request, obj
from .tables import TOPIC_LABELS

PASSAGES = 5  # most representative passages sent per topic
PASSAGE_WORDS = 120  # each cut to this many words
MAX_LABEL_WORDS = 8

PROMPT = Prompt(
    task="topic_label", version=1, max_output_tokens=200,
    system=("You name topics found by a topic model in podcast transcripts. Given a topic's keywords "
            "(most distinctive first) and its most representative passages, reply with a short label "
            f"(2 to {MAX_LABEL_WORDS - 2} words, no quotes, like a section heading) and a one-sentence "
            "description of what the speakers discuss. Use only what the passages say; transcripts "
            "contain speech-recognition errors, so prefer the evident meaning."),
    schema=obj({"label": {"type": "string"}, "description": {"type": "string"}}))


def _check(response: dict, item: str) -> None:
    words = len(response["label"].split())
    if not 1 <= words <= MAX_LABEL_WORDS:
        raise InvalidResponse(f"topic_label response for {item}: label has {words} words "
                              f"(1-{MAX_LABEL_WORDS} allowed): {response['label'][:80]!r}")
    if not response["description"].strip():
        raise InvalidResponse(f"topic_label response for {item}: empty description")


def requests(topics: pd.DataFrame, assignments: pd.DataFrame, passages: pd.DataFrame) -> list[tuple[int, Request]]:
    """(topic id, request) per topic (outliers, -1, excluded), ordered by topic id."""
    ranked = (assignments[assignments["topic_id"] >= 0].merge(passages[["passage_id", "text"]], on="passage_id")
              .sort_values(["topic_id", "rank_in_topic"], kind="stable"))
    out = []
    for t in topics[topics["topic_id"] >= 0].sort_values("topic_id").itertuples():
        texts = ranked.loc[ranked["topic_id"] == t.topic_id, "text"].head(PASSAGES)
        quotes = "\n".join(f"{i}. {' '.join(str(x).split()[:PASSAGE_WORDS])}" for i, x in enumerate(texts, 1))
        user = (f"Keywords: {', '.join(str(t.keywords).split(';'))}\n"
                f"Keyword label: {t.label}\n\nRepresentative passages:\n{quotes}")
        item = f"topic {t.topic_id}"
        out.append((int(t.topic_id), Request(PROMPT, item, user, check=lambda r, item=item: _check(r, item))))
    return out


def table(answers: dict[int, Answer]) -> pd.DataFrame:
    """Table ``llm_topic_labels`` from the answers per topic id."""
    rows = [{"topic_id": t, "label": " ".join(a.response["label"].split()).strip("\"'"),
             "description": " ".join(a.response["description"].split()), "model": a.model,
             "prompt_version": PROMPT.version_label} for t, a in sorted(answers.items())]
    return TOPIC_LABELS.conform(pd.DataFrame(rows, columns=TOPIC_LABELS.column_names))
