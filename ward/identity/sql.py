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
