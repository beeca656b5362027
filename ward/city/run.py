"""`ward city run`: every ward's partition of `city/ward_build` as a run of its own, N at once, then
`city/marts`; all on the city's Dagster instance (<city>/city/.dagster), so the UI shows each ward's
runs, failures and metadata.

Each partition run is `execute_in_process` in a worker of a ProcessPoolExecutor (`spawn`: a fresh
interpreter, nothing inherited but the arguments), and its step starts the ward's own `ward run`
process; a ward that fails fails its own run only.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ward.city.settings import CitySettings
from ward.city.wards import WardOutcome

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def materialize_ward(
    city: CitySettings, codes: tuple[str, ...], code: str, memory: str, threads: int
) -> WardOutcome:
    """One partition run of city/ward_build (in a worker process); its outcome from its metadata."""
    from dagster import DagsterInstance

    from ward.city.assets import (
        WARD_BUILD_JOB,
        WARD_BUILD_OP,
        build_city_definitions,
        outcome_from_metadata,
        use_city_instance,
    )

    use_city_instance(city)
    job = build_city_definitions(city, codes).resolve_job_def(WARD_BUILD_JOB)
    config = {"ops": {WARD_BUILD_OP: {"config": {"memory_limit": memory, "threads": threads}}}, **QUIET}
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(
            run_config=config, instance=instance, partition_key=code, raise_on_error=False
        )
    for event in result.get_asset_materialization_events():
        return outcome_from_metadata(code, dict(event.materialization.metadata))
    for event in result.all_events:
        failure = event.step_failure_data if event.is_step_failure else None
        if failure is not None and failure.user_failure_data is not None:
            return outcome_from_metadata(code, dict(failure.user_failure_data.metadata))
        if failure is not None:
            raise RuntimeError(f"ward {code}: the partition run failed before `ward run`: {failure.error}")
    raise RuntimeError(f"ward {code}: the partition run reported nothing (run {result.run_id})")


def wards_in_city_marts(city: CitySettings, run: tuple[str, ...]) -> tuple[str, ...]:
    """Every ward served (WARD_CODES, else landing/*), then any other ward just run: a ward re-run
    alone (`ward city run --wards 10756`) leaves the others' last publication in the city marts."""
    return tuple(dict.fromkeys((*city.ward_codes(), *run)))


def build_marts(city: CitySettings, codes: tuple[str, ...]) -> dict[str, object]:
    """city/marts in process on the city's instance; its metadata as plain values."""
    from dagster import DagsterInstance

    from ward.city.assets import CITY_MARTS_JOB, build_city_definitions, use_city_instance

    use_city_instance(city)
    job = build_city_definitions(city, codes).resolve_job_def(CITY_MARTS_JOB)
    with DagsterInstance.get() as instance:
        result = job.execute_in_process(run_config=QUIET, instance=instance)
    (event,) = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _create_city_instance(city: CitySettings) -> None:
    """Create (and migrate) the city's Dagster storage once, before the workers share it: workers
    creating a fresh SQLite storage at the same time stamp its schema version twice."""
    from dagster import DagsterInstance

    from ward.city.assets import use_city_instance

    use_city_instance(city)
    with DagsterInstance.get():
        pass


def run_city(
    city: CitySettings, console: Console, *, codes: tuple[str, ...] | None = None, parallel: int | None = None
) -> int:
    """Every ward, `parallel` at once (default WARD_CITY_PARALLEL or the CPU count), then the city
    marts. 0 when every ward finished cleanly, 1 when one did not (the others are unaffected, and the
    city marts are built all the same from what each ward last published)."""
    codes = codes or city.ward_codes()
    if not codes:
        from ward.city.assets import build_city_definitions

        build_city_definitions(city, codes)  # raises the message saying what to set
    at_once = city.wards_at_once(len(codes), parallel)
    memory, threads = city.share(at_once)
    console.print(
        f"{len(codes)} ward(s), {at_once} at once, each under WARD_MEMORY_LIMIT={memory}, "
        f"WARD_THREADS={threads}; city root {escape(str(city.root))}"
    )
    _create_city_instance(city)
    started = time.monotonic()
    outcomes: dict[str, WardOutcome | BaseException] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=at_once, mp_context=context) as pool:
        futures = {pool.submit(materialize_ward, city, codes, code, memory, threads): code for code in codes}
        for future in as_completed(futures):
            code = futures[future]
            try:
                outcome = outcomes[code] = future.result()
            except Exception as error:  # the run itself broke: reported, the other wards go on
                outcomes[code] = error
                console.print(f"[red]ward {code}: {escape(str(error))}")
                continue
            colour = "green" if outcome.ok else "red"
            console.print(f"[{colour}]{escape(outcome.message())}[/] ({outcome.seconds} s)")
    marts = build_marts(city, wards_in_city_marts(city, codes))
    _print_table(console, codes, outcomes, marts, time.monotonic() - started)
    failed = [c for c, o in outcomes.items() if not isinstance(o, WardOutcome) or not o.ok]
    if failed:
        console.print(
            f"[red bold]Ward(s) {', '.join(sorted(failed))} did not finish cleanly[/]: each kept its "
            "previous publication; the other wards and the city marts were built all the same."
        )
        return 1
    return 0


def _print_table(
    console: Console,
    codes: tuple[str, ...],
    outcomes: dict[str, WardOutcome | BaseException],
    marts: dict[str, object],
    seconds: float,
) -> None:
    table = Table(title=f"City run — {len(codes)} ward(s), {seconds:.0f} s")
    for column in ("ward", "exit", "residents", "dossiers", "files rejected", "s", "log"):
        table.add_column(column)
    for code in codes:
        outcome = outcomes.get(code)
        if not isinstance(outcome, WardOutcome):
            table.add_row(code, "—", "—", "—", "—", "—", escape(str(outcome)))
            continue
        f = outcome.figures
        table.add_row(
            code,
            str(outcome.exit_code),
            *(
                str(f.get(k)) if f.get(k) is not None else "—"
                for k in ("residents", "dossiers", "files_rejected")
            ),
            f"{outcome.seconds:.0f}",
            escape(str(outcome.log_path)),
        )
    console.print(table)
    console.print(
        f"[bold]city marts:[/] {escape(str(marts['path']))} (wards {escape(str(marts['wards_included']))}; "
        f"never published: {escape(str(marts['wards_missing']))}); as Parquet by ward_code: "
        f"{escape(str(marts['lake']))}"
    )
