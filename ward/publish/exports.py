"""Write the published marts as Parquet, with a manifest, and the personal-data-free shared tier.

exports/<mart>.parquet + manifest.json       every mart, the quarantine included (ward staff systems)
exports/shared/<mart>.parquet + manifest.json no personal data, identifiers under a keyed hash
The whole set is built in a new folder and swapped in with one rename (see atomic.py).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ward.duckdb_config import connect_build_db
from ward.ingest.permissions import make_private, make_shared
from ward.publish.anonymity import anonymise
from ward.publish.atomic import discard_version_dir, new_version_dir, swap_symlink
from ward.publish.dictionary import column_comments, describe_schema
from ward.publish.keyed_hash import hash_column
from ward.publish.personal_data import NOT_SHARED_TABLES, PERSON_LEVEL_TABLES, shared_action
from ward.settings import ENV_SHARED_KEY, MIN_SHARED_KEY_LENGTH, Settings

MARTS_SCHEMA = "marts"


@dataclass
class ExportReport:
    exports_dir: Path
    tables: dict[str, int] = field(default_factory=dict)  # mart -> rows
    shared_tables: dict[str, int] = field(default_factory=dict)
    shared_skipped_reason: str | None = None
    reused: list[str] = field(default_factory=list)  # marts hard-linked from the previous set
    version_dir: Path | None = None  # the new set, before it is swapped in (swap=False)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _protect(path: Path, tier: str, group: str | None) -> None:
    """The full tier holds personal data (0600, 0640 with the readers group); the shared one none (0644)."""
    if tier == "shared":
        make_shared(path)
    else:
        make_private(path, group)


def _write_table(
    table: pa.Table, folder: Path, name: str, tier: str = "ward", group: str | None = None
) -> dict:
    path = folder / f"{name}.parquet"
    pq.write_table(table, path, compression="zstd")
    _protect(path, tier, group)
    return {
        "file": path.name,
        "rows": table.num_rows,
        "schema": [{"name": f.name, "type": str(f.type)} for f in table.schema],
        "sha256": _sha256(path),
    }


def _ward_entry(table: pa.Table, folder: Path, mart: str, token: str | None, group: str | None) -> dict:
    return {**_write_table(table, folder, mart, "ward", group), "build_token": token}


def _shared_entry(table: pa.Table, key: bytes, folder: Path, mart: str, token: str | None) -> dict:
    shared_rows, anonymity = shared_form(table, key, mart)
    written = _write_table(shared_rows, folder, mart, "shared")
    # k reached (the smallest class of quasi-identifiers) of a person-level mart
    return {**written, "build_token": token, "anonymity": anonymity}


def _write_manifest(
    folder: Path,
    files: list[dict],
    extract_dates: dict,
    tier: str,
    key_id: str | None = None,
    group: str | None = None,
) -> None:
    manifest = {
        "tier": tier,
        # Which key hashed the shared tier (an HMAC of a constant, not the key): a new key
        # rewrites every shared file.
        "key_id": key_id,
        **({"rules": SHARED_RULES} if tier == "shared" else {}),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "extract_dates": extract_dates,
        "files": files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    _protect(folder / "manifest.json", tier, group)


# The shared tier's rules: a set written under other rules is rewritten, never hard-linked.
SHARED_RULES = "k-anonymity-1"


def shared_form(table: pa.Table, key: bytes, mart: str | None = None) -> tuple[pa.Table, dict | None]:
    """The shared-tier form of a mart: personal columns dropped, identifiers hashed (personal_data);
    a person-level mart also generalised to k-anonymity, with its report (anonymity.py)."""
    columns, names = [], []
    for name in table.column_names:
        action = shared_action(name, mart)
        if action == "drop":
            continue
        column = table[name]
        columns.append(hash_column(key, column) if action == "hash" else column)
        names.append(name)
    shared = pa.table(columns, names=names)
    if mart not in PERSON_LEVEL_TABLES:
        return shared, None
    shared, report = anonymise(shared)
    return shared, report.as_manifest()


def shared_table(table: pa.Table, key: bytes, mart: str | None = None) -> pa.Table:
    return shared_form(table, key, mart)[0]


def _extract_dates(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    rows = con.execute(
        f"select source, list(distinct cast(extract_date as varchar) order by 1) "
        f"from {MARTS_SCHEMA}.deliveries where status = 'loaded' group by source order by source"
    ).fetchall()
    return {source: dates for source, dates in rows}


def _shared_key(shared_key: str | None) -> tuple[bytes | None, str | None]:
    if not shared_key:
        return None, (
            f"the shared tier (exports/shared/) was not written: set {ENV_SHARED_KEY} to a secret of "
            f"at least {MIN_SHARED_KEY_LENGTH} characters, e.g. "
            f"`export {ENV_SHARED_KEY}=$(python -c 'import secrets; print(secrets.token_hex(32))')`, "
            "and keep it the same across runs so hashed IDs stay stable"
        )
    if len(shared_key) < MIN_SHARED_KEY_LENGTH:
        return None, (
            f"the shared tier was not written: {ENV_SHARED_KEY} is shorter than "
            f"{MIN_SHARED_KEY_LENGTH} characters"
        )
    return shared_key.encode("utf-8"), None


def _previous_entries(folder: Path, key_id: str | None) -> dict[str, dict]:
    """The live manifest's entries that carry a build token, by mart (shared tier: same key only)."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return {}
    if manifest.get("key_id") != key_id or manifest.get("rules") != (SHARED_RULES if key_id else None):
        return {}
    return {e["file"].removesuffix(".parquet"): e for e in manifest["files"] if e.get("build_token")}


