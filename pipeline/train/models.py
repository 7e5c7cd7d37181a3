"""The model registry (name -> builder, hyperparameter check, importance method), fitting on
few rows, and feature importances."""

from __future__ import annotations

import warnings
from typing import Any, Callable

import numpy as np
import pandas as pd

from pipeline.errors import StageFailed
from pipeline.params import default
from pipeline.train.inputs import ParamsError

# Permutation importance on more rows than this buys precision nobody needs.
PERMUTATION_MAX_ROWS = 1000
PERMUTATION_REPEATS = 3


def _logistic_regression(hp: dict[str, Any], seed: int):
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    # Linear models need complete, comparable inputs; trees below take NaN as is.
    return Pipeline([
        ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
        ("scale", StandardScaler()),
        ("clf", LogisticRegression(random_state=seed, **hp)),
    ])


def _random_forest(hp: dict[str, Any], seed: int):
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(random_state=seed, **hp)


def _hist_gradient_boosting(hp: dict[str, Any], seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(random_state=seed, **hp)


def _lr_class():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression


def _rf_class():
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier


def _hgb_class():
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier


# name -> (builder(hyperparameters, seed), estimator class whose parameters the
# hyperparameters must name, importance method)
MODELS: dict[str, tuple[Callable, Callable, str]] = {
    "logistic_regression": (_logistic_regression, _lr_class, "permutation"),
    "random_forest": (_random_forest, _rf_class, "impurity"),
    "hist_gradient_boosting": (_hist_gradient_boosting, _hgb_class, "permutation"),
}


def model_choice(task_name: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(model name, hyperparameters) for a task: tasks.<t>.model overrides train.model."""
    train = dict(params.get("train") or {})
    task = dict((params.get("tasks") or {}).get(task_name) or {})
    name = task.get("model") or train.get("model") or default("train.model")
    where = f"tasks.{task_name}.model" if task.get("model") else "train.model"
    if name not in MODELS:
        raise ParamsError(f"{where} '{name}' is not a known model; valid: {', '.join(MODELS)}")
    hp = dict((train.get("models") or {}).get(name) or {})
    valid = set(MODELS[name][1]()().get_params()) - {"random_state"}
    unknown = sorted(set(hp) - valid)
    if unknown:
        raise ParamsError(
            f"train.models.{name}: unknown hyperparameter(s) {', '.join(unknown)}; "
            f"valid: {', '.join(sorted(valid))}")
    return name, hp


def build_model(name: str, hp: dict[str, Any], seed: int):
    if name not in MODELS:
        raise ParamsError(f"model '{name}' is not a known model; valid: {', '.join(MODELS)}")
    try:
        return MODELS[name][0](hp, seed)
    except (TypeError, ValueError) as e:
        raise ParamsError(f"train.models.{name}: {str(e).splitlines()[0]}") from e


def fit_to_size(est, n_rows: int, n_classes: int, warns: list[str] | None = None):
    """Gradient boosting on few rows: with its default min_samples_leaf=20, 37 training rows
    of 6 classes leave no split to make and every tree predicts the majority class. Cap the
    leaf size at rows / (4 x classes) (at least 2), saying so."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    if isinstance(est, HistGradientBoostingClassifier):
        leaf = int(est.get_params()["min_samples_leaf"])
        cap = max(2, n_rows // (4 * max(1, n_classes)))
        if leaf > cap:
            est.set_params(min_samples_leaf=cap)
            msg = (f"hist_gradient_boosting: min_samples_leaf {leaf} lowered to {cap} for "
                   f"{n_rows} training rows of {n_classes} classes (else no tree could split)")
            if warns is not None and not any(w.startswith("hist_gradient_boosting: min_samples_leaf") for w in warns):
                warns.append(msg)
    return est


def _quiet_fit(est, X, y, warns: list[str]):
    """Fit, keeping scikit-learn's warnings (convergence, ...) as result warnings."""
    est = fit_to_size(est, len(y), len(set(y)), warns)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X, y)
        except (ValueError, FloatingPointError, MemoryError) as e:
            raise StageFailed(f"fitting {type(est).__name__} failed: {str(e).splitlines()[0]}") from e
    for w in caught:
        msg = f"{w.category.__name__}: {str(w.message).splitlines()[0]}"
        if msg not in warns:
            warns.append(msg)
    return est



def _importances(model, model_name: str, X: pd.DataFrame, y: np.ndarray, seed: int) -> pd.DataFrame:
    method = MODELS[model_name][2]
    if method == "impurity":
        est = model
        imp = np.asarray(est.feature_importances_, dtype="float64")
        std = np.std([t.feature_importances_ for t in est.estimators_], axis=0)
    else:
        from sklearn.inspection import permutation_importance

        # On a seeded subsample of the training rows: deterministic and bounded in time.
        if len(X) > PERMUTATION_MAX_ROWS:
            idx = np.sort(np.random.default_rng(seed).choice(len(X), PERMUTATION_MAX_ROWS, replace=False))
            X, y = X.iloc[idx], y[idx]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = permutation_importance(model, X, y, scoring="f1_macro", n_repeats=PERMUTATION_REPEATS,
                                       random_state=seed, n_jobs=1)
        imp, std = r.importances_mean, r.importances_std
    out = pd.DataFrame({"feature": list(X.columns), "importance": np.round(imp, 6),
                        "std": np.round(std, 6), "method": method})
    return out.sort_values(["importance", "feature"], ascending=[False, True],
                           kind="stable").reset_index(drop=True)
