"""Theme (and topic) shares across episodes, per person, and along each episode's minutes."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .. import config
from ..schema import Column, Table, register

MADE_BY = "Theme tags are model-made (analysis.themes); a passage may carry several themes, so shares do not sum to 1."

PER_EPISODE = register(Table("themes_per_episode", f"Theme share of each episode's passage words. {MADE_BY}", (
    Column("episode_id", "str", "Episode slug."),
    Column("show", "str", "Show name."),
    Column("published", "date", "Publication date.", nullable=True),
    Column("theme", "str", "Theme name."),
    Column("passages", "int", "Passages tagged with the theme."),
    Column("words", "int", "Words in those passages."),
    Column("share", "float", "words / all passage words of the episode, 0-1."),
), key=("episode_id", "theme")))

PER_SPEAKER = register(Table("themes_per_speaker", f"Theme share of each speaker's passage words per episode. {MADE_BY}", (
    Column("episode_id", "str", "Episode slug."),
    Column("published", "date", "Publication date.", nullable=True),
    Column("speaker_id", "str", "Person slug; 'unknown' when not attributed."),
    Column("speaker", "str", "Display name; 'unknown' when not attributed."),
    Column("speaker_role", "str", "host, guest or unknown."),
    Column("theme", "str", "Theme name."),
    Column("passages", "int", "The speaker's passages tagged with the theme."),
    Column("words", "int", "Words in those passages."),
    Column("share", "float", "words / all the speaker's passage words in the episode, 0-1."),
), key=("episode_id", "speaker_id", "theme")))

TIMELINE = register(Table("theme_timeline", "Theme and topic intensity along each episode: share of each time bin's "
                          f"passage words (passages binned by their middle time). {MADE_BY}", (
    Column("episode_id", "str", "Episode slug."),
    Column("kind", "str", "theme, or topic (from topic_assignments; labels made by the topic model).",
           allowed=("theme", "topic")),
    Column("name", "str", "Theme name or topic label."),
    Column("minute", "float", "Bin start, minutes from the episode start (width config.THEME_BIN_MIN)."),
    Column("words", "int", "Passage words in the bin carrying the theme or topic."),
    Column("share", "float", "words / all passage words in the bin, 0-1."),
    Column("smoothed", "float", "share averaged over config.THEME_SMOOTH_BINS bins centred on this one."),
    Column("estimated", "bool", "True when most of the bin's words (of the episode's, for an empty bin) have estimated times."),
), key=("episode_id", "kind", "name", "minute")))


def _shares(tagged: pd.DataFrame, totals: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Passages and words per (by..., theme) over tagged rows, with share of ``totals`` words."""
    g = tagged.groupby(by + ["theme"], as_index=False).agg(passages=("passage_id", "size"), words=("word_count", "sum"))
    g = g.merge(totals, on=by, how="left")
    g["share"] = g["words"] / g["total"]
    return g


