"""Readers of the published warehouse (`ward sql`, ward.readers) can query it and do nothing else."""

import builtins
import io

import duckdb
import pytest
from rich.console import Console
from typer.testing import CliRunner

from ward.cli import app
from ward.cli.sql import sql_prompt
from ward.readers import connect_reader
from ward.settings import Settings

MARTS = ("dim_citizen", "mart_population_change", "mart_something_new")


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    """A published warehouse with a few marts (one a view) and a history table, and a build database."""
    settings = Settings(data_dir=tmp_path / "data")
    monkeypatch.setenv("WARD_DATA_DIR", str(settings.data_dir))
    monkeypatch.delenv("WARD_SHARED_EXPORT_KEY", raising=False)
    for path in (settings.warehouse_path, settings.build_db_path):
        path.parent.mkdir(parents=True)
        with duckdb.connect(str(path)) as con:
            con.execute("create schema marts; create schema history")
            con.execute("create table marts.dim_citizen as select range as person_key from range(5)")
            con.execute("create table marts.mart_population_change as select 1 as moved_in")
            con.execute("create view marts.mart_something_new as select 2 as n")
            con.execute("create table history.snp_persons as select 1 as person_key")
    return settings


def _sql(command: str):
    return CliRunner().invoke(app, ["sql", "-c", command])


def _build_rows(settings: Settings) -> int:
    with duckdb.connect(str(settings.build_db_path), read_only=True) as con:
        return con.execute("select count(*) from marts.dim_citizen").fetchall()[0][0]


def test_a_select_on_the_marts_works(settings):
    result = _sql("select count(*) as citizens from marts.dim_citizen")
    assert result.exit_code == 0, result.output
    assert "citizens" in result.output and "5" in result.output
    with connect_reader(settings) as con:
        assert con.execute("select count(*) from marts.dim_citizen").fetchall() == [(5,)]


@pytest.mark.parametrize(
    "attack",
    [
        "attach '{build}' as b (read_write); delete from b.marts.dim_citizen",
        "attach '{build}' as b",
        "copy marts.dim_citizen to '{out}/stolen.csv'",
        "copy (select 1) to '{out}/stolen.parquet' (format parquet)",
        "export database '{out}/stolen'",
        "select * from read_csv('/etc/passwd')",
        "select * from read_text('/etc/passwd')",
        "select * from read_parquet('{out}/../../data/**/*.parquet')",
        "install httpfs",
        "load httpfs",
        "set threads = 1",
        "set enable_external_access = true",
        "reset lock_configuration",
        "pragma enable_profiling",
        "delete from marts.dim_citizen",
    ],
)
def test_ward_sql_refuses_what_is_not_reading_the_warehouse(settings, tmp_path, attack):
    out = tmp_path / "out"
    out.mkdir()
    result = _sql(attack.format(build=settings.build_db_path, out=out))
    assert result.exit_code == 1, result.output
    message = " ".join(result.output.split())  # unwrapped
    assert any(
        reason in message
        for reason in ("Permission Error", "the configuration has been locked", "in read-only mode")
    ), result.output
    assert list(out.iterdir()) == []
    assert _build_rows(settings) == 5


def test_the_reader_connection_is_locked_from_the_start(settings):
    with connect_reader(settings) as con:
        assert con.execute(
            "select current_setting('enable_external_access'), current_setting('lock_configuration')"
        ).fetchall() == [(False, True)]
        with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
            con.execute(f"attach '{settings.build_db_path}' as b (read_write)")
        with pytest.raises(duckdb.InvalidInputException, match="locked"):
            con.execute("set enable_external_access = true")


def test_bad_sql_exits_non_zero_with_the_error(settings):
    result = _sql("selec * from marts.dim_citizen")
    assert result.exit_code == 1
    assert "ParserException" in result.output and "selec" in result.output
    missing = _sql("select * from marts.no_such_table")
    assert missing.exit_code == 1 and "no_such_table" in missing.output


def test_a_missing_warehouse_exits_non_zero(tmp_path, monkeypatch):
    monkeypatch.setenv("WARD_DATA_DIR", str(tmp_path / "empty"))
    result = _sql("select 1")
    assert result.exit_code == 1 and "No published warehouse" in result.output


def test_the_banner_and_dot_tables_list_what_the_warehouse_holds(settings, monkeypatch, capsys):
    lines = iter([".tables", "select 40 + 2", "as answer;"])

    def fake_input(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr(builtins, "input", fake_input)
    out = io.StringIO()
    assert sql_prompt(settings, Console(file=out, width=200)) == 0
    banner, after = out.getvalue().split("`.tables` lists every table")
    assert settings.warehouse_path.name in banner
    assert all(f"marts.{mart}" in banner for mart in MARTS)  # read from the database, views too
    assert "history" not in banner
    listed = after.splitlines()
    assert {*(f"marts.{m}" for m in MARTS), "history.snp_persons"} <= set(listed)
    assert "42" in capsys.readouterr().out  # a statement over two lines ran (DuckDB prints it)
