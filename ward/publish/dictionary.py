"""The data dictionary that travels with the data (docs/dictionary.md).

One source: the descriptions of dbt_project/models/marts/*.yml, every mart and every column written
"Tiếng Việt. / English." (one " / " between the two languages; a slash inside either is written
without spaces). From there:

- dbt's `persist_docs` (dbt_project.yml) writes them into the build database as DuckDB comments
  when it builds a mart: `duckdb_tables()` / `duckdb_columns()`, column `comment`; the warehouse is
  a copy of that database, so analysts read them with SQL;
- the exports' manifest.json reads them from those comments (`column_comments`, ward.publish.exports);
- `dbt docs generate` (run by the publish step, `DOCS_ARGS`) renders them, with the lineage and the
  catalog, as a static site under <data root>/docs/ (`docs_dir`), replaced whole at each publication
  alongside the warehouse and the exports. `ward serve` serves it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from ward.ingest.permissions import make_shared
from ward.publish.anonymity import BAND_FROM, BAND_TO, QUASI_IDENTIFIERS
from ward.publish.atomic import discard_version_dir, new_version_dir, swap_symlink
from ward.publish.personal_data import PERSON_LEVEL_TABLES, shared_action

MARTS_SCHEMA = "marts"
SEPARATOR = " / "
# What analysts read: the marts and the history snapshots, compiled (dbt writes manifest.json only
# when it compiles; --no-compile leaves none) and catalogued; their tests are not compiled. The
# manifest still holds every node, so the lineage graph reaches back to the landing sources.
# --static: static_index.html, one file with the manifest and the catalog inside, readable without
# a server. About a second at the e2e ward's size (parse state reused, ≈ 14 nodes compiled).
DOCS_ARGS = [
    "docs", "generate",
    # one value (dagster-dbt moves it); no path: selector, dbt resolves those from the working
    # directory, which in-process dbt does not change (ward/private_apis.py)
    "--select", "resource_type:model,config.schema:marts resource_type:snapshot",
    "--indirect-selection", "empty",
    "--static",
]  # fmt: skip
DOCS_FILES = ("index.html", "static_index.html", "manifest.json", "catalog.json")
DOCS_FOLDER = "docs"


def split_description(description: str) -> tuple[str, str]:
    """("Tiếng Việt.", "English.") of a dictionary description; ValueError when it is not one."""
    text = " ".join((description or "").split())
    parts = text.split(SEPARATOR)
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ValueError(f"not 'Tiếng Việt. / English.' (one {SEPARATOR!r}): {text[:80]!r}")
    return parts[0].strip(), parts[1].strip()


def column_comments(con: duckdb.DuckDBPyConnection, schema: str = MARTS_SCHEMA) -> dict[str, dict[str, str]]:
    """table -> column -> its DuckDB comment (None when it has none), in column order."""
    rows = con.execute(
        "select table_name, column_name, comment from duckdb_columns() "
        "where schema_name = ? order by table_name, column_index",
        [schema],
    ).fetchall()
    comments: dict[str, dict[str, str]] = {}
    for table, column, comment in rows:
        comments.setdefault(table, {})[column] = comment or None
    return comments


def table_comments(con: duckdb.DuckDBPyConnection, schema: str = MARTS_SCHEMA) -> dict[str, str | None]:
    rows = con.execute(
        "select table_name, comment from duckdb_tables() where schema_name = ? order by table_name", [schema]
    ).fetchall()
    return {table: comment or None for table, comment in rows}


def undescribed(con: duckdb.DuckDBPyConnection, schema: str = MARTS_SCHEMA) -> list[str]:
    """`table` or `table.column` of the schema without a bilingual comment (empty: all described)."""
    missing = []
    for table, comment in table_comments(con, schema).items():
        if not _bilingual(comment):
            missing.append(table)
    for table, columns in column_comments(con, schema).items():
        missing += [f"{table}.{column}" for column, comment in columns.items() if not _bilingual(comment)]
    return missing


def _bilingual(comment: str | None) -> bool:
    try:
        split_description(comment or "")
    except ValueError:
        return False
    return True


def docs_dir(data_dir: Path) -> Path:
    """<data root>/docs: a link to the current version of the dbt docs site (index.html,
    static_index.html, manifest.json, catalog.json)."""
    return Path(data_dir) / DOCS_FOLDER


def stage_docs(target_path: Path, data_dir: Path) -> Path:
    """Copy the site `dbt docs generate` wrote in `target_path` into a new version folder of
    docs_dir (not yet swapped in). No personal data in it (names, types, descriptions, row counts),
    so its files are world-readable like the shared exports."""
    missing = [name for name in DOCS_FILES if not (Path(target_path) / name).exists()]
    if missing:
        raise FileNotFoundError(f"dbt docs generate wrote no {', '.join(missing)} in {target_path}")
    version = new_version_dir(docs_dir(data_dir))
    try:
        make_shared(version)
        for name in DOCS_FILES:
            shutil.copyfile(Path(target_path) / name, version / name)
            make_shared(version / name)
    except BaseException:
        discard_version_dir(version)
        raise
    return version


def commit_docs(version: Path, data_dir: Path) -> Path:
    """Swap a staged docs version in (readers see the old site or the new one, never half)."""
    swap_symlink(docs_dir(data_dir), version)
    return docs_dir(data_dir)


_HASHED = ("Mã băm có khóa (HMAC), thay cho: ", "Keyed hash (HMAC) in place of: ")
_GENERALISED = (
    " (Tầng dùng chung: có thể được gộp nhóm hoặc để trống để bảo đảm k-ẩn danh; xem anonymity của tệp.)",
    " (Shared tier: may be generalised, or suppressed to null, for k-anonymity; see the file's anonymity.)",
)
# Columns only the shared tier has (ward/publish/anonymity.py: birth_year becomes its band).
_SHARED_ONLY = {
    BAND_FROM: "Năm đầu của nhóm năm sinh (bằng năm sinh khi không gộp nhóm); null khi bị che. / "
    "First year of the birth-year band (the birth year itself when not banded); null when suppressed.",
    BAND_TO: "Năm cuối của nhóm năm sinh (bằng năm sinh khi không gộp nhóm); null khi bị che. / "
    "Last year of the birth-year band (the birth year itself when not banded); null when suppressed.",
}


def describe_schema(entry: dict, comments: dict[str, str | None], shared: bool = False) -> dict:
    """A manifest entry whose schema items carry `description` (the column's DuckDB comment).

    shared: what the shared tier did to a column is said too: a keyed hash in place of an ID, a
    person-level mart's quasi-identifiers generalised, the birth-year band that replaces birth_year."""
    mart = entry["file"].removesuffix(".parquet")
    person_level = shared and mart in PERSON_LEVEL_TABLES
    schema = []
    for item in entry["schema"]:
        name = item["name"]
        description = comments.get(name) or (_SHARED_ONLY.get(name) if person_level else None)
        if description and shared and _bilingual(description):
            vi, en = split_description(description)
            if shared_action(name, mart) == "hash":
                description = f"{_HASHED[0]}{vi}{SEPARATOR}{_HASHED[1]}{en}"
            elif person_level and name in QUASI_IDENTIFIERS:
                description = f"{vi}{_GENERALISED[0]}{SEPARATOR}{en}{_GENERALISED[1]}"
        schema.append({**item, "description": description})
    return {**entry, "schema": schema}
