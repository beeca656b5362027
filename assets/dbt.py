"""The dbt models as Dagster assets, in the two phases the quality step sits between.

phase 1 (`dbt_staging`): models/staging — rename, cast, clean;
then assets/quality.py writes quality.row_issues from the staged tables;
phase 2 (`dbt_downstream`): models/intermediate and models/marts, which read quality.row_issues.
dbt tests come along as asset checks; an error-severity test fails the run before publication.

Incremental runs (docs/architecture.md): the staging models append only the rows of new raw files,
and a source with no new file is skipped with its tests; phase 2 skips the models tagged `persons`
when the citizens and households (staged files and their issues) are as at its last build. A run
tagged ward/full_refresh=true rebuilds everything (`ward run --full-refresh`, the nightly schedule);
so does a phase whose dbt project files changed since it last built (a new version of the code), and
one after a delivery was superseded or withdrawn (ward.deliveries.lake: raw/rebuild.json).
"""

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from graphlib import TopologicalSorter
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.resources import (
    DBT_PROJECT,
    WardResource,
    dbt_project_fingerprint,
    ensure_dbt_manifest,
    keep_partial_parse,
    prune_invocation_folders,
)
from orchestration.steward import dbt_test_description, model_description
from ward.build_guard import BuildDatabaseBusy, recover_damaged_build_database
from ward.build_state import (
    BUILD_DB_RECOVERED_TAG,
    FULL_REFRESH_TAG,
    input_fingerprint,
    is_unchanged,
    store_fingerprint,
)
from ward.deliveries.lake import full_rebuild_done, full_rebuild_due
from ward.duckdb_config import connect_build_db, explain_out_of_memory
from ward.ingest.load import CORRECTIONS_FOLDER, EMPTY_RAW_NAME
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
ensure_dbt_manifest()  # the decorators below read it


# Models built from the citizens and households snapshots only (dbt_project.yml, _marts__models.yml).
PERSONS_TAG = "tag:persons"
PERSONS_SOURCES = ("citizens", "households")


def _in_dependency_order(assets_def: dg.AssetsDefinition, events: list) -> list:
    """Outputs sorted so that each comes after those of the models it reads; then the rest."""
    deps = {k: {d for d in assets_def.asset_deps.get(k, ()) if d in assets_def.keys} for k in assets_def.keys}
    rank = {key: i for i, key in enumerate(TopologicalSorter(deps).static_order())}
    outputs = [e for e in events if isinstance(e, dg.Output)]
    outputs.sort(key=lambda e: rank[assets_def.keys_by_output_name[e.output_name]])
    return outputs + [e for e in events if not isinstance(e, dg.Output)]


@cache
def _persons_keys() -> frozenset[dg.AssetKey]:
    nodes = json.loads(DBT_PROJECT.manifest_path.read_text())["nodes"].values()
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


def _project_changed(context: dg.AssetExecutionContext, settings: Settings, phase: str) -> bool:
    """The dbt project is not the one this phase last built with (a new version of the ward's code):
    its incremental tables may not fit the new models, so the phase rebuilds whole, once."""
    if not settings.build_db_path.exists():
        return False  # the first build is whole anyway
    with connect_build_db(settings) as con:
        changed = not is_unchanged(con, f"{phase}_project", dbt_project_fingerprint(_PHASE_FILES[phase]))
    if changed:
        context.log.info("The dbt project changed since this phase was last built: rebuilding it whole")
    return changed


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


def _remember_project(settings: Settings, phase: str) -> None:
    with connect_build_db(settings) as con:
        store_fingerprint(con, f"{phase}_project", dbt_project_fingerprint(_PHASE_FILES[phase]))


@dataclass
class _Skip:
    """Models a phase leaves out because their inputs are as they were at their last build."""

    exclude: list[str] = field(default_factory=list)  # dbt selectors
    keys: list[dg.AssetKey] = field(default_factory=list)
    reason: str = ""
    on_success: Callable[[], None] = lambda: None


def _skip_staging(context: dg.AssetExecutionContext, settings: Settings, full_refresh: bool) -> _Skip:
    """A source with no raw file left to stage: its staging model and its tests are skipped."""
    # New corrections may restage files of any source (macros/corrections): skip nothing then.
    taken = sorted(p.name for p in (settings.raw_dir / CORRECTIONS_FOLDER).glob("*.parquet"))
    corrections = hashlib.sha256(repr(taken).encode()).hexdigest()[:16]

    def remember() -> None:
        with connect_build_db(settings) as con:
            store_fingerprint(con, "dbt_staging_corrections", corrections)

    if full_refresh or not settings.build_db_path.exists():  # restage all / the first build
        return _Skip(on_success=remember)
    skip = _Skip(reason="no new file delivered")
    with connect_build_db(settings) as con:
        if not is_unchanged(con, "dbt_staging_corrections", corrections):
            store_fingerprint(con, "dbt_staging_corrections", None)
            return _Skip(on_success=remember)
        for source, relation in STAGED_MODELS.items():
            files = settings.raw_source_dir(source).glob("*.parquet")
            raw = {p.stem for p in files if p.name != EMPTY_RAW_NAME}
            try:
                rows = con.execute(f"select distinct file_sha256 from {relation}").fetchall()
            except duckdb.CatalogException:
                continue
            model = relation.split(".")[1]
            if raw <= {r[0] for r in rows} and staging_key(model) in context.assets_def.keys:
                skip.exclude.append(model)
                skip.keys.append(staging_key(model))
    return skip


