"""VPCs, IPv4 subnets, routers (one VPC each) and their interfaces by subnet_id."""

from __future__ import annotations

import ipaddress
import uuid

from pipeline.export.alcor.accepts import NETWORK_TYPES, ROUTER_NS, STATUSES, SUBNET_CIDR, Counts, _enum, _v4net
from pipeline.export.alcor.fields import _children, _json_value, _p, _req, resources
from pipeline.export.topology import pylist
from pipeline.params import default

FLAT_SEGMENTATION_ID = default("export.alcor.flat_segmentation_id")  # flat networks need one (no NPE)


def _vpcs(nets, cfg: dict, counts: Counts) -> dict:
    """{network id: VPC body}, sanitised to Alcor's enums (requests are built later, once the
    subnets have said whether the VPC cidr can stay)."""
    flat_seg = int(cfg.get("flat_segmentation_id", FLAT_SEGMENTATION_ID))
    out = {}
    for obj in resources(nets, "networks"):
        ntype = obj.get("provider:network_type")
        if ntype is not None and ntype not in NETWORK_TYPES:
            for k in ("provider:network_type", "provider:segmentation_id", "provider:physical_network"):
                obj.pop(k, None)
            counts.change(f"network type {ntype!r} not an Alcor type: provider fields left out")
        elif ntype is None and obj.get("provider:segmentation_id") is not None:
            del obj["provider:segmentation_id"]
            counts.change("segmentation id without network type: left out")
        elif ntype == "flat" and obj.get("provider:segmentation_id") is None:
            obj["provider:segmentation_id"] = flat_seg  # Alcor NPEs on a flat VPC without one
            counts.change("flat network given provider:segmentation_id (A7)")
        cidr = obj.get("cidr")
        if cidr and _v4net(cidr) is None:
            del obj["cidr"]
            counts.change("VPC cidr not IPv4: left out")
        mtu = obj.get("mtu")
        if mtu is not None and mtu < 68:
            del obj["mtu"]
            counts.change("VPC mtu below 68: left out")
        _enum(obj, "status", STATUSES, counts, "VPC")
        out[obj["id"]] = obj
    return out


def _subnets(subnets, pools_df, vpcs: dict, counts: Counts):
    """IPv4 subnet requests; {subnet id: (network id, ip network, gateway address)}."""
    pools = _children(pools_df, "subnet_id", "pool_index", ("start", "end"))
    kept: dict = {}
    by_vpc: dict = {}
    reqs = []
    for obj in resources(subnets, "subnets"):
        cidr = obj.get("cidr") or ""
        if obj.get("ip_version") == 6 or ":" in cidr:
            counts.out("IPv6 subnet (Alcor subnets are IPv4 only, R-IPV6)")
            continue
        if not SUBNET_CIDR.match(cidr):
            counts.out("subnet cidr not IPv4 /16../28")
            continue
        vpc = vpcs.get(obj.get("network_id"))
        if vpc is None:
            counts.out("subnet of a network not exported")
            continue
        net = _v4net(cidr)
        if any(net.overlaps(other) for other in by_vpc.get(obj["network_id"], ())):
            counts.out("subnet overlapping another subnet of its VPC (R-SUBNET-INSIDE)")
            continue
        vpc_net = _v4net(vpc["cidr"]) if vpc.get("cidr") else None
        if vpc_net is not None and not net.subnet_of(vpc_net):
            del vpc["cidr"]
            counts.change("VPC cidr left out: a subnet lies outside it (R-SUBNET-INSIDE)")
        by_vpc.setdefault(obj["network_id"], []).append(net)
        gw = obj.get("gateway_ip")
        hosts_lo, hosts_hi = int(net.network_address) + 1, int(net.broadcast_address) - 1
        if gw:
            try:
                gw_ok = hosts_lo <= int(ipaddress.IPv4Address(gw)) <= hosts_hi
            except ValueError:
                gw_ok = False
            if not gw_ok:
                del obj["gateway_ip"]
                gw = None
                counts.change("subnet gateway_ip outside its host range: left to Alcor (R-SUBNET-GW-RANGE)")
        gw_addr = gw or str(ipaddress.IPv4Address(hosts_lo))  # Alcor's default: first host
        if obj.pop("attached_router_id", None) is not None:
            counts.change("subnet attached_router_id left out: attached by add_router_interface "
                          "(R-RIF-ATTACHED)")
        if obj["id"] in pools:
            obj["allocation_pools"] = pools[obj["id"]]
        project = vpc.get("project_id")
        if project != obj.get("project_id"):
            counts.change("subnet posted under its VPC's project (R-SUBNET-VPC)")
        kept[obj["id"]] = (obj["network_id"], net, gw_addr)
        reqs.append(_req("subnet", "subnet_manager", "POST", f"/project/{_p(project)}/subnets",
                         {"subnet": obj}))
    return reqs, kept


