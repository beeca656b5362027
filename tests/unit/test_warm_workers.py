"""`ward run` starts its GX worker with its process (ward.warm_workers); the quality step takes that
one, or starts its own when the paths differ or none was started."""

from __future__ import annotations

from ward.quality import gx_validation
from ward.quality.gx_validation import gx_worker_for_this_run, take_worker


def test_the_quality_step_takes_the_worker_started_with_the_process(tmp_path):
    build_db, context_dir = tmp_path / "ward.duckdb", tmp_path / "gx"
    with gx_worker_for_this_run(build_db, context_dir):
        started = gx_validation._started_with_the_process
        taken = take_worker(build_db, context_dir)
        assert taken is started
        assert take_worker(build_db, context_dir) is not started  # one run, one use
    assert started._process.poll() is not None  # ended with the run
    taken.close()  # the step's teardown closes it again: nothing to do


def test_a_worker_for_other_paths_is_not_used(tmp_path):
    with gx_worker_for_this_run(tmp_path / "a.duckdb", tmp_path / "gx"):
        started = gx_validation._started_with_the_process
        other = take_worker(tmp_path / "b.duckdb", tmp_path / "gx")
        assert other is not started and other.serves == (tmp_path / "b.duckdb", tmp_path / "gx")
        assert started._process.poll() is not None  # stopped at once: nobody will use it
        other.close()
