"""What the marts must hold, computed from the CLEAN ward by the definitions of extract-spec
("What the words mean") and marts-spec, in polars, independently of the pipeline.

mart_population_by_group (one row per residential group per citizens snapshot date, plus a ward row
with an empty residential_group_no):
- resident: residence type Thường trú or Tạm trú, not dead on the snapshot date (date_of_death null
  or after it); absent: Tạm vắng and not dead; male, female, temporary_residents and the age buckets
  count residents; age = whole years on the snapshot date (a partial birth date is the first day of
  its period, as stored in the clean ward);
- households: rows of the households snapshot with the same extract date, by the household row's
  group;
- the groups listed are those with at least one citizen or household row in that snapshot.

mart_service_kpis (every month from the earliest receipt to the month of the latest service_records
extract date × every procedure code, plus `ALL`), on each dossier's latest version (latest updated_at):
- received / received_online by month of received date; finished = latest status Đã trả kết quả or
  Từ chối, by month of completed date; on time = completed date <= due date and supplement_count <= 1;
- open_overdue_at_month_end at day D (the month's last day, or the latest extract date in its month):
  received on or before D, not finished with completed date <= D, not withdrawn, due date < D;
- on_time_rate = finished_on_time / finished, online_rate = received_online / received, null when the
  denominator is 0.

residence_events (what fct_residence_event must hold; one row per event, persons matched across
snapshots by person_seq, never by the pipeline's identity): for each citizens snapshot but the first,
against the one before it: birth (listed now, not before, born after the previous snapshot date;
dated by the birth date, exact when the birth date is day-precise), move_in (listed now, not before,
born on or before it), move_out (listed before, not now; in the group left), death (date_of_death
set now, not before; dated by it), household_change and residence_type_change (the value differs);
the last four dated by the later snapshot date, not exact. Groups are the later snapshot's but for
move_out.

namesakes: every pair of different persons listed in one citizens snapshot in the same residential
group with the same (clean) full name and sex: the planted pairs (different households and birth
dates) and any the draw of names made by chance; person_seq_a < person_seq_b, each pair once.

mart_population_change: those events counted by month of event date per group (groups of any
citizens snapshot) and for the ward; every month from the first snapshot's month to the latest's
(stretched to any event outside); net_change = births + moves_in - deaths - moves_out.
"""

from __future__ import annotations

import itertools
from datetime import date

import polars as pl

POPULATION_COLUMNS = (
    "snapshot_date",
    "residential_group_no",
    "residents",
    "households",
    "male",
    "female",
    "temporary_residents",
    "absent",
    "age_0_5",
    "age_6_14",
    "age_15_59",
    "age_60_plus",
)
KPI_COLUMNS = (
    "month",
    "procedure_code",
    "received",
    "received_online",
    "finished",
    "finished_on_time",
    "on_time_rate",
    "online_rate",
    "open_overdue_at_month_end",
)
EVENT_COLUMNS = (
    "person_seq",
    "citizen_id",
    "event_type",
    "event_date",
    "is_event_date_exact",
    "snapshot_date",
    "previous_snapshot_date",
    "residential_group_no",
    "household_id",
    "previous_household_id",
    "residence_type",
    "previous_residence_type",
)
EVENT_COUNTS = {
    "birth": "births",
    "death": "deaths",
    "move_in": "moves_in",
    "move_out": "moves_out",
    "household_change": "household_changes",
    "residence_type_change": "residence_type_changes",
}
CHANGE_COLUMNS = ("month", "residential_group_no", *EVENT_COUNTS.values(), "net_change")
FINISHED = ("Đã trả kết quả", "Từ chối")
WITHDRAWN = "Rút hồ sơ"


def whole_years(born: pl.Expr, on: pl.Expr) -> pl.Expr:
    """Completed years from `born` to `on` (the birthday counts from its own day)."""
    before_birthday = (on.dt.month() < born.dt.month()) | (
        (on.dt.month() == born.dt.month()) & (on.dt.day() < born.dt.day())
    )
    return on.dt.year() - born.dt.year() - before_birthday.cast(pl.Int32)


def population_by_group(citizens: pl.DataFrame, households: pl.DataFrame) -> pl.DataFrame:
    day = pl.col("snapshot_date")
    alive = pl.col("date_of_death").is_null() | (pl.col("date_of_death") > day)
    resident = alive & pl.col("residence_type").is_in(["thuong_tru", "tam_tru"])
    age = whole_years(pl.col("date_of_birth"), day)
    keys = ["snapshot_date", "residential_group_no"]
    people = citizens.group_by(keys).agg(
        residents=resident.sum(),
        male=(resident & (pl.col("sex") == "M")).sum(),
        female=(resident & (pl.col("sex") == "F")).sum(),
        temporary_residents=(resident & (pl.col("residence_type") == "tam_tru")).sum(),
        absent=(alive & (pl.col("residence_type") == "tam_vang")).sum(),
        age_0_5=(resident & (age <= 5)).sum(),
        age_6_14=(resident & (age >= 6) & (age <= 14)).sum(),
        age_15_59=(resident & (age >= 15) & (age <= 59)).sum(),
        age_60_plus=(resident & (age >= 60)).sum(),
    )
    homes = households.group_by(keys).agg(households=pl.len())
    by_group = people.join(homes, on=keys, how="full", coalesce=True).with_columns(
        pl.exclude(keys).fill_null(0).cast(pl.Int64)
    )
    counts = [c for c in POPULATION_COLUMNS if c not in keys]
    ward = (
        by_group.group_by("snapshot_date")
        .agg(pl.col(counts).sum())
        .with_columns(residential_group_no=pl.lit(None, dtype=pl.Int64))
    )
    return (
        pl.concat([by_group.select(POPULATION_COLUMNS), ward.select(POPULATION_COLUMNS)])
        .with_columns(pl.col("residential_group_no").cast(pl.Int64))
        .sort("snapshot_date", "residential_group_no", nulls_last=True)
    )