def per_episode(tags: pd.DataFrame, passages: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """Table ``themes_per_episode``: every episode x theme (0 where the theme never occurs)."""
    p = passages[["passage_id", "episode_id", "word_count"]]
    t = tags[tags["tagged"]].merge(p, on=["passage_id", "episode_id"])
    totals = p.groupby("episode_id", as_index=False)["word_count"].sum().rename(columns={"word_count": "total"})
    grid = pd.MultiIndex.from_product([sorted(p["episode_id"].unique()), tags["theme"].unique()],
                                      names=["episode_id", "theme"]).to_frame(index=False)
    out = grid.merge(_shares(t, totals, ["episode_id"]).drop(columns="total"), how="left").fillna(
        {"passages": 0, "words": 0, "share": 0.0})
    out = out.merge(episodes[["episode_id", "show", "published"]], on="episode_id", how="left")
    return PER_EPISODE.conform(out.sort_values(["published", "episode_id", "theme"], kind="stable"))


def per_speaker(tags: pd.DataFrame, passages: pd.DataFrame, episodes: pd.DataFrame) -> pd.DataFrame:
    """Table ``themes_per_speaker``: every (episode, speaker) x theme."""
    p = passages[["passage_id", "episode_id", "word_count", "speaker_id", "speaker", "speaker_role"]].copy()
    p[["speaker_id", "speaker"]] = p[["speaker_id", "speaker"]].fillna("unknown")
    by = ["episode_id", "speaker_id"]
    t = tags[tags["tagged"]].merge(p, on=["passage_id", "episode_id"])
    totals = p.groupby(by, as_index=False)["word_count"].sum().rename(columns={"word_count": "total"})
    people = p.drop_duplicates(by)[by + ["speaker", "speaker_role"]]
    grid = people.merge(pd.DataFrame({"theme": tags["theme"].unique()}), how="cross")
    out = grid.merge(_shares(t, totals, by)[by + ["theme", "passages", "words", "share"]], how="left").fillna(
        {"passages": 0, "words": 0, "share": 0.0})
    out = out.merge(episodes[["episode_id", "published"]], on="episode_id", how="left")
    return PER_SPEAKER.conform(out.sort_values(["published", "episode_id", "speaker_id", "theme"], kind="stable"))


def bin_passages(passages: pd.DataFrame, width_min: float) -> pd.DataFrame:
    """Passages with a time, each with ``minute``: the start of the bin holding its middle time
    (minutes), and ``estimated``: its time is not from the file."""
    p = passages[passages["start_s"].notna()].copy()
    middle = (p["start_s"] + p["end_s"].fillna(p["start_s"])) / 2 / 60
    p["minute"] = np.floor(middle / width_min) * width_min
    p["estimated"] = p["time_source"] != "file"
    return p


def timeline(labels: pd.DataFrame, passages: pd.DataFrame, kind: str, width_min: float | None = None,
             smooth_bins: int | None = None) -> pd.DataFrame:
    """Rows of table ``theme_timeline`` for ``labels`` (columns passage_id, name: one row per
    label a passage carries): share of each bin's words, every bin from the episode's first to
    last (0 where the label is absent), smoothed by a centred moving average."""
    width = width_min or config.THEME_BIN_MIN
    window = smooth_bins or config.THEME_SMOOTH_BINS
    binned = bin_passages(passages, width)
    # labels joined to their passages once (not once per episode: that grew with the square of the corpus)
    hits = dict(list(labels.merge(binned[["passage_id", "episode_id", "minute", "word_count"]], on="passage_id")
                     .groupby("episode_id", sort=False)))
    rows = []
    for ep, p in binned.groupby("episode_id", sort=True):
        if ep not in hits:
            continue
        bins = np.arange(p["minute"].min(), p["minute"].max() + width / 2, width)
        total = p.groupby("minute")["word_count"].sum().reindex(bins, fill_value=0)
        est = (p["word_count"] * p["estimated"]).groupby(p["minute"]).sum().reindex(bins, fill_value=0)
        episode_estimated = bool((p["word_count"] * p["estimated"]).sum() > p["word_count"].sum() / 2)
        # bins x labels (sorted), all labels of the episode at once
        words = (hits[ep].groupby(["name", "minute"])["word_count"].sum().unstack("name", fill_value=0)
                 .reindex(bins, fill_value=0))
        share = words.div(total.where(total > 0), axis=0).fillna(0.0)
        smoothed = share.rolling(window, center=True, min_periods=1).mean()
        names = words.columns.to_numpy()
        rows.append(pd.DataFrame({
            "episode_id": ep, "kind": kind, "name": np.repeat(names, len(bins)), "minute": np.tile(bins, len(names)),
            "words": words.to_numpy().T.ravel(), "share": share.to_numpy().T.ravel(),
            "smoothed": smoothed.to_numpy().T.ravel(),
            "estimated": np.tile(np.where(total > 0, est > total / 2, episode_estimated), len(names)),
        }))
    return pd.concat(rows, ignore_index=True) if rows else TIMELINE.empty()


def timelines(tags: pd.DataFrame, passages: pd.DataFrame, topic_assignments: pd.DataFrame | None,
              topics: pd.DataFrame | None) -> pd.DataFrame:
    """Table ``theme_timeline``: themes, and topics when the topic tables are given (outliers left out)."""
    parts = [timeline(tags.loc[tags["tagged"], ["passage_id", "theme"]].rename(columns={"theme": "name"}),
                      passages, "theme")]
    if topic_assignments is not None and topics is not None:
        a = topic_assignments[topic_assignments["topic_id"] >= 0].merge(topics[["topic_id", "label"]], on="topic_id")
        parts.append(timeline(a[["passage_id", "label"]].rename(columns={"label": "name"}), passages, "topic"))
    return TIMELINE.conform(pd.concat(parts, ignore_index=True))
