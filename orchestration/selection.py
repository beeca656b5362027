"""What a run builds, decided before it starts, as Dagster's asset selection.

A run is planned from the ledger and the build database (ward state), then launched with exactly
the assets it will build: `ward run` passes the selection to `execute_in_process`, the landing
sensor to its `RunRequest`. Nothing is skipped inside a step, so a run materializes only what it
builds, every check in its plan is evaluated, and the UI's latest result of a check is the one of
the run that last built its asset.

- A source is new when the landing folder holds a file the ledger has not taken (or one modified
  since), or the raw lake holds a file its staging model has not staged (a delivery released from
  hold). Its landing and staging assets and everything downstream of them are built.
- The models tagged `persons` (built from citizens and households alone) and what only they feed
  (the history) are built when citizens or households are new, or their staged inputs are not
  those the persons models were last built from (a run that failed after staging).
- Everything is built on a full refresh, on the first build, after a delivery was superseded or
  withdrawn, after a change of the dbt project or of the data rules, and when new stewards'
  corrections arrive (they may restage any source).
- Nothing new: no run (the sensor requests none; `ward run` says so and launches none).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import dagster as dg
import duckdb

from assets.dbt import DBT_PHASES, PERSONS_SOURCES, persons_keys, project_changed, staging_key
from assets.ingest import DELIVERIES_KEY, LANDING_KEYS
from ward.build_state import (
    CORRECTIONS_CONSUMER,
    PERSONS_CONSUMER,
    corrections_fingerprint,
    input_fingerprint,
    is_unchanged,
)
from ward.corrections.ingest import has_new_sheets
from ward.deliveries.lake import full_rebuild_due
from ward.duckdb_config import connect_build_db
from ward.ingest.load import CORRECTIONS_FOLDER, EMPTY_RAW_NAME, sources_with_new_files
from ward.quality.evaluate import evaluated_under_other_rules, rules_fingerprint
from ward.quality.rules import STAGED_MODELS, load_rules
from ward.settings import SOURCES, Settings


@dataclass
class RunPlan:
    """The assets a run builds (None: all of them) and why, in words for the log."""

    asset_keys: frozenset[dg.AssetKey] | None
    reasons: list[str] = field(default_factory=list)
    new_sources: tuple[str, ...] = ()

    @property
    def builds_everything(self) -> bool:
        return self.asset_keys is None

    @property
    def builds_nothing(self) -> bool:
        return self.asset_keys is not None and not self.asset_keys

    def selection(self) -> list[dg.AssetKey] | None:
        return None if self.asset_keys is None else sorted(self.asset_keys)


def plan_run(
    settings: Settings,
    assets_defs: Iterable[dg.AssetsDefinition],
    instance: dg.DagsterInstance,
    *,
    full_refresh: bool = False,
) -> RunPlan:
    """The run's asset selection. `assets_defs`: the code location's (the dependency graph);
    `instance`: Dagster's record of what was materialized when (what an unfinished run left behind)."""
    if full_refresh or not settings.build_db_path.exists():
        return RunPlan(None, ["full refresh" if full_refresh else "first build"], SOURCES)
    with connect_build_db(settings) as con:  # as every connection of the run's process (one configuration)
        whole = _why_everything(settings, con)
        if whole:
            return RunPlan(None, [whole], SOURCES)
        new = sorted(untaken_landing_sources(settings) | unstaged_raw_sources(settings, con))
        corrections = corrections_fingerprint(settings)
        if CORRECTIONS_FOLDER in new or not is_unchanged(con, CORRECTIONS_CONSUMER, corrections):
            return RunPlan(None, ["new corrections from the stewards"], SOURCES)
        if _rules_changed(con):
            return RunPlan(None, ["the data rules changed (expectations/rules.yml)"], SOURCES)
        persons_current = not set(PERSONS_SOURCES) & set(new) and is_unchanged(
            con, PERSONS_CONSUMER, input_fingerprint(con, PERSONS_SOURCES)
        )
    assets_defs = list(assets_defs)
    blocked = set() if not persons_current else persons_keys()
    behind = _behind(assets_defs, instance, blocked)
    if not new and not behind:
        return RunPlan(frozenset(), ["no new file"])
    base = {DELIVERIES_KEY} if new else set()  # the ingest records the new files in the ledger
    # The new files' staging models, what reads the ledger the ingest rewrites, and what a run that
    # did not finish left older than its inputs.
    roots = {staging_key(STAGED_MODELS[s].split(".")[1]) for s in new} | base | behind
    keys = base | {LANDING_KEYS[s] for s in new} | _downstream(roots, assets_defs, blocked)
    keys = _whole_steps(keys, assets_defs)
    reasons = [f"new {', '.join(new)}"] if new else []
    if behind:
        reasons.append(f"{len(behind)} assets older than their inputs (a run that did not finish)")
    if persons_current:
        reasons.append("citizens and households as last built: the persons models are not rebuilt")
    return RunPlan(frozenset(keys), reasons, tuple(new))


