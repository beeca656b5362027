"""WARD_MEMORY_LIMIT / WARD_THREADS → DuckDB settings, for dbt and for the pipeline's connections."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from ward.duckdb_config import (
    OutOfMemory,
    connect_build_db,
    duckdb_settings,
    machine_memory_bytes,
    memory_limit_bytes,
    side_settings,
)
from ward.identity.linkage import open_linkage_connection
from ward.settings import DBT_PROJECT_DIR, Settings, SettingsError

GiB = 1024**3
TMP = Path("/data/build/ward.duckdb.tmp")


@pytest.mark.parametrize(
    ("given", "memory_limit"),
    [
        ("40%", "4096MiB"),  # a share of the machine's RAM (here 10 GiB)
        ("8GB", "7629MiB"),  # 8 * 10^9 bytes, as DuckDB reads GB
        ("8GiB", "8192MiB"),
        ("6 G", "5722MiB"),
        ("512MB", "488MiB"),
        (" 12.5% ", "1280MiB"),
        (None, "4096MiB"),  # missing: 40%
        ("", "4096MiB"),
    ],
)
def test_memory_setting_becomes_duckdb_settings(given, memory_limit):
    settings = duckdb_settings(given, None, TMP, total_memory=10 * GiB)
    assert settings == {
        "memory_limit": memory_limit,
        "threads": str(os.cpu_count()),
        "temp_directory": "/data/build/ward.duckdb.tmp",
    }


def test_threads_and_dbt_only_settings():
    settings = duckdb_settings("8GB", 3, TMP, for_dbt=True, total_memory=10 * GiB)
    assert settings["threads"] == "3"
    assert settings["preserve_insertion_order"] == "false"


def test_default_is_forty_percent_of_the_machine():
    assert memory_limit_bytes(None) == int(machine_memory_bytes() * 0.40)
    assert machine_memory_bytes() == os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


@pytest.mark.parametrize("given", ["lots", "8 bananas", "0%", "150%", "-1GB", "1MB"])
def test_refused_memory_limits(given):
    with pytest.raises(SettingsError, match="WARD_MEMORY_LIMIT is refused"):
        Settings.from_env({"WARD_DATA_DIR": "/tmp/ward", "WARD_MEMORY_LIMIT": given})


@pytest.mark.parametrize("given", ["0", "two", "-2"])
def test_refused_threads(given):
    with pytest.raises(SettingsError, match="WARD_THREADS is refused"):
        Settings.from_env({"WARD_DATA_DIR": "/tmp/ward", "WARD_THREADS": given})


def test_settings_read_and_carry_them(tmp_path):
    settings = Settings.from_env(
        {"WARD_DATA_DIR": str(tmp_path), "WARD_MEMORY_LIMIT": "2GiB", "WARD_THREADS": "1"}
    )
    assert (settings.memory_limit, settings.threads) == ("2GiB", 1)
    assert settings.duckdb_temp_dir == tmp_path / "build" / "ward.duckdb.tmp"
    # Dagster resources carry every public field: the steps see the same limit
    assert Settings.from_public_values(settings.public_values()) == settings
    assert {k: v for k, v in settings.dbt_env().items() if k.startswith("WARD_DUCKDB_")} == {
        "WARD_DUCKDB_MEMORY_LIMIT": "2048MiB",
        "WARD_DUCKDB_THREADS": "1",
    }


def test_a_build_connection_reports_the_settings(tmp_path):
    settings = Settings(data_dir=tmp_path, memory_limit="512MiB", threads=1)
    settings.build_db_path.parent.mkdir(parents=True)
    with connect_build_db(settings) as con:
        memory, temp, threads = con.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory'), "
            "current_setting('threads')"
        ).fetchall()[0]
    assert (memory, temp, threads) == ("512.0 MiB", str(tmp_path / "build" / "ward.duckdb.tmp"), 1)
    # read-only connections (publish) take them too
    with connect_build_db(settings, read_only=True) as con:
        assert con.execute("select current_setting('memory_limit')").fetchall()[0][0] == "512.0 MiB"


def test_splinks_connection_is_bounded_and_spills_in_the_build_folder(tmp_path):
    """splink's in-memory DuckDB gets the run's limit and threads, and its own temp folder under the
    owner-only build folder (DuckDB's default would be `.tmp` in the working directory)."""
    settings = Settings(data_dir=tmp_path, memory_limit="256MiB", threads=1)
    con = open_linkage_connection(duckdb_settings=side_settings(settings, "linkage"))
    try:
        memory, temp, threads = con.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory'), "
            "current_setting('threads')"
        ).fetchall()[0]
    finally:
        con.close()
    temp_dir = tmp_path / "build" / "ward.duckdb.tmp" / "linkage"
    assert (memory, temp, threads) == ("256.0 MiB", str(temp_dir), 1)
    assert temp_dir.is_dir() and temp_dir.stat().st_mode & 0o077 == 0
    # an explicit thread count (bench/linkage.py) wins over the settings'
    con = open_linkage_connection(threads=2, duckdb_settings=side_settings(settings, "linkage"))
    assert con.execute("select current_setting('threads')").fetchall()[0][0] == 2
    con.close()


