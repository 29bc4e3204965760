"""Score every passage against every theme (meaning + keyword evidence, of the passage and of its
neighbours) and tag it with the themes that apply; several themes per passage are allowed.

Two taggers share the evidence: ``ThemeModel`` (the default: a logistic model over theme-agnostic
features, fitted on the hand-labelled sample and stored in config.THEME_MODEL) and ``TagRule``
(similarity + keyword bonus over a threshold; used when no model file is configured)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from ..schema import Column, Table, register
from .lexicon import Theme

TAGS = register(Table("theme_tags", "Every (passage, theme) pair with its evidence and whether the theme applies. "
                      "Tags are made by the theme tagger (a model over similarity to data/themes.yaml and keywords, "
                      "of the passage and its context window), "
                      "not by a person; its measured accuracy: `python -m analysis evaluate-themes`.", (
    Column("passage_id", "str", "Passage (table topic_passages)."),
    Column("passage_key", "str", "Stable key '<episode_id>@<first utterance order>.<part>' (see analysis.themes.passage_keys)."),
    Column("episode_id", "str", "Episode slug."),
    Column("theme", "str", "Theme name from the lexicon."),
    Column("similarity", "float", "Highest cosine similarity of the passage to the theme's description or a seed phrase, -1 to 1."),
    Column("keyword_hits", "int", "Distinct theme keywords found in the passage."),
    Column("keywords", "str", "';'-joined keywords found (lower case); '' when none."),
    Column("context_similarity", "float", "Highest cosine similarity of the passage's context window (it, counted "
           "twice, and the previous and next passage of the episode) to the theme's texts, -1 to 1."),
    Column("score", "float", "The tagger's score: with the theme model (config.THEME_MODEL) the probability, 0 to 1, "
           "that the theme applies; without it similarity + keyword bonus (config.THEME_KEYWORD_BONUS per keyword, at most 2)."),
    Column("tagged", "bool", "The theme applies: score >= the model's threshold and >= its relative share of the "
           "passage's best theme's score (both stored with it), or without a model "
           "score >= config.THEME_THRESHOLD (and the optional TagRule conditions of config.py)."),
), key=("passage_id", "theme")))

MAX_KEYWORDS = 2  # keyword bonus counts at most this many distinct keywords
# Features of ThemeModel, per (passage, theme); none names a theme, so one model serves any lexicon.
FEATURES = ("similarity", "top2_similarity", "context_similarity", "context_top2_similarity",
            "similarity_above_mean", "context_similarity_above_mean", "keywords", "context_keywords", "keywords_per_100_words")
MAX_CONTEXT_KEYWORDS = 3  # keyword counts of the context window are capped here
MAX_KEYWORD_DENSITY = 5.0  # keywords per 100 words are capped here
CONTEXT_SELF_WEIGHT = 2.0  # in a passage's context vector the passage counts this many times each neighbour


def passage_keys(passages: pd.DataFrame) -> pd.Series:
    """Stable passage keys '<episode_id>@<first_order>.<part>' (part: 0-based among passages
    that start in the same utterance). Unlike passage_id, they do not shift when another part
    of the episode changes."""
    part = passages.groupby(["episode_id", "first_order"], sort=False).cumcount()
    return passages["episode_id"] + "@" + passages["first_order"].astype(str) + "." + part.astype(str)


def resolve_keys(keys, passages: pd.DataFrame, starts=None, exclusive: bool = False) -> list[str | None]:
    """Each hand-written passage key ('<episode_id>@<order>.<part>', a label file's) as the key of
    the passage of ``passages`` (episode_id, first_order, last_order, text) that holds it now.
    Passages are cut at speaker changes, so an episode whose speakers are inferred is cut anew
    when the speaker model changes, and a parser change can number the utterances anew; labels
    made by reading a passage stay. A key stays where a passage has it (and, given ``starts``,
    the text each labelled passage began with, that passage holds its start); else it moves to
    the passage of its episode drawing on utterance <order> (holding the start, given
    ``starts``), else, given ``starts``, to the episode's one passage opening with it.
    ``exclusive``: a passage goes to one key only (a label describes one passage): keys moved onto
    a passage that another key holds get None. None where no passage qualifies (the caller counts
    it as missing)."""
    keys = [str(k) for k in keys]
    current = passage_keys(passages)
    texts = {k: " ".join(t.split()) for k, t in zip(current, passages["text"])}
    by_episode = dict(iter(passages.assign(_key=current.to_numpy()).groupby("episode_id", sort=False)))

    def start(i: int) -> str:
        return " ".join(str(starts[i]).split())[:60] if starts is not None and starts[i] else ""

    def moved(i: int, key: str) -> str | None:
        episode, _, rest = key.rpartition("@")
        order = rest.split(".")[0]
        if episode not in by_episode or not order.isdigit():
            return None
        g, s = by_episode[episode], start(i)
        cands = [k for k, a, b in zip(g["_key"], g["first_order"], g["last_order"])
                 if a <= int(order) <= b and s in texts[k]]
        if not cands and s:
            opening = [k for k in g["_key"] if texts[k].startswith(s)]
            cands = opening if len(opening) == 1 else []
        return cands[0] if cands else None

    kept = [key in texts and start(i) in texts[key] for i, key in enumerate(keys)]
    out = [key if keep else moved(i, key) for i, (key, keep) in enumerate(zip(keys, kept))]
    if exclusive:
        taken = {k for k, keep in zip(keys, kept) if keep}
        moves = pd.Series([r for r, keep in zip(out, kept) if r is not None and not keep], dtype=object).value_counts()
        out = [r if keep or (r is not None and r not in taken and moves[r] == 1) else None
               for r, keep in zip(out, kept)]
    return out


def context_vectors(episode_ids: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Unit vectors of each passage's context: its vector (weighted CONTEXT_SELF_WEIGHT) plus those
    of the previous and next passage of the same episode (table order), normalised. Depends on
    the episode alone."""
    prev, nxt = neighbour_masks(episode_ids)
    out = CONTEXT_SELF_WEIGHT * np.asarray(vectors, dtype=np.float64)
    out[prev] += vectors[np.flatnonzero(prev) - 1]
    out[nxt] += vectors[np.flatnonzero(nxt) + 1]
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


def neighbour_masks(episode_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks: the row has a previous / next row of the same episode."""
    ep = np.asarray(episode_ids)
    same = ep[1:] == ep[:-1]
    return np.r_[False, same], np.r_[same, False]


def theme_features(episode_ids: np.ndarray, passage_vectors: np.ndarray, theme_vectors: list[np.ndarray],
                   hits: np.ndarray, word_counts: np.ndarray) -> np.ndarray:
    """(passages x themes x FEATURES) evidence: highest and mean-of-top-2 cosine similarity of the
    passage and of its context (``context_vectors``) to the theme's texts; the highest ones minus
    their mean over the lexicon's themes (how much this theme stands out for the passage); distinct keywords (capped at MAX_KEYWORDS), in the context window
    (capped at MAX_CONTEXT_KEYWORDS) and per 100 words (capped at MAX_KEYWORD_DENSITY)."""
    n, m = len(passage_vectors), len(theme_vectors)
    if not n:
        return np.zeros((0, m, len(FEATURES)))

    def sims(x):
        per = [x @ tv.T for tv in theme_vectors]
        top = np.stack([s.max(axis=1) for s in per], axis=1)
        top2 = np.stack([np.sort(s, axis=1)[:, -2:].mean(axis=1) for s in per], axis=1)
        return top, top2

    own, own2 = sims(np.asarray(passage_vectors, dtype=np.float64))
    ctx, ctx2 = sims(context_vectors(episode_ids, np.asarray(passage_vectors, dtype=np.float64)))
    prev, nxt = neighbour_masks(episode_ids)
    ctx_hits = np.array(hits, dtype=float, copy=True)
    ctx_hits[prev] += hits[np.flatnonzero(prev) - 1]
    ctx_hits[nxt] += hits[np.flatnonzero(nxt) + 1]
    density = hits / np.maximum(np.asarray(word_counts, dtype=float)[:, None], 1) * 100
    return np.stack([own, own2, ctx, ctx2, own - own.mean(axis=1, keepdims=True), ctx - ctx.mean(axis=1, keepdims=True),
                     np.minimum(hits, MAX_KEYWORDS), np.minimum(ctx_hits, MAX_CONTEXT_KEYWORDS),
                     np.minimum(density, MAX_KEYWORD_DENSITY)], axis=-1)


@dataclass(frozen=True)
class ThemeModel:
    """Logistic model of P(theme applies | FEATURES), shared by all themes (it names none, so a
    theme added to the lexicon is scored the same way); tags where the probability >= ``threshold``
    and, when ``relative`` is set, >= ``relative`` x the passage's highest probability over the
    lexicon's themes (a passage clearly about one theme is not also tagged with the themes it only
    touches). ``about``: how it was fitted (sample, cross-validated figures)."""
    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    about: str = ""
    relative: float | None = None

    def probability(self, x: np.ndarray) -> np.ndarray:
        """(passages x themes) probabilities from (passages x themes x features) evidence."""
        if tuple(self.features) != FEATURES:
            raise ValueError(f"theme model features {self.features} differ from this code's {FEATURES}: "
                             "refit it with `python -m analysis evaluate-themes --calibrate`")
        z = x @ np.asarray(self.coef) + self.intercept
        return 1 / (1 + np.exp(-z))

    def tag(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(passages x themes) probabilities and tags (see the class docstring)."""
        prob = self.probability(x)
        return prob, relative_tags(prob, self.threshold, self.relative)

    @classmethod
    def fit(cls, x: np.ndarray, truth: np.ndarray, threshold: float, c: float, about: str = "",
            relative: float | None = None) -> ThemeModel:
        """Fit on (passages x themes x features) evidence and boolean (passages x themes) labels:
        L2-regularised (inverse strength ``c``), classes weighted to balance."""
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
        lr.fit(x.reshape(-1, x.shape[-1]), truth.ravel())
        return cls(FEATURES, tuple(float(v) for v in lr.coef_[0]), float(lr.intercept_[0]), float(threshold), about,
                   None if relative is None else float(relative))

    def save(self, path: Path) -> None:
        from ..io import write_json

        write_json({"features": list(self.features), "coef": list(self.coef), "intercept": self.intercept,
                    "threshold": self.threshold, "relative": self.relative, "about": self.about}, Path(path))

    @classmethod
    def load(cls, path: Path) -> ThemeModel:
        """The model stored at ``path``; a clear error naming the file when it is malformed."""
        try:
            d = json.loads(Path(path).read_text(encoding="utf-8"))
            relative = d.get("relative")
            return cls(tuple(d["features"]), tuple(float(v) for v in d["coef"]), float(d["intercept"]),
                       float(d["threshold"]), str(d.get("about", "")), None if relative is None else float(relative))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}: not a theme model ({exc})") from exc

    @classmethod
    def configured(cls) -> ThemeModel | None:
        """The model of config.THEME_MODEL, or None when that is unset or absent."""
        path = config.THEME_MODEL
        return cls.load(path) if path is not None and Path(path).exists() else None


