"""Start the pipeline when an officer drops a new file into the landing folder.

The cursor is a fingerprint of each source folder's listing (name, size, modification time), so a
new or replaced file starts one run and an unchanged folder starts none. Re-delivered bytes are
still harmless: the ingest ledger makes them a no-op.
"""

import hashlib
import json

import dagster as dg

from orchestration.jobs import ward_pipeline
from orchestration.resources import WardResource
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


@dg.sensor(job=ward_pipeline, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def landing_sensor(context: dg.SensorEvaluationContext, ward: WardResource):
    current = landing_fingerprints(ward)
    previous = json.loads(context.cursor) if context.cursor else {}
    changed = sorted(s for s, f in current.items() if previous.get(s) != f)
    context.update_cursor(json.dumps(current))
    if not changed:
        return dg.SkipReason("No new files in the landing folder.")
    run_key = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=run_key, tags={"ward/trigger": "landing", "ward/sources": ",".join(changed)})
