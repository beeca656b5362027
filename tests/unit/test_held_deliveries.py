"""ward.deliveries at ingest: held snapshots and dossier extracts, release, withdraw, supersede."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ward.deliveries import actions, lake
from ward.deliveries.hold import Persons, loss
from ward.ingest.ledger import read_ledger
from ward.ingest.load import ingest_landing
from ward.settings import Settings, SettingsError

NOW = datetime(2026, 12, 4, 3, 0)  # UTC; the ward's today is 2026-12-04
CITIZENS = (
    "citizen_id,full_name,date_of_birth,sex,residence_type,household_id,relation_to_head,residential_group"
)
DOSSIERS = (
    "record_id,procedure_code,procedure_name,applicant_name,channel,received_at,due_at,status,updated_at"
)


def _citizens(settings: Settings, name: str, groups: dict[int, range]) -> Path:
    lines = [CITIZENS]
    for group, people in groups.items():
        for n in people:
            lines.append(
                f"0010800{n:05d},Nguyễn Văn {n},01/01/1980,Nam,Thường trú,H{n},Chủ hộ,Tổ dân phố số {group}"
            )
    path = settings.landing_dir / "citizens" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _dossiers(settings: Settings, name: str, rows: int, ahead: int) -> Path:
    lines = [DOSSIERS]
    for n in range(rows):
        updated = "2027-03-01" if n < ahead else "2026-11-30"
        lines.append(
            f"HS{n},P1,Cấp giấy,Trần Thị {n},Trực tiếp,2026-11-20,2026-11-25,Mới tiếp nhận,{updated}"
        )
    path = settings.landing_dir / "service_records" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ledger(settings: Settings) -> dict[str, dict]:
    """The latest ledger row per landing path."""
    rows = read_ledger(settings).sort("loaded_at").iter_rows(named=True)
    return {r["source_file"]: r for r in rows}


def _status(settings: Settings) -> dict[tuple[str, str], str]:
    return {
        (r["source_file"], r["sha256"][:8]): r["status"] for r in read_ledger(settings).iter_rows(named=True)
    }


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)


def _first_snapshot(settings: Settings) -> None:
    _citizens(settings, "cong_dan_2026-10-01.csv", {1: range(0, 40), 2: range(40, 80), 3: range(80, 120)})
    ingest_landing(settings, NOW)


def test_a_snapshot_losing_a_group_is_held_with_its_figures(settings: Settings):
    _first_snapshot(settings)
    _citizens(settings, "cong_dan_2026-11-01.csv", {1: range(0, 40), 2: range(40, 80)})
    report = ingest_landing(settings, NOW)
    assert [f.status for f in report.files if f.source_file.endswith("11-01.csv")] == ["held"]
    row = _ledger(settings)["citizens/cong_dan_2026-11-01.csv"]
    assert row["status"] == "held"
    assert "120 → 80 persons" in row["reason_en"] and "Tổ dân phố 3: 40 → 0" in row["reason_en"]
    assert (
        "120 → 80 người" in row["reason_vi"]
        and "ward release citizens/cong_dan_2026-11-01.csv" in row["reason_vi"]
    )
    assert row["raw_path"].startswith("raw/held/citizens/")
    assert (settings.data_dir / row["raw_path"]).exists()
    assert not (settings.raw_source_dir("citizens") / f"{row['sha256']}.parquet").exists()
    (entry,) = lake.read_audit(settings)
    assert entry["action"] == "held" and entry["by"] and entry["source_file"] == row["source_file"]


def test_small_losses_and_tiny_groups_do_not_hold(settings: Settings):
    _citizens(
        settings,
        "cong_dan_2026-10-01.csv",
        {1: range(0, 40), 2: range(40, 80), 3: range(80, 120), 9: range(120, 123)},
    )
    ingest_landing(settings, NOW)
    # group 1 loses 1 of 40 (2.5%), the tiny group 9 (3 persons < 20) all: the ward 4 of 123 (3.3%)
    _citizens(settings, "cong_dan_2026-11-01.csv", {1: range(1, 40), 2: range(40, 80), 3: range(80, 120)})
    ingest_landing(settings, NOW)
    assert _ledger(settings)["citizens/cong_dan_2026-11-01.csv"]["status"] == "loaded"
    figures = loss(Persons(123, {1: 40, 9: 3}), Persons(119, {1: 39}))
    assert figures.group == 1 and not figures.exceeds(0.05)


def test_a_held_snapshot_is_used_once_its_other_files_arrive(settings: Settings):
    _first_snapshot(settings)
    _citizens(settings, "cong_dan_to_1_2_2026-11-01.csv", {1: range(0, 40), 2: range(40, 80)})
    ingest_landing(settings, NOW)
    assert _ledger(settings)["citizens/cong_dan_to_1_2_2026-11-01.csv"]["status"] == "held"
    _citizens(settings, "cong_dan_to_3_2026-11-01.csv", {3: range(80, 119)})
    ingest_landing(settings, NOW)
    ledger = _ledger(settings)
    for name in ("cong_dan_to_1_2_2026-11-01.csv", "cong_dan_to_3_2026-11-01.csv"):
        row = ledger[f"citizens/{name}"]
        assert row["status"] == "loaded" and row["reason_en"] is None
        assert row["raw_path"] == f"raw/citizens/{row['sha256']}.parquet"
        assert (settings.data_dir / row["raw_path"]).exists()
    assert [a["action"] for a in lake.read_audit(settings)] == ["held", "released"]


def test_replaying_every_file_in_one_run_holds_the_same(settings: Settings):
    _citizens(settings, "cong_dan_2026-10-01.csv", {1: range(0, 40), 2: range(40, 80), 3: range(80, 120)})
    _citizens(settings, "cong_dan_2026-11-01.csv", {1: range(0, 40), 2: range(40, 80)})
    ingest_landing(settings, NOW)
    ledger = _ledger(settings)
    assert ledger["citizens/cong_dan_2026-10-01.csv"]["status"] == "loaded"
    assert ledger["citizens/cong_dan_2026-11-01.csv"]["status"] == "held"


def test_the_share_is_a_setting(tmp_path: Path):
    settings = Settings.from_env({"WARD_DATA_DIR": str(tmp_path), "WARD_HOLD_LOSS_SHARE": "40%"})
    assert settings.hold_loss_share == 0.4
    assert Settings.from_env({"WARD_DATA_DIR": str(tmp_path)}).hold_loss_share == 0.05
    for bad in ("abc", "1.5", "-0.1", "nan"):
        with pytest.raises(SettingsError, match="WARD_HOLD_LOSS_SHARE"):
            Settings.from_env({"WARD_DATA_DIR": str(tmp_path), "WARD_HOLD_LOSS_SHARE": bad})
    _first_snapshot(settings)
    # every group loses 30%: held under the default 5%, used under 40%
    _citizens(settings, "cong_dan_2026-11-01.csv", {1: range(0, 28), 2: range(40, 68), 3: range(80, 108)})
    ingest_landing(settings, NOW)
    assert _ledger(settings)["citizens/cong_dan_2026-11-01.csv"]["status"] == "loaded"


def test_a_path_sent_again_supersedes_its_earlier_delivery(settings: Settings):
    _first_snapshot(settings)
    old_sha = _ledger(settings)["citizens/cong_dan_2026-10-01.csv"]["sha256"]
    path = _citizens(
        settings, "cong_dan_2026-10-01.csv", {1: range(0, 38), 2: range(40, 80), 3: range(80, 120)}
    )
    os.utime(path, (NOW.timestamp() + 60, NOW.timestamp() + 60))
    ingest_landing(settings, NOW)
    rows = {r["sha256"]: r for r in read_ledger(settings).iter_rows(named=True)}
    assert len(rows) == 2
    old = rows.pop(old_sha)
    (new,) = rows.values()
    assert old["status"] == "superseded" and new["status"] == "loaded"
    assert new["sha256"][:12] in old["reason_en"] and new["sha256"][:12] in old["reason_vi"]
    assert old["raw_path"] == f"raw/superseded/citizens/{old_sha}.parquet"
    assert (settings.data_dir / old["raw_path"]).exists()
    assert {p.stem for p in settings.raw_source_dir("citizens").glob("*.parquet")} == {
        "_empty",
        new["sha256"],
    }
    assert lake.rebuild_token(settings)  # its rows were built: the next run rebuilds whole
    assert [a["action"] for a in lake.read_audit(settings)] == ["superseded"]


def test_dossiers_dated_ahead_are_held(settings: Settings):
    _dossiers(settings, "ho_so_2026-12-01.csv", rows=50, ahead=2)  # 4% ahead of the extract date
    _dossiers(settings, "ho_so_2026-12-02.csv", rows=200, ahead=2)  # 1%: not more than 1%
    ingest_landing(settings, NOW)
    ledger = _ledger(settings)
    held = ledger["service_records/ho_so_2026-12-01.csv"]
    assert held["status"] == "held" and "2 of 50 rows" in held["reason_en"]
    assert ledger["service_records/ho_so_2026-12-02.csv"]["status"] == "loaded"


def test_release_and_withdraw_move_the_delivery_and_are_audited(settings: Settings):
    _first_snapshot(settings)
    _citizens(settings, "cong_dan_2026-11-01.csv", {1: range(0, 40)})
    ingest_landing(settings, NOW)
    with pytest.raises(actions.NoSuchDelivery, match="only a delivery held or withdrawn"):
        actions.release(settings, "cong_dan_2026-10-01.csv")
    with pytest.raises(actions.NoSuchDelivery, match="No delivery named"):
        actions.withdraw(settings, "nothing.csv")

    released = actions.release(settings, str(settings.landing_dir / "citizens" / "cong_dan_2026-11-01.csv"))
    assert released.previous_status == "held" and released.row.status == "loaded" and not released.rebuild
    assert (settings.raw_source_dir("citizens") / f"{released.row.sha256}.parquet").exists()
    assert lake.rebuild_token(settings) is None  # new rows only: the incremental run takes them

    withdrawn = actions.withdraw(settings, released.row.sha256[:12])
    assert withdrawn.row.status == "withdrawn" and withdrawn.rebuild
    assert withdrawn.row.raw_path == f"raw/withdrawn/citizens/{released.row.sha256}.parquet"
    assert "audit/deliveries.jsonl" in withdrawn.row.reason_en
    assert lake.rebuild_token(settings)
    assert _ledger(settings)["citizens/cong_dan_2026-11-01.csv"]["status"] == "withdrawn"
    audit = lake.read_audit(settings)
    assert [(a["action"], a["via"]) for a in audit] == [
        ("held", "ward run (ingest)"),
        ("released", "ward release"),
        ("withdrawn", "ward withdraw"),
    ]
    assert all(a["by"] == lake.who() for a in audit)

    # The same bytes are not read again: the next ingest leaves it withdrawn.
    ingest_landing(settings, NOW)
    assert _ledger(settings)["citizens/cong_dan_2026-11-01.csv"]["status"] == "withdrawn"


def test_a_rebuild_request_lasts_until_phase_two_has_rebuilt_for_it(settings: Settings):
    settings.build_db_path.parent.mkdir(parents=True)
    con = duckdb.connect(str(settings.build_db_path))
    con.execute("create schema staging")
    con.execute("create table staging.stg_landing__citizens as select 'gone' as file_sha256")
    settings.raw_source_dir("citizens").mkdir(parents=True)
    with con:
        # staged rows of a file gone
        assert lake.full_rebuild_due(settings, "dbt_staging", con) == "files gone"
        assert lake.full_rebuild_due(settings, "dbt_downstream", con) is None
        lake.full_rebuild_done(settings, "dbt_staging", "files gone", con)
        assert lake.full_rebuild_due(settings, "dbt_downstream", con) == "files gone"
        lake.full_rebuild_done(settings, "dbt_downstream", "files gone", con)
        assert lake.full_rebuild_due(settings, "dbt_downstream", con) is None

        con.execute("delete from staging.stg_landing__citizens")
        lake.request_rebuild(settings, "first")
        token = lake.full_rebuild_due(settings, "dbt_staging", con)
        lake.full_rebuild_done(settings, "dbt_staging", token, con)
        lake.request_rebuild(settings, "second, during the run")
        assert lake.full_rebuild_due(settings, "dbt_downstream", con) == token
        lake.full_rebuild_done(settings, "dbt_downstream", token, con)
        assert lake.rebuild_token(settings)  # the second request waits for the next run
        assert json.loads(lake.rebuild_path(settings).read_text())["requests"] == [
            "first",
            "second, during the run",
        ]
        assert lake.full_rebuild_due(settings, "dbt_staging", con) == lake.rebuild_token(settings)


def test_the_ledger_takes_the_new_statuses(settings: Settings):
    _first_snapshot(settings)
    statuses = read_ledger(settings).get_column("status").to_list()
    assert statuses == ["loaded"]
    assert read_ledger(settings).schema["status"] == pl.String()
