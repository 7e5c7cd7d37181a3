"""Port bodies Alcor can take: fixed IPs (IPv4, free, not at a gateway) and bindings."""

from __future__ import annotations

from pipeline.export.alcor.accepts import MAC, VIF_TYPES, VIF_UNBOUND, VNIC_ALIASES, VNIC_TYPES, Counts
from pipeline.export.alcor.fields import _children, resources, row_order
from schemas.model import ROUTER_INTERFACE_OWNERS


def _port_objects(ports, port_ips, node_names: set, vpcs: dict, subnets: dict, counts: Counts):
    """Port bodies Alcor can take (security groups are set later), in id order (`ports` in any
    order: sorting the frame itself costs more than sorting the lists)."""
    fips = _children(port_ips, "port_id", "ip_index", ("subnet_id", "ip_address"))
    used: set = set()
    out = []
    for obj in resources(ports, "ports", row_order(ports) if len(ports) else None):
        if obj.get("device_owner") in ROUTER_INTERFACE_OWNERS:
            counts.out("router interface port (Alcor creates the gateway port with the subnet, "
                       "R-GW-PORT)")
            continue
        if obj.get("network_id") not in vpcs:
            counts.out("port on a network not exported")
            continue
        ips = fips.get(obj["id"], [])
        kept, v6, at_gateway = _fixed_ips(ips, subnets, used, counts)
        if at_gateway:
            counts.out("port at its subnet's gateway address (R-GW-PORT)")
            continue
        if ips and not kept:
            counts.out("port with only IPv6 fixed IPs (R-IPV6)" if v6 == len(ips)
                       else "port whose fixed IPs are all left out")
            continue
        counts.out("IPv6 fixed IP of a port (R-IPV6)", v6)
        for ip in kept:
            used.add((ip.get("subnet_id"), ip.get("ip_address")))
        if kept:
            obj["fixed_ips"] = kept
        _port_binding(obj, node_names, counts)
        out.append(obj)
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
