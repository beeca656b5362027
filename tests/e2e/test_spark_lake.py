"""Spark reads the city lake: a small lake (the fabricated wards of tests/unit/test_city_lake.py, no
ward pipeline) read by pyspark in local mode, with partition discovery giving `ward_code`; its per-ward
figures are DuckDB's on city.duckdb (docs/scale.md, 3.1).

Skipped with its reason when pyspark or a Java runtime is missing (pyspark is in the `dev` extra;
Spark 4 needs Java 17 or later, e.g. `apt-get install openjdk-17-jre-headless`). Spark writes only
under the test's tmp dir, and its session is stopped at the end.
"""

from __future__ import annotations

import importlib.util
import shutil

import pytest

from tests.unit.test_city_lake import CODES, PUBLISHED, SUMMED, city_figures, publish_ward
from ward.city.marts import build_city_marts
from ward.city.settings import CitySettings

pytestmark = pytest.mark.e2e

MARTS = ("mart_population_by_group", "mart_service_kpis")


def _why_not() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "the pyspark package is missing (pip install -e '.[dev]', which pins it)"
    if shutil.which("java") is None:
        return "no `java` on PATH: Spark 4 needs a Java 17+ runtime (apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    why = _why_not()
    if why:
        pytest.skip(why)
    from pyspark.sql import SparkSession

    scratch = tmp_path_factory.mktemp("spark")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("ward-city-lake-test")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "512m")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.local.dir", str(scratch / "local"))
        .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch / 'derby'}")
        # `ward_code` is text: 00004 must not become the integer 4
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


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
