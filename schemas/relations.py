"""Cross-table checks: references, semantic checks against a parent row, and the cascade.

Declared as data (REFERENCES, CROSS_CHECKS) and run by `run()`, a pure function over the dict
of canonical tables plus the single-table failures found by the pandera schemas.

A reference value that is null (or the empty string, Neutron's "not set") is fine. Otherwise:
- it matches a row of the parent that stays valid: fine;
- it matches only quarantined parent rows: `parent_quarantined`, the reason naming the parent
  and its checks;
- it matches no row at all: `ref_<column>`.
Rows of nested child tables (fixed IPs, pools, ... unnested from their parent's object) also
follow the parent ROW they came from: the children of a stale duplicate copy of a port leave
with it (`parent_quarantined`) instead of attaching to the valid copy.
Tables are processed parents first (topological order of the references), so a table's
quarantine is final before its children look at it: one pass reaches the fixpoint (the child
of a quarantined child is quarantined too). A semantic check runs only on rows whose parents
all stay valid: a row whose parent is gone says so once (parent_quarantined), instead of also
failing every comparison with a parent that is wrong.

Failures are frames with columns pos (0-based row position in the table), check, reason.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.model import TABLES
from schemas import netaddr as na

FAILURE_COLUMNS = ["pos", "check", "reason"]


def failures(pos, check, reason) -> pd.DataFrame:
    pos = np.asarray(pos, dtype=np.int64)
    checks = [check] * len(pos) if isinstance(check, str) else list(check)
    reasons = [reason] * len(pos) if isinstance(reason, str) else list(reason)
    return pd.DataFrame({"pos": pos, "check": pd.Series(checks, dtype=object),
                         "reason": pd.Series(reasons, dtype=object)})


_EMPTY = failures([], [], [])


def no_failures() -> pd.DataFrame:
    return _EMPTY  # shared: frames are copy-on-write, callers cannot alter it


def collapse(f: pd.DataFrame) -> pd.DataFrame:
    """One row per failing position: sorted unique checks joined by ';', reasons by '; '
    (in check order). Index: pos, sorted."""
    out_cols = ["check", "reason"]
    if f.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in out_cols},
                            index=pd.Index([], dtype=np.int64, name="pos"))
    f = f.drop_duplicates().sort_values(["pos", "check", "reason"], kind="stable")
    multi = f["pos"].duplicated(keep=False).to_numpy()
    out = f[~multi].set_index("pos")[out_cols]
    if multi.any():
        g = f[multi].groupby("pos", sort=True)
        joined = pd.DataFrame({
            "check": g["check"].agg(lambda s: ";".join(dict.fromkeys(s))),
            "reason": g["reason"].agg("; ".join),
        })
        out = pd.concat([out, joined]).sort_index()
    return out


# --- references --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    table: str
    column: str
    parent: str
    parent_column: str
    # Checked only when the parent table has rows (the hosts inventory is optional).
    only_if_parent_present: bool = False
    # Child rows come from a nested list of the parent's resource object (same source_file
    # and source_pos): they also follow the parent ROW they came from.
    nested: bool = False

    @property
    def code(self) -> str:
        return f"ref_{self.column}"


# Many dumps carry no node registrations (nor subnet pools): without the parent table the
# reference cannot be checked.
_OPTIONAL_PARENT = {("ports", "binding_host_id"), ("subnets", "subnetpool_id")}

# Child tables ingest unnests from their parent object (fixed_ips, security_groups,
# allocation_pools, embedded security_group_rules; router interfaces derive from their port).
_NESTED = {("port_ips", "port_id"), ("port_security_groups", "port_id"),
           ("allocation_pools", "subnet_id"), ("security_group_rules", "security_group_id"),
           ("router_interfaces", "port_id")}

REFERENCES: tuple[Reference, ...] = tuple(
    Reference(t.name, col, parent, pcol, only_if_parent_present=(t.name, col) in _OPTIONAL_PARENT,
              nested=(t.name, col) in _NESTED)
    for t in TABLES.values() for col, parent, pcol in t.references
)


def table_order() -> list[str]:
    """Tables with every parent before its children (deterministic)."""
    ts = graphlib.TopologicalSorter()
    for name in TABLES:
        ts.add(name)
    for r in REFERENCES:
        if r.parent != r.table:
            ts.add(r.table, r.parent)
    return list(ts.static_order())


def _set(s: pd.Series) -> np.ndarray:
    return (s.notna() & (s != "")).to_numpy(dtype=bool, na_value=False)


def first_position(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Position in `keys` of the first key equal to each value; -1 when none or value unset.

    pyarrow's hash lookup (index_in returns the first match): pandas' Index.get_indexer would
    convert a million arrow strings to Python objects first. index_in hashes its value set, so
    the smaller side is hashed: the keys when values are many, else the distinct values (a
    floating IP's port among 5M ports: 0.3 s instead of 1.8 s, measured).
    """
    k = na.to_arrow(keys.astype("string"))
    v = na.to_arrow(values.astype("string"))
    usable = pc.and_(pc.is_valid(k), pc.not_equal(k, ""))
    posmap = np.flatnonzero(na.np_bool(usable))
    if len(posmap) == 0 or len(v) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    if len(v) * FEW_VALUES < len(posmap):
        out = _first_position_hashing_values(v, k.filter(usable), posmap)
    else:
        hit = pc.fill_null(pc.index_in(v, value_set=k.filter(usable)), -1).to_numpy()
        hit = hit.astype(np.int64)
        out = np.where(hit >= 0, posmap[np.maximum(hit, 0)], -1)
    return np.where(_set(values), out, -1).astype(np.int64)


