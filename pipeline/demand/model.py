"""The demand model (per-target forests on log1p(target), the per-profile median baseline), its
scores, cross-validation and the evaluation with the benchmark transfer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.demand.frame import EARLY_COLUMNS, TARGETS, _design, demand_frame
from pipeline.params import default

DEFAULT_FOLDS = default("demand.cv_folds")
DEFAULT_TREES = default("demand.n_estimators")


class DemandModel:
    """Per-target forests on log1p(target) plus the per-profile median baseline."""

    def __init__(self, seed: int, trees: int = DEFAULT_TREES):
        self.seed, self.trees = seed, trees

    def fit(self, df: pd.DataFrame) -> "DemandModel":
        from sklearn.ensemble import RandomForestRegressor

        self.profiles = sorted(df["profile"].unique())
        X = _design(df, self.profiles)
        self.forests = {}
        self.medians = {}
        for name in TARGETS:
            y = df[f"target_{name}"].to_numpy()
            self.forests[name] = RandomForestRegressor(
                n_estimators=self.trees, min_samples_leaf=2, random_state=self.seed).fit(X, np.log1p(y))
            self.medians[name] = (df.groupby("profile")[f"target_{name}"].median().to_dict(),
                                  float(np.median(y)))
        return self

    def predict(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        X = _design(df, self.profiles)
        return {n: np.expm1(f.predict(X)) for n, f in self.forests.items()}

    def baseline(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        out = {}
        for name, (per, overall) in self.medians.items():
            out[name] = np.array([per.get(p, overall) for p in df["profile"]], dtype="float64")
        return out


def _errors(y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    err = np.abs(y - pred)
    return {"mae": round(float(err.mean()), 6),
            "mape": round(float((err / np.maximum(y, 1.0)).mean()), 6)}


def score(truth: pd.DataFrame, pred: dict[str, np.ndarray], base: dict[str, np.ndarray]) -> dict[str, Any]:
    out: dict[str, Any] = {"n": int(len(truth)), "targets": {}}
    reductions = []
    for name in TARGETS:
        y = truth[f"target_{name}"].to_numpy()
        m, b = _errors(y, pred[name]), _errors(y, base[name])
        red = 1.0 - m["mae"] / b["mae"] if b["mae"] > 0 else 0.0
        reductions.append(red)
        out["targets"][name] = {"model": m, "baseline": b, "mae_reduction": round(red, 6)}
    out["mae_reduction"] = round(float(np.mean(reductions)), 6)
    return out


def cross_validate(df: pd.DataFrame, folds: int, seed: int, trees: int) -> dict[str, Any]:
    """Out-of-fold predictions of model and baseline over K folds (one project = one row)."""
    from sklearn.model_selection import KFold

    folds = max(2, min(folds, len(df)))
    pred = {n: np.zeros(len(df)) for n in TARGETS}
    base = {n: np.zeros(len(df)) for n in TARGETS}
    for tr, te in KFold(n_splits=folds, shuffle=True, random_state=seed).split(df):
        model = DemandModel(seed, trees).fit(df.iloc[tr])
        p, b = model.predict(df.iloc[te]), model.baseline(df.iloc[te])
        for n in TARGETS:
            pred[n][te], base[n][te] = p[n], b[n]
    return score(df, pred, base) | {"folds": folds}


def evaluate(tables: dict[str, pd.DataFrame], params: dict[str, Any],
             bench: dict[str, dict[str, pd.DataFrame]] | None = None) -> tuple[dict[str, Any], DemandModel, pd.DataFrame]:
    """(report, model fitted on every row of `tables`, its training frame)."""
    dp = dict(params.get("demand") or {})
    seed = int(dp.get("seed", (params.get("train") or {}).get("seed", default("train.seed"))))
    folds = int(dp.get("cv_folds", DEFAULT_FOLDS))
    trees = int(dp.get("n_estimators", DEFAULT_TREES))
    df = demand_frame(tables, params)
    if len(df) < 4 or df["profile"].nunique() < 1:
        from pipeline.errors import InputError

        raise InputError(f"{len(df)} projects with a profile: config prediction needs at least 4")
    report: dict[str, Any] = {"inputs": list(EARLY_COLUMNS) + ["pool_capacity_log2", "profile"],
                              "targets": dict(TARGETS), "seed": seed, "n_estimators": trees,
                              "cv": cross_validate(df, folds, seed, trees)}
    if bench is not None:
        a, b = demand_frame(bench["a"], params), demand_frame(bench["b"], params)
        model_a = DemandModel(seed, trees).fit(a)
        report["benchmark"] = {"a_cv": cross_validate(a, folds, seed, trees),
                               "transfer": score(b, model_a.predict(b), model_a.baseline(b))}
        target = ((params.get("benchmark") or {}).get("targets") or {}).get("demand_mae_reduction")
        if target is not None:
            v = report["benchmark"]["transfer"]["mae_reduction"]
            report["benchmark"]["targets"] = {"transfer_mae_reduction": {
                "target": float(target), "value": v, "met": bool(v >= float(target))}}
    return report, DemandModel(seed, trees).fit(df), df
