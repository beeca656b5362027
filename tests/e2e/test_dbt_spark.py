"""The ward's dbt models on Spark: the tiny raw lake of tests/unit/test_dbt_project.py (planted dirt,
and one steward's correction) built by dbt on DuckDB, as the pipeline does, and by dbt-spark's session
mode on pyspark in local mode (`--target spark`, dbt_project/profiles.yml); every staged table, then
every intermediate model and mart (after the Python steps, whose tables Spark is given as Parquet),
holds the same rows on both engines (docs/scale.md, 3.3, 3.5 and 3.6).

The models call the dispatched macros of dbt_project/macros/cross_engine/. Spark has no Unicode
normalisation and no accent stripping: the two Python UDFs those macros name are registered on the
session first, and dbt-spark's session mode (`SparkSession.builder.getOrCreate()`) runs on that same
session, so it sees them (and the sources' tables created here: `landing.*` from the raw lake's
Parquet files, `reference.*` from data/reference's CSV files, all text as DuckDB reads them).

Skipped with its reason when dbt-spark, pyspark or a Java runtime is missing (the `dev` extra pins
both packages; Spark 4 needs Java 17+). Spark writes only under the test's tmp dir; its session is
stopped at the end.
"""

from __future__ import annotations

import os
import sys
import time
import unicodedata
from collections import Counter
from datetime import date, datetime

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from tests.fixtures.raw_lake import write_raw_lake
from tests.fixtures.spark import DBT_SPARK, PYSPARK, local_spark, why_spark_cannot_run
from tests.unit.test_dbt_project import (
    CIT_B,
    CITIZENS,
    EXTRA_LEDGER,
    HOUSEHOLDS,
    SERVICE_RECORDS,
    dbt,
    dbt_env,
)
from ward.corrections.ingest import RAW_SCHEMA
from ward.identity import resolve_identities
from ward.publish.exports import record_export_state
from ward.quality.evaluate import evaluate_rules
from ward.quality.freshness import record_freshness_thresholds
from ward.settings import DBT_PROJECT_DIR, REFERENCE_DIR, Settings

pytestmark = pytest.mark.e2e

STAGED = (
    "stg_landing__citizens",
    "stg_landing__households",
    "stg_landing__service_records",
    "stg_landing__corrections",
    "stg_landing__deliveries",
)
LANDING = ("citizens", "households", "service_records", "corrections")
REFERENCE = ("id_birth_province_codes", "phone_prefix_2018", "ethnic_groups", "religions")
NOT_COMPARED = {"staged_at"}  # current_timestamp: when each engine staged the row


def udfs() -> dict:
    """The Python UDFs macros/cross_engine/ names on Spark. Defined here, inside a function, so that
    they travel to Spark's Python workers by value (a worker cannot import this test module)."""

    def nfc_normalize(text: str | None) -> str | None:
        return None if text is None else unicodedata.normalize("NFC", text)

    def strip_accents(text: str | None) -> str | None:
        """DuckDB's strip_accents (utf8proc's STRIPMARK): marks dropped from the canonical decomposition."""
        if text is None:
            return None
        kept = (c for c in unicodedata.normalize("NFD", text) if not unicodedata.category(c).startswith("M"))
        return unicodedata.normalize("NFC", "".join(kept))

    return {"ward_nfc_normalize": nfc_normalize, "ward_strip_accents": strip_accents}


