"""Deliveries that must not replace the ward: a partial citizens snapshot is held (ward.deliveries),
`ward release` uses it, `ward withdraw` rebuilds as if it had never come, and a file delivered again
under the same name supersedes the earlier delivery. One generated ward, built once; each scenario on
a copy of its data root."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest
from rich.console import Console

from tests.fixtures.pipeline import run_ward
from ward.cli.deliveries import release_command, withdraw_command
from ward.deliveries.lake import read_audit, rebuild_path
from ward.generate import generate_ward
from ward.ingest.extract_date import ward_today
from ward.settings import Settings

pytestmark = pytest.mark.e2e

KEY = "k" * 32
TEMPLATE = "DS_cong_dan_to_06_2026-11-01.csv"  # UTF-8, comma, Vietnamese headers, dd/mm/yyyy
RESENT = "danh_sach_cong_dan_to_01_20261101.csv"  # UTF-8 with BOM, semicolon, ASCII headers, d/m/yyyy


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("held") / "ward"
    generate_ward(root, people=1500, groups=6, seed=7)
    assert run_ward(Settings(data_dir=root, shared_export_key=KEY)) == 0
    return root


def _copy(built: Path, tmp_path: Path) -> Settings:
    root = tmp_path / "ward"
    shutil.copytree(built, root, symlinks=True)  # copy2: modification times (mtime-dated files) kept
    return Settings(data_dir=root, shared_export_key=KEY)


def _query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _state(settings: Settings) -> dict[str, list[tuple]]:
    return {
        "population": _query(settings, "select * from marts.mart_population_by_group order by all"),
        "citizens": _query(settings, "select * from marts.dim_citizen order by all"),
        "change": _query(settings, "select * from marts.mart_population_change order by all"),
        "events": _query(settings, "select * from marts.fct_residence_event order by all"),
    }


def _delivery(settings: Settings, source_file: str) -> list[dict]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        cur = con.execute(
            "select * from marts.deliveries where source_file = ? order by loaded_at", [source_file]
        )
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _run(settings: Settings) -> str:
    out = io.StringIO()
    assert run_ward(settings, out) == 0, out.getvalue()
    return out.getvalue()


def test_a_partial_snapshot_is_held_released_and_withdrawn(built: Path, tmp_path: Path):
    settings = _copy(built, tmp_path)
    before = _state(settings)
    latest = _query(
        settings,
        "select max(extract_date) from marts.deliveries where source = 'citizens' and status = 'loaded'",
    )[0][0]
    day_after = latest + timedelta(days=1)
    assert day_after <= ward_today()  # a date after the latest snapshot, not in the future
    template = (settings.landing_dir / "citizens" / TEMPLATE).read_text(encoding="utf-8")
    header, first, second = list(csv.reader(io.StringIO(template)))[:3]
    column = {name: i for i, name in enumerate(header)}
    newborn = list(second)  # a person never listed before, with a birth date of 2199 (kept, flagged)
    newborn[column["Số định danh cá nhân"]] = newborn[column["Số định danh cá nhân"]][:6] + "999991"
    newborn[column["Họ và tên"]] = "Phạm Thị Tương Lai"
    newborn[column["Ngày sinh"]] = "01/01/2199"
    name = f"DS_cong_dan_{day_after.isoformat()}.csv"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, first, newborn])
    (settings.landing_dir / "citizens" / name).write_text(buffer.getvalue(), encoding="utf-8")

    # Held: nothing built from it, listed with its figures.
    output = _run(settings)
    assert "held" in output and name in output
    assert _state(settings) == before
    (held,) = _delivery(settings, f"citizens/{name}")
    assert held["status"] == "held" and held["rows_in"] == 2 and held["rows_kept"] is None
    assert "→ 2 persons" in held["reason_en"] and "Tổ dân phố" in held["reason_en"]
    assert "người" in held["reason_vi"]

    # Released: the next run uses it; a birth date after the snapshot stretches no month.
    said = io.StringIO()
    assert release_command(settings, Console(file=said, width=200), f"citizens/{name}") == 0
    assert "Released" in said.getvalue()
    _run(settings)
    (used,) = _delivery(settings, f"citizens/{name}")
    assert used["status"] == "loaded" and used["rows_kept"] + used["rows_quarantined"] == 2
    dates = {r[0] for r in _query(settings, "select snapshot_date from marts.mart_population_by_group")}
    assert day_after in dates
    last_month = _query(settings, "select max(month) from marts.mart_population_change")[0][0]
    assert last_month == day_after.replace(day=1)
    assert _query(
        settings, "select count(*) from marts.fct_residence_event where event_date > snapshot_date"
    ) == [(0,)]
    assert _query(
        settings, "select count(*) from marts.fct_residence_event where event_date >= '2100-01-01'"
    ) == [(0,)]

    # Withdrawn: the next run is as if it had never come.
    said = io.StringIO()
    assert withdraw_command(settings, Console(file=said, width=200), name) == 0
    assert "rebuilds everything" in said.getvalue() and rebuild_path(settings).exists()
    _run(settings)
    assert not rebuild_path(settings).exists()
    assert _state(settings) == before
    (gone,) = _delivery(settings, f"citizens/{name}")
    assert gone["status"] == "withdrawn" and gone["rows_kept"] is None
    audit = [(a["action"], a["source_file"]) for a in read_audit(settings)]
    assert audit == [(a, f"citizens/{name}") for a in ("held", "released", "withdrawn")]
    assert all(a["by"] and a["at"] for a in read_audit(settings))


def test_a_file_sent_again_supersedes_its_earlier_delivery(built: Path, tmp_path: Path):
    settings = _copy(built, tmp_path)
    path = settings.landing_dir / "citizens" / RESENT
    text = path.read_text(encoding="utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    id_col, dob_col = header.index("SO DINH DANH CA NHAN"), header.index("NGAY SINH")
    listed = {
        r[0]
        for r in _query(settings, "select citizen_id from marts.dim_citizen where citizen_id is not null")
    }
    counts: dict[str, int] = {}
    for row in rows:
        counts[row[id_col]] = counts.get(row[id_col], 0) + 1
    unique = [i for i, row in enumerate(rows) if row[id_col] in listed and counts[row[id_col]] == 1]
    removed = {rows[i][id_col] for i in unique[:10]}
    redated = rows[unique[10]]
    day, month, year = redated[dob_col].split("/")
    new_birth = f"{int(year) - 1:04d}-{int(month):02d}-{int(day):02d}"
    redated[dob_col] = f"{day}/{month}/{int(year) - 1}"
    kept_rows = [row for row in rows if row[id_col] not in removed]
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows([header, *kept_rows])
    path.write_text(buffer.getvalue(), encoding="utf-8-sig")

    _run(settings)
    now_listed = {r[0] for r in _query(settings, "select citizen_id from marts.dim_citizen")}
    assert removed and not removed & now_listed
    birth = _query(
        settings,
        "select cast(date_of_birth as varchar) from marts.dim_citizen where citizen_id = ?".replace(
            "?", f"'{redated[id_col]}'"
        ),
    )
    assert birth == [(new_birth,)]
    old, new = _delivery(settings, f"citizens/{RESENT}")
    assert old["status"] == "superseded" and new["sha256"][:12] in old["reason_en"]
    assert old["rows_kept"] is None and new["status"] == "loaded"
    assert new["rows_in"] == len(kept_rows) == new["rows_kept"] + new["rows_quarantined"]
    assert [a["action"] for a in read_audit(settings)] == ["superseded"]
