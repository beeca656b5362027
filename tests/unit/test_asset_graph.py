"""Snapshot of the asset graph, so a change to it shows up in review.

After an intended change: `WARD_UPDATE_SNAPSHOTS=1 pytest tests/unit/test_asset_graph.py`, and
commit tests/snapshots/asset_graph.txt with the change.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from orchestration.definitions import defs

SNAPSHOT = Path(__file__).parent.parent / "snapshots" / "asset_graph.txt"


def render_graph() -> str:
    graph = defs.resolve_asset_graph()
    lines = []
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        parents = ", ".join(sorted(p.to_user_string() for p in node.parent_keys))
        kind = "asset" if node.is_materializable else "external"
        lines.append(f"{kind} {key.to_user_string()} <- [{parents}]")
    for check in sorted(graph.asset_check_keys, key=lambda c: (c.asset_key.to_user_string(), c.name)):
        lines.append(f"check {check.asset_key.to_user_string()} :: {check.name}")
    jobs = sorted(j.name for j in defs.jobs or [])
    lines.append(f"jobs {jobs}")
    lines.append(f"schedules {sorted(s.name for s in defs.schedules or [])}")
    lines.append(f"sensors {sorted(s.name for s in defs.sensors or [])}")
    return "\n".join(lines) + "\n"


def test_asset_graph_matches_snapshot():
    rendered = render_graph()
    if os.environ.get("WARD_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(rendered)
    assert rendered == SNAPSHOT.read_text()


def test_every_dbt_source_of_landing_is_an_ingest_asset():
    graph = defs.resolve_asset_graph()
    for source in ("citizens", "households", "service_records", "deliveries"):
        assert graph.get(dg.AssetKey(["landing", source])).is_materializable, source