FEW_VALUES = 8  # values fewer than keys / this: hash the values, not the keys


def _first_position_hashing_values(v: pa.Array, usable_keys: pa.Array,
                                   posmap: np.ndarray) -> np.ndarray:
    """first_position's result (before unset values are masked) with the distinct values
    hashed and the keys looked up in them: `posmap` maps `usable_keys` to key positions."""
    distinct = pc.unique(v.filter(pc.is_valid(v)))
    if len(distinct) == 0:
        return np.full(len(v), -1, dtype=np.int64)
    of_key = pc.fill_null(pc.index_in(usable_keys, value_set=distinct), -1).to_numpy()
    matched = np.flatnonzero(of_key >= 0)
    # the first usable key of each distinct value: keys in position order, np.unique's first index
    which, first = np.unique(of_key[matched], return_index=True)
    first_key = np.full(len(distinct), -1, dtype=np.int64)
    first_key[which] = posmap[matched[first]]
    hit = pc.fill_null(pc.index_in(v, value_set=distinct), -1).to_numpy().astype(np.int64)
    return np.where(hit >= 0, first_key[np.maximum(hit, 0)], -1)


def _singular(table: str) -> str:
    if table.endswith(("ches", "shes", "sses")):
        return table[:-2]
    return table[:-1] if table.endswith("s") else table


