"""The distribution metrics of the evaluation, as SDMetrics defines them, and the rounding every
reported float goes through."""

from __future__ import annotations

import numpy as np
import pandas as pd


def _r(x: float | None) -> float | None:
    # 6 digits: stable reports, far below any sampling noise of these metrics.
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return None
    return round(float(x), 6)


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return _r(float(np.mean(xs))) if xs else None


# Metrics, as SDMetrics defines them
#
# KSComplement (sdmetrics/single_column/statistical/kscomplement.py): drop missing values, then
# 1 - D where D is the two-sample Kolmogorov-Smirnov statistic (scipy.stats.ks_2samp), the
# largest distance between the two empirical CDFs. 1 = same distribution, 0 = disjoint supports.
# TVComplement (sdmetrics/single_column/statistical/tv_complement.py): drop missing values, then
# 1 - TVD with TVD = 1/2 * sum over categories of |share_real - share_synthetic|; SDMetrics
# adds a category seen only in the synthetic data to the real counts with weight 1e-6 (to avoid
# dividing by zero), which we take as exactly 0: the results differ by < 1e-6 / n_real.


def ks_complement(real, synthetic) -> float | None:
    """1 - two-sample KS statistic of two numeric samples (missing dropped); None if one is empty."""
    # SDMetrics rounds to sys.float_info.dig - 1 decimals first (float noise is no difference).
    a = np.round(_numeric(real), 14)
    b = np.round(_numeric(synthetic), 14)
    if len(a) == 0 or len(b) == 0:
        return None
    a.sort()
    b.sort()
    # D = sup_x |F_a(x) - F_b(x)|; the sup is reached at one of the sample points.
    grid = np.concatenate([a, b])
    fa = np.searchsorted(a, grid, side="right") / len(a)
    fb = np.searchsorted(b, grid, side="right") / len(b)
    return float(1.0 - np.max(np.abs(fa - fb)))


def tv_complement(real, synthetic) -> float | None:
    """1 - total variation distance between category shares (missing dropped)."""
    a = pd.Series(real, dtype=object).dropna()
    b = pd.Series(synthetic, dtype=object).dropna()
    if len(a) == 0 or len(b) == 0:
        return None
    pa = a.astype(str).value_counts(normalize=True)
    pb = b.astype(str).value_counts(normalize=True)
    cats = pa.index.union(pb.index)
    tvd = 0.5 * float(np.abs(pa.reindex(cats, fill_value=0.0).to_numpy()
                             - pb.reindex(cats, fill_value=0.0).to_numpy()).sum())
    return float(1.0 - tvd)


def wasserstein(real, synthetic) -> tuple[float | None, float | None]:
    """(1-Wasserstein distance, the same divided by the real range and capped at 1).

    W1 = integral of |F_real(x) - F_synthetic(x)| dx over the empirical CDFs (what
    scipy.stats.wasserstein_distance computes; importing scipy.stats costs seconds)."""
    a = np.sort(_numeric(real))
    b = np.sort(_numeric(synthetic))
    if len(a) == 0 or len(b) == 0:
        return None, None
    grid = np.unique(np.concatenate([a, b]))
    fa = np.searchsorted(a, grid[:-1], side="right") / len(a)
    fb = np.searchsorted(b, grid[:-1], side="right") / len(b)
    w = float(np.sum(np.abs(fa - fb) * np.diff(grid)))
    span = float(a.max() - a.min())
    if span > 0:
        norm = min(1.0, w / span)
    else:
        norm = 0.0 if w == 0 else 1.0
    return w, norm


def _numeric(x) -> np.ndarray:
    s = pd.Series(x)
    if not len(s):
        return np.array([], dtype="float64")
    v = pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype="float64", na_value=np.nan)
    return v[~np.isnan(v)].copy()
