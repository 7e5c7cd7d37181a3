"""Port bodies Alcor can take: fixed IPs (IPv4, free, not at a gateway) and bindings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.export.alcor.accepts import MAC, VIF_TYPES, VIF_UNBOUND, VNIC_ALIASES, VNIC_TYPES, Counts
from pipeline.export.alcor.fields import _children, _column, resources, row_order
from schemas.model import ROUTER_INTERFACE_OWNERS


@dataclass
class Screened:
    """Every port in id order, screened for Alcor (whether it is taken, with which fixed IPs)
    without building a body: what the stream needs of all ports at once (capture probes,
    elastic IPs, the addresses earlier ports took), so that the port requests themselves can be
    built a range at a time (port_bodies)."""

    order: np.ndarray  # frame row of each port, in id order
    ids: list
    projects: list
    kept: list  # per port: its kept fixed-IP entries ([] for none) when Alcor takes it, else None


def screen_ports(ports, port_ips, vpcs: dict, subnets: dict, counts: Counts) -> Screened:
    """The ports Alcor can take, with their fixed IPs (IPv4, free, not at a gateway), in id
    order; what is left out is counted."""
    fips = _children(port_ips, "port_id", "ip_index", ("subnet_id", "ip_address"))
    order = row_order(ports) if len(ports) else None
    order = np.arange(len(ports)) if order is None else order
    ids = _column(ports, "id", order)
    used: set = set()
    kept = [_screen_one(owner, net, fips.get(pid, []), vpcs, subnets, used, counts)
            for pid, owner, net in zip(ids, _column(ports, "device_owner", order),
                                       _column(ports, "network_id", order))]
    return Screened(order, ids, _column(ports, "project_id", order), kept)


def _screen_one(owner, network, ips: list, vpcs: dict, subnets: dict, used: set, counts: Counts):
    if owner in ROUTER_INTERFACE_OWNERS:
        counts.out("router interface port (Alcor creates the gateway port with the subnet, R-GW-PORT)")
        return None
    if network not in vpcs:
        counts.out("port on a network not exported")
        return None
    kept, v6, at_gateway = _fixed_ips(ips, subnets, used, counts)
    if at_gateway:
        counts.out("port at its subnet's gateway address (R-GW-PORT)")
        return None
    if ips and not kept:
        counts.out("port with only IPv6 fixed IPs (R-IPV6)" if v6 == len(ips)
                   else "port whose fixed IPs are all left out")
        return None
    counts.out("IPv6 fixed IP of a port (R-IPV6)", v6)
    for ip in kept:
        used.add((ip.get("subnet_id"), ip.get("ip_address")))
    return kept


def port_bodies(ports, screened: Screened, positions, node_names: set, counts: Counts) -> list:
    """[(position, port body)] of the kept ports at `positions` (id-order positions, ascending);
    security groups are set later."""
    rows = [i for i in positions if screened.kept[i] is not None]
    if not rows:
        return []
    out = []
    for i, obj in zip(rows, resources(ports, "ports", screened.order[rows])):
        if screened.kept[i]:
            obj["fixed_ips"] = screened.kept[i]
        _port_binding(obj, node_names, counts)
        out.append((i, obj))
    return out


def _fixed_ips(ips: list, subnets: dict, used: set, counts: Counts):
    """(kept entries, number of IPv6 entries, whether one sits at its subnet's gateway)."""
    kept, v6, at_gateway = [], 0, False
    for ip in ips:
        sid, addr = ip.get("subnet_id"), ip.get("ip_address")
        if addr and ":" in addr:
            v6 += 1
            continue
        if sid is not None and sid not in subnets:
            counts.out("fixed IP in a left-out subnet")
            continue
        if sid is not None and addr is not None:
            if addr == subnets[sid][2]:
                at_gateway = True
            if (sid, addr) in used:
                counts.out("fixed IP already used in its subnet (R-PORT-FIXEDIP)")
                continue
        kept.append(ip)
    return kept, v6, at_gateway


def _port_binding(obj: dict, node_names: set, counts: Counts) -> None:
    host = obj.get("binding:host_id")
    if host is not None and host not in node_names:
        del obj["binding:host_id"]
        counts.change("empty binding:host_id omitted: unbound port (R-NODE-UNBOUND)" if host == ""
                      else "binding:host_id naming no registered node omitted (R-NODE-NAME)")
    vif = obj.get("binding:vif_type")
    if vif is not None and vif not in VIF_TYPES:
        if vif in VIF_UNBOUND:
            del obj["binding:vif_type"]
            counts.change(f"vif_type {vif!r} omitted: Alcor's default applies (A4)")
        else:
            obj["binding:vif_type"] = "other"
            counts.change(f"vif_type {vif!r} sent as 'other' (A4)")
    vnic = obj.get("binding:vnic_type")
    if vnic is not None and vnic not in VNIC_TYPES:
        if vnic in VNIC_ALIASES:
            obj["binding:vnic_type"] = VNIC_ALIASES[vnic]
            counts.change(f"vnic_type {vnic!r} sent as {VNIC_ALIASES[vnic]!r}")
        else:
            del obj["binding:vnic_type"]
            counts.change(f"vnic_type {vnic!r} not an Alcor value: omitted")
    mac = obj.get("mac_address")
    if mac is not None and not MAC.match(mac):
        del obj["mac_address"]
        counts.change("port mac_address malformed: left to Alcor")