def _why_everything(settings: Settings, con: duckdb.DuckDBPyConnection) -> str | None:
    if any(full_rebuild_due(settings, phase, con) for phase in DBT_PHASES):
        return "a delivery was superseded or withdrawn"
    if any(project_changed(settings, phase, con) for phase in DBT_PHASES):
        return "the dbt project changed since the last build"
    return None


def _downstream(
    roots: set[dg.AssetKey], assets_defs: Iterable[dg.AssetsDefinition], blocked: set[dg.AssetKey]
) -> set[dg.AssetKey]:
    """The roots and every executable asset downstream of them, not passing through `blocked` assets
    (external assets, such as the deliveries' partitions the steward view reports, are not built)."""
    children: dict[dg.AssetKey, set[dg.AssetKey]] = {}
    for assets_def in assets_defs:
        if not assets_def.is_executable:
            continue
        for key, parents in assets_def.asset_deps.items():
            if key in assets_def.keys:
                for parent in parents:
                    children.setdefault(parent, set()).add(key)
    seen, queue = set(roots), deque(roots)
    while queue:
        for child in children.get(queue.popleft(), ()):
            if child not in seen and child not in blocked:
                seen.add(child)
                queue.append(child)
    return seen


def _behind(
    assets_defs: list[dg.AssetsDefinition], instance: dg.DagsterInstance, blocked: set[dg.AssetKey]
) -> set[dg.AssetKey]:
    """Assets never materialized, or materialized before one of their inputs was (a run failed or
    was stopped between them). The persons models are judged by their fingerprint instead (`blocked`:
    current), since the steps they read from run on every dossier extract."""
    parents = {
        key: set(assets_def.asset_deps.get(key, ()))
        for assets_def in assets_defs
        for key in assets_def.keys
        if assets_def.is_executable
    }
    latest = instance.get_latest_materialization_events(parents)
    at = {key: event.timestamp for key, event in latest.items() if event is not None}
    return {
        key
        for key, inputs in parents.items()
        if key not in blocked
        and (key not in at or any(at.get(p, 0) > at[key] for p in inputs if p in parents))
    }


def _whole_steps(keys: set[dg.AssetKey], assets_defs: list[dg.AssetsDefinition]) -> set[dg.AssetKey]:
    """A step that cannot build a part of its assets (e.g. the quality step) is selected whole."""
    whole = set(keys)
    for assets_def in assets_defs:
        if not assets_def.can_subset and assets_def.keys & keys:
            whole |= assets_def.keys
    return whole


def untaken_landing_sources(settings: Settings) -> set[str]:
    """Sources (and `corrections`) with a landing entry the ingest has not taken yet, by the ingest's
    own rules (ward.ingest.load, ward.corrections.ingest)."""
    untaken = sources_with_new_files(settings)
    return untaken | {CORRECTIONS_FOLDER} if has_new_sheets(settings) else untaken


def unstaged_raw_sources(settings: Settings, con: duckdb.DuckDBPyConnection) -> set[str]:
    """Sources whose raw lake holds a file their staging model has not staged."""
    unstaged = set()
    for source, relation in STAGED_MODELS.items():
        raw = {p.stem for p in settings.raw_source_dir(source).glob("*.parquet") if p.name != EMPTY_RAW_NAME}
        try:
            staged = {r[0] for r in con.execute(f"select distinct file_sha256 from {relation}").fetchall()}
        except duckdb.CatalogException:
            staged = set()
        if not raw <= staged:
            unstaged.add(source)
    return unstaged


def _rules_changed(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        return evaluated_under_other_rules(con, rules_fingerprint(load_rules())) > 0
    except duckdb.CatalogException:
        return True  # never evaluated: nothing recorded in pipeline_state.processed yet
