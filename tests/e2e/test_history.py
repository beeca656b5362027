"""End to end: history is kept, and it does not depend on how the extracts arrived.

The small ward of test_pipeline.py arrives in two steps (the files of the first citizens extract
date, then the rest, each followed by a run), so the history snapshots are taken one date per run.
The events and their monthly counts must equal the generator's truth (computed from the clean
snapshots, persons matched by person_seq), and replaying every landing file into an empty data root
in one run must give the same history rows, validity dates included.
"""

from __future__ import annotations

import shutil

import duckdb
import polars as pl
import pytest

from tests.e2e.test_pipeline import _as_text
from tests.fixtures.pipeline import run_ward
from ward.build_state import processed_items
from ward.generate import generate_ward
from ward.generate.truth import EVENT_COLUMNS as TRUTH_EVENT_COLUMNS
from ward.settings import Settings

pytestmark = pytest.mark.e2e

KEY = "e2e-test-key-0123456789abcdef"
PEOPLE = 1_500
# The event columns the truth and the mart share (the truth also has person_seq, citizen_id).
EVENT_COLUMNS = [c for c in TRUTH_EVENT_COLUMNS if c not in ("person_seq", "citizen_id")]


def _move_tree(files: list[str], source, target) -> None:
    for name in files:  # a rename keeps the mtime some extract dates come from
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).rename(target / name)


@pytest.fixture(scope="module")
def ward_history(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("ward")
    generate_ward(data_dir, people=PEOPLE, groups=6, seed=7)
    settings = Settings(data_dir=data_dir, shared_export_key=KEY)
    files = pl.read_csv(settings.truth_dir / "files.csv", infer_schema_length=0)
    first = files.filter(pl.col("source") == "citizens")["extract_date"].min()
    later = files.filter(pl.col("extract_date") > first)["source_file"].to_list()
    held = tmp_path_factory.mktemp("held")
    _move_tree(later, settings.landing_dir, held)
    first_code = run_ward(settings)
    _move_tree(later, held, settings.landing_dir)
    second_code = run_ward(settings)
    return settings, first_code, second_code


def _sql(settings: Settings, query: str) -> pl.DataFrame:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(query).pl()


def _truth(settings: Settings, name: str) -> pl.DataFrame:
    return pl.read_csv(settings.truth_dir / f"{name}.csv", infer_schema_length=0)


def test_both_runs_succeed(ward_history):
    _, first_code, second_code = ward_history
    assert (first_code, second_code) == (0, 0)


def test_residence_events_equal_truth(ward_history):
    """Every event with all its attributes, and the person through the citizen_id of the identity.

    The truth knows each person's citizen_id; the pipeline knows it when at least one row of the
    person delivered a valid one (identity.persons). Where it does not, the event is compared on its
    other columns only: the comparison is exact either way, as a multiset of rows.
    """
    settings, _, _ = ward_history
    got = _sql(
        settings,
        "select e.*, p.citizen_id from marts.fct_residence_event as e "
        "left join identity.persons as p using (person_key)",
    ).with_columns(pl.col("is_event_date_exact").cast(pl.String))  # true/false, as the truth writes it
    truth = _truth(settings, "residence_events")
    known = set(got["citizen_id"].drop_nulls())
    truth = truth.with_columns(
        citizen_id=pl.when(pl.col("citizen_id").is_in(list(known))).then(pl.col("citizen_id"))
    )
    assert truth.height > 0 and set(truth["event_type"]) >= {"birth", "move_in", "move_out"}
    columns = ["citizen_id", *EVENT_COLUMNS]
    assert _as_text(got, columns) == _as_text(truth, columns)
    assert got["citizen_id"].null_count() <= got.height // 5  # most events name their person
    assert got["event_id"].n_unique() == got.height


def test_population_change_equals_truth(ward_history):
    settings, _, _ = ward_history
    truth = _truth(settings, "mart_population_change")
    mart = _sql(settings, "select * from marts.mart_population_change")
    assert mart.height == truth.height
    assert _as_text(mart, truth.columns) == _as_text(truth, truth.columns)


def test_snapshots_version_changed_persons_and_close_those_who_left(ward_history):
    settings, _, _ = ward_history
    events = _sql(settings, "select person_key, event_type, snapshot_date from marts.fct_residence_event")
    versions = _sql(
        settings,
        "select person_key, dbt_valid_from::date as valid_from, dbt_valid_to::date as valid_to, "
        "dbt_is_deleted from history.snp_persons order by person_key, dbt_valid_from",
    )
    taken = _sql(
        settings, "select cast(item as date) as day from pipeline_state.processed where step = 'history'"
    )
    first, second = sorted(taken["day"])
    by_person = versions.group_by("person_key", maintain_order=True).agg(pl.all())
    history = {row["person_key"]: row for row in by_person.iter_rows(named=True)}
    changed = events.filter(
        pl.col("event_type").is_in(["death", "household_change", "residence_type_change"])
    )["person_key"]
    assert changed.len() > 0
    for key in changed.unique():
        row = history[key]
        assert row["valid_from"] == [first, second] and row["valid_to"] == [second, None], key
        assert row["dbt_is_deleted"] == ["False", "False"]
    for key in events.filter(pl.col("event_type") == "move_out")["person_key"]:
        row = history[key]  # the last version closed, then a closing record from the next extract
        assert row["valid_from"] == [first, second] and row["valid_to"] == [second, None], key
        assert row["dbt_is_deleted"] == ["False", "True"]
    for key in events.filter(pl.col("event_type").is_in(["birth", "move_in"]))["person_key"]:
        assert history[key]["valid_from"] == [second] and history[key]["valid_to"] == [None]
    unchanged = set(history) - set(events["person_key"])
    assert all(history[key]["valid_to"] == [None] for key in unchanged)


def test_each_date_is_taken_from_the_build_database_and_none_is_left_behind(ward_history):
    """The snapshots read their date from history.snapshot_as_of (no --vars, which would make dbt
    parse the whole project again); after the run no date is left for a hand `dbt snapshot`."""
    settings, _, _ = ward_history
    with duckdb.connect(str(settings.build_db_path), read_only=True) as con:
        left = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'history' and table_name = 'snapshot_as_of'"
        ).fetchone()[0]
        taken = len(processed_items(con, "history"))
    assert (left, taken) == (0, 2)


