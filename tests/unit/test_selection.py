"""orchestration.selection: the asset selection a run is planned with, before it starts.

Small synthetic asset graphs for the graph helpers, a temporary data root for the landing / raw
lake / build database checks, and the real asset graph (no dbt run) for `plan_run` end to end.
"""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from assets.dbt import _PHASE_FILES, PERSONS_SOURCES, persons_keys, staging_key
from assets.ingest import DELIVERIES_KEY, LANDING_KEYS
from orchestration.resources import dbt_project_fingerprint
from orchestration.selection import (
    RunPlan,
    _behind,
    _downstream,
    _whole_steps,
    plan_run,
    unstaged_raw_sources,
    untaken_landing_sources,
)
from ward.build_state import (
    CORRECTIONS_CONSUMER,
    PERSONS_CONSUMER,
    corrections_fingerprint,
    input_fingerprint,
    record_processed,
    store_fingerprint,
)
from ward.ingest.load import CORRECTIONS_FOLDER, EMPTY_RAW_NAME, ingest_landing
from ward.quality.evaluate import rules_fingerprint
from ward.quality.rules import STAGED_MODELS, load_rules
from ward.settings import SOURCES, Settings

K = dg.AssetKey


def assets_defs_of(*assets) -> list[dg.AssetsDefinition]:
    """As the callers pass them: the repository's assets definitions, one per asset key."""
    repo = dg.Definitions(assets=list(assets)).get_repository_def()
    return list(repo.assets_defs_by_key.values())


# _downstream ---------------------------------------------------------------------------------------


@dg.asset
def root() -> None: ...


@dg.multi_asset(specs=[dg.AssetSpec("p", deps=[root]), dg.AssetSpec("q", deps=[root])])
def step_pq():
    yield dg.MaterializeResult(asset_key="p")
    yield dg.MaterializeResult(asset_key="q")


@dg.asset(deps=["p"])
def r() -> None: ...


@dg.asset(deps=["q"])
def s() -> None: ...


@dg.asset(deps=[r, s])
def t() -> None: ...


@dg.asset(deps=[r])
def only_via_r() -> None: ...


@dg.asset
def unrelated() -> None: ...


GRAPH = (root, step_pq, r, s, t, only_via_r, unrelated)


def test_downstream_reaches_every_descendant_and_nothing_else():
    reached = _downstream({K("root")}, assets_defs_of(*GRAPH), set())
    assert reached == {K(k) for k in ("root", "p", "q", "r", "s", "t", "only_via_r")}


def test_downstream_from_a_middle_asset():
    reached = _downstream({K("q")}, assets_defs_of(*GRAPH), set())
    assert reached == {K("q"), K("s"), K("t")}


def test_downstream_does_not_pass_through_blocked_assets():
    defs = assets_defs_of(*GRAPH)
    # t is reachable through s as well: still reached; only_via_r is not.
    assert _downstream({K("root")}, defs, {K("r")}) == {K(k) for k in ("root", "p", "q", "s", "t")}
    # With both of t's parents blocked, nothing below p and q is reached.
    assert _downstream({K("root")}, defs, {K("r"), K("s")}) == {K("root"), K("p"), K("q")}


# _whole_steps --------------------------------------------------------------------------------------


@dg.multi_asset(specs=[dg.AssetSpec("whole_a"), dg.AssetSpec("whole_b"), dg.AssetSpec("whole_c")])
def whole_step():
    for key in ("whole_a", "whole_b", "whole_c"):
        yield dg.MaterializeResult(asset_key=key)


@dg.multi_asset(
    specs=[dg.AssetSpec("part_a", skippable=True), dg.AssetSpec("part_b", skippable=True)], can_subset=True
)
def part_step(context):
    for key in context.selected_asset_keys:
        yield dg.MaterializeResult(asset_key=key)


def test_whole_steps_selects_a_step_that_cannot_subset_whole():
    defs = assets_defs_of(whole_step, part_step, unrelated)
    assert _whole_steps({K("whole_b")}, defs) == {K("whole_a"), K("whole_b"), K("whole_c")}


