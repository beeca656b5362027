"""k-anonymity for the shared tier's person-level tables (personal_data.PERSON_LEVEL_TABLES).

Without names, IDs and birth dates, a person is still singled out by what a neighbour knows of
them: the year they were born, sex, ethnicity, relation to the head, residential group, residence
type, whether they are alive. On the 5,006 persons of a generated ward 4,893 were unique on a few of
those. A shared person-level table is therefore generalised until every combination of its
quasi-identifiers (an equivalence class) holds at least K persons:

1. global recoding, the same for every row, one ladder step at a time (`LEVELS`): birth year to
   5-year bands, ethnicity to Kinh / Khác, relation to Chủ hộ / Vợ-Chồng / Con / Khác and marital
   status to married / not; then 10-year and 20-year bands. The first step after which at most
   `MAX_SUPPRESSED_SHARE` of the rows are still in a class smaller than K is taken;
2. local suppression of the rest: for the rows still in a class smaller than K, one attribute after
   another is set to null (`SUPPRESSION_ORDER`: least useful first, the residential group last),
   the classes counted again after each;
3. rows that are then null on every quasi-identifier form one class; if it holds fewer than K rows,
   rows of the largest class join it (all their quasi-identifiers null too).

A null is a null: a suppressed cell is not told apart from a missing one. Columns an outsider cannot
know (match_confidence, source_row_count, identity_kind, the hashed keys) are not
quasi-identifiers; the hashed person_key is a pseudonym, kept so that the shared marts still join.
The residential group is suppressed last, so a group's figures in other shared marts (findings also
carry it beside the person's key) add nothing to what a class already says.

The report (`AnonymityReport`, written into the shared manifest) gives k reached: the smallest
class, K itself unless the table has fewer than K rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import duckdb
import pyarrow as pa

K = 5
# Global recoding stops at the first step that leaves at most this share of rows to suppress.
MAX_SUPPRESSED_SHARE = 0.02

# The quasi-identifiers, as published (generalised in place, birth_year replaced by its band).
QUASI_IDENTIFIERS = (
    "birth_year", "sex", "ethnicity", "relation_to_head", "marital_status", "residence_type",
    "is_resident", "is_alive", "residential_group_no",
)  # fmt: skip
BAND_FROM, BAND_TO = "birth_year_from", "birth_year_to"

_KINH = "Kinh"
_HEAD, _SPOUSE, _CHILD, _OTHER = "Chủ hộ", "Vợ/Chồng", "Con", "Khác"
_MARRIED, _NOT_MARRIED = "Đã kết hôn", "Không kết hôn"


@dataclass(frozen=True)
class Level:
    """One step of the global recoding ladder."""

    name: str
    band: int  # birth year band width in years (1 = the year itself)
    coarse_categories: bool  # ethnicity, relation, marital status to their few classes


LEVELS = (
    Level("exact", 1, False),
    Level("5-year bands, Kinh/Khác, head/spouse/child/other", 5, True),
    Level("10-year bands, Kinh/Khác, head/spouse/child/other", 10, True),
    Level("20-year bands, Kinh/Khác, head/spouse/child/other", 20, True),
)

# Local suppression, one group of columns at a time, for the rows still in a class below K.
# residence_type and is_resident go together (is_resident tells Tạm trú from Tạm vắng).
SUPPRESSION_ORDER = (
    ("ethnicity",),
    ("marital_status",),
    ("relation_to_head",),
    ("residence_type", "is_resident"),
    ("is_alive",),
    ("sex",),
    (BAND_FROM, BAND_TO),
    ("residential_group_no",),
)

_ROW = "__ward_row"
_SIZE = "__ward_class_size"


@dataclass
class AnonymityReport:
    k: int | None  # the smallest class reached (None: no rows)
    k_target: int
    quasi_identifiers: list[str]
    generalisation: str  # the ladder step taken
    generalised: dict[str, str]
    suppressed_cells: dict[str, int] = field(default_factory=dict)
    rows_fully_suppressed: int = 0
    classes: int = 0

    def as_manifest(self) -> dict:
        return asdict(self)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _generalised(columns: list[str], level: Level) -> tuple[list[str], dict[str, str]]:
    """The select list of one ladder step, and what it did to each quasi-identifier."""
    select, done = [_q(_ROW)], {}
    coarse = level.coarse_categories
    for column in columns:
        c = _q(column)
        if column == "birth_year":
            w = level.band
            select += [
                f"cast(floor({c} / {w}) * {w} as integer) as {BAND_FROM}",
                f"cast(floor({c} / {w}) * {w} + {w - 1} as integer) as {BAND_TO}",
            ]
            done[column] = "the year" if w == 1 else f"{w}-year bands ({BAND_FROM}, {BAND_TO})"
        elif column == "ethnicity" and coarse:
            select.append(
                f"case when {c} is null then null when {c} = '{_KINH}' then '{_KINH}' "
                f"else '{_OTHER}' end as {c}"
            )
            done[column] = f"{_KINH} / {_OTHER}"
        elif column == "relation_to_head" and coarse:
            select.append(
                f"case when {c} is null then null when {c} = '{_HEAD}' then '{_HEAD}' "
                f"when {c} in ('Vợ', 'Chồng') then '{_SPOUSE}' when {c} = 'Con' then '{_CHILD}' "
                f"else '{_OTHER}' end as {c}"
            )
            done[column] = f"{_HEAD} / {_SPOUSE} / {_CHILD} / {_OTHER}"
        elif column == "marital_status" and coarse:
            select.append(
                f"case when {c} is null then null when {c} = '{_MARRIED}' then '{_MARRIED}' "
                f"else '{_NOT_MARRIED}' end as {c}"
            )
            done[column] = f"{_MARRIED} / {_NOT_MARRIED}"
        else:
            select.append(c)
    return select, done


def _published(columns: list[str]) -> list[str]:
    """The quasi-identifier columns as published (birth_year → its band's two columns)."""
    out = []
    for column in columns:
        out += [BAND_FROM, BAND_TO] if column == "birth_year" else [column]
    return out


def _small_rows(con: duckdb.DuckDBPyConnection, qi: str, k: int) -> int:
    return con.execute(
        f"select coalesce(sum(n), 0) from (select count(*) as n from g group by {qi}) where n < {k}"
    ).fetchall()[0][0]


def anonymise(table: pa.Table, k: int = K) -> tuple[pa.Table, AnonymityReport]:
    """`table` with its quasi-identifiers generalised and suppressed until every class holds k rows.

    Rows keep their order; the other columns are untouched. birth_year becomes birth_year_from and
    birth_year_to (its band; equal when the year itself is kept).
    """
    columns = [c for c in QUASI_IDENTIFIERS if c in table.column_names]
    rows = table.num_rows
    published = _published(columns)
    qi = ", ".join(_q(c) for c in published)
    numbered = pa.table({**{c: table[c] for c in columns}, _ROW: pa.array(range(rows), pa.int64())})
    report = AnonymityReport(None, k, columns, LEVELS[0].name, {})
    with duckdb.connect() as con:
        con.register("person_rows", numbered)
        if not columns:  # nothing to generalise: every row is one class
            report.k = rows or None
            return table, report
        for level in LEVELS:
            select, report.generalised = _generalised(columns, level)
            con.execute(f"create or replace table g as select {', '.join(select)} from person_rows")
            report.generalisation = level.name
            if _small_rows(con, qi, k) <= MAX_SUPPRESSED_SHARE * rows:
                break
        _suppress(con, published, qi, k, report)
        _pad_the_suppressed_class(con, published, k)
        all_null = " and ".join(f"{_q(c)} is null" for c in published)
        suppressed = con.execute(f"select count(*) from g where {all_null}").fetchall()
        report.rows_fully_suppressed = suppressed[0][0]
        report.k, report.classes = con.execute(
            f"select min(n), count(*) from (select count(*) as n from g group by {qi})"
        ).fetchall()[0]
        result = con.sql(f"select {qi} from g order by {_q(_ROW)}").to_arrow_table()
    return _replace(table, columns, result), report


def _suppress(
    con: duckdb.DuckDBPyConnection, published: list[str], qi: str, k: int, report: AnonymityReport
) -> None:
    """Null one group of columns after another (SUPPRESSION_ORDER) on the rows still in a class
    below k, counting the classes again after each.

    A fixed order, not the group that rescues most rows each time: on the 1,500-person ward that
    greedy choice nulls the birth band of 27% of the persons, the fixed order of 3% (and the
    ethnicity, 98.7% Kinh, and the relation of 27%): age and sex by group are what apps count."""
    for group in SUPPRESSION_ORDER:
        group = [c for c in group if c in published]
        if not group:
            continue
        if not _small_rows(con, qi, k):
            return
        counts = ", ".join(f"count({_q(c)})" for c in group)
        before = con.execute(f"select {counts} from g").fetchall()[0]
        replace = ", ".join(
            f"case when {_q(_SIZE)} < {k} then null else {_q(c)} end as {_q(c)}" for c in group
        )
        con.execute(
            f"create or replace table g as select * exclude ({_q(_SIZE)}) replace ({replace}) "
            f"from (select *, count(*) over (partition by {qi}) as {_q(_SIZE)} from g)"
        )
        after = con.execute(f"select {counts} from g").fetchall()[0]
        for column, was, now in zip(group, before, after, strict=True):
            if was > now:
                report.suppressed_cells[column] = report.suppressed_cells.get(column, 0) + was - now


def _pad_the_suppressed_class(con: duckdb.DuckDBPyConnection, published: list[str], k: int) -> None:
    """Rows null on every quasi-identifier are one class: fewer than k, rows of the largest class
    join it (the last rows of it; if no class can spare them, every row is suppressed)."""
    qi = ", ".join(_q(c) for c in published)
    all_null = " and ".join(f"{_q(c)} is null" for c in published)
    suppressed = con.execute(f"select count(*) from g where {all_null}").fetchall()[0][0]
    if suppressed == 0 or suppressed >= k:
        return
    need = k - suppressed
    nulls = ", ".join(f"null as {_q(c)}" for c in published)
    donors = con.execute(
        f"select rows from (select list({_q(_ROW)} order by {_q(_ROW)} desc) as rows, count(*) as n "
        f"from g where not ({all_null}) group by {qi}) where n - {need} >= {k} "
        f"order by n desc, rows[1] limit 1"
    ).fetchall()
    if not donors:
        con.execute(f"create or replace table g as select {_q(_ROW)}, {nulls} from g")
        return
    chosen = donors[0][0][:need]
    replace = ", ".join(
        f"case when {_q(_ROW)} in ({', '.join(map(str, chosen))}) then null else {_q(c)} end as {_q(c)}"
        for c in published
    )
    con.execute(f"create or replace table g as select * replace ({replace}) from g")


def _replace(table: pa.Table, columns: list[str], result: pa.Table) -> pa.Table:
    """`table` with its quasi-identifier columns replaced by their anonymised form, in place."""
    out_columns, names = [], []
    for name in table.column_names:
        if name == "birth_year":
            for band in (BAND_FROM, BAND_TO):
                out_columns.append(result[band].cast(pa.int32()))
                names.append(band)
        elif name in columns:
            out_columns.append(result[name].cast(table.schema.field(name).type))
            names.append(name)
        else:
            out_columns.append(table[name])
            names.append(name)
    return pa.table(out_columns, names=names)
