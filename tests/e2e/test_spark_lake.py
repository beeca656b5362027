"""Spark reads the city lake: a small lake (the fabricated wards of tests/unit/test_city_lake.py, no
ward pipeline) read by pyspark in local mode, with partition discovery giving `ward_code`; its per-ward
figures are DuckDB's on city.duckdb (docs/scale.md, 3.1).

Skipped with its reason when pyspark or a Java runtime is missing (pyspark is in the `dev` extra;
Spark 4 needs Java 17 or later, e.g. `apt-get install openjdk-17-jre-headless`). Spark writes only
under the test's tmp dir, and its session is stopped at the end.
"""

from __future__ import annotations

import pytest

from tests.fixtures.spark import local_spark, why_spark_cannot_run
from tests.unit.test_city_lake import CODES, PUBLISHED, SUMMED, city_figures, publish_ward
from ward.city.marts import build_city_marts
from ward.city.settings import CitySettings

pytestmark = pytest.mark.e2e

MARTS = ("mart_population_by_group", "mart_service_kpis")


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    why = why_spark_cannot_run()
    if why:
        pytest.skip(why)
    with local_spark(tmp_path_factory.mktemp("spark"), "ward-city-lake-test") as session:
        yield session


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> CitySettings:
    city = CitySettings(root=tmp_path_factory.mktemp("city") / "city")
    publish_ward(city, "11446", 3)
    publish_ward(city, "00004", 5)
    build_city_marts(city, CODES)
    return city


@pytest.mark.parametrize("mart", MARTS)
def test_spark_reads_the_lake_as_the_city_marts(spark, city, mart):
    frame = spark.read.parquet(str(city.lake_dir / mart))
    assert dict(frame.dtypes)["ward_code"] == "string"
    figure = SUMMED[mart]
    rows = frame.groupBy("ward_code").agg({"*": "count", figure: "sum"}).collect()
    in_spark = sorted((r["ward_code"], r["count(1)"], r[f"sum({figure})"]) for r in rows)
    assert in_spark == city_figures(city, mart)
    assert [r[0] for r in in_spark] == list(PUBLISHED)  # 00004 kept as text; 10525 never published
