"""The dbt models as Dagster assets, in the two phases the quality step sits between.

phase 1 (`dbt_staging`): models/staging — rename, cast, clean;
then assets/quality.py writes quality.row_issues from the staged tables;
phase 2 (`dbt_downstream`): models/intermediate and models/marts, which read quality.row_issues.
dbt tests come along as asset checks; an error-severity test fails the run before publication.

Incremental runs (docs/architecture.md): what a run builds is its asset selection, planned before it
starts (orchestration/selection.py: a source with no new file is not selected, nor are the models
tagged `persons` when citizens and households are as at their last build); dagster-dbt builds the
selected models and their tests, and the staging models append only the rows of new raw files. A run
tagged ward/full_refresh=true rebuilds everything (`ward run --full-refresh`, the nightly schedule);
so does a phase whose dbt project files changed since it last built (a new version of the code), and
one after a delivery was superseded or withdrawn (ward.deliveries.lake: raw/rebuild.json).
"""

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.resources import (
    DBT_PROJECT,
    WardResource,
    dbt_manifest,
    dbt_project_fingerprint,
    dbt_target,
)
from orchestration.steward import dbt_test_description, model_description
from ward.build_guard import BuildDatabaseBusy, recover_damaged_build_database
from ward.build_state import (
    BUILD_DB_RECOVERED_TAG,
    CORRECTIONS_CONSUMER,
    FULL_REFRESH_TAG,
    PERSONS_CONSUMER,
    corrections_fingerprint,
    input_fingerprint,
    is_unchanged,
    store_fingerprint,
)
from ward.deliveries.lake import full_rebuild_done, full_rebuild_due
from ward.duckdb_config import connect_build_db, explain_out_of_memory
from ward.quality.rules import STAGED_MODELS
from ward.settings import Settings

# dbt unit tests check the SQL, not the data: the test suite runs them, production runs skip them.
# No manifest.json / run_results.json per invocation (≈ 0.2 s each): Dagster reads dbt's events,
# and the invocation's dbt.log keeps the detail.
BUILD = ["build", "--exclude-resource-type", "unit_test", "--no-write-json"]
STAGING_SELECT = "path:models/staging"
DOWNSTREAM_SELECT = "path:models/intermediate path:models/marts"


class WardDbtTranslator(DagsterDbtTranslator):
    """Models keyed by layer (staging/…, intermediate/…, marts/…) and grouped by layer in the UI."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "model":
            layer = dbt_resource_props["fqn"][1]
            return dg.AssetKey([layer, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "model":
            return dbt_resource_props["fqn"][1]
        return super().get_group_name(dbt_resource_props)

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """Vietnamese, then the model's yml description in English (orchestration/steward.py); no SQL."""
        if dbt_resource_props["resource_type"] == "model":
            return model_description(dbt_resource_props)
        return super().get_description(dbt_resource_props)

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        """dbt tests as checks, with a VI/EN sentence instead of "No description provided"."""
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return dg.AssetCheckSpec(
            name=spec.name,
            asset=spec.asset_key,
            description=dbt_test_description(manifest["nodes"][unique_id]),
            additional_deps=spec.additional_deps,
            metadata=spec.metadata,
            blocking=spec.blocking,
            automation_condition=spec.automation_condition,
            partitions_def=spec.partitions_def,
        )


TRANSLATOR = WardDbtTranslator()


# Models built from the citizens and households snapshots only (dbt_project.yml, _marts__models.yml).
PERSONS_TAG = "tag:persons"
PERSONS_SOURCES = ("citizens", "households")


@cache
def persons_keys() -> frozenset[dg.AssetKey]:
    nodes = dbt_manifest()["nodes"].values()
    return frozenset(
        TRANSLATOR.get_asset_key(n)
        for n in nodes
        if n["resource_type"] == "model" and PERSONS_TAG.removeprefix("tag:") in n["tags"]
    )


def is_full_refresh(context: dg.AssetExecutionContext) -> bool:
    return context.run.tags.get(FULL_REFRESH_TAG) == "true"


# The project files each phase's models are built from: staging reads only its own models (and the
# macros and generic tests); phase 2 also reads staging's columns, so any change rebuilds it.
_PHASE_FILES = {
    "dbt_staging": ("models/staging", "macros", "tests"),
    "dbt_downstream": ("models", "macros", "tests", "snapshots", "seeds", "analyses"),
}
DBT_PHASES = tuple(_PHASE_FILES)  # in build order


def _project_version(settings: Settings, phase: str) -> str:
    """The phase's project files, and the ward code its rows carry (a data root moved to another
    WARD_CODE is restaged, not left with rows of the old code)."""
    return f"{dbt_project_fingerprint(_PHASE_FILES[phase])}:{settings.ward_code}"


def project_changed(settings: Settings, phase: str, con: duckdb.DuckDBPyConnection) -> bool:
    """The dbt project is not the one this phase last built with (a new version of the ward's code):
    its incremental tables may not fit the new models, so the phase rebuilds whole, once. `con`: the
    build database's (a first build, with none yet, is whole anyway)."""
    return not is_unchanged(con, f"{phase}_project", _project_version(settings, phase))


