"""One colour per speaker role, topic and theme for every figure and page of the site, and
one legend order: roles host, guest, unknown; topics and themes by id, outliers last."""
from __future__ import annotations

import pandas as pd

ROLE_ORDER = ("host", "guest", "unknown")
ROLE_COLORS = {"host": "#3b6ea5", "guest": "#d9822b", "unknown": "#9a9a9a"}
OUTLIER_COLOR = "#c8c8c8"
# Most episodes a chart gives one legend entry (colour) each; beyond, charts aggregate or draw
# the episodes alike (a 100-entry legend of recycled colours cannot be read).
LEGEND_MAX_EPISODES = 12
# Colour-blind-safe qualitative colours (Okabe-Ito, then Tableau 10 without the role colours).
QUALITATIVE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
               "#4E79A7", "#59A14F", "#B07AA1", "#76B7B2", "#EDC948", "#FF9DA7", "#9C755F",
               "#E15759", "#BAB0AC")


def ordered(ids: pd.Series | list) -> list:
    """Ids in legend order: non-negative ids ascending, then the outlier id (-1)."""
    ids = sorted(set(int(i) for i in ids))
    return [i for i in ids if i >= 0] + [i for i in ids if i < 0]


def id_colors(ids) -> dict[int, str]:
    """A stable colour per topic or theme id (the colour of id k is the same on every page)."""
    return {i: (OUTLIER_COLOR if i < 0 else QUALITATIVE[i % len(QUALITATIVE)]) for i in ordered(ids)}


def name_colors(names) -> dict[str, str]:
    """A stable colour per name (themes: pass every theme in lexicon order, so a theme keeps
    its colour on every page whichever themes a chart shows)."""
    return {n: QUALITATIVE[i % len(QUALITATIVE)] for i, n in enumerate(dict.fromkeys(names))}


def label_colors(table: pd.DataFrame, id_col: str = "topic_id", label_col: str = "label") -> dict[str, str]:
    """Colour per label of a topics/themes table, keyed by label (what Plotly legends show)."""
    colors = id_colors(table[id_col])
    return {lab: colors[int(i)] for i, lab in zip(table[id_col], table[label_col])}


def label_order(table: pd.DataFrame, id_col: str = "topic_id", label_col: str = "label") -> list[str]:
    """Labels in legend order (by id, outliers last)."""
    by_id = dict(zip(table[id_col].astype(int), table[label_col]))
    return [by_id[i] for i in ordered(by_id)]


CELL_TEXT_COLUMNS = 12  # a heatmap with at most this many columns prints each cell's value


def cell_values(fig, columns: int, size: int = 10):
    """A heatmap ``fig`` with its values printed on the cells, and no colour scale (the values
    make it redundant), while its ``columns`` are few enough to hold them."""
    if columns <= CELL_TEXT_COLUMNS:
        fig.update_traces(texttemplate="%{z:.0%}", textfont={"size": size}, showscale=False)
    return fig
