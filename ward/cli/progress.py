"""A one-line-per-step progress display for `ward run`, fed by Dagster's own events.

No log line of this logger carries data values: only step names, timings and counts.
"""

from __future__ import annotations

import logging
import re
import time

import dagster as dg
from rich.console import Console
from rich.markup import escape

_STEP_LABELS = {
    "landing_extracts": "ingest landing files",
    "dbt_staging": "dbt staging models",
    "quality_step": "data rules (expectations/rules.yml) and GX",
    "identity_step": "identity resolution (splink)",
    "dbt_downstream": "dbt intermediate models and marts",
    "history_snapshots": "history snapshots (one per new citizens extract date)",
    "ward_rule_checks": "rule checks",
    "publish": "publish the warehouse and write the exports",
}


class _ProgressHandler(logging.Handler):
    def __init__(self, console: Console) -> None:
        super().__init__(level=logging.DEBUG)
        self.console = console
        self.started: dict[str, float] = {}
        self.failed_steps: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is None:
            if record.levelno >= logging.WARNING:
                # Messages name files: `[bold]x[/bold].csv` is printed as written, not as markup.
                message = str(meta.get("orig_message", record.getMessage()))
                self.console.print(f"  [yellow]! {escape(message)}")
            return
        step = event.step_key or ""
        label = _STEP_LABELS.get(step, step)
        kind = event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
            self.console.print(f"[cyan]▶[/] {escape(label)} …")
        elif kind == "STEP_SUCCESS":
            took = time.perf_counter() - self.started.get(step, time.perf_counter())
            self.console.print(f"[green]✔[/] {escape(label)} ({took:.1f} s)")
        elif kind == "STEP_FAILURE":
            self.failed_steps.append(step)
            error = event.step_failure_data.error if event.step_failure_data else None
            self.console.print(f"[red]✖ {escape(label)} failed[/]: {escape(failure_text(error))}")


_DBT_ERRORS = "Errors parsed from dbt logs:"
_MAX_CAUSE = 400


def failure_text(error) -> str:
    """What made a step fail, in one line: the first line of the error and, when it only wraps
    another (Dagster's "Error occurred while executing op …:"), the innermost cause; for a dbt
    failure ("The dbt CLI process with command …"), the errors dbt logged (a DuckDB lock or IO
    error, a failing model) instead."""
    if error is None:
        return ""
    inner = error
    while inner.cause is not None:
        inner = inner.cause
    for candidate in (inner, error):
        if _DBT_ERRORS in candidate.message:
            logged = candidate.message.split(_DBT_ERRORS, 1)[1]
            return _cut("dbt: " + " ".join(line.strip() for line in logged.splitlines() if line.strip()))
    text = _first_line(error.message) or error.cls_name or ""
    if inner is not error:
        # "<Dagster's errors module>.X: Error occurred …:" → "Error occurred …:";
        # "_duckdb.IOException: IO Error: …" → "IOException: IO Error: …"
        text = _QUALIFIED.sub("", text)
        cause = _QUALIFIED.sub(r"\1: ", _first_line(inner.message))
        if not cause.startswith(f"{inner.cls_name}:"):
            cause = f"{inner.cls_name}: {cause}"
        text = f"{text} {cause}" if text.endswith(":") else f"{text} — {cause}"
    return _cut(text)


# A line opening with the error's qualified class name ("package.module.SomeError: …").
_QUALIFIED = re.compile(r"^(?:[A-Za-z_][\w]*\.)+(\w+): ")


def _first_line(message: str) -> str:
    return next((line.strip() for line in message.splitlines() if line.strip()), "")


def _cut(text: str) -> str:
    return text if len(text) <= _MAX_CAUSE else text[: _MAX_CAUSE - 1] + "…"


def progress_logger(console: Console) -> tuple[dg.LoggerDefinition, _ProgressHandler]:
    handler = _ProgressHandler(console)

    @dg.logger(description="ward run progress display")
    def ward_progress(_init_context) -> logging.Logger:
        log = logging.getLogger("ward.progress")
        log.handlers = [handler]
        log.setLevel(logging.DEBUG)
        log.propagate = False
        return log

    return ward_progress, handler
