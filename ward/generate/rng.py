"""One independent random stream per concern, so changing one part of the generator never shifts another."""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    """A generator for `name` under `seed`: same (seed, name), same numbers, on every machine."""
    return np.random.default_rng([seed, zlib.crc32(name.encode("utf-8"))])


def pick(rng: np.random.Generator, eligible: np.ndarray, count: int) -> np.ndarray:
    """`count` distinct indices drawn from the boolean mask or index array `eligible`, sorted."""
    pool = np.flatnonzero(eligible) if eligible.dtype == bool else np.asarray(eligible)
    count = min(int(count), pool.size)
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(rng.choice(pool, size=count, replace=False))


def weighted_pick(
    rng: np.random.Generator, eligible: np.ndarray, weights: np.ndarray, count: int
) -> np.ndarray:
    """Like `pick`, with selection probability proportional to `weights` (aligned with the mask)."""
    pool = np.flatnonzero(eligible)
    count = min(int(count), pool.size)
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    w = np.asarray(weights, dtype=float)[pool]
    return np.sort(rng.choice(pool, size=count, replace=False, p=w / w.sum()))


def count_for(rate: float, n: int, minimum: int = 1) -> int:
    """Rows to plant for a rate: round(rate * n), at least `minimum` (so small wards show every kind)."""
    return max(minimum, round(rate * n)) if n > 0 else 0
