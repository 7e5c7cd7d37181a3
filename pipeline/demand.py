"""Configuration prediction: a project's resource demand from its early configuration.

When a tenant has set up its networks and subnets, how many VMs, ports, security-group rules
and floating IPs will it need? Inputs are what exists before any VM: the project's networks
and subnets (counts, prefix lengths, allocation pool capacity, DHCP, IPv6, MTU, network types)
and its profile (the project_profile training label: ground truth, else naming). Targets are
n_vms, n_ports, n_sg_rules and n_floating_ips of the project feature table. One random forest
regressor per target on log1p(target); the baseline is the per-profile median of the training
rows (global median for a profile they lack). Metrics: MAE and MAPE (|error| / max(1, true))
per target, and the MAE reduction against the baseline (1 - MAE_model / MAE_baseline).

Projects without a profile are left out (the profile is an input). Pure: tables in, dict out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pipeline.params import default

TARGETS = {"vms": "n_vms", "ports": "n_ports", "sg_rules": "n_sg_rules", "floating_ips": "n_floating_ips"}
# Project feature columns that describe networks and subnets only (nothing a VM creates).
EARLY_COLUMNS = (
    "n_networks", "n_subnets", "n_subnets_v6", "share_subnets_v6", "subnets_per_network",
    "prefix_v4_min", "prefix_v4_mean", "prefix_v4_max", "n_subnets_dhcp", "share_subnets_dhcp",
    "n_subnets_no_gateway", "n_host_routes", "n_subnets_dns", "n_networks_shared",
    "n_networks_vlan", "n_networks_flat", "n_networks_overlay", "n_networks_alcor_cidr",
    "mtu_max", "mtu_mean",
)
DEFAULT_FOLDS = default("demand.cv_folds")
DEFAULT_TREES = default("demand.n_estimators")


def pool_capacity_log2(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """log2(1 + addresses in the IPv4 allocation pools of each project's subnets)."""
    from pipeline.features import _ip_ints
    from pipeline.util import stripped

    subs, pools = tables["subnets"], tables["allocation_pools"]
    owner = pd.Series(stripped(subs["project_id"]).to_numpy(), index=subs["id"].astype("string").to_numpy())
    owner = owner[~owner.index.duplicated()]
    p = pd.DataFrame({"subnet": pools["subnet_id"].astype("string").to_numpy(),
                      "start": _ip_ints(pools["start"]), "end": _ip_ints(pools["end"]),
                      "v6": stripped(pools["start"]).str.contains(":", regex=False).to_numpy()})
    p = p[(p["start"] != -1) & (p["end"] != -1) & ~p["v6"]]
    size = np.array([float(e - s + 1) if e >= s else 0.0 for s, e in zip(p["start"], p["end"])])
    per = pd.Series(size, index=p["subnet"].map(owner).fillna("").to_numpy()).groupby(level=0).sum()
    return np.log2(1.0 + per)


def demand_frame(tables: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame:
    """id, profile, early features, targets: one row per project with a profile."""
    from pipeline.features import project_features
    from pipeline.labels import training_labels

    feats = project_features(tables, params).set_index("id")
    lab = training_labels(tables, params, "project_profile").drop_duplicates("id")
    prof = pd.Series(lab["label"].astype(str).to_numpy(), index=lab["id"].astype(str).to_numpy())
    ids = [i for i in feats.index if i in prof.index]
    df = feats.loc[ids, list(EARLY_COLUMNS)].astype("float64")
    df["pool_capacity_log2"] = pool_capacity_log2(tables).reindex(ids).fillna(0.0).to_numpy()
    df.insert(0, "profile", prof.reindex(ids).to_numpy())
    for name, col in TARGETS.items():
        df[f"target_{name}"] = feats.loc[ids, col].astype("float64").to_numpy()
    return df.reset_index().rename(columns={"index": "id"})


def _design(df: pd.DataFrame, profiles: list[str]) -> pd.DataFrame:
    X = df[list(EARLY_COLUMNS) + ["pool_capacity_log2"]].copy()
    for p in profiles:
        X[f"profile_{p}"] = (df["profile"] == p).astype("float64").to_numpy()
    return X


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


def run(params: dict[str, Any], validated, bench, report, track: bool) -> tuple[dict[str, Any], str | None]:
    """The demand stage: evaluate on the validated tables (and the benchmark with `bench`), write
    the report, log the run to MLflow with `track`; (report, MLflow run id or None)."""
    from pipeline import io

    tables = io.read_tables(validated)
    bench_data = None
    if bench is not None:
        from pipeline import benchmark

        bench_data = benchmark.load(bench)
    rep, model, _frame = evaluate(tables, params, bench_data)
    io.write_json(rep, report)
    run_id = None
    if track:
        from pipeline import tracking

        run_id = tracking.log_demand(rep, model, params, data_paths=[str(validated)])
    return rep, run_id
