"""A synthetic staged citizens table with known truth, for the identity tests and benchmark.

Built in DuckDB SQL from hash-based randomness (deterministic for a seed; 1,000,000 rows in about a
second). Columns as staging.stg_landing__citizens, plus `true_person` (the truth).

Each person is listed in every snapshot (a few miss one). Dirt, at the given rates:
- persons without any 12-digit ID (`no_id_persons`), e.g. children never issued one;
- rows whose ID was lost (`id_loss`: scientific notation or empty) — the person has it elsewhere;
- per row (2 %, 1 %, 1 %): day and month swapped, date made partial (year only), a one-letter name
  typo; rows without an ID get more, each independently (`no_id_dirt`): swapped date, a typo, no
  phone; at half that rate a partial date and another household than the person's;
- per person: moved to a new household, or changed phone, from some snapshot on;
- a 9-digit CMND on 10 % of persons' rows (so a lost ID can come back through it);
- confusers: twins (same household, surname and date of birth, another given name) and namesakes
  with different valid IDs (same full name, date of birth and sex, another household).
"""

from __future__ import annotations

import csv
from datetime import date, timedelta

import duckdb

from ward.settings import REFERENCE_DIR

_FALLBACK_SURNAMES = {
    "Nguyễn": 31.5,
    "Trần": 10.9,
    "Lê": 8.9,
    "Phạm": 5.9,
    "Hoàng": 5.1,
    "Vũ": 3.9,
    "Đặng": 2.1,
}
_FALLBACK_MALE = ["Văn An", "Văn Bình", "Đức Minh", "Quang Huy", "Minh Tuấn", "Văn Hùng", "Hữu Phúc"]
_FALLBACK_FEMALE = ["Thị Lan", "Thị Hoa", "Thu Hà", "Ngọc Anh", "Thị Mai", "Thanh Hương", "Thị Hòa"]


def _reference() -> tuple[list[str], list[str], list[str]]:
    try:
        with open(REFERENCE_DIR / "surnames.csv", encoding="utf-8") as f:
            weights = {r["surname"]: float(r["weight_percent"]) for r in csv.DictReader(f)}
        male = (REFERENCE_DIR / "given_names_male.txt").read_text(encoding="utf-8").split("\n")
        female = (REFERENCE_DIR / "given_names_female.txt").read_text(encoding="utf-8").split("\n")
    except OSError:
        weights, male, female = _FALLBACK_SURNAMES, _FALLBACK_MALE, _FALLBACK_FEMALE
    total = sum(weights.values())
    slots: list[str] = []
    for name, w in weights.items():
        slots += [name] * max(1, round(1000 * w / total))
    clean = [n.strip().replace("Ð", "Đ").replace("ð", "đ") for n in male + female]
    return slots, [n for n in clean[: len(male)] if n], [n for n in clean[len(male) :] if n]


