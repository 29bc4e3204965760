"""What the site shows, read once: every table in data/processed (optional ones may be
absent), the evaluation files, episode display names and page paths."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ..figures.format import episode_names, with_names


class SiteData:
    """Tables by name (``data["utterances"]``), ``has(name)``, evaluations and names."""

    def __init__(self, processed: Path):
        self.processed = Path(processed)
        self.tables = {p.stem: pd.read_parquet(p) for p in sorted(self.processed.glob("*.parquet"))}
        self.evaluations = {p.stem: json.loads(p.read_text()) for p in sorted(self.processed.glob("*_evaluation.json"))}
        if not self.has("episodes") or not self.has("utterances"):
            raise FileNotFoundError(f"{self.processed}: no corpus tables; run `python -m analysis corpus` first")
        eps = self.tables["episodes"]
        self.episodes = eps.sort_values(["published", "episode_id"], ascending=[False, True],
                                        na_position="last").reset_index(drop=True)
        self.names = episode_names(self.episodes, self.tables.get("speakers"))

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def has(self, name: str) -> bool:
        return name in self.tables

    def rows(self, name: str, episode_id: str) -> pd.DataFrame:
        """Rows of table ``name`` for one episode (empty when the table is absent)."""
        if not self.has(name):
            return pd.DataFrame()
        df = self.tables[name]
        return df[df["episode_id"] == episode_id]

    def episode(self, episode_id: str) -> pd.Series:
        return self.episodes.set_index("episode_id").loc[episode_id]

    def with_names(self, df: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``df`` whose episode_id column holds episode names (for chart axes)."""
        return with_names(df, self.names)


def episode_page(episode_id: str) -> str:
    return f"episodes/{episode_id}.qmd"


def transcript_page(episode_id: str) -> str:
    return f"transcripts/{episode_id}.qmd"
