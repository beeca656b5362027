"""`make bench` / `python -m bench.run --sizes 60000 1000000`: time and memory per pipeline step.

For each ward size: generate a synthetic ward, run the whole pipeline in-process (as `ward run`
does), record wall time and peak RSS (process + dbt subprocesses) per Dagster step, then run the
bare-DuckDB baseline on the same data in the same process and report the ratio. Figures go to
bench/results/pipeline-<size>.json and a Markdown table on stdout. Run by hand; never in tests.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.baseline import run_baseline
from bench.memory import MemorySampler
from ward.cli.instance import use_ward_instance
from ward.settings import REPO_ROOT, Settings

RESULTS = REPO_ROOT / "bench" / "results"
BENCH_KEY = "bench-key-0123456789abcdef"  # the shared tier is written, under a key of no value
MiB = 1024 * 1024


class StepTimer(logging.Handler):
    """Labels memory samples with the running step and records each step's wall time."""

    def __init__(self, sampler: MemorySampler) -> None:
        super().__init__()
        self.sampler = sampler
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        if event is None or not event.step_key:
            return
        if event.event_type_value == "STEP_START":
            self.started[event.step_key] = time.perf_counter()
            self.sampler.label = event.step_key
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            self.seconds[event.step_key] = time.perf_counter() - self.started[event.step_key]
            self.sampler.label = "between steps"


def new_data_root(prefix: str) -> Settings:
    """A fresh data root for one bench, with the environment a run reads (as `ward run` sets it)."""
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix=prefix)), shared_export_key=BENCH_KEY)
    use_data_root(settings)
    settings.build_db_path.parent.mkdir(parents=True)
    return settings


def use_data_root(settings: Settings) -> None:
    os.environ.update(settings.dbt_env())
    use_ward_instance(settings)


def run_job(settings: Settings, timer: StepTimer, *, full_refresh: bool = False) -> tuple[bool, float]:
    """The pipeline in this process as `ward run` runs it (the selection planned from what is new,
    dbt and GX in workers warmed while the run starts), each step timed by `timer`: (success, seconds)."""
    from ward.warm_workers import warm_workers

    with warm_workers(settings):
        return _run_job(settings, timer, full_refresh=full_refresh)


def _run_job(settings: Settings, timer: StepTimer, *, full_refresh: bool) -> tuple[bool, float]:
    from ward.long_lived import collect_in_larger_batches, created_for_good

    with created_for_good():
        import dagster as dg

        from orchestration.definitions import build_definitions
        from orchestration.selection import plan_run
        from ward.build_state import FULL_REFRESH_TAG

    @dg.logger
    def bench_logger(_):
        log = logging.getLogger("ward.bench")
        log.handlers, log.propagate = [timer], False
        log.setLevel(logging.DEBUG)
        return log

    with created_for_good():  # as `ward run` does (ward.long_lived)
        defs = build_definitions(settings, loggers={"bench": bench_logger})
        job = defs.resolve_job_def("ward_pipeline")
    collect_in_larger_batches()
    started = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        assets_defs = defs.get_repository_def().assets_defs_by_key.values()
        plan = plan_run(settings, assets_defs, instance, full_refresh=full_refresh)
        if plan.builds_nothing:
            return True, time.perf_counter() - started
        run = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"bench": {}}},
            tags={FULL_REFRESH_TAG: "true"} if full_refresh else None,
            asset_selection=plan.selection(),
        )
    for event in run.all_events:  # a failed run says why (synthetic data: no personal values)
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            print(f"{event.step_key} failed: {error.message if error else '?'}"[:600], file=sys.stderr)
    return run.success, time.perf_counter() - started


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

        timer = StepTimer(sampler)
        result["pipeline_success"], result["pipeline_seconds"] = run_job(settings, timer)

        sampler.label = "baseline"
        result["baseline"] = run_baseline(settings.raw_dir, data_dir / "baseline")
    result["steps"] = {
        step: {"seconds": round(seconds, 2), "peak_rss_mib": round(sampler.peaks.get(step, 0) / MiB)}
        for step, seconds in timer.seconds.items()
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
        f"(success={result['pipeline_success']}); bare-DuckDB baseline {result['baseline']['total']:.2f} s; "
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
