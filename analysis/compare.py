"""The same person across episodes: talk share, themes, topics and entities side by side, and
the most similar pairs of their passages across two episodes, each marked whether it is similar
enough to be the same point said twice (the threshold of config.PAIR_THRESHOLD, measured by
analysis.pairs).
:func:`person_tables` computes the tables (the `index` stage); :func:`compare` only reads them."""
from __future__ import annotations

import itertools
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import config
from .io import load_tables
from .quotes import deep_link
from .schema import Column, Table, register
from .search import clock

PAIRS = 5  # most similar passage pairs kept per person and pair of episodes
PAIR_COLUMNS = ["similarity"] + [f"{k}_{s}" for s in "ab" for k in ("episode_id", "passage_key", "time", "url", "quote")]
MIN_PAIR_WORDS = 30  # shorter passages are left out of the pairs (too little to compare)

PERSON_EPISODES = register(Table(
    "person_episodes", "Every person the catalog lists in more than one episode (resolved speakers), one row per "
    "episode they speak in, publication order (the `index` stage; analysis.compare).", (
        Column("speaker_id", "str", "Person slug."),
        Column("name", "str", "Display name."),
        Column("episode_id", "str", "Episode slug."),
        Column("show", "str", "Show name."),
        Column("published", "date", "Publication date.", nullable=True),
        Column("talk_share", "float", "Their share of the episode's talk time, 0-1 (table talktime_speakers)."),
        Column("word_share", "float", "Their share of the episode's words, 0-1."),
        Column("words", "int", "Words they say in the episode."),
    ), key=("speaker_id", "episode_id")))
_SIDE = {"episode_id": ("str", "Episode slug of passage {s}."),
         "passage_key": ("str", "Passage {s} (analysis.themes.tagging.passage_keys)."),
         "time": ("str", "Start of passage {s}, 'm:ss' ('~' first when estimated; empty without a time)."),
         "url": ("str", "Video link at passage {s}; null without a video id or time."),
         "quote": ("str", "Text of passage {s}.")}
PASSAGE_PAIRS = register(Table(
    "passage_pairs", f"For each recurring person and each two of their episodes (a published first), the {PAIRS} "
    "most similar pairs of their passages (one in each episode, each passage in at most one pair, best first; "
    f"passages of at least {MIN_PAIR_WORDS} words) by cosine of their embeddings (the `index` stage; "
    "analysis.compare). A pair depends only on the two episodes' passages.", (
        Column("speaker_id", "str", "Person slug (table person_episodes)."),
        Column("similarity", "float", "Cosine similarity of the two passages' embeddings, -1 to 1."),
        Column("same_point", "bool", "Similarity >= the threshold of data/pairs.threshold.json, measured to mean "
               "the same point said twice (docs/themes.md; `python -m analysis evaluate-pairs`)."),
    ) + tuple(Column(f"{k}_{s}", t, d.format(s=s), nullable=(k == "url"))
              for s in "ab" for k, (t, d) in _SIDE.items()),
    key=("speaker_id", "passage_key_a", "passage_key_b")))


@dataclass
class Comparison:
    person: str
    speaker_id: str
    episodes: pd.DataFrame  # episode_id, show, published, talk_share, word_share, words (publication order)
    themes: pd.DataFrame  # theme x episode: share of the person's passage words
    topics: pd.DataFrame  # topic label x episode: share of the person's words
    entities: pd.DataFrame  # rank x episode: "entity (mentions)"
    pairs: pd.DataFrame  # PAIR_COLUMNS and same_point: the most similar passage pairs, best first


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


def wide_shares(df: pd.DataFrame, index: str, order: list[str], value: str = "share") -> pd.DataFrame:
    """``index`` x episode grid of ``value`` (episodes in ``order``; 0 where absent), rows by their largest value."""
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


def person_pairs(speaker_id: str, episodes: list[str], passages: pd.DataFrame, vectors: np.ndarray,
                 video: pd.Series) -> list[dict]:
    """Rows of table passage_pairs (without same_point) for one person: for each two of
    ``episodes`` (the earlier first), the PAIRS most similar pairs of their passages of at least
    MIN_PAIR_WORDS words (``passages`` with passage_key and unit ``vectors``; ``video``: video id
    by episode id, for the links)."""
    pick = np.flatnonzero(((passages["word_count"] >= MIN_PAIR_WORDS) & (passages["speaker_id"] == speaker_id))
                          .fillna(False).to_numpy(dtype=bool))
    own = passages.iloc[pick].reset_index(drop=True)
    records = own.to_dict("records")
    rows = []
    for ep_a, ep_b in itertools.combinations(episodes, 2):
        for pr in similar_pairs(own, vectors[pick], ep_a, ep_b).itertuples():
            pa, pb = records[pr.row_a], records[pr.row_b]
            rows.append({"speaker_id": speaker_id, "similarity": pr.similarity,
                         **{f"{k}_{s}": v for s, p in (("a", pa), ("b", pb)) for k, v in {
                             "episode_id": p["episode_id"], "passage_key": p["passage_key"],
                             "time": clock(p["start_s"], p["time_source"] != "file"),
                             "url": deep_link(video.get(p["episode_id"]), p["start_s"]), "quote": p["text"]}.items()}})
    return rows


