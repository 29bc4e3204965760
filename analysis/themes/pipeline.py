"""Run the theme stage: tag passages, build the timelines and write the tables; skipped when
the passages, the lexicon, the settings, the topic tables and this code are unchanged."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from ..corpus import load_corpus
from ..embeddings import embed
from ..io import content_hash, load_tables, write_json, write_table
from ..topics.passages import PASSAGES, make_passages
from ..topics.tables import ASSIGNMENTS, TOPICS
from .lexicon import Theme, load_lexicon
from .tagging import TAGS, TagRule, evidence, passage_keys, tag_passages
from .timelines import PER_EPISODE, PER_SPEAKER, TIMELINE, per_episode, per_speaker, timelines

OUTPUTS = {t.name: t for t in (TAGS, PER_EPISODE, PER_SPEAKER, TIMELINE)}
KEY_FILE = "themes.key"  # under config.CACHE: the inputs key of the tables in data/processed
_CODE = content_hash(*(p.read_bytes() for p in sorted(Path(__file__).parent.glob("*.py"))))


@dataclass
class ThemeRun:
    themes: list[Theme]
    tables: dict[str, pd.DataFrame]
    recomputed: bool
    timings: dict[str, float] = field(default_factory=dict)


def theme_vectors(themes: list[Theme], use_cache: bool = True) -> list[np.ndarray]:
    """Unit embeddings of each theme's description and seeds (rows), one array per theme."""
    texts = [t.texts for t in themes]
    flat = embed([x for ts in texts for x in ts], use_cache=use_cache)
    out, i = [], 0
    for ts in texts:
        out.append(flat[i:i + len(ts)])
        i += len(ts)
    return out


def _topic_tables() -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    try:
        t = load_tables(ASSIGNMENTS, TOPICS)
    except FileNotFoundError:
        return None, None
    return t[ASSIGNMENTS.name], t[TOPICS.name]