def latest_versions(versions: pl.DataFrame) -> pl.DataFrame:
    return versions.sort("record_id", "updated_at").group_by("record_id", maintain_order=True).last()


def _month_ends(first: date, last: date) -> list[tuple[date, date]]:
    months = pl.date_range(first.replace(day=1), last.replace(day=1), interval="1mo", eager=True).to_list()
    return [(m, min(pl.Series([m]).dt.month_end()[0], last)) for m in months]


def service_kpis(versions: pl.DataFrame, latest_extract: date) -> pl.DataFrame:
    d = latest_versions(versions).with_columns(
        received_date=pl.col("received_at").dt.date(),
        due_date=pl.col("due_at"),
        completed_date=pl.col("completed_at").dt.date(),
        finished=pl.col("status").is_in(FINISHED),
        withdrawn=pl.col("status") == WITHDRAWN,
    )
    d = d.with_columns(
        on_time=pl.col("finished")
        & (pl.col("completed_date") <= pl.col("due_date"))
        & (pl.col("supplement_count") <= 1),
        online=pl.col("channel") == "truc_tuyen",
    )
    codes = sorted(d["procedure_code"].unique().to_list())
    months = _month_ends(d["received_date"].min(), latest_extract)
    grid = pl.DataFrame(
        {
            "month": [m for m, _ in months for _ in [*codes, "ALL"]],
            "procedure_code": [c for _ in months for c in [*codes, "ALL"]],
        }
    ).with_columns(pl.col("month").cast(pl.Date))

    def both(frame: pl.DataFrame, month_col: str, aggs: dict[str, pl.Expr]) -> pl.DataFrame:
        keyed = frame.with_columns(month=pl.col(month_col).dt.truncate("1mo"))
        per_code = keyed.group_by("month", "procedure_code").agg(**aggs)
        total = keyed.group_by("month").agg(**aggs).with_columns(procedure_code=pl.lit("ALL"))
        return pl.concat([per_code, total.select(per_code.columns)])

    received = both(d, "received_date", {"received": pl.len(), "received_online": pl.col("online").sum()})
    finished = both(
        d.filter(pl.col("finished")),
        "completed_date",
        {"finished": pl.len(), "finished_on_time": pl.col("on_time").sum()},
    )
    overdue_rows = []
    for month, day in months:
        open_overdue = d.filter(
            (pl.col("received_date") <= day)
            & ~(pl.col("finished") & (pl.col("completed_date") <= day))
            & ~pl.col("withdrawn")
            & (pl.col("due_date") < day)
        )
        counts = open_overdue.group_by("procedure_code").agg(open_overdue_at_month_end=pl.len())
        overdue_rows.append(counts.with_columns(month=pl.lit(month, dtype=pl.Date)))
        overdue_rows.append(
            pl.DataFrame(
                {"procedure_code": ["ALL"], "open_overdue_at_month_end": [open_overdue.height]}
            ).with_columns(month=pl.lit(month, dtype=pl.Date))
        )
    overdue = pl.concat(overdue_rows, how="vertical_relaxed")
    keys = ["month", "procedure_code"]
    out = (
        grid.join(received, on=keys, how="left")
        .join(finished, on=keys, how="left")
        .join(overdue, on=keys, how="left")
        .with_columns(
            pl.col("received", "received_online", "finished", "finished_on_time", "open_overdue_at_month_end")
            .fill_null(0)
            .cast(pl.Int64)
        )
        .with_columns(
            on_time_rate=pl.when(pl.col("finished") > 0).then(
                pl.col("finished_on_time") / pl.col("finished")
            ),
            online_rate=pl.when(pl.col("received") > 0).then(pl.col("received_online") / pl.col("received")),
        )
    )
    return out.select(KPI_COLUMNS).sort("month", "procedure_code")


