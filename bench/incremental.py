"""`python -m bench.incremental --people 1000000`: what a daily extract costs against a full rebuild.

On one generated ward (figures to bench/results/incremental-<people>.json):
1. first build: the whole pipeline on the generated landing folder;
2. daily extract: a new service-record file changing 1% of the dossiers (their latest delivered
   version moved on to "Đã trả kết quả" the next day), then an incremental run;
3. full rebuild: the same landing folder, run tagged ward/full_refresh (what the nightly schedule
   does): the baseline the daily run is compared with (ratio = daily / full rebuild);
4. monthly snapshot: a new citizens snapshot, the latest one with 1% of the people changed (phone),
   then an incremental run, compared with the same full rebuild.
Each run is `ward run` in a process of its own (bench.run.run_ward). Run by hand; never in tests. Machines are
noisy: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import shutil
from datetime import date, timedelta

import duckdb

from bench.run import RESULTS, new_data_root, run_ward
from ward.settings import Settings
from ward.sources import SOURCES

SHARE = 0.01


def _raw(settings: Settings, source: str) -> str:
    return f"read_parquet('{settings.raw_dir / source}/*.parquet', union_by_name = true)"


def write_daily_service_extract(settings: Settings, day: date) -> int:
    """1% of the dossiers, their latest delivered version finished on `day`: a new CSV extract."""
    columns = ", ".join(SOURCES["service_records"].column_names)
    stamp = day.strftime("%d/%m/%Y")
    path = settings.landing_source_dir("service_records") / f"hoso_tthc_{day.isoformat()}.csv"
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select * replace (
                    'Đã trả kết quả' as status, '{stamp}' as completed_at, '{stamp}' as updated_at
                )
                from (
                    select {columns}
                    from {_raw(settings, "service_records")}
                    where record_id is not null and hash(record_id) % 100 < {round(SHARE * 100)}
                    qualify row_number() over (partition by record_id order by _extract_date desc,
                                               _row_number desc) = 1
                )
            ) to '{path}' (header, delimiter ',')
            """
        )
        return con.execute(f"select count(*) from read_csv('{path}')").fetchone()[0]


def write_monthly_citizens_snapshot(settings: Settings, day: date) -> int:
    """The latest citizens snapshot again, dated `day`, with 1% of the people's phone changed."""
    columns = ", ".join(SOURCES["citizens"].column_names)
    path = settings.landing_source_dir("citizens") / f"DS_cong_dan_{day.isoformat()}.csv"
    raw = _raw(settings, "citizens")
    with duckdb.connect() as con:
        con.execute(
            f"""
            copy (
                select * replace (
                    case when hash(coalesce(citizen_id, full_name)) % 100 < {round(SHARE * 100)}
                         then '09' || lpad(cast(hash(full_name) % 100000000 as varchar), 8, '0')
                         else phone end as phone
                )
                from (
                    select {columns} from {raw}
                    where _extract_date = (select max(_extract_date) from {raw})
                )
            ) to '{path}' (header, delimiter ',')
            """
        )
        return con.execute(f"select count(*) from read_csv('{path}')").fetchone()[0]


def _latest_extract(settings: Settings, source: str) -> date:
    with duckdb.connect() as con:
        return con.execute(f"select max(_extract_date) from {_raw(settings, source)}").fetchone()[0]


def bench(people: int, keep: bool) -> dict:
    from ward.generate import generate_ward

    settings = new_data_root(f"ward-incremental-{people}-")
    data_dir = settings.data_dir
    result: dict = {"people": people, "share_changed": SHARE}
    generate_ward(data_dir, people=people)
    result["first_build"] = run_ward(settings)

    day = _latest_extract(settings, "service_records") + timedelta(days=1)
    result["daily_extract_rows"] = write_daily_service_extract(settings, day)
    result["daily_extract"] = run_ward(settings)

    result["full_rebuild"] = run_ward(settings, full_refresh=True)

    day = _latest_extract(settings, "citizens") + timedelta(days=30)
    result["monthly_snapshot_rows"] = write_monthly_citizens_snapshot(settings, day)
    result["monthly_snapshot"] = run_ward(settings)
    full = result["full_rebuild"]
    for case, run in (("daily", result["daily_extract"]), ("monthly", result["monthly_snapshot"])):
        result[f"ratio_{case}_to_full_rebuild"] = round(run["seconds"] / full["seconds"], 3)
        result[f"ratio_{case}_to_full_rebuild_with_process_start"] = round(
            run["process_seconds"] / full["process_seconds"], 3
        )
    if keep:
        result["data_dir"] = str(data_dir)
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


def to_markdown(result: dict) -> str:
    runs = ["first_build", "daily_extract", "full_rebuild", "monthly_snapshot"]
    steps = sorted({s for r in runs for s in result[r]["steps"]})
    lines = [
        f"### {result['people']:,} residents: incremental runs",
        f"daily extract ({result['daily_extract_rows']:,} dossier rows) / full rebuild = "
        f"{result['ratio_daily_to_full_rebuild']}; monthly snapshot "
        f"({result['monthly_snapshot_rows']:,} citizens rows, 1% changed) / full rebuild = "
        f"{result['ratio_monthly_to_full_rebuild']} (with the process start: "
        f"{result['ratio_daily_to_full_rebuild_with_process_start']} and "
        f"{result['ratio_monthly_to_full_rebuild_with_process_start']})",
        "",
        "| step | " + " | ".join(runs) + " |",
        "|---|" + "---:|" * len(runs),
    ]
    for step in steps:
        lines.append(f"| {step} | " + " | ".join(str(result[r]["steps"].get(step, "")) for r in runs) + " |")
    lines.append("| **whole run (s)** | " + " | ".join(str(result[r]["seconds"]) for r in runs) + " |")
    lines.append(
        "| whole process (s) | " + " | ".join(str(result[r]["process_seconds"]) for r in runs) + " |"
    )
    lines.append("| peak RSS (MiB) | " + " | ".join(str(result[r]["peak_rss_mib"]) for r in runs) + " |")
    lines.append("| success | " + " | ".join(str(result[r]["success"]) for r in runs) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=60_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated data root")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = bench(args.people, args.keep)
    (RESULTS / f"incremental-{args.people}.json").write_text(json.dumps(result, indent=2))
    print(to_markdown(result), flush=True)


if __name__ == "__main__":
    main()
