"""Table schemas: each table's columns, types and meaning, checked whenever a table is written.

A :class:`Table` is declared next to the code that produces it and registered in
:data:`REGISTRY`; :func:`data_dictionary` renders all of them as Markdown for the README.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

# pandas dtype for each logical type; all nullable-aware.
DTYPES = {
    "str": "string",
    "int": "Int64",
    "float": "float64",
    "bool": "boolean",
    "date": "datetime64[ns]",
}


class SchemaError(ValueError):
    """A table does not match its declared schema."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a key of DTYPES
    description: str
    nullable: bool = False
    allowed: tuple[str, ...] | None = None  # closed vocabulary for str columns


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = field(default=())  # columns that identify a row uniquely

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def empty(self) -> pd.DataFrame:
        return self.conform(pd.DataFrame({c.name: [] for c in self.columns}))

    def conform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Return ``df`` with exactly this table's columns, in order, cast to their dtypes.

        Raises :class:`SchemaError` naming the table and column when a column is missing,
        a value cannot be cast, a non-nullable column has nulls, a value is outside its
        vocabulary or the key is not unique.
        """
        missing = [c for c in self.column_names if c not in df.columns]
        if missing:
            raise SchemaError(f"table {self.name!r}: missing columns {missing}")
        out = pd.DataFrame(index=df.index)
        for col in self.columns:
            try:
                out[col.name] = df[col.name].astype(DTYPES[col.type])
            except (TypeError, ValueError) as exc:
                raise SchemaError(f"table {self.name!r}, column {col.name!r}: {exc}") from exc
            values = out[col.name]
            if not col.nullable and values.isna().any():
                rows = list(values.index[values.isna()][:5])
                raise SchemaError(f"table {self.name!r}, column {col.name!r}: nulls at rows {rows}")
            if col.allowed is not None:
                bad = set(values.dropna().unique()) - set(col.allowed)
                if bad:
                    raise SchemaError(
                        f"table {self.name!r}, column {col.name!r}: values {sorted(bad)} "
                        f"not in {list(col.allowed)}"
                    )
        if self.key and out.duplicated(list(self.key)).any():
            dup = out[out.duplicated(list(self.key), keep=False)][list(self.key)].head(3)
            raise SchemaError(f"table {self.name!r}: key {self.key} not unique, e.g. {dup.values.tolist()}")
        return out.reset_index(drop=True)


REGISTRY: dict[str, Table] = {}


def register(table: Table) -> Table:
    REGISTRY[table.name] = table
    return table


def data_dictionary(names: list[str] | None = None) -> str:
    """Markdown description of the registered tables (all, or those named)."""
    parts = []
    for name in names or sorted(REGISTRY):
        t = REGISTRY[name]
        parts.append(f"### `{t.name}`\n\n{t.description}")
        if t.key:
            parts.append(f"Key: {', '.join(f'`{k}`' for k in t.key)}.")
        rows = ["| column | type | null | meaning |", "|---|---|---|---|"]
        for c in t.columns:
            meaning = c.description + (f" One of: {', '.join(c.allowed)}." if c.allowed else "")
            rows.append(f"| `{c.name}` | {c.type} | {'yes' if c.nullable else 'no'} | {meaning} |")
        parts.append("\n".join(rows))
    return "\n\n".join(parts) + "\n"
