"""Collected objects -> arrow tables of model.TABLES: one Rows per resource table, the child
tables unnested from nested lists (port IPs, port security groups, router interfaces,
allocation pools, embedded security group rules) and router gateways."""

from __future__ import annotations

from bisect import bisect_left
import re

import orjson
import pyarrow as pa

from schemas import model
from pipeline.ingest.collect import Collected
from pipeline.ingest.redact import redact, show
from pipeline.ingest.rows import Rows
from pipeline.ingest.sources.neutron import CHILD_KEYS, MAPPED_KEYS, RESOURCE_TABLES, SOURCES
from pipeline.ingest.sources.openstack_cli import osc_fixed_ips, osc_pools, osc_records

_NONE = type(None)


def build_tables(col: Collected, source_file: str) -> dict[str, pa.Table]:
    """Collected objects -> arrow tables (only tables with rows)."""
    out: dict[str, list[pa.Table]] = {}

    def put(name, tbl):
        if tbl is not None and tbl.num_rows:
            out.setdefault(name, []).append(tbl)

    recs, poss = col.recs, col.poss
    for table in RESOURCE_TABLES:
        r, p = recs[table], poss[table]
        if table == "security_group_rules" and col.recs.get("_embedded_rules"):
            er, ep = col.recs.pop("_embedded_rules"), col.poss.pop("_embedded_rules")
            r, p = _merge_by_pos(r, p, er, ep)
        if not r:
            continue
        rows, children = _build_resource(table, r, p, source_file, col)
        put(table, rows.to_arrow())
        for k, v in rows.redacted.items():
            col.redacted[k] = col.redacted.get(k, 0) + v
        for name, tbl in children.items():
            put(name, tbl)
    if col.labels:
        put("project_labels", _build_labels(col.labels, source_file))
    return {k: (v[0] if len(v) == 1 else pa.concat_tables(v)) for k, v in out.items()}


def _merge_by_pos(r1, p1, r2, p2):
    """Stable merge of two position-sorted record lists (embedded rules among listed ones)."""
    if not p1:
        return r2, p2
    items = sorted(zip(p1 + p2, range(len(p1) + len(p2)), r1 + r2), key=lambda x: (x[0], x[1]))
    return [x[2] for x in items], [x[0] for x in items]


def _build_resource(table, recs, poss, source_file, col: Collected):
    n = len(recs)
    rows = Rows(table, n, poss, source_file)
    keys = set().union(*recs)
    dtypes = model.TABLES[table].dtypes()
    for c, sources in SOURCES[table].items():
        vals = rows.pick(recs, keys, c, sources)
        if vals is not None:
            rows.cols[c] = rows.coerce(c, vals, dtypes[c])
    children = _nested(table, rows, recs, keys, dtypes, col)
    _keep_unmapped(table, rows, recs, keys)
    if table == "hosts":
        for i, r in enumerate(recs):  # CSV row-shape problems
            if "_csv_error" in r:
                rows.error(i, r["_csv_error"])
                rows.extra(i).pop("_csv_error", None)
    return rows, children


def _nested(table, rows: Rows, recs, keys, dtypes, col: Collected) -> dict[str, pa.Table]:
    """Child tables of `table`, and its columns that come from nested values."""
    children: dict[str, pa.Table] = {}
    special = CHILD_KEYS.get(table, {})
    if table == "ports":
        fips = rows.pick(recs, keys, "fixed_ips", special["fixed_ips"])
        sgs = rows.pick(recs, keys, "security_groups", special["security_groups"])
        children.update(_port_children(rows, fips, sgs))
    elif table == "subnets":
        pools = rows.pick(recs, keys, "allocation_pools", special["allocation_pools"])
        if pools is not None:
            children["allocation_pools"] = _allocation_pools_table(rows, pools)
    elif table == "security_groups":
        rl = rows.pick(recs, keys, "security_group_rules", special["security_group_rules"])
        if rl is not None:
            _embedded_rules(rows, recs, rl, col)
    elif table == "routers":
        gw = rows.pick(recs, keys, "external_gateway_info", special["external_gateway_info"])
        if gw is not None:
            _gateway(rows, gw, dtypes)
    elif table == "hosts":
        if rows.cols.get("ncm_uri") is not None:  # a URI may carry user:password@
            rows.cols["ncm_uri"] = [redact(v, rows.redacted) for v in rows.cols["ncm_uri"]]
        ids, names = rows.cols.get("id"), rows.cols.get("node_name")
        if names is not None:  # a host without node_id is known by its name
            bad = rows.bad_cells
            rows.cols["id"] = names if ids is None else [
                a if a is not None or ("id", i) in bad else b for i, (a, b) in enumerate(zip(ids, names))]
    return children


def _keep_unmapped(table, rows: Rows, recs, keys) -> None:
    """Keys that no column reads go to the row's `extra`, beside what coercion kept there."""
    unmapped = keys - MAPPED_KEYS[table]
    if unmapped:
        u = tuple(sorted(unmapped))
        base = [{k: r[k] for k in u if k in r} or None for r in recs]
        if rows.extras is None:
            rows.extras = base
        else:
            for i, e in enumerate(rows.extras):
                if e:
                    base[i] = {**(base[i] or {}), **e}
            rows.extras = base


