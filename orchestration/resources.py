"""Resources shared by every area: the ward's settings and the dbt project/CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

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


def dbt_resource() -> DbtCliResource:
    # The dbt of this venv, found beside the interpreter: `ward` may run without the venv on PATH.
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=str(_DBT_EXECUTABLE))
