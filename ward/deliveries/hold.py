"""The measures that hold a delivery, read from the raw Parquet with DuckDB (before dbt, cheap).

A citizens snapshot's persons: per residential group (the number in the cell as delivered, `Tổ dân
phố số 5` → 5), distinct IDs that look valid (10–12 digits, zero-padded to 12) plus the rows without
one; for the ward, the same over all groups (a person listed in two groups counts once). A snapshot
loses what it lists less than its baseline: `(before − after) / before`, for the ward and for each
group that had at least MIN_GROUP_PERSONS persons in the baseline (a group of 5 losing 1 person is
20%: tiny groups would hold every snapshot). A net count, not a match of persons: it is there to
catch a partial, truncated or wrong file, not to find who moved.

A dossier extract is ahead when more than AHEAD_SHARE of its rows are received or updated after its
extract date or after today: a file whose dates are wrong (a year typed 2062, a shifted column).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

MIN_GROUP_PERSONS = 20
AHEAD_SHARE = 0.01


@dataclass(frozen=True)
class Persons:
    ward: int
    by_group: dict[int | None, int]


@dataclass(frozen=True)
class Loss:
    before: int
    after: int
    share: float  # of the ward's persons lost (0 when it grew)
    group: int | None  # the group losing the largest share (of those counted), None if none
    group_before: int = 0
    group_after: int = 0
    group_share: float = 0.0

    def exceeds(self, threshold: float) -> bool:
        return self.share > threshold or self.group_share > threshold

    @property
    def figures(self) -> str:
        return f"{self.before:,} → {self.after:,} persons ({-self.share:+.1%})"

    @property
    def worst(self) -> str:
        if self.group is None:
            return "no residential group of 20 persons or more to compare"
        change = f"{self.group_before:,} → {self.group_after:,}"
        return f"Tổ dân phố {self.group}: {change} ({-self.group_share:+.1%})"


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


_ID = "regexp_replace(coalesce(citizen_id, ''), '[\\s.]', '', 'g')"
_PERSONS_SQL = f"""
with listed as (
    select
        try_cast(regexp_extract(trim(residential_group), '([0-9]{{1,4}})\\s*$', 1) as integer) as grp,
        case when regexp_full_match({_ID}, '[0-9]{{10,12}}') then lpad({_ID}, 12, '0') end as pid
    from read_parquet([{{files}}], union_by_name = true)
)
select grp, count(distinct pid) + count(*) filter (where pid is null) as persons, false as is_ward
from listed group by grp
union all
select null, count(distinct pid) + count(*) filter (where pid is null), true from listed
"""


def citizens_persons(files: list[Path]) -> Persons:
    """The persons a citizens snapshot (its raw Parquet files) lists, in the ward and per group."""
    if not files:
        return Persons(0, {})
    sql = _PERSONS_SQL.replace("{files}", ", ".join(_literal(f) for f in files))
    with duckdb.connect() as con:
        rows = con.execute(sql).fetchall()
    ward = next((n for _, n, is_ward in rows if is_ward), 0)
    return Persons(int(ward), {g: int(n) for g, n, is_ward in rows if not is_ward})


def loss(before: Persons, after: Persons) -> Loss:
    """What `after` lists less than `before`: the ward's share and the worst group's."""
    share = max(0, before.ward - after.ward) / before.ward if before.ward else 0.0
    worst: tuple[float, int | None, int, int] = (-1.0, None, 0, 0)
    for group, n in before.by_group.items():
        if group is None or n < MIN_GROUP_PERSONS:
            continue
        now = after.by_group.get(group, 0)
        lost = max(0, n - now) / n
        if lost > worst[0]:
            worst = (lost, group, n, now)
    group_share, group, group_before, group_after = worst
    return Loss(before.ward, after.ward, share, group, group_before, group_after, max(group_share, 0.0))


def _day(column: str) -> str:
    """A delivered date cell as a DATE: ISO or d/m/yyyy (also `-` `.`), with a time or not, or an
    Excel serial number; null when unreadable (the quality rules deal with those)."""
    cell = f"trim({column})"
    iso = f"try_strptime(regexp_extract({cell}, '^([0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}})', 1), '%Y-%m-%d')"
    dmy_text = f"regexp_extract({cell}, '^([0-9]{{1,2}}[/.-][0-9]{{1,2}}[/.-][0-9]{{4}})', 1)"
    dmy = f"try_strptime(regexp_replace({dmy_text}, '[.-]', '/', 'g'), '%d/%m/%Y')"
    serial = (
        f"case when regexp_full_match({cell}, '[0-9]{{5}}(\\.[0-9]+)?') "
        f"then date '1899-12-30' + cast(floor(cast({cell} as double)) as integer) end"
    )
    return f"coalesce(cast({iso} as date), cast({dmy} as date), {serial})"


def dossiers_ahead(file: Path, extract_date: date, today: date) -> tuple[int, int]:
    """(rows received or updated after the extract date or after today, rows) of a dossier extract."""
    limit = min(extract_date, today)
    sql = f"""
        select count(*) filter (where coalesce({_day("received_at")} > ?, false)
                                   or coalesce({_day("updated_at")} > ?, false)),
               count(*)
        from read_parquet({_literal(file)})
    """
    with duckdb.connect() as con:
        ahead, rows = con.execute(sql, [limit, limit]).fetchone()
    return int(ahead), int(rows)


def dossiers_held(ahead: int, rows: int) -> bool:
    return rows > 0 and ahead / rows > AHEAD_SHARE
