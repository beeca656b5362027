"""Many wards, one deployment: three small generated wards run by `ward city run` (each its own
`ward run` process, in parallel), the city marts are the union of what they published, and a bad file
in one ward changes no other ward's published figures."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import duckdb
import polars as pl
import pytest
from rich.console import Console

from tests.e2e.test_pipeline import _as_text  # the truth comparison of the one-ward test
from ward.city.generate import generate_city
from ward.city.marts import CITY_MARTS
from ward.city.run import run_city
from ward.city.settings import CitySettings

pytestmark = pytest.mark.e2e

CODES = ("11446", "10507", "10525")  # Phù Liễn, Thành Đông, Hải Dương (Hải Phòng)
BAD_WARD = "10507"
BAD_FILE = "citizens/DS_cong_dan_phan_7_2026-12-01.csv"


def _run(city: CitySettings) -> tuple[int, str]:
    out = io.StringIO()
    code = run_city(city, Console(file=out, width=200), codes=CODES, parallel=3)
    return code, out.getvalue()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _published(city: CitySettings, code: str) -> dict[str, object]:
    """What a ward published: its warehouse's bytes, its exports' bytes, its marts' rows."""
    exports = city.ward_data_dir(code) / "exports"
    with duckdb.connect(str(city.ward_warehouse(code)), read_only=True) as con:
        marts = {m: con.execute(f"select * from marts.{m} order by all").fetchall() for m in CITY_MARTS}
    return {
        "warehouse": _sha256(city.ward_warehouse(code)),
        "exports": {
            str(p.relative_to(exports)): _sha256(p) for p in sorted(exports.rglob("*")) if p.is_file()
        },
        "marts": marts,
    }


def _city_rows(city: CitySettings, code: str) -> dict[str, list[tuple]]:
    with duckdb.connect(str(city.city_db_path), read_only=True) as con:
        return {
            m: con.execute(f"select * from marts.{m} where ward_code = ? order by all", [code]).fetchall()
            for m in CITY_MARTS
        }


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> CitySettings:
    city = CitySettings(root=tmp_path_factory.mktemp("city") / "city")
    generate_city(city, CODES, people=300, groups=3, seed=7)
    with pytest.MonkeyPatch.context() as mp:
        # 300-person wards: one person more or less in a group is over 5%; no snapshot held here.
        mp.setenv("WARD_HOLD_LOSS_SHARE", "1")
        code, output = _run(city)
        assert code == 0, output
    return city


def test_each_ward_published_its_own_truth(city):
    for code in CODES:
        truth = pl.read_csv(
            city.ward_data_dir(code) / "truth" / "mart_population_by_group.csv", infer_schema_length=0
        )
        with duckdb.connect(str(city.ward_warehouse(code)), read_only=True) as con:
            mart = con.sql("select * from marts.mart_population_by_group").pl()
        assert _as_text(mart, truth.columns) == _as_text(truth, truth.columns), code
        assert "ward_code" not in mart.columns or set(mart["ward_code"]) == {code}


def test_city_marts_are_the_union_of_the_wards_marts(city):
    with duckdb.connect(str(city.city_db_path), read_only=True) as con:
        assert con.execute("select ward_code, status from marts.wards order by 1").fetchall() == [
            (c, "published") for c in sorted(CODES)
        ]
        for mart in CITY_MARTS:
            assert sorted(
                r[0] for r in con.execute(f"select distinct ward_code from marts.{mart}").fetchall()
            ) == (sorted(CODES)), mart
            assert sorted(p.name for p in (city.lake_dir / mart).iterdir()) == [  # as Parquet too
                f"ward_code={c}" for c in sorted(CODES)
            ], mart
    for code in CODES:  # the city's rows of each ward are the ward's rows, column for column
        with duckdb.connect(str(city.city_db_path), read_only=True) as con:
            con.execute(f"attach '{city.ward_warehouse(code)}' as ward (read_only)")
            for mart in CITY_MARTS:
                described = con.execute(f"describe ward.marts.{mart}").fetchall()
                columns = ", ".join(f'"{r[0]}"' for r in described)
                in_city = f"select {columns} from marts.{mart} where ward_code = '{code}'"
                in_ward = f"select {columns} from ward.marts.{mart}"
                for a, b in ((in_city, in_ward), (in_ward, in_city)):
                    left = con.execute(f"select count(*) from ({a} except all {b})").fetchall()
                    assert left == [(0,)], mart


def test_a_bad_file_in_one_ward_changes_no_other_wards_figures(city):
    before = {code: _published(city, code) for code in CODES}
    city_before = {code: _city_rows(city, code) for code in CODES}
    bad = city.ward_landing_dir(BAD_WARD) / BAD_FILE
    bad.write_bytes(bytes(range(256)) * 20)  # garbage, named like a citizens snapshot

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WARD_HOLD_LOSS_SHARE", "1")
        code, output = _run(city)
    assert code == 0, output

    # the bad ward rejected the file, and said so in what it published
    with duckdb.connect(str(city.ward_warehouse(BAD_WARD)), read_only=True) as con:
        assert con.execute(
            "select status from marts.deliveries where source_file = ?", [BAD_FILE]
        ).fetchall() == [("rejected",)]
    with duckdb.connect(str(city.city_db_path), read_only=True) as con:
        assert con.execute(
            "select ward_code, status from marts.deliveries where source_file = ?", [BAD_FILE]
        ).fetchall() == [(BAD_WARD, "rejected")]
    # its figures are what they were (a rejected file adds nothing)
    assert (
        _published(city, BAD_WARD)["marts"]["mart_population_by_group"]
        == (before[BAD_WARD]["marts"]["mart_population_by_group"])
    )
    # every other ward: the same published bytes, and the same rows in the city marts
    for other in CODES:
        if other == BAD_WARD:
            continue
        assert _published(city, other) == before[other], other
        assert _city_rows(city, other) == city_before[other], other
