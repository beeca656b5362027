"""Nightly full rebuild: freshness and age-based figures move even on days with no new file, and
everything is restaged from the raw lake, so no incremental shortcut can drift for long."""

from __future__ import annotations

import dagster as dg

from orchestration.jobs import ward_pipeline
from ward.build_state import FULL_REFRESH_TAG

nightly_rebuild = dg.ScheduleDefinition(
    name="nightly_rebuild",
    job=ward_pipeline,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Ho_Chi_Minh",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    tags={FULL_REFRESH_TAG: "true"},
)
