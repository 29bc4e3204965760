"""Schemas (``Table.conform``, the data dictionary) and atomic writes."""
from __future__ import annotations

import os
import stat

import pandas as pd
import pytest

from analysis.corpus import TABLES
from analysis.io import atomic_path, content_hash, read_table, write_json, write_table, write_text
from analysis.schema import REGISTRY, Column, SchemaError, Table, data_dictionary

PEOPLE = Table("people", "Test table.", (
    Column("pid", "str", "Id."),
    Column("n", "int", "A count."),
    Column("score", "float", "A score.", nullable=True),
    Column("role", "str", "Role.", allowed=("host", "guest")),
    Column("ok", "bool", "A flag."),
    Column("day", "date", "A date.", nullable=True),
), key=("pid",))


def people(**overrides) -> pd.DataFrame:
    data = {"pid": ["a", "b"], "n": [1, 2], "score": [0.5, None], "role": ["host", "guest"],
            "ok": [True, False], "day": [pd.Timestamp("2024-01-01"), None]}
    data.update(overrides)
    return pd.DataFrame(data)


def test_conform_orders_and_casts():
    df = people()[["role", "ok", "pid", "day", "score", "n"]].assign(extra=[1, 2])
    out = PEOPLE.conform(df)
    assert list(out.columns) == PEOPLE.column_names
    assert [str(t) for t in out.dtypes] == ["string", "Int64", "float64", "string", "boolean", "datetime64[ns]"]
    assert out["score"].isna().tolist() == [False, True]
    empty = PEOPLE.empty()
    assert len(empty) == 0 and list(empty.columns) == PEOPLE.column_names


@pytest.mark.parametrize("df, pattern", [
    (people().drop(columns=["n", "role"]), r"table 'people': missing columns \['n', 'role'\]"),
    (people(pid=["a", None]), r"table 'people', column 'pid': nulls at rows \[1\]"),
    (people(ok=[True, None]), r"table 'people', column 'ok': nulls"),
    (people(role=["host", "producer"]), r"table 'people', column 'role': values \['producer'\] not in"),
    (people(pid=["a", "a"]), r"table 'people': key \('pid',\) not unique, e.g. \[\['a'\], \['a'\]\]"),
    (people(n=["one", "two"]), r"table 'people', column 'n':"),
    (people(n=[1.5, 2.0]), r"table 'people', column 'n':"),
])
def test_conform_rejects(df, pattern):
    with pytest.raises(SchemaError, match=pattern):
        PEOPLE.conform(df)


def test_nullable_allowed_column_accepts_nulls():
    t = Table("t", "d", (Column("x", "str", "x", nullable=True, allowed=("a",)),))
    assert t.conform(pd.DataFrame({"x": ["a", None]}))["x"].isna().tolist() == [False, True]
    with pytest.raises(SchemaError, match="values \\['b'\\]"):
        t.conform(pd.DataFrame({"x": ["a", "b"]}))


def test_data_dictionary_lists_every_corpus_table():
    text = data_dictionary()
    for name, table in TABLES.items():
        assert REGISTRY[name] is table
        assert f"### `{name}`" in text
        for col in table.columns:
            assert f"| `{col.name}` | {col.type} |" in text
    assert "One of: host, guest, unknown." in text
    only = data_dictionary(["chapters"])
    assert "### `chapters`" in only and "### `utterances`" not in only


# ---------------------------------------------------------------- atomic writes

def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp") or p.name.startswith("."))


def test_write_table_roundtrip(tmp_path):
    path = tmp_path / "people.parquet"
    written = write_table(people(), PEOPLE, path)
    pd.testing.assert_frame_equal(read_table(PEOPLE, path), written)
    assert leftovers(tmp_path) == []


def test_schema_violation_keeps_previous_file(tmp_path):
    path = tmp_path / "people.parquet"
    write_table(people(), PEOPLE, path)
    before = path.read_bytes()
    with pytest.raises(SchemaError):
        write_table(people(role=["host", "nobody"]), PEOPLE, path)
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_exception_inside_atomic_path_keeps_previous_file(tmp_path):
    path = tmp_path / "report.json"
    write_json({"version": 1}, path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_path(path) as tmp:
        tmp.write_text("{half a fi", encoding="utf-8")
        assert tmp.parent == path.parent and tmp != path
        raise RuntimeError("disk on fire")
    assert path.read_bytes() == before
    assert leftovers(tmp_path) == []


def test_failing_serialiser_leaves_no_file(tmp_path):
    path = tmp_path / "new" / "report.json"
    with pytest.raises(TypeError):
        write_text(object(), path)  # type: ignore[arg-type]
    assert not path.exists() and leftovers(path.parent) == []


def test_written_files_have_normal_permissions(tmp_path):
    path = tmp_path / "people.parquet"
    write_table(people(), PEOPLE, path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_content_hash():
    assert content_hash("a", b"b") == content_hash(b"a", "b")
    assert content_hash("ab") != content_hash("a", "b")  # parts are separated
    assert len(content_hash("x")) == 16
