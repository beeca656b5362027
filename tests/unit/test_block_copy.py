"""An older copy is brought up to date in place only when nobody has it open (ward.publish.block_copy)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ward.publish.atomic import spare_path, stage_file
from ward.publish.block_copy import CHUNK, claim_unread, refresh

pytestmark = pytest.mark.skipif(not hasattr(__import__("fcntl"), "F_OFD_SETLK"), reason="Linux OFD locks")


def _refreshed(old: bytes, new: bytes, tmp_path: Path) -> tuple[bytes, int]:
    copy, source = tmp_path / "copy", tmp_path / "source"
    copy.write_bytes(old)
    source.write_bytes(new)
    fd = claim_unread(copy)
    assert fd is not None
    try:
        written = refresh(fd, source)
    finally:
        os.close(fd)
    return copy.read_bytes(), written


def test_only_the_changed_chunks_are_written(tmp_path):
    old = os.urandom(5 * CHUNK + 123)
    new = bytearray(old)
    new[2 * CHUNK + 7] ^= 0xFF  # one byte in the third chunk
    result, written = _refreshed(old, bytes(new), tmp_path)
    assert result == bytes(new)
    assert written == CHUNK


@pytest.mark.parametrize("size", [0, CHUNK // 2, 3 * CHUNK, 7 * CHUNK + 1])
def test_a_copy_of_another_size_ends_equal(tmp_path, size):
    new = os.urandom(size)
    for old in (os.urandom(4 * CHUNK + 5), b""):
        assert _refreshed(old, new, tmp_path)[0] == new


def test_no_claim_on_a_missing_file(tmp_path):
    assert claim_unread(tmp_path / "absent") is None


def _database(path: Path, rows: int) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute(f"create or replace table t as select range as x from range({rows})")
    return path


def test_a_file_an_analyst_has_open_is_not_claimed(tmp_path):
    path = _database(tmp_path / "w.duckdb", 10)
    with duckdb.connect(str(path), read_only=True):  # a reader in this process
        assert claim_unread(path) is None
    reader = subprocess.Popen(  # and one in another process
        [
            sys.executable,
            "-c",
            f"import duckdb,sys; c=duckdb.connect({str(path)!r}, read_only=True); "
            "print('open', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "open"
        assert claim_unread(path) is None
    finally:
        reader.communicate("")
    fd = claim_unread(path)
    assert fd is not None
    try:  # claimed: no reader can open it until the copy is swapped in
        with pytest.raises(duckdb.IOException, match="lock"):
            duckdb.connect(str(path), read_only=True)
    finally:
        os.close(fd)


def test_a_spare_in_use_is_left_to_its_reader(tmp_path):
    build = _database(tmp_path / "build.duckdb", 1000)
    target = tmp_path / "warehouse" / "ward.duckdb"
    target.parent.mkdir()
    spare = _database(spare_path(target), 10)
    with duckdb.connect(str(spare), read_only=True) as reader:
        staged = stage_file(build, target)
        assert reader.execute("select count(*) from t").fetchall() == [(10,)]  # not written into
    assert staged.read_bytes() == build.read_bytes()
    assert not spare.exists()  # its name goes; the reader kept the file while it had it open
