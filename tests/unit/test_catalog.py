"""ward/catalog.py: a table of the connection's own database, not one of the same name attached."""

import duckdb

from ward.catalog import table_exists


def test_a_table_counts_in_its_own_database_only(tmp_path):
    other = tmp_path / "other.duckdb"
    with duckdb.connect(str(other)) as con:
        con.execute("create schema history; create table history.snp_persons (x int)")
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        con.execute(f"attach '{other}' as other")
        assert not table_exists(con, "history.snp_persons")  # only the attached database has it
        con.execute("create schema history; create view history.snp_persons as select 1 as x")
        assert table_exists(con, "history.snp_persons")
        assert not table_exists(con, "history.snp_households")
