"""The ward instance's event log (ward/private_apis.py): Dagster's SQLite storage with its
connections kept open must still store every event, put it in the run's database file (what the UI's
live view watches), and keep a bounded number of databases open."""

import shutil
import sqlite3
import threading
import time

import dagster as dg
import pytest
import yaml

from ward.cli.instance import use_ward_instance
from ward.private_apis import CHECKPOINT_DELAY, OPEN_DATABASES, PooledSqliteEventLogStorage
from ward.settings import Settings


@dg.asset
def extract() -> int:
    return 1


@dg.asset
def mart(extract: int) -> int:
    return extract + 1


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    use_ward_instance(Settings(data_dir=tmp_path / "ward"))
    with dg.DagsterInstance.get() as instance:
        yield instance


def _events_in_database_file(storage: PooledSqliteEventLogStorage, run_id: str) -> int:
    """Events in `<run_id>.db` itself; `immutable` makes SQLite ignore the write-ahead log."""
    uri = f"file:{storage.path_for_shard(run_id)}?immutable=1"
    with sqlite3.connect(uri, uri=True) as con:
        return con.execute("select count(*) from event_logs").fetchone()[0]


def test_the_ward_instance_stores_and_reads_a_run_as_dagster_does(instance):
    assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
    result = dg.materialize([extract, mart], instance=instance)

    logs = instance.all_logs(result.run_id)
    assert [e.dagster_event_type for e in logs if e.is_dagster_event][-1] == dg.DagsterEventType.RUN_SUCCESS
    assert instance.get_latest_materialization_event(dg.AssetKey("mart")).run_id == result.run_id
    # Every event reached the run's database file, not only its write-ahead log (checkpointed at
    # most CHECKPOINT_DELAY after the last event).
    _wait_for(lambda: _events_in_database_file(instance.event_log_storage, result.run_id) == len(logs))


def _wait_for(condition, seconds: float = 10 * CHECKPOINT_DELAY) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not so within {seconds} s"
        time.sleep(0.05)


def test_a_burst_of_events_is_checkpointed_into_the_run_file_once_not_once_an_event(instance):
    storage = instance.event_log_storage
    run_id = dg.materialize([extract, mart], instance=instance).run_id
    copy = "burst-run"
    checkpoints = []
    real = storage._checkpoint
    storage._checkpoint = lambda shard: (checkpoints.append(shard), real(shard))
    entries = instance.all_logs(run_id)
    for entry in entries:  # one transaction each, as a run stores them
        storage.store_event(entry._replace(run_id=copy))
    _wait_for(lambda: _events_in_database_file(storage, copy) == len(entries))
    assert 1 <= checkpoints.count(copy) <= 3, checkpoints


def test_schema_checks_are_asked_of_the_database_once(instance, monkeypatch):
    storage = instance.event_log_storage
    assert storage.has_table("asset_check_executions")
    asked = []
    parent = type(storage).__mro__[1]
    monkeypatch.setattr(parent, "has_table", lambda self, name: asked.append(name) or True)
    assert storage.has_table("asset_check_executions") and storage.supports_asset_checks
    assert asked == []  # remembered
    assert storage.has_table("a_table_not_seen_yet") and asked == ["a_table_not_seen_yet"]


def test_the_live_view_of_a_run_hears_its_events(instance):
    storage = instance.event_log_storage
    run_id = dg.materialize([extract], instance=instance).run_id
    heard, done = [], threading.Event()

    def callback(event, cursor):
        heard.append(event)
        if event.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS:
            done.set()

    # Watch an empty run, then copy the finished run's events into it, one transaction each.
    watched = "watched-run"
    with storage.run_connection(watched):
        pass
    storage.watch(watched, None, callback)
    try:
        for entry in instance.all_logs(run_id):
            storage.store_event(entry._replace(run_id=watched))
        assert done.wait(timeout=20), f"the watcher heard {len(heard)} events and no run success"
    finally:
        storage.end_watch(watched, callback)


def test_reading_many_runs_keeps_a_bounded_number_of_databases_open(instance):
    run_ids = [dg.materialize([extract], instance=instance).run_id for _ in range(OPEN_DATABASES + 3)]
    for run_id in run_ids:
        assert instance.all_logs(run_id)
    assert len(instance.event_log_storage._engines) <= OPEN_DATABASES


def test_a_moved_data_root_gets_its_own_dagster_yaml(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    use_ward_instance(Settings(data_dir=tmp_path / "before"))
    shutil.move(tmp_path / "before", tmp_path / "after")
    moved = Settings(data_dir=tmp_path / "after")
    use_ward_instance(moved)
    config = yaml.safe_load((moved.dagster_home / "dagster.yaml").read_text())["event_log_storage"]
    assert config["config"]["base_dir"] == str(moved.dagster_home.resolve() / "history" / "runs")
