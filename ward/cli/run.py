"""`ward run`: the whole pipeline in-process, with progress, a summary and an honest exit code."""

from __future__ import annotations

import contextlib
import logging

from dagster import DagsterInstance
from rich.console import Console

from ward.build_state import FULL_REFRESH_TAG
from ward.cli.instance import use_ward_instance
from ward.cli.progress import progress_logger
from ward.cli.summary import headline_figures, print_summary
from ward.settings import ENV_SHARED_KEY, Settings


class _HideUnchangedChecks(logging.Filter):
    """Dagster warns once per dbt test of a model left out as unchanged (assets/dbt.py): the progress
    line of the step already says what was skipped, and the tests ran when the model was built."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "emitted no result" not in record.getMessage()


def run_pipeline(settings: Settings, console: Console, *, full_refresh: bool = False) -> int:
    """Run every asset and check once; returns the process exit code (0 = all blocking checks held).

    Incremental by default: only new files are staged and checked, and unchanged persons are not
    rebuilt. full_refresh restages and rebuilds everything (after a change of the cleaning rules).
    """
    from orchestration.definitions import build_definitions  # heavy import, only when running

    use_ward_instance(settings)
    logging.getLogger("dagster._core.execution.plan.active").addFilter(_HideUnchangedChecks())
    settings.build_db_path.parent.mkdir(parents=True, exist_ok=True)
    # dagster-dbt echoes dbt's own log to stdout: keep it in a file, show one line per step.
    progress_console = Console(file=console.file, width=console.width, force_terminal=console.is_terminal)
    logger_def, progress = progress_logger(progress_console)
    defs = build_definitions(settings, loggers={"progress": logger_def})
    job = defs.resolve_job_def("ward_pipeline")
    with (
        DagsterInstance.get() as instance,
        settings.run_log_path.open("w", encoding="utf-8") as run_log,
        contextlib.redirect_stdout(run_log),
    ):
        # Naming our logger in the run config replaces Dagster's default console logger.
        result = job.execute_in_process(
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"progress": {}}},
            tags={FULL_REFRESH_TAG: "true"} if full_refresh else None,
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
    return 0
