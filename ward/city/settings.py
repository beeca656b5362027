"""The one place where the city (many wards, one deployment) reads its environment.

- `WARD_CITY_DIR`: the city root (default <repo>/data/city): landing/<code>/, wards/<code>/, city/.
- `WARD_CODES`: the wards served, comma-separated 5-digit codes of admin_units_2025.csv (default: the
  ward folders present under <city root>/landing/).
- `WARD_CITY_PARALLEL`: how many wards run at once (default: the machine's CPU count).
- `WARD_MEMORY_LIMIT`, `WARD_THREADS`: the machine's budget for all the wards together (as for one
  ward, ward.duckdb_config); each ward running gets budget / parallel wards (`ward_share`).

Like ward.settings, everything else takes a `CitySettings`, so tests never touch os.environ.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ward.duckdb_config import MIN_MEMORY_BYTES, MemoryLimitError, memory_limit_bytes, thread_count
from ward.settings import (
    ENV_MEMORY_LIMIT,
    ENV_THREADS,
    REFERENCE_DIR,
    REPO_ROOT,
    SettingsError,
)

ENV_CITY_DIR = "WARD_CITY_DIR"
ENV_WARD_CODES = "WARD_CODES"
ENV_CITY_PARALLEL = "WARD_CITY_PARALLEL"
# What each ward's `ward run` is given (ward.settings reads them in the ward's process).
ENV_WARD_CODE = "WARD_CODE"
ENV_LANDING_DIR = "WARD_LANDING_DIR"
DEFAULT_CITY_DIR = REPO_ROOT / "data" / "city"
ADMIN_UNITS = REFERENCE_DIR / "admin_units_2025.csv"

_CODE = re.compile(r"[0-9]{5}")


class CitySettingsError(SettingsError):
    """A city variable (or a ward code) the platform refuses; the message says which and why."""


@cache
def known_ward_codes() -> dict[str, str]:
    """ward_code -> `<ward_full_name>, <province_full_name>` (data/reference/admin_units_2025.csv)."""
    with ADMIN_UNITS.open(encoding="utf-8", newline="") as f:
        return {
            r["ward_code"]: f"{r['ward_full_name']}, {r['province_full_name']}" for r in csv.DictReader(f)
        }


def check_ward_code(code: str, where: str = ENV_WARD_CODES) -> str:
    code = code.strip()
    if not _CODE.fullmatch(code):
        raise CitySettingsError(
            f"{where} is refused: {code!r} is not a 5-digit ward code (as {ADMIN_UNITS.name} writes "
            "it, leading zeros included, e.g. 11446 or 00004)."
        )
    if code not in known_ward_codes():
        raise CitySettingsError(
            f"{where} is refused: {code} is no commune or ward of {ADMIN_UNITS} (the units after the "
            "1 July 2025 reform). Look the ward up there (column ward_code)."
        )
    return code


def parse_ward_codes(text: str | None, where: str = ENV_WARD_CODES) -> tuple[str, ...] | None:
    """`11446, 10507,10525` -> ('11446', '10507', '10525'), in order, each once; blank -> None.

    Commas or spaces separate the codes; each must be 5 digits and a unit of the reference."""
    parts = [p for p in re.split(r"[,\s]+", text or "") if p]
    if not parts:
        return None
    return tuple(dict.fromkeys(check_ward_code(p, where) for p in parts))


def ward_share(
    memory_limit: str | None,
    threads: int | None,
    parallel: int,
    *,
    total_memory: int | None = None,
) -> tuple[str, int]:
    """The WARD_MEMORY_LIMIT and WARD_THREADS of one ward among `parallel` running at once.

    The budget is the city's WARD_MEMORY_LIMIT (default 40% of the RAM) and WARD_THREADS (default
    the CPU count), split evenly: `budget // parallel` as MiB, and `threads // parallel` (at least 1).
    A share below what a build needs (ward.duckdb_config.MIN_MEMORY_BYTES) is refused with a message.
    """
    if parallel < 1:
        raise CitySettingsError(f"{ENV_CITY_PARALLEL} is refused: {parallel} wards at once is fewer than 1.")
    try:
        budget = memory_limit_bytes(memory_limit, total_memory)
        cores = thread_count(threads)
    except MemoryLimitError as refused:
        raise CitySettingsError(str(refused)) from None
    share = budget // parallel
    if share < MIN_MEMORY_BYTES:
        raise CitySettingsError(
            f"{ENV_MEMORY_LIMIT} ({memory_limit or 'unset'} = {budget // 1024**2} MiB) shared by "
            f"{parallel} wards at once is {share // 1024**2} MiB each, below the "
            f"{MIN_MEMORY_BYTES // 1024**2} MiB a build needs: raise it or run fewer wards at once."
        )
    return f"{share // 1024**2}MiB", max(1, cores // parallel)


@dataclass(frozen=True)
class CitySettings:
    root: Path
    # WARD_CODES as given (None: the ward folders under landing/).
    ward_codes_given: tuple[str, ...] | None = None
    # Wards at once (None: the CPU count) and the machine's budget they share.
    parallel: int | None = None
    memory_limit: str | None = None
    threads: int | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CitySettings:
        env = os.environ if environ is None else environ
        root = Path(env.get(ENV_CITY_DIR) or DEFAULT_CITY_DIR).expanduser().resolve()
        parallel_text = (env.get(ENV_CITY_PARALLEL) or "").strip()
        try:
            parallel = int(parallel_text) if parallel_text else None
            threads = int(env[ENV_THREADS]) if (env.get(ENV_THREADS) or "").strip() else None
        except ValueError:
            raise CitySettingsError(
                f"{ENV_CITY_PARALLEL} / {ENV_THREADS} are refused: not whole numbers "
                f"({parallel_text!r}, {env.get(ENV_THREADS)!r})."
            ) from None
        city = cls(
            root=root,
            ward_codes_given=parse_ward_codes(env.get(ENV_WARD_CODES)),
            parallel=parallel,
            memory_limit=(env.get(ENV_MEMORY_LIMIT) or "").strip() or None,
            threads=threads,
        )
        city.share(1)  # an unreadable budget is refused now, not when a ward starts
        return city

    # Where things are ------------------------------------------------------------------------
    @property
    def landing_dir(self) -> Path:
        return self.root / "landing"

    def ward_landing_dir(self, code: str) -> Path:
        return self.landing_dir / code

    @property
    def wards_dir(self) -> Path:
        return self.root / "wards"

    def ward_data_dir(self, code: str) -> Path:
        """Each ward's own data root, exactly a single-ward data root."""
        return self.wards_dir / code

    def ward_warehouse(self, code: str) -> Path:
        return self.ward_data_dir(code) / "warehouse" / "ward.duckdb"  # ward.settings.warehouse_path

    @property
    def city_dir(self) -> Path:
        return self.root / "city"

    @property
    def city_db_path(self) -> Path:
        return self.city_dir / "city.duckdb"

    @property
    def lake_dir(self) -> Path:
        """The city marts as Parquet partitioned by ward_code (ward.city.lake)."""
        return self.city_dir / "lake"

    @property
    def logs_dir(self) -> Path:
        return self.city_dir / "logs"

    def ward_log_path(self, code: str) -> Path:
        """The console output of the ward's last `ward run` started by the city."""
        return self.logs_dir / f"{code}.log"

    @property
    def dagster_home(self) -> Path:
        return self.city_dir / ".dagster"

    # Which wards, and how many at once -------------------------------------------------------
    def ward_codes(self) -> tuple[str, ...]:
        """WARD_CODES, else the 5-digit folders under landing/ (sorted); each checked."""
        if self.ward_codes_given is not None:
            return self.ward_codes_given
        if not self.landing_dir.is_dir():
            return ()
        found = sorted(
            p.name for p in self.landing_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
        )
        return tuple(check_ward_code(code, f"the ward folder {self.landing_dir / code}") for code in found)

    def wards_at_once(self, wards: int, parallel: int | None = None) -> int:
        """How many wards run at once: `parallel` (else WARD_CITY_PARALLEL, else the CPU count),
        never more than there are wards."""
        wanted = parallel or self.parallel or os.cpu_count() or 1
        if wanted < 1:
            raise CitySettingsError(f"{ENV_CITY_PARALLEL} is refused: {wanted} is fewer than 1 ward at once.")
        return max(1, min(wanted, wards))

    def share(self, at_once: int) -> tuple[str, int]:
        return ward_share(self.memory_limit, self.threads, at_once)


def ward_environment(city: CitySettings, code: str, memory_limit: str, threads: int) -> dict[str, str]:
    """The variables a ward's `ward run` gets on top of the city's own environment."""
    from ward.settings import ENV_DATA_DIR

    return {
        ENV_DATA_DIR: str(city.ward_data_dir(code)),
        ENV_LANDING_DIR: str(city.ward_landing_dir(code)),
        ENV_WARD_CODE: code,
        ENV_MEMORY_LIMIT: memory_limit,
        ENV_THREADS: str(threads),
    }
