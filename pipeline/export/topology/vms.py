"""VM nodes and NIC links from the ports, column-wise in Arrow (a Python loop over 300k ports
took 5 s of the 10k-host export; this takes well under one).

A VM is the set of `compute:*` ports sharing a device_id (the port id when device_id is empty)
whose binding_host_id names a known host; its host is that of its first port (ports sorted by
(vm, port id)). A NIC link carries its port's first IPv4 and first IPv6 address ("first" =
lowest ip_index, the earliest row on ties) as addr/prefix, and the subnet of its first address.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.export.topology.model import arrow_column, object_frame
from schemas import netaddr

NODE_COLS = ["key", "kind", "role", "ref_id", "name", "host_key", "project_id"]
LINK_COLS = ["src", "dst", "kind", "ref_id", "bandwidth_gbps", "mac", "ip", "ip6", "subnet_id",
             "network_id", "project_id"]
_NO_INDEX = 1 << 30  # a missing ip_index sorts after every real one


def vm_nodes_and_links(tables: dict, hosts: pd.DataFrame):
    """(VM nodes, NIC links, placement counts) of the topology."""
    ports = tables.get("ports")
    if ports is None or len(ports) == 0:
        return _empty() + ({"compute_ports": 0, "compute_ports_unplaced": 0},)
    cols = {c: arrow_column(ports[c]) for c in ("id", "device_owner", "device_id", "binding_host_id",
                                                 "mac_address", "network_id", "project_id")}
    compute = pc.fill_null(pc.starts_with(cols["device_owner"], "compute:"), False)
    host = _host_of_binding(cols["binding_host_id"], hosts)
    placed = pc.and_(compute, pc.is_valid(host))
    n_compute = int(pc.sum(compute).as_py() or 0)
    n_placed = int(pc.sum(placed).as_py() or 0)
    stats = {"compute_ports": n_compute, "compute_ports_unplaced": n_compute - n_placed}
    if n_placed == 0:
        return _empty() + (stats,)
    device = cols["device_id"]
    vm = pc.if_else(pc.fill_null(pc.not_equal(device, ""), False), device, cols["id"])
    rows = np.flatnonzero(placed.to_numpy(zero_copy_only=False))
    order = pc.sort_indices(pa.table({"vm": vm.take(rows), "port": cols["id"].take(rows)}),
                            sort_keys=[("vm", "ascending"), ("port", "ascending")])
    rows = rows[order.to_numpy()]  # placed port rows, by (vm, port id)
    vm, host = vm.take(rows), host.take(rows)
    first = _group_starts(vm)
    stats["vms_multi_host"] = _groups_with_several(first, host)
    project = cols["project_id"].take(rows)
    nodes = object_frame({
        "key": _obj(_prefixed("vm:", vm.take(first))), "kind": "vm", "role": "vm",
        "ref_id": _obj(vm.take(first)), "name": _obj(vm.take(first)),
        "host_key": _obj(_prefixed("host:", host.take(first))), "project_id": _obj(project.take(first)),
    })
    ip4, ip6, subnet = _first_addresses(tables, cols["id"], rows)
    links = object_frame({
        "src": _obj(_prefixed("vm:", vm)), "dst": _obj(_prefixed("host:", host)), "kind": "nic",
        "ref_id": _obj(cols["id"].take(rows)), "mac": _obj(cols["mac_address"].take(rows)),
        "ip": _obj(ip4), "ip6": _obj(ip6), "subnet_id": _obj(subnet),
        "network_id": _obj(cols["network_id"].take(rows)), "project_id": _obj(project),
    })
    links.insert(4, "bandwidth_gbps", pd.Series(np.full(len(links), np.nan), index=links.index))
    return nodes, links, stats


def _host_of_binding(binding, hosts: pd.DataFrame):
    """The host id named by each binding_host_id (the first host with that node_name), null
    where none is."""
    names = arrow_column(hosts["node_name"])
    # unique() keeps first occurrences; index_in finds each one's first row
    unique_names = pc.unique(names)
    first_of_name = arrow_column(hosts["id"]).take(pc.index_in(unique_names, value_set=names))
    return first_of_name.take(pc.index_in(binding, value_set=unique_names))


def _first_addresses(tables: dict, port_ids, rows: np.ndarray):
    """For the ports at `rows` of `port_ids`: first IPv4 'a.b.c.d/len', first IPv6 'addr/len',
    subnet of its first address (null where the port has none), aligned to `rows`."""
    port_ips = tables.get("port_ips")
    if port_ips is None or len(port_ips) == 0:
        none = pa.nulls(len(rows), pa.large_string())
        return none, none, none
    # one integer code per distinct port id, shared by both tables
    ip_port = arrow_column(port_ips["port_id"])
    codes, _ = pd.factorize(pd.Series(pd.arrays.ArrowExtensionArray(
        pa.chunked_array([port_ids, ip_port]))), use_na_sentinel=True)
    port_code, ip_code = codes[:len(port_ids)][rows], codes[len(port_ids):]
    wanted = np.zeros(codes.max() + 2, dtype=bool)  # index -1 (a null id) stays False
    wanted[port_code] = True
    keep = np.flatnonzero(wanted[ip_code])
    index = arrow_column(port_ips["ip_index"], pa.int64()).take(keep)
    index = pc.fill_null(index, _NO_INDEX).to_numpy()
    keep = keep[np.lexsort((index, ip_code[keep]))]  # by port, then ip_index, then row (stable)
    subnet_col = arrow_column(port_ips["subnet_id"])
    subnet = _first_of_code(ip_code[keep], keep, port_code, subnet_col)
    address = arrow_column(port_ips["ip_address"])
    has_address = pc.is_valid(address).to_numpy(zero_copy_only=False)[keep]
    v6_all = pc.fill_null(pc.match_substring(address, ":"), False).to_numpy(zero_copy_only=False)
    prefix_of = _subnet_prefixes(tables.get("subnets"))
    out = []
    for v6, default in ((False, 32), (True, 128)):
        sel = keep[has_address & (v6_all[keep] == v6)]
        text = _with_prefix(address.take(sel), subnet_col.take(sel), prefix_of, default)
        out.append(_first_of_code(ip_code[sel], np.arange(len(sel)), port_code, text))
    return out[0], out[1], subnet


def _first_of_code(sorted_codes: np.ndarray, positions: np.ndarray, wanted_codes: np.ndarray,
                   values):
    """values[position of the first entry of each wanted code] (null where a code has none),
    the entries sorted by code."""
    if len(sorted_codes) == 0:
        return pa.nulls(len(wanted_codes), pa.large_string())
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    first = np.full(max(sorted_codes.max(), wanted_codes.max()) + 1, -1, dtype=np.int64)
    first[sorted_codes[starts]] = positions[starts]
    pick = first[wanted_codes]
    return values.take(pa.array(pick, mask=pick < 0))


def _with_prefix(address, subnet, prefix_of: tuple, default: int):
    """The addresses as 'addr/len', len from the subnet's CIDR (`default` for none)."""
    subnet_ids, prefixes = prefix_of
    prefix = pc.fill_null(prefixes.take(pc.index_in(subnet, value_set=subnet_ids)), default)
    text = pa.large_string()
    return pc.binary_join_element_wise(address, pc.cast(prefix, text), pa.scalar("/", text))