def _skip_persons(
    context: dg.AssetExecutionContext, settings: Settings, full_refresh: bool, consumer: str
) -> _Skip:
    """Citizens and households (staged files and their issues) as at the last build: the models
    tagged `persons` are skipped; otherwise they are built and the fingerprint stored after (on a
    full refresh too: the exports reuse a persons mart only under the fingerprint it was built from)."""
    with connect_build_db(settings) as con:
        persons = input_fingerprint(con, PERSONS_SOURCES)
        if not full_refresh and is_unchanged(con, consumer, persons):
            keys = sorted(k for k in context.assets_def.keys if k in _persons_keys())
            return _Skip([PERSONS_TAG], keys, "citizens and households as last built")
        store_fingerprint(con, consumer, None)  # until this build has succeeded

    def remember() -> None:
        with connect_build_db(settings) as con:
            store_fingerprint(con, consumer, persons)

    return _Skip(on_success=remember)


def _dbt_phase(
    name: str, select: str, plan_skip: Callable[[dg.AssetExecutionContext, Settings, bool], _Skip]
) -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=DBT_PROJECT.manifest_path,
        project=DBT_PROJECT,
        select=select,
        name=name,
        dagster_dbt_translator=TRANSLATOR,
    )
    def phase(context: dg.AssetExecutionContext, dbt: DbtCliResource, ward: WardResource):
        recovered = name == "dbt_staging" and _recover_build_database(context, ward.settings)
        full_refresh = is_full_refresh(context) or recovered or _project_changed(context, ward.settings, name)
        # A delivery superseded or withdrawn (ward.deliveries.lake): its built rows must go.
        rebuild = full_rebuild_due(ward.settings, name)
        if rebuild and not full_refresh:
            context.log.info("A delivery was superseded or withdrawn: rebuilding this phase whole")
        full_refresh = full_refresh or bool(rebuild)
        args = [*BUILD, "--full-refresh"] if full_refresh else list(BUILD)
        whole_phase = context.selected_asset_keys == set(context.assets_def.keys)
        if whole_phase:
            skip = plan_skip(context, ward.settings, full_refresh)
        else:  # a hand-picked subset: nothing skipped, and no fingerprint vouches for the phase
            skip = _Skip()
            with connect_build_db(ward.settings) as con:
                store_fingerprint(con, name, None)
        if skip.exclude:
            args += ["--exclude", " ".join(skip.exclude)]
            context.log.info(f"Skipped ({skip.reason}): {', '.join(k.to_user_string() for k in skip.keys)}")
        invocation = dbt.cli(args, context=context)
        events = invocation.stream()
        if skip.keys:
            # A skipped model is still current: say so, so the steps after it run as usual.
            unchanged = [
                dg.Output(
                    None,
                    output_name=context.assets_def.get_output_name_for_asset_key(key),
                    metadata={"unchanged": skip.reason},
                )
                for key in skip.keys
            ]
            events = _in_dependency_order(context.assets_def, [*events, *unchanged])
        with explain_out_of_memory(ward.settings):  # dbt's out-of-memory error names WARD_MEMORY_LIMIT
            yield from events
        keep_partial_parse(invocation.target_path)
        prune_invocation_folders()
        skip.on_success()
        _remember_project(ward.settings, name)
        if rebuild and whole_phase:
            full_rebuild_done(ward.settings, name, rebuild)

    return phase


dbt_staging = _dbt_phase("dbt_staging", STAGING_SELECT, _skip_staging)
dbt_downstream = _dbt_phase(
    "dbt_downstream",
    DOWNSTREAM_SELECT,
    lambda context, settings, full_refresh: _skip_persons(context, settings, full_refresh, "dbt_downstream"),
)


def persons_marts() -> list[str]:
    """The marts built from citizens and households only (their exports can be reused unchanged)."""
    return sorted(k.path[1] for k in _persons_keys() if k.path[0] == "marts")


def marts_keys() -> list[dg.AssetKey]:
    return [k for k in dbt_downstream.keys if k.path[0] == "marts"]


def staging_key(model: str) -> dg.AssetKey:
    return dg.AssetKey(["staging", model])
