"""Start the pipeline when an officer drops a new file into the landing folder.

The cursor is a fingerprint of each source folder's listing (name, size, modification time), so a
new or replaced file starts one run and an unchanged folder starts none. Re-delivered bytes are
still harmless: the ingest ledger makes them a no-op.
"""

import hashlib
import json
from datetime import UTC, datetime

import dagster as dg
import polars as pl

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


def taken_already(ward: WardResource) -> set[str]:
    """Sources whose every landing file the last runs already took (a sensor with no cursor yet).

    `ward run` before the first `ward ui` has read them: an extract file is taken when the ledger has
    its path and it was not modified after the ledger saw it; a corrections sheet when its bytes are
    in raw/corrections/. Without this, the first tick would start a run of everything at each new UI.
    """
    settings = ward.settings
    seen: dict[str, datetime] = {}
    if settings.ledger_path.exists():
        ledger = pl.read_parquet(settings.ledger_path, columns=["source_file", "loaded_at"])
        for source_file, loaded_at in (
            ledger.group_by("source_file").agg(pl.col("loaded_at").max()).iter_rows()
        ):
            if loaded_at is not None:
                seen[source_file] = loaded_at.replace(tzinfo=UTC) if loaded_at.tzinfo is None else loaded_at
    taken = set()
    for source in (*SOURCES, CORRECTIONS_FOLDER):
        folder = settings.landing_dir / source
        files = [p for p in (folder.iterdir() if folder.exists() else []) if p.is_file()]
        files = [p for p in files if not p.name.startswith(".")]
        if source == CORRECTIONS_FOLDER:
            raw = settings.raw_dir / CORRECTIONS_FOLDER
            new = [
                p
                for p in files
                if not (raw / f"{hashlib.sha256(p.read_bytes()).hexdigest()}.parquet").exists()
            ]
        else:
            new = [
                p
                for p in files
                if f"{source}/{p.name}" not in seen
                or datetime.fromtimestamp(p.stat().st_mtime, UTC) > seen[f"{source}/{p.name}"]
            ]
        if not new:
            taken.add(source)
    return taken


@dg.sensor(job=ward_pipeline, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def landing_sensor(context: dg.SensorEvaluationContext, ward: WardResource):
    current = landing_fingerprints(ward)
    previous = json.loads(context.cursor) if context.cursor else dict.fromkeys(taken_already(ward), None)
    # first tick: a source whose files were all taken already counts as unchanged
    previous = {s: current[s] if f is None else f for s, f in previous.items()}
    changed = sorted(s for s, f in current.items() if previous.get(s) != f)
    context.update_cursor(json.dumps(current))
    if not changed:
        return dg.SkipReason("No new files in the landing folder.")
    run_key = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    return dg.RunRequest(run_key=run_key, tags={"ward/trigger": "landing", "ward/sources": ",".join(changed)})