def test_a_second_connection_to_an_open_build_database_is_not_refused(tmp_path):
    """The settings are SET, not passed as config=: DuckDB refuses a second connection to an open
    file with another configuration, and dbt (in this process) may hold one."""
    settings = Settings(data_dir=tmp_path, memory_limit="1GiB", threads=1)
    settings.build_db_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.build_db_path)) as plain, connect_build_db(settings) as con:
        con.execute("create table t as select 1 as x")
        assert plain.execute("select current_setting('memory_limit')").fetchall()[0][0] == "1.0 GiB"


def test_out_of_memory_names_the_setting(tmp_path):
    settings = Settings(data_dir=tmp_path, memory_limit="128MiB", threads=1)
    settings.build_db_path.parent.mkdir(parents=True)
    # one list of 40M integers: an aggregate state DuckDB cannot spill
    with pytest.raises(OutOfMemory, match="WARD_MEMORY_LIMIT") as raised, connect_build_db(settings) as con:
        con.execute("select list(range) from range(40000000)").fetchall()
    assert "128MiB" in str(raised.value)
    assert isinstance(raised.value.__cause__, duckdb.OutOfMemoryException)


def test_dbt_profile_receives_them(tmp_path):
    """profiles.yml renders dbt-duckdb's `settings:` from Settings.dbt_env(), as dbt would."""
    from dbt.config.profile import Profile, read_profile
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.context import set_invocation_context

    settings = Settings(data_dir=tmp_path, memory_limit="8GB", threads=1)
    raw = read_profile(str(DBT_PROJECT_DIR))["ward"]
    set_invocation_context(settings.dbt_env())
    _, profile = Profile.render_profile(raw, "ward", None, ProfileRenderer({}))
    assert profile["path"] == str(settings.build_db_path)
    assert profile["settings"] == {
        "memory_limit": "7629MiB",
        "threads": "1",
        "preserve_insertion_order": "false",
    }
    # dbt started by hand without the platform's environment: DuckDB's own 40%
    set_invocation_context({"WARD_BUILD_DB": str(tmp_path / "b.duckdb")})
    _, profile = Profile.render_profile(raw, "ward", None, ProfileRenderer({}))
    assert profile["settings"]["memory_limit"] == "40%"


def test_dbt_spills_where_the_pipeline_does(tmp_path):
    """dbt leaves temp_directory at DuckDB's default for the build file: the platform's folder."""
    settings = Settings(data_dir=tmp_path)
    settings.build_db_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.build_db_path)) as con:  # as dbt-duckdb connects
        assert con.execute("select current_setting('temp_directory')").fetchall()[0][0] == str(
            settings.duckdb_temp_dir
        )


def test_settings_can_be_applied_again_after_spilling(tmp_path):
    """DuckDB refuses to SET temp_directory again once it spilled there: configure() does not."""
    settings = Settings(data_dir=tmp_path, memory_limit="128MiB", threads=1)
    settings.build_db_path.parent.mkdir(parents=True)
    with connect_build_db(settings) as con:
        con.execute(
            "create table t as select range as i, md5(range::varchar) as s from range(3000000) order by s"
        )
        with connect_build_db(settings) as again:
            assert again.execute("select count(*) from t").fetchall()[0][0] == 3_000_000
