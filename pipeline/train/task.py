"""The task loop: cross-validate a task's model beside its baselines on the same folds, score
them, fit the final model (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pipeline.params import default
from pipeline.train.evaluation import (DEFAULT_BOOTSTRAP, _metric_block, _r, bootstrap_ci,
                                       cv_splits, fit_tree_rule, row_groups, scores)
from pipeline.train.inputs import (ParamsError, _check_classes, _labelled, feature_matrix,
                                   task_features)
from pipeline.train.models import _importances, _quiet_fit, build_model, model_choice

# ---------------------------------------------------------------- result

@dataclass
class TrainResult:
    task: str
    model_name: str
    hyperparameters: dict[str, Any]
    seed: int
    cv_folds: int
    evaluate_on_source: str | None
    model: Any                      # fitted on every labelled row
    feature_names: list[str]
    classes: list[str]
    metrics: dict[str, Any]         # nested; see tracking.flat_metrics() for the flat names
    oof: pd.DataFrame               # id, label, source, fold, model, model_proba, majority[, rule]
    confusion: pd.DataFrame         # counts, index = actual, columns = predicted (model, CV)
    importances: pd.DataFrame       # feature, importance, std, method (sorted, descending)
    train_frame: pd.DataFrame       # features + label of the labelled rows, WITHOUT ids
    dropped_features: list[str] = field(default_factory=list)
    forbidden_features: list[str] = field(default_factory=list)   # read a forbidden source
    warnings: list[str] = field(default_factory=list)


def train_task(task_name: str, features_df: pd.DataFrame, labels_df: pd.DataFrame,
               rule_pred: pd.Series | None, params: dict[str, Any]) -> TrainResult:
    """Cross-validate, score beside the baselines, fit the final model. See module docstring."""
    from threadpoolctl import threadpool_limits

    # OpenMP/BLAS threads (train.threads, default 1): on a small shared machine, spinning
    # OpenMP workers of HistGradientBoosting made a 65-row task take 3 minutes instead of 9 s.
    threads = int((params.get("train") or {}).get("threads", default("train.threads")))
    with threadpool_limits(limits=max(1, threads)):
        return _train_task(task_name, features_df, labels_df, rule_pred, params)


def _settings(task_name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The task's config, folds, seed, model and evaluated source, checked."""
    tasks = params.get("tasks") or {}
    if task_name not in tasks:
        raise ParamsError(f"unknown task '{task_name}'; tasks in params: {', '.join(tasks) or 'none'}")
    task_cfg = dict(tasks[task_name] or {})
    train_cfg = dict(params.get("train") or {})
    folds = int(train_cfg.get("cv_folds", default("train.cv_folds")))
    seed = int(train_cfg.get("seed", default("train.seed")))
    if folds < 2:
        raise ParamsError(f"train.cv_folds={folds}: cross-validation needs at least 2 folds")
    model_name, hp = model_choice(task_name, params)
    return {"task_cfg": task_cfg, "train_cfg": train_cfg, "folds": folds, "seed": seed,
            "model_name": model_name, "hp": hp, "base": build_model(model_name, hp, seed),
            "eval_source": task_cfg.get("evaluate_on_source")}


def _labelled_rows(task_name: str, features_df: pd.DataFrame, labels_df: pd.DataFrame,
                   params: dict[str, Any], task_cfg: dict[str, Any], folds: int):
    """(allowed features, forbidden columns, X of every row, dropped columns, labelled rows, warnings)."""
    features_df, forbidden_cols = task_features(features_df, task_name, params)
    X_all, dropped, warns = feature_matrix(features_df)
    lab, lwarns = _labelled(labels_df, X_all)
    warns += lwarns
    excluded = [str(c) for c in task_cfg.get("exclude_classes") or []]
    if excluded:
        out = lab["label"].isin(excluded)
        if out.any():
            warns.append(f"left out {int(out.sum())} labelled rows of excluded class(es) "
                         f"{', '.join(sorted(set(lab['label'][out])))} (tasks.{task_name}.exclude_classes)")
        lab = lab[~out].reset_index(drop=True)
    _check_classes(lab["label"], folds, task_name)
    if task_cfg.get("label_sources"):
        extra = sorted(set(lab["source"]) - set(task_cfg["label_sources"]))
        if extra:
            warns.append(f"label sources not in tasks.{task_name}.label_sources: {', '.join(extra)}")
    return features_df, forbidden_cols, X_all, dropped, lab, warns


