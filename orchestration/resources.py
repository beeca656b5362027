"""Resources shared by every area: the ward's settings and the dbt project/CLI."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from pydantic import PrivateAttr

from ward.build_guard import held_here, run_lock
from ward.private_apis import DbtSubprocessesSkipped
from ward.quality.gx_validation import GxWorker
from ward.settings import DBT_PROJECT_DIR, SECRET_FIELDS, Settings


class WardResource(dg.ConfigurableResource):
    """The ward's Settings (ward.settings, the only reader of the environment), for every step.

    `values` holds every field but the secrets, so a field added to Settings reaches the steps
    as it is; a secret is configured as dg.EnvVar(its variable) only, which Dagster resolves in the
    run: its UI and GraphQL API then show the variable's name, never the value.
    """

    values: dict[str, Any | None]  # None: a field left unset (Dagster needs it said)
    shared_export_key: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> WardResource:
        secrets = {
            name: _as_env_var(variable, getattr(settings, name)) for name, variable in SECRET_FIELDS.items()
        }
        return cls(values=settings.public_values(), **secrets)

    @property
    def settings(self) -> Settings:
        secrets = {name: _resolved(getattr(self, name)) for name in SECRET_FIELDS}
        return Settings.from_public_values(self.values, **secrets)

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator[WardResource]:
        """A run holds the data root's run lock while its steps execute (ward.build_guard), as
        `ward run` does: a run launched from the UI or by the sensor waits for a `ward run` to end,
        and a `ward run` started meanwhile refuses (exit 3). The jobs execute in one process
        (in_process_executor, orchestration/definitions.py), so the lock is taken once per run.
        Outside a run (a sensor's tick) and inside `ward run` (which holds it) nothing is taken."""
        settings = self.settings
        if context.dagster_run is None or held_here(settings):
            yield self
            return

        def waiting(message: str) -> None:
            context.log.warning(f"{message}: this run waits for it to end")

        with run_lock(settings, wait=True, on_wait=waiting):
            yield self


def _as_env_var(variable: str, value: str | None) -> dg.EnvVar | None:
    """A secret of the settings as a reference to its variable, which Dagster reads when a run starts.

    The variable holds the value whenever the Settings came from the environment; a Settings built
    in code (a test, a benchmark) has it written into this process's environment, which the runs it
    starts read.
    """
    if value is None:
        return None
    if os.environ.get(variable) != value:
        os.environ[variable] = value
    return dg.EnvVar(variable)


def _resolved(value: str | None) -> str | None:
    """Outside a run (a test calling a check directly) Dagster leaves an EnvVar unresolved."""
    return value.get_value() if isinstance(value, dg.EnvVar) else value


class GxResource(dg.ConfigurableResource):
    """Great Expectations' worker process (ward.quality.gx_validation.GxWorker) for the quality step.

    It starts when Dagster sets the resource up: the steps of a run share one process (`ward run`,
    and the UI's runs: in_process_executor), so that is the start of the run, and GX's imports
    (≈ 2 s) overlap the ingest and dbt staging instead of being waited for.
    """

    ward: WardResource
    _worker: GxWorker | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._start()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._worker is not None:
            self._worker.close()

    @property
    def worker(self) -> GxWorker:
        return self._worker or self._start()  # started here when used outside a run (a test)

    def _start(self) -> GxWorker:
        settings = self.ward.settings
        self._worker = GxWorker(settings.build_db_path, settings.quality_dir)
        return self._worker


_DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def give_dbt_its_environment(settings: Settings) -> None:
    """dbt reads the data root through env_var(); its subprocesses inherit os.environ."""
    os.environ.update(settings.dbt_env())


_DBT_SOURCE_FOLDERS = ("models", "macros", "snapshots", "tests", "seeds", "analyses")
_DBT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv"}


def dbt_project_files(folders: tuple[str, ...] = _DBT_SOURCE_FOLDERS) -> list[Path]:
    """The files dbt reads from the project: config at the top, and the given folders' files.

    Only those folders are walked: target/ holds every invocation's artifacts.
    """
    files = [p for p in DBT_PROJECT_DIR.iterdir() if p.is_file() and p.suffix in _DBT_SUFFIXES]
    for folder in folders:
        files += [p for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.suffix in _DBT_SUFFIXES]
    return sorted(files)


@cache
def dbt_project_fingerprint(folders: tuple[str, ...] = _DBT_SOURCE_FOLDERS) -> str:
    """Those files (paths and contents) as one checksum, for this process's lifetime."""
    digest = hashlib.sha256()
    for path in dbt_project_files(folders):
        digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_dbt_manifest() -> Path:
    """Dagster builds the dbt assets from target/manifest.json when the definitions load.

    `dbt parse` writes it (≈ 4 s), only when it is missing or older than a file of the project.
    """
    for name, value in Settings.from_env().dbt_env().items():
        os.environ.setdefault(name, value)
    manifest = DBT_PROJECT.manifest_path
    newest = max((p.stat().st_mtime for p in dbt_project_files()), default=0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        subprocess.run(
            [str(_DBT_EXECUTABLE), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR)],
            check=True,
        )  # fmt: skip
    return manifest


class WardDbtCliResource(DbtSubprocessesSkipped, DbtCliResource):
    """The dbt of this venv, found beside the interpreter (`ward` may run without the venv on PATH).

    dbt runs in the step's process, with no `dbt --version` subprocess and no dbt adapter
    (ward/private_apis.py: DbtSubprocessesSkipped, a fifth of a daily run's dbt time and more).
    """


# dagster-dbt gives each invocation a folder target/<step>-<run id>-<hash> (or <run id>) of ≈ 3 MB.
_INVOCATION_FOLDER = re.compile(r"([a-z_]+-)?[0-9a-f]{7}(-[0-9a-f]{7})?")
KEEP_INVOCATION_FOLDERS = 30


def prune_invocation_folders(keep: int = KEEP_INVOCATION_FOLDERS) -> None:
    """Remove all but the newest `keep` invocation folders: a year of runs would keep gigabytes."""
    target = DBT_PROJECT.project_dir / "target"
    folders = [p for p in target.iterdir() if p.is_dir() and _INVOCATION_FOLDER.fullmatch(p.name)]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def keep_partial_parse(invocation_target: Path) -> None:
    """Hand dbt's parse state back to the project after an invocation.

    dagster-dbt gives each invocation its own target folder, seeded with the project's
    partial_parse.msgpack, and dbt re-parses the whole project (≈ 2 s) when that state was made
    under another profile, which it is whenever the data root (WARD_BUILD_DB) differs from the one
    `dbt parse` saw. Copying the fresh state back lets the next invocation on this data root skip it.
    """
    state = Path(invocation_target) / "partial_parse.msgpack"
    if state.exists():
        target = DBT_PROJECT.project_dir / "target" / "partial_parse.msgpack"
        tmp = target.with_name(f".partial_parse.{os.getpid()}.tmp")
        shutil.copyfile(state, tmp)
        os.replace(tmp, target)


def dbt_resource() -> DbtCliResource:
    return WardDbtCliResource(project_dir=DBT_PROJECT, dbt_executable=str(_DBT_EXECUTABLE))