def test_whole_steps_leaves_a_subsettable_step_as_selected():
    defs = assets_defs_of(whole_step, part_step, unrelated)
    assert _whole_steps({K("part_a")}, defs) == {K("part_a")}
    assert _whole_steps({K("part_a"), K("whole_a"), K("unrelated")}, defs) == {
        K("part_a"),
        K("whole_a"),
        K("whole_b"),
        K("whole_c"),
        K("unrelated"),
    }
    assert _whole_steps(set(), defs) == set()


# _behind ---------------------------------------------------------------------------------------------


@dg.asset
def parent() -> None: ...


@dg.asset(deps=[parent])
def child() -> None: ...


@dg.asset
def never_built() -> None: ...


EXTERNAL = dg.AssetSpec("external")


@dg.asset(deps=[EXTERNAL])
def reads_external() -> None: ...


BEHIND_GRAPH = (parent, child, never_built, reads_external, EXTERNAL)


@pytest.fixture(scope="module")
def behind_instance():
    """parent, child and reads_external built in order; then parent alone, then `external` reported."""
    with dg.DagsterInstance.ephemeral() as instance:
        built = [parent, child, reads_external]
        assert dg.materialize(built, instance=instance).success
        time.sleep(0.01)
        assert dg.materialize(built, instance=instance, selection=[parent]).success
        time.sleep(0.01)
        instance.report_runless_asset_event(dg.AssetMaterialization("external"))
        yield instance


def test_behind_finds_an_asset_built_before_its_input_and_one_never_built(behind_instance):
    defs = assets_defs_of(*BEHIND_GRAPH)
    # reads_external is not behind though `external` is newer: external assets are not judged.
    assert _behind(defs, behind_instance, set()) == {K("child"), K("never_built")}


def test_behind_never_reports_a_blocked_asset(behind_instance):
    defs = assets_defs_of(*BEHIND_GRAPH)
    assert _behind(defs, behind_instance, {K("child")}) == {K("never_built")}
    assert _behind(defs, behind_instance, {K("child"), K("never_built")}) == set()


def test_behind_ignores_external_assets_even_never_materialized():
    with dg.DagsterInstance.ephemeral() as instance:
        assert dg.materialize([reads_external], instance=instance).success
        assert _behind(assets_defs_of(reads_external, EXTERNAL), instance, set()) == set()


def test_behind_is_empty_when_everything_was_built_in_order():
    with dg.DagsterInstance.ephemeral() as instance:
        assert dg.materialize([parent, child], instance=instance).success
        assert _behind(assets_defs_of(parent, child), instance, set()) == set()


# untaken_landing_sources ------------------------------------------------------------------------------


def _landing_file(settings: Settings, source: str, name: str, data: bytes, mtime: datetime) -> Path:
    path = settings.landing_dir / source / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (mtime.timestamp(), mtime.timestamp()))
    return path


def _write_ledger(settings: Settings, rows: list[tuple[str, datetime | None]]) -> None:
    """A ledger with the paths only (no bytes): what it says cannot make a landing file taken."""
    settings.ledger_path.parent.mkdir(parents=True, exist_ok=True)
    naive = [None if at is None else at.astimezone(UTC).replace(tzinfo=None) for _, at in rows]
    pl.DataFrame(
        {"source_file": [f for f, _ in rows], "loaded_at": naive},
        schema={"source_file": pl.String(), "loaded_at": pl.Datetime("us")},
    ).write_parquet(settings.ledger_path)


T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_untaken_nothing_without_landing_folder(tmp_path):
    assert untaken_landing_sources(Settings(data_dir=tmp_path)) == set()


