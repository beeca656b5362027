"""Keys, roles and the audit trail of `ward serve` (ward/serve/auth.py, audit.py): no warehouse needed."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest

from ward.serve.audit import AuditLog
from ward.serve.auth import KeyFileError, KeyStore, hash_key, new_key_entry, parse_keys
from ward.settings import Settings


def _keys_file(tmp_path, entries: dict) -> os.PathLike:
    path = tmp_path / "keys.yml"
    path.write_text(json.dumps({"keys": entries}, ensure_ascii=False), encoding="utf-8")
    return path


def test_a_key_is_accepted_by_its_hash_only(tmp_path):
    path = _keys_file(
        tmp_path,
        {f"sha256:{hash_key('secret-1')}": {"name": "Tổ trưởng 3", "role": "group_leader", "group": 3}},
    )
    store = KeyStore(path)
    who = store.authenticate("secret-1")
    assert (who.name, who.role, who.group, who.personal_group) == ("Tổ trưởng 3", "group_leader", 3, 3)
    assert who.key_id == hash_key("secret-1")[:8]
    assert store.authenticate("secret-2") is None
    assert store.authenticate("") is None and store.authenticate(None) is None
    assert "secret-1" not in path.read_text()


def test_the_keys_file_is_read_again_when_it_changes(tmp_path):
    path = _keys_file(tmp_path, {hash_key("a"): {"name": "A", "role": "leader"}})
    store = KeyStore(path)
    assert store.authenticate("a").role == "leader"
    path.write_text(json.dumps({"keys": {hash_key("b"): {"name": "B", "role": "steward", "extra": 1}}}))
    os.utime(path, ns=(1, 2_000_000_000_000_000_000))
    assert store.authenticate("a") is None  # revoked by deleting its line
    assert store.authenticate("b").role == "steward"


@pytest.mark.parametrize(
    "entries",
    [
        {"my-plain-key": {"name": "x", "role": "leader"}},  # a key, not its hash
        {hash_key("k"): {"name": "x", "role": "mayor"}},
        {hash_key("k"): {"name": "x", "role": "group_leader"}},  # no group
        {hash_key("k"): {"name": "x", "role": "group_leader", "group": "3"}},
    ],
)
def test_unusable_entries_are_refused(entries):
    with pytest.raises(KeyFileError):
        parse_keys(json.dumps({"keys": entries}))


def test_a_missing_or_broken_keys_file_refuses_every_key(tmp_path):
    assert KeyStore(None).authenticate("x") is None and "not set" in KeyStore(None).check()
    assert KeyStore(tmp_path / "none.yml").authenticate("x") is None
    broken = tmp_path / "broken.yml"
    broken.write_text("keys: {plain: {role: leader}}")
    store = KeyStore(broken)
    assert store.authenticate("plain") is None and "refused" in store.check()


def test_new_key_entries_round_trip():
    key, line = new_key_entry("group_leader", "Tổ trưởng 5", 5)
    assert key not in line and hash_key(key) in line
    ((digest, who),) = parse_keys("keys:\n" + line)
    assert digest == hash_key(key) and who.group == 5 and who.name == "Tổ trưởng 5"
    with pytest.raises(KeyFileError):
        new_key_entry("group_leader", "x")


def test_audit_lines_are_appended_owner_only_and_queried_with_filters(tmp_path):
    log = AuditLog(tmp_path / "audit" / "serve.jsonl")
    t0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    for i, (who, role, status, groups) in enumerate(
        [("A", "leader", 200, [None]), ("B", "group_leader", 403, []), ("B", "group_leader", 200, [3])]
    ):
        log.append(
            {
                "time": (t0 + dt.timedelta(hours=i)).isoformat(),
                "who": who,
                "role": role,
                "endpoint": "/api/metrics",
                "status": status,
                "groups": groups,
            }
        )
    assert stat.S_IMODE(log.path.stat().st_mode) == 0o600
    assert len(log.path.read_text().splitlines()) == 3
    assert [r["status"] for r in log.query(who="B")] == [403, 200]
    assert len(log.query(group=3)) == 1 and len(log.query(status=403)) == 1
    assert len(log.query(since=t0 + dt.timedelta(minutes=30))) == 2
    assert len(log.query(limit=1)) == 1


def test_settings_read_the_serve_variables(tmp_path):
    s = Settings.from_env(
        {
            "WARD_DATA_DIR": str(tmp_path),
            "WARD_SERVE_KEYS_FILE": str(tmp_path / "k.yml"),
            "WARD_SERVE_MIN_CELL": "10",
            "WARD_SERVE_PORT": "8123",
        }
    )
    assert (s.serve_keys_file, s.serve_min_cell, s.serve_port) == (tmp_path / "k.yml", 10, 8123)
    d = Settings.from_env({"WARD_DATA_DIR": str(tmp_path)})
    assert (d.serve_keys_file, d.serve_min_cell) == (None, 5)
