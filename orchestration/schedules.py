"""Nightly rebuild, so freshness and age-based figures move even on days with no new file."""

from __future__ import annotations

import dagster as dg

from orchestration.jobs import ward_pipeline

nightly_rebuild = dg.ScheduleDefinition(
    name="nightly_rebuild",
    job=ward_pipeline,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Ho_Chi_Minh",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