def test_untaken_a_file_the_ingest_has_not_taken(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _landing_file(settings, "citizens", "a.csv", b"x", T0)
    assert untaken_landing_sources(settings) == {"citizens"}  # no ledger at all
    ingest_landing(settings)
    assert untaken_landing_sources(settings) == set()
    _landing_file(settings, "households", "h.csv", b"y", T0)
    assert untaken_landing_sources(settings) == {"households"}


def test_untaken_a_file_replaced_under_a_taken_name(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _landing_file(settings, "service_records", "s.csv", b"z", T0)
    ingest_landing(settings)
    _landing_file(settings, "service_records", "s.csv", b"other bytes", T0)  # same name and mtime
    assert untaken_landing_sources(settings) == {"service_records"}


def test_untaken_hidden_files_and_sub_folders_until_the_ingest_records_them(tmp_path):
    """The ingest records a hidden file or a folder in a source folder once (rejected, not read);
    an entry outside the source folders is reported and never recorded."""
    settings = Settings(data_dir=tmp_path)
    _landing_file(settings, "citizens", ".DS_Store", b"x", T0)
    (settings.landing_dir / "households" / "sub").mkdir(parents=True)
    _landing_file(settings, "unknown_folder", "a.csv", b"x", T0)
    assert untaken_landing_sources(settings) == {"citizens", "households"}
    ingest_landing(settings)
    assert untaken_landing_sources(settings) == set()


def test_untaken_a_path_in_the_ledger_is_not_enough(tmp_path):
    """Only bytes the ledger knows at that path are taken (a hand-edited or older ledger is not)."""
    settings = Settings(data_dir=tmp_path)
    _landing_file(settings, "citizens", "a.csv", b"x", T0)
    _write_ledger(settings, [("citizens/a.csv", T0 + timedelta(hours=1))])
    assert untaken_landing_sources(settings) == {"citizens"}


def test_untaken_corrections_by_their_bytes_in_the_raw_lake(tmp_path):
    settings = Settings(data_dir=tmp_path)
    sheet = b"corrections sheet bytes"
    _landing_file(settings, CORRECTIONS_FOLDER, "sua.xlsx", sheet, T0)
    assert untaken_landing_sources(settings) == {CORRECTIONS_FOLDER}
    taken = settings.raw_dir / CORRECTIONS_FOLDER / f"{hashlib.sha256(sheet).hexdigest()}.parquet"
    taken.parent.mkdir(parents=True)
    taken.write_bytes(b"")
    assert untaken_landing_sources(settings) == set()
    # The ledger does not matter for corrections: a path in it with a later take is not enough.
    _landing_file(settings, CORRECTIONS_FOLDER, "sua2.xlsx", b"new sheet", T0)
    _write_ledger(settings, [(f"{CORRECTIONS_FOLDER}/sua2.xlsx", T0 + timedelta(hours=1))])
    assert untaken_landing_sources(settings) == {CORRECTIONS_FOLDER}


def _ingested_once(settings: Settings, name: str) -> None:
    """landing/citizens/<name> (empty: recorded `rejected`) taken by the real ingest."""
    _landing_file(settings, "citizens", name, b"", datetime.now(UTC) - timedelta(minutes=5))
    ingest_landing(settings)


def test_untaken_agrees_with_the_ingest_on_an_ordinary_file(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _ingested_once(settings, "empty.csv")
    assert untaken_landing_sources(settings) == set()


def test_untaken_a_touched_file_with_the_same_bytes_stays_taken_and_new_bytes_do_not(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _ingested_once(settings, "empty.csv")
    path = settings.landing_dir / "citizens" / "empty.csv"
    later = datetime.now(UTC) + timedelta(seconds=1)
    os.utime(path, (later.timestamp(),) * 2)
    assert untaken_landing_sources(settings) == set()  # the same bytes: the ingest finds it known
    path.write_bytes(path.read_bytes() + b"\n")
    assert untaken_landing_sources(settings) == {"citizens"}


def test_untaken_ignores_the_files_the_ingest_ignores(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _landing_file(settings, "citizens", "~$book.xlsx", b"lock", datetime.now(UTC) - timedelta(minutes=5))
    ingest_landing(settings)
    assert untaken_landing_sources(settings) == set()


def test_untaken_a_file_with_an_unprintable_name_once_ingested(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _ingested_once(settings, "a\tb.csv")
    assert untaken_landing_sources(settings) == set()


# unstaged_raw_sources ------------------------------------------------------------------------------


def _raw_files(settings: Settings, source: str, *names: str) -> None:
    folder = settings.raw_source_dir(source)
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


def test_unstaged_compares_raw_file_names_with_the_staged_sha256(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _raw_files(settings, "citizens", "aaa.parquet", "bbb.parquet", EMPTY_RAW_NAME, "notes.txt")
    _raw_files(settings, "households", EMPTY_RAW_NAME)
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        con.execute("create schema staging")
        con.execute("create table staging.stg_landing__citizens (file_sha256 varchar)")
        con.execute("insert into staging.stg_landing__citizens values ('aaa'), ('aaa'), ('zzz')")
        assert unstaged_raw_sources(settings, con) == {"citizens"}
        con.execute("insert into staging.stg_landing__citizens values ('bbb')")
        assert unstaged_raw_sources(settings, con) == set()


def test_unstaged_everything_when_the_staging_table_is_missing(tmp_path):
    settings = Settings(data_dir=tmp_path)
    _raw_files(settings, "citizens", "aaa.parquet")
    _raw_files(settings, "service_records", "sss.parquet", EMPTY_RAW_NAME)
    _raw_files(settings, "households", EMPTY_RAW_NAME)  # only the empty frame: nothing to stage
    with duckdb.connect(str(tmp_path / "build.duckdb")) as con:
        assert unstaged_raw_sources(settings, con) == {"citizens", "service_records"}
        con.execute("create schema staging")
        con.execute("create table staging.stg_landing__citizens (file_sha256 varchar)")
        con.execute("insert into staging.stg_landing__citizens values ('aaa')")
        assert unstaged_raw_sources(settings, con) == {"service_records"}


# plan_run -------------------------------------------------------------------------------------------


def test_run_plan_properties():
    assert RunPlan(None).builds_everything and not RunPlan(None).builds_nothing
    assert RunPlan(None).selection() is None
    assert RunPlan(frozenset()).builds_nothing and not RunPlan(frozenset()).builds_everything
    assert RunPlan(frozenset({K("b"), K("a")})).selection() == [K("a"), K("b")]


def test_plan_full_refresh_builds_everything(tmp_path):
    with dg.DagsterInstance.ephemeral() as instance:
        plan = plan_run(Settings(data_dir=tmp_path), [], instance, full_refresh=True)
    assert plan.builds_everything and plan.reasons == ["full refresh"]
    assert plan.new_sources == SOURCES


def test_plan_first_build_builds_everything(tmp_path):
    with dg.DagsterInstance.ephemeral() as instance:
        plan = plan_run(Settings(data_dir=tmp_path), [], instance)
    assert plan.builds_everything and plan.reasons == ["first build"]


# plan_run on the real asset graph, with a build database where everything is current ----------------


@pytest.fixture(scope="module")
def real_graph(tmp_path_factory):
    from orchestration.definitions import build_definitions

    environ = os.environ.copy()
    try:  # build_definitions hands dbt its variables through os.environ: not left to other tests
        defs = build_definitions(Settings(data_dir=tmp_path_factory.mktemp("defs")))
    finally:
        os.environ.clear()
        os.environ.update(environ)
    assets_defs = list(defs.get_repository_def().assets_defs_by_key.values())
    order = list(defs.resolve_asset_graph().toposorted_asset_keys)
    executable = {k for a in assets_defs if a.is_executable for k in a.keys}
    return assets_defs, [k for k in order if k in executable]


@pytest.fixture
def built(tmp_path, real_graph):
    """A data root whose build database is current, and an instance where every asset was built in
    order: the planner has nothing to do until a test changes something."""
    assets_defs, order = real_graph
    settings = Settings(data_dir=tmp_path)
    for source in SOURCES:
        _raw_files(settings, source, f"{source}_sha.parquet", EMPTY_RAW_NAME)
    settings.build_db_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.build_db_path)) as con:
        con.execute("create schema staging")
        for source, relation in STAGED_MODELS.items():
            con.execute(f"create table {relation} (file_sha256 varchar, staged_at timestamp)")
            con.execute(f"insert into {relation} values ('{source}_sha', timestamp '2026-03-01 08:00')")
        con.execute("create schema quality")
        con.execute(
            "create table quality.row_issues (source varchar, file_sha256 varchar, "
            "row_number bigint, rule varchar, outcome varchar)"
        )
        evaluated = {"citizens/citizens_sha@2026-03-01 08:00:00": rules_fingerprint(load_rules())}
        record_processed(con, "quality", evaluated)
        for phase, folders in _PHASE_FILES.items():
            store_fingerprint(
                con, f"{phase}_project", f"{dbt_project_fingerprint(folders)}:{settings.ward_code}"
            )
        store_fingerprint(con, CORRECTIONS_CONSUMER, corrections_fingerprint(settings))
        store_fingerprint(con, PERSONS_CONSUMER, input_fingerprint(con, PERSONS_SOURCES))
    with dg.DagsterInstance.ephemeral() as instance:
        for key in order:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        yield settings, assets_defs, instance


def test_plan_nothing_new_builds_nothing(built):
    settings, assets_defs, instance = built
    plan = plan_run(settings, assets_defs, instance)
    assert plan.builds_nothing and plan.reasons == ["no new file"] and plan.new_sources == ()


def test_plan_new_service_records_leaves_the_persons_models_alone(built):
    settings, assets_defs, instance = built
    _landing_file(settings, "service_records", "s.csv", b"z", T0)
    plan = plan_run(settings, assets_defs, instance)
    keys = plan.asset_keys
    assert keys is not None and plan.new_sources == ("service_records",)
    new_files = {LANDING_KEYS["service_records"], DELIVERIES_KEY}
    assert new_files | {staging_key("stg_landing__service_records")} <= keys
    assert LANDING_KEYS["citizens"] not in keys
    assert staging_key("stg_landing__citizens") not in keys
    assert not keys & persons_keys()
    assert K(["marts", "fct_service_record"]) in keys
    assert plan.reasons == [
        "new service_records",
        "citizens and households as last built: the persons models are not rebuilt",
    ]


def test_plan_new_citizens_rebuilds_the_persons_models(built):
    settings, assets_defs, instance = built
    _landing_file(settings, "citizens", "c.csv", b"c", T0)
    plan = plan_run(settings, assets_defs, instance)
    assert plan.asset_keys is not None and plan.new_sources == ("citizens",)
    assert {LANDING_KEYS["citizens"], staging_key("stg_landing__citizens")} <= plan.asset_keys
    assert persons_keys() <= plan.asset_keys
    assert LANDING_KEYS["service_records"] not in plan.asset_keys
    assert plan.reasons == ["new citizens"]


def test_plan_unstaged_raw_file_is_new(built):
    settings, assets_defs, instance = built
    _raw_files(settings, "households", "released.parquet")  # a delivery released from hold
    plan = plan_run(settings, assets_defs, instance)
    assert plan.new_sources == ("households",)
    assert plan.asset_keys is not None and persons_keys() <= plan.asset_keys


def test_plan_rebuilds_what_an_unfinished_run_left_behind(built):
    settings, assets_defs, instance = built
    instance.report_runless_asset_event(dg.AssetMaterialization(staging_key("stg_landing__service_records")))
    plan = plan_run(settings, assets_defs, instance)
    assert plan.new_sources == ()
    keys = plan.asset_keys
    assert keys is not None and K(["marts", "fct_service_record"]) in keys
    assert DELIVERIES_KEY not in keys and staging_key("stg_landing__service_records") not in keys
    assert not keys & persons_keys()
    assert any("older than their inputs" in reason for reason in plan.reasons)


def test_plan_new_corrections_build_everything(built):
    settings, assets_defs, instance = built
    _landing_file(settings, CORRECTIONS_FOLDER, "sua.xlsx", b"sheet", T0)
    plan = plan_run(settings, assets_defs, instance)
    assert plan.builds_everything and plan.reasons == ["new corrections from the stewards"]


def test_plan_changed_rules_build_everything(built):
    settings, assets_defs, instance = built
    with duckdb.connect(str(settings.build_db_path)) as con:
        con.execute("update pipeline_state.processed set fingerprint = 'old' where step = 'quality'")
    plan = plan_run(settings, assets_defs, instance)
    assert plan.builds_everything and plan.reasons == ["the data rules changed (expectations/rules.yml)"]


def test_plan_changed_dbt_project_builds_everything(built):
    settings, assets_defs, instance = built
    with duckdb.connect(str(settings.build_db_path)) as con:
        store_fingerprint(con, "dbt_downstream_project", "old")
    plan = plan_run(settings, assets_defs, instance)
    assert plan.builds_everything and plan.reasons == ["the dbt project changed since the last build"]
