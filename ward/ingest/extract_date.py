"""A file's extract date: the `YYYY-MM-DD` or `YYYYMMDD` in its name, else its modification date."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

# The ward's clock (Vietnam has no daylight saving time): a file dropped at 06:00 on 2 October is an
# extract of 2 October, whatever the server's zone.
WARD_TZ = timezone(timedelta(hours=7), "ICT")

# Not preceded or followed by another digit, so `ds_2026100199.csv` gives nothing.
_DATE_IN_NAME = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)(?:(?P<sep>[-_.])(?P<m1>\d\d)(?P=sep)(?P<d1>\d\d)|(?P<m2>\d\d)(?P<d2>\d\d))(?!\d)"
)


def date_from_name(name: str) -> date | None:
    """The first real date written `YYYY-MM-DD` (also `_` or `.`) or `YYYYMMDD` in a file name."""
    for match in _DATE_IN_NAME.finditer(name):
        month = match.group("m1") or match.group("m2")
        day = match.group("d1") or match.group("d2")
        try:
            return date(int(match.group("y")), int(month), int(day))
        except ValueError:
            continue  # 2026-02-30, 20261399: not a date, look further
    return None


def date_from_mtime(mtime: float) -> date:
    """The ward-local calendar date of a modification time (seconds since the epoch)."""
    return datetime.fromtimestamp(mtime, WARD_TZ).date()


def ward_today(now: datetime | None = None) -> date:
    """The ward's calendar date at `now` (naive means UTC; default: the clock). The one "today" of
    ingest: an extract dated after it is rejected."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(WARD_TZ).date()


def extract_date(path: Path, mtime: float | None = None) -> tuple[date, str]:
    """(extract date, how it was found: `name` or `mtime`)."""
    found = date_from_name(path.name)
    if found is not None:
        return found, "name"
    return date_from_mtime(path.stat().st_mtime if mtime is None else mtime), "mtime"
