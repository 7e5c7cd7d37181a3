"""Privacy: exact overlap, the distinct real values (ids, device ids, host names, identifying
names, MACs, non-shared addresses, identifying free text) that reappear in the synthetic data."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

import pandas as pd


# Ranges every site uses, so sharing an address in them says nothing about the real data.
SHARED_RANGES = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",          # RFC 1918 private
    "100.64.0.0/10",                                           # RFC 6598 shared (CGN)
    "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",       # RFC 5737 documentation
    "2001:db8::/32",                                           # RFC 3849 documentation
    "169.254.0.0/16", "fe80::/10",                             # link-local
    "127.0.0.0/8", "::1/128",                                  # loopback
    "fc00::/7",                                                # RFC 4193 unique local (IPv6 private)
    "0.0.0.0/8", "::/128",                                     # unspecified ("any" prefixes)
))

ID_EXCLUDE = {"device_id", "binding_host_id"}  # their own categories below
NAME_COLUMNS = {"networks": ["name"], "subnets": ["name"], "ports": ["name", "dns_name"],
                "security_groups": ["name"], "routers": ["name"], "fabric_switches": ["name"]}
HOST_NAME_COLUMNS = {"hosts": ["node_name"], "ports": ["binding_host_id"]}
MAC_COLUMNS = {"hosts": ["mac_address", "host_dvr_mac"], "ports": ["mac_address"]}
IP_COLUMNS = {"hosts": ["local_ip"], "networks": ["cidr"], "subnets": ["cidr", "gateway_ip"],
              "allocation_pools": ["start", "end"], "port_ips": ["ip_address"],
              "router_interfaces": ["ip_address"],
              "floating_ips": ["floating_ip_address", "fixed_ip_address"],
              "security_group_rules": ["remote_ip_prefix"]}
# JSON columns holding addresses: (table, column, key).
JSON_VALUES = {"ips": [("routers", "external_fixed_ips", "ip_address"),
                       ("ports", "allowed_address_pairs", "ip_address")],
               "macs": [("ports", "allowed_address_pairs", "mac_address")]}
TRIVIAL_MACS = {"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"}
OVERLAP_CATEGORIES = ("ids", "device_ids", "host_names", "names", "macs", "ips", "free_text")
# Columns the other categories own, and provenance (file names are not data).
_NOT_FREE_TEXT = {"source_file", "ingest_errors"}
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")


def _json_leaves(text: str) -> list[str]:
    """String leaves of a JSON text (keys are field names, not data); [text] when not JSON."""
    import json

    t = text.strip()
    if not t or t[0] not in "[{":
        return [t]
    try:
        obj = json.loads(t)
    except ValueError:
        return [t]
    out, stack = [], [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            stack += list(x.values())
        elif isinstance(x, list):
            stack += x
        elif isinstance(x, str):
            out.append(x.strip())
    return out


_ID_OR_MAC = re.compile(r"^(?:[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}"
                        r"|[0-9a-fA-F]{2}(?:[:-][0-9a-fA-F]{2}){5})$")


def _distinctive(v: str) -> bool:
    if (_TIMESTAMP.match(v) or not is_shared_address(v) or _is_address(v)
            or _ID_OR_MAC.match(v)):
        # timestamps are drawn by the synthesizer; ids, MACs and addresses have categories
        return False
    # Like the privacy tests' scanner: plain words and phrases ("rules for spark") are
    # vocabulary that any site may write; a value with a digit among letters names something.
    return len(v) >= 5 and bool(re.search(r"\d", v)) and bool(re.search(r"[A-Za-z]", v))


def _is_address(v: str) -> bool:
    try:
        ipaddress.ip_interface(v)
    except ValueError:
        return False
    return True


def _string_columns(tables: dict[str, pd.DataFrame], skip: set[str]):
    """(table, column, frame) of every string column not in `skip` (nor provenance)."""
    for table, df in tables.items():
        if df is None or not len(df):
            continue
        for col in df.columns:
            if f"{table}.{col}" in skip or col in _NOT_FREE_TEXT:
                continue
            if pd.api.types.is_string_dtype(df[col]) or df[col].dtype == object:
                yield table, col, df


def _strings(tables: dict[str, pd.DataFrame], skip: set[str]) -> dict[str, set[str]]:
    """{"table.column": distinct string values, JSON texts split into leaves}."""
    out = {}
    for table, col, _ in _string_columns(tables, skip):
        vals = set()
        for v in _values(tables, table, col).unique():
            vals.update(_json_leaves(str(v)))
        vals.discard("")
        if vals:
            out[f"{table}.{col}"] = vals
    return out


def _free_text_pool(real: dict[str, pd.DataFrame]) -> set[str]:
    """Identifying free-text values of the real tables: distinctive, and used by one real
    project only (one row, in tables without projects). Text many tenants share, such as
    Neutron's "Default security group" or a zone name, identifies nobody."""
    from schemas.model import DEVICE_OWNERS
    from pipeline.vocab import VOCABULARIES

    owned = {f"{t}.{c}" for spec in (_id_columns(real), {"ports": ["device_id"]}, HOST_NAME_COLUMNS,
                                     MAC_COLUMNS, IP_COLUMNS, NAME_COLUMNS)
             for t, cols in spec.items() for c in cols}
    owners: dict[str, set] = {}
    for table, col, df in _string_columns(real, owned):
        text = df[col].astype("string").str.strip()
        who = (df["project_id"].astype("string").fillna("") if "project_id" in df.columns
               else pd.Series([f"{table}#{i}" for i in range(len(df))], index=df.index))
        ok = (text.notna() & (text != "")).to_numpy(dtype=bool)
        for v, w in zip(text[ok].tolist(), who[ok].tolist()):
            for leaf in _json_leaves(v):
                if leaf:
                    owners.setdefault(leaf, set()).add(w)
    vocabulary = set(DEVICE_OWNERS).union(*[set(v) for v, _ in VOCABULARIES.values()])
    return {v for v, who in owners.items()
            if len(who) == 1 and v not in vocabulary and _distinctive(v)}


