"""Run the declared rules against the staged tables and record every row that breaks one.

Writes, in the build database:
- quality.row_issues:   one row per (delivered row, rule that fired) — feeds quarantine and findings;
- quality.rule_results: one row per rule — rows checked, rows failed, or the error that stopped it;
- quality.pending_files: the staged files this run evaluates;
- pipeline_state.processed, step 'quality' (ward.build_state): the files whose issues are up to
  date, one item '<source>/<file_sha256>@<staged_at>' each under the rules' fingerprint
  (mark_evaluated, once Great Expectations agreed).

Incremental: a rule looks only at the rows of staged files not evaluated yet (new deliveries, or
files staged again, e.g. by a full refresh), under the current rules; their old issues are replaced.
A change of expectations/rules.yml re-evaluates everything. The totals in rule_results still cover
every staged row; the `_now` counts are this run's, which Great Expectations must confirm.

A rule whose SQL fails is recorded with its error and never counted as passing (a silent failure is
the one outcome a steward cannot see), and the other rules still run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from ward.build_state import (
    TABLE,
    ensure_table,
    forget_processed,
    quality_file_prefix_sql,
    quality_item_sql,
    staged_files_sql,
)
from ward.quality.rules import PLACEHOLDER, STAGED_MODELS, Rule, load_rules
from ward.settings import REFERENCE_DIR
from ward.sources import SOURCES

SAMPLE_SIZE = 5
STEP = "quality"  # its rows of pipeline_state.processed: the files evaluated, under which rules

ROW_ISSUES_DDL = """
create table if not exists quality.row_issues (
    source varchar not null,
    source_file varchar not null,
    row_number integer not null,
    rule varchar not null,
    column_name varchar not null,
    value varchar,
    outcome varchar not null,
    reason_vi varchar not null,
    reason_en varchar not null,
    first_seen_at timestamp,
    file_sha256 varchar  -- which delivery of source_file (a path may be re-delivered with new bytes)
)
"""

RULE_RESULTS_DDL = """
create or replace table quality.rule_results (
    rule varchar not null,
    source varchar not null,
    outcome varchar not null,
    dimension varchar not null,
    rows_checked bigint,  -- every staged row of the source
    rows_failed bigint,
    rows_checked_now bigint,  -- the rows of this run's pending files
    rows_failed_now bigint,
    sample_rows varchar[],
    error varchar,
    gx_success boolean,
    gx_unexpected_count bigint,
    gx_error varchar
)
"""


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    rows_checked: int | None
    rows_failed: int | None
    sample_rows: list[str]  # "source_file:row_number" — positions only, never values
    error: str | None = None
    rows_checked_now: int | None = None
    rows_failed_now: int | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.rows_failed == 0


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def render_reason(template: str, columns: set[str]) -> str:
    """Turn 'Ngày sinh {date_of_birth_raw} ...' into a SQL concat over the staged row."""
    parts: list[str] = []
    position = 0
    for match in PLACEHOLDER.finditer(template):
        name = match.group(1)
        if name not in columns:
            raise KeyError(f"reason template names column {name!r}, which the staged model lacks")
        parts.append(_sql_literal(template[position : match.start()]))
        parts.append(f"coalesce(cast({name} as varchar), '')")
        position = match.end()
    parts.append(_sql_literal(template[position:]))
    return "concat(" + ", ".join(parts) + ")"


def _issue_select(rule: Rule, relation: str, columns: set[str], where: str) -> str:
    value_column = rule.value_column(columns)
    value = f"cast({value_column} as varchar)" if value_column else "null"
    return f"""
        select {_sql_literal(rule.source)}, source_file, row_number, {_sql_literal(rule.code)},
               {_sql_literal(rule.column)}, {value}, {_sql_literal(rule.outcome)},
               {render_reason(rule.reason_vi, columns)}, {render_reason(rule.reason_en, columns)},
               loaded_at, file_sha256
        from {relation}
        where {where}
    """


def _duplicate_rows_relation(rule: Rule, raw_dir: Path, staged: str, pending: list[str]) -> str:
    """Staged rows joined with the first row of the same file whose delivered cells are identical."""
    # The raw lake names each file by its checksum: only the pending files are read (one no longer
    # in the lake has no rows to compare, as a glob over the lake would find none).
    paths = [raw_dir / rule.source / f"{sha}.parquet" for sha in pending]
    paths = [p for p in paths if p.exists()]
    if not paths:
        return f"(select *, null::integer as first_row_number from {staged} where false)"
    cells = ", ".join(f"coalesce({c}, chr(0))" for c in SOURCES[rule.source].column_names)
    files = ", ".join(_sql_literal(str(p)) for p in paths)
    return f"""(
        with delivered as (
            select _file_sha256 as file_sha256, _row_number as row_number,
                   md5(concat_ws(chr(31), {cells})) as row_hash
            from read_parquet([{files}], union_by_name = true)
        ), ranked as (
            select file_sha256, row_number,
                   min(row_number) over (partition by file_sha256, row_hash) as first_row_number
            from delivered
        )
        select s.*, r.first_row_number
        from {staged} as s
        join ranked as r using (file_sha256, row_number)
    )"""


def _staged_columns(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    schema, table = relation.split(".")
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {r[0] for r in rows}


def rules_fingerprint(rules: tuple[Rule, ...]) -> str:
    return hashlib.sha256(repr(sorted(rules, key=lambda r: r.code)).encode()).hexdigest()[:16]


def evaluated_under_other_rules(con: duckdb.DuckDBPyConnection, fingerprint: str) -> int:
    """How many files' issues were found under rules other than these (pipeline_state.processed);
    raises duckdb.CatalogException when nothing was ever recorded."""
    return con.execute(
        f"select count(*) from {TABLE} where step = ? and fingerprint <> ?", [STEP, fingerprint]
    ).fetchall()[0][0]


def evaluate_rules(
    con: duckdb.DuckDBPyConnection, raw_dir: Path, rules: tuple[Rule, ...] | None = None
) -> list[RuleResult]:
    rules = load_rules() if rules is None else rules
    fingerprint = rules_fingerprint(rules)
    con.execute("create schema if not exists quality")
    ensure_table(con)
    if evaluated_under_other_rules(con, fingerprint):  # the rules changed: every file is evaluated again
        con.execute("drop table if exists quality.row_issues")
        forget_processed(con, STEP)
    con.execute(ROW_ISSUES_DDL)
    con.execute(RULE_RESULTS_DDL)
    groups_csv = _sql_literal(str(REFERENCE_DIR / "residential_groups_11446.csv"))
    con.execute(
        "create or replace table quality.ref_residential_groups as "
        "select cast(residential_group_no as integer) as residential_group_no "
        f"from read_csv({groups_csv}, header = true, all_varchar = true)"
    )
    pending = _find_pending_files(con, fingerprint)
    staged = {
        source: _StagedRows.of(con, source, relation, pending.get(source, []))
        for source, relation in STAGED_MODELS.items()
    }
    results = _with_totals(con, [_evaluate_one(con, rule, raw_dir, staged[rule.source]) for rule in rules])
    con.executemany(
        "insert into quality.rule_results values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, null, null)",
        [
            [r.rule.code, r.rule.source, r.rule.outcome, r.rule.dimension, r.rows_checked,
             r.rows_failed, r.rows_checked_now, r.rows_failed_now, r.sample_rows, r.error]
            for r in results
        ],
    )  # fmt: skip
    return results


def _find_pending_files(con: duckdb.DuckDBPyConnection, fingerprint: str) -> dict[str, list[str]]:
    """Write quality.pending_files and clear their old issues; returns the pending sha256s by source."""
    con.execute(
        "create or replace table quality.pending_files "
        "(source varchar, file_sha256 varchar, staged_at timestamp, rules_fingerprint varchar)"
    )
    staged_files = []
    for source, relation in STAGED_MODELS.items():
        columns = _staged_columns(con, relation)
        if columns:  # a missing table is reported by each of the source's rules
            staged_files.append(staged_files_sql(source, relation, "staged_at" in columns))
    if staged_files:
        con.execute(
            f"""
            insert into quality.pending_files
            with staged as ({" union all ".join(staged_files)})
            select staged.*, ? from staged
            anti join (select item from {TABLE} where step = ?) as done
                on done.item = {quality_item_sql("staged.source", "staged.file_sha256", "staged.staged_at")}
            """,
            [fingerprint, STEP],
        )
        # Issues of files staged again, or no longer staged, are out of date.
        con.execute(
            f"""
            delete from quality.row_issues as issue
            where exists (select 1 from quality.pending_files as p
                          where p.source = issue.source
                            and p.file_sha256 is not distinct from issue.file_sha256)
               or not exists (select 1 from ({" union all ".join(staged_files)}) as s
                              where s.source = issue.source
                                and s.file_sha256 is not distinct from issue.file_sha256)
            """
        )
    pending: dict[str, list[str]] = {}
    for source, sha in con.execute("select source, file_sha256 from quality.pending_files").fetchall():
        pending.setdefault(source, []).append(sha)
    return pending


@dataclass(frozen=True)
class _StagedRows:
    """A source's staged table as every rule of the source sees it, looked up once per run."""

    relation: str  # the staged model
    pending: list[str]  # the checksums of its files evaluated now
    columns: set[str]  # empty: the table does not exist
    new_rows: str  # the relation of the rows to evaluate (see _new_rows)
    rows: int | None  # all staged rows
    rows_now: int | None  # the rows evaluated now

    @classmethod
    def of(
        cls, con: duckdb.DuckDBPyConnection, source: str, relation: str, pending: list[str]
    ) -> _StagedRows:
        columns = _staged_columns(con, relation)
        if not columns:
            return cls(relation, pending, columns, relation, None, None)
        new_rows = _new_rows(con, source, relation, pending)
        rows = _count(con, relation)
        rows_now = rows if new_rows == relation else _count(con, new_rows)
        return cls(relation, pending, columns, new_rows, rows, rows_now)


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return con.execute(f"select count(*) from {relation}").fetchall()[0][0]


