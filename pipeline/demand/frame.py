"""The configuration-prediction frame: per project with a profile, its early features (networks
and subnets only), the allocation pool capacity, the profile and the targets."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

TARGETS = {"vms": "n_vms", "ports": "n_ports", "sg_rules": "n_sg_rules", "floating_ips": "n_floating_ips"}
# Project feature columns that describe networks and subnets only (nothing a VM creates).
EARLY_COLUMNS = (
    "n_networks", "n_subnets", "n_subnets_v6", "share_subnets_v6", "subnets_per_network",
    "prefix_v4_min", "prefix_v4_mean", "prefix_v4_max", "n_subnets_dhcp", "share_subnets_dhcp",
    "n_subnets_no_gateway", "n_host_routes", "n_subnets_dns", "n_networks_shared",
    "n_networks_vlan", "n_networks_flat", "n_networks_overlay", "n_networks_alcor_cidr",
    "mtu_max", "mtu_mean",
)


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
