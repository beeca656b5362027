"""Where a delivery's raw Parquet lives for each status, the audit trail, and the rebuild request.

- `raw/<source>/<sha256>.parquet`: loaded, built from (dbt reads only this folder);
- `raw/held/<source>/`, `raw/superseded/<source>/`, `raw/withdrawn/<source>/`: kept, not built from.

A status change moves the file (one `os.replace`, within the raw lake) and rewrites the ledger row's
`raw_path`. Removing rows that were already built (a loaded delivery superseded or withdrawn) also
writes `raw/rebuild.json`: the next run's dbt phases then rebuild whole (`--full-refresh`), since
their incremental tables would keep the rows, and the request is cleared once phase 2 has succeeded.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import os
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ward.ingest.ledger import LedgerRow
from ward.ingest.permissions import make_private, private_dir
from ward.settings import Settings

log = logging.getLogger(__name__)

SET_ASIDE = {"held": "held", "superseded": "superseded", "withdrawn": "withdrawn"}  # status → folder
REBUILD_NAME = "rebuild.json"
# pipeline_state.processed step: staging rebuilt whole for a request; phase 2 owes one too.
REBUILD_STAGED = "deliveries_rebuild_staged"


def raw_path_for(settings: Settings, source: str, sha: str, status: str) -> Path:
    folder = (
        settings.raw_dir / SET_ASIDE[status] / source if status in SET_ASIDE else settings.raw_dir / source
    )
    return folder / f"{sha}.parquet"


def move_to(
    settings: Settings, row: LedgerRow, status: str, reason_vi: str | None, reason_en: str | None
) -> LedgerRow:
    """The row with its new status and reasons, its Parquet moved where that status keeps it."""
    new_row = replace(row, status=status, reason_vi=reason_vi, reason_en=reason_en)
    if not row.raw_path:  # rejected or duplicate: nothing in the lake
        return new_row
    source = settings.data_dir / row.raw_path
    target = raw_path_for(settings, row.source, row.sha256, status)
    if source != target:
        private_dir(target.parent.parent, settings.readers_group)
        private_dir(target.parent, settings.readers_group)
        if source.exists():
            os.replace(source, target)
        elif not target.exists():
            log.warning("%s: its raw Parquet %s is missing", row.source_file, row.raw_path)
    return replace(new_row, raw_path=target.relative_to(settings.data_dir).as_posix())


# Audit trail ------------------------------------------------------------------------------------


def audit_path(settings: Settings) -> Path:
    return settings.data_dir / "audit" / "deliveries.jsonl"


def who() -> str:
    """The OS account running the command (a staff account, never a resident's data)."""
    try:
        return getpass.getuser()
    except Exception:  # no user name (a container without /etc/passwd entry)
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def audit(
    settings: Settings, action: str, row: LedgerRow, via: str, now: datetime | None = None, **detail
) -> None:
    """One line of `audit/deliveries.jsonl` per status change: what, which delivery, who, when."""
    now = now or datetime.now(UTC)
    entry = {
        "at": (now if now.tzinfo else now.replace(tzinfo=UTC)).isoformat(timespec="seconds"),
        "action": action,
        "source_file": row.source_file,
        "sha256": row.sha256,
        "extract_date": row.extract_date.isoformat() if row.extract_date else None,
        "status": row.status,
        "by": who(),
        "via": via,
        **detail,
    }
    path = audit_path(settings)
    private_dir(path.parent, settings.readers_group)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    make_private(path, settings.readers_group)


def read_audit(settings: Settings) -> list[dict]:
    path = audit_path(settings)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# Rebuild request --------------------------------------------------------------------------------


def rebuild_path(settings: Settings) -> Path:
    return settings.raw_dir / REBUILD_NAME


def request_rebuild(settings: Settings, why: str) -> None:
    """The next run rebuilds whole: rows already built must go (a delivery superseded or withdrawn)."""
    path = rebuild_path(settings)
    requests = _read_request(path).get("requests", [])
    body = {"token": uuid.uuid4().hex, "requests": [*requests, why]}
    private_dir(path.parent, settings.readers_group)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1), encoding="utf-8")
    make_private(tmp, settings.readers_group)
    os.replace(tmp, path)


def _read_request(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def rebuild_token(settings: Settings) -> str | None:
    """The pending request's token (None: nothing requested)."""
    path = rebuild_path(settings)
    if not path.exists():
        return None
    return str(_read_request(path).get("token") or "unreadable")


def staged_files_gone(settings: Settings, con: duckdb.DuckDBPyConnection) -> bool:
    """A staged table holds rows of a file no longer in `raw/<source>/` (moved aside, or removed by
    hand): staging must be rebuilt whole even without a request."""
    from ward.quality.rules import STAGED_MODELS

    for source, relation in STAGED_MODELS.items():
        raw = {p.stem for p in settings.raw_source_dir(source).glob("*.parquet")}
        try:
            staged = {r[0] for r in con.execute(f"select distinct file_sha256 from {relation}").fetchall()}
        except duckdb.CatalogException:
            continue
        if staged - raw - {None}:
            return True
    return False


def full_rebuild_due(settings: Settings, phase: str, con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the dbt phase `phase` must rebuild whole for the deliveries (None: it need not); `con`:
    the build database's.

    Staging: a rebuild request, or staged rows of a file gone from the lake. Phase 2: the request
    staging last rebuilt whole for (until phase 2 succeeds after it), else a pending request."""
    from ward.build_state import stored_fingerprint

    token = rebuild_token(settings)
    if phase == "dbt_staging":
        if token:
            return token
        return "files gone" if staged_files_gone(settings, con) else None
    return stored_fingerprint(con, REBUILD_STAGED) or token


def full_rebuild_done(settings: Settings, phase: str, token: str, con: duckdb.DuckDBPyConnection) -> None:
    """After a phase succeeded whole for `token`: staging hands it to phase 2; phase 2 clears the
    request if it is the one staging rebuilt for (a newer one is done by the next run)."""
    from ward.build_state import store_fingerprint

    store_fingerprint(con, REBUILD_STAGED, token if phase == "dbt_staging" else None)
    if phase != "dbt_staging" and rebuild_token(settings) == token:
        with contextlib.suppress(FileNotFoundError):
            rebuild_path(settings).unlink()
