"""Histograms and shares: the only form in which the model keeps what it learned."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd


def _py(v):
    """A JSON-able Python scalar (NA/NaN -> None)."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    return str(v)


def _hist_key(v):
    # numbers numerically, then text, then joint rows (by their JSON): stable, readable order
    if isinstance(v, bool) or v is None:
        return (0, 0.0 if v is None else float(v) + 1, "")
    if isinstance(v, (int, float)):
        return (1, float(v), "")
    if isinstance(v, str):
        return (2, 0.0, v)
    return (3, 0.0, json.dumps(v))


def _sorted_hist(pairs) -> list:
    return sorted(([v, int(c)] for v, c in pairs if c > 0), key=lambda x: _hist_key(x[0]))


def hist(values) -> list:
    """[[value, count], ...] of a Series (nulls as None) or a DataFrame (joint rows)."""
    if isinstance(values, pd.DataFrame):
        if not len(values):
            return []
        vc = values.astype(object).where(values.notna(), None).value_counts(dropna=False)
        return _sorted_hist(([_py(x) for x in k], c) for k, c in vc.items())
    s = pd.Series(values)
    if not len(s):
        return []
    vc = s.astype(object).where(s.notna(), None).value_counts(dropna=False)
    return _sorted_hist((_py(k), c) for k, c in vc.items())


def _share(mask) -> float | None:
    m = np.asarray(mask, dtype=bool)
    return round(float(m.mean()), 6) if len(m) else None


def _template_hist(texts: pd.Series) -> list:
    vc = texts.value_counts()
    return _sorted_hist((json.loads(k), c) for k, c in vc.items())
