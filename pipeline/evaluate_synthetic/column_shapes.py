"""Fidelity part `column_shapes`: which columns of which tables are compared, how derived
columns are computed from a table, and the per-column KSComplement / TVComplement scores."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pandas as pd

from pipeline.evaluate_synthetic.metrics import _mean, _r, ks_complement, tv_complement
from schemas import netaddr


def _s(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col].astype("string").str.strip()


def _raw(col: str) -> Callable[[pd.DataFrame, dict], pd.Series]:
    return lambda df, t: df[col]


def _filled(col: str, value: str) -> Callable[[pd.DataFrame, dict], pd.Series]:
    # A null that is a value of the domain (protocol null = any, no IPv6 mode) becomes a category.
    return lambda df, t: _s(df, col).replace("", pd.NA).fillna(value)


def _present(col: str) -> Callable[[pd.DataFrame, dict], pd.Series]:
    return lambda df, t: (_s(df, col).fillna("") != "").map({True: "yes", False: "no"})


def _prefixlen(col: str, version: int | None = None) -> Callable[[pd.DataFrame, dict], pd.Series]:
    def fn(df, t):
        s = _s(df, col).fillna("")
        n = pd.to_numeric(s.str.extract(r"/(\d+)$", expand=False), errors="coerce")
        if version is not None:
            is6 = s.str.contains(":", regex=False)
            n = n.where(is6 if version == 6 else ~is6)
        return n
    return fn


def _json_len(col: str) -> Callable[[pd.DataFrame, dict], pd.Series]:
    def fn(df, t):
        import orjson

        s = _s(df, col).fillna("")
        cache: dict[str, float] = {}
        for v in s.unique():
            try:
                x = orjson.loads(v) if v else []
                cache[v] = float(len(x)) if isinstance(x, (list, dict)) else np.nan
            except orjson.JSONDecodeError:
                cache[v] = np.nan
        return s.map(cache)
    return fn


def _child_count(child: str, child_col: str, key: str = "id") -> Callable[[pd.DataFrame, dict], pd.Series]:
    def fn(df, t):
        c = t.get(child)
        if c is None or not len(c):
            return pd.Series(0.0, index=df.index)
        counts = c[child_col].astype("string").value_counts()
        return df[key].astype("string").map(counts).fillna(0).astype("float64")
    return fn


def _port_role(df, t):
    from pipeline.roles import owner_roles

    return owner_roles(df["device_owner"])


def _ip_family(col: str) -> Callable[[pd.DataFrame, dict], pd.Series]:
    def fn(df, t):
        s = _s(df, col)
        return s.str.contains(":", regex=False).map({True: "v6", False: "v4"})
    return fn


def _pool_size_log2(df, t):
    start = netaddr.as_ints(netaddr.parse_ips(_s(df, "start")))
    end = netaddr.as_ints(netaddr.parse_ips(_s(df, "end")))
    out = np.full(len(df), np.nan)
    for i, (a, b) in enumerate(zip(start, end)):
        if a != -1 and b != -1 and b >= a:
            out[i] = math.log2(b - a + 1)  # IPv6 pools exceed 64 bits; ranks are what KS uses
    return pd.Series(out, index=df.index)


def _port_width(df, t):
    lo = pd.to_numeric(df["port_range_min"], errors="coerce").astype("Float64")
    hi = pd.to_numeric(df["port_range_max"], errors="coerce").astype("Float64")
    return (hi - lo + 1).astype("Float64")


def _rule_remote(df, t):
    prefix = _s(df, "remote_ip_prefix").fillna("") != ""
    group = _s(df, "remote_group_id").fillna("") != ""
    return pd.Series(np.where(group, "group", np.where(prefix, "prefix", "any")), index=df.index)


NUM, CAT = "numeric", "categorical"
# Derived columns that count rows of another table: they measure references as much as values
# (a single-table synthesizer cannot get them right), so the report also gives the column-shape
# score without them (`score_single_table`).
CROSS_TABLE_COLUMNS = {("subnets", "n_allocation_pools"), ("ports", "n_fixed_ips"),
                       ("ports", "n_security_groups")}

# table -> [(column as reported, numeric|categorical, how to get it from the table)].
# A raw column name means that column as is; derived columns are documented by their name.
COLUMN_SPECS: dict[str, list[tuple[str, str, Callable[[pd.DataFrame, dict], pd.Series]]]] = {
    "networks": [
        ("status", CAT, _raw("status")),
        ("network_type", CAT, _filled("network_type", "none")),
        ("admin_state_up", CAT, _raw("admin_state_up")),
        ("shared", CAT, _raw("shared")),
        ("router_external", CAT, _raw("router_external")),
        ("port_security_enabled", CAT, _raw("port_security_enabled")),
        ("alcor_vpc", CAT, _present("cidr")),
        ("mtu", NUM, _raw("mtu")),
        ("cidr_prefixlen", NUM, _prefixlen("cidr")),
    ],
    "subnets": [
        ("ip_version", CAT, _raw("ip_version")),
        ("enable_dhcp", CAT, _raw("enable_dhcp")),
        ("has_gateway", CAT, _present("gateway_ip")),
        ("ipv6_address_mode", CAT, _filled("ipv6_address_mode", "none")),
        ("ipv6_ra_mode", CAT, _filled("ipv6_ra_mode", "none")),
        ("prefixlen_v4", NUM, _prefixlen("cidr", 4)),
        ("prefixlen_v6", NUM, _prefixlen("cidr", 6)),
        ("n_dns_nameservers", NUM, _json_len("dns_nameservers")),
        ("n_host_routes", NUM, _json_len("host_routes")),
        ("n_allocation_pools", NUM, _child_count("allocation_pools", "subnet_id")),
    ],
    "allocation_pools": [
        ("pool_size_log2", NUM, _pool_size_log2),
    ],
    "ports": [
        ("role", CAT, _port_role),
        ("status", CAT, _raw("status")),
        ("admin_state_up", CAT, _raw("admin_state_up")),
        ("port_security_enabled", CAT, _raw("port_security_enabled")),
        ("binding_vif_type", CAT, _raw("binding_vif_type")),
        ("binding_vnic_type", CAT, _raw("binding_vnic_type")),
        ("bound", CAT, _present("binding_host_id")),
        ("n_fixed_ips", NUM, _child_count("port_ips", "port_id")),
        ("n_security_groups", NUM, _child_count("port_security_groups", "port_id")),
        ("n_allowed_address_pairs", NUM, _json_len("allowed_address_pairs")),
    ],
    "port_ips": [
        ("ip_family", CAT, _ip_family("ip_address")),
    ],
    "security_groups": [
        ("stateful", CAT, _raw("stateful")),
    ],
    "security_group_rules": [
        ("direction", CAT, _raw("direction")),
        ("ethertype", CAT, _raw("ethertype")),
        ("protocol", CAT, _filled("protocol", "any")),
        ("remote", CAT, _rule_remote),
        ("port_range_min", NUM, _raw("port_range_min")),
        ("port_range_max", NUM, _raw("port_range_max")),
        ("port_range_width", NUM, _port_width),
        ("remote_prefixlen", NUM, _prefixlen("remote_ip_prefix")),
    ],
    "routers": [
        ("admin_state_up", CAT, _raw("admin_state_up")),
        ("status", CAT, _raw("status")),
        ("distributed", CAT, _raw("distributed")),
        ("ha", CAT, _raw("ha")),
        ("enable_snat", CAT, _raw("enable_snat")),
        ("has_gateway", CAT, _present("gateway_network_id")),
        ("n_routes", NUM, _json_len("routes")),
    ],
    "floating_ips": [
        ("status", CAT, _raw("status")),
        ("associated", CAT, _present("port_id")),
    ],
    "fabric_switches": [
        ("role", CAT, _raw("role")),
        ("pod", NUM, _raw("pod")),
    ],
    "fabric_links": [
        ("dst_kind", CAT, _raw("dst_kind")),
        ("bandwidth_gbps", NUM, _raw("bandwidth_gbps")),
    ],
}


def column_values(tables: dict[str, pd.DataFrame], table: str, column: str) -> pd.Series:
    """The values compared for one spec column (derived columns computed)."""
    for name, _kind, fn in COLUMN_SPECS[table]:
        if name == column:
            df = tables.get(table)
            if df is None or not len(df):
                return pd.Series([], dtype=object)
            return fn(df, tables)
    raise KeyError(f"{table}.{column} is not a compared column")


def _to_object(s: pd.Series) -> pd.Series:
    # Nullable extension values -> plain Python objects with NA as None (TV counts them as str).
    return pd.Series(s.astype(object).where(s.notna(), None).to_numpy(), dtype=object)


def column_shapes(real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Per table and column the score (KSComplement for NUM columns, TVComplement for CAT ones,
    see COLUMN_SPECS), per table their mean, and the mean over all scored columns.

    Tables empty in the real data are skipped (nothing to imitate). A column the real data has
    values for but the synthetic data has none (or a missing table) scores 0: omitting a thing
    is as wrong as it gets.
    """
    out: dict[str, Any] = {}
    scores: list[float] = []
    single: list[float] = []
    skipped: list[str] = []
    constant: dict[str, float] = {}   # one value in the real data: trivially matched, apart
    for table, specs in COLUMN_SPECS.items():
        rdf = real.get(table)
        if rdf is None or not len(rdf):
            skipped.append(table)
            continue
        sdf = synthetic.get(table)
        cols = {}
        for name, kind, fn in specs:
            rv = fn(rdf, real)
            sv = fn(sdf, synthetic) if sdf is not None and len(sdf) else pd.Series([], dtype=object)
            rv = rv.dropna()
            sv = sv.dropna()
            if not len(rv):
                continue  # nothing in the real data to compare with
            if not len(sv):
                score = 0.0
            elif kind == NUM:
                score = ks_complement(rv, sv)
            else:
                score = tv_complement(_to_object(rv), _to_object(sv))
            if _to_object(rv).nunique() <= 1:
                constant[f"{table}.{name}"] = _r(score)
                continue
            cols[name] = _r(score)
            scores.append(float(score))
            if (table, name) not in CROSS_TABLE_COLUMNS:
                single.append(float(score))
        out[table] = {"score": _mean(cols.values()), "columns": cols}
    return {"score": _mean(scores), "score_single_table": _mean(single), "n_columns": len(scores),
            "tables": out, "skipped_tables": skipped,
            "constant_columns": {"n": len(constant), "score": _mean(constant.values()),
                                 "columns": constant}}