def _vpc_requests(vpcs: dict) -> list:
    return [_req("vpc", "vpc_manager", "POST", f"/project/{_p(obj.get('project_id'))}/vpcs",
                 {"network": obj}) for obj in vpcs.values()]


def _routers(routers_df, ifaces_df, vpcs: dict, subnets: dict, counts: Counts):
    """Router requests (one VPC per router: a router spanning VPCs is split) and their
    add_router_interface requests by subnet_id."""
    gw_cols = [pylist(routers_df[c]) for c in ("gateway_network_id", "enable_snat", "external_fixed_ips")]
    attach: dict = {}  # router id -> [subnet ids]
    seen_subnet: set = set()
    rows = sorted(zip(pylist(ifaces_df["router_id"]), pylist(ifaces_df["subnet_id"])),
                  key=lambda r: (str(r[0]), str(r[1]))) if len(ifaces_df) else []
    for rid, sid in rows:
        if sid not in subnets:
            counts.out("router interface on a left-out or unknown subnet")
            continue
        if sid in seen_subnet:
            counts.out("second router interface on one subnet (R-RIF-ATTACHED)")
            continue
        seen_subnet.add(sid)
        attach.setdefault(rid, []).append(sid)
    reqs, ifaces = [], []
    for i, obj in enumerate(resources(routers_df, "routers")):
        routes = obj.pop("routes", None)
        if routes:
            counts.out("router static route (add_extraroutes is outside the contract, "
                       "R-ROUTER-ROUTES)", len(routes) if isinstance(routes, list) else 1)
        gw = _gateway_info(gw_cols, i, vpcs, subnets, counts)
        if gw:
            obj["external_gateway_info"] = gw
        _enum(obj, "status", STATUSES, counts, "router")
        by_vpc: dict = {}
        for sid in attach.get(obj["id"], ()):
            by_vpc.setdefault(subnets[sid][0], []).append(sid)
        # the VPC with most interfaces keeps the router; each further VPC gets its own
        order = sorted(by_vpc, key=lambda v: (-len(by_vpc[v]), str(v)))
        project = _p(obj.get("project_id"))
        for k, vpc in enumerate(order or [None]):
            body = obj
            if k:
                body = {key: v for key, v in obj.items() if key != "external_gateway_info"}
                body["id"] = str(uuid.uuid5(ROUTER_NS, f"{obj['id']}/{vpc}"))
                body["name"] = f"{obj.get('name') or 'router'}-vpc{k + 1}"
                counts.change("router split: extra router for a further VPC (R-ROUTER-ONE-VPC)")
            reqs.append(_req("router", "route_manager", "POST", f"/project/{project}/routers",
                             {"router": body}))
            for sid in by_vpc.get(vpc, ()):
                ifaces.append(_req("router_interface", "route_manager", "PUT",
                                   f"/project/{project}/routers/{_p(body['id'])}/add_router_interface",
                                   {"subnet_id": sid}))
    sent = {r[4]["router"]["id"] for r in reqs}
    for rid in attach:
        if rid not in sent:
            counts.out("router interface of a router not exported", len(attach[rid]))
    return reqs, ifaces


def _gateway_info(gw_cols, i: int, vpcs: dict, subnets: dict, counts: Counts) -> dict:
    net, snat, fixed = (col[i] for col in gw_cols)
    if net is None and snat is None and fixed is None:
        return {}
    if net is not None and net not in vpcs:
        counts.out("router gateway on a network not exported")
        return {}
    gw = {}
    if net is not None:
        gw["network_id"] = net
    if snat is not None:
        gw["enable_snat"] = snat
    if fixed is not None:
        ips = _json_value(fixed)
        if isinstance(ips, list):
            kept = [ip for ip in ips if not isinstance(ip, dict) or ip.get("subnet_id") in subnets]
            counts.out("router gateway fixed IP in a left-out subnet", len(ips) - len(kept))
            ips = kept
        gw["external_fixed_ips"] = ips
    return gw