def _id_columns(tables: dict[str, pd.DataFrame]) -> dict[str, list[str]]:
    from schemas.model import STR, TABLES

    # String columns only: segmentation_id is a VLAN/VNI number from a small space, no identity.
    return {t: [c.name for c in TABLES[t].columns
                if (c.name == "id" or c.name.endswith("_id")) and c.name not in ID_EXCLUDE
                and c.dtype == STR]
            for t in TABLES}


def _values(tables: dict[str, pd.DataFrame], table: str, col: str) -> pd.Series:
    df = tables.get(table)
    if df is None or not len(df) or col not in df.columns:
        return pd.Series([], dtype="string")
    s = df[col].astype("string").str.strip()
    return s[s.notna() & (s != "")]


def _json_values(tables, table, col, key) -> pd.Series:
    s = _values(tables, table, col)
    if not len(s):
        return s
    rx = re.compile(r'"' + re.escape(key) + r'"\s*:\s*"([^"]*)"')
    vals = [m for v in s.unique() for m in rx.findall(v)]
    return pd.Series(vals, dtype="string")


def is_shared_address(value: str) -> bool:
    """True for an address or prefix inside SHARED_RANGES (and for anything unparsable)."""
    v = str(value).strip()
    try:
        addr = ipaddress.ip_interface(v).ip if "/" in v else ipaddress.ip_address(v)
    except ValueError:
        return True  # not an address: not an address leak (ids/names are checked elsewhere)
    return any(addr.version == n.version and addr in n for n in SHARED_RANGES)


def _category_values(tables: dict[str, pd.DataFrame], category: str) -> dict[str, pd.Series]:
    """{"table.column": distinct normalized values} of one overlap category."""
    spec = {"ids": _id_columns(tables), "device_ids": {"ports": ["device_id"]},
            "host_names": HOST_NAME_COLUMNS, "macs": MAC_COLUMNS, "ips": IP_COLUMNS,
            "names": NAME_COLUMNS}[category]
    out = {}
    for table, cols in spec.items():
        for col in cols:
            v = _values(tables, table, col)
            if len(v):
                out[f"{table}.{col}"] = v
    for table, col, key in JSON_VALUES.get(category, []):
        v = _json_values(tables, table, col, key)
        if len(v):
            out[f"{table}.{col}[{key}]"] = v
    norm = (lambda s: s.str.lower()) if category in ("macs", "ips") else (lambda s: s)
    return {k: pd.Series(norm(v).unique(), dtype="string") for k, v in out.items()}


def _identifying_names(tables: dict[str, pd.DataFrame]) -> set[str]:
    """Names that exactly one real project uses (see the package docstring, __init__.py)."""
    rows = []
    for table, cols in NAME_COLUMNS.items():
        df = tables.get(table)
        if df is None or not len(df):
            continue
        pid = (df["project_id"].astype("string").fillna("") if "project_id" in df.columns
               else pd.Series(f"<{table}>", index=df.index, dtype="string"))
        for col in cols:
            v = df[col].astype("string").str.strip()
            ok = v.notna() & (v != "")
            rows.append(pd.DataFrame({"name": v[ok], "project": pid[ok]}))
    if not rows:
        return set()
    allnames = pd.concat(rows, ignore_index=True)
    per = allnames.groupby("name")["project"].nunique()
    return set(per.index[per == 1])


def exact_overlap(real: dict[str, pd.DataFrame], synthetic: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """Distinct values present in both datasets, per category and per synthetic column."""
    out: dict[str, Any] = {}
    total = 0
    for cat in OVERLAP_CATEGORIES:
        if cat == "free_text":
            pool = _free_text_pool(real)
            by_col = {}
            found = set()
            for key, sv in _strings(synthetic, set()).items():
                hit = sv & pool
                if hit:
                    by_col[key] = len(hit)
                    found |= hit
            out[cat] = {"count": len(found), "by_column": dict(sorted(by_col.items()))}
            total += len(found)
            continue
        rvals = _category_values(real, cat)
        pool = set().union(*[set(v) for v in rvals.values()]) if rvals else set()
        if cat == "names":
            pool &= _identifying_names(real)
        elif cat == "macs":
            pool -= TRIVIAL_MACS
        by_col = {}
        found: set[str] = set()
        for key, sv in _category_values(synthetic, cat).items():
            hit = {x for x in sv if x in pool}
            if cat == "ips":
                hit = {x for x in hit if not is_shared_address(x)}
            if hit:
                by_col[key] = len(hit)
                found |= hit
        out[cat] = {"count": len(found), "by_column": dict(sorted(by_col.items()))}
        total += len(found)
    out["total"] = total
    return out
