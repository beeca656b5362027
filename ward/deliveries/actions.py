"""`ward release` and `ward withdraw`: a steward's decision on a delivery, applied to the lake and the
ledger at once (under the ingest's lock), audited, and built from by the next run.

- release: a `held` (or `withdrawn`) delivery is used: its Parquet goes back to `raw/<source>/`, its
  status becomes `loaded`; an earlier delivery of the same path in use is superseded by it.
- withdraw: a `loaded` or `held` delivery is no longer used: its Parquet goes to `raw/withdrawn/`, its
  status becomes `withdrawn`; when its rows were built, the next run rebuilds whole (raw/rebuild.json),
  so the warehouse is as if the file had never come. The landing file is left alone (landing/ is never
  modified): its bytes are known, so it is not read again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ward.deliveries import lake
from ward.ingest import rejections
from ward.ingest.extract_date import ward_today
from ward.ingest.ledger import LedgerRow, ledger_key, ledger_rows, read_ledger, update_ledger
from ward.settings import Settings

RELEASABLE = ("held", "withdrawn")
WITHDRAWABLE = ("loaded", "held")


class NoSuchDelivery(LookupError):
    """The name matches no delivery that can take the action, or several (the message lists them)."""


@dataclass(frozen=True)
class Outcome:
    row: LedgerRow  # the delivery as it is now
    previous_status: str
    superseded: tuple[LedgerRow, ...] = ()
    rebuild: bool = False  # the next run rebuilds whole


def _name_of(settings: Settings, name: str) -> str:
    """`citizens/x.csv`, `x.csv`, a path to the landing file, or a sha256 (prefix of 8 or more)."""
    text = name.strip()
    path = Path(text)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(settings.landing_dir.resolve()).as_posix()
        except ValueError:
            return path.name
    parts = path.parts
    if len(parts) > 2 and parts[-3] == "landing":
        return "/".join(parts[-2:])
    return text


def find(settings: Settings, name: str, statuses: tuple[str, ...]) -> LedgerRow:
    wanted = _name_of(settings, name)
    rows = ledger_rows(read_ledger(settings))

    def matches(r: LedgerRow) -> bool:
        if wanted in (r.source_file, r.file_name):
            return True
        return (
            len(wanted) >= 8
            and all(c in "0123456789abcdef" for c in wanted.lower())
            and r.sha256.startswith(wanted.lower())
        )

    named = [r for r in rows if matches(r)]
    fit = [r for r in named if r.status in statuses]
    if len(fit) == 1:
        return fit[0]
    if not named:
        raise NoSuchDelivery(f"No delivery named {name!r} in the ledger (give it as citizens/<file name>).")
    listed = "; ".join(f"{r.source_file} sha256 {r.sha256[:12]} ({r.status})" for r in named)
    if not fit:
        raise NoSuchDelivery(
            f"{name!r} is {listed}: only a delivery {' or '.join(statuses)} can take this action."
        )
    raise NoSuchDelivery(
        f"{name!r} names several deliveries: {listed}. Give the sha256 (12 characters) instead."
    )


def release(settings: Settings, name: str, now: datetime | None = None) -> Outcome:
    from ward.ingest.load import run_lock

    now = now or datetime.now(UTC)
    with run_lock(settings):
        row = find(settings, name, RELEASABLE)
        released = lake.move_to(settings, row, "loaded", None, None)
        lake.audit(settings, "released", released, "ward release", now, previous_status=row.status)
        superseded = []
        rebuild = False
        for other in ledger_rows(read_ledger(settings)):
            if (
                other.source == row.source and other.source_file == row.source_file
                and other.sha256 != row.sha256 and other.status in ("loaded", "held")
            ):  # fmt: skip
                reason = rejections.superseded(other.source_file, row.sha256, _day(row.loaded_at))
                moved = lake.move_to(settings, other, "superseded", reason.vi, reason.en)
                lake.audit(settings, "superseded", moved, "ward release", now, previous_status=other.status)
                superseded.append(moved)
                if other.status == "loaded":
                    rebuild = True
                    lake.request_rebuild(
                        settings, f"{other.source_file} superseded by a release on {_day(now)}"
                    )
        update_ledger(settings, [], [released, *superseded])
    return Outcome(released, row.status, tuple(superseded), rebuild)


def withdraw(settings: Settings, name: str, now: datetime | None = None) -> Outcome:
    from ward.ingest.load import run_lock

    now = now or datetime.now(UTC)
    with run_lock(settings):
        row = find(settings, name, WITHDRAWABLE)
        reason = rejections.withdrawn(row.source_file, _day(ward_today(now)))
        moved = lake.move_to(settings, row, "withdrawn", reason.vi, reason.en)
        lake.audit(settings, "withdrawn", moved, "ward withdraw", now, previous_status=row.status)
        rebuild = row.status == "loaded"
        if rebuild:
            lake.request_rebuild(settings, f"{row.source_file} ({row.sha256[:12]}) withdrawn on {_day(now)}")
        update_ledger(settings, [], [moved])
    return Outcome(moved, row.status, (), rebuild)


def held(settings: Settings) -> list[LedgerRow]:
    """The deliveries held now, oldest extract first."""
    rows = [r for r in ledger_rows(read_ledger(settings)) if r.status == "held"]
    return sorted(rows, key=lambda r: (r.extract_date, r.source_file))


def _day(moment) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "?"


__all__ = ["NoSuchDelivery", "Outcome", "find", "held", "ledger_key", "release", "withdraw"]
