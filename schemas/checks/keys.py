"""Table checks on keys and duplicates: ids, MACs per network, addresses per subnet, host names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from schemas import netaddr as na
from schemas.checks.registry import passes, register, source_of, str_present


def first_holders(keys: pd.DataFrame, usable: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Position of the first usable row sharing the key of each row in `idx` (-1 if none)."""
    keys = keys.reset_index(drop=True)
    cols = list(keys.columns)
    sub = keys[usable]
    firsts = sub[~sub.duplicated(keep="first")].assign(_first=lambda d: d.index.to_numpy())
    probe = keys.iloc[idx].assign(_order=np.arange(len(idx)))
    hit = probe.merge(firsts, on=cols, how="left").sort_values("_order")
    return hit["_first"].fillna(-1).to_numpy(dtype=np.int64)


def _later_duplicates(keys: pd.DataFrame, usable: np.ndarray) -> np.ndarray:
    """Rows (among `usable`) whose key already appeared in an earlier usable row."""
    dup = np.zeros(len(keys), dtype=bool)
    if usable.any():
        dup[usable] = keys[usable].duplicated(keep="first").to_numpy()
    return dup


def _key_usable(df: pd.DataFrame, key: list[str]) -> np.ndarray:
    """No key part null or blank (those rows are id_missing)."""
    usable = np.ones(len(df), dtype=bool)
    for k in key:
        usable &= str_present(df[k]) if df[k].dtype == "string" else df[k].notna().to_numpy()
    return usable


def _dup_id_msg(df, idx, _col, stats):
    key = list(stats["key"])
    first = first_holders(df[key], _key_usable(df, key), idx)
    out = []
    for i, f in zip(idx, first):
        label = ", ".join(f"{k}={df[k].iat[i]}" for k in key)
        out.append(f"duplicate {label}" + (f" (first at {source_of(df, f)})" if f >= 0 else ""))
    return out


@register("The key is unique: a row repeating the key of an EARLIER row (input order = "
          "source_file, source_pos, child index) fails; the first one stays valid. Rows with a "
          "null or blank key part are left to id_missing. (Validation resolves copies first, "
          "newest kept: schemas/copies.py; this check is the schema's own safety net.)",
          statistics=["key"], frame=True,
          message=_dup_id_msg)
def duplicate_id(df: pd.DataFrame, *, key: list[str]) -> pd.Series:
    key = list(key)
    usable = _key_usable(df, key)
    return passes(~_later_duplicates(df[key], usable), df.index)


def _mac_usable(df, column, scope):
    return str_present(df[scope]) & na.np_bool(
        pc.match_substring_regex(na.to_arrow(df[column]), na.MAC_REGEX))


def _mac_dup_msg(df, idx, _col, stats):
    column, scope = stats["column"], stats["scope"]
    first = first_holders(df[[scope, column]], _mac_usable(df, column, scope), idx)
    where = scope.removesuffix("_id")
    return [f"{column} {df[column].iat[i]} already used in {where} {df[scope].iat[i]} by "
            f"id {df['id'].iat[f]} ({source_of(df, f)})" for i, f in zip(idx, first)]


@register("A MAC address is unique within its network (scope): a later port repeating it fails.",
          statistics=["column", "scope"], frame=True, message=_mac_dup_msg)
def mac_duplicate_in_network(df: pd.DataFrame, *, column: str, scope: str) -> pd.Series:
    usable = _mac_usable(df, column, scope)
    return passes(~_later_duplicates(df[[scope, column]], usable), df.index)


def ip_keys(df: pd.DataFrame, scope: str, column: str) -> tuple[pd.DataFrame, np.ndarray]:
    """(scope, version, hi, lo) per row: equal addresses compare equal whatever their spelling."""
    a = na.parse_ips(df[column])
    keys = pd.DataFrame({"s": df[scope].array, "v": a.version, "h": a.hi, "l": a.lo})
    return keys, str_present(df[scope]) & a.valid


def _ip_dup_msg(df, idx, _col, _stats):
    keys, usable = ip_keys(df, "subnet_id", "ip_address")
    first = first_holders(keys, usable, idx)
    return [f"ip_address {df['ip_address'].iat[i]} already used in subnet {df['subnet_id'].iat[i]} "
            f"by port {df['port_id'].iat[f]} ({source_of(df, f)})" for i, f in zip(idx, first)]


@register("An address is unique within its subnet: a later fixed IP repeating it fails.",
          frame=True, message=_ip_dup_msg, reads=("subnet_id", "ip_address"))
def ip_duplicate_in_subnet(df: pd.DataFrame) -> pd.Series:
    keys, usable = ip_keys(df, "subnet_id", "ip_address")
    return passes(~_later_duplicates(keys, usable), df.index)


def _host_name_usable(df) -> np.ndarray:
    return str_present(df["node_name"])


def _host_dup_msg(df, idx, _col, _stats):
    first = first_holders(df[["node_name"]], _host_name_usable(df), idx)
    return [f"node_name {df['node_name'].iat[i]} already used by host {df['id'].iat[f]} "
            f"({source_of(df, f)})" for i, f in zip(idx, first)]


@register("Host names are unique (ports bind to a host by node_name): a later host repeating "
          "one fails.", frame=True, message=_host_dup_msg, reads=("node_name",))
def host_name_duplicate(df: pd.DataFrame) -> pd.Series:
    return passes(~_later_duplicates(df[["node_name"]], _host_name_usable(df)), df.index)