def _new_rows(con: duckdb.DuckDBPyConnection, source: str, staged: str, pending: list[str]) -> str:
    """The relation of the staged rows to evaluate: the whole table when every file is pending,
    else the pending files' rows copied once (29 rules then scan a few thousand rows, not millions;
    none at all when none of the source's files is pending)."""
    if not pending:
        con.execute(f"create or replace temp table _new_{source} as select * from {staged} limit 0")
        return f"_new_{source}"
    counts = con.execute(
        f"select count(distinct s.file_sha256), count(distinct p.file_sha256) from {staged} as s "
        "left join quality.pending_files as p "
        f"on p.source = '{source}' and p.file_sha256 is not distinct from s.file_sha256"
    ).fetchone()
    if counts[0] == counts[1]:
        return staged
    con.execute(
        f"create or replace temp table _new_{source} as select s.* from {staged} as s "
        "semi join quality.pending_files as p "
        f"on p.source = '{source}' and p.file_sha256 is not distinct from s.file_sha256"
    )
    return f"_new_{source}"


def _with_totals(con: duckdb.DuckDBPyConnection, results: list[RuleResult]) -> list[RuleResult]:
    """Each evaluated rule's rows failing over every staged file, and the first of them by
    position, from quality.row_issues in one query (not two per rule)."""
    totals = {
        rule: (count, sample)
        for rule, count, sample in con.execute(
            f"""
            select rule, count(*),
                   list(source_file || ':' || row_number order by source_file, row_number)[1:{SAMPLE_SIZE}]
            from quality.row_issues group by rule
            """
        ).fetchall()
    }
    with_totals = []
    for result in results:
        if not result.error:
            rows_failed, sample = totals.get(result.rule.code, (0, []))
            result = replace(result, rows_failed=rows_failed, sample_rows=list(sample))
        with_totals.append(result)
    return with_totals


