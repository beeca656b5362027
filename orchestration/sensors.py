"""Start the pipeline when an officer drops a new file into the landing folder.

The cursor is a fingerprint of each source folder's listing (name, size, modification time), so a
new or replaced file starts one run and an unchanged folder starts none. Re-delivered bytes are
still harmless: the ingest ledger makes them a no-op.
"""

import hashlib
import json

import dagster as dg
import duckdb

from orchestration.jobs import ward_pipeline
from orchestration.resources import WardResource
from orchestration.selection import plan_run, untaken_landing_sources
from ward.ingest.load import CORRECTIONS_FOLDER
from ward.settings import SOURCES


def landing_fingerprints(ward: WardResource) -> dict[str, str]:
    fingerprints = {}
    for source in (*SOURCES, CORRECTIONS_FOLDER):  # the stewards' corrections start a run too
        folder = ward.settings.landing_dir / source
        files = sorted(
            (p.name, p.stat().st_size, p.stat().st_mtime_ns)
            for p in (folder.iterdir() if folder.exists() else [])
            if p.is_file() and not p.name.startswith(".")
        )
        fingerprints[source] = hashlib.sha256(repr(files).encode()).hexdigest()[:16]
    return fingerprints


def taken_already(ward: WardResource) -> set[str]:
    """Sources whose every landing file the ledger already took (for a sensor with no cursor yet):
    `ward run` before the first `ward ui` has read them, and the first tick must not run them again."""
    return set((*SOURCES, CORRECTIONS_FOLDER)) - untaken_landing_sources(ward.settings)


@dg.sensor(job=ward_pipeline, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def landing_sensor(context: dg.SensorEvaluationContext, ward: WardResource):
    current = landing_fingerprints(ward)
    previous = json.loads(context.cursor) if context.cursor else dict.fromkeys(taken_already(ward), None)
    # first tick: a source whose files were all taken already counts as unchanged
    previous = {s: current[s] if f is None else f for s, f in previous.items()}
    changed = sorted(s for s, f in current.items() if previous.get(s) != f)
    if not changed:
        context.update_cursor(json.dumps(current))
        return dg.SkipReason("No new files in the landing folder.")
    try:  # what the run builds: the assets of the new files and what they feed
        plan = plan_run(ward.settings, context.repository_def.assets_defs_by_key.values(), context.instance)
    except duckdb.IOException:  # a run holds the build database: look again at the next tick
        return dg.SkipReason("A run is writing the build database; the new files wait for the next tick.")
    context.update_cursor(json.dumps(current))
    if plan.builds_nothing:  # e.g. a file removed from the landing folder
        return dg.SkipReason("The landing folder changed but holds no new file.")
    run_key = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=plan.selection(),
        tags={
            "ward/trigger": "landing",
            "ward/sources": ",".join(changed),
            "ward/plan": "; ".join(plan.reasons),
        },
    )
