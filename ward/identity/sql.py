"""Small SQL helpers shared by the identity modules."""

from __future__ import annotations

import duckdb


def fold_sql(expression: str) -> str:
    """The matching form of a name: NFC, đ/Đ/ð/Ð -> d, no diacritics, lower case, single spaces
    (as dbt's fold_text macro): `Nguyễn Thị Hoà`, `NGUYEN THI HÒA` and `nguyen  thi hoa` agree."""
    return (
        "nullif(trim(regexp_replace(lower(strip_accents(translate(nfc_normalize("
        f"{expression}), 'đĐðÐ', 'dDdD'))), '\\s+', ' ', 'g')), '')"
    )


def relation_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    try:
        con.execute(f"select * from {relation} limit 0")
    except duckdb.Error:
        return False
    return True


def columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {c.lower() for c in con.sql(f"select * from {relation} limit 0").columns}


def quarantine_anti_join(con: duckdb.DuckDBPyConnection, quarantine: str, alias: str, has_sha: bool) -> str:
    """An `anti join` clause dropping the rows of `alias` that the quality step quarantined.

    Rows are matched on (source_file, row_number), and on file_sha256 too when both sides carry it
    (a path re-delivered with new bytes is another delivery). Empty when there is no quarantine table.
    """
    if not relation_exists(con, quarantine):
        return ""
    keys = ["source_file", "row_number"]
    if has_sha and "file_sha256" in columns_of(con, quarantine):
        keys.append("file_sha256")
    on = " and ".join(f"q.{k} is not distinct from {alias}.{k}" for k in keys)
    return (
        f"anti join (select distinct {', '.join(keys)} from {quarantine} where outcome = 'quarantine') q"
        f" on {on}"
    )