def test_replaying_landing_in_one_run_gives_the_same_history(ward_history, tmp_path):
    settings, _, _ = ward_history
    replay = Settings(data_dir=tmp_path / "replay", shared_export_key=KEY)
    shutil.copytree(settings.landing_dir, replay.landing_dir)
    for path in replay.landing_dir.rglob("*"):  # keep the mtimes some extract dates come from
        shutil.copystat(settings.landing_dir / path.relative_to(replay.landing_dir), path)
    assert run_ward(replay) == 0
    for table, key in [
        ("history.snp_persons", "person_key"),
        ("history.snp_households", "household_id"),
        ("marts.fct_residence_event", "event_id"),
        ("marts.mart_population_change", "month, residential_group_no"),
    ]:
        query = f"select * from {table} order by {key}" + (
            ", dbt_valid_from" if table.startswith("history") else ""
        )
        before, after = _sql(settings, query), _sql(replay, query)
        assert before.height > 0, table
        assert after.equals(before), table


def test_a_hand_run_snapshot_without_a_date_refuses_and_says_how(ward_history, tmp_path, monkeypatch):
    """Outside the history asset no date is set: `dbt snapshot` must write nothing, and say why."""
    from dbt.cli.main import dbtRunner

    from ward.private_apis import release_duckdb
    from ward.settings import DBT_PROJECT_DIR

    settings, _, _ = ward_history
    for name, value in settings.dbt_env().items():
        monkeypatch.setenv(name, value)
    with duckdb.connect(str(settings.build_db_path), read_only=True) as con:
        before = con.execute("select count(*) from history.snp_persons").fetchone()[0]
    folders = ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]
    try:
        result = dbtRunner().invoke(
            ["snapshot", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
             *folders, "--quiet"]
        )  # fmt: skip
    finally:
        release_duckdb()
    messages = " ".join(str(r.message) for r in (result.result or [])) + str(result.exception or "")
    assert not result.success
    assert "run them through the history asset" in messages
    with duckdb.connect(str(settings.build_db_path), read_only=True) as con:
        after = con.execute("select count(*) from history.snp_persons").fetchone()[0]
    assert after == before
