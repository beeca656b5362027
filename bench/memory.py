"""Peak resident memory of this process and its children (dbt runs as a subprocess), sampled."""

from __future__ import annotations

import contextlib
import threading
import time

import psutil


class MemorySampler:
    """Samples RSS every `interval` s and keeps the peak per label (the step running at the time)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.label = "setup"
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._process = psutil.Process()

    def _rss(self) -> int:
        total = 0
        for proc in [self._process, *self._process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = self._rss()
            self.peaks[self.label] = max(self.peaks.get(self.label, 0), rss)
            time.sleep(self.interval)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
