"""Run the theme stage: tag passages episode by episode (an episode's tags are cached and reused
while its passages, the lexicon, the tagger and its code are unchanged), build the corpus-wide
timelines and shares from the tags and write the tables; skipped when the passages, the lexicon,
the settings, the topic tables and this code are unchanged. It also measures the tagger on the
hand-labelled sample (theme_evaluation.json, read by notebook 04 and the site), again only when the
sample, the labelled episodes' passages, the tagger or this code changed."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import config
from ..corpus import EPISODES
from ..embeddings import embed
from ..io import content_hash, load_keyed, load_tables, store_keyed, write_json, write_table
from ..topics.passages import PASSAGES, make_passages
from ..topics.tables import ASSIGNMENTS, TOPICS
from .evaluate import not_measured
from .lexicon import Theme, load_lexicon
from .tagging import TAGS, TagRule, evidence, passage_keys, resolve_keys, tag_passages
from .timelines import PER_EPISODE, PER_SPEAKER, TIMELINE, per_episode, per_speaker, timelines

OUTPUTS = {t.name: t for t in (TAGS, PER_EPISODE, PER_SPEAKER, TIMELINE)}
KEY_FILE = "themes.key"  # under config.CACHE: the inputs key of the tables in data/processed
EVALUATION = "theme_evaluation.json"  # under config.PROCESSED: the tagger measured on the labelled sample
EVALUATION_KEY = "themes.evaluation.key"  # under config.CACHE: the inputs key of that file
TAG_CACHE = "themes"  # under config.CACHE: <episode_id>.pkl, the episode's theme_tags rows and their key
_CODE = content_hash(*(p.read_bytes() for p in sorted(Path(__file__).parent.glob("*.py"))))
# the code an episode's tags depend on: evidence and tagger, lexicon, theme-phrase vectors (this file), embeddings
_TAG_CODE = content_hash(*(p.read_bytes() for p in (Path(__file__).parent / "tagging.py", Path(__file__).parent / "lexicon.py",
                                                      Path(__file__), Path(__file__).parent.parent / "embeddings.py")))


@dataclass
class ThemeRun:
    themes: list[Theme]
    tables: dict[str, pd.DataFrame]
    recomputed: bool
    timings: dict[str, float] = field(default_factory=dict)
    scored: list[str] = field(default_factory=list)  # episodes whose passages were scored (the others' tags were cached)


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
        "\n".join(passages["passage_id"] + "\t" + passages["text"]), tagger_key(lexicon_path),
        str(config.EMBEDDING_BATCH_SIZE), str(config.THEME_BIN_MIN), str(config.THEME_SMOOTH_BINS), _CODE,
        *(p.read_bytes() if p.exists() else b"" for p in topic_files),
    )


def tagger_key(lexicon_path: Path) -> str:
    """Key of everything but the passages that an episode's theme tags depend on: the lexicon,
    the embedding model, the tagger (theme model file, or the rule's settings) and the code."""
    return content_hash(
        Path(lexicon_path).read_bytes(), config.EMBEDDING_MODEL, str(config.THEME_THRESHOLD),
        str(config.THEME_KEYWORD_BONUS), str(config.THEME_SOLO_SIMILARITY), str(config.THEME_MARGIN),
        config.THEME_MODEL.read_bytes() if config.THEME_MODEL is not None and config.THEME_MODEL.exists() else b"",
        _TAG_CODE)


def tag_episodes(passages: pd.DataFrame, themes: list[Theme], lexicon_path: Path,
                 use_cache: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """Table ``theme_tags`` (passages in input order, grouped by episode) and the episodes scored.
    Context windows stay inside an episode, so an episode's rows depend only on its passages and
    ``tagger_key``: they are kept in config.CACHE/themes/<episode_id>.pkl and reused while both
    are unchanged; only the other episodes' passages are embedded and scored (in one call)."""
    base = tagger_key(lexicon_path)
    groups = dict(list(passages.groupby("episode_id", sort=False)))
    keys = {ep: content_hash(base, "\n".join(p["passage_id"] + "\t" + p["first_order"].astype(str) + "\t" + p["text"]))
            for ep, p in groups.items()}
    cache = config.CACHE / TAG_CACHE
    parts = {ep: load_keyed(cache / f"{ep}.pkl", keys[ep]) if use_cache else None for ep in groups}
    scored = [ep for ep, part in parts.items() if part is None]
    if scored:
        fresh = passages[passages["episode_id"].isin(scored)]
        tags = tag_passages(fresh, embed(fresh["text"].tolist()), themes, theme_vectors(themes, use_cache=use_cache))
        for ep, part in tags.groupby("episode_id", sort=False):
            parts[ep] = part.reset_index(drop=True)
            if use_cache:
                store_keyed(cache / f"{ep}.pkl", keys[ep], parts[ep])
    if not groups:
        return TAGS.empty(), []
    return TAGS.conform(pd.concat([parts[ep] for ep in groups], ignore_index=True)), scored


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
    themes = load_lexicon(path, missing_ok=True)
    passages = conversation_passages(tables)
    if not themes:  # nothing to tag with: empty tables, the tagger unmeasured, and why
        out = {name: table.empty() for name, table in OUTPUTS.items()}
        if write:
            for name, df in out.items():
                write_table(df, OUTPUTS[name], config.PROCESSED / f"{name}.parquet")
            write_json(dict(not_measured(0, 0, 0)[1], error=f"no themes in {path}"), config.PROCESSED / EVALUATION)
        return ThemeRun(themes, out, True, timings)
    key = inputs_key(passages, path)
    key_path = config.CACHE / KEY_FILE
    outputs = [config.PROCESSED / f"{n}.parquet" for n in OUTPUTS]
    timings["load_s"] = time.perf_counter() - t
    if (not force and use_cache and write and key_path.exists() and key_path.read_text() == key
            and all(p.exists() for p in outputs)):
        measure(passages, path, timings)
        return ThemeRun(themes, load_tables(*OUTPUTS.values()), False, timings)

    t = time.perf_counter()
    tags, scored = tag_episodes(passages, themes, path, use_cache=use_cache)
    timings["tagging_s"] = time.perf_counter() - t
    t = time.perf_counter()
    episodes = (tables or load_tables(EPISODES))["episodes"]
    assignments, topics = _topic_tables()
    out = {TAGS.name: tags,
           PER_EPISODE.name: per_episode(tags, passages, episodes),
           PER_SPEAKER.name: per_speaker(tags, passages, episodes),
           TIMELINE.name: timelines(tags, passages, assignments, topics)}
    timings["tables_s"] = time.perf_counter() - t
    if write:
        for name, df in out.items():
            write_table(df, OUTPUTS[name], config.PROCESSED / f"{name}.parquet")
        if use_cache:
            key_path.parent.mkdir(parents=True, exist_ok=True)
            key_path.write_text(key)
        measure(passages, path, timings, force=force or not use_cache)
    return ThemeRun(themes, out, True, timings, scored)


def measure(passages: pd.DataFrame, lexicon_path: Path, timings: dict[str, float], force: bool = False) -> None:
    """Write config.PROCESSED/theme_evaluation.json (``evaluate_sample``'s figures) unless its
    inputs are unchanged: the labelled sample, the passages of the episodes it labels (an added
    episode that it does not label changes nothing), the tagger (``tagger_key``) and this code."""
    from .evaluate import SAMPLE, SampleError, episode_of, load_sample, not_measured

    t = time.perf_counter()
    sample_path = config.ANNOTATIONS / SAMPLE
    try:
        labelled = (set(episode_of(load_sample(sample_path)["passage_key"].astype(str)))
                    if sample_path.exists() else set())
    except SampleError:
        labelled = set()  # evaluate_sample names the bad line below
    mine = passages[passages["episode_id"].isin(labelled)]
    key = content_hash(sample_path.read_bytes() if sample_path.exists() else b"", tagger_key(lexicon_path), _CODE,
                       "\n".join(mine["passage_id"] + "\t" + mine["text"]))
    key_path, out = config.CACHE / EVALUATION_KEY, config.PROCESSED / EVALUATION
    if not force and out.exists() and key_path.exists() and key_path.read_text() == key:
        return
    try:
        figures = evaluate_sample(passages=mine, lexicon=lexicon_path)[1]
    except SampleError as exc:  # the tags stand; the accuracy is then said to be unmeasured, and why
        print(f"warning: theme tagger not measured: {exc}", file=sys.stderr)
        figures = dict(not_measured(0, 0, 0)[1], error=str(exc))
    write_json(figures, out)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_text(key)
    timings["evaluation_s"] = time.perf_counter() - t


def load_evaluation() -> dict:
    """The figures the theme stage measured (theme_evaluation.json, see ``measure``)."""
    import json

    path = config.PROCESSED / EVALUATION
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `python -m analysis themes` (or `make themes`) first")
    return json.loads(path.read_text())


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
    if not result.themes:
        print(f"themes: no themes in {config.THEMES}: theme tables written empty. Write your themes there, or "
              "`podlens themes draft` for a starting lexicon from the fitted topics.")
        return 0
    print(summary(result))
    return 0


def evaluate_sample(recalibrate: bool = False, passages: pd.DataFrame | None = None,
                    lexicon: Path | None = None) -> tuple[str, dict]:
    """The tagger measured on the labelled sample (``analysis.themes.evaluate.report``: text and
    figures) over the passages of this corpus's episodes that the sample labels (whole episodes:
    context windows need them; ``passages``: the conversation passages, cut here when None;
    ``lexicon``: config.THEMES when None). A
    corpus with too few of them gets the figures measured on the reference sample, said to be so
    (``evaluate.not_measured``)."""
    from .evaluate import SAMPLE, episode_of, load_sample, report

    themes = load_lexicon(lexicon)
    names = [t.name for t in themes]
    path = config.ANNOTATIONS / SAMPLE
    sample = (load_sample(path, themes=names) if path.exists()
              else pd.DataFrame(columns=["passage_key", "split", "themes", "text_start", "line"]))
    passages = conversation_passages() if passages is None else passages
    passages = passages[passages["episode_id"].isin(set(episode_of(sample["passage_key"].astype(str))))]
    # each labelled key as the passage holding its utterance now (passages are cut anew when speakers change)
    # (one passage per label; a key no passage holds is counted missing by the report)
    if len(sample):
        resolved = resolve_keys(sample["passage_key"], passages, sample["text_start"].tolist(), exclusive=True)
        sample = sample.assign(passage_key=[r or k for k, r in zip(sample["passage_key"], resolved)])
    # evidence only: the stored model is not needed here (--calibrate replaces it)
    tags = tag_passages(passages, embed(passages["text"].tolist()), themes, theme_vectors(themes), TagRule.configured())
    return report(tags, names, sample, recalibrate=recalibrate, features=passage_evidence(themes, passages))


def main_evaluate_themes(args) -> int:
    """``python -m analysis evaluate-themes [--calibrate] [--json]``."""
    import json

    from .evaluate import SampleError

    try:
        text, figures = evaluate_sample(recalibrate=getattr(args, "calibrate", False))
    except SampleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(figures, indent=2, default=float) if getattr(args, "json", False) else text)
    write_json(figures, config.PROCESSED / EVALUATION)
    return 0
