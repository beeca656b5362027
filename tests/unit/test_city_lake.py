"""The city lake (ward/city/lake.py): the city marts as Parquet partitioned by ward_code, read back
with DuckDB's hive partitioning; replaced whole by each build. Small fabricated ward warehouses, no
ward pipeline (tests/e2e/test_spark_lake.py reads the same lake with Spark)."""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb
import pytest

from ward.city import lake as city_lake
from ward.city.marts import build_city_marts
from ward.city.settings import CitySettings

# Phù Liễn, Ba Đình (leading zeros: the code stays text), and a ward never published.
CODES = ("11446", "00004", "10525")
PUBLISHED = ("00004", "11446")
# The marts the fabricated warehouses carry, and a figure of each to sum per ward.
SUMMED = {"mart_population_by_group": "residents", "mart_service_kpis": "received", "deliveries": "rows_in"}


def publish_ward(city: CitySettings, code: str, scale: int) -> None:
    """A ward's published warehouse with three marts of a few rows each (figures grow with `scale`)."""
    path = city.ward_warehouse(code)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            f"""create table marts.mart_population_by_group as
            select '{code}' as ward_code, d::date as snapshot_date, g::integer as residential_group_no,
                   ({scale} * 100 + coalesce(g, 0) * 7)::bigint as residents,
                   ({scale} * 40 + coalesce(g, 0))::bigint as households
            from unnest([date '2026-10-01', date '2026-11-01']) as s(d),
                 unnest([1, 2, 3, null]) as t(g)"""
        )
        con.execute(
            f"""create table marts.mart_service_kpis as
            select '{code}' as ward_code, m::date as month, p as procedure_code,
                   ({scale} * 10 + len(p))::bigint as received,
                   ({scale} * 9)::bigint as finished, 0.5::double as on_time_rate
            from unnest([date '2026-09-01', date '2026-10-01']) as s(m),
                 unnest(['1.001', '2.002', 'ALL']) as t(p)"""
        )
        con.execute(
            f"""create table marts.deliveries as
            select '{code}' as ward_code, 'citizens' as source, 'DS_cong_dan_' || i || '.csv' as file_name,
                   if(i = 3, 'rejected', 'loaded') as status, (i * {scale})::bigint as rows_in,
                   timestamp '2026-11-28 08:00:00' + to_minutes(i) as loaded_at
            from range(1, 4) as r(i)"""
        )


@pytest.fixture
def city(tmp_path) -> CitySettings:
    city = CitySettings(root=tmp_path / "city")
    publish_ward(city, "11446", 3)
    publish_ward(city, "00004", 5)
    return city


def lake_figures(lake: Path, mart: str) -> list[tuple]:
    """Per ward: rows and the sum of the mart's figure, read from the lake (ward_code kept as text)."""
    with duckdb.connect() as con:
        return con.execute(
            f"select ward_code, count(*), sum({SUMMED[mart]}) from read_parquet(?, hive_partitioning = "
            "true, hive_types = {'ward_code': 'varchar'}) group by all order by all",
            [str(lake / mart / "*" / "*.parquet")],
        ).fetchall()


def city_figures(city: CitySettings, mart: str) -> list[tuple]:
    with duckdb.connect(str(city.city_db_path), read_only=True) as con:
        return con.execute(
            f"select ward_code, count(*), sum({SUMMED[mart]}) from marts.{mart} group by all order by all"
        ).fetchall()


def test_each_mart_is_partitioned_by_the_published_wards_codes(city):
    built = build_city_marts(city, CODES)
    assert built.lake == city.lake_dir == city.city_dir / "lake"
    assert sorted(p.name for p in city.city_dir.iterdir()) == ["city.duckdb", "lake"]  # nothing staged
    assert sorted(p.name for p in built.lake.iterdir()) == sorted(SUMMED)
    for mart in SUMMED:
        partitions = sorted(p.name for p in (built.lake / mart).iterdir())
        assert partitions == [f"ward_code={c}" for c in PUBLISHED], mart  # none for 10525
        for partition in (built.lake / mart).iterdir():
            files = list(partition.iterdir())
            assert files and all(f.name.startswith("city-") and f.suffix == ".parquet" for f in files)
    # owner-only, as city.duckdb
    for path in [built.lake, *built.lake.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    assert stat.S_IMODE(built.path.stat().st_mode) == 0o600


def test_the_lake_reads_back_as_the_city_marts(city):
    built = build_city_marts(city, CODES)
    for mart in SUMMED:
        assert lake_figures(built.lake, mart) == city_figures(city, mart), mart
        assert [r[0] for r in lake_figures(built.lake, mart)] == list(PUBLISHED)
    with duckdb.connect(str(built.path), read_only=True) as con:  # and row for row, both ways
        for mart in SUMMED:
            columns = ", ".join(f'"{r[0]}"' for r in con.execute(f"describe marts.{mart}").fetchall())
            files = str(built.lake / mart / "*" / "*.parquet")
            in_lake = (
                f"select {columns} from read_parquet('{files}', hive_partitioning = true, "
                "hive_types = {'ward_code': 'varchar'})"
            )
            in_city = f"select {columns} from marts.{mart}"
            for a, b in ((in_lake, in_city), (in_city, in_lake)):
                assert con.execute(f"select count(*) from ({a} except all {b})").fetchall() == [(0,)], mart


def test_a_rebuild_replaces_the_lake_whole(city):
    first = build_city_marts(city, CODES)
    old_files = {p.name for p in first.lake.rglob("*.parquet")}
    city.ward_warehouse("00004").unlink()  # no longer published
    publish_ward(city, "11446", 4)  # new figures
    second = build_city_marts(city, CODES)
    assert second.missing == ("00004", "10525")
    for mart in SUMMED:
        assert sorted(p.name for p in (second.lake / mart).iterdir()) == ["ward_code=11446"], mart
        assert lake_figures(second.lake, mart) == city_figures(city, mart), mart
    assert lake_figures(second.lake, "mart_population_by_group")[0][2] == 8 * 400 + 2 * (7 + 14 + 21)
    assert not old_files & {p.name for p in second.lake.rglob("*.parquet")}  # each build its own names
    assert sorted(p.name for p in city.city_dir.iterdir()) == ["city.duckdb", "lake"]


def test_a_build_that_fails_leaves_the_lake_as_it_was(city, monkeypatch):
    first = build_city_marts(city, CODES)
    before = sorted(str(p.relative_to(first.lake)) for p in first.lake.rglob("*"))
    publish_ward(city, "11446", 9)

    def broken(path: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(city_lake, "make_private", broken)
    with pytest.raises(OSError, match="disk full"):
        build_city_marts(city, CODES)
    assert sorted(str(p.relative_to(first.lake)) for p in first.lake.rglob("*")) == before
    assert sorted(p.name for p in city.city_dir.iterdir()) == ["city.duckdb", "lake"]  # nothing staged
    assert lake_figures(first.lake, "mart_service_kpis") == city_figures(city, "mart_service_kpis")


def test_no_ward_published_gives_an_empty_lake(tmp_path):
    city = CitySettings(root=tmp_path / "city")
    built = build_city_marts(city, ("11446",))
    assert built.missing == ("11446",) and list(built.lake.iterdir()) == []
