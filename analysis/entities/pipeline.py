"""Run the entity stage: mentions per episode (cached), then the corpus tables; and the hand
check of the top entities against data/annotations/entities.top30.tsv."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from .. import config
from ..corpus import load_corpus
from ..io import write_json, write_table
from ..themes.pipeline import conversation_passages
from .aliases import AliasTable, load_aliases, with_catalog
from .extract import MENTIONS, episodes_mentions
from .tables import OUTPUTS, build_tables, top_entities

CHECK = "entities.top30.tsv"  # hand verdicts on the corpus's top entities (under config.ANNOTATIONS)
VERDICTS = ("ok", "wrong-name", "not-an-entity")


def first_names(speakers: pd.DataFrame) -> dict[str, dict[str, str]]:
    """Per episode: lower-cased first name -> full name of its resolved people, when only one
    of them has that first name (so "Sam" means the guest Sam Altman in his own episode)."""
    out = {}
    people = speakers[speakers["resolved"] & speakers["name"].str.contains(" ", regex=False)]
    for ep, g in people.groupby("episode_id"):
        firsts = g["name"].str.split().str[0].str.lower()
        unique = firsts[~firsts.duplicated(keep=False)]
        out[ep] = dict(zip(unique, g.loc[unique.index, "name"]))
    return out


def run(tables: dict[str, pd.DataFrame] | None = None, write: bool = True, interim: Path | None = None) -> dict:
    """Mentions of every episode (extracted only for episodes whose inputs changed) and the
    entity tables. Returns tables, the episodes extracted and timings."""
    t0 = time.perf_counter()
    corpus = tables or load_corpus()
    aliases = load_aliases() if config.ENTITY_ALIASES.exists() else AliasTable([])
    table = with_catalog(aliases, corpus["speakers"], corpus["episodes"])
    names = first_names(corpus["speakers"])
    utt = corpus["utterances"]
    conv = utt[utt["is_conversation"] & (utt["word_count"] > 0)].sort_values(["episode_id", "order"])
    episodes = [g for _, g in conv.groupby("episode_id", sort=True)]
    found = episodes_mentions(episodes, table, [names.get(g["episode_id"].iloc[0], {}) for g in episodes],
                              directory=interim)
    parts = [m for m, _ in found]
    extracted = [g["episode_id"].iloc[0] for g, (_, new) in zip(episodes, found) if new]
    mentions = MENTIONS.conform(pd.concat(parts, ignore_index=True)) if parts else MENTIONS.empty()
    passages = conversation_passages(tables)
    out = {MENTIONS.name: mentions, **build_tables(mentions, passages)}
    if write:
        for name, df in out.items():
            write_table(df, MENTIONS if name == MENTIONS.name else OUTPUTS[name], config.PROCESSED / f"{name}.parquet")
    return {"tables": out, "extracted": extracted, "seconds": time.perf_counter() - t0}


def load_check(path: Path | None = None) -> pd.DataFrame:
    """Hand verdicts: entity, verdict (ok | wrong-name | not-an-entity), note."""
    path = Path(path or config.ANNOTATIONS / CHECK)
    df = pd.read_csv(path, sep="\t", comment="#", dtype=str, keep_default_na=False)
    bad = df[~df["verdict"].isin(VERDICTS)]
    if len(bad):
        raise ValueError(f"{path}: verdict must be one of {VERDICTS}: {bad['entity'].tolist()}")
    return df


def check_report(mentions: pd.DataFrame, n: int = 30) -> tuple[str, dict]:
    """The top ``n`` entities with the hand verdicts; entities without a verdict are listed as
    unchecked (the check file needs updating)."""
    top = top_entities(mentions, n)
    try:
        verdicts = load_check().set_index("entity")
    except FileNotFoundError:
        verdicts = pd.DataFrame(columns=["verdict", "note"])
    lines = [f"top {n} entities of the corpus, with the hand check in data/annotations/{CHECK}:",
             f"  {'#':>2} {'entity':<24} {'label':<8} {'mentions':>8} {'eps':>3}  {'verdict':<14} spellings"]
    counts = {v: 0 for v in (*VERDICTS, "unchecked")}
    for i, r in enumerate(top.itertuples(), 1):
        v = verdicts["verdict"].get(r.entity, "unchecked")
        counts[v] += 1
        lines.append(f"  {i:>2} {r.entity:<24} {r.label:<8} {r.mentions:>8} {r.episodes:>3}  {v:<14} {r.spellings}")
    lines.append(f"real and correctly normalised: {counts['ok']}/{len(top)} (target >= 27/30); "
                 f"wrong name {counts['wrong-name']}, not an entity {counts['not-an-entity']}, "
                 f"unchecked {counts['unchecked']}")
    return "\n".join(lines), {"top": len(top), **counts}


def check_sentence(checked: dict) -> str:
    """What the hand check of the top entities found (``check_report``'s figures), or that
    nobody has checked them."""
    if checked["top"] and checked["unchecked"] == checked["top"]:
        return (f"The {checked['top']} most mentioned entities have **not been checked by hand** "
                f"(no verdicts in data/{config.data_relative(config.ANNOTATIONS / CHECK)}; `python -m analysis entities "
                "--check` lists them).")
    return (f"Of the {checked['top']} most mentioned entities, **{checked['ok']}** are real and correctly normalised "
            f"({checked['wrong-name']} wrong name, {checked['not-an-entity']} not an entity, "
            f"{checked['unchecked']} unchecked).")


def main_entities(args) -> int:
    """``python -m analysis entities [--check]``."""
    result = run()
    if not config.ENTITY_ALIASES.exists():
        print(f"entities: no alias table at {config.ENTITY_ALIASES}: the catalog's people and shows and spaCy's "
              "NER alone (a new project's data/entities.yaml shows the format)")
    m = result["tables"][MENTIONS.name]
    print(f"entities: {len(m)} mentions of {m['entity'].nunique()} entities in {m['episode_id'].nunique()} episodes; "
          f"NER run on {len(result['extracted'])} episode(s), the rest from cache "
          f"({result['seconds']:.1f}s) [found by spaCy NER + alias table]")
    write_json({"seconds": result["seconds"], "extracted": result["extracted"]}, config.PROCESSED / "entities_timings.json")
    if getattr(args, "check", False):
        text, figures = check_report(m)
        print(text)
        write_json(figures, config.PROCESSED / "entity_check.json")
    else:
        pe = result["tables"]["entities_per_episode"]
        for ep, g in pe[pe["rank"] <= 8].groupby("episode_id"):
            print(f"  {ep}: " + ", ".join(f"{r.entity} ({r.mentions})" for r in g.itertuples()))
    return 0