def _rule_column(rule_pred: pd.Series, lab: pd.DataFrame, classes: list[str], warns: list[str]
                 ) -> np.ndarray:
    """The rule's class for each labelled row (None where the rule says nothing)."""
    rp = pd.Series(rule_pred, copy=True)
    rp.index = rp.index.astype(str)
    rp = rp[~rp.index.duplicated()]
    rule_raw = rp.reindex(lab["id"].to_numpy()).astype(object).to_numpy()
    rule_raw = np.array([None if (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)))
                         else str(v) for v in rule_raw], dtype=object)
    foreign = sorted({v for v in rule_raw if v is not None} - set(classes))
    if foreign:
        warns.append(f"rule baseline predicts class(es) never labelled: {', '.join(foreign)} "
                     "(counted as errors)")
    return rule_raw


def _out_of_fold(X: pd.DataFrame, y_arr: np.ndarray, groups, rule_raw, cfg: dict[str, Any],
                 warns: list[str]) -> dict[str, Any]:
    """Model and baselines predicted on the very same CV folds, with each fold's model macro-F1."""
    from sklearn.base import clone
    from sklearn.dummy import DummyClassifier

    n = len(y_arr)
    pred = np.empty(n, dtype=object)
    proba = np.zeros(n, dtype="float64")
    maj = np.empty(n, dtype=object)
    rule = np.empty(n, dtype=object)
    tree_rule = np.empty(n, dtype=object)
    fold_of = np.zeros(n, dtype="int64")
    fold_f1 = []
    seed = cfg["seed"]
    for k, (tr, te) in enumerate(cv_splits(X, y_arr, groups, cfg["folds"], seed)):
        est = _quiet_fit(clone(cfg["base"]), X.iloc[tr], y_arr[tr], warns)
        pred[te] = est.predict(X.iloc[te])
        proba[te] = est.predict_proba(X.iloc[te]).max(axis=1)
        dummy = DummyClassifier(strategy="most_frequent").fit(X.iloc[tr], y_arr[tr])
        maj[te] = dummy.predict(X.iloc[te])
        if rule_raw is not None:
            rule[te] = [m if r is None else r for r, m in zip(rule_raw[te], maj[te])]
        tree_rule[te] = fit_tree_rule(X.iloc[tr], y_arr[tr], seed).predict(X.iloc[te])
        fold_of[te] = k
        fold_f1.append(scores(y_arr[te], pred[te])["macro_f1"])
    return {"model": pred, "model_proba": proba, "majority": maj, "rule": rule,
            "tree_rule": tree_rule, "fold": fold_of, "fold_f1": fold_f1}


