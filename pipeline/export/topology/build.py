"""Building the topology from the canonical tables: switch, host and VM nodes, fabric and NIC
links, generated names and the placement summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.export.topology.model import (LABEL_MAX, ROLE_LAYER, Topology, TopologyInputError,
                                            object_frame, pylist)
from pipeline.export.topology.names import _short_names, label_candidates, unique_names
from pipeline.export.topology.vms import vm_nodes_and_links
from pipeline.errors import InputError


def fabric_missing(tables: dict) -> list[str]:
    return [t for t in ("fabric_switches", "fabric_links")
            if tables.get(t) is None or len(tables[t]) == 0]


def require_tables(tables: dict, derive_fabric: bool, require_fabric: bool = True) -> None:
    hosts = tables.get("hosts")
    if hosts is None or len(hosts) == 0:
        raise TopologyInputError("hosts table is empty or missing: export needs hosts.parquet "
                                 "(compute hosts) in the input folder")
    if require_fabric and not derive_fabric:
        missing = fabric_missing(tables)
        if missing:
            raise TopologyInputError(
                f"{' and '.join(missing)} {'tables are' if len(missing) > 1 else 'table is'} empty "
                f"or missing: export needs {' and '.join(m + '.parquet' for m in missing)} (the "
                f"physical fabric); `dcnet export --derive-fabric` builds one from hosts")


def build_topology(tables: dict, fabric_params: dict | None = None,
                   derive_fabric: bool = False, require_fabric: bool = True) -> Topology:
    """The topology of the canonical `tables` (see the module doc).

    derive_fabric: build the fabric from hosts with pipeline.fabric (replacing any fabric tables
    in the input). require_fabric=False: a missing fabric is allowed (formats that do not draw
    the physical network, e.g. the Alcor stream); the topology then has no fabric switches."""
    from pipeline import fabric as fab
    from schemas.model import conform, empty_frame

    require_tables(tables, derive_fabric, require_fabric)
    tables = dict(tables)
    hosts = conform(tables["hosts"], "hosts")
    if derive_fabric:
        try:
            sw, fl = fab.build_fabric(hosts, fabric_params or {})
        except fab.FabricParamsError as e:
            raise InputError(f"params: {e}") from e
        kind = fab.choose_topology(len(hosts), fabric_params or {})
    elif fabric_missing(tables):
        sw, fl, kind = empty_frame("fabric_switches"), empty_frame("fabric_links"), "none"
    else:
        sw = conform(tables["fabric_switches"], "fabric_switches")
        fl = conform(tables["fabric_links"], "fabric_links")
        roles = set(sw["role"].dropna())
        kind = ("fat_tree" if "core" in roles else "leaf_spine" if "spine" in roles else "custom")
    tables["fabric_switches"], tables["fabric_links"] = sw, fl
    tables["hosts"] = hosts

    sw_nodes = _switch_nodes(sw)
    host_nodes = _host_nodes(hosts)
    vm_nodes, nic_links, placement = vm_nodes_and_links(tables, hosts)
    nodes = pd.concat([sw_nodes, host_nodes, vm_nodes], ignore_index=True)
    fabric_links = _fabric_links(fl, set(pylist(sw["id"])), set(pylist(hosts["id"])))
    links = pd.concat([fabric_links, nic_links], ignore_index=True)

    nodes["short"] = pd.Series(_short_names(nodes), dtype=object, index=nodes.index)
    nodes["label"] = pd.Series(unique_names(label_candidates(pylist(nodes["name"]), "node"),
                                            LABEL_MAX, "-"), dtype=object, index=nodes.index)
    linked_hosts = {d for d in pylist(fabric_links["dst"]) if d.startswith("host:")}
    summary = {
        "fabric": kind,
        "fabric_derived": bool(derive_fabric),
        "fabric_switches": int(len(sw_nodes)),
        "compute_hosts": int(len(host_nodes)),
        "compute_hosts_without_fabric_link": sum(k not in linked_hosts for k in pylist(host_nodes["key"])),
        "vms": int(len(vm_nodes)),
        "fabric_links": int(len(fabric_links)),
        "vm_nics": int(len(nic_links)),
        **placement,
    }
    return Topology(nodes, links, kind, summary, tables)


def _switch_nodes(sw: pd.DataFrame) -> pd.DataFrame:
    ids, roles, names = pylist(sw["id"]), pylist(sw["role"]), pylist(sw["name"])
    pods, racks = pylist(sw["pod"]), pylist(sw["rack"])
    order = sorted(range(len(ids)), key=lambda i: (ROLE_LAYER.get(roles[i], 3), ids[i]))
    return object_frame({
        "key": ["switch:" + ids[i] for i in order], "kind": "switch",
        "role": [roles[i] or "switch" for i in order], "ref_id": [ids[i] for i in order],
        "name": [names[i] if names[i] is not None else ids[i] for i in order],
        "pod": [pods[i] for i in order], "rack": [racks[i] for i in order],
    })


def _host_nodes(hosts: pd.DataFrame) -> pd.DataFrame:
    cols = {c: pylist(hosts[c]) for c in ("id", "node_name", "availability_zone", "rack",
                                          "local_ip", "mac_address")}
    order = sorted(range(len(hosts)), key=cols["id"].__getitem__)
    pick = {c: [v[i] for i in order] for c, v in cols.items()}
    return object_frame({
        "key": ["host:" + h for h in pick["id"]], "kind": "host", "role": "compute",
        "ref_id": pick["id"],
        "name": [n if n is not None else h for n, h in zip(pick["node_name"], pick["id"])],
        "zone": pick["availability_zone"], "rack": pick["rack"], "ip": pick["local_ip"],
        "mac": pick["mac_address"],
    })


def _fabric_links(fl: pd.DataFrame, switch_ids: set, host_ids: set) -> pd.DataFrame:
    lid, src, dst, kind, bw = (pylist(fl[c]) for c in ("id", "src_id", "dst_id", "dst_kind",
                                                        "bandwidth_gbps"))
    order = sorted(range(len(lid)), key=lid.__getitem__)
    bad = [i for i in order if src[i] not in switch_ids
           or dst[i] not in (host_ids if kind[i] == "host" else switch_ids)]
    if bad:
        i = bad[0]
        raise TopologyInputError(
            f"fabric_links: {len(bad)} link(s) name a missing switch or host, first {lid[i]} "
            f"({src[i]} -> {kind[i]} {dst[i]}); validate the tables or use --derive-fabric")
    links = object_frame({
        "src": ["switch:" + src[i] for i in order],
        "dst": [("host:" if kind[i] == "host" else "switch:") + dst[i] for i in order],
        "kind": "fabric", "ref_id": [lid[i] for i in order],
    })
    links["bandwidth_gbps"] = np.array([np.nan if bw[i] is None else float(bw[i]) for i in order],
                                       dtype="float64")
    return links