def relative_tags(prob: np.ndarray, threshold: float, relative: float | None) -> np.ndarray:
    """Boolean (passages x themes): probability >= ``threshold`` and, unless ``relative`` is None,
    >= ``relative`` x the row's highest probability."""
    tagged = prob >= threshold
    if relative is not None and prob.size:
        tagged &= prob >= relative * prob.max(axis=1, keepdims=True)
    return tagged


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


def evidence(passages: pd.DataFrame, passage_vectors: np.ndarray, themes: list[Theme],
             theme_vectors: list[np.ndarray]) -> tuple[np.ndarray, list[list[list[str]]]]:
    """(passages x themes x FEATURES) evidence of ``passages`` (episode order, as in table
    topic_passages) and the keywords found per passage and theme."""
    found = keyword_evidence(passages["text"].tolist(), themes)
    hits = np.array([[len(k) for k in row] for row in found], dtype=float).reshape(len(passages), len(themes))
    words = passages["text"].str.split().str.len().to_numpy() if len(passages) else np.zeros(0)
    return theme_features(passages["episode_id"].to_numpy(), passage_vectors, theme_vectors, hits, words), found


def tag_passages(passages: pd.DataFrame, passage_vectors: np.ndarray, themes: list[Theme],
                 theme_vectors: list[np.ndarray], tagger: TagRule | ThemeModel | None = None) -> pd.DataFrame:
    """Table ``theme_tags``: one row per passage and theme, passages in input order; tagged by
    ``tagger`` (default: the configured model, else the configured rule)."""
    x, found = evidence(passages, passage_vectors, themes, theme_vectors)
    tagger = tagger or ThemeModel.configured() or TagRule.configured()
    sim, hits = x[..., FEATURES.index("similarity")], x[..., FEATURES.index("keywords")]
    if isinstance(tagger, ThemeModel):
        score, tagged = tagger.tag(x)
    else:
        score, tagged = combine(sim, hits, tagger)
    n, m = sim.shape
    df = pd.DataFrame({
        "passage_id": np.repeat(passages["passage_id"].to_numpy(), m),
        "passage_key": np.repeat(passage_keys(passages).to_numpy(), m),
        "episode_id": np.repeat(passages["episode_id"].to_numpy(), m),
        "theme": np.tile([t.name for t in themes], n),
        "similarity": sim.ravel().astype(float),
        "keyword_hits": np.array([len(k) for row in found for k in row], dtype=int),
        "keywords": [";".join(k) for row in found for k in row],
        "context_similarity": x[..., FEATURES.index("context_similarity")].ravel().astype(float),
        "score": score.ravel().astype(float), "tagged": tagged.ravel(),
    })
    return TAGS.conform(df) if n else TAGS.empty()
