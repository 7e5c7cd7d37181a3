"""Vectorized index helpers: segments, ranks, distinct draws, apportioning."""

from __future__ import annotations

import numpy as np


def run_starts(counts: np.ndarray) -> np.ndarray:
    c = np.asarray(counts, dtype=np.int64)
    out = np.zeros(len(c), dtype=np.int64)
    if len(c) > 1:
        np.cumsum(c[:-1], out=out[1:])
    return out


def run_rank(groups: np.ndarray) -> np.ndarray:
    """0-based position of each row within its run of equal (sorted) group values."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.ones(n, dtype=bool)
    first[1:] = groups[1:] != groups[:-1]
    idx = np.arange(n, dtype=np.int64)
    return idx - np.maximum.accumulate(np.where(first, idx, 0))


def segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, rank): expand `counts[i]` rows per i; rank = 0..counts[i]-1."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    return owner, np.arange(len(owner), dtype=np.int64) - run_starts(counts)[owner]


def rank_by(keys: np.ndarray) -> np.ndarray:
    """0-based rank of each row among rows with the same key, in row order (keys unsorted)."""
    if len(keys) == 0:
        return np.zeros(0, np.int64)
    o = np.argsort(keys, kind="stable")
    r = np.empty(len(keys), np.int64)
    r[o] = run_rank(keys[o])
    return r


def unique_ints(rng: np.random.Generator, n: int, lo: int, hi: int) -> np.ndarray:
    """n distinct integers in [lo, hi] (repeats only when the range is smaller than n)."""
    span = hi - lo + 1
    if n >= span:
        return lo + np.arange(n, dtype=np.int64) % span
    v = rng.integers(lo, hi + 1, n)
    for _ in range(64):
        _, first = np.unique(v, return_index=True)
        dup = np.ones(n, bool)
        dup[first] = False
        if not dup.any():
            break
        v[dup] = rng.integers(lo, hi + 1, int(dup.sum()))
    return v


def largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    raw = shares / shares.sum() * total
    base = np.floor(raw).astype(np.int64)
    rest = total - base.sum()
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return base
