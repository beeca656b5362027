"""`make bench` / `python -m bench.run --sizes 60000 1000000`: time and memory per pipeline step.

For each ward size: generate a synthetic ward, run `ward run` on it as its own process (as a steward
or cron starts it: nothing of the bench's own process, such as the generator's memory, is counted),
take the run's and each step's wall time from Dagster's record of the run and the peak RSS of the
process tree (its dbt and GX workers included) while each step ran, then run the bare-DuckDB
baseline on the same data in the bench's process and report the ratio. Figures go to
bench/results/pipeline-<size>.json and a Markdown table on stdout. Run by hand; never in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.baseline import run_baseline
from bench.memory import MemorySampler, run_sampled, ward_command
from ward.cli.instance import use_ward_instance
from ward.settings import ENV_DATA_DIR, ENV_SHARED_KEY, REPO_ROOT, Settings

RESULTS = REPO_ROOT / "bench" / "results"
BENCH_KEY = "bench-key-0123456789abcdef"  # the shared tier is written, under a key of no value
MiB = 1024 * 1024


def new_data_root(prefix: str) -> Settings:
    """A fresh data root for one bench, with the environment a run reads (as `ward run` sets it)."""
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix=prefix)), shared_export_key=BENCH_KEY)
    use_data_root(settings)
    settings.build_db_path.parent.mkdir(parents=True)
    return settings


def use_data_root(settings: Settings) -> None:
    os.environ.update(settings.dbt_env())
    use_ward_instance(settings)


def run_ward(settings: Settings, full_refresh: bool = False) -> dict:
    """One `ward run` (`--full-refresh`) as its own process, as a steward, the city runner or cron
    starts it: no import, dbt parse or cache is shared with the run before it.

    `process_seconds` is that process from start to exit (imports, definitions, the run, the
    summary); `seconds` the run as Dagster recorded it (run start to end), `steps` each step's time
    from the same record and `step_peak_rss_mib` the process tree's peak while the step ran;
    `peak_rss_mib` the process tree's over the whole process (its dbt and GX workers included).

    Each run starts once what earlier runs wrote is on disk (`os.sync()`, untimed), so that no run
    is timed while the gigabytes of the run before it are still being written back.
    """
    os.sync()  # the previous run's gigabytes reach the disk first: runs are hours apart in a ward
    env = {**os.environ, ENV_DATA_DIR: str(settings.data_dir), ENV_SHARED_KEY: BENCH_KEY}
    args = ("run", "--full-refresh") if full_refresh else ("run",)
    log = settings.data_dir / f"bench-{'full' if full_refresh else 'run'}.log"
    timeline: list[tuple[float, int]] = []
    sampled = run_sampled(ward_command(*args), env, log, interval=0.05, timeline=timeline)
    return {**recorded_run(settings, timeline), "process_seconds": sampled["seconds"],
            "exit_code": sampled["exit_code"], "peak_rss_mib": sampled["peak_rss_mib"]}  # fmt: skip


def recorded_run(settings: Settings, timeline: list[tuple[float, int]]) -> dict:
    """The latest run of the data root, from Dagster's own record of it; each step's memory peak
    from the samples (epoch seconds, RSS bytes) taken while it ran."""
    import dagster as dg

    use_ward_instance(settings)
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        stats = instance.get_run_stats(run.run_id)
        steps = [s for s in instance.get_run_step_stats(run.run_id) if s.start_time and s.end_time]
    return {
        "seconds": round(stats.end_time - stats.start_time, 2),
        "success": run.status == dg.DagsterRunStatus.SUCCESS,
        "steps": {s.step_key: round(s.end_time - s.start_time, 2) for s in steps},
        "step_peak_rss_mib": {s.step_key: _peak_mib(timeline, s.start_time, s.end_time) for s in steps},
    }


def _peak_mib(timeline: list[tuple[float, int]], start: float, end: float) -> int:
    """The peak of the samples taken while the step ran; a step shorter than the sampling interval
    gets the next sample's."""
    after = next((rss for at, rss in timeline if at > end), 0)
    return round(max((rss for at, rss in timeline if start <= at <= end), default=after) / MiB)


def bench_size(people: int, keep: bool) -> dict:
    from ward.generate import generate_ward

    settings = new_data_root(f"ward-bench-{people}-")
    data_dir = settings.data_dir
    result: dict = {"people": people}
    with MemorySampler() as sampler:
        started = time.perf_counter()
        sampler.label = "generate"
        generate_ward(data_dir, people=people)
        result["generate_seconds"] = time.perf_counter() - started
        sampler.label = "between"
        run = run_ward(settings)
        sampler.label = "baseline"
        result["baseline"] = run_baseline(settings.raw_dir, data_dir / "baseline")
    result["pipeline_success"] = run["success"] and run["exit_code"] == 0
    result["pipeline_seconds"] = run["seconds"]
    result["pipeline_process_seconds"] = run["process_seconds"]
    result["pipeline_peak_rss_mib"] = run["peak_rss_mib"]
    result["steps"] = {
        step: {"seconds": seconds, "peak_rss_mib": run["step_peak_rss_mib"][step]}
        for step, seconds in run["steps"].items()
    }
    result["generate_peak_rss_mib"] = round(sampler.peaks.get("generate", 0) / MiB)
    result["baseline_peak_rss_mib"] = round(sampler.peaks.get("baseline", 0) / MiB)
    result["ratio_pipeline_to_baseline"] = round(result["pipeline_seconds"] / result["baseline"]["total"], 1)
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        result["data_dir"] = str(data_dir)
    return result


def to_markdown(result: dict) -> str:
    lines = [
        f"### {result['people']:,} residents",
        f"generate {result['generate_seconds']:.1f} s; pipeline {result['pipeline_seconds']:.1f} s "
        f"(the `ward run` process {result['pipeline_process_seconds']:.1f} s, peak "
        f"{result['pipeline_peak_rss_mib']} MiB; success={result['pipeline_success']}); "
        f"bare-DuckDB baseline {result['baseline']['total']:.2f} s; "
        f"ratio {result['ratio_pipeline_to_baseline']}×",
        "",
        "| step | seconds | peak RSS (MiB) |",
        "|---|---:|---:|",
    ]
    for step, figures in result["steps"].items():
        lines.append(f"| {step} | {figures['seconds']} | {figures['peak_rss_mib']} |")
    lines.append(
        f"| baseline (bare DuckDB) | {result['baseline']['total']:.2f} | {result['baseline_peak_rss_mib']} |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[60_000])
    parser.add_argument("--keep", action="store_true", help="keep the generated data roots")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    for people in args.sizes:
        result = bench_size(people, args.keep)
        (RESULTS / f"pipeline-{people}.json").write_text(json.dumps(result, indent=2))
        print(to_markdown(result), flush=True)


if __name__ == "__main__":
    main()
