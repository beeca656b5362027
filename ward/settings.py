"""The one place where the platform reads its environment.

Everything else takes a `Settings` (or its paths) as an argument, so tests can point a whole run at a
temporary folder without touching os.environ.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path
from typing import Any, get_args, get_type_hints

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
REFERENCE_DIR = REPO_ROOT / "data" / "reference"

WARD_CODE = "11446"  # Phù Liễn, Hải Phòng (admin_units_2025.csv): the default ward
# The 5-digit commune/ward codes after the 1 July 2025 reform (data/reference/README.md).
ADMIN_UNITS_FILE = REFERENCE_DIR / "admin_units_2025.csv"
SOURCES = ("citizens", "households", "service_records")

# Environment variable names, in one list so the README and error messages can quote them.
ENV_DATA_DIR = "WARD_DATA_DIR"
# The ward this data root serves: every staged row and every mart carries it as `ward_code`, so a
# city can union its wards' marts. One deployment serves many wards by running each with its own
# WARD_CODE, WARD_DATA_DIR and WARD_LANDING_DIR (default: <data root>/landing).
ENV_WARD_CODE = "WARD_CODE"
ENV_LANDING_DIR = "WARD_LANDING_DIR"
ENV_SHARED_KEY = "WARD_SHARED_EXPORT_KEY"
ENV_UI_PORT = "WARD_UI_PORT"
ENV_READERS_GROUP = "WARD_READERS_GROUP"  # optional: a group that may read the personal files
ENV_SERVE_KEYS_FILE = "WARD_SERVE_KEYS_FILE"  # `ward serve`: SHA-256 of keys -> name, role, group
ENV_SERVE_MIN_CELL = "WARD_SERVE_MIN_CELL"  # `ward serve`: counts below it are suppressed
ENV_SERVE_PORT = "WARD_SERVE_PORT"
# DuckDB's memory limit and threads for the whole build (ward.duckdb_config): `8GB` or `40%`.
ENV_MEMORY_LIMIT = "WARD_MEMORY_LIMIT"
ENV_THREADS = "WARD_THREADS"
ENV_FRESHNESS_DAYS = {
    "citizens": "WARD_FRESHNESS_CITIZENS_DAYS",
    "service_records": "WARD_FRESHNESS_SERVICE_RECORDS_DAYS",
}
DEFAULT_FRESHNESS_DAYS = {"citizens": 35, "service_records": 2}
# A new citizens snapshot that loses more than this share of the previous one's persons (the ward's,
# or a residential group's) is held until a steward releases it (ward.deliveries.hold).
ENV_HOLD_LOSS_SHARE = "WARD_HOLD_LOSS_SHARE"
DEFAULT_HOLD_LOSS_SHARE = 0.05
MIN_SHARED_KEY_LENGTH = 16
# Settings fields that hold secrets, with their variable: they reach Dagster resources as
# dg.EnvVar(name), never as a value (its UI and GraphQL API show resource config to anyone).
SECRET_FIELDS = {"shared_export_key": ENV_SHARED_KEY}


class SettingsError(ValueError):
    """A variable of the environment holds a value the platform refuses (the message says which)."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    shared_export_key: str | None = None
    ui_port: int = 3000
    # How old the latest extract of a source may be before its freshness check warns (days).
    freshness_days: tuple[tuple[str, int], ...] = tuple(DEFAULT_FRESHNESS_DAYS.items())
    # Personal files are owner-only (0600/0700); with a group, 0640/0750 and owned by it.
    readers_group: str | None = None
    # Share of persons a new citizens snapshot may lose before it is held (ward.deliveries.hold).
    hold_loss_share: float = DEFAULT_HOLD_LOSS_SHARE
    # `ward serve`: the keys file (kept outside the repository), the small-cell threshold, the port.
    serve_keys_file: Path | None = None
    serve_min_cell: int = 5
    serve_port: int = 8000
    # DuckDB's memory limit as given (`8GB`, `40%`; None: 40% of the RAM) and its threads (None:
    # the CPU count), for dbt and every connection on the build database (ward.duckdb_config).
    memory_limit: str | None = None
    threads: int | None = None
    # The ward's 5-digit code (admin_units_2025.csv); dbt writes it as `ward_code` on every row.
    ward_code: str = WARD_CODE
    # Where the ward's extracts are dropped, when not <data root>/landing (`landing_dir`).
    landing_dir_override: Path | None = None

    def __post_init__(self) -> None:
        from ward.duckdb_config import MemoryLimitError, memory_limit_bytes, thread_count

        try:
            memory_limit_bytes(self.memory_limit)
            thread_count(self.threads)
        except MemoryLimitError as refused:
            raise SettingsError(str(refused)) from None
        _check_ward_code(self.ward_code)
        key = self.shared_export_key
        if key is not None and len("".join(key.split())) < MIN_SHARED_KEY_LENGTH:
            raise SettingsError(
                f"{ENV_SHARED_KEY} is refused: it needs at least {MIN_SHARED_KEY_LENGTH} characters "
                f"other than spaces, it has {len(''.join(key.split()))}. Generate one with "
                "`python3 -c 'import secrets; print(secrets.token_hex(32))'`, or unset it to leave "
                "the shared tier unwritten."
            )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get(ENV_DATA_DIR) or REPO_ROOT / "data").expanduser().resolve()
        key = env.get(ENV_SHARED_KEY) or None
        freshness = tuple(
            (source, int(env.get(name) or DEFAULT_FRESHNESS_DAYS[source]))
            for source, name in ENV_FRESHNESS_DAYS.items()
        )
        landing = (env.get(ENV_LANDING_DIR) or "").strip()
        return cls(
            data_dir=data_dir,
            ward_code=(env.get(ENV_WARD_CODE) or "").strip() or WARD_CODE,
            landing_dir_override=Path(landing).expanduser().resolve() if landing else None,
            shared_export_key=key,
            ui_port=int(env.get(ENV_UI_PORT, 3000)),
            freshness_days=freshness,
            readers_group=(env.get(ENV_READERS_GROUP) or "").strip() or None,
            hold_loss_share=_share(env, ENV_HOLD_LOSS_SHARE, DEFAULT_HOLD_LOSS_SHARE),
            serve_keys_file=(
                Path(env[ENV_SERVE_KEYS_FILE]).expanduser().resolve()
                if env.get(ENV_SERVE_KEYS_FILE)
                else None
            ),
            serve_min_cell=int(env.get(ENV_SERVE_MIN_CELL) or 5),
            serve_port=int(env.get(ENV_SERVE_PORT) or 8000),
            memory_limit=(env.get(ENV_MEMORY_LIMIT) or "").strip() or None,
            threads=_threads(env),
        )

    # Handing the settings to Dagster resources -----------------------------------------------
    def public_values(self) -> dict[str, Any]:
        """Every field but the secrets, as plain JSON values (the config of a Dagster resource).

        Settings.from_public_values(public_values(), **secrets) gives back the same Settings, field
        for field: a field added here reaches every step without touching the resource.
        """
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name not in SECRET_FIELDS}

    @classmethod
    def from_public_values(cls, values: Mapping[str, Any], **secrets: str | None) -> Settings:
        hints = get_type_hints(cls)
        return cls(**{name: _typed(hints[name], value) for name, value in values.items()}, **secrets)

    # Inputs -------------------------------------------------------------------------------
    @property
    def landing_dir(self) -> Path:
        """Where the extracts are dropped: WARD_LANDING_DIR, else <data root>/landing."""
        return self.landing_dir_override or self.data_dir / "landing"

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
    def dbt_target_dir(self) -> Path:
        """dbt's invocation folders and parse state for this data root (orchestration/resources.py)."""
        return self.build_db_path.with_name("dbt")

    @property
    def duckdb_temp_dir(self) -> Path:
        """Where DuckDB spills what does not fit under WARD_MEMORY_LIMIT (owner-only build folder):
        DuckDB's own default for the build file, `<build db>.tmp` (ward.duckdb_config)."""
        return self.build_db_path.with_name(f"{self.build_db_path.name}.tmp")

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
        """Variables the dbt project reads with env_var() (profiles.yml: DuckDB's memory settings)."""
        from ward.duckdb_config import dbt_env

        return {
            "WARD_DATA_DIR": str(self.data_dir),
            "WARD_REFERENCE_DIR": str(REFERENCE_DIR),
            "WARD_BUILD_DB": str(self.build_db_path),
            # dbt_project.yml `ward_code` var -> macros/ward_code.sql -> every staged row and mart
            ENV_WARD_CODE: self.ward_code,
            **dbt_env(self),
        }