def _recover_build_database(context: dg.AssetExecutionContext, settings: Settings) -> bool:
    """A build database DuckDB cannot open is moved aside and rebuilt whole (ward.build_guard), and
    the step log says why. `ward run` does it before the run starts (its run tag brings the cause
    here); a run started by the UI, a sensor or the schedule does it here."""
    said = context.run.tags.get(BUILD_DB_RECOVERED_TAG)
    if said:
        context.log.info(said)  # ward run already printed it on the console
    try:
        recovered = recover_damaged_build_database(settings)
    except BuildDatabaseBusy as busy:
        raise dg.Failure(f"The build database is in use by another process: {busy}") from busy
    if recovered:
        context.log.warning(recovered)
    return bool(recovered)


# What a phase stores once it has succeeded: called before dbt with the settings, the run's selection
# and the build database's connection, it returns the storing, done on the connection after dbt.
_Store = Callable[[duckdb.DuckDBPyConnection], None]
_Remember = Callable[[Settings, set[dg.AssetKey], duckdb.DuckDBPyConnection], _Store]


def _dbt_phase(name: str, select: str, remember: _Remember) -> dg.AssetsDefinition:
    """One dbt phase as a multi-asset: dbt builds the models the run selected (orchestration/selection.py
    plans the selection) with their tests. `remember(settings, selected, con)`, called before dbt,
    returns what to store once the phase has succeeded."""

    @dbt_assets(
        manifest=dbt_manifest(),
        project=DBT_PROJECT,
        select=select,
        name=name,
        dagster_dbt_translator=TRANSLATOR,
    )
    def phase(context: dg.AssetExecutionContext, dbt: DbtCliResource, ward: WardResource):
        settings = ward.settings
        recovered = name == "dbt_staging" and _recover_build_database(context, settings)
        first_build = not settings.build_db_path.exists()  # whole anyway
        with connect_build_db(settings) as con:  # as every connection of this process (one configuration)
            changed = not first_build and project_changed(settings, name, con)
            # A delivery superseded or withdrawn (ward.deliveries.lake): its built rows must go (a
            # first build clears a pending request too).
            rebuild = full_rebuild_due(settings, name, con)
            on_success = remember(settings, context.selected_asset_keys, con)
        if changed:
            context.log.info("The dbt project changed since this phase was last built: rebuilding it whole")
        if rebuild:
            context.log.info("A delivery was superseded or withdrawn: rebuilding this phase whole")
        full_refresh = is_full_refresh(context) or recovered or changed or bool(rebuild)
        args = [*BUILD, "--full-refresh"] if full_refresh else list(BUILD)
        whole_phase = context.selected_asset_keys == set(context.assets_def.keys)
        with dbt_target(settings, name) as target_path:
            # dagster-dbt selects the run's models and tests
            invocation = dbt.cli(args, context=context, target_path=target_path)
            with explain_out_of_memory(settings):  # dbt's out-of-memory error names WARD_MEMORY_LIMIT
                yield from invocation.stream()
        with connect_build_db(settings) as con:
            on_success(con)
            if whole_phase:  # a hand-picked subset vouches for neither the project nor a rebuild
                store_fingerprint(con, f"{name}_project", _project_version(settings, name))
                if rebuild:
                    full_rebuild_done(settings, name, rebuild, con)

    return phase


def _remember_corrections(
    settings: Settings, selected: set[dg.AssetKey], _con: duckdb.DuckDBPyConnection
) -> _Store:
    """Staging of every source took the corrections of the raw lake (macros/corrections)."""
    corrections = corrections_fingerprint(settings)

    def store(con: duckdb.DuckDBPyConnection) -> None:
        if set(staging_keys()) <= selected:
            store_fingerprint(con, CORRECTIONS_CONSUMER, corrections)

    return store


def _remember_persons(
    settings: Settings, selected: set[dg.AssetKey], con: duckdb.DuckDBPyConnection
) -> _Store:
    """The persons models were built from these citizens and households (staged files and issues):
    the exports and the next run's plan trust them only under this fingerprint."""
    if not persons_keys() <= selected:
        return lambda con: None  # not built in this run: what was stored still holds
    persons = input_fingerprint(con, PERSONS_SOURCES)
    store_fingerprint(con, PERSONS_CONSUMER, None)  # until this build has succeeded

    def store(con: duckdb.DuckDBPyConnection) -> None:
        store_fingerprint(con, PERSONS_CONSUMER, persons)

    return store


dbt_staging = _dbt_phase("dbt_staging", STAGING_SELECT, _remember_corrections)
dbt_downstream = _dbt_phase("dbt_downstream", DOWNSTREAM_SELECT, _remember_persons)


def staging_keys() -> list[dg.AssetKey]:
    return [staging_key(relation.split(".")[1]) for relation in STAGED_MODELS.values()]


def persons_marts() -> list[str]:
    """The marts built from citizens and households only (their exports can be reused unchanged)."""
    return sorted(k.path[1] for k in persons_keys() if k.path[0] == "marts")


def marts_keys() -> list[dg.AssetKey]:
    return [k for k in dbt_downstream.keys if k.path[0] == "marts"]


def staging_key(model: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", model])