def conversation_passages(tables: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The topic stage's passages: table topic_passages from data/processed, or, when corpus
    ``tables`` are given (tests, benchmarks), cut from them the same way."""
    if tables is not None:
        return make_passages(tables["utterances"], tables["episodes"])
    return load_tables(PASSAGES)[PASSAGES.name]


def inputs_key(passages: pd.DataFrame, lexicon_path: Path) -> str:
    topic_files = [config.PROCESSED / f"{n}.parquet" for n in (ASSIGNMENTS.name, TOPICS.name)]
    return content_hash(
        "\n".join(passages["passage_id"] + "\t" + passages["text"]), Path(lexicon_path).read_bytes(),
        config.EMBEDDING_MODEL, str(config.EMBEDDING_BATCH_SIZE), str(config.THEME_THRESHOLD),
        str(config.THEME_KEYWORD_BONUS), str(config.THEME_SOLO_SIMILARITY), str(config.THEME_MARGIN),
        config.THEME_MODEL.read_bytes() if config.THEME_MODEL is not None and config.THEME_MODEL.exists() else b"",
        str(config.THEME_BIN_MIN), str(config.THEME_SMOOTH_BINS), _CODE,
        *(p.read_bytes() if p.exists() else b"" for p in topic_files),
    )


def run(force: bool = False, write: bool = True, use_cache: bool = True, lexicon: Path | None = None,
        tables: dict[str, pd.DataFrame] | None = None) -> ThemeRun:
    """Tag every passage with its themes and write tables theme_tags, themes_per_episode,
    themes_per_speaker and theme_timeline. Reads the corpus (``tables`` or data/processed) and,
    when present, the topic tables; unchanged inputs reload the written tables instead.
    Passage embeddings always come through the embedding cache (the topic stage fills it);
    ``use_cache=False`` ignores this stage's own caches (inputs key, theme-phrase vectors)."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    path = Path(lexicon or config.THEMES)
    themes = load_lexicon(path)
    passages = conversation_passages(tables)
    key = inputs_key(passages, path)
    key_path = config.CACHE / KEY_FILE
    outputs = [config.PROCESSED / f"{n}.parquet" for n in OUTPUTS]
    timings["load_s"] = time.perf_counter() - t
    if (not force and use_cache and write and key_path.exists() and key_path.read_text() == key
            and all(p.exists() for p in outputs)):
        return ThemeRun(themes, load_tables(*OUTPUTS.values()), False, timings)

    t = time.perf_counter()
    corpus = tables or load_corpus()
    vectors = embed(passages["text"].tolist())
    tv = theme_vectors(themes, use_cache=use_cache)
    timings["embedding_s"] = time.perf_counter() - t
    t = time.perf_counter()
    tags = tag_passages(passages, vectors, themes, tv)
    assignments, topics = _topic_tables()
    out = {TAGS.name: tags,
           PER_EPISODE.name: per_episode(tags, passages, corpus["episodes"]),
           PER_SPEAKER.name: per_speaker(tags, passages, corpus["episodes"]),
           TIMELINE.name: timelines(tags, passages, assignments, topics)}
    timings["tagging_s"] = time.perf_counter() - t
    if write:
        for name, df in out.items():
            write_table(df, OUTPUTS[name], config.PROCESSED / f"{name}.parquet")
        if use_cache:
            key_path.parent.mkdir(parents=True, exist_ok=True)
            key_path.write_text(key)
    return ThemeRun(themes, out, True, timings)


def passage_evidence(themes: list[Theme], passages: pd.DataFrame | None = None,
                     tables: dict[str, pd.DataFrame] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Passage keys and their (passages x themes x FEATURES) evidence, for measuring the theme
    model (analysis.themes.evaluate.report). Embeddings come through the cache."""
    passages = conversation_passages(tables) if passages is None else passages
    x, _ = evidence(passages, embed(passages["text"].tolist()), themes, theme_vectors(themes))
    return passage_keys(passages).to_numpy(), x


def profile(tables: dict[str, pd.DataFrame] | None = None) -> dict[str, float]:
    """Per-step timings (seconds) of a run that recomputes everything of this stage (theme
    phrases encoded afresh; passage embeddings from the topic stage's cache), writing nothing."""
    t = time.perf_counter()
    result = run(force=True, write=False, use_cache=False, tables=tables)
    return dict(result.timings, total_s=time.perf_counter() - t)


def summary(result: ThemeRun) -> str:
    """Short report: passages tagged, themes per passage, the share of each theme per episode."""
    tags = result.tables[TAGS.name]
    per = tags.groupby("passage_id")["tagged"].sum()
    lines = [(f"themes: {len(result.themes)} themes, {tags['passage_id'].nunique()} passages, "
              f"{(per > 0).mean():.0%} with at least one theme, {per.mean():.2f} themes per passage "
              f"({'recomputed' if result.recomputed else 'unchanged, tables reloaded'}) "
              "[tags are model-made; accuracy: python -m analysis evaluate-themes]")]
    pe = result.tables[PER_EPISODE.name]
    grid = pe.pivot_table(index="theme", columns="episode_id", values="share", sort=False)
    order = pe.drop_duplicates("episode_id")["episode_id"].tolist()
    lines.append("share of each episode's passage words (episodes by publication date):")
    lines.append(f"  {'theme':<40} " + " ".join(f"{e[:12]:>12}" for e in order))
    for theme in [t.name for t in result.themes]:
        lines.append(f"  {theme:<40} " + " ".join(f"{grid.at[theme, e]:>12.0%}" for e in order))
    return "\n".join(lines)


def main_themes(args) -> int:
    """``python -m analysis themes [--force]``."""
    result = run(force=getattr(args, "force", False))
    write_json(result.timings, config.PROCESSED / "themes_timings.json")
    print(summary(result))
    return 0


def main_evaluate_themes(args) -> int:
    """``python -m analysis evaluate-themes [--calibrate] [--json]``."""
    import json

    from .evaluate import load_sample, report

    themes = load_lexicon()
    names = [t.name for t in themes]
    passages = conversation_passages()
    # evidence only: the stored model is not needed here (--calibrate replaces it)
    tags = tag_passages(passages, embed(passages["text"].tolist()), themes, theme_vectors(themes), TagRule.configured())
    text, figures = report(tags, names, load_sample(themes=names),
                           recalibrate=getattr(args, "calibrate", False),
                           features=passage_evidence(themes, passages))
    print(json.dumps(figures, indent=2, default=float) if getattr(args, "json", False) else text)
    write_json(figures, config.PROCESSED / "theme_evaluation.json")
    return 0
