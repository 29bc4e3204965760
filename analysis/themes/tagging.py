"""Score every passage against every theme (meaning + keyword evidence) and tag it with the
themes whose evidence passes the calibrated rule (``TagRule``); several themes per passage are allowed."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import config
from ..schema import Column, Table, register
from .lexicon import Theme

TAGS = register(Table("theme_tags", "Every (passage, theme) pair with its evidence and whether the theme applies. "
                      "Tags are made by the theme tagger (similarity to data/themes.yaml plus keywords), "
                      "not by a person; its measured accuracy: `python -m analysis evaluate-themes`.", (
    Column("passage_id", "str", "Passage (table topic_passages)."),
    Column("passage_key", "str", "Stable key '<episode_id>@<first utterance order>.<part>' (see analysis.themes.passage_keys)."),
    Column("episode_id", "str", "Episode slug."),
    Column("theme", "str", "Theme name from the lexicon."),
    Column("similarity", "float", "Highest cosine similarity of the passage to the theme's description or a seed phrase, -1 to 1."),
    Column("keyword_hits", "int", "Distinct theme keywords found in the passage."),
    Column("keywords", "str", "';'-joined keywords found (lower case); '' when none."),
    Column("score", "float", "similarity + keyword bonus (config.THEME_KEYWORD_BONUS per distinct keyword, at most 2)."),
    Column("tagged", "bool", "The theme applies: score >= config.THEME_THRESHOLD (and, when set in config, a keyword "
           "unless similarity >= THEME_SOLO_SIMILARITY; similarity within THEME_MARGIN of the passage's best theme)."),
), key=("passage_id", "theme")))

MAX_KEYWORDS = 2  # keyword bonus counts at most this many distinct keywords


def passage_keys(passages: pd.DataFrame) -> pd.Series:
    """Stable passage keys '<episode_id>@<first_order>.<part>' (part: 0-based among passages
    that start in the same utterance). Unlike passage_id, they do not shift when another part
    of the episode changes."""
    part = passages.groupby(["episode_id", "first_order"], sort=False).cumcount()
    return passages["episode_id"] + "@" + passages["first_order"].astype(str) + "." + part.astype(str)


def similarities(passage_vectors: np.ndarray, themes: list[Theme], theme_vectors: list[np.ndarray]) -> np.ndarray:
    """(passages x themes) highest cosine similarity of each passage to each theme's texts
    (unit vectors in, so a dot product is the cosine)."""
    if not len(passage_vectors):
        return np.zeros((0, len(themes)), dtype=np.float32)
    return np.stack([(passage_vectors @ tv.T).max(axis=1) for tv in theme_vectors], axis=1)


def keyword_evidence(texts: list[str], themes: list[Theme]) -> list[list[list[str]]]:
    """For each text and theme, the distinct keywords found (lower case, sorted)."""
    patterns = [t.keyword_pattern() for t in themes]
    out = []
    for text in texts:
        row = []
        for pat in patterns:
            found = set() if pat is None else {m.group(0).lower().rstrip("s") or m.group(0).lower()
                                               for m in pat.finditer(text)}
            row.append(sorted(found))
        out.append(row)
    return out


@dataclass(frozen=True)
class TagRule:
    """When a theme applies to a passage. score = similarity + ``bonus`` x (distinct keywords,
    at most MAX_KEYWORDS); the theme applies when score >= ``threshold`` and, where set,
    - ``solo``: the passage has a keyword of the theme unless its similarity is >= ``solo``
      (meaning alone is trusted only when it is very close);
    - ``margin``: its similarity is within ``margin`` of the passage's best theme's similarity
      (a passage that is only loosely about a theme is not tagged with it when it is clearly
      about another). ``threshold`` may be one value or one per theme."""
    threshold: float | np.ndarray
    bonus: float
    solo: float | None = None
    margin: float | None = None

    @classmethod
    def configured(cls) -> TagRule:
        return cls(config.THEME_THRESHOLD, config.THEME_KEYWORD_BONUS, config.THEME_SOLO_SIMILARITY,
                   config.THEME_MARGIN)

    def describe(self) -> str:
        t = self.threshold
        thr = f"{t:.2f}" if np.ndim(t) == 0 else "per theme " + "/".join(f"{x:.2f}" for x in t)
        return (f"threshold {thr}, keyword bonus {self.bonus:.2f}, "
                f"keyword required below similarity {'off' if self.solo is None else f'{self.solo:.2f}'}, "
                f"margin to best theme {'off' if self.margin is None else f'{self.margin:.2f}'}")


def evidence_mask(similarity: np.ndarray, hits: np.ndarray, solo: float | None,
                  margin: float | None) -> np.ndarray:
    """Boolean (passages x themes): the lexical-evidence and margin conditions of a TagRule."""
    ok = np.ones(similarity.shape, dtype=bool)
    if solo is not None:
        ok &= (hits > 0) | (similarity >= solo)
    if margin is not None and similarity.size:
        ok &= similarity >= similarity.max(axis=1, keepdims=True) - margin
    return ok


def combine(similarity: np.ndarray, hits: np.ndarray, rule: TagRule | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scores and tags from similarities and keyword-hit counts (same shape), by ``rule``
    (default: the configured one)."""
    rule = rule or TagRule.configured()
    score = similarity + rule.bonus * np.minimum(hits, MAX_KEYWORDS)
    return score, (score >= rule.threshold) & evidence_mask(similarity, hits, rule.solo, rule.margin)


def tag_passages(passages: pd.DataFrame, passage_vectors: np.ndarray, themes: list[Theme],
                 theme_vectors: list[np.ndarray], rule: TagRule | None = None) -> pd.DataFrame:
    """Table ``theme_tags``: one row per passage and theme, passages in input order; tagged by
    ``rule`` (default: the configured one)."""
    sim = similarities(passage_vectors, themes, theme_vectors)
    found = keyword_evidence(passages["text"].tolist(), themes)
    hits = np.array([[len(k) for k in row] for row in found], dtype=float).reshape(sim.shape)
    score, tagged = combine(sim, hits, rule)
    n, m = sim.shape
    df = pd.DataFrame({
        "passage_id": np.repeat(passages["passage_id"].to_numpy(), m),
        "passage_key": np.repeat(passage_keys(passages).to_numpy(), m),
        "episode_id": np.repeat(passages["episode_id"].to_numpy(), m),
        "theme": np.tile([t.name for t in themes], n),
        "similarity": sim.ravel().astype(float), "keyword_hits": hits.ravel().astype(int),
        "keywords": [";".join(k) for row in found for k in row],
        "score": score.ravel().astype(float), "tagged": tagged.ravel(),
    })
    return TAGS.conform(df) if n else TAGS.empty()
