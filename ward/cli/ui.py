"""`ward ui`: the Dagster UI (and its daemon, for sensors and schedules) on 127.0.0.1.

`dagster dev` and everything it starts (webserver, daemon, code servers, runs) share a process group
of their own. SIGTERM, SIGINT (Ctrl-C) or SIGHUP to `ward ui` goes to that whole group, as Ctrl-C
in a terminal would, and whatever is still alive once `dagster dev` has ended is killed: nothing
outlives `ward ui` (but a SIGKILL of it, which no process can pass on).
"""

from __future__ import annotations

import functools
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

from ward.cli.instance import use_ward_instance
from ward.settings import ENV_UI_PORT, REPO_ROOT, Settings

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
SHUTDOWN_SECONDS = 30  # for Dagster's own shutdown, after which the group is killed
STRAGGLER_SECONDS = 5  # for processes of the group still alive once `dagster dev` has ended


def start_ui(settings: Settings, port: int | None = None) -> int:
    use_ward_instance(settings)
    port = port or settings.ui_port
    # The runs the UI starts put the quality report's URL (this port + 1) in their metadata.
    env = {**os.environ, **settings.dbt_env(), ENV_UI_PORT: str(port)}
    dagster = Path(sys.executable).with_name("dagster")
    command = [
        str(dagster), "dev", "-w", str(REPO_ROOT / "workspace.yaml"),
        "-h", "127.0.0.1", "-p", str(port),
    ]  # fmt: skip
    report = serve_quality_report(replace(settings, ui_port=port))
    try:
        return run_in_own_group(command, cwd=REPO_ROOT, env=env)
    finally:
        if report is not None:
            report.shutdown()
            report.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # no access log on the console
        pass


def serve_quality_report(settings: Settings) -> http.server.ThreadingHTTPServer | None:
    """The quality report (orchestration/steward.py: static HTML, no script) over http on 127.0.0.1,
    port = UI port + 1, from a thread of this process: its folder only, nothing else of the data root.
    None (and a warning) when the port is taken: the UI runs all the same."""
    from orchestration.steward import REPORT_PORT_OFFSET, report_dir

    folder = report_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "index.html").exists():
        (folder / "index.html").write_text(
            "<!doctype html><meta charset=utf-8><title>Báo cáo / report</title>"
            "<p>Chưa có báo cáo: hãy chạy <code>ward run</code>. / No report yet: run <code>ward run</code>.",
            encoding="utf-8",
        )
    handler = functools.partial(_QuietHandler, directory=str(folder))
    try:
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", settings.ui_port + REPORT_PORT_OFFSET), handler
        )
    except OSError as exc:
        print(f"quality report not served ({exc}); it is in {folder}", file=sys.stderr)
        return None
    threading.Thread(target=server.serve_forever, name="quality-report", daemon=True).start()
    return server


def run_in_own_group(command: list[str], **popen_kwargs) -> int:
    """Run `command` in a new session and process group; pass it our signals; leave nothing behind.

    Returns its exit code (128 + the signal's number when a signal ended it).
    """
    received: list[int] = []
    group: list[int] = []  # the child's pid, which is its group's id, once started

    def forward(signum: int, _frame) -> None:
        received.append(signum)
        if group:
            # SIGHUP (the terminal closed) means stop: Dagster shuts down cleanly on SIGINT.
            _signal_group(group[0], signal.SIGINT if signum == signal.SIGHUP else signum)

    previous = {sig: signal.signal(sig, forward) for sig in FORWARDED}
    try:
        process = subprocess.Popen(
            command, start_new_session=True, preexec_fn=_default_signal_handlers, **popen_kwargs
        )
        group.append(process.pid)
        if received:  # a signal came while it started
            forward(received[-1], None)
        code = _wait(process, received)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if group:
            _end_group(group[0])
    return code if code >= 0 else 128 - code


def _default_signal_handlers() -> None:
    """In the child, before dagster starts: a shell may have started us with these signals ignored,
    and an ignored signal stays ignored across exec, so Dagster would never see them."""
    for sig in FORWARDED:
        signal.signal(sig, signal.SIG_DFL)


def _wait(process: subprocess.Popen, received: list[int]) -> int:
    deadline = None
    while True:
        try:
            return process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            if received and deadline is None:
                deadline = time.monotonic() + SHUTDOWN_SECONDS
            if deadline is not None and time.monotonic() > deadline:
                _signal_group(process.pid, signal.SIGKILL)


def _signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to the group; False when no process of it is left."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def _end_group(pgid: int) -> None:
    """Stop what `dagster dev` left of its group: SIGTERM, then SIGKILL after a few seconds."""
    if not _signal_group(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + STRAGGLER_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.1)
        if not _signal_group(pgid, 0):
            return
    _signal_group(pgid, signal.SIGKILL)