def write_correction(data_dir) -> None:
    """One accepted steward's correction of a citizens cell (raw/corrections/, as ward.corrections writes)."""
    ledger = pq.read_table(data_dir / "raw" / "deliveries.parquet").to_pylist()
    (sha,) = [r["sha256"] for r in ledger if r["source_file"] == CIT_B]
    row = {
        "corrections_file": "corrections/sua_2026-10-03.csv", "corrections_sha256": "c" * 64,
        "corrections_row": 1, "corrected_at": date(2026, 10, 3), "source": "citizens", "source_file": CIT_B,
        "row_number": 11, "column": "sex", "rule": "CIT_SEX_INVALID", "outcome": "quarantine",
        "old_value": "X", "new_value": "Nam", "note": "hồ sơ gốc", "issue_reason_vi": "Giới tính sai",
        "first_seen": "2026-10-02", "target_sha256": sha, "status": "accepted",
        "reason_vi": None, "reason_en": None, "loaded_at": datetime(2026, 10, 3, 9, 0, 0),
    }  # fmt: skip
    corrections = data_dir / "raw" / "corrections"
    pl.DataFrame([row], schema=RAW_SCHEMA).write_parquet(corrections / f"{'c' * 64}.parquet")


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ward")
    write_raw_lake(data_dir, CITIZENS, HOUSEHOLDS, SERVICE_RECORDS, EXTRA_LEDGER)
    write_correction(data_dir)
    return data_dir


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    why = why_spark_cannot_run((PYSPARK, DBT_SPARK))
    if why:
        pytest.skip(why)
    os.environ["PYSPARK_PYTHON"] = sys.executable  # the UDFs' worker: this venv's Python
    with local_spark(
        tmp_path_factory.mktemp("spark"),
        "ward-dbt-spark-test",
        # DuckDB's timestamps carry no zone: Spark's are read and written in UTC
        **{"spark.sql.session.timeZone": "UTC"},
        # tiny tables, ~100 joins a model: adaptive re-planning only adds a job per stage
        **{"spark.sql.adaptive.enabled": "false"},
    ) as session:
        yield session


def create_sources(spark, data_dir) -> None:
    """The sources of models/staging as Spark tables over the files dbt-duckdb reads with read_parquet
    and read_csv (all text, as DuckDB reads the reference CSVs). Spark's listing of a folder skips
    `_empty.parquet` (a name opening with `_`): every source of the tiny lake has a data file."""
    for schema in ("landing", "reference"):
        spark.sql(f"create database if not exists {schema}")
    for name in LANDING:
        spark.sql(f"create table landing.{name} using parquet location '{data_dir / 'raw' / name}'")
    ledger = data_dir / "raw" / "deliveries.parquet"
    spark.sql(f"create table landing.deliveries using parquet location '{ledger}'")
    for name in REFERENCE:
        spark.sql(
            f"create table reference.{name} using csv options (header 'true') "
            f"location '{REFERENCE_DIR / f'{name}.csv'}'"
        )


def _value(value):
    """A cell comparable across engines: Spark's structs and DuckDB's as tuples, floats rounded."""
    if isinstance(value, dict):
        return tuple(_value(v) for v in value.values())
    if isinstance(value, (list, tuple)):  # a Spark Row is a tuple
        return tuple(_value(v) for v in value)
    if isinstance(value, float):
        return round(value, 9)
    return value


def duckdb_rows(build_db, schema: str, table: str) -> tuple[list[str], Counter]:
    with duckdb.connect(str(build_db), read_only=True) as con:
        result = con.execute(f"select * from {schema}.{table}")
        columns = [d[0] for d in result.description]
        keep = [i for i, c in enumerate(columns) if c not in NOT_COMPARED]
        rows = Counter(tuple(_value(r[i]) for i in keep) for r in result.fetchall())
    return [columns[i] for i in keep], rows


def spark_rows(spark, schema: str, table: str) -> tuple[list[str], Counter]:
    frame = spark.table(f"{schema}.{table}")
    # a TIMESTAMP comes back in Python's local zone; without a zone (DuckDB's) it comes back as stored
    columns = [
        f"cast(`{name}` as timestamp_ntz) as `{name}`" if kind == "timestamp" else f"`{name}`"
        for name, kind in frame.dtypes
        if name not in NOT_COMPARED
    ]
    frame = frame.selectExpr(*columns)
    return frame.columns, Counter(tuple(_value(v) for v in r) for r in frame.collect())


def assert_same_rows(build_db, spark, schema: str, table: str) -> None:
    duck_columns, duck = duckdb_rows(build_db, schema, table)
    spark_columns, sparked = spark_rows(spark, schema, table)
    assert spark_columns == duck_columns, table
    assert sparked - duck == Counter() and duck - sparked == Counter(), (
        table,
        sorted(sparked - duck, key=repr)[:5],
        sorted(duck - sparked, key=repr)[:5],
    )


