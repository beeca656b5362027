"""Keys and roles of `ward serve`, checked on the server for every request.

The administrator keeps the keys file outside the repository (setting WARD_SERVE_KEYS_FILE). It holds
no key, only the SHA-256 of each, with who holds it:

    keys:
      "sha256:9f86d081884c7d65...": {name: "Chủ tịch UBND phường", role: leader}
      "sha256:60303ae22b998861...": {name: "Tổ trưởng tổ 3", role: group_leader, group: 3}

(JSON with the same shape works too.) `ward serve --new-key ROLE [--group N] --name NAME` prints a
fresh key once, and the line to paste. A presented key is hashed and compared with every entry with
hmac.compare_digest. The file is read again when it changes, so a key is revoked by deleting its line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

import yaml

ROLES = {
    "leader": "Lãnh đạo phường: mọi tổ, chỉ số tổng hợp / ward leader: all groups, aggregates only",
    "group_leader": "Tổ trưởng: tổ của mình, tổng hợp và danh sách việc cần làm / group leader: own group",
    "steward": "Cán bộ dữ liệu: cách ly và phát hiện, mọi tổ / data steward: quarantine and findings",
    "app": "Ứng dụng: chỉ tầng chia sẻ không có dữ liệu cá nhân / app: the shared tier only",
    "admin": "Quản trị: nhật ký truy cập / administrator: the audit trail",
}


class KeyFileError(ValueError):
    """The keys file cannot be used (the message says which entry and why)."""


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    group: int | None = None
    key_id: str = ""  # the first 8 hex digits of the key's SHA-256: which entry, never the key

    @property
    def personal_group(self) -> int | None:
        """The one residential group whose named persons this caller may see (group leaders)."""
        return self.group if self.role == "group_leader" else None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key_entry(role: str, name: str, group: int | None = None) -> tuple[str, str]:
    """A fresh key and the line of the keys file that accepts it (the key itself is not in it)."""
    if role not in ROLES:
        raise KeyFileError(f"unknown role {role!r}; roles: {sorted(ROLES)}")
    if role == "group_leader" and group is None:
        raise KeyFileError("a group_leader key needs --group")
    key = secrets.token_urlsafe(32)
    entry = {"name": name, "role": role, **({"group": group} if role == "group_leader" else {})}
    return key, f'  "sha256:{hash_key(key)}": {json.dumps(entry, ensure_ascii=False)}'


def parse_keys(text: str) -> list[tuple[str, Principal]]:
    data = yaml.safe_load(text) or {}
    entries = data.get("keys", data) if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise KeyFileError("expected a mapping `keys: {sha256:<hex>: {name, role, group}}`")
    out = []
    for digest, info in entries.items():
        hexdigest = str(digest).removeprefix("sha256:").strip().lower()
        if len(hexdigest) != 64 or any(c not in "0123456789abcdef" for c in hexdigest):
            raise KeyFileError(
                f"entry {str(digest)[:14]}…: not a SHA-256 in hex (store the hash, not the key)"
            )
        if not isinstance(info, dict) or info.get("role") not in ROLES:
            raise KeyFileError(f"entry sha256:{hexdigest[:8]}…: role must be one of {sorted(ROLES)}")
        group = info.get("group")
        if info["role"] == "group_leader":
            if not isinstance(group, int):
                raise KeyFileError(
                    f"entry sha256:{hexdigest[:8]}…: a group_leader needs a whole-number group"
                )
        else:
            group = None
        out.append(
            (hexdigest, Principal(str(info.get("name") or hexdigest[:8]), info["role"], group, hexdigest[:8]))
        )
    return out


class KeyStore:
    """The keys file, re-read when it changes; missing or unusable: every key is refused."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._entries: list[tuple[str, Principal]] = []
        self.error: str | None = None

    def _entries_now(self) -> list[tuple[str, Principal]]:
        if self.path is None:
            self.error = "WARD_SERVE_KEYS_FILE is not set"
            return []
        try:
            st = self.path.stat()
        except OSError:
            self.error = f"keys file {self.path} not found"
            self._entries, self._stamp = [], None
            return []
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._entries, self.error = parse_keys(self.path.read_text(encoding="utf-8")), None
                except (KeyFileError, yaml.YAMLError) as exc:
                    self._entries, self.error = [], f"keys file refused: {exc}"
                self._stamp = stamp
            return self._entries

    def check(self) -> str | None:
        """Why no key can be accepted now, or None."""
        entries = self._entries_now()
        return self.error or (None if entries else "the keys file holds no key")

    def authenticate(self, key: str | None) -> Principal | None:
        if not key:
            return None
        digest = hash_key(key)
        found = None
        for entry_digest, principal in self._entries_now():  # every entry compared, found or not
            if hmac.compare_digest(digest, entry_digest):
                found = principal
        return found
