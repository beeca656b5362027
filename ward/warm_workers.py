"""What a one-run process (`ward run`, the bench's runs) starts before anything else: the workers
that warm up on the machine's other core while it imports Dagster and loads its definitions.

- dbt (ward.dbt_worker): a `dbt parse` pays dbt's first-invocation cost (≈ 1 s) before staging.
- Great Expectations (ward.quality.gx_validation): its imports and file context (≈ 2–3 s, at the
  lowest priority) before the quality step.

Both are idle when the run ends and are let go: GX's is stopped if it never validated; dbt's ends by
itself once its input is closed (after its warm-up, when the run built nothing).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ward.dbt_worker import dbt_worker_for_this_run
from ward.quality.gx_validation import gx_worker_for_this_run
from ward.settings import Settings


@contextlib.contextmanager
def warm_workers(settings: Settings) -> Iterator[None]:
    gx = gx_worker_for_this_run(settings.build_db_path, settings.quality_dir)
    with dbt_worker_for_this_run(settings), gx:
        yield