def make_citizens(
    con: duckdb.DuckDBPyConnection,
    table: str,
    persons: int,
    *,
    snapshots: int = 2,
    seed: int = 1,
    no_id_persons: float = 0.003,
    id_loss: float = 0.01,
    no_id_dirt: float = 0.0,
    namesakes: float = 0.003,
    first_snapshot: date = date(2026, 1, 1),
) -> None:
    """Create `table` (replacing it); see the module docstring."""
    slots, male, female = _reference()
    for lookup, values in (("_syn_surname", slots), ("_syn_male", male), ("_syn_female", female)):
        con.execute(
            f"create or replace temp table {lookup} as "
            "select unnest($1) as s, generate_subscripts($1, 1) - 1 as k",
            [values],
        )
    dates = [(first_snapshot + timedelta(days=91 * s)).isoformat() for s in range(snapshots)]
    n_slots, n_male, n_female = len(slots), len(male), len(female)

    def u(*parts: str) -> str:
        """A uniform [0, 1) draw from a hash of the parts and the seed."""
        return f"((hash({', '.join(parts)}, {seed}) % 1000000007) / 1000000007.0)"

    con.execute(
        f"""
        create or replace temp table _syn_base as
        with p as (
            select i, i // 4 as hh,
                case when {u("i", "'sex'")} < 0.5 then 'M' else 'F' end as sex,
                case when {u("i", "'fam'")} < 0.75 then hash(i // 4, {seed}, 'sur')
                     else hash(i, {seed}, 'sur') end % {n_slots} as sk,
                hash(i, {seed}, 'given') as gk,
                date '1935-01-01' + cast(hash(i, {seed}, 'dob') % 32000 as integer) as dob,
                {u("i", "'prec'")} as uprec,
                case when {u("i", "'phone'")} < 0.6
                     then '09' || lpad(cast(hash(i, {seed}, 'ph') % 100000000 as varchar), 8, '0')
                end as phone,
                {u("i", "'noid'")} < {no_id_persons} as no_id,
                case when {u("i", "'cmnd'")} < 0.1
                     then lpad(cast((i * 104729 + {seed}) % 1000000000 as varchar), 9, '0') end as cmnd,
                {u("i", "'move'")} < 0.05 as moves,
                {u("i", "'newphone'")} < 0.05 as new_phone,
                1 + cast(hash(i, {seed}, 'when') % greatest({snapshots} - 1, 1) as integer) as change_at,
                {u("i", "'twin'")} < 0.01 and i % 4 = 1 as twin,
                {u("i", "'namesake'")} < {namesakes} and i >= {persons} // 2 as namesake
            from range({persons}) t(i)
        ),
        named as (
            select p.*, s.s as surname, coalesce(m.s, f.s) as given
            from p join _syn_surname s on s.k = p.sk
            left join _syn_male m on p.sex = 'M' and m.k = p.gk % {n_male}
            left join _syn_female f on p.sex = 'F' and f.k = p.gk % {n_female}
        )
        select * from named
        """
    )
    # confusers copy attributes of another person: twins (the previous member of the household,
    # other given name) and namesakes (a person from the first half: same name, dob and sex)
    con.execute(
        f"""
        create or replace temp table _syn_persons as
        select b.i as person, b.hh,
            case when b.namesake then src.sex else b.sex end as sex,
            case when b.namesake then src.surname || ' ' || src.given
                 when b.twin then prev.surname || ' ' || b.given
                 else b.surname || ' ' || b.given end as full_name,
            case when b.namesake then src.dob when b.twin then prev.dob else b.dob end as dob,
            b.uprec, b.phone, b.no_id, b.cmnd, b.moves, b.new_phone, b.change_at
        from _syn_base b
        left join _syn_base prev on b.twin and prev.i = b.i - 1
        left join _syn_base src on b.namesake and src.i = b.i - {persons} // 2
        """
    )
    con.execute(
        f"""
        create or replace temp table _syn_people as
        select *,
            case when uprec < 0.03 then 'year' when uprec < 0.05 then 'month' else 'day' end as precision,
            case when uprec < 0.03 then date_trunc('year', dob)
                 when uprec < 0.05 then date_trunc('month', dob)
                 else dob end :: date as dob_stated,
            '031'
                || cast((case when sex = 'F' then 1 else 0 end) + 2 * ((year(dob) - 1900) // 100) as varchar)
                || lpad(cast(year(dob) % 100 as varchar), 2, '0')
                || lpad(cast((person * 7919 + {seed}) % 1000000 as varchar), 6, '0') as cid
        from _syn_persons
        """
    )
    con.execute(
        f"""
        create or replace table {table} as
        with snaps as (select unnest($1) as d, generate_subscripts($1, 1) - 1 as s),
        rows as (
            select p.*, snaps.s, cast(snaps.d as date) as extract_date,
                {u("p.person", "snaps.s", "'row'")} as ur
            from _syn_people p cross join snaps
            where {u("p.person", "snaps.s", "'absent'")} >= 0.02 or snaps.s = 0
        ),
        flagged as (
            select *, (not no_id and ur < {id_loss}) as lost from rows
        ),
        dirty as (
            select *,
                (ur >= {id_loss} and ur < {id_loss} + 0.02)
                    or ((lost or no_id) and {u("person", "s", "'d1'")} < {no_id_dirt}) as swap,
                (ur >= {id_loss} + 0.02 and ur < {id_loss} + 0.03)
                    or ((lost or no_id) and {u("person", "s", "'d2'")} < {no_id_dirt} / 2) as to_year,
                (ur >= {id_loss} + 0.03 and ur < {id_loss} + 0.04)
                    or ((lost or no_id) and {u("person", "s", "'d3'")} < {no_id_dirt}) as typo,
                (lost or no_id) and {u("person", "s", "'d4'")} < {no_id_dirt} / 2 as strayed,
                (lost or no_id) and {u("person", "s", "'d5'")} < {no_id_dirt} as phone_lost
            from flagged
        )
        select
            'citizens/ds_' || strftime(extract_date, '%Y-%m-%d') || '.csv' as source_file,
            cast(row_number() over (partition by s order by hash(person, s, {seed})) as integer)
                as row_number,
            cast(null as varchar) as file_sha256,
            extract_date,
            case when not (no_id or lost) then cid end as citizen_id,
            case when not (no_id or lost) then 'valid' when lost and ur < {id_loss} / 2 then 'scientific'
                 else 'missing' end as citizen_id_status,
            case when not (no_id or lost) then cid
                 when lost and ur < {id_loss} / 2
                 then substr(cid, 2, 1) || '.' || substr(cid, 3, 5) || 'E+10'
            end as citizen_id_raw,
            cmnd as legacy_id,
            case when typo then regexp_replace(full_name, '[aăâeêioôơuưy]', 'o') else full_name end
                as full_name,
            case when to_year then date_trunc('year', dob_stated)::date
                 when swap and precision = 'day' and day(dob) <= 12 and day(dob) <> month(dob)
                     then make_date(year(dob), day(dob), month(dob))
                 else dob_stated end as date_of_birth,
            case when to_year then 'year' else precision end as date_of_birth_precision,
            year(dob) as birth_year,
            sex,
            'HO' || lpad(cast(case when strayed then hh + 7000000
                                   when moves and s >= change_at then hh + 5000000
                                   else hh end as varchar), 7, '0') as household_id,
            case when phone_lost then null
                 when new_phone and s >= change_at
                 then '03' || lpad(cast(hash(person, {seed}, 'ph2') % 100000000 as varchar), 8, '0')
                 else phone end as phone,
            cast(hh % 40 + 1 as integer) as residential_group_no,
            cast(extract_date as timestamp) as updated_at,
            person as true_person
        from dirty
        order by extract_date, row_number
        """,
        [dates],
    )
    for t in ("_syn_surname", "_syn_male", "_syn_female", "_syn_base", "_syn_persons", "_syn_people"):
        con.execute(f"drop table if exists {t}")
