"""A small hand-made data center for the emulation tests.

Tenant A (project pa): subnets 10.0.0.0/24 (VMs a1 .5, a2 .6) and 10.0.1.0/24 (VM a3 .5),
joined by router ra, which has a gateway 203.0.113.10 on the external network (SNAT on) and
floating IP 203.0.113.50 -> a3. Group sga: ICMP from anywhere, TCP 22 from members of sga.
Tenant B (project pb): subnet 10.0.0.0/24 again (overlapping A's), VMs b1 10.0.0.5 (same
address as a1) and b2 10.0.0.7, router rb (gateway 203.0.113.11). b1 in group sgb1 (any
protocol from 10.0.0.0/24), b2 in group sgb2 (TCP 80 only: ICMP is blocked).
External network ext, subnet 203.0.113.0/24, gateway 203.0.113.1.
"""

from __future__ import annotations

import pandas as pd

from schemas.model import TABLES, conform

EXT_NET, EXT_SUB = "ext", "ext-sub"
SUBNETS = [  # id, network, project, cidr, gateway
    ("sa1", "na1", "pa", "10.0.0.0/24", "10.0.0.1"),
    ("sa2", "na2", "pa", "10.0.1.0/24", "10.0.1.1"),
    ("sb1", "nb1", "pb", "10.0.0.0/24", "10.0.0.1"),
    (EXT_SUB, EXT_NET, "admin", "203.0.113.0/24", "203.0.113.1"),
]
VMS = [  # vm/port id, network, subnet, project, ip, host, groups
    ("a1", "na1", "sa1", "pa", "10.0.0.5", "h1", ["sga"]),
    ("a2", "na1", "sa1", "pa", "10.0.0.6", "h2", ["sga"]),
    ("a3", "na2", "sa2", "pa", "10.0.1.5", "h2", ["sga"]),
    ("b1", "nb1", "sb1", "pb", "10.0.0.5", "h1", ["sgb1"]),
    ("b2", "nb1", "sb1", "pb", "10.0.0.7", "h3", ["sgb2"]),
]
ROUTER_IFS = [  # port id, router, network, subnet, ip
    ("ra-1", "ra", "na1", "sa1", "10.0.0.1"),
    ("ra-2", "ra", "na2", "sa2", "10.0.1.1"),
    ("rb-1", "rb", "nb1", "sb1", "10.0.0.1"),
]
RULES = [  # id, group, direction, protocol, min, max, prefix, remote group
    ("r1", "sga", "ingress", "icmp", None, None, "0.0.0.0/0", None),
    ("r2", "sga", "ingress", "tcp", 22, 22, None, "sga"),
    ("r3", "sgb1", "ingress", None, None, None, "10.0.0.0/24", None),
    ("r4", "sgb2", "ingress", "tcp", 80, 80, "0.0.0.0/0", None),
]


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows) if rows else pd.DataFrame({c: [] for c in TABLES[name].column_names})
    for c in ("source_file",):
        if c in TABLES[name].column_names and c not in df:
            df[c] = "test"
    if "source_pos" in TABLES[name].column_names and "source_pos" not in df:
        df["source_pos"] = range(len(df))
    return conform(df, name)


