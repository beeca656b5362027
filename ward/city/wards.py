"""One ward of the city: its own `ward run` in its own process, and its published figures.

The ward's process is exactly `ward run` on a single-ward data root (<city>/wards/<code>/), with its
landing folder, code and share of the memory budget in its environment. Nothing of it is shared with
another ward: its build database, lock, Dagster instance and published warehouse are its own, and
`ward run` replaces the published warehouse only when its run finishes cleanly, so a ward that fails
keeps its previous publication and never touches another ward's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ward.city.settings import CitySettings, ward_environment
from ward.cli.summary import HEADLINES
from ward.settings import ENV_DATA_DIR, REPO_ROOT, Settings

# The figures reported per ward: the queries `ward run` prints (ward/cli/summary.py), by short name.
FIGURES = {
    name: HEADLINES[headline]
    for name, headline in {
        "residents": "residents (latest snapshot)",
        "dossiers": "dossiers",
        "files_loaded": "files loaded",
        "files_rejected": "files rejected",
    }.items()
}
# `ward run`'s exit codes (ward/cli/run.py, ward/build_guard.py, ward/cli/__init__.py).
EXIT_MEANING = {
    0: "finished cleanly",
    1: "a step or a blocking check failed: its previous publication was kept",
    2: "a setting was refused",
    3: "another run of this ward was in progress",
}


@dataclass(frozen=True)
class WardOutcome:
    code: str
    exit_code: int
    seconds: float
    log_path: Path
    warehouse: Path
    figures: dict[str, int | None] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    @property
    def published(self) -> bool:
        return self.warehouse.exists()

    def message(self) -> str:
        meaning = EXIT_MEANING.get(self.exit_code, "the process ended abnormally")
        return f"ward {self.code}: `ward run` exited {self.exit_code} ({meaning}); its log: {self.log_path}"


def published_figures(warehouse: Path) -> dict[str, int | None]:
    """Residents, dossiers and files of a ward's published warehouse ({} when never published)."""
    if not warehouse.exists():
        return {}
    figures: dict[str, int | None] = {}
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for name, sql in FIGURES.items():
            try:
                row = con.execute(sql).fetchall()
            except duckdb.CatalogException:  # a mart missing from an older publication
                row = []
            figures[name] = row[0][0] if row else None
    return figures


def _landing_for_older_settings(city: CitySettings, code: str) -> None:
    """Where ward.settings does not read WARD_LANDING_DIR yet, <ward root>/landing is a symbolic
    link to <city>/landing/<code> (never replacing a real folder)."""
    landing, data_dir = city.ward_landing_dir(code), city.ward_data_dir(code)
    probe = Settings.from_env({ENV_DATA_DIR: str(data_dir), **ward_environment(city, code, "40%", 1)})
    if probe.landing_dir.resolve() == landing.resolve():
        return
    link = data_dir / "landing"
    if not link.exists() and not link.is_symlink():
        link.symlink_to(landing, target_is_directory=True)


def run_ward(city: CitySettings, code: str, memory_limit: str, threads: int) -> WardOutcome:
    """`ward run` for one ward in a process of its own; its console output goes to its log."""
    data_dir = city.ward_data_dir(code)
    data_dir.mkdir(parents=True, exist_ok=True)
    city.ward_landing_dir(code).mkdir(parents=True, exist_ok=True)
    city.logs_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _landing_for_older_settings(city, code)
    env = {**os.environ, **ward_environment(city, code, memory_limit, threads), "COLUMNS": "120"}
    env.pop("DAGSTER_HOME", None)  # `ward run` points it at the ward's own instance
    log_path = city.ward_log_path(code)
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        log.write(f"# ward {code}: WARD_MEMORY_LIMIT={memory_limit} WARD_THREADS={threads}\n")
        log.flush()
        exit_code = subprocess.call(
            [sys.executable, "-c", "from ward.cli import app; app(prog_name='ward')", "run"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    warehouse = city.ward_warehouse(code)
    return WardOutcome(
        code=code,
        exit_code=exit_code,
        seconds=round(time.monotonic() - started, 1),
        log_path=log_path,
        warehouse=warehouse,
        figures=published_figures(warehouse),
    )
