"""Resources shared by every area: the ward's settings and the dbt project/CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from packaging import version

from ward.settings import DBT_PROJECT_DIR, Settings


class WardResource(dg.ConfigurableResource):
    """The data root every asset reads and writes under (from WARD_DATA_DIR via ward.settings)."""

    data_dir: str
    shared_export_key: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> WardResource:
        return cls(data_dir=str(settings.data_dir), shared_export_key=settings.shared_export_key)

    @property
    def settings(self) -> Settings:
        return Settings(data_dir=Path(self.data_dir), shared_export_key=self.shared_export_key)


_DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


def give_dbt_its_environment(settings: Settings) -> None:
    """dbt reads the data root through env_var(); its subprocesses inherit os.environ."""
    os.environ.update(settings.dbt_env())


def ensure_dbt_manifest() -> Path:
    """Dagster builds the dbt assets from target/manifest.json when the definitions load.

    `dbt parse` writes it (≈ 4 s), only when it is missing or older than a file of the project.
    """
    for name, value in Settings.from_env().dbt_env().items():
        os.environ.setdefault(name, value)
    manifest = DBT_PROJECT.manifest_path
    project_files = [
        p for p in DBT_PROJECT_DIR.rglob("*") if p.suffix in {".sql", ".yml", ".yaml", ".csv"}
        and "target" not in p.relative_to(DBT_PROJECT_DIR).parts
    ]  # fmt: skip
    newest = max((p.stat().st_mtime for p in project_files), default=0)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        subprocess.run(
            [str(_DBT_EXECUTABLE), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR),
             "--profiles-dir", str(DBT_PROJECT_DIR)],
            check=True,
        )  # fmt: skip
    return manifest


class WardDbtCliResource(DbtCliResource):
    """The dbt of this venv, found beside the interpreter (`ward` may run without the venv on PATH).

    Its version is the installed dbt-core package's: dagster-dbt would otherwise ask a `dbt --version`
    subprocess in every step that calls dbt (≈ 1.3 s each, a fifth of a daily run's dbt time). No
    in-process dbt adapter either (≈ 0.3–1 s a call): it only serves column and row-count metadata,
    which the ward does not fetch.
    """

    def _initialize_dbt_core_adapter(self, args):
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)


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