def _port_children(rows: Rows, fips, sgs) -> dict[str, pa.Table]:
    n, poss = rows.n, rows.poss
    ids = rows.cols.get("id") or [None] * n
    out = {}
    # port_ips (fast path: every value a list of {subnet_id, ip_address} dicts)
    pid, idx, sub, ip, pos, par = _flat_fixed_ips(ids, poss, fips)
    if pid is None:
        pid, idx, sub, ip, pos, par = _slow_fixed_ips(rows, ids, fips)
    cr = Rows("port_ips", len(pid), pos, rows.source_file)
    cr.cols = {"port_id": pid, "ip_index": idx, "subnet_id": cr.coerce("subnet_id", sub, model.STR),
               "ip_address": cr.coerce("ip_address", ip, model.STR)}
    out["port_ips"] = cr.to_arrow()
    # port_security_groups
    spid, sgid, spos = _flat_groups(ids, poss, sgs)
    if spid is None:
        spid, sgid, spos = _slow_groups(rows, ids, sgs)
    sr = Rows("port_security_groups", len(spid), spos, rows.source_file)
    sr.cols = {"port_id": spid, "security_group_id": sgid}
    out["port_security_groups"] = sr.to_arrow()
    # router_interfaces: ports owned by a router; subnet/address of the first fixed IP
    owners = rows.cols.get("device_owner")
    if owners is not None:
        sel = [i for i, o in enumerate(owners) if o in model.ROUTER_INTERFACE_OWNERS]
        if sel:
            # child rows come grouped by parent row, in order: the first child is a bisection away
            first = {}
            for i in sel:
                k = bisect_left(par, i)
                if k < len(par) and par[k] == i:
                    first[i] = k
            dev = rows.cols.get("device_id") or [None] * n
            net = rows.cols.get("network_id") or [None] * n
            ri = Rows("router_interfaces", len(sel), [poss[i] for i in sel], rows.source_file)
            ri.cols = {
                "port_id": [ids[i] for i in sel], "router_id": [dev[i] for i in sel],
                "network_id": [net[i] for i in sel],
                "subnet_id": [cr.cols["subnet_id"][first[i]] if i in first else None for i in sel],
                "ip_address": [cr.cols["ip_address"][first[i]] if i in first else None for i in sel],
            }
            out["router_interfaces"] = ri.to_arrow()
    return out


def _flat_fixed_ips(ids, poss, fips):
    if fips is None:
        return [], [], [], [], [], []
    if not set(map(type, fips)) <= {list, _NONE}:
        return (None,) * 6
    flat = [f for v in fips if v for f in v]
    if not set(map(type, flat)) <= {dict} or not set().union(*flat) <= _FIP_KEYS:
        return (None,) * 6
    pid = [p for p, v in zip(ids, fips) if v for _ in v]
    idx = [j for v in fips if v for j in range(len(v))]
    pos = [p for p, v in zip(poss, fips) if v for _ in v]
    par = [i for i, v in enumerate(fips) if v for _ in v]
    return pid, idx, [f.get("subnet_id") for f in flat], [f.get("ip_address") for f in flat], pos, par


def _unnest(rows: Rows, values, field: str, parse_str, expect: str, keys: frozenset, item=None):
    """(row, index, item) for every object of a nested list column (`fixed_ips`,
    `allocation_pools`): OSC's one-string form is parsed first; a value that is not a list, or
    an item that is not an object, is reported on its row; a value with such items or unknown
    keys is kept verbatim in the row's `extra`. `item` may turn a non-object item into one."""
    for i, v in enumerate(values):
        if v is None:
            continue
        if type(v) is str:
            v = parse_str(v)
        if type(v) is not list:
            rows.bad(i, field, values[i], f"expected a list of {expect}")
            continue
        keep = False
        for j, f in enumerate(v):
            if type(f) is not dict and item is not None:
                f = item(f)
            if type(f) is not dict:
                rows.error(i, f"{field}[{j}]: expected an object, got {show(f)}")
                keep = True
                continue
            if not f.keys() <= keys:
                keep = True
            yield i, j, f
        if keep:
            rows.extra(i)[field] = values[i]


def _bare_ip(f):
    # a bare address string is a fixed IP without its subnet
    return {"ip_address": f} if type(f) is str else f


def _slow_fixed_ips(rows: Rows, ids, fips):
    pid, idx, sub, ip, pos, par = [], [], [], [], [], []
    if fips is None:
        return pid, idx, sub, ip, pos, par
    for i, j, f in _unnest(rows, fips, "fixed_ips", osc_fixed_ips, "{subnet_id, ip_address}",
                           _FIP_KEYS, _bare_ip):
        pid.append(ids[i]); idx.append(j); sub.append(f.get("subnet_id")); ip.append(f.get("ip_address"))
        pos.append(rows.poss[i]); par.append(i)
    return pid, idx, sub, ip, pos, par


