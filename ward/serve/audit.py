"""The audit trail of `ward serve`: one JSON line per request, appended, never rewritten.

Each line says who asked (key holder's name, role, group, key id), what (method, endpoint, path,
parameters without the key), why (the X-Purpose header), what came back (status, row count, the
residential groups of the rows) and when, from where. It never holds a returned value: parameters name
metrics, dimensions and pages, never a person. The file is created 0600 and only ever opened for
appending (O_APPEND); no endpoint writes or deletes it. GET /api/audit (role admin) reads it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MAX_PURPOSE = 200


class AuditLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False, default=str, separators=(",", ":")) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_mode & 0o077:
                    os.fchmod(fd, 0o600)
                os.write(fd, line)
            finally:
                os.close(fd)

    def lines(self) -> Iterator[dict[str, Any]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError:
                        continue

    def query(
        self,
        who: str | None = None,
        role: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
        group: int | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        """The latest `limit` lines matching every filter given, oldest first."""
        out: list[dict[str, Any]] = []
        for rec in self.lines():
            if who is not None and rec.get("who") != who:
                continue
            if role is not None and rec.get("role") != role:
                continue
            if endpoint is not None and rec.get("endpoint") != endpoint:
                continue
            if status is not None and rec.get("status") != status:
                continue
            if group is not None and group not in (rec.get("groups") or []):
                continue
            if since or until:
                t = dt.datetime.fromisoformat(rec["time"])
                if (since and t < _aware(since)) or (until and t > _aware(until)):
                    continue
            out.append(rec)
        return out[-limit:]


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)
