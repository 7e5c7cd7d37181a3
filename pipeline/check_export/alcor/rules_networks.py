"""Cross-request rules of VPCs and subnets."""

from __future__ import annotations

import re

from pipeline.check_export.alcor.created import _addr, _items, _key, _net, _obj, _violate


def ipv6(s, c, refs, report) -> None:
    """R-IPV6: no IPv6 subnet, no IPv6 fixed IP."""
    for line in s.of("subnets.create"):
        sub = _obj(line, "subnet")
        if sub.get("ip_version") == 6 or ":" in str(sub.get("cidr") or ""):
            _violate(report, "R-IPV6", line, f"IPv6 subnet {sub.get('cidr')!r}")
    for line in s.of("ports.create"):
        for ip in _items(_obj(line, "port").get("fixed_ips")):
            if isinstance(ip, dict) and ":" in str(ip.get("ip_address") or ""):
                _violate(report, "R-IPV6", line, f"IPv6 fixed IP {ip['ip_address']!r}")


def _gateway(sub: dict):
    """The address of the gateway port Alcor creates with the subnet."""
    net = _net(sub.get("cidr"))
    if net is None or net.version != 4:
        return None
    return _addr(sub["gateway_ip"]) if sub.get("gateway_ip") else net.network_address + 1


def gw_port(s, c, refs, report) -> None:
    """R-GW-PORT: no port of the stream at a subnet's gateway address."""
    gateways = {sid: str(_gateway(_obj(line, "subnet"))) for sid, line in c.subnets.items()}
    for line in s.of("ports.create"):
        for ip in _items(_obj(line, "port").get("fixed_ips")):
            if isinstance(ip, dict) and ip.get("ip_address") and \
                    gateways.get(_key(ip.get("subnet_id"))) == ip["ip_address"]:
                _violate(report, "R-GW-PORT", line, f"port at gateway {ip['ip_address']}")


def subnet_vpc(s, c, refs, report) -> None:
    """R-SUBNET-VPC: a subnet's VPC exists, created earlier under the same path project."""
    for line in s.of("subnets.create"):
        vpc = _obj(line, "subnet").get("network_id")
        made = c.vpcs.get(_key(vpc))
        if refs.ok(vpc, c.vpcs, line, "R-SUBNET-VPC", "network_id") and made is not None \
                and made.project != line.project:
            _violate(report, "R-SUBNET-VPC", line, f"VPC {vpc!r} is in project "
                     f"{made.project!r}, not {line.project!r}")


def subnet_inside(s, c, refs, report) -> None:
    """R-SUBNET-INSIDE: a subnet lies inside its VPC's cidr and overlaps no other subnet of it."""
    by_vpc: dict = {}
    for line in s.of("subnets.create"):
        sub = _obj(line, "subnet")
        net = _net(sub.get("cidr"))
        vpc_line = c.vpcs.get(_key(sub.get("network_id")))
        if net is None or vpc_line is None:
            continue
        vpc_net = _net(_obj(vpc_line, "network").get("cidr") or None)
        if vpc_net is not None and (vpc_net.version != net.version or not net.subnet_of(vpc_net)):
            _violate(report, "R-SUBNET-INSIDE", line, f"{net} outside VPC cidr {vpc_net}")
        others = by_vpc.setdefault(_key(sub.get("network_id")), [])
        if any(o.version == net.version and net.overlaps(o) for o in others):
            _violate(report, "R-SUBNET-INSIDE", line, f"{net} overlaps another subnet of its VPC")
        others.append(net)


def subnet_gw_range(s, c, refs, report) -> None:
    """R-SUBNET-GW-RANGE: a non-empty gateway_ip is a usable host of the cidr."""
    for line in s.of("subnets.create"):
        sub = _obj(line, "subnet")
        net, gw = _net(sub.get("cidr")), sub.get("gateway_ip")
        if not gw or net is None or net.version != 4:
            continue
        ip = _addr(gw)
        if ip is None or not (net.network_address < ip < net.broadcast_address):
            _violate(report, "R-SUBNET-GW-RANGE", line, f"gateway {gw} outside the hosts of {net}")


def subnet_bulk(s, c, refs, report) -> None:
    """R-SUBNET-BULK: the subnet bulk endpoint creates nothing."""
    for line in s.lines:
        if "/subnets/bulk" in line.path and re.search(r"/subnets/bulk/?$", line.path):
            _violate(report, "R-SUBNET-BULK", line, "POST .../subnets/bulk is a stub")


def vpc_flat(s, c, refs, report) -> None:
    """R-VPC-FLAT (A7): a flat VPC carries an integer segmentation id, or the response is 500."""
    for line in s.of("vpcs.create"):
        net = _obj(line, "network")
        if net.get("provider:network_type") == "flat" and \
                not isinstance(net.get("provider:segmentation_id"), int):
            _violate(report, "R-VPC-FLAT", line, "flat network without provider:segmentation_id")
