"""Privacy: distance to closest record (DCR) of synthetic projects against a real holdout."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.evaluate_synthetic.metrics import _r

DCR_PERCENTILE = 5.0


def _nearest(a: np.ndarray, b: np.ndarray, chunk: int = 2048) -> np.ndarray:
    """Euclidean distance from each row of a to its nearest row of b."""
    out = np.empty(len(a))
    bb = (b * b).sum(axis=1)
    for i in range(0, len(a), chunk):
        x = a[i:i + chunk]
        d2 = (x * x).sum(axis=1)[:, None] + bb[None, :] - 2.0 * x @ b.T
        out[i:i + chunk] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


def dcr(real_features: pd.DataFrame, synth_features: pd.DataFrame, holdout_share: float,
        seed: int) -> dict[str, Any]:
    """Distance to closest record; see the package docstring (__init__.py)."""
    from pipeline.train import feature_matrix

    Xr, _d, _w = feature_matrix(real_features)
    n = len(Xr)
    n_hold = int(round(n * holdout_share))
    if n < 4 or n_hold < 2 or n - n_hold < 2 or not len(synth_features):
        return {"error": f"{n} real and {len(synth_features)} synthetic projects: too few for DCR"}
    Xs, _d, _w = feature_matrix(synth_features)
    cols = list(Xr.columns)
    Xs = Xs.reindex(columns=cols, fill_value=0.0)
    # Sorted by id first: the split depends on the seed and the data, not on the row order.
    Xr = Xr.sort_index()
    perm = np.random.default_rng(seed).permutation(n)
    hold, train_idx = np.sort(perm[:n_hold]), np.sort(perm[n_hold:])
    tr = Xr.iloc[train_idx].to_numpy(dtype="float64")
    mu = np.nanmean(tr, axis=0)
    sd = np.nanstd(tr, axis=0)
    keep = sd > 0  # a feature constant in the real training split carries no distance

    def z(X):
        v = (np.asarray(X, dtype="float64") - mu) / np.where(sd > 0, sd, 1.0)
        return np.nan_to_num(v[:, keep])

    d_hold = _nearest(z(Xr.iloc[hold].to_numpy()), z(tr))
    d_syn = _nearest(z(Xs.to_numpy()), z(tr))
    p5 = float(np.percentile(d_hold, DCR_PERCENTILE))
    med_h, med_s = float(np.median(d_hold)), float(np.median(d_syn))
    return {
        "n_real_train": int(len(train_idx)), "n_real_holdout": int(n_hold),
        "n_synthetic": int(len(d_syn)), "n_features": int(keep.sum()),
        "median_synthetic": _r(med_s), "median_holdout": _r(med_h),
        "median_ratio": _r(med_s / med_h) if med_h > 0 else None,
        "holdout_p5": _r(p5),
        "share_synthetic_below_holdout_p5": _r(float(np.mean(d_syn < p5))),
        "share_holdout_below_holdout_p5": _r(float(np.mean(d_hold < p5))),
        # Float noise of the distance expansion: "exact" = closer than 1e-6 standard deviations.
        "share_synthetic_exact_copies": _r(float(np.mean(d_syn < 1e-6))),
    }
