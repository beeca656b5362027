"""dbt's invocation folders and parse state live under each data root (orchestration/resources.py)."""

from __future__ import annotations

import os

import pytest

from orchestration.resources import PARTIAL_PARSE, dbt_target
from ward.settings import Settings


def test_each_data_root_keeps_its_own_parse_state(tmp_path):
    ward_a, ward_b = Settings(data_dir=tmp_path / "a"), Settings(data_dir=tmp_path / "b")
    with dbt_target(ward_a, "dbt_staging") as folder:
        assert folder.parent == ward_a.dbt_target_dir
        assert not (folder / PARTIAL_PARSE).exists()  # nothing saved yet: dbt parses
        (folder / PARTIAL_PARSE).write_bytes(b"state of a")
    with dbt_target(ward_b, "dbt_staging") as folder:
        (folder / PARTIAL_PARSE).write_bytes(b"state of b")
    # ward b's state does not replace ward a's: a's next invocation starts from its own
    with dbt_target(ward_a, "dbt_downstream") as folder:
        assert (folder / PARTIAL_PARSE).read_bytes() == b"state of a"


def test_a_failed_invocation_leaves_the_saved_state_as_it_was(tmp_path):
    ward = Settings(data_dir=tmp_path)
    with dbt_target(ward, "dbt_staging") as folder:
        (folder / PARTIAL_PARSE).write_bytes(b"good")
    with pytest.raises(RuntimeError), dbt_target(ward, "dbt_staging") as folder:
        (folder / PARTIAL_PARSE).write_bytes(b"half-written")
        raise RuntimeError("dbt failed")
    assert (ward.dbt_target_dir / PARTIAL_PARSE).read_bytes() == b"good"


def test_old_invocation_folders_are_pruned(tmp_path):
    ward = Settings(data_dir=tmp_path)
    folders = []
    for i in range(33):
        with dbt_target(ward, "dbt_staging") as folder:
            os.utime(folder, (1_000_000 + i, 1_000_000 + i))  # oldest first
            folders.append(folder)
    kept = sorted(p for p in ward.dbt_target_dir.iterdir() if p.is_dir())
    assert len(kept) == 30
    assert not any(f.exists() for f in folders[:3])
