"""Peak resident memory, sampled: of this process and its children (MemorySampler), or of a command
run as its own process (run_sampled)."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from ward.settings import REPO_ROOT


def tree_rss(root: psutil.Process) -> int:
    """RSS of `root` and all its descendants now (a process ending meanwhile counts 0)."""
    total = 0
    with contextlib.suppress(psutil.Error):  # root itself gone
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
    return total


class MemorySampler:
    """Samples RSS every `interval` s and keeps the peak per label (the step running at the time)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.label = "setup"
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._process = psutil.Process()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = tree_rss(self._process)
            self.peaks[self.label] = max(self.peaks.get(self.label, 0), rss)
            time.sleep(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def ward_command(*args: str) -> list[str]:
    """`ward <args>` with this interpreter; run with cwd=REPO_ROOT it imports this checkout's code
    (a bench started in a git worktree measures the worktree, not the editable install)."""
    return [sys.executable, "-c", "from ward.cli import app; app(prog_name='ward')", *args]


def run_sampled(
    command: list[str],
    env: dict[str, str],
    log_path: Path,
    interval: float = 0.2,
    timeline: list[tuple[float, int]] | None = None,
) -> dict[str, float | int]:
    """Run `command` as its own process (as a user starts it: nothing of the bench process is
    counted), sampling the RSS of it and its children; output to `log_path`.

    Returns seconds (wall), peak_rss_mib (the largest sum over the process tree at one sample) and
    exit_code. `timeline`, if given, receives every sample as (epoch seconds, RSS bytes), so that
    the peaks can be told apart by what the process was doing (bench.run.recorded_run: by step).
    """
    started = time.perf_counter()
    peak = 0
    with log_path.open("w", encoding="utf-8") as log:
        child = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        root = psutil.Process(child.pid)
        while child.poll() is None:
            rss = tree_rss(root)
            peak = max(peak, rss)
            if timeline is not None:
                timeline.append((time.time(), rss))
            time.sleep(interval)
    return {
        "seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mib": round(peak / 1024**2),
        "exit_code": child.returncode,
    }