def check_reference(ref: Reference, child: pd.DataFrame, parent: pd.DataFrame,
                    parent_bad: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """(failures, position of each child row's VALID parent or -1).

    `parent_bad`: the parent's quarantined positions -> their checks ('a;b').
    """
    values = child[ref.column]
    keys = parent[ref.parent_column]
    valid = np.ones(len(parent), dtype=bool)
    valid[parent_bad.index.to_numpy(dtype=np.int64)] = False
    vpos = first_position(values, keys.where(pd.Series(valid, index=keys.index)))
    parts = [_same_object_parent_quarantined(ref, child, parent, parent_bad, vpos)
             if ref.nested else no_failures()]
    unresolved = np.flatnonzero(_set(values) & (vpos < 0))
    if len(unresolved):
        vals = values.iloc[unresolved]
        apos = first_position(vals, keys)
        text = np.asarray([str(v) for v in vals.tolist()], dtype=object)
        gone = apos >= 0
        bad_checks = parent_bad.reindex(apos[gone]).to_numpy()
        noun = _singular(ref.parent)
        parts.append(failures(unresolved[gone], "parent_quarantined",
                              [f"parent {noun} {v} quarantined ({c})"
                               for v, c in zip(text[gone], bad_checks)]))
        parts.append(failures(unresolved[~gone], ref.code,
                              [f"{ref.column} {v} not found in {ref.parent}.{ref.parent_column}"
                               for v in text[~gone]]))
    return pd.concat(parts, ignore_index=True), vpos


def _same_object_parent_quarantined(ref, child, parent, parent_bad, vpos) -> pd.DataFrame:
    """Nested child rows of a quarantined parent ROW whose key also has a valid row elsewhere.

    Typical case: a stale second copy of a port (duplicate_id) brings its own fixed IPs and
    security groups. By key they would attach to the valid first copy and silently change it,
    so rows unnested from the same resource object as a quarantined parent row (same key,
    source_file and source_pos) are quarantined with it.
    """
    if len(parent_bad) == 0:
        return no_failures()
    bad_pos = parent_bad.index.to_numpy(dtype=np.int64)
    bad_keys = parent[ref.parent_column].iloc[bad_pos]
    candidates = np.flatnonzero((vpos >= 0) & na.np_bool(pc.is_in(
        na.to_arrow(child[ref.column].astype("string")),
        value_set=na.to_arrow(bad_keys.dropna().astype("string")))))
    if len(candidates) == 0:
        return no_failures()
    origin = {(k, f, int(p)): c for k, f, p, c in zip(
        bad_keys, parent["source_file"].iloc[bad_pos], parent["source_pos"].iloc[bad_pos],
        parent_bad.to_numpy())}
    noun = _singular(ref.parent)
    hits, reasons = [], []
    rows = child.iloc[candidates]
    for i, k, f, p in zip(candidates, rows[ref.column], rows["source_file"], rows["source_pos"]):
        c = origin.get((k, f, int(p)))
        if c is not None:
            hits.append(i)
            reasons.append(f"parent {noun} {k} at {f}#{p} quarantined ({c})")
    return failures(hits, "parent_quarantined", reasons)


# --- semantic cross-table checks -----------------------------------------------------------------

# parents: reference column -> (parent table, position of each row's parent, aligned with rows)
Parents = dict[str, tuple[pd.DataFrame, np.ndarray]]


@dataclass(frozen=True)
class CrossCheck:
    code: str
    table: str
    via: tuple[str, ...]  # reference columns; the check runs where all their parents are valid
    doc: str
    fn: Callable[[pd.DataFrame, Parents], tuple[np.ndarray, Callable[[np.ndarray], list[str]]]]


def _parent_cidrs(parents: Parents, via: str) -> na.Cidrs:
    # Parse the (small) parent column once, then align: cheaper than parsing a million copies.
    df, pos = parents[via]
    return na.take(na.parse_cidrs(df["cidr"]), pos)


def _pcol(parents: Parents, via: str, col: str) -> pd.Series:
    """Column `col` of each row's parent, aligned with the rows."""
    df, pos = parents[via]
    return df[col].take(pos).reset_index(drop=True)


# Message helpers read only the failing rows `i` (never convert a million-row column).
def _at(rows: pd.DataFrame, col: str, i: np.ndarray) -> list:
    return rows[col].iloc[i].tolist()


def _pat(parents: Parents, via: str, col: str, i: np.ndarray) -> list:
    df, pos = parents[via]
    return df[col].iloc[pos[i]].tolist()


def _subnet_outside_network_cidr(rows, parents):
    nc = _parent_cidrs(parents, "network_id")
    sc = na.parse_cidrs(rows["cidr"])
    inside = ((sc.version == nc.version) & (sc.prefix >= nc.prefix)
              & na.contains(nc, na.Addrs(sc.version, sc.hi, sc.lo, sc.present)))
    bad = nc.valid & sc.valid & ~inside

    def msg(i):
        return [f"cidr {c} outside cidr {n} of network {nid}" for c, n, nid in zip(
            _at(rows, "cidr", i), _pat(parents, "network_id", "cidr", i),
            _at(rows, "network_id", i))]

    return bad, msg


def _pool_addrs(rows):
    return na.parse_ips(rows["start"]), na.parse_ips(rows["end"])


def _pool_outside_cidr(rows, parents):
    sc = _parent_cidrs(parents, "subnet_id")
    s, e = _pool_addrs(rows)
    bad = sc.valid & s.valid & e.valid & ~(na.contains(sc, s) & na.contains(sc, e))

    def msg(i):
        return [f"pool {a}-{b} outside cidr {c} of subnet {sid}" for a, b, c, sid in zip(
            _at(rows, "start", i), _at(rows, "end", i), _pat(parents, "subnet_id", "cidr", i),
            _at(rows, "subnet_id", i))]

    return bad, msg


def _pool_covers_gateway(rows, parents):
    df, pos = parents["subnet_id"]
    g = na.take(na.parse_ips(df["gateway_ip"]), pos)
    s, e = _pool_addrs(rows)
    same = g.valid & s.valid & e.valid & (s.version == g.version) & (e.version == g.version)
    bad = same & na.le(s.hi, s.lo, g.hi, g.lo) & na.le(g.hi, g.lo, e.hi, e.lo)

    def msg(i):
        return [f"pool {a}-{b} covers gateway_ip {gw} of subnet {sid}" for a, b, gw, sid in zip(
            _at(rows, "start", i), _at(rows, "end", i),
            _pat(parents, "subnet_id", "gateway_ip", i), _at(rows, "subnet_id", i))]

    return bad, msg


def _ip_family_mismatch(rows, parents):
    sc = _parent_cidrs(parents, "subnet_id")
    a = na.parse_ips(rows["ip_address"])
    bad = sc.valid & a.valid & (a.version != sc.version)

    def msg(i):
        return [f"ip_address {ip} is IPv{av} but subnet {sid} ({c}) is IPv{cv}"
                for ip, av, c, cv, sid in zip(
                    _at(rows, "ip_address", i), a.version[i], _pat(parents, "subnet_id", "cidr", i),
                    sc.version[i], _at(rows, "subnet_id", i))]

    return bad, msg


def _ip_outside_subnet(rows, parents):
    sc = _parent_cidrs(parents, "subnet_id")
    a = na.parse_ips(rows["ip_address"])
    bad = sc.valid & a.valid & (a.version == sc.version) & ~na.contains(sc, a)

    def msg(i):
        return [f"ip_address {ip} outside subnet {c} (subnet {sid})" for ip, c, sid in zip(
            _at(rows, "ip_address", i), _pat(parents, "subnet_id", "cidr", i),
            _at(rows, "subnet_id", i))]

    return bad, msg


def _ip_subnet_network_mismatch(rows, parents):
    port_net = _pcol(parents, "port_id", "network_id")
    subnet_net = _pcol(parents, "subnet_id", "network_id")
    bad = (_set(port_net) & _set(subnet_net)
           & (port_net != subnet_net).to_numpy(dtype=bool, na_value=False))

    def msg(i):
        return [f"subnet {sid} is in network {sn} but port {pid} is in network {pn}"
                for sid, sn, pid, pn in zip(_at(rows, "subnet_id", i), subnet_net.iloc[i].tolist(),
                                            _at(rows, "port_id", i), port_net.iloc[i].tolist())]

    return bad, msg


CROSS_CHECKS: tuple[CrossCheck, ...] = (
    CrossCheck("subnet_outside_network_cidr", "subnets", ("network_id",),
               "The subnet's cidr lies inside its network's `cidr` (Alcor VPC block), where the "
               "network has one.", _subnet_outside_network_cidr),
    CrossCheck("pool_outside_cidr", "allocation_pools", ("subnet_id",),
               "Pool start and end lie inside the subnet's cidr.", _pool_outside_cidr),
    CrossCheck("pool_covers_gateway", "allocation_pools", ("subnet_id",),
               "The pool range does not include the subnet's gateway_ip.", _pool_covers_gateway),
    CrossCheck("ip_family_mismatch", "port_ips", ("subnet_id",),
               "The address has the IP family of its subnet.", _ip_family_mismatch),
    CrossCheck("ip_outside_subnet", "port_ips", ("subnet_id",),
               "The address lies inside its subnet's cidr.", _ip_outside_subnet),
    CrossCheck("ip_subnet_network_mismatch", "port_ips", ("port_id", "subnet_id"),
               "The address's subnet belongs to the port's network.", _ip_subnet_network_mismatch),
)


def run_cross_check(cc: CrossCheck, child: pd.DataFrame, parent_pos: dict[str, np.ndarray],
                    tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    refs = {r.column: r for r in REFERENCES if r.table == cc.table}
    ok = np.ones(len(child), dtype=bool)
    for via in cc.via:
        ok &= parent_pos[via] >= 0
    rows_pos = np.flatnonzero(ok)
    if len(rows_pos) == 0:
        return no_failures()
    rows = child.iloc[rows_pos].reset_index(drop=True)
    parents = {via: (tables[refs[via].parent], parent_pos[via][rows_pos]) for via in cc.via}
    bad, msg = cc.fn(rows, parents)
    i = np.flatnonzero(bad)
    if len(i) == 0:
        return no_failures()
    return failures(rows_pos[i], cc.code, msg(i))


# --- the pass over all tables --------------------------------------------------------------------


def run(tables: dict[str, pd.DataFrame],
        single: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """All failures per table: `single` (pandera) + references + cross-table checks + cascade.

    `tables` must hold every model table with a RangeIndex (positions = row order).
    """
    out: dict[str, pd.DataFrame] = {}
    bad: dict[str, pd.Series] = {}  # table -> checks of each quarantined position
    for name in table_order():
        df = tables[name]
        parts = [single.get(name, no_failures())]
        parent_pos: dict[str, np.ndarray] = {}
        for ref in (r for r in REFERENCES if r.table == name):
            parent = tables[ref.parent]
            if ref.only_if_parent_present and len(parent) == 0:
                continue
            f, parent_pos[ref.column] = check_reference(ref, df, parent, bad[ref.parent])
            parts.append(f)
        for cc in (c for c in CROSS_CHECKS if c.table == name):
            parts.append(run_cross_check(cc, df, parent_pos, tables))
        out[name] = pd.concat(parts, ignore_index=True)
        bad[name] = collapse(out[name])["check"]
    return out