def mark_evaluated(con: duckdb.DuckDBPyConnection) -> int:
    """The pending files' issues are now up to date (call once every rule ran and GX agreed)."""
    ensure_table(con)
    # A file staged again: its item of the earlier staging goes (same source and sha256, any staged_at).
    con.execute(
        f"delete from {TABLE} as done using quality.pending_files as p where done.step = ? "
        f"and starts_with(done.item, {quality_file_prefix_sql('p.source', 'p.file_sha256')})",
        [STEP],
    )
    item = quality_item_sql("source", "file_sha256", "staged_at")
    con.execute(
        f"insert or replace into {TABLE} select ?, {item}, rules_fingerprint, current_timestamp::timestamp "
        "from quality.pending_files",
        [STEP],
    )
    return con.execute("select count(*) from quality.pending_files").fetchall()[0][0]


def _evaluate_one(
    con: duckdb.DuckDBPyConnection, rule: Rule, raw_dir: Path, staged: _StagedRows
) -> RuleResult:
    """The rule's issues among the rows evaluated now, inserted into quality.row_issues; its totals
    over every staged row are filled in after (_with_totals)."""
    try:
        if not staged.columns:
            raise LookupError(f"{staged.relation} does not exist: run the dbt staging models first")
        if rule.kind == "duplicate_row":
            relation = _duplicate_rows_relation(rule, raw_dir, staged.new_rows, staged.pending)
            select = _issue_select(
                rule, relation, staged.columns | {"first_row_number"}, "row_number > first_row_number"
            )
        else:
            select = _issue_select(
                rule, staged.new_rows, staged.columns, f"coalesce(({rule.unexpected_when}), false)"
            )
        inserted = con.execute(f"insert into quality.row_issues {select}").fetchall()[0][0]
        return RuleResult(
            rule, staged.rows, None, [], rows_checked_now=staged.rows_now, rows_failed_now=inserted
        )
    except (duckdb.Error, KeyError, LookupError) as exc:
        return RuleResult(rule, None, None, [], error=f"{type(exc).__name__}: {exc}")


def record_gx_outcomes(con: duckdb.DuckDBPyConnection, outcomes: dict) -> list[str]:
    """Store GX's verdicts beside ours; returns the rules on which GX errored or disagreed."""
    if not outcomes:  # nothing new was validated
        return []
    con.executemany(
        "update quality.rule_results set gx_success = ?, gx_unexpected_count = ?, gx_error = ? "
        "where rule = ?",
        [[o.success, o.unexpected_count, o.error, code] for code, o in outcomes.items()],
    )
    rows = con.execute(
        "select rule from quality.rule_results where gx_error is not null "
        "or (error is null and gx_unexpected_count is distinct from rows_failed_now "
        "    and rule in (select unnest(?::varchar[])))",
        [list(outcomes)],
    ).fetchall()
    return [r[0] for r in rows]
