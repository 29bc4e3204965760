"""``podlens themes draft``: a starting theme lexicon made from the fitted topic model, for a
show that has none yet, so its theme timelines are not empty. Every part is model-made and
marked as a draft for the analyst to edit:

- one theme per topic (the largest first, outliers left out), named by the topic's label;
- keywords: the topic's keywords that are distinctive, i.e. found in at most MAX_KEYWORD_SHARE
  of all passages and at least MIN_KEYWORD_LIFT times as often in the topic's own passages, and
  that are not a speaker's name or part of one (a theme is about what is said, not who speaks);
- seeds: from each of the topic's most representative passages (closest to its centre), the
  sentence (of SEED_MIN_WORDS words or more) holding most of those keywords, cut to SEED_WORDS words;
- the description names the topic and its keywords.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd

from .. import config
from ..corpus import SPEAKERS
from ..ingest.text import split_sentences
from ..io import atomic_path, load_tables, yaml_line
from ..topics.passages import PASSAGES
from ..topics.tables import ASSIGNMENTS, TOPICS
from .lexicon import LexiconError, load_lexicon

MAX_THEMES = 8
MAX_KEYWORD_SHARE = 0.10  # of all passages
MIN_KEYWORD_LIFT = 2.0  # share in the topic's passages / share in all passages
MAX_KEYWORDS = 8
SEEDS = 5
SEED_WORDS = 30
SEED_MIN_WORDS = 8
TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "themes.yaml"  # what `podlens new` writes


def _share(texts: pd.Series, keyword: str) -> float:
    pattern = r"(?<![\w-])" + re.escape(keyword).replace(r"\ ", "[- ]") + r"s?(?![\w-])"
    return float(texts.str.contains(pattern, case=False, regex=True).mean()) if len(texts) else 0.0


def _seed(text: str, keywords: list[str]) -> str:
    """The sentence of ``text`` with most keywords, of those of at least SEED_MIN_WORDS words when
    there are any (then the longer, up to SEED_WORDS), cut to SEED_WORDS words."""
    sentences = [text[a:b].strip() for a, b in split_sentences(text)] or [text]
    sentences = [s for s in sentences if len(s.split()) >= SEED_MIN_WORDS] or sentences
    best = max(sentences, key=lambda s: (sum(k.lower() in s.lower() for k in keywords), min(len(s.split()), SEED_WORDS)))
    words = best.split()
    return " ".join(words[:SEED_WORDS]).strip(" ,;:-") or text[:200]


def draft_themes(n: int = MAX_THEMES) -> list[dict]:
    """Draft themes {name, description, seeds, keywords, topic, share, episodes} from the topic
    tables in config.PROCESSED (FileNotFoundError when the topic stage has not run)."""
    t = load_tables(TOPICS, ASSIGNMENTS, PASSAGES, SPEAKERS)
    names = {w for name in t[SPEAKERS.name]["name"].dropna() for w in str(name).lower().split()}
    topics = t[TOPICS.name]
    topics = topics[topics["topic_id"] >= 0].sort_values(["share", "topic_id"], ascending=[False, True]).head(n)
    passages = t[PASSAGES.name].set_index("passage_id")["text"]
    assigned = t[ASSIGNMENTS.name]
    out, taken = [], set()
    for topic in topics.itertuples():
        mine = assigned[assigned["topic_id"] == topic.topic_id].sort_values(["rank_in_topic", "passage_id"])
        own = passages.reindex(mine["passage_id"]).dropna()
        keywords = []
        for k in [k for k in str(topic.keywords).split(";") if k.strip() and not set(k.lower().split()) & names]:
            overall = _share(passages, k)
            if 0 < overall <= MAX_KEYWORD_SHARE and _share(own, k) >= MIN_KEYWORD_LIFT * overall:
                keywords.append(k)
        keywords = keywords[:MAX_KEYWORDS]
        seeds = list(dict.fromkeys(_seed(text, keywords or str(topic.keywords).split(";")) for text in own.head(SEEDS)))
        name = str(topic.label)
        if name.lower() in taken:
            name = f"{name} (topic {topic.topic_id})"
        taken.add(name.lower())
        shown = keywords or str(topic.keywords).split(";")[:5]
        out.append({"name": name, "topic": int(topic.topic_id), "share": float(topic.share), "episodes": int(topic.episodes),
                    "description": f"DRAFT from topic {topic.topic_id} of the topic model, to rewrite: talk about "
                                   + ", ".join(shown[:-1]) + (f" and {shown[-1]}" if len(shown) > 1 else shown[0]) + ".",
                    "seeds": [s for s in seeds if s], "keywords": keywords})
    return out


def lexicon_text(themes: list[dict], version: str) -> str:
    """The draft as a lexicon file (analysis.themes.lexicon's format), each theme under a comment."""
    lines = [f"# DRAFT theme lexicon, written by `podlens themes draft` from the topic model (version {version}): one theme per topic,",
             "# largest first. Names, descriptions, seeds and keywords are MODEL-MADE from each topic's keywords and",
             "# its most representative passages: rename, rewrite, merge or delete them, write seeds in your own words",
             "# (see the comments of a new project's data/themes.yaml), then `podlens build`. Until a hand-labelled",
             "# sample (data/annotations/themes.sample.tsv) measures the tagger, the site marks its tags unmeasured.",
             "", "themes:"]
    for t in themes:
        lines += [f"  # draft from topic {t['topic']}: {t['share']:.0%} of passages, {t['episodes']} episode(s)",
                  f"  - name: {yaml_line(t['name'])}", f"    description: {yaml_line(t['description'])}", "    seeds:"]
        lines += [f"      - {yaml_line(s)}" for s in t["seeds"]]
        if t["keywords"]:
            lines.append(f"    keywords: {yaml_line(t['keywords'])}")
        lines.append("")
    return "\n".join(lines)


def main_draft(args) -> int:
    """``podlens themes draft [--out FILE] [--topics N] [--force]``: refuses to replace a lexicon
    other than the new-project template unless --force."""
    out = Path(args.out or config.THEMES)
    if out.exists() and not args.force and out.read_bytes() != TEMPLATE.read_bytes():
        print(f"error: {out} exists and is not the new-project template; give --force to replace it, or --out FILE",
              file=sys.stderr)
        return 1
    try:
        themes = draft_themes(args.topics or MAX_THEMES)
    except FileNotFoundError as exc:
        print(f"error: no topic model yet ({exc}); run `podlens build` (or `python -m analysis topics`) first",
              file=sys.stderr)
        return 1
    if not themes:
        print("error: the topic model found no topics (every passage is an outlier): nothing to draft from",
              file=sys.stderr)
        return 1
    version = str(load_tables(TOPICS)[TOPICS.name]["model_version"].iloc[0])
    text = lexicon_text(themes, version)
    try:
        with atomic_path(out) as tmp:  # replaced only by a draft that loads
            tmp.write_text(text, encoding="utf-8")
            load_lexicon(tmp)
    except LexiconError as exc:  # a draft that does not load is a bug here, not the user's
        print(f"error: the draft does not load: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(themes)} draft themes to {out} (model-made from the topics: edit them, then `podlens build`):")
    for t in themes:
        print(f"  {t['name']:<40} {len(t['seeds'])} seeds, keywords: {', '.join(t['keywords']) or 'none distinctive'}")
    return 0
