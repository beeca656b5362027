"""Pseudonymise identifiers for the shared tier: HMAC-SHA256 under a key from the environment."""

from __future__ import annotations

import hashlib
import hmac

import pyarrow as pa


def keyed_hash(key: bytes, value: str | None) -> str | None:
    if value is None:
        return None
    return hmac.digest(key, value.encode("utf-8"), hashlib.sha256).hex()[:32]


def hash_column(key: bytes, column: pa.ChunkedArray) -> pa.Array:
    """Same value and key → same hash, so joins across shared marts still work.

    Each distinct value is hashed once (an applicant's key recurs across their dossiers).
    """
    encoded = column.cast(pa.string()).combine_chunks().dictionary_encode()
    hashes = pa.array([keyed_hash(key, v) for v in encoded.dictionary.to_pylist()], pa.string())
    return hashes.take(encoded.indices)
