"""The city (ward/city/): WARD_CODES, the wards' memory share, the city marts' union, and the
partitioned Dagster asset's success and failure (no ward pipeline runs here: tests/e2e/test_city.py)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ward.city import assets as city_assets
from ward.city.marts import build_city_marts
from ward.city.settings import (
    DEFAULT_CITY_DIR,
    CitySettings,
    CitySettingsError,
    parse_ward_codes,
    ward_environment,
    ward_share,
)
from ward.city.wards import WardOutcome

GiB = 1024**3


# WARD_CODES -----------------------------------------------------------------------------------
def test_ward_codes_parsed_in_order_each_once():
    assert parse_ward_codes("11446, 10507,10525 11446") == ("11446", "10507", "10525")
    assert parse_ward_codes("00004") == ("00004",)  # leading zeros kept (Ba Đình, Hà Nội)


@pytest.mark.parametrize("blank", [None, "", " ", ",,"])
def test_no_ward_codes_is_none(blank):
    assert parse_ward_codes(blank) is None


@pytest.mark.parametrize("bad", ["1144", "114460", "11a46", "4"])
def test_a_code_not_5_digits_is_refused(bad):
    with pytest.raises(CitySettingsError, match=r"WARD_CODES is refused: .* not a 5-digit ward code"):
        parse_ward_codes(f"11446,{bad}")


def test_an_unknown_code_is_refused():
    with pytest.raises(CitySettingsError, match=r"99999 is no commune or ward of .*admin_units_2025\.csv"):
        parse_ward_codes("11446,99999")


def test_city_settings_from_the_environment(tmp_path):
    city = CitySettings.from_env({"WARD_CITY_DIR": str(tmp_path), "WARD_CODES": "10507,11446"})
    assert city.root == tmp_path.resolve()
    assert city.ward_codes() == ("10507", "11446")
    assert city.ward_data_dir("11446") == tmp_path / "wards" / "11446"
    assert city.ward_landing_dir("11446") == tmp_path / "landing" / "11446"
    assert city.city_db_path == tmp_path / "city" / "city.duckdb"
    assert CitySettings.from_env({}).root == DEFAULT_CITY_DIR


def test_without_ward_codes_the_ward_folders_of_landing_are_served(tmp_path):
    for name in ("11446", "10507", ".generate-tmp"):
        (tmp_path / "landing" / name).mkdir(parents=True)
    (tmp_path / "landing" / "notes.txt").write_text("not a ward")
    assert CitySettings(root=tmp_path).ward_codes() == ("10507", "11446")
    (tmp_path / "landing" / "phu_lien").mkdir()
    with pytest.raises(CitySettingsError, match=r"the ward folder .*phu_lien is refused"):
        CitySettings(root=tmp_path).ward_codes()


def test_no_landing_folder_serves_no_ward(tmp_path):
    assert CitySettings(root=tmp_path / "none").ward_codes() == ()


# The memory share ------------------------------------------------------------------------------
def test_each_ward_gets_its_share_of_the_budget():
    assert ward_share("8GiB", 4, 2) == ("4096MiB", 2)
    assert ward_share("8GiB", 4, 3) == (f"{8 * 1024 // 3}MiB", 1)
    assert ward_share("8GiB", 2, 4) == ("2048MiB", 1)  # never fewer than 1 thread
    assert ward_share("50%", 8, 4, total_memory=16 * GiB) == ("2048MiB", 2)
    assert ward_share(None, 2, 1, total_memory=10 * GiB) == (f"{int(10 * GiB * 0.4) // 1024**2}MiB", 2)


def test_a_share_below_what_a_build_needs_is_refused():
    with pytest.raises(CitySettingsError, match="is 102 MiB each, below the 128 MiB"):
        ward_share("512MiB", 4, 5)
    with pytest.raises(CitySettingsError, match="fewer than 1"):
        ward_share("8GiB", 4, 0)
    with pytest.raises(CitySettingsError, match="WARD_MEMORY_LIMIT is refused"):
        CitySettings.from_env({"WARD_MEMORY_LIMIT": "lots"})


def test_wards_at_once_never_more_than_the_wards(tmp_path):
    city = CitySettings(root=tmp_path, parallel=4)
    assert city.wards_at_once(3) == 3
    assert city.wards_at_once(10) == 4
    assert city.wards_at_once(10, parallel=2) == 2
    assert CitySettings.from_env({"WARD_CITY_PARALLEL": "3"}).wards_at_once(10) == 3


def test_each_ward_runs_on_its_own_roots_code_and_share(tmp_path):
    city = CitySettings(root=tmp_path)
    assert ward_environment(city, "10507", "2048MiB", 1) == {
        "WARD_DATA_DIR": str(tmp_path / "wards" / "10507"),
        "WARD_LANDING_DIR": str(tmp_path / "landing" / "10507"),
        "WARD_CODE": "10507",
        "WARD_MEMORY_LIMIT": "2048MiB",
        "WARD_THREADS": "1",
    }


# The city marts ---------------------------------------------------------------------------------
def _publish(city: CitySettings, code: str, residents: int, *, with_ward_code: bool) -> None:
    path = city.ward_warehouse(code)
    path.parent.mkdir(parents=True)
    column = f"'{code}' as ward_code, " if with_ward_code else ""
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            f"create table marts.mart_population_by_group as select {column}"
            f"date '2026-11-01' as snapshot_date, null::integer as residential_group_no, "
            f"{residents} as residents"
        )
        con.execute(f"create table marts.deliveries as select {column}'citizens/a.csv' as source_file")


def test_city_marts_are_the_union_of_the_published_wards_with_their_code(tmp_path):
    city = CitySettings(root=tmp_path)
    _publish(city, "11446", 290, with_ward_code=True)
    _publish(city, "10507", 289, with_ward_code=False)  # a publication from before ward_code
    built = build_city_marts(city, ("11446", "10507", "10525"))
    assert (built.wards, built.missing) == (("11446", "10507"), ("10525",))
    assert built.rows == {"mart_population_by_group": 2, "deliveries": 2}
    with duckdb.connect(str(built.path), read_only=True) as con:
        assert con.execute(
            "select ward_code, residents from marts.mart_population_by_group order by 1"
        ).fetchall() == [("10507", 289), ("11446", 290)]
        assert con.execute("select ward_code, status from marts.wards order by 1").fetchall() == [
            ("10507", "published"),
            ("10525", "missing"),
            ("11446", "published"),
        ]
    # no temp file left; the lake beside it: tests/unit/test_city_lake.py
    assert sorted(p.name for p in city.city_dir.iterdir()) == ["city.duckdb", "lake"]


# The Dagster assets -----------------------------------------------------------------------------
def _outcome(tmp_path: Path, code: str, exit_code: int) -> WardOutcome:
    return WardOutcome(
        code=code,
        exit_code=exit_code,
        seconds=1.5,
        log_path=tmp_path / f"{code}.log",
        warehouse=tmp_path / "none.duckdb",
        figures={"residents": 290, "dossiers": 75, "files_loaded": 59, "files_rejected": None},
    )


def test_a_ward_partition_reports_its_run_and_fails_alone(tmp_path, monkeypatch):
    city = CitySettings(root=tmp_path, memory_limit="2GiB", threads=2)
    exits = {"11446": 0, "10507": 1}
    monkeypatch.setattr(city_assets, "run_ward", lambda _c, code, *_: _outcome(tmp_path, code, exits[code]))
    defs = city_assets.build_city_definitions(city, ("11446", "10507"))
    job = defs.resolve_job_def(city_assets.WARD_BUILD_JOB)
    assert job.partitions_def.get_partition_keys() == ["11446", "10507"]
    instance = dg.DagsterInstance.ephemeral()

    ok = job.execute_in_process(instance=instance, partition_key="11446")
    (event,) = ok.get_asset_materialization_events()
    metadata = {k: v.value for k, v in event.materialization.metadata.items()}
    assert metadata["exit_code"] == 0 and metadata["residents"] == 290 and metadata["dossiers"] == 75
    assert metadata["memory_limit"] == "1024MiB" and metadata["threads"] == 1  # 2 wards at once
    assert metadata["log"] == str(tmp_path / "11446.log")

    failed = job.execute_in_process(instance=instance, partition_key="10507", raise_on_error=False)
    assert not failed.success
    (failure,) = [e.step_failure_data for e in failed.all_events if e.is_step_failure]
    assert "ward 10507: `ward run` exited 1" in failure.user_failure_data.description
    assert failure.user_failure_data.metadata["exit_code"].value == 1


def test_a_city_without_wards_says_what_to_set(tmp_path):
    with pytest.raises(CitySettingsError, match="No ward to serve: set WARD_CODES"):
        city_assets.build_city_definitions(CitySettings(root=tmp_path))


def test_a_ward_re_run_alone_leaves_every_served_ward_in_the_city_marts(tmp_path):
    from ward.city.run import wards_in_city_marts

    city = CitySettings(root=tmp_path)
    for code in ("11446", "10507", "10525"):
        (city.landing_dir / code).mkdir(parents=True)
    assert wards_in_city_marts(city, ("10525",)) == ("10507", "10525", "11446")
    # a ward run now but not (yet) served is not dropped either
    assert wards_in_city_marts(city, ("00004",)) == ("10507", "10525", "11446", "00004")
    served = CitySettings(root=tmp_path, ward_codes_given=("11446", "10507"))
    assert wards_in_city_marts(served, ("11446",)) == ("11446", "10507")
