"""The city's Dagster assets: `city/ward_build`, one partition per ward, and `city/marts`.

A partition's materialization is that ward's own `ward run` in a process of its own (ward.city.wards):
it succeeds or fails on its own, with its exit code, published figures and log as metadata. Dagster
runs several partitions of one asset in parallel only as several runs (one asset is one step of a
run, whatever its partitions: docs/scale.md, "Many wards, one deployment"), so wards run in parallel
as one run per partition: a backfill from the UI (one run per partition, at most
WARD_CITY_PARALLEL at once by the instance's run queue) or `ward city run` (ward.city.run).
"""

# No `from __future__ import annotations`: Dagster reads the asset's config class from its annotation.

import os
from pathlib import Path

import dagster as dg
import yaml

from ward.city.marts import CITY_MARTS, build_city_marts
from ward.city.settings import ENV_CITY_DIR, ENV_WARD_CODES, CitySettings, CitySettingsError
from ward.city.wards import WardOutcome, run_ward

WARD_BUILD = dg.AssetKey(["city", "ward_build"])
CITY_MARTS_KEY = dg.AssetKey(["city", "marts"])
WARD_BUILD_JOB = "city_ward_build"
CITY_MARTS_JOB = "city_marts"
WARD_BUILD_OP = "city__ward_build"


class WardBuildConfig(dg.Config):
    """The ward's share of the machine (empty: the city's budget / WARD_CITY_PARALLEL wards)."""

    memory_limit: str = ""
    threads: int = 0


def outcome_metadata(outcome: WardOutcome, memory_limit: str, threads: int) -> dict[str, dg.MetadataValue]:
    metadata: dict[str, dg.MetadataValue] = {
        "exit_code": dg.MetadataValue.int(outcome.exit_code),
        "seconds": dg.MetadataValue.float(outcome.seconds),
        "log": dg.MetadataValue.path(str(outcome.log_path)),
        "warehouse": dg.MetadataValue.path(str(outcome.warehouse)),
        "published": dg.MetadataValue.bool(outcome.published),
        "memory_limit": dg.MetadataValue.text(memory_limit),
        "threads": dg.MetadataValue.int(threads),
    }
    for name, value in outcome.figures.items():
        if value is not None:
            metadata[name] = dg.MetadataValue.int(int(value))
    return metadata


def outcome_from_metadata(code: str, metadata: dict[str, dg.MetadataValue]) -> WardOutcome:
    """The WardOutcome a materialization (or a failure) reported, back from its metadata."""
    values = {name: value.value for name, value in metadata.items()}
    return WardOutcome(
        code=code,
        exit_code=int(values["exit_code"]),
        seconds=float(values["seconds"]),
        log_path=Path(values["log"]),
        warehouse=Path(values["warehouse"]),
        figures={
            name: values.get(name) for name in ("residents", "dossiers", "files_loaded", "files_rejected")
        },
    )


def city_assets(city: CitySettings, codes: tuple[str, ...]) -> list[dg.AssetsDefinition]:
    wards = dg.StaticPartitionsDefinition(list(codes))

    @dg.asset(
        key=WARD_BUILD,
        partitions_def=wards,
        group_name="city",
        kinds={"python", "duckdb"},
        description=(
            "One ward's whole pipeline: its own `ward run` in its own process, on its own data root "
            "(<city>/wards/<code>/), under its share of the memory budget. A failed run keeps the "
            "ward's previous publication and changes no other ward."
        ),
    )
    def ward_build(context: dg.AssetExecutionContext, config: WardBuildConfig) -> dg.MaterializeResult:
        code = context.partition_key
        if config.memory_limit:
            memory_limit, threads = config.memory_limit, config.threads or 1
        else:
            memory_limit, threads = city.share(city.wards_at_once(len(codes)))
        context.log.info(
            f"ward {code}: `ward run` with WARD_MEMORY_LIMIT={memory_limit}, WARD_THREADS={threads}"
        )
        outcome = run_ward(city, code, memory_limit, threads)
        metadata = outcome_metadata(outcome, memory_limit, threads)
        if not outcome.ok:
            raise dg.Failure(description=outcome.message(), metadata=metadata, allow_retries=False)
        context.log.info(outcome.message())
        return dg.MaterializeResult(metadata=metadata)

    @dg.asset(
        key=CITY_MARTS_KEY,
        deps=[ward_build],
        group_name="city",
        kinds={"duckdb", "parquet"},
        description=(
            "The city marts (<city>/city/city.duckdb): each ward mart, the union of the wards' "
            "published marts with ward_code. A ward whose last run failed contributes its last "
            "publication; a ward never published is listed as missing (marts.wards). The same marts "
            "as Parquet by ward_code for Spark or Trino: <city>/city/lake/<mart>/ward_code=<code>/."
        ),
    )
    def marts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        built = build_city_marts(city, codes)
        if built.missing:
            context.log.warning(f"wards never published, not in the city marts: {', '.join(built.missing)}")
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(built.path)),
                "lake": dg.MetadataValue.path(str(built.lake)),
                "wards": dg.MetadataValue.int(len(built.wards)),
                "wards_included": dg.MetadataValue.text(", ".join(built.wards) or "—"),
                "wards_missing": dg.MetadataValue.text(", ".join(built.missing) or "—"),
                **{f"rows_{m}": dg.MetadataValue.int(built.rows.get(m, 0)) for m in CITY_MARTS},
            }
        )

    return [ward_build, marts]


def build_city_definitions(city: CitySettings, codes: tuple[str, ...] | None = None) -> dg.Definitions:
    """The city code location: the two assets and a job for each (composing only)."""
    codes = codes or city.ward_codes()
    if not codes:
        raise CitySettingsError(
            f"No ward to serve: set {ENV_WARD_CODES} (e.g. 11446,10507) or put the wards' folders under "
            f"{city.landing_dir}/<ward_code>/ ({ENV_CITY_DIR}={city.root}); `ward city generate` makes some."
        )
    ward_build, marts = city_assets(city, codes)
    return dg.Definitions(
        assets=[ward_build, marts],
        jobs=[
            dg.define_asset_job(
                WARD_BUILD_JOB, selection=[WARD_BUILD], partitions_def=ward_build.partitions_def
            ),
            dg.define_asset_job(CITY_MARTS_JOB, selection=[CITY_MARTS_KEY]),
        ],
    )


def use_city_instance(city: CitySettings) -> None:
    """DAGSTER_HOME at <city>/city/.dagster: Dagster's own SQLite storage, no telemetry, and a run
    queue of WARD_CITY_PARALLEL runs (the UI's backfill of ward_build: one run per ward)."""
    city.dagster_home.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = {
        "telemetry": {"enabled": False},
        "nux": {"enabled": False},
        "concurrency": {"runs": {"max_concurrent_runs": city.wards_at_once(10**6)}},
    }
    wanted = "# Written by `ward city` on each use (ward/city/assets.py).\n" + yaml.safe_dump(config)
    path = city.dagster_home / "dagster.yaml"
    if not path.exists() or path.read_text() != wanted:
        path.write_text(wanted)
    os.environ["DAGSTER_HOME"] = str(city.dagster_home)