def _subnet_prefixes(subnets) -> tuple:
    """(subnet ids, their CIDR prefix lengths) for the subnets whose CIDR parses (a repeated id
    keeps its last one)."""
    prefix_of: dict = {}
    if subnets is not None and len(subnets):
        cidrs = netaddr.parse_cidrs(subnets["cidr"], require_prefix=False)
        for sid, prefix, ok in zip(_obj(arrow_column(subnets["id"])), cidrs.prefix.tolist(),
                                   cidrs.valid.tolist()):
            if ok:
                prefix_of[sid] = prefix
    return (pa.array(list(prefix_of), pa.large_string()),
            pa.array(list(prefix_of.values()), pa.int64()))


def _groups_with_several(starts: np.ndarray, values) -> int:
    """How many groups (rows from each start to the next) hold more than one distinct value."""
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(values)]))
    codes, _ = pd.factorize(pd.Series(pd.arrays.ArrowExtensionArray(values)))
    differs = codes != codes[starts][group]  # a row unlike its group's first row
    return int(len(np.unique(group[differs])))


def _group_starts(sorted_keys) -> np.ndarray:
    """Positions where a new key starts in a sorted column."""
    n = len(sorted_keys)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    changed = pc.not_equal(sorted_keys.slice(1), sorted_keys.slice(0, n - 1))
    return np.r_[0, np.flatnonzero(changed.to_numpy(zero_copy_only=False)) + 1]


def _prefixed(prefix: str, values):
    text = pa.large_string()
    return pc.binary_join_element_wise(pa.scalar(prefix, text), values, pa.scalar("", text))


def _obj(values) -> np.ndarray:
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)


def _empty():
    return (object_frame({c: np.array([], dtype=object) for c in NODE_COLS}),
            object_frame({c: np.array([], dtype=object) for c in LINK_COLS}))