_WARD_CODE_SHAPE = re.compile(r"[0-9]{5}")


def _check_ward_code(code: object) -> None:
    """A 5-digit code of admin_units_2025.csv, else SettingsError saying what to set."""
    where = f"{ENV_WARD_CODE} (the ward's code, e.g. {WARD_CODE} for Phù Liễn, Hải Phòng)"
    if not isinstance(code, str) or not _WARD_CODE_SHAPE.fullmatch(code):
        raise SettingsError(
            f"{where} is refused: {code!r} is not 5 digits. Set it to the ward's code as "
            f"{ADMIN_UNITS_FILE.name} writes it (leading zeros included, e.g. 00004), or unset it "
            f"for {WARD_CODE}."
        )
    if code not in ward_codes():
        raise SettingsError(
            f"{where} is refused: {code} is no commune or ward of {ADMIN_UNITS_FILE} (the units after "
            "the 1 July 2025 reform). Look the ward up there (column ward_code) and set its code."
        )


@cache
def ward_codes() -> dict[str, str]:
    """ward_code -> `<ward_full_name>, <province_full_name>` of the admin units reference."""
    with ADMIN_UNITS_FILE.open(encoding="utf-8", newline="") as f:
        return {
            row["ward_code"]: f"{row['ward_full_name']}, {row['province_full_name']}"
            for row in csv.DictReader(f)
        }


def _share(env: Mapping[str, str], name: str, default: float) -> float:
    """A share in 0..1 from the environment (`0.05`, or `5%`); anything else is refused."""
    text = (env.get(name) or "").strip()
    if not text:
        return default
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise SettingsError(f"{name} is refused: {text!r} is not a share between 0 and 1 (e.g. 0.05 or 5%).")
    return value


def _threads(env: Mapping[str, str]) -> int | None:
    text = (env.get(ENV_THREADS) or "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise SettingsError(
            f"{ENV_THREADS} is refused: {text!r} is not a whole number of threads ≥ 1."
        ) from None


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _typed(hint: Any, value: Any) -> Any:
    """A JSON value back as the field's type: paths as Path, lists as tuples."""
    if value is None:
        return None
    if hint is Path or Path in get_args(hint):
        return Path(value)
    if isinstance(value, list):
        return tuple(_typed(None, v) for v in value)
    return value