def pair_threshold(path: Path | None = None) -> dict:
    """The stored "same point" threshold and how it was measured (config.PAIR_THRESHOLD, written by
    ``python -m analysis evaluate-pairs --write``): keys threshold, method, pairs, cv, ..."""
    path = Path(path or config.PAIR_THRESHOLD)
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path} not found: the passage-pair threshold (`python -m analysis evaluate-pairs "
                                "--write` measures and writes it)") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not JSON ({exc})") from None
    try:
        found["threshold"] = float(found["threshold"])
    except (TypeError, KeyError, ValueError):
        raise ValueError(f"{path}: expected an object with a numeric 'threshold'") from None
    return found


def person_tables(corpus: dict[str, pd.DataFrame], passages: pd.DataFrame, vectors: np.ndarray,
                  threshold: float) -> dict[str, pd.DataFrame]:
    """Tables person_episodes and passage_pairs from the corpus tables (episodes, speakers and
    talktime_speakers) and the conversation ``passages`` (with ``passage_key``, as in the search
    index) with their unit ``vectors``; a pair with similarity >= ``threshold`` is the same point."""
    from .corpus import EPISODES, SPEAKERS
    from .speakers.talktime import SPEAKERS as TALK

    episodes, talk = corpus[EPISODES.name], corpus[TALK.name]
    video = episodes.set_index("episode_id")["video_id"]
    rows, pairs = [], []
    for person in recurring_people(corpus[SPEAKERS.name]).itertuples():
        mine = talk[talk["speaker_id"] == person.speaker_id][["episode_id", "talk_share", "word_share", "words"]]
        eps = episodes.merge(mine, on="episode_id").sort_values(["published", "episode_id"], kind="stable")
        rows.append(eps.assign(speaker_id=person.speaker_id, name=person.name))
        pairs += person_pairs(person.speaker_id, eps["episode_id"].tolist(), passages, vectors, video)
    people = pd.concat(rows, ignore_index=True) if rows else PERSON_EPISODES.empty()
    pairs_df = pd.DataFrame(pairs, columns=["speaker_id"] + PAIR_COLUMNS)
    pairs_df["same_point"] = pairs_df["similarity"] >= threshold
    return {PERSON_EPISODES.name: PERSON_EPISODES.conform(people[PERSON_EPISODES.column_names]),
            PASSAGE_PAIRS.name: PASSAGE_PAIRS.conform(pairs_df)}


def comparison_tables(tables: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Every table :func:`compare` reads: ``tables`` with those missing read from data/processed:
    speakers, person_episodes and passage_pairs (the `index` stage), and the theme, topic and
    entity tables per speaker (topics and entities may be absent: then empty). Read once and pass
    to :func:`compare` to compare several people."""
    from .corpus import SPEAKERS
    from .entities.tables import PER_SPEAKER as ENT_SPK
    from .themes.timelines import PER_SPEAKER as THEME_SPK
    from .topics.tables import PER_SPEAKER as TOPIC_SPK

    out = dict(tables or {})
    for t in (SPEAKERS, PERSON_EPISODES, PASSAGE_PAIRS, THEME_SPK, TOPIC_SPK, ENT_SPK):
        if t.name in out:
            continue
        if t in (TOPIC_SPK, ENT_SPK) and not (config.PROCESSED / f"{t.name}.parquet").exists():
            out[t.name] = t.empty()
        else:
            out.update(load_tables(t, directory=config.PROCESSED))
    return out


def compare(who: str, tables: dict[str, pd.DataFrame] | None = None) -> Comparison:
    """A person who appears in several episodes (name or speaker id) across them, from the tables
    (``tables``: see :func:`comparison_tables`; missing ones are read)."""
    from .corpus import SPEAKERS
    from .entities.tables import PER_SPEAKER as ENT_SPK
    from .themes.timelines import PER_SPEAKER as THEME_SPK
    from .topics.tables import PER_SPEAKER as TOPIC_SPK

    corpus = comparison_tables(tables)
    sid, name = _person(corpus[SPEAKERS.name], who)
    people = corpus[PERSON_EPISODES.name]
    eps = people[people["speaker_id"] == sid]
    if eps.empty:
        raise ValueError(f"{name} appears in one episode only (table person_episodes): nothing to compare")
    order = eps["episode_id"].tolist()
    themes = corpus[THEME_SPK.name]
    themes = wide_shares(themes[themes["speaker_id"] == sid], "theme", order)
    topics = corpus[TOPIC_SPK.name]
    topics = wide_shares(topics[(topics["speaker"] == name) & (topics["topic_id"] >= 0)], "label", order)
    ents = corpus[ENT_SPK.name]
    ents = ents[(ents["speaker_id"] == sid) & (ents["rank"] <= 10)]
    ents = ents.assign(cell=ents["entity"] + " (" + ents["mentions"].astype(str) + ")").pivot(
        index="rank", columns="episode_id", values="cell").reindex(columns=order).fillna("")
    pairs = corpus[PASSAGE_PAIRS.name]
    pairs = pairs[pairs["speaker_id"] == sid].sort_values("similarity", ascending=False, kind="stable")
    return Comparison(name, sid, eps[["episode_id", "show", "published", "talk_share", "word_share", "words"]]
                      .reset_index(drop=True), themes, topics, ents,
                      pairs[PAIR_COLUMNS + ["same_point"]].reset_index(drop=True))


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
    lines.append("\nmost similar passage pairs across episodes, best first (cosine of embeddings; 'same point': "
                 f">= {pair_threshold()['threshold']:.2f}, see `evaluate-pairs`; ~ = estimated time):")
    for r in c.pairs.itertuples():
        lines.append(f"  {r.similarity:.2f}" + ("  same point" if r.same_point else ""))
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
    try:
        print(format_comparison(compare(args.person)))
    except ValueError as exc:  # nobody, several people or one episode only
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0
