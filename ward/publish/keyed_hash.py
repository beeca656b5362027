"""Pseudonymise identifiers for the shared tier: HMAC-SHA256 under a key from the environment."""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa


def keyed_hash(key: bytes, value: str | None) -> str | None:
    if value is None:
        return None
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def hash_column(key: bytes, column: pa.ChunkedArray) -> pa.Array:
    """Same value and key → same hash, so joins across shared marts still work."""
    return pa.array([keyed_hash(key, v) for v in column.cast(pa.string()).to_pylist()], pa.string())