def residence_events(citizens: pl.DataFrame) -> pl.DataFrame:
    """Events between consecutive clean citizens snapshots (one row per listed person per snapshot)."""
    state = ["date_of_death", "residence_type", "household_id", "residential_group_no"]
    dates = sorted(citizens["snapshot_date"].unique().to_list())
    frames = []
    for before, now in itertools.pairwise(dates):
        old = citizens.filter(pl.col("snapshot_date") == before).select(
            "person_seq", "citizen_id", "date_of_birth", *state
        )
        new = citizens.filter(pl.col("snapshot_date") == now).select(
            "person_seq", "citizen_id", "date_of_birth", "date_of_birth_precision", *state
        )
        pair = new.join(old, on="person_seq", how="full", coalesce=True, suffix="_before").with_columns(
            snapshot_date=pl.lit(now),
            previous_snapshot_date=pl.lit(before),
            is_listed=pl.col("residence_type").is_not_null(),
            was_listed=pl.col("residence_type_before").is_not_null(),
            citizen_id=pl.coalesce("citizen_id", "citizen_id_before"),
        )
        appears = pl.col("is_listed") & ~pl.col("was_listed")
        both = pl.col("is_listed") & pl.col("was_listed")
        born_after = pl.col("date_of_birth") > pl.lit(before)
        later, group = pl.col("snapshot_date"), pl.col("residential_group_no")
        day_precise = pl.col("date_of_birth_precision") == "day"
        kinds = {
            "birth": (appears & born_after, pl.col("date_of_birth"), day_precise, group),
            "move_in": (appears & ~born_after, later, pl.lit(False), group),
            "move_out": (pl.col("was_listed") & ~pl.col("is_listed"), later, pl.lit(False),
                         pl.col("residential_group_no_before")),
            "death": (both & pl.col("date_of_death").is_not_null() & pl.col("date_of_death_before").is_null(),
                      pl.col("date_of_death"), pl.lit(True), group),
            "household_change": (both & (pl.col("household_id") != pl.col("household_id_before")),
                                 later, pl.lit(False), group),
            "residence_type_change": (both & (pl.col("residence_type") != pl.col("residence_type_before")),
                                      later, pl.lit(False), group),
        }  # fmt: skip
        for kind, (where, day, exact, in_group) in kinds.items():
            frames.append(
                pair.filter(where).select(
                    "person_seq",
                    "citizen_id",
                    event_type=pl.lit(kind),
                    event_date=day,
                    is_event_date_exact=exact,
                    snapshot_date="snapshot_date",
                    previous_snapshot_date="previous_snapshot_date",
                    residential_group_no=in_group.cast(pl.Int64),
                    household_id="household_id",
                    previous_household_id="household_id_before",
                    residence_type="residence_type",
                    previous_residence_type="residence_type_before",
                )
            )
    if not frames:
        return pl.DataFrame(schema={c: pl.String for c in EVENT_COLUMNS})
    return pl.concat(frames).select(EVENT_COLUMNS).sort("snapshot_date", "event_type", "person_seq")


def population_change(events: pl.DataFrame, citizens: pl.DataFrame) -> pl.DataFrame:
    """mart_population_change from residence_events: per month × group (and ward), zero rows kept."""
    dated = events.with_columns(month=pl.col("event_date").dt.truncate("1mo"))
    snapshot_months = citizens["snapshot_date"].dt.truncate("1mo")
    months = pl.date_range(
        min(snapshot_months.min(), dated["month"].min() or snapshot_months.min()),
        max(snapshot_months.max(), dated["month"].max() or snapshot_months.max()),
        interval="1mo",
        eager=True,
    )
    groups = sorted(citizens["residential_group_no"].drop_nulls().unique().to_list())
    grid = pl.DataFrame(
        {
            "month": [m for m in months for _ in [*groups, None]],
            "residential_group_no": [g for _ in months for g in [*groups, None]],
        },
        schema={"month": pl.Date, "residential_group_no": pl.Int64},
    )
    aggs = {name: (pl.col("event_type") == kind).sum() for kind, name in EVENT_COUNTS.items()}
    by_group = (
        dated.filter(pl.col("residential_group_no").is_not_null())
        .group_by("month", "residential_group_no")
        .agg(**aggs)
    )
    ward = dated.group_by("month").agg(**aggs).with_columns(residential_group_no=pl.lit(None, dtype=pl.Int64))
    counts = pl.concat([by_group, ward.select(by_group.columns)])
    keys = ["month", "residential_group_no"]
    return (
        grid.join(counts, on=keys, how="left", nulls_equal=True)
        .with_columns(pl.col(list(EVENT_COUNTS.values())).fill_null(0).cast(pl.Int64))
        .with_columns(
            net_change=pl.col("births") + pl.col("moves_in") - pl.col("deaths") - pl.col("moves_out")
        )
        .select(CHANGE_COLUMNS)
        .sort("month", "residential_group_no", nulls_last=True)
    )


def namesakes(citizens: pl.DataFrame) -> pl.DataFrame:
    keys = ["snapshot_date", "residential_group_no", "full_name", "sex"]
    people = citizens.select(*keys, "person_seq")
    pairs = people.join(people, on=keys, suffix="_b").filter(pl.col("person_seq") < pl.col("person_seq_b"))
    return (
        pairs.select(person_seq_a="person_seq", person_seq_b="person_seq_b")
        .unique()
        .sort("person_seq_a", "person_seq_b")
    )
