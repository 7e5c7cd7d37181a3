"""Fidelity part `structure`: per-entity count distributions (subnets per network, ports per
host, ...) compared with KSComplement, the 1-Wasserstein distance beside it."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pandas as pd

from pipeline.evaluate_synthetic.metrics import _mean, _r, ks_complement, wasserstein


def _counts(keys: pd.Series, of: pd.Series) -> np.ndarray:
    """How many times each key occurs in `of` (0 for keys that never occur), in key order."""
    keys = keys.astype("string").fillna("")
    counts = of.astype("string").value_counts()
    return keys.map(counts).fillna(0).to_numpy(dtype="float64")


def _subnets_per_network(t):
    return _counts(t["networks"]["id"], t["subnets"]["network_id"])


def _ports_per_subnet(t):
    pips = t["port_ips"][["port_id", "subnet_id"]].astype("string").drop_duplicates()
    return _counts(t["subnets"]["id"], pips["subnet_id"])


def _ports_per_host(t):
    hosts = t["hosts"]["node_name"].astype("string").drop_duplicates()
    return _counts(hosts, t["ports"]["binding_host_id"])


def _rules_per_group(t):
    return _counts(t["security_groups"]["id"], t["security_group_rules"]["security_group_id"])


def _per_project(table):
    def fn(t):
        from pipeline.features import project_ids

        return _counts(pd.Series(project_ids(t), dtype="string"), t[table]["project_id"])
    return fn


STRUCTURES: dict[str, tuple[str, Callable[[dict], np.ndarray]]] = {
    "subnets_per_network": ("Subnets of each network.", _subnets_per_network),
    "ports_per_subnet": ("Distinct ports with an address in each subnet.", _ports_per_subnet),
    "ports_per_host": ("Ports bound to each host (hosts.node_name).", _ports_per_host),
    "rules_per_group": ("Rules of each security group.", _rules_per_group),
    "networks_per_project": ("Networks of each project (projects owning anything).",
                             _per_project("networks")),
    "ports_per_project": ("Ports of each project.", _per_project("ports")),
}


def structural_counts(tables: dict[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    from schemas.model import TABLES, empty_frame

    t = {n: (tables[n] if n in tables and tables[n] is not None else empty_frame(n)) for n in TABLES}
    return {name: fn(t) for name, (_doc, fn) in STRUCTURES.items()}


def _summary(v: np.ndarray) -> dict[str, Any]:
    if not len(v):
        return {"n": 0}
    return {"n": int(len(v)), "mean": _r(v.mean()), "median": _r(np.median(v)),
            "p90": _r(np.percentile(v, 90)), "max": _r(v.max())}


def compare_distribution(real: np.ndarray, synthetic: np.ndarray) -> dict[str, Any]:
    ks = ks_complement(real, synthetic)
    if ks is None and len(real):
        ks = 0.0  # the real data has the entities, the synthetic data none
    w, wn = wasserstein(real, synthetic)
    return {"ks_complement": _r(ks), "wasserstein": _r(w), "wasserstein_norm": _r(wn),
            "real": _summary(np.asarray(real)), "synthetic": _summary(np.asarray(synthetic))}


def structure(real_counts: dict[str, np.ndarray], synth_counts: dict[str, np.ndarray]) -> dict[str, Any]:
    out = {}
    for name in STRUCTURES:
        r, s = real_counts[name], synth_counts[name]
        if not len(r):
            continue
        out[name] = compare_distribution(r, s)
    return {"score": _mean([d["ks_complement"] for d in out.values()]),
            "distributions": out}
