"""Cross-request rules of ports: their groups, fixed IPs and VIF type."""

from __future__ import annotations

import socket

from pipeline.check_export.alcor.created import _addr, _items, _key, _net, _obj, _violate

VIF_TYPES = frozenset({"ovs", "macvtap", "hw_veb", "hostdev_physical", "vhostuser",
                       "distributed", "other"})


def port_sg(s, c, refs, report) -> None:
    """R-PORT-SG: every group of a port exists, created earlier. (The group is fetched by id
    alone: security_group_manager's getSecurityGroup ignores the path's project, so a group of
    another project is found.)"""
    for line in s.of("ports.create"):
        for g in _items(_obj(line, "port").get("security_groups")):
            if _key(g) is None or g not in c.default_groups:  # those are R-SG-DEFAULT-OWNED
                refs.ok(g, c.groups, line, "R-PORT-SG", "security group")


def port_fixedip(s, c, refs, report) -> None:
    """R-PORT-FIXEDIP: a fixed IP names an earlier subnet, lies inside it and is free."""
    used: set = set()
    nets = {sid: _bounds(_net(_obj(line, "subnet").get("cidr"))) for sid, line in c.subnets.items()}
    for line in s.of("ports.create"):
        for ip in _items(_obj(line, "port").get("fixed_ips")):
            if not isinstance(ip, dict) or ip.get("subnet_id") is None:
                continue
            sid, text = ip["subnet_id"], ip.get("ip_address")
            if not refs.ok(sid, c.subnets, line, "R-PORT-FIXEDIP", "fixed_ips subnet_id") \
                    or not isinstance(text, str):
                continue
            bounds = nets.get(sid)
            if bounds is not None and not _inside(text, bounds):
                _violate(report, "R-PORT-FIXEDIP", line, f"{text} outside its subnet {bounds[3]}")
            elif (sid, text) in used:
                _violate(report, "R-PORT-FIXEDIP", line, f"{text} already taken in its subnet")
            used.add((sid, text))


def _bounds(net):
    """(version, first, last address as integers, the network) of a subnet; None if unparsable."""
    if net is None:
        return None
    return net.version, int(net.network_address), int(net.broadcast_address), net


def _inside(text: str, bounds) -> bool:
    """Whether address `text` lies in the subnet of `bounds` (IPv4 compared as integers:
    hundreds of thousands of ports)."""
    version, lo, hi, _ = bounds
    if version == 4 and ":" not in text:
        try:
            value = int.from_bytes(socket.inet_aton(text), "big")
        except OSError:
            return False
        return lo <= value <= hi
    addr = _addr(text)
    return addr is not None and addr.version == version and lo <= int(addr) <= hi


def port_vif(s, c, refs, report) -> None:
    """R-PORT-VIF (A4): binding:vif_type is one of Alcor's VifType values."""
    for line in s.of("ports.create"):
        vif = _obj(line, "port").get("binding:vif_type")
        if vif is not None and (not isinstance(vif, str) or vif not in VIF_TYPES):
            _violate(report, "R-PORT-VIF", line, f"vif_type {vif!r}")
