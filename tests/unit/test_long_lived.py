"""ward.long_lived: what a one-shot run process creates for good is kept out of the collector's walks."""

import gc

import pytest
from typer.testing import CliRunner

from ward.long_lived import RUN_THRESHOLDS, collect_in_larger_batches, created_for_good, freeze_long_lived


@pytest.fixture(autouse=True)
def _thawed():
    """Each test starts and ends with nothing frozen, and the collector in the state it found."""
    enabled, thresholds = gc.isenabled(), gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc.enable() if enabled else gc.disable()


def _collections_during(block) -> int:
    started = []

    def count(phase, _info):
        if phase == "start":
            started.append(1)

    gc.callbacks.append(count)
    try:
        block()
    finally:
        gc.callbacks.remove(count)
    return len(started)


def test_objects_made_inside_are_frozen_without_a_collection_while_they_are_made():
    kept = []

    def make():
        with created_for_good():
            kept.extend([[i] for i in range(50_000)])  # far past generation 0's threshold (700)

    assert _collections_during(make) == 0
    assert gc.get_freeze_count() >= 50_000
    assert gc.isenabled()
    # Garbage made afterwards is collected as usual.
    assert _collections_during(lambda: [[i] for i in range(50_000)]) > 0


def test_the_collector_is_left_as_it_was_and_the_objects_frozen_even_when_the_block_fails():
    gc.disable()
    with pytest.raises(RuntimeError), created_for_good():
        raise RuntimeError("an import failed")
    assert not gc.isenabled()
    assert gc.get_freeze_count() > 0


def test_ward_run_freezes_what_is_left_before_the_process_ends(monkeypatch):
    import ward.cli.run
    from ward.cli import app

    seen = {}

    def run_pipeline(*_args, **_kwargs):
        gc.unfreeze()  # as if the run had made every object after the imports
        seen["frozen during the run"] = gc.get_freeze_count()
        return 0

    monkeypatch.setattr(ward.cli.run, "run_pipeline", run_pipeline)
    result = CliRunner().invoke(app, ["run"])
    assert result.exit_code == 0, result.output
    assert seen["frozen during the run"] == 0
    assert gc.get_freeze_count() > 0


def test_freezing_before_the_end_freezes_every_object():
    freeze_long_lived()
    assert gc.get_freeze_count() > 0


def test_a_run_collects_its_garbage_in_larger_batches():
    gc.set_threshold(700, 10, 10)  # Python's defaults
    garbage = lambda: [[i] for i in range(20_000)]  # noqa: E731
    by_default = _collections_during(garbage)
    collect_in_larger_batches()
    assert gc.get_threshold() == RUN_THRESHOLDS
    assert _collections_during(garbage) < by_default / 5


def test_the_code_location_freezes_what_it_built(tmp_path):
    """The UI's code server and the runs it starts load orchestration.definitions in a process of
    their own: after loading, the definitions are out of the collector's walks, and the runs'
    garbage is collected in larger batches."""
    import os
    import subprocess
    import sys

    code = "import gc, orchestration.definitions; print(gc.get_freeze_count(), gc.get_threshold()[0])"
    env = {**os.environ, "WARD_DATA_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    frozen, young = map(int, out.stdout.split())
    assert frozen > 100_000
    assert young == RUN_THRESHOLDS[0]
