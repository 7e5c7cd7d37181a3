"""Evaluation: scores, cross-validation folds (grouped by project for ports), the tree-rule
baseline and bootstrap intervals of macro-F1."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from pipeline.params import default
from pipeline.train.inputs import ParamsError

# ---------------------------------------------------------------- metrics

def scores(y_true, y_pred) -> dict[str, Any]:
    """macro-F1, accuracy and per-class F1 over the classes present in truth or prediction."""
    from sklearn.metrics import accuracy_score, f1_score

    y_true = np.asarray(y_true, dtype=object)
    y_pred = np.asarray(y_pred, dtype=object)
    if len(y_true) == 0:
        return {"n": 0}
    labels = sorted(set(y_true) | set(y_pred))
    per = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {
        "n": int(len(y_true)),
        "macro_f1": float(np.mean(per)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class_f1": {str(c): float(f) for c, f in zip(labels, per)},
    }


def _r(x: float) -> float:
    # Rounded so reports stay stable and readable; 6 digits is far below CV noise.
    return round(float(x), 6)


def _metric_block(s: dict[str, Any], per_class: bool) -> dict[str, Any]:
    if not s.get("n"):
        return {}
    out = {"macro_f1": _r(s["macro_f1"]), "accuracy": _r(s["accuracy"])}
    if per_class:
        out["per_class_f1"] = {k: _r(v) for k, v in s["per_class_f1"].items()}
    return out


# ---------------------------------------------------------------- folds, rules, intervals

DEFAULT_BOOTSTRAP = default("train.bootstrap")


def row_groups(features_df: pd.DataFrame, ids: pd.Series) -> np.ndarray | None:
    """Project of each labelled row when the feature table has `project_id` (ports): CV folds
    and bootstrap resamples then keep a project's rows together. None for project rows."""
    if "project_id" not in features_df.columns:
        return None
    g = pd.Series(features_df["project_id"].astype("string").fillna("").to_numpy(),
                  index=features_df["id"].astype(str).to_numpy())
    g = g[~g.index.duplicated()]
    return g.reindex(ids.astype(str).to_numpy()).fillna("").to_numpy(dtype=object)


def cv_splits(X: pd.DataFrame, y: np.ndarray, groups: np.ndarray | None, folds: int, seed: int):
    """Stratified K folds; grouped (no project in two folds) when groups are given."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    if groups is None:
        return list(StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(X, y))
    n_groups = len(set(groups))
    if n_groups < folds:
        raise ParamsError(f"{n_groups} projects, fewer than cv_folds={folds}: lower train.cv_folds")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # a class in fewer projects than folds: some folds lack it
        return list(StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
                    .split(X, y, groups))


def fit_tree_rule(X: pd.DataFrame, y: np.ndarray, seed: int):
    """The strongest *simple* learned rule: a decision tree with one leaf per class (a rule
    list of at most n_classes threshold paths over the same allowed features)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeClassifier

    leaves = max(2, len(set(y)))
    return Pipeline([
        ("fill", SimpleImputer(strategy="constant", fill_value=-1.0, keep_empty_features=True)),
        ("tree", DecisionTreeClassifier(max_leaf_nodes=leaves, random_state=seed)),
    ]).fit(X, y)


def bootstrap_ci(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray | None,
                 n_boot: int, seed: int) -> dict[str, float]:
    """Percentile 95% interval of macro-F1 over `n_boot` resamples of the rows (of whole
    groups when given). Empty when n_boot is 0 or there are no rows."""
    if n_boot <= 0 or len(y_true) == 0:
        return {}
    labels = sorted(set(y_true) | set(y_pred))
    code = {c: i for i, c in enumerate(labels)}
    k = len(labels)
    cell = np.array([code[t] * k + code[p] for t, p in zip(y_true, y_pred)])
    # Confusion counts per resampling unit (a row, or a group of rows); a resample is a
    # multinomial draw of unit weights, so its confusion matrix is weights @ unit counts.
    unit = (np.arange(len(cell)) if groups is None
            else np.unique(np.asarray(groups).astype(str), return_inverse=True)[1])
    n_units = int(unit.max()) + 1
    per_unit = np.zeros((n_units, k * k))
    np.add.at(per_unit, (unit, cell), 1.0)
    rng = np.random.default_rng(seed)
    vals = np.empty(n_boot)
    chunk = max(1, 2_000_000 // n_units)
    for start in range(0, n_boot, chunk):
        m = min(chunk, n_boot - start)
        w = rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=m)
        cms = (w @ per_unit).reshape(m, k, k)
        tp = np.diagonal(cms, axis1=1, axis2=2)
        denom = cms.sum(axis=1) + cms.sum(axis=2)
        f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
        present = denom > 0
        vals[start:start + m] = (f1 * present).sum(axis=1) / present.sum(axis=1)
    lo, hi = np.percentile(vals, [2.5, 97.5])
    return {"macro_f1_ci_low": _r(lo), "macro_f1_ci_high": _r(hi)}
