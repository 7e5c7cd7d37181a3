"""The harder benchmark: a task scored on data center A and transferred to data center B.

`dvc repro benchmark_data` generates two independent data centers in realism mode
(pipeline/sample/: overlapping kinds, generic names, label noise) and validates them into
<bench>/a/validated and <bench>/b/validated. For a task this module reports, beside the
strongest simple rules:

- `a_cv`: cross-validation on A (grouped by project for ports), bootstrap 95% intervals;
- `transfer`: the model fitted on every labelled row of A, scored on B (rows of the task's
  `evaluate_on_source`); the tree rule fitted on A, the configured rule applied to B;
- `scrubbed` (tasks with `scrubbed_forbid_sources`): both again with those sources forbidden,
  e.g. port_role without device_owner, device_id or names, where the rule keeps only addresses.

Pure: tables in, a JSON-ready dict out. Targets (params benchmark.targets) are recorded with
whether they were met; they never change what is measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline import train
from pipeline.errors import InputError
from pipeline.params import default


def load(bench_dir: Path) -> dict[str, dict[str, pd.DataFrame]]:
    """Validated tables of data centers a and b under `bench_dir`."""
    from pipeline import io

    out = {}
    for dc in ("a", "b"):
        folder = Path(bench_dir) / dc / "validated"
        if not folder.is_dir():
            raise InputError(f"{folder}: benchmark data missing: run dvc repro benchmark_data")
        out[dc] = io.read_tables(folder)
    return out


def _rule(name: str | None, tables, allowed_features: pd.DataFrame, params) -> pd.Series | None:
    from pipeline import labels

    if not name:
        return None
    if name == "device_address":   # over the allowed columns: address-only when ids are forbidden
        return labels.port_rule(allowed_features)
    return labels.rule_baseline(name, tables, params)


def _scored(y: np.ndarray, pred: np.ndarray, groups, params, per_class: bool = False) -> dict[str, Any]:
    s = train.scores(y, pred)
    out = {"macro_f1": train._r(s["macro_f1"]), "accuracy": train._r(s["accuracy"])}
    if per_class:
        out["per_class_f1"] = {k: train._r(v) for k, v in sorted(s["per_class_f1"].items())}
    tc = dict(params.get("train") or {})
    return out | train.bootstrap_ci(y, pred, groups, int(tc.get("bootstrap", train.DEFAULT_BOOTSTRAP)),
                                    int(tc.get("seed", default("train.seed"))))


def _cv_summary(res: train.TrainResult) -> dict[str, Any]:
    m = res.metrics
    out = {"n": m["n_labelled"], "n_features": m["n_features"], "cv": m["cv"]}
    for name in ("model", "majority", "tree_rule", "rule"):
        if name in m:
            out[name] = {k: v for k, v in m[name].items() if k != "per_class_f1"}
    out["model"]["per_class_f1"] = m["model"].get("per_class_f1", {})
    if m.get("eval", {}).get("n"):
        out["eval"] = {k: v for k, v in m["eval"].items() if not k.endswith("per_class_f1")}
    return out


def _transfer(res: train.TrainResult, task: str, feats_b: pd.DataFrame, labels_b: pd.DataFrame,
              rule_b: pd.Series | None, params: dict[str, Any]) -> dict[str, Any]:
    cfg = dict(params["tasks"][task] or {})
    lab = labels_b
    src = cfg.get("evaluate_on_source")
    if src:
        lab = lab[lab["source"].astype(str) == src]
    excluded = {str(c) for c in cfg.get("exclude_classes") or []}
    lab = lab[~lab["label"].astype(str).isin(excluded)]
    ids = lab["id"].astype(str).to_numpy()
    Xb, _d, _w = train.feature_matrix(feats_b)
    Xb = Xb.reindex(columns=res.feature_names).loc[ids]   # A's feature space; absent = missing
    y = lab["label"].astype(str).to_numpy()
    groups = train.row_groups(feats_b, lab["id"])
    train_X = res.train_frame.drop(columns=["label"])
    train_y = res.train_frame["label"].to_numpy(dtype=object)
    majority = pd.Series(train_y).value_counts().sort_index().idxmax()
    out: dict[str, Any] = {"n": int(len(y))}
    out["model"] = _scored(y, res.model.predict(Xb), groups, params, per_class=True)
    out["majority"] = _scored(y, np.full(len(y), majority, dtype=object), groups, params)
    tree = train.fit_tree_rule(train_X, train_y, res.seed)
    out["tree_rule"] = _scored(y, tree.predict(Xb), groups, params)
    if rule_b is not None:
        r = pd.Series(rule_b, copy=True)
        r.index = r.index.astype(str)
        r = r[~r.index.duplicated()].reindex(ids)
        out["rule"] = _scored(y, np.array([majority if v is None or v != v else str(v) for v in r],
                                          dtype=object), groups, params)
        out["rule"]["coverage"] = train._r(float(r.notna().mean())) if len(r) else 0.0
    return out


def _best_rule(block: dict[str, Any]) -> float | None:
    vals = [block[k]["macro_f1"] for k in ("rule", "tree_rule") if k in block]
    return max(vals) if vals else None


def _view(task: str, data, full: dict[str, pd.DataFrame], labs: dict[str, pd.DataFrame],
          params: dict[str, Any]) -> dict[str, Any]:
    """a_cv and transfer of one task under params (its forbid_sources decide the view: the
    feature tables are computed once, a view keeps the columns it may read)."""
    cfg = dict(params["tasks"][task] or {})
    feats, rules = {}, {}
    for dc, tables in data.items():
        feats[dc], _left_out = train.task_features(full[dc], task, params)
        rules[dc] = _rule(cfg.get("rule_baseline"), tables, feats[dc], params)
    res = train.train_task(task, feats["a"], labs["a"], rules["a"], params)
    out = {"forbid_sources": sorted(train.forbidden_sources(task, params)),
           "a_cv": _cv_summary(res),
           "transfer": _transfer(res, task, feats["b"], labs["b"], rules["b"], params)}
    out["transfer"]["best_rule_macro_f1"] = _best_rule(out["transfer"])
    out["a_cv"]["best_rule_macro_f1"] = _best_rule(out["a_cv"])
    return out


def evaluate_task(task: str, data, params: dict[str, Any]) -> dict[str, Any]:
    """The benchmark block of reports/train_<task>.json (see the module docstring)."""
    from pipeline import features, labels

    cfg = dict(params["tasks"][task] or {})
    entity = str(cfg.get("features", task))
    full = {dc: features.BUILDERS[entity](t, params) for dc, t in data.items()}
    labs = {dc: labels.task_labels(t, params, task)[0] for dc, t in data.items()}
    out = {"data": {dc: {"projects": int(len(features.project_ids(t))), "ports": int(len(t["ports"])),
                         "labelled": int(len(labs[dc]))} for dc, t in data.items()}}
    out |= _view(task, data, full, labs, params)
    scrub = cfg.get("scrubbed_forbid_sources")
    if scrub:
        sp = {**params, "tasks": {**params["tasks"], task: {**cfg, "forbid_sources": list(scrub)}}}
        out["scrubbed"] = _view(task, data, full, labs, sp)
    out["targets"] = _targets(task, out, params)
    return out


def _targets(task: str, out: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """Targets of params benchmark.targets that concern this task, with the measured value."""
    t = dict((params.get("benchmark") or {}).get("targets") or {})
    res = {}
    if task == "project_profile" and "project_profile_transfer_macro_f1" in t:
        v = out["transfer"]["model"]["macro_f1"]
        target = float(t["project_profile_transfer_macro_f1"])
        best = out["transfer"].get("best_rule_macro_f1") or 0.0
        res["transfer_macro_f1"] = {"target": target, "value": v, "best_rule": best,
                                    "met": bool(v >= target and v > best)}
    if task == "port_role" and "port_role_scrubbed_cv_macro_f1" in t and "scrubbed" in out:
        v = out["scrubbed"]["a_cv"]["model"]["macro_f1"]
        target = float(t["port_role_scrubbed_cv_macro_f1"])
        res["scrubbed_cv_macro_f1"] = {"target": target, "value": v, "met": bool(v >= target)}
    return res