def _reuse(
    previous: dict[str, dict], source: Path, target: Path, mart: str, token: str | None
) -> dict | None:
    """Hard-link the live file of a mart built from the same inputs (same token) into the new set."""
    entry = previous.get(mart)
    if token is None or entry is None or entry["build_token"] != token:
        return None
    try:
        os.link(source / entry["file"], target / entry["file"])
    except OSError:
        return None
    return entry


def export_marts(
    build_db: Path,
    exports_dir: Path,
    shared_key: str | None,
    build_tokens: dict[str, str] | None = None,
    readers_group: str | None = None,
    swap: bool = True,
    settings: Settings | None = None,
) -> ExportReport:
    """Write every mart of the build database into a new export set and swap it in.

    build_tokens: mart -> a token of the inputs it was built from (assets/publish.py). A mart whose
    token equals the live manifest's is not written again: its file is hard-linked from the live
    set (a daily dossier extract leaves the million-row dim_citizen as it was).

    File modes: the full marts and their manifest 0600 (0640, owned by `readers_group`), the set's
    folder 0711 (0751) so that others can reach shared/ but not list the set; shared/ 0755 / 0644.

    swap=False: the set is written but not swapped in; the caller swaps `report.version_dir` in
    (ward.publish.together publishes it with the warehouse, or neither).
    """
    build_tokens = build_tokens or {}
    report = ExportReport(exports_dir=exports_dir)
    key, report.shared_skipped_reason = _shared_key(shared_key)
    key_id = hmac.new(key, b"ward exports key id", "sha256").hexdigest()[:16] if key else None
    live = exports_dir.resolve() if exports_dir.exists() else exports_dir
    previous, previous_shared = _previous_entries(live, None), _previous_entries(live / "shared", key_id)
    version = new_version_dir(exports_dir, readers_group)
    try:
        with (
            connect_build_db(settings, build_db, read_only=True) as con,
            ThreadPoolExecutor(max_workers=2, thread_name_prefix="export") as tiers,
        ):
            marts = [
                r[0]
                for r in con.execute(
                    "select table_name from information_schema.tables where table_schema = ? "
                    "order by table_name",
                    [MARTS_SCHEMA],
                ).fetchall()
            ]
            extract_dates = _extract_dates(con)
            # the data dictionary: each column's DuckDB comment (dbt persist_docs) in its schema item
            comments = column_comments(con, MARTS_SCHEMA)
            files, shared_files = [], []
            shared_dir = version / "shared"
            if key:
                shared_dir.mkdir()
                make_shared(shared_dir)
            for mart in marts:
                token = build_tokens.get(mart)
                shared = bool(key) and mart not in NOT_SHARED_TABLES
                entry = _reuse(previous, live, version, mart, token)
                if entry is not None:
                    report.reused.append(mart)
                    make_private(version / entry["file"], readers_group)  # a set written before modes
                shared_entry = None
                if shared:
                    shared_entry = _reuse(previous_shared, live / "shared", shared_dir, mart, token)
                if entry is None or (shared and shared_entry is None):
                    # in a set order: the same mart gives the same bytes (a run with nothing new changes
                    # no export; downstream apps compare checksums)
                    table = con.sql(f"select * from {MARTS_SCHEMA}.{mart} order by all").to_arrow_table()
                    # the two tiers are written at once (Parquet, DuckDB and Arrow leave the GIL);
                    # the next mart waits, so one mart at a time is held in memory, as before
                    ward_tier = shared_tier = None
                    if entry is None:
                        ward_tier = tiers.submit(_ward_entry, table, version, mart, token, readers_group)
                    if shared and shared_entry is None:
                        shared_tier = tiers.submit(_shared_entry, table, key, shared_dir, mart, token)
                    entry = ward_tier.result() if ward_tier else entry
                    shared_entry = shared_tier.result() if shared_tier else shared_entry
                files.append(describe_schema(entry, comments.get(mart, {})))
                report.tables[mart] = entry["rows"]
                if shared:
                    shared_files.append(describe_schema(shared_entry, comments.get(mart, {}), shared=True))
                    report.shared_tables[mart] = shared_entry["rows"]
        _write_manifest(version, files, extract_dates, tier="ward", group=readers_group)
        if key:
            _write_manifest(shared_dir, shared_files, extract_dates, tier="shared", key_id=key_id)
    except BaseException:
        discard_version_dir(version)  # a half-written set is never left behind
        raise
    report.version_dir = version
    if swap:
        swap_symlink(exports_dir, version)
    return report


EXPORT_STATE_DDL = """
create or replace table quality.export_state (
    mart varchar not null,
    source varchar not null,
    latest_extract_date date,
    exported_at timestamp
)
"""


def record_export_state(con: duckdb.DuckDBPyConnection, exports_dir: Path) -> int:
    """What downstream apps can read right now: quality.export_state, from the live manifest.

    One row per (mart, source) with the latest extract of that source the mart was built from;
    empty before the first export. mart_data_quality scores `dung_chung` from it.
    """
    con.execute("create schema if not exists quality")
    con.execute(EXPORT_STATE_DDL)
    manifest_path = exports_dir / "manifest.json"
    if not manifest_path.exists():
        return 0
    manifest = json.loads(manifest_path.read_text())
    rows = [
        [entry["file"].removesuffix(".parquet"), source, max(dates), manifest["created_at"]]
        for entry in manifest["files"]
        for source, dates in manifest.get("extract_dates", {}).items()
        if dates
    ]
    if rows:
        con.executemany("insert into quality.export_state values (?, ?, ?, ?)", rows)
    return len(rows)