def run_on_spark(tmp_path, *args: str):
    from dbt.cli.main import dbtRunner

    project = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    paths = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    done = dbtRunner().invoke(["run", *args, "--target", "spark", *project, *paths])
    assert done.success, (tmp_path / "logs" / "dbt.log").read_text()[-8000:]
    return {r.node.name for r in done.result}


@pytest.fixture(scope="module")
def staged(lake, spark, tmp_path_factory):
    """The tiny lake staged on both engines: (build database, dbt environment, timings)."""
    started = time.perf_counter()
    build_db = lake / "build" / "ward.duckdb"
    build_db.parent.mkdir(parents=True, exist_ok=True)
    env = dbt_env(lake, build_db)
    on_duckdb = dbt(env, "run", "--selector", "staging")
    assert on_duckdb.returncode == 0, on_duckdb.stdout[-5000:]
    timings = {"duckdb": time.perf_counter() - started}

    for name, function in udfs().items():
        spark.udf.register(name, function, "string")
    create_sources(spark, lake)
    timings["spark sources"] = time.perf_counter() - started - sum(timings.values())
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name in ("WARD_DATA_DIR", "WARD_REFERENCE_DIR", "WARD_BUILD_DB", "WARD_CODE"):
            monkeypatch.setenv(name, env[name])
        built = run_on_spark(tmp_path_factory.mktemp("dbt_spark"), "--selector", "staging")
    assert built == set(STAGED)
    timings["spark dbt"] = time.perf_counter() - started - sum(timings.values())
    return build_db, env, timings


def test_staging_on_spark_equals_staging_on_duckdb(staged, spark):
    build_db, _, timings = staged
    started = time.perf_counter()
    for table in STAGED:
        assert_same_rows(build_db, spark, "staging", table)
    timings["compared"] = time.perf_counter() - started
    print("staging on DuckDB and on Spark, seconds:", {k: round(v, 1) for k, v in timings.items()})


def test_intermediate_and_marts_on_spark_equal_duckdb(staged, spark, lake, tmp_path, monkeypatch):
    """Phase 2 as the pipeline runs it: the Python steps (quality, identity) on the DuckDB build,
    their tables exported as Parquet and created as Spark tables of the same names (Spark's staged
    rows are DuckDB's: the test above), then `dbt run --selector downstream` on both engines."""
    started = time.perf_counter()
    build_db, env, _ = staged
    with duckdb.connect(str(build_db)) as con:
        results = evaluate_rules(con, lake / "raw")
        record_export_state(con, lake / "exports")
        record_freshness_thresholds(con, Settings(data_dir=lake).freshness_days)
        resolve_identities(con)
        python_tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('quality', 'identity')"
        ).fetchall()
        for schema, table in python_tables:
            con.execute(
                f"copy {schema}.{table} to '{tmp_path / f'{schema}.{table}.parquet'}' (format parquet)"
            )
    assert {r.rule.code: r.error for r in results if r.error} == {}
    on_duckdb = dbt(env, "run", "--selector", "downstream")
    assert on_duckdb.returncode == 0, on_duckdb.stdout[-5000:]
    for schema in ("quality", "identity"):
        spark.sql(f"create database if not exists {schema}")
    for schema, table in python_tables:
        spark.sql(
            f"create table {schema}.{table} using parquet location '{tmp_path / f'{schema}.{table}.parquet'}'"
        )
    for name in ("WARD_DATA_DIR", "WARD_REFERENCE_DIR", "WARD_BUILD_DB", "WARD_CODE"):
        monkeypatch.setenv(name, env[name])
    built = run_on_spark(tmp_path, "--selector", "downstream")
    models = {p.stem: p.parent for p in (DBT_PROJECT_DIR / "models").glob("*/**/*.sql")}
    assert built == {m for m, folder in models.items() if "staging" not in folder.parts}
    for model in sorted(built):
        assert_same_rows(build_db, spark, "marts" if models[model].name == "marts" else "intermediate", model)
    print(f"phase 2 on DuckDB and on Spark, compared: {time.perf_counter() - started:.1f} s")
