"""The topology body: merak-topo's TREE generator sized to hold every host (the data's own
vnodes and vlinks ride along for reference)."""

from __future__ import annotations

import math
from collections import Counter

from pipeline.export.merak.common import Tally
from pipeline.export.merak.parameters import _param_error, data_plane_cidr, images_param, vswitch_layers_end
from pipeline.export.topology import Topology, pylist


def build_topology_body(topo: Topology, params: dict, tally: Tally) -> tuple[dict, list[str]]:
    """(topology body, host keys in vnode order)."""
    nodes, links = topo.nodes, topo.links
    nkeys, nkinds, nlabels = pylist(nodes["key"]), pylist(nodes["kind"]), pylist(nodes["label"])
    label = dict(zip(nkeys, nlabels))
    lsrc, ldst, lkind = pylist(links["src"]), pylist(links["dst"]), pylist(links["kind"])
    nic_no: dict[str, int] = {}
    nics: dict[str, list] = {}

    def intf(key):
        n = nic_no.get(key, 0)
        nic_no[key] = n + 1
        nics.setdefault(key, []).append(f"eth{n}")
        return f"eth{n}"

    vlinks = []
    hosts_under: Counter = Counter()  # rack switch -> hosts linked to it
    switch_peers: Counter = Counter()  # switch -> links to other switches
    for a, b, k in zip(lsrc, ldst, lkind):
        if k != "fabric":
            continue
        ia, ib = intf(a), intf(b)
        vlinks.append({"name": f"vlink-{len(vlinks) + 1:07d}", "from": f"{label[a]}:{ia}",
                       "to": f"{label[b]}:{ib}"})
        if b.startswith("host:"):
            hosts_under[a] += 1
        else:
            switch_peers[a] += 1
            switch_peers[b] += 1
    host_ip = dict(zip(nkeys, pylist(nodes["ip"])))
    vnodes, host_keys = [], []
    for key, k in zip(nkeys, nkinds):
        if k == "vm":
            continue
        nic_list = [{"name": n} for n in nics.get(key) or (["eth0"] if k == "host" else [])]
        if k == "host":
            host_keys.append(key)
            if host_ip.get(key) is not None:
                nic_list[0]["ip"] = str(host_ip[key])
        vnodes.append({"name": label[key], "type": "vhost" if k == "host" else "vswitch",
                       "nics": nic_list})

    n_hosts = len(host_keys)
    per_rack = max(hosts_under.values(), default=0) or max(n_hosts, 1)
    racks = max(len(hosts_under), math.ceil(n_hosts / per_rack))
    built = math.ceil(n_hosts / per_rack)  # merak-topo stops when every host is placed
    ports = _ports_per_vswitch(params, max(switch_peers.values(), default=0), built)
    uneven = sum(1 for n in hosts_under.values() if n != per_rack)
    if uneven:
        tally.changed["racks regrouped: Merak fills racks of vhosts_per_rack hosts in order"] += uneven
    tally.ignored["vnodes (merak-topo's TREE generator builds its own nodes)"] += len(vnodes)
    tally.ignored["vlinks (never sent to merak-topo)"] += len(vlinks)
    body = {
        "name": "dcnet-topology", "type": "tree",
        "number_of_vhosts": n_hosts, "number_of_racks": racks, "vhosts_per_rack": per_rack,
        "ports_per_vswitch": ports,
        "data_plane_cidr": data_plane_cidr(params, [host_ip[k] for k in host_keys if host_ip.get(k)]),
        "number_of_control_plane_gateways": 0, "control_plane_gateway_ips": [],
        "images": images_param(params), "vnodes": vnodes, "vlinks": vlinks,
    }
    return body, host_keys


def _ports_per_vswitch(params: dict, from_fabric: int, racks: int) -> int:
    given = params.get("merak_ports_per_vswitch")
    if given:
        if not isinstance(given, int) or not vswitch_layers_end(racks, given):
            raise _param_error(f"merak_ports_per_vswitch {given!r}: with {racks} racks merak-topo's "
                               f"vswitch layering never ends unless ceil(ceil(racks/p)/p) <= p")
        return given
    ports = max(from_fabric, 2)
    while not vswitch_layers_end(racks, ports):
        ports += 1
    return ports
