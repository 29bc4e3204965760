"""The same person across episodes: talk share, themes, topics and entities side by side, and
the most similar pairs of their passages across two episodes (where they say the same thing twice)."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import config
from .io import load_tables
from .quotes import deep_link
from .search import clock

PAIRS = 5  # most similar passage pairs shown per pair of episodes
PAIR_COLUMNS = ["similarity"] + [f"{k}_{s}" for s in "ab" for k in ("episode_id", "passage_key", "time", "url", "quote")]
MIN_PAIR_WORDS = 30  # shorter passages are left out of the pairs (too little to compare)


@dataclass
class Comparison:
    person: str
    speaker_id: str
    episodes: pd.DataFrame  # episode_id, show, published, talk_share, word_share, words (publication order)
    themes: pd.DataFrame  # theme x episode: share of the person's passage words
    topics: pd.DataFrame  # topic label x episode: share of the person's words
    entities: pd.DataFrame  # rank x episode: "entity (mentions)"
    pairs: pd.DataFrame  # similarity, episode/time/link/quote of both passages


def recurring_people(speakers: pd.DataFrame) -> pd.DataFrame:
    """People the catalog lists in more than one episode: speaker_id, name, episodes (a file's
    label the catalog does not name, such as a producer's "Break" marker, is not one)."""
    s = speakers[speakers["resolved"] & (speakers["source"] == "catalog")]
    g = s.groupby("speaker_id").agg(name=("name", "first"), episodes=("episode_id", "nunique"))
    return g[g["episodes"] > 1].reset_index().sort_values("speaker_id", kind="stable")


def _person(speakers: pd.DataFrame, who: str) -> tuple[str, str]:
    who_l = who.lower()
    s = speakers[speakers["resolved"]]
    hit = s[(s["speaker_id"].str.lower() == who_l) | (s["name"].str.lower() == who_l)]
    if hit.empty:
        hit = s[s["name"].str.lower().str.contains(who_l, regex=False)]
    if hit["speaker_id"].nunique() != 1:
        found = sorted(hit["name"].unique()) or "nobody"
        raise ValueError(f"{who!r} names {found}; give a speaker id or full name from the catalog")
    return hit["speaker_id"].iloc[0], hit["name"].iloc[0]


def _wide(df: pd.DataFrame, index: str, order: list[str], value: str = "share") -> pd.DataFrame:
    grid = df.pivot_table(index=index, columns="episode_id", values=value, aggfunc="sum", fill_value=0.0)
    grid = grid.reindex(columns=order, fill_value=0.0)
    return grid.loc[grid.max(axis=1).sort_values(ascending=False).index]


def similar_pairs(passages: pd.DataFrame, vectors: np.ndarray, ep_a: str, ep_b: str, n: int = PAIRS) -> pd.DataFrame:
    """The ``n`` most similar (passage in ``ep_a``, passage in ``ep_b``) pairs by cosine, each
    passage used at most once (greedy, best first)."""
    a = np.flatnonzero((passages["episode_id"] == ep_a).to_numpy())
    b = np.flatnonzero((passages["episode_id"] == ep_b).to_numpy())
    if not len(a) or not len(b):
        return pd.DataFrame()
    sim = vectors[a] @ vectors[b].T
    rows, used_a, used_b = [], set(), set()
    for flat in np.argsort(-sim, axis=None, kind="stable"):
        i, j = divmod(int(flat), len(b))
        if i in used_a or j in used_b:
            continue
        used_a.add(i), used_b.add(j)
        rows.append((float(sim[i, j]), a[i], b[j]))
        if len(rows) == n:
            break
    return pd.DataFrame(rows, columns=["similarity", "row_a", "row_b"])


def comparison_tables(tables: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Every table :func:`compare` reads: ``tables`` (default: the corpus in data/processed),
    with the talk-time, theme, topic and entity tables per speaker and the topic stage's
    passages added from data/processed where missing (topics and entities may be absent: then
    empty). Read once and pass to :func:`compare` to compare several people."""
    from .corpus import load_corpus
    from .entities.tables import PER_SPEAKER as ENT_SPK
    from .speakers.talktime import SPEAKERS as TALK
    from .themes.pipeline import conversation_passages
    from .themes.timelines import PER_SPEAKER as THEME_SPK
    from .topics.passages import PASSAGES
    from .topics.tables import PER_SPEAKER as TOPIC_SPK

    out = dict(tables or load_corpus())
    for t in (TALK, THEME_SPK, TOPIC_SPK, ENT_SPK):
        if t.name in out:
            continue
        if t in (TOPIC_SPK, ENT_SPK) and not (config.PROCESSED / f"{t.name}.parquet").exists():
            out[t.name] = pd.DataFrame({c.name: pd.Series(dtype=object) for c in t.columns})
        else:
            out.update(load_tables(t, directory=config.PROCESSED))
    # the topic stage's passages when ``tables`` hold them (the site: cutting them again per person
    # cost the whole corpus's passage cutting each time), else read or cut as the themes stage does
    if PASSAGES.name not in out:
        out[PASSAGES.name] = conversation_passages(tables)
    return out


def compare(who: str, tables: dict[str, pd.DataFrame] | None = None) -> Comparison:
    """Compare a person across the episodes the catalog lists them in (name or speaker id).
    ``tables``: see :func:`comparison_tables` (missing ones are read)."""
    from .corpus import EPISODES, SPEAKERS
    from .embeddings import embed
    from .entities.tables import PER_SPEAKER as ENT_SPK
    from .speakers.talktime import SPEAKERS as TALK
    from .themes.tagging import passage_keys
    from .themes.timelines import PER_SPEAKER as THEME_SPK
    from .topics.passages import PASSAGES
    from .topics.tables import PER_SPEAKER as TOPIC_SPK

    corpus = comparison_tables(tables)
    sid, name = _person(corpus[SPEAKERS.name], who)
    talk = corpus[TALK.name]
    talk = talk[talk["speaker_id"] == sid]
    eps = corpus[EPISODES.name].merge(talk[["episode_id", "talk_share", "word_share", "words"]], on="episode_id")
    eps = eps.sort_values(["published", "episode_id"], kind="stable")
    order = eps["episode_id"].tolist()
    themes = corpus[THEME_SPK.name]
    themes = _wide(themes[themes["speaker_id"] == sid], "theme", order)
    topics = corpus[TOPIC_SPK.name]
    topics = _wide(topics[(topics["speaker"] == name) & (topics["topic_id"] >= 0)], "label", order)
    ents = corpus[ENT_SPK.name]
    ents = ents[(ents["speaker_id"] == sid) & (ents["rank"] <= 10)]
    ents = ents.assign(cell=ents["entity"] + " (" + ents["mentions"].astype(str) + ")").pivot(
        index="rank", columns="episode_id", values="cell").reindex(columns=order).fillna("")

    passages = corpus[PASSAGES.name].copy()
    passages["passage_key"] = passage_keys(passages)
    mine = passages[(passages["speaker_id"] == sid) & (passages["word_count"] >= MIN_PAIR_WORDS)].reset_index(drop=True)
    vectors = embed(mine["text"].tolist())
    video = corpus[EPISODES.name].set_index("episode_id")["video_id"]
    records = mine.to_dict("records")
    rows = []
    for ep_a, ep_b in itertools.combinations(order, 2):
        for pr in similar_pairs(mine, vectors, ep_a, ep_b).itertuples():
            pa, pb = records[pr.row_a], records[pr.row_b]
            rows.append({"similarity": pr.similarity,
                         **{f"{k}_{s}": v for s, p in (("a", pa), ("b", pb)) for k, v in {
                             "episode_id": p["episode_id"], "passage_key": p["passage_key"],
                             "time": clock(p["start_s"], p["time_source"] != "file"),
                             "url": deep_link(video.get(p["episode_id"]), p["start_s"]), "quote": p["text"]}.items()}})
    return Comparison(name, sid, eps[["episode_id", "show", "published", "talk_share", "word_share", "words"]],
                      themes, topics, ents, pd.DataFrame(rows, columns=PAIR_COLUMNS))


def format_comparison(c: Comparison, width: int = 300) -> str:
    def clip(t: str) -> str:
        return t if len(t) <= width else t[:width].rsplit(" ", 1)[0] + " …"

    lines = [f"{c.person} in {len(c.episodes)} episodes (publication order):"]
    for r in c.episodes.itertuples():
        lines.append(f"  {r.episode_id}: {r.show}, {pd.Timestamp(r.published):%Y-%m-%d}, talk share {r.talk_share:.0%}, "
                     f"{r.words} words")
    with pd.option_context("display.width", 200, "display.max_columns", 10, "display.max_colwidth", 40):
        lines += ["\nthemes, share of their passage words (model-made tags):",
                  (c.themes.head(12) * 100).round(0).astype(int).astype(str).add("%").to_string()]
        lines += ["\ntopics, share of their words (labels made by the topic model):",
                  (c.topics.head(8) * 100).round(0).astype(int).astype(str).add("%").to_string()]
        lines += ["\nmost mentioned entities:", c.entities.to_string()]
    lines.append("\nmost similar passage pairs across episodes (cosine of embeddings; ~ = estimated time):")
    for r in c.pairs.itertuples():
        lines.append(f"  {r.similarity:.2f}")
        for s in ("a", "b"):
            ep, t, url, q = (getattr(r, f"{k}_{s}") for k in ("episode_id", "time", "url", "quote"))
            lines.append(f"    [{ep} {t or 'no time'}]{' ' + url if url else ''}\n      \"{clip(q)}\"")
    return "\n".join(lines)


def main_compare(args) -> int:
    """``python -m analysis compare [PERSON]``: without a person, lists those in several episodes."""
    from .corpus import load_corpus

    corpus = load_corpus()
    if not args.person:
        people = recurring_people(corpus["speakers"])
        if people.empty:
            print("nobody in the catalog appears in more than one episode")
        for r in people.itertuples():
            print(f"{r.name} ({r.speaker_id}): {r.episodes} episodes")
        return 0
    print(format_comparison(compare(args.person)))
    return 0
