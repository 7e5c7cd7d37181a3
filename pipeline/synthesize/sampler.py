"""Sampling from the model: per-row draws from the histogram of each row's kind."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa

from pipeline.synthesize.text import bool_array, int_array, pick


class Sampler:
    """Draws per row from the histogram of the row's kind (the pooled one when the kind has none)."""

    def __init__(self, model: dict, kinds: list[str], rng: np.random.Generator):
        self.model, self.kinds, self.rng = model, kinds, rng

    def get(self, kind: str, key):
        def look(d):
            for k in (key if isinstance(key, tuple) else (key,)):
                if not isinstance(d, dict):
                    return None
                d = d.get(k)
            return d

        v = look(self.model["kinds"].get(kind, {}))
        if v is None or (isinstance(v, (list, dict)) and not v):
            v = look(self.model.get("global", {}))
        return v

    def _idx(self, h: list, n: int) -> np.ndarray:
        c = np.array([x[1] for x in h], dtype=np.float64)
        return self.rng.choice(len(h), size=n, p=c / c.sum())

    def cols(self, key, kind_rows: np.ndarray, ncols: int | None = None, default=None):
        """[(codes, categories)] per column (ncols None: one scalar column)."""
        n = len(kind_rows)
        width = ncols or 1
        present = np.unique(kind_rows)
        hs = {k: (self.get(self.kinds[k], key) or []) for k in present}
        cats: list[list] = [[] for _ in range(width)]
        index: list[dict] = [{} for _ in range(width)]

        def code(c, v):
            t = json.dumps(v)
            if t not in index[c]:
                index[c][t] = len(cats[c])
                cats[c].append(v)
            return index[c][t]

        dflt = [code(c, default if ncols is None else (default[c] if default else None))
                for c in range(width)]
        codes = np.tile(np.array(dflt, dtype=np.int64)[:, None], (1, n))
        for k in present:
            h = hs[k]
            if not h:
                continue
            rows = np.flatnonzero(kind_rows == k)
            table = np.array([[code(c, (x[0] if ncols is None else x[0][c])) for c in range(width)]
                              for x in h], dtype=np.int64)
            codes[:, rows] = table[self._idx(h, len(rows))].T
        return [(codes[c], cats[c]) for c in range(width)]

    def ints(self, key, kind_rows: np.ndarray, default: int = 0) -> np.ndarray:
        (codes, cats), = self.cols(key, kind_rows, None, default)
        return int_values(codes, cats, default)

    def share(self, key, kind_rows: np.ndarray, default: float = 0.0) -> np.ndarray:
        p = np.array(self.value(key, default), dtype=np.float64)
        return self.rng.random(len(kind_rows)) < p[kind_rows] if len(kind_rows) else np.zeros(0, bool)

    def value(self, key, default=None) -> list:
        """The scalar `key` (a share) per kind, `default` where neither kind nor pool has one."""
        vals = [self.get(k, key) for k in self.kinds]
        return [default if v is None else v for v in vals]


def int_values(codes, cats, default=0) -> np.ndarray:
    vals = np.array([default if v is None else int(v) for v in cats], dtype=np.int64)
    return vals[codes]


def str_column(codes, cats) -> pa.Array:
    return pick([None if v is None else str(v) for v in cats], codes)


def bool_column(codes, cats) -> pa.Array:
    vals = np.array([bool(v) if v is not None else False for v in cats])
    nulls = np.array([v is None for v in cats])
    return bool_array(vals[codes], nulls[codes] if nulls.any() else None)


def int_column(codes, cats) -> pa.Array:
    vals = np.array([int(v) if v is not None else 0 for v in cats], dtype=np.int64)
    nulls = np.array([v is None for v in cats])
    return int_array(vals[codes], nulls[codes] if nulls.any() else None)