def tables() -> dict[str, pd.DataFrame]:
    hosts = [{"id": h, "node_name": h} for h in ("h1", "h2", "h3")]
    networks = [{"id": n, "project_id": p, "router_external": n == EXT_NET}
                for n, p in {(s[1], s[2]) for s in SUBNETS}]
    subnets = [{"id": i, "network_id": n, "project_id": p, "cidr": c, "gateway_ip": g, "ip_version": 4}
               for i, n, p, c, g in SUBNETS]
    ports, port_ips, psg = [], [], []
    for i, (vm, net, sub, proj, ip, host, groups) in enumerate(VMS, 1):
        ports.append({"id": vm, "network_id": net, "project_id": proj, "device_id": f"vm-{vm}",
                      "device_owner": "compute:nova", "binding_host_id": host,
                      "mac_address": f"02:00:00:00:00:{i:02x}", "port_security_enabled": True})
        port_ips.append({"port_id": vm, "ip_index": 0, "subnet_id": sub, "ip_address": ip})
        psg += [{"port_id": vm, "security_group_id": g} for g in groups]
    ifaces = []
    for i, (pid, rid, net, sub, ip) in enumerate(ROUTER_IFS, 1):
        ports.append({"id": pid, "network_id": net, "project_id": {"ra": "pa", "rb": "pb"}[rid],
                      "device_id": rid, "device_owner": "network:router_interface",
                      "mac_address": f"02:00:00:00:01:{i:02x}"})
        port_ips.append({"port_id": pid, "ip_index": 0, "subnet_id": sub, "ip_address": ip})
        ifaces.append({"port_id": pid, "router_id": rid, "network_id": net, "subnet_id": sub,
                       "ip_address": ip})
    routers = [{"id": rid, "project_id": proj, "gateway_network_id": EXT_NET, "enable_snat": True,
                "external_fixed_ips": f'[{{"subnet_id": "{EXT_SUB}", "ip_address": "{gw}"}}]'}
               for rid, proj, gw in (("ra", "pa", "203.0.113.10"), ("rb", "pb", "203.0.113.11"))]
    fips = [{"id": "f1", "project_id": "pa", "floating_network_id": EXT_NET,
             "floating_ip_address": "203.0.113.50", "fixed_ip_address": "10.0.1.5",
             "port_id": "a3", "router_id": "ra"}]
    groups = [{"id": g, "project_id": "pa" if g == "sga" else "pb", "name": g}
              for g in ("sga", "sgb1", "sgb2")]
    rules = [{"id": i, "security_group_id": g, "direction": d, "ethertype": "IPv4", "protocol": p,
              "port_range_min": lo, "port_range_max": hi, "remote_ip_prefix": pre,
              "remote_group_id": rg} for i, g, d, p, lo, hi, pre, rg in RULES]
    return {"hosts": _frame("hosts", hosts), "networks": _frame("networks", networks),
            "subnets": _frame("subnets", subnets), "ports": _frame("ports", ports),
            "port_ips": _frame("port_ips", port_ips),
            "port_security_groups": _frame("port_security_groups", psg),
            "security_groups": _frame("security_groups", groups),
            "security_group_rules": _frame("security_group_rules", rules),
            "routers": _frame("routers", routers), "router_interfaces": _frame("router_interfaces", ifaces),
            "floating_ips": _frame("floating_ips", fips)}


def probe(src: str, dst: str, proto: str = "icmp", port: int | None = None, cls: str = "test"):
    """A probe from VM `src` (or "ext") to VM `dst` (or a floating address)."""
    from pipeline.emulate.expected import Probe

    ip = dict((v[0], v[4]) for v in VMS)
    source = ("ext", EXT_NET) if src == "ext" else ("vm", src)
    target = ("vm", dst) if dst in ip else ("fip", dst)
    return Probe(cls, source, target, ip.get(dst, dst), proto, port)


# (src, dst, proto, port) -> (reachable, code): what the configuration says
EXPECTED = {
    ("a1", "a2", "icmp", None): (True, "same_subnet"),
    ("a1", "a3", "icmp", None): (True, "routed"),
    ("a3", "a1", "tcp", 22): (True, "routed"),            # remote group sga holds a3
    ("b1", "a2", "icmp", None): (False, "no_l2_holder"),  # 10.0.0.6 is on-link, not on nb1
    ("b1", "b2", "icmp", None): (False, "sg_ingress"),    # sgb2 allows TCP 80 only
    ("b1", "b2", "tcp", 80): (True, "same_subnet"),
    ("b2", "b1", "icmp", None): (True, "same_subnet"),    # sgb1: anything from 10.0.0.0/24
    ("ext", "203.0.113.50", "icmp", None): (True, "fip_dnat"),
    ("ext", "203.0.113.50", "tcp", 22): (False, "sg_ingress"),  # outside is not in sga
    ("a3", "b2", "icmp", None): (False, "no_l2_holder"),  # ra routes 10.0.0.7 into A's subnet
    ("b2", "a3", "icmp", None): (False, "not_forwarding"),  # leaves via rb's gateway: no route
    ("b2", "203.0.113.50", "icmp", None): (True, "fip_dnat"),  # via rb SNAT, then ra DNAT
}
