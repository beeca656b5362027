"""`ward run`: the whole pipeline in-process, with progress, a summary and an honest exit code."""

from __future__ import annotations

import contextlib

from dagster import DagsterInstance
from rich.console import Console
from rich.markup import escape

from ward.build_guard import (
    EXIT_RUN_IN_PROGRESS,
    BuildDatabaseBusy,
    RunInProgress,
    recover_damaged_build_database,
    run_lock,
)
from ward.build_state import BUILD_DB_RECOVERED_TAG, FULL_REFRESH_TAG
from ward.cli.deliveries import print_held
from ward.cli.instance import use_ward_instance
from ward.cli.progress import progress_logger
from ward.cli.summary import headline_figures, print_summary
from ward.long_lived import collect_in_larger_batches, created_for_good
from ward.settings import ENV_SHARED_KEY, Settings


def run_pipeline(
    settings: Settings, console: Console, *, full_refresh: bool = False, wait: bool = False
) -> int:
    """Run every asset and check once; returns the process exit code (0 = all blocking checks held).

    Incremental by default: only new files are staged and checked, and unchanged persons are not
    rebuilt. full_refresh restages and rebuilds everything (after a change of the cleaning rules).

    One run at a time (ward.build_guard): while another `ward run` holds build/run.lock, exit 3 at
    once, or with wait=True wait for it. A build database DuckDB cannot open is moved aside and
    this run rebuilds it whole (a full refresh), saying why.
    """
    settings.build_db_path.parent.mkdir(parents=True, exist_ok=True)

    def waiting(message: str) -> None:
        console.print(f"[yellow]{escape(message)}: waiting for it to end …")

    try:
        with run_lock(settings, wait=wait, on_wait=waiting):
            try:
                recovered = recover_damaged_build_database(settings)
            except BuildDatabaseBusy as busy:
                console.print(
                    "[red bold]The build database is in use by another process[/] "
                    f"({escape(str(busy))}): not started. Close it, or wait for it to end."
                )
                return EXIT_RUN_IN_PROGRESS
            if recovered:
                console.print(f"[yellow bold]{escape(recovered)}")
            return _run(settings, console, full_refresh=full_refresh, recovered=recovered)
    except RunInProgress as refused:
        console.print(
            f"[red bold]{escape(str(refused))}[/]: this run was not started. "
            "Run again when it has ended, or `ward run --wait`."
        )
        return EXIT_RUN_IN_PROGRESS


def _run(settings: Settings, console: Console, *, full_refresh: bool, recovered: str | None) -> int:
    with created_for_good():  # the definitions live as long as the process (ward.long_lived)
        from orchestration.definitions import build_definitions  # heavy import, only when running
        from orchestration.selection import plan_run

        use_ward_instance(settings)
        # dagster-dbt echoes dbt's own log to stdout: keep it in a file, show one line per step.
        progress_console = Console(file=console.file, width=console.width, force_terminal=console.is_terminal)
        logger_def, progress = progress_logger(progress_console)
        defs = build_definitions(settings, loggers={"progress": logger_def})
        job = defs.resolve_job_def("ward_pipeline")
    collect_in_larger_batches()  # the run's own garbage (ward.long_lived)
    with DagsterInstance.get() as instance:
        # What this run builds, decided before it starts: the assets of new files and what they feed.
        assets_defs = defs.get_repository_def().assets_defs_by_key.values()
        plan = plan_run(settings, assets_defs, instance, full_refresh=full_refresh or bool(recovered))
        if plan.builds_nothing:
            console.print("No new file in the landing folder: nothing to build.")
            return _summary(settings, console)
        console.print(f"[dim]This run builds {_plan_words(plan)}.")
        run_log = settings.run_log_path.open("w", encoding="utf-8")
        with run_log, contextlib.redirect_stdout(run_log):
            # Naming our logger in the run config replaces Dagster's default console logger.
            result = job.execute_in_process(
                instance=instance,
                raise_on_error=False,
                run_config={"loggers": {"progress": {}}},
                tags=_tags(full_refresh, recovered),
                asset_selection=plan.selection(),
            )
    failed_checks = [
        e.asset_check_evaluation_data.check_name
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.asset_check_evaluation_data.passed
        and e.asset_check_evaluation_data.severity.value == "ERROR"
    ]
    if not result.success or failed_checks:
        console.print(
            "[red bold]The run did not finish cleanly[/]: "
            f"failed steps {progress.failed_steps or '—'}, blocking checks {failed_checks or '—'}. "
            "The previously published warehouse and exports were left as they were. "
            f"dbt's log: {settings.run_log_path}"
        )
        return 1
    return _summary(settings, console)


def _summary(settings: Settings, console: Console) -> int:
    """The published figures and where everything is; 0 (the run, if any, finished cleanly)."""
    print_summary(
        console,
        headline_figures(settings.warehouse_path),
        {
            "warehouse (SQL: `ward sql`)": str(settings.warehouse_path),
            "exports": str(settings.exports_dir),
            "quarantine and findings": "marts.quarantine, marts.findings in the warehouse",
            "UI": f"`ward ui` → http://127.0.0.1:{settings.ui_port}",
        },
    )
    if not settings.shared_export_key:
        console.print(f"[yellow]Shared tier not written: set {ENV_SHARED_KEY} (see README).")
    print_held(console, settings)  # deliveries held for a steward (ward.deliveries), with their figures
    return 0


def _plan_words(plan) -> str:
    built = "every asset" if plan.builds_everything else f"{len(plan.asset_keys)} assets"
    return f"{built} ({'; '.join(plan.reasons)})"


def _tags(full_refresh: bool, recovered: str | None) -> dict[str, str] | None:
    """The run's tags: a full refresh when asked or when the build database was rebuilt (the
    staging step writes why into its log, for the UI's run view)."""
    tags = {FULL_REFRESH_TAG: "true"} if full_refresh or recovered else {}
    if recovered:
        tags[BUILD_DB_RECOVERED_TAG] = recovered
    return tags or None
