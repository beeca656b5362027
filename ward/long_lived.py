"""Python's cyclic garbage collector in a one-shot run process (`ward run`, the benches).

Importing Dagster, dagster-dbt (which imports dbt) and pandera, then building the definitions,
leaves about 500,000 objects that live until the process ends. The collector walks all of them at
every full collection during the run, and again at each of the collections the interpreter makes
while it shuts down: at 1,000,000 residents, ≈ 2 s and ≈ 1.7 s of a 20-second daily run
(docs/architecture.md, "Process start and end"). `gc.freeze()`, the standard library's public
answer to this, moves the objects that exist into a generation the collector never walks again.
Garbage the run itself makes is still collected, in larger batches: a run allocates millions of
short-lived objects (dbt's events and compiled nodes, Dagster's event records), and with Python's
default threshold (a young collection every 700 net allocations) a 1M daily made ≈ 850 young, 76
middle and 5 full collections, ≈ 0.7 s; at 10,000 it makes ≈ 60, 2 and none, ≈ 0.25 s, for the same
peak memory. The code location does the same once its definitions are built
(orchestration/definitions.py), for the runs the UI and the sensors start.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def created_for_good() -> Iterator[None]:
    """Objects created inside (imports, definitions) live as long as the process: no collection
    while they are made, then frozen out of every later one."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def freeze_long_lived() -> None:
    """Everything that exists now lives as long as the process: a code location once loaded, or a
    run process about to end (the interpreter's final collections then walk none of it; the
    operating system takes the memory back whole)."""
    gc.freeze()


# (young, middle, old): a young collection every 10,000 net allocations instead of 700; the middle
# and old generations as often relative to it as Python's defaults (10, 10), the middle a bit less.
RUN_THRESHOLDS = (10_000, 20, 10)


def collect_in_larger_batches() -> None:
    """For a process that runs the pipeline: the young generation collected after 10,000 net
    allocations, not 700 (see the module's docstring)."""
    gc.set_threshold(*RUN_THRESHOLDS)
