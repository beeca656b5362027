"""Resources shared by every area: the ward's settings and the dbt project/CLI."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
import orjson
from dagster_dbt import DbtCliResource, DbtProject
from pydantic import PrivateAttr

from ward.build_guard import held_here, run_lock
from ward.private_apis import DbtSubprocessesSkipped
from ward.quality.gx_validation import GxWorker, take_worker
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
    (≈ 2 s) overlap the ingest and dbt staging instead of being waited for. `ward run` starts it
    earlier still, with its process (ward.warm_workers).
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
        # the one `ward run` started with its process (ward.warm_workers), else a new one
        self._worker = take_worker(settings.build_db_path, settings.quality_dir)
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


@cache
def dbt_manifest() -> Mapping[str, Any]:
    """target/manifest.json parsed once per process (orjson, as dagster-dbt reads it: 1.3 MB in
    ≈ 0.02 s, the json module ≈ 0.17 s), for the dbt assets, their invocations and our own lookups."""
    return orjson.loads(ensure_dbt_manifest().read_bytes())


class WardDbtCliResource(DbtSubprocessesSkipped, DbtCliResource):
    """The dbt of this venv, found beside the interpreter (`ward` may run without the venv on PATH).

    dbt runs in the step's process, with no `dbt --version` subprocess and no dbt adapter
    (ward/private_apis.py: DbtSubprocessesSkipped, a fifth of a daily run's dbt time and more).
    """


# One folder per dbt invocation, <step>-<hash>, of ≈ 3 MB, under the data root's build/dbt/.
_INVOCATION_FOLDER = re.compile(r"[a-z_]+-[0-9a-f]{7}")
KEEP_INVOCATION_FOLDERS = 30
PARTIAL_PARSE = "partial_parse.msgpack"


@contextlib.contextmanager
def dbt_target(settings: Settings, step: str) -> Iterator[Path]:
    """A new target folder for one dbt invocation (`dbt.cli(..., target_path=...)`), seeded with the
    data root's parse state; once the invocation has succeeded its fresh state is kept for the next.

    dbt parses the whole project again (≈ 2 s) when its saved state was made under another profile,
    and each data root has its own (WARD_BUILD_DB). One state per data root, not one per project: the
    wards `ward city run` builds at once no longer overwrite each other's, and a ward's later dbt
    calls (phase 2, the history, the docs) skip the parse. Old invocation folders are pruned after.
    """
    root = settings.dbt_target_dir
    folder = root / f"{step}-{uuid.uuid4().hex[:7]}"
    folder.mkdir(parents=True)
    if (root / PARTIAL_PARSE).exists():
        shutil.copyfile(root / PARTIAL_PARSE, folder / PARTIAL_PARSE)
    try:
        yield folder
        if (folder / PARTIAL_PARSE).exists():
            tmp = root / f".{PARTIAL_PARSE}.{os.getpid()}.tmp"
            shutil.copyfile(folder / PARTIAL_PARSE, tmp)
            os.replace(tmp, root / PARTIAL_PARSE)
    finally:
        prune_invocation_folders(root)


def prune_invocation_folders(root: Path, keep: int = KEEP_INVOCATION_FOLDERS) -> None:
    """Remove all but the newest `keep` invocation folders: a year of runs would keep gigabytes."""
    folders = [p for p in root.iterdir() if p.is_dir() and _INVOCATION_FOLDER.fullmatch(p.name)]
    folders.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)


def dbt_resource() -> DbtCliResource:
    return WardDbtCliResource(project_dir=DBT_PROJECT, dbt_executable=str(_DBT_EXECUTABLE))