def _metrics(y_arr: np.ndarray, lab: pd.DataFrame, oof: dict[str, Any], rule_raw, groups,
             cfg: dict[str, Any], counts: dict[str, Any], task_name: str, warns: list[str]
             ) -> dict[str, Any]:
    """Overall and restricted to the evaluated source, model and baselines side by side, each
    with a bootstrap 95% interval (resampling projects when rows are grouped)."""
    n = len(y_arr)
    has_rule = rule_raw is not None
    pred, maj, rule, tree_rule = oof["model"], oof["majority"], oof["rule"], oof["tree_rule"]
    boot = int(cfg["train_cfg"].get("bootstrap", DEFAULT_BOOTSTRAP))
    seed = cfg["seed"]
    s_model = scores(y_arr, pred)

    def ci(p, mask=None):
        m = np.ones(n, dtype=bool) if mask is None else mask
        return bootstrap_ci(y_arr[m], p[m], None if groups is None else groups[m], boot, seed)

    metrics: dict[str, Any] = counts | {
        "cv": "grouped by project" if groups is not None else "stratified",
        "model": _metric_block(s_model, per_class=True)
        | {"macro_f1_std": _r(np.std(oof["fold_f1"]))} | ci(pred),
        "majority": _metric_block(scores(y_arr, maj), per_class=False) | ci(maj),
        "tree_rule": _metric_block(scores(y_arr, tree_rule), per_class=False) | ci(tree_rule),
    }
    if has_rule:
        metrics["rule"] = _metric_block(scores(y_arr, rule), per_class=False) | {
            "coverage": _r(np.mean([v is not None for v in rule_raw]))} | ci(rule)
    eval_source = cfg["eval_source"]
    if eval_source:
        m = (lab["source"] == eval_source).to_numpy()
        ev: dict[str, Any] = {"n": int(m.sum())}
        if m.any():
            for name, p in (("model", pred), ("majority", maj), ("tree_rule", tree_rule)) + (
                    (("rule", rule),) if has_rule else ()):
                b = _metric_block(scores(y_arr[m], p[m]), per_class=(name == "model")) | ci(p, m)
                ev |= {f"{name}_{k}": v for k, v in b.items()}
        else:
            warns.append(f"no labelled rows from source '{eval_source}' "
                         f"(tasks.{task_name}.evaluate_on_source): eval metrics are empty")
        metrics["eval"] = ev
    return metrics


def _train_task(task_name, features_df, labels_df, rule_pred, params) -> TrainResult:
    from sklearn.base import clone
    from sklearn.metrics import confusion_matrix

    cfg = _settings(task_name, params)
    features_df, forbidden_cols, X_all, dropped, lab, warns = _labelled_rows(
        task_name, features_df, labels_df, params, cfg["task_cfg"], cfg["folds"])
    feature_names = list(X_all.columns)
    y = lab["label"]
    X = X_all.loc[lab["id"].to_numpy()]
    y_arr = y.to_numpy(dtype=object)
    classes = sorted(set(y_arr))
    rule_raw = _rule_column(rule_pred, lab, classes, warns) if rule_pred is not None else None

    groups = row_groups(features_df, lab["id"])
    folds_out = _out_of_fold(X, y_arr, groups, rule_raw, cfg, warns)
    oof = pd.DataFrame({"id": lab["id"].to_numpy(), "label": y_arr, "source": lab["source"].to_numpy(),
                        "fold": folds_out["fold"], "model": folds_out["model"],
                        "model_proba": folds_out["model_proba"], "majority": folds_out["majority"],
                        "tree_rule": folds_out["tree_rule"]})
    if rule_raw is not None:
        oof["rule"] = folds_out["rule"]
    counts = {"n_labelled": len(lab), "n_features": len(feature_names), "n_classes": len(classes),
              "n_features_forbidden": len(forbidden_cols)}
    metrics = _metrics(y_arr, lab, folds_out, rule_raw, groups, cfg, counts, task_name, warns)

    cm = confusion_matrix(y_arr, folds_out["model"], labels=classes)
    confusion = pd.DataFrame(cm, index=pd.Index(classes, name="actual"),
                             columns=pd.Index(classes, name="predicted"))
    final = _quiet_fit(clone(cfg["base"]), X, y_arr, warns)
    importances = _importances(final, cfg["model_name"], X, y_arr, cfg["seed"])
    train_frame = X.reset_index(drop=True).assign(label=y_arr)

    return TrainResult(
        task=task_name, model_name=cfg["model_name"], hyperparameters=cfg["hp"], seed=cfg["seed"],
        cv_folds=cfg["folds"], evaluate_on_source=cfg["eval_source"], model=final,
        feature_names=feature_names, classes=classes, metrics=metrics, oof=oof,
        confusion=confusion, importances=importances, train_frame=train_frame,
        dropped_features=dropped, forbidden_features=forbidden_cols, warnings=warns)
