"""Histograms and shares: the only form in which the model keeps what it learned."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd


def json_scalar(v):
    """A JSON-able Python scalar (NA/NaN -> None)."""
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else float(v)
    return str(v)


def _hist_key(v):
    # numbers numerically, then text, then joint rows (by their JSON): stable, readable order
    if isinstance(v, bool) or v is None:
        return (0, 0.0 if v is None else float(v) + 1, "")
    if isinstance(v, (int, float)):
        return (1, float(v), "")
    if isinstance(v, str):
        return (2, 0.0, v)
    return (3, 0.0, json.dumps(v))


def _sorted_hist(pairs) -> list:
    return sorted(([v, int(c)] for v, c in pairs if c > 0), key=lambda x: _hist_key(x[0]))


def hist(values) -> list:
    """[[value, count], ...] of a Series (nulls as None) or a DataFrame (joint rows)."""
    # counted on plain Python values: pandas' value_counts costs ~1 ms a call (a learn run makes
    # ~260 of them on small frames: 0.12 s of its ~0.8 s on the sample)
    if isinstance(values, pd.DataFrame):
        rows = Counter(zip(*(_python_values(values[c]) for c in values.columns)))
        merged = _merged((tuple(json_scalar(x) for x in row), n) for row, n in rows.items())
        return _sorted_hist(([*row], n) for row, n in merged)
    counts = Counter(_python_values(pd.Series(values)))
    return _sorted_hist(_merged((json_scalar(v), n) for v, n in counts.items()))


def _python_values(col: pd.Series) -> list:
    """The column as Python values, NaN as None (each NaN is its own object, so NaN keys would
    never meet)."""
    values = col.tolist()
    if col.dtype.kind == "f":
        values = [None if v != v else v for v in values]
    return values


def _merged(pairs):
    """(JSON key, count) pairs with the counts of equal keys added up (NaN, NA and None are all
    None once converted)."""
    acc: dict = {}
    for key, count in pairs:
        acc[key] = acc.get(key, 0) + count
    return acc.items()


def share(mask) -> float | None:
    m = np.asarray(mask, dtype=bool)
    return round(float(m.mean()), 6) if len(m) else None


def template_hist(texts: pd.Series) -> list:
    vc = texts.value_counts()
    return _sorted_hist((json.loads(k), c) for k, c in vc.items())


@dataclass
class KindTables:
    """The prepared real tables of one set of projects (a kind, or all of them), as learn()
    annotates them, for the families' `learn_stats`:

    networks: tenant networks (+ vpc_prefix, n_zones, range, n_dhcp, has_dhcp_subnet);
    subnets: tenant subnets (+ version, prefix, gateway, n_pools, pool_offset, dns, n_routes,
    workload, in_vpc, attached, project_has_router); ports: tenant ports (+ role, first_subnet,
    has_v6, dual_stack, in_vpc, alcor, device, n_aap, n_sg, eligible); security_groups (+
    is_default, template); routers (+ has_gw); floating_ips (+ target_role); ri_owners:
    device_owner of their router interface ports; spread: (vms, hosts) per project with bound
    VMs; aap_kinds: abstract allowed address pair per pair."""

    projects: list[str]
    networks: pd.DataFrame
    subnets: pd.DataFrame
    ports: pd.DataFrame
    security_groups: pd.DataFrame
    routers: pd.DataFrame
    floating_ips: pd.DataFrame
    ri_owners: pd.Series
    spread: pd.DataFrame
    aap_kinds: pd.Series

    def per_project(self, frame: pd.DataFrame) -> pd.Series:
        """Rows of `frame` per project (0 for projects without any); counted in Python, as
        pandas' groupby costs ~0.5 ms a call on these small frames."""
        counts = Counter(frame["project_id"].tolist())
        return pd.Series([counts.get(p, 0) for p in self.projects], index=self.projects,
                         dtype="int64")
