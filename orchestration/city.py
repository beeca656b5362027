"""The city's Dagster code location (many wards, one deployment): composes ward/city/assets.py.

A code location of its own, beside the ward's (orchestration/definitions.py, unchanged):
`DAGSTER_HOME=$WARD_CITY_DIR/city/.dagster .venv/bin/dagster dev -m orchestration.city`, its
dagster.yaml written by `ward city run` (docs/scale.md, "Many wards, one deployment").
"""

from __future__ import annotations

from ward.city.assets import build_city_definitions
from ward.city.settings import CitySettings

defs = build_city_definitions(CitySettings.from_env())