def _flat_groups(ids, poss, sgs):
    if sgs is None:
        return [], [], []
    if not set(map(type, sgs)) <= {list, _NONE}:
        return None, None, None
    flat = [g for v in sgs if v for g in v]
    if not set(map(type, flat)) <= {str}:
        return None, None, None
    return ([p for p, v in zip(ids, sgs) if v for _ in v], flat,
            [p for p, v in zip(poss, sgs) if v for _ in v])


def _slow_groups(rows: Rows, ids, sgs):
    spid, sgid, spos = [], [], []
    if sgs is None:
        return spid, sgid, spos
    for i, v in enumerate(sgs):
        if v is None:
            continue
        if type(v) is str:
            v = [x for x in re.split(r"[,\s]+", v) if x]
        if type(v) is not list:
            rows.bad(i, "security_groups", sgs[i], "expected a list of ids")
            continue
        keep = False
        for g in v:
            if type(g) is dict and type(g.get("id")) is str:  # some dumps embed {id, name}
                keep = keep or len(g) > 1
                g = g["id"]
            if type(g) is not str:
                rows.error(i, f"security_groups: expected an id string, got {show(g)}")
                keep = True
                continue
            spid.append(ids[i]); sgid.append(g); spos.append(rows.poss[i])
        if keep:
            rows.extra(i)["security_groups"] = sgs[i]
    return spid, sgid, spos


_FIP_KEYS = frozenset({"subnet_id", "ip_address"})


def _allocation_pools_table(rows: Rows, pools) -> pa.Table:
    ids = rows.cols.get("id") or [None] * rows.n
    sid, idx, st, en, pos = [], [], [], [], []
    for i, j, p in _unnest(rows, pools, "allocation_pools", osc_pools, "{start, end}", _POOL_KEYS):
        sid.append(ids[i]); idx.append(j); st.append(p.get("start")); en.append(p.get("end"))
        pos.append(rows.poss[i])
    cr = Rows("allocation_pools", len(sid), pos, rows.source_file)
    cr.cols = {"subnet_id": sid, "pool_index": idx, "start": cr.coerce("start", st, model.STR),
               "end": cr.coerce("end", en, model.STR)}
    return cr.to_arrow()


_POOL_KEYS = frozenset({"start", "end"})


def _embedded_rules(rows: Rows, recs, rl, col: Collected) -> None:
    """Rules inside a group join the rules table at the group's position."""
    er, ep = col.recs.setdefault("_embedded_rules", []), col.poss.setdefault("_embedded_rules", [])
    for i, v in enumerate(rl):
        if v is None:
            continue
        if type(v) is str and "ethertype=" in v:  # older OSC prints rules as key='value' text
            v = osc_records(v)
        if type(v) is not list:
            rows.bad(i, "security_group_rules", v, "expected a list of rule objects")
            continue
        gid = recs[i].get("id")
        keep = False
        for j, rule in enumerate(v):
            if type(rule) is not dict:
                rows.error(i, f"security_group_rules[{j}]: expected an object, got {show(rule)}")
                keep = True
                continue
            if rule.get("security_group_id") is None and gid is not None:
                rule = {**rule, "security_group_id": gid}
            er.append(rule)
            ep.append(rows.poss[i])
        if keep:
            rows.extra(i)["security_group_rules"] = v


def _gateway(rows: Rows, gw, dtypes) -> None:
    n = rows.n
    net, snat, fips = [None] * n, [None] * n, [None] * n
    for i, g in enumerate(gw):
        if g is None:
            continue
        if type(g) is str:  # OSC list output may print the dict as JSON text
            try:
                g2 = orjson.loads(g)
            except orjson.JSONDecodeError:
                g2 = None
            if type(g2) is dict:
                g = g2
        if type(g) is not dict:
            rows.bad(i, "external_gateway_info", gw[i], "expected an object")
            continue
        net[i], snat[i], fips[i] = g.get("network_id"), g.get("enable_snat"), g.get("external_fixed_ips")
        if not g.keys() <= _GW_KEYS:
            rows.extra(i)["external_gateway_info"] = gw[i]
    rows.cols["gateway_network_id"] = rows.coerce("gateway_network_id", net, dtypes["gateway_network_id"])
    rows.cols["enable_snat"] = rows.coerce("enable_snat", snat, dtypes["enable_snat"])
    rows.cols["external_fixed_ips"] = rows.coerce("external_fixed_ips", fips, model.STR)


_GW_KEYS = frozenset({"network_id", "enable_snat", "external_fixed_ips"})


def _build_labels(labels, source_file) -> pa.Table:
    poss = [p for p, _ in labels]
    rows = Rows("project_labels", len(labels), poss, source_file)
    recs = [r for _, r in labels]
    for c in ("project_id", "profile"):
        rows.cols[c] = [r.get(c) for r in recs]
    for i, r in enumerate(recs):
        if "_csv_error" in r:
            rows.error(i, r["_csv_error"])
    return rows.to_arrow()
