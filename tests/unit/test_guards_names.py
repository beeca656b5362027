"""Zero-width and bidirectional control characters in names: stripped by the staging cleaning
macros (dbt_project/macros/cleaning/clean_text.sql, which clean_name builds on), kept in the raw lake.

The macros are rendered with Jinja as dbt renders them for DuckDB (what they need of dbt: the `do`
extension, `return()`, and `adapter.dispatch` choosing the `duckdb__` version of the cross-engine
macros in macros/cross_engine/) and their SQL runs on DuckDB, so the test needs no dbt build.
"""

from __future__ import annotations

from types import SimpleNamespace

import duckdb
import jinja2
import polars as pl
import pytest

from tests.unit.test_ingest import HEADERS, NOW, PEOPLE, csv_text, drop, outcome, table
from ward.ingest.load import ingest_landing
from ward.settings import DBT_PROJECT_DIR, Settings

MACROS = DBT_PROJECT_DIR / "macros" / "cleaning"
CROSS_ENGINE = DBT_PROJECT_DIR / "macros" / "cross_engine"
INVISIBLE = [
    *map(chr, range(0x200B, 0x2010)), *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A)),
    "\ufeff",
]  # fmt: skip


@jinja2.pass_context
def _dispatch(context, name: str, macro_namespace: str | None = None):
    """dbt's adapter.dispatch on DuckDB: the `duckdb__` version, else the `default__` one."""
    found = context.resolve(f"duckdb__{name}")
    return found if not isinstance(found, jinja2.Undefined) else context.resolve(f"default__{name}")


def cleaned(macro: str, values: list[str | None]) -> list[str | None]:
    source = "".join(
        [p.read_text() for p in sorted(CROSS_ENGINE.glob("*.sql"))]
        + [(MACROS / f"{name}.sql").read_text() for name in ("blank_to_null", "clean_text", "clean_name")]
    )
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals["return"] = lambda value: value  # every macro here returns SQL text
    env.globals["adapter"] = SimpleNamespace(dispatch=_dispatch)
    sql = env.from_string(source + "{{ " + macro + "('v') }}").render()
    with duckdb.connect() as con:
        con.execute("create table t (i integer, v varchar)")
        con.executemany("insert into t values (?, ?)", list(enumerate(values)))
        return [r[0] for r in con.execute(f"select {sql} from t order by i").fetchall()]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda c: f"U+{ord(c):04X}")
def test_each_invisible_character_is_stripped_from_names(char):
    assert cleaned("clean_name", [f"{char}nguyễn{char} văn{char}  hoà{char}"]) == ["Nguyễn Văn Hòa"]


def test_names_made_only_of_invisibles_are_empty_and_text_is_cleaned_too():
    assert cleaned("clean_name", ["\u200b\u200d\ufeff", "Trần\u202eThị\u202c Thúy", None]) == [
        None, "Trầnthị Thúy", None,
    ]  # fmt: skip
    assert cleaned("clean_text", ["Số 5,\u200b TDP\u2066 3\u2069"]) == ["Số 5, TDP 3"]


def test_the_raw_lake_keeps_the_name_as_delivered(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    people = [{**PEOPLE[0], "full_name": "Nguyễn\u200b Văn\u202e Hòa\ufeff"}]
    drop(settings, "citizens/ds_2026-10-01.csv", csv_text(table(HEADERS, people)).encode())
    report = ingest_landing(settings, now=NOW)
    raw = pl.read_parquet(settings.data_dir / outcome(report, "citizens/ds_2026-10-01.csv").raw_path)
    assert raw["full_name"].to_list() == ["Nguyễn\u200b Văn\u202e Hòa\ufeff"]
