"""TSTR on data the synthesizer never saw.

Scoring a model trained on synthetic data against the very projects the synthesizer learned
from says little. Here, for each seed of `evaluate_synthetic.tstr_seeds`: the real projects
are split (a `tstr_holdout_share` held out), the synthesizer learns from the other part only
and generates a data center; then the task's model (the train registry, the task's allowed
features) is fitted

- on the real fit part (TRTR) and
- on the synthetic projects (TSTR),

and both are scored on the held-out real projects with ground-truth labels and, when given,
on an independent data center (benchmark B). Reported as mean and sd over the seeds, with
the gap TRTR - TSTR that the evaluate_synthetic gate compares to `tstr_max_gap`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.params import default

TASK = "project_profile"
DEFAULT_SEEDS = tuple(default("evaluate_synthetic.tstr_seeds"))
DEFAULT_HOLDOUT = default("evaluate_synthetic.tstr_holdout_share")
DEFAULT_MAX_GAP = default("evaluate_synthetic.tstr_max_gap")


def subset(tables: dict[str, pd.DataFrame], keep: set[str]) -> dict[str, pd.DataFrame]:
    """The tables restricted to projects `keep` (plus what no project owns: hosts, fabric, the
    shared/external networks and their subnets, and project-less ports of kept routers and
    floating IPs)."""
    from pipeline.util import stripped

    def own(df, col="project_id"):
        return stripped(df[col]).isin(keep).to_numpy()

    out = dict(tables)
    nets = tables["networks"]
    shared = (nets["router_external"].astype("boolean").fillna(False)
              | nets["shared"].astype("boolean").fillna(False)).to_numpy()
    out["networks"] = nets[own(nets) | shared]
    net_ids = set(stripped(out["networks"]["id"]))
    subs = tables["subnets"]
    out["subnets"] = subs[own(subs) | stripped(subs["network_id"]).isin(net_ids - set(
        stripped(nets["id"])[own(nets)])).to_numpy()]
    for name in ("security_groups", "routers", "floating_ips"):
        out[name] = tables[name][own(tables[name])]
    devices = set(stripped(out["routers"]["id"])) | set(stripped(out["floating_ips"]["id"]))
    ports = tables["ports"]
    projectless = (stripped(ports["project_id"]) == "").to_numpy()
    out["ports"] = ports[own(ports) | (projectless & stripped(ports["device_id"]).isin(devices).to_numpy())]
    port_ids = set(stripped(out["ports"]["id"]))
    for name in ("port_ips", "port_security_groups"):
        if name in tables:
            out[name] = tables[name][stripped(tables[name]["port_id"]).isin(port_ids).to_numpy()]
    sub_ids = set(stripped(out["subnets"]["id"]))
    out["allocation_pools"] = tables["allocation_pools"][stripped(tables["allocation_pools"]["subnet_id"]).isin(sub_ids).to_numpy()]
    rules = tables["security_group_rules"]
    sg_ids = set(stripped(out["security_groups"]["id"]))
    out["security_group_rules"] = rules[own(rules) | stripped(rules["security_group_id"]).isin(sg_ids).to_numpy()]
    if "router_interfaces" in tables:
        ri = tables["router_interfaces"]
        out["router_interfaces"] = ri[stripped(ri["port_id"]).isin(port_ids).to_numpy()]
    if "project_labels" in tables:
        out["project_labels"] = tables["project_labels"][own(tables["project_labels"])]
    return {k: v.reset_index(drop=True) for k, v in out.items()}


def _fit_score(X_train: pd.DataFrame, y_train: np.ndarray, tests: dict[str, tuple], params) -> dict[str, float]:
    from pipeline import train

    name, hp = train.model_choice(TASK, params)
    model = train.fit_to_size(train.build_model(name, hp, int((params.get("train") or {}).get("seed", default("train.seed")))),
                              len(y_train), len(set(y_train)))
    model.fit(X_train, y_train)
    out = {}
    for where, (X, y) in tests.items():
        out[where] = train.scores(y, model.predict(X.reindex(columns=X_train.columns)))["macro_f1"]
    return out


def evaluate(real: dict[str, pd.DataFrame], params: dict[str, Any],
             other: dict[str, pd.DataFrame] | None = None) -> dict[str, Any]:
    """Held-out TSTR and TRTR (see the module docstring)."""
    from pipeline import synthesize, train
    from pipeline.features import project_features
    from pipeline.labels import training_labels

    ep = dict(params.get("evaluate_synthetic") or {})
    seeds = [int(s) for s in ep.get("tstr_seeds", DEFAULT_SEEDS)]
    share = float(ep.get("tstr_holdout_share", DEFAULT_HOLDOUT))
    max_gap = float(ep.get("tstr_max_gap", DEFAULT_MAX_GAP))
    eval_source = ((params.get("tasks") or {}).get(TASK) or {}).get("evaluate_on_source", "ground_truth")

    def matrix(tables):
        X, _d, _w = train.feature_matrix(train.task_features(project_features(tables, params), TASK, params)[0])
        return X

    def labelled(tables):
        lab = training_labels(tables, params, TASK)
        return pd.Series(lab["label"].astype(str).to_numpy(), index=lab["id"].astype(str).to_numpy()), \
            pd.Series(lab["source"].astype(str).to_numpy(), index=lab["id"].astype(str).to_numpy())

    X_real = matrix(real)
    y_real, src_real = labelled(real)
    tests_other = None
    if other is not None:
        y_o, src_o = labelled(other)
        ids_o = y_o.index[src_o == eval_source]
        tests_other = (matrix(other).loc[ids_o], y_o[ids_o].to_numpy())
    projects = np.array(sorted(y_real.index))
    runs = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        held = set(rng.choice(projects, int(round(len(projects) * share)), replace=False))
        fit_ids = set(X_real.index) - held
        held_eval = [i for i in sorted(held) if src_real.get(i) == eval_source]
        tests = {"heldout": (X_real.loc[held_eval], y_real[held_eval].to_numpy())}
        if tests_other is not None:
            tests["other"] = tests_other
        fit_tables = subset(real, fit_ids)
        sp = {**params, "synthesize": {**(params.get("synthesize") or {}), "seed": seed}}
        profiles = synthesize.profiles_from(None, None, fit_tables, params)
        _model, syn, _summary = synthesize.run(fit_tables, profiles, sp)
        X_syn = matrix(syn).reindex(columns=X_real.columns, fill_value=0.0)
        y_syn, _src = labelled(syn)
        y_syn = y_syn[y_syn.isin(set(y_real))]
        trtr_ids = [i for i in y_real.index if i in fit_ids]
        trtr = _fit_score(X_real.loc[trtr_ids], y_real[trtr_ids].to_numpy(), tests, params)
        tstr = _fit_score(X_syn.loc[y_syn.index], y_syn.to_numpy(), tests, params)
        runs.append({"seed": seed, "n_fit_projects": len(trtr_ids), "n_heldout": len(held_eval),
                     "n_synthetic": int(len(y_syn)),
                     **{f"trtr_{k}": round(v, 6) for k, v in trtr.items()},
                     **{f"tstr_{k}": round(v, 6) for k, v in tstr.items()}})
    out: dict[str, Any] = {"seeds": seeds, "holdout_share": share, "eval_source": eval_source,
                           "runs": runs}
    for where in (["heldout"] + (["other"] if tests_other is not None else [])):
        for who in ("trtr", "tstr"):
            vals = np.array([r[f"{who}_{where}"] for r in runs])
            out[f"{who}_{where}_mean"] = round(float(vals.mean()), 6)
            out[f"{who}_{where}_sd"] = round(float(vals.std(ddof=1)) if len(vals) > 1 else 0.0, 6)
        out[f"gap_{where}"] = round(out[f"trtr_{where}_mean"] - out[f"tstr_{where}_mean"], 6)
    out["gate"] = {"passed": out["gap_heldout"] <= max_gap, "value": out["gap_heldout"], "max": max_gap}
    target = ((params.get("benchmark") or {}).get("targets") or {}).get("tstr_gap")
    if target is not None:   # the target, recorded beside the gate (which guards regressions)
        out["target"] = {"tstr_gap": float(target), "value": out["gap_heldout"],
                         "met": bool(out["gap_heldout"] <= float(target))}
    return out
