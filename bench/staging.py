"""`python -m bench.staging DATA_DIR`: time dbt's staging phase alone, and check its output.

DATA_DIR is a data root whose raw lake is already ingested (e.g. `ward generate --out DIR`, then
`ward run`, or `python -m bench.run --keep`). Each call builds `--selector staging` (models and
their tests, `--full-refresh`) into a fresh build database under DATA_DIR/bench-staging/ with the
environment a run gives dbt (Settings.dbt_env(): memory limit, threads, temp directory), in a dbt
subprocess, and reports wall time, dbt's time per model and the peak RSS of dbt's process.

  --save DIR      write every staged table to DIR/<model>.parquet (a reference to compare with)
  --project-dir P another copy of dbt_project/ (the models before a change)
  --compare DIR   compare every staged table with DIR/<model>.parquet, `except all` both ways
                  (staged_at, the build's own timestamp, left out): exit 1 when any row differs

Run by hand; never in tests. Results go to bench/results/staging-<rows>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from bench.memory import MemorySampler
from ward.duckdb_config import connect_build_db
from ward.settings import DBT_PROJECT_DIR, REPO_ROOT, Settings

RESULTS = REPO_ROOT / "bench" / "results"
DBT = Path(sys.executable).with_name("dbt")
MiB = 1024 * 1024
STAGED = ("stg_landing__citizens", "stg_landing__households", "stg_landing__service_records")
VOLATILE = ("staged_at",)  # when the row was staged: differs between any two builds


def build_staging(settings: Settings, work: Path, project_dir: Path = DBT_PROJECT_DIR) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    build_db = work / "ward.duckdb"
    env = {
        **os.environ,
        **settings.dbt_env(),
        "WARD_BUILD_DB": str(build_db),
        "DBT_TARGET_PATH": str(work / "target"),  # never the project's target/ (Dagster's manifest)
        "DBT_LOG_PATH": str(work / "logs"),
    }
    command = [
        str(DBT), "build", "--selector", "staging", "--full-refresh",
        "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
    ]  # fmt: skip
    with MemorySampler() as sampler:
        sampler.label = "dbt"
        started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu_seconds = (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)
    if done.returncode != 0:
        sys.exit(f"dbt build --selector staging failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}")
    run_results = json.loads((work / "target" / "run_results.json").read_text())
    models = {
        r["unique_id"].split(".")[-1]: round(r["execution_time"], 2)
        for r in run_results["results"]
        if r["unique_id"].startswith("model.")
    }
    tests = sum(
        r["execution_time"]
        for r in run_results["results"]
        if r["unique_id"].startswith(("test.", "unit_test."))
    )
    with duckdb.connect(str(build_db), read_only=True) as con:
        rows = {m: con.execute(f"select count(*) from staging.{m}").fetchall()[0][0] for m in STAGED}
    return {
        "command": " ".join(command),
        "seconds": round(seconds, 2),
        # CPU time of dbt's process: less sensitive than wall time to other work on the machine
        "cpu_seconds": round(cpu_seconds, 2),
        "max_rss_mib": round(after.ru_maxrss / 1024),  # kernel's figure (largest child so far)
        "peak_rss_mib": round(sampler.peaks.get("dbt", 0) / MiB),
        "model_seconds": models,
        "test_seconds": round(tests, 2),
        "rows": rows,
        "duckdb": {k: v for k, v in settings.dbt_env().items() if k.startswith("WARD_DUCKDB_")},
        "build_db": str(build_db),
    }


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> tuple[str, list]:
    """The column list to compare (the volatile ones left out), and every (name, type)."""
    described = [(r[0], r[1]) for r in con.execute(f"describe select * from {relation}").fetchall()]
    return ", ".join(f'"{n}"' for n, _ in described if n not in VOLATILE), described


def save(build_db: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(build_db), read_only=True) as con:
        for model in STAGED:
            con.execute(
                f"copy (select * from staging.{model}) to '{folder / model}.parquet' (format parquet)"
            )


def compare(settings: Settings, build_db: Path, folder: Path) -> dict[str, dict[str, int]]:
    """Rows of each staged table not in the saved copy, and the other way round (`except all`)."""
    differences = {}
    with connect_build_db(settings, build_db, read_only=True) as con:
        con.execute("set enable_progress_bar = false")
        for model in STAGED:
            new = f"staging.{model}"
            old = f"read_parquet('{folder / model}.parquet')"
            (columns, described) = _columns(con, new)
            if described != _columns(con, old)[1]:
                differences[model] = {"columns_differ": 1}
                continue
            only_new = con.execute(
                f"select count(*) from (select {columns} from {new} except all select {columns} from {old})"
            ).fetchall()[0][0]
            only_old = con.execute(
                f"select count(*) from (select {columns} from {old} except all select {columns} from {new})"
            ).fetchall()[0][0]
            differences[model] = {"only_in_new": only_new, "only_in_saved": only_old}
    return differences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--label", default="", help="a name for this measurement in the results file")
    parser.add_argument(
        "--project-dir", type=Path, default=DBT_PROJECT_DIR,
        help="another copy of dbt_project/ (e.g. the previous models, to measure before and after)",
    )  # fmt: skip
    args = parser.parse_args()
    settings = Settings.from_env({**os.environ, "WARD_DATA_DIR": str(args.data_dir)})
    result = build_staging(settings, settings.data_dir / "bench-staging", args.project_dir)
    build_db = Path(result["build_db"])
    if args.save:
        save(build_db, args.save)
    if args.compare:
        result["compare"] = compare(settings, build_db, args.compare)
    result["label"] = args.label
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    label = f"-{args.label}" if args.label else ""
    (RESULTS / f"staging-{result['rows']['stg_landing__citizens']}{label}.json").write_text(
        json.dumps(result, indent=2)
    )
    if args.compare and any(any(v.values()) for v in result["compare"].values()):
        sys.exit("The staged tables differ from the saved copy (see compare)")


if __name__ == "__main__":
    main()
