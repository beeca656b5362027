"""The one place where the platform reads its environment.

Everything else takes a `Settings` (or its paths) as an argument, so tests can point a whole run at a
temporary folder without touching os.environ.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
REFERENCE_DIR = REPO_ROOT / "data" / "reference"

WARD_CODE = "11446"  # Phù Liễn, Hải Phòng (admin_units_2025.csv)
SOURCES = ("citizens", "households", "service_records")

# Environment variable names, in one list so the README and error messages can quote them.
ENV_DATA_DIR = "WARD_DATA_DIR"
ENV_SHARED_KEY = "WARD_SHARED_EXPORT_KEY"
ENV_UI_PORT = "WARD_UI_PORT"
ENV_FRESHNESS_DAYS = {
    "citizens": "WARD_FRESHNESS_CITIZENS_DAYS",
    "service_records": "WARD_FRESHNESS_SERVICE_RECORDS_DAYS",
}
DEFAULT_FRESHNESS_DAYS = {"citizens": 35, "service_records": 2}
MIN_SHARED_KEY_LENGTH = 16


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    shared_export_key: str | None = None
    ui_port: int = 3000
    # How old the latest extract of a source may be before its freshness check warns (days).
    freshness_days: tuple[tuple[str, int], ...] = tuple(DEFAULT_FRESHNESS_DAYS.items())

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get(ENV_DATA_DIR) or REPO_ROOT / "data").expanduser().resolve()
        key = env.get(ENV_SHARED_KEY) or None
        freshness = tuple(
            (source, int(env.get(name) or DEFAULT_FRESHNESS_DAYS[source]))
            for source, name in ENV_FRESHNESS_DAYS.items()
        )
        return cls(
            data_dir=data_dir,
            shared_export_key=key,
            ui_port=int(env.get(ENV_UI_PORT, 3000)),
            freshness_days=freshness,
        )

    # Inputs -------------------------------------------------------------------------------
    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    def landing_source_dir(self, source: str) -> Path:
        return self.landing_dir / source

    # Ingested, immutable per-file Parquet (the "raw lake") and the delivery ledger ---------
    @property
    def raw_dir(self) -> Path:
        return self.data_dir / "raw"

    def raw_source_dir(self, source: str) -> Path:
        return self.raw_dir / source

    @property
    def ledger_path(self) -> Path:
        return self.raw_dir / "deliveries.parquet"

    @property
    def rejected_dir(self) -> Path:
        """Files set aside, each with a reason file beside it."""
        return self.data_dir / "rejected"

    # Build and publication -----------------------------------------------------------------
    @property
    def build_db_path(self) -> Path:
        """Where dbt writes during a run; nobody else opens it."""
        return self.data_dir / "build" / "ward.duckdb"

    @property
    def run_log_path(self) -> Path:
        """dbt's own output of the last `ward run` (model and test lines, no data values)."""
        return self.data_dir / "build" / "last_run.log"

    @property
    def warehouse_path(self) -> Path:
        """The published warehouse analysts read; replaced whole at the end of a run."""
        return self.data_dir / "warehouse" / "ward.duckdb"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def quality_dir(self) -> Path:
        """Validation results and GX Data Docs."""
        return self.data_dir / "quality"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / ".dagster"

    @property
    def truth_dir(self) -> Path:
        """What `ward generate` says the marts must contain (tests only)."""
        return self.data_dir / "truth"

    def dbt_env(self) -> dict[str, str]:
        """Variables the dbt project reads with env_var()."""
        return {
            "WARD_DATA_DIR": str(self.data_dir),
            "WARD_REFERENCE_DIR": str(REFERENCE_DIR),
            "WARD_BUILD_DB": str(self.build_db_path),
        }
