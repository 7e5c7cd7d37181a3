"""The configuration tables as plain Python objects, IPv4 only, for the emulation.

A VM is the group of `compute:*` ports sharing a `device_id` (the port id when empty), bound to
a known host; its ports are sorted by id and its first port's first IPv4 subnet gateway is its
default route. Routers hold their interface addresses and, when they have an external gateway,
its addresses, SNAT flag and the floating IPs they translate. Security-group rules are kept per
group with normalised protocols. IPv6 addresses and rules are left out (the emulation is IPv4).

`load_config(tables, max_hosts=, projects=)` also cuts a slice: the VMs of the chosen projects
(all projects by default) on the first `max_hosts` compute hosts (ordered by name, i.e. rack
by rack for the synthetic data center) that carry them, with every network, subnet, router and floating IP those VMs need. Probes only
start at emulated nodes, so the expected reachability of a slice is computed on the slice.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from pipeline.errors import InputError

# Neutron's protocol names; everything else must be a number (rules with an unknown name are
# kept out of the emulation and counted in `Config.skipped_rules`).
PROTOCOL_NUMBERS = {"icmp": 1, "igmp": 2, "tcp": 6, "egp": 8, "udp": 17, "ipv6-encap": 41,
                    "rsvp": 46, "gre": 47, "esp": 50, "ah": 51, "ospf": 89, "pgm": 113,
                    "vrrp": 112, "sctp": 132, "udplite": 136, "dccp": 33}
ANY_PROTOCOL = ("", "any", "all")


@dataclass(frozen=True)
class Addr:
    ip: str
    prefix: int
    subnet_id: str
    cidr: str


@dataclass
class VmPort:
    id: str
    vm_id: str
    network_id: str
    project_id: str | None
    mac: str | None
    addrs: list[Addr]
    secured: bool
    groups: tuple[str, ...]


@dataclass
class Vm:
    id: str
    project_id: str | None
    host: str
    ports: list[VmPort]

    def default_gateway(self, subnets: dict) -> tuple[int, str] | None:
        """(port index, gateway IP) of the first port's first IPv4 subnet, if it has one."""
        for i, port in enumerate(self.ports):
            for addr in port.addrs:
                gw = subnets[addr.subnet_id].gateway_ip
                return (i, gw) if gw else None
        return None


@dataclass(frozen=True)
class Subnet:
    id: str
    network_id: str
    project_id: str | None
    cidr: str
    gateway_ip: str | None


@dataclass(frozen=True)
class RouterIf:
    port_id: str
    network_id: str
    subnet_id: str
    ip: str
    prefix: int
    mac: str | None


@dataclass(frozen=True)
class FloatingIp:
    address: str
    fixed_ip: str
    port_id: str
    router_id: str
    network_id: str


@dataclass
class Router:
    id: str
    project_id: str | None
    interfaces: list[RouterIf]
    gateway: list[RouterIf]          # addresses on the external network (port_id = "")
    snat: bool
    upstream: str | None             # external subnet gateway: the default route
    fips: list[FloatingIp] = field(default_factory=list)


@dataclass(frozen=True)
class Rule:
    id: str
    group: str
    direction: str                   # ingress | egress
    protocol: int | None             # None = any
    port_min: int | None
    port_max: int | None
    prefix: str | None               # remote CIDR, None = any
    remote_group: str | None


@dataclass
class External:
    """The world outside an external network: one client node holding `ip`."""
    network_id: str
    ip: str
    prefix: int
    cidr: str


@dataclass
class Config:
    vms: dict[str, Vm]
    ports: dict[str, VmPort]
    subnets: dict[str, Subnet]
    networks: dict[str, dict]        # id -> {project_id, external}
    routers: dict[str, Router]
    fips: dict[str, FloatingIp]      # by floating address
    rules: dict[str, list[Rule]]     # by group id
    externals: dict[str, External]   # by external network id
    skipped_rules: int = 0
    slice: dict = field(default_factory=dict)
    _members: dict = field(default_factory=dict, repr=False, compare=False)

    def members(self, group: str) -> set[str]:
        """IPv4 addresses of the emulated ports in a security group (remote-group rules)."""
        if group not in self._members:
            self._members[group] = {a.ip for p in self.ports.values() if group in p.groups
                                    for a in p.addrs}
        return self._members[group]


def _rows(df, cols):
    from pipeline.export.topology import pylist

    if df is None or len(df) == 0:
        return []
    return list(zip(*(pylist(df[c]) for c in cols)))


def _cidr(text: str, where: str) -> str:
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError as e:
        raise InputError(f"{where}: not a CIDR ({e})") from e


def _v4(ip) -> bool:
    return bool(ip) and ":" not in ip


def _int(v) -> int | None:
    return None if v is None else int(v)


def normalise_protocol(value) -> int | None | str:
    """None for any protocol, an int for a known one, the raw text when unknown."""
    if value is None or str(value).strip().lower() in ANY_PROTOCOL:
        return None
    text = str(value).strip().lower()
    if text.isdigit():
        return int(text)
    return PROTOCOL_NUMBERS.get(text, text)


def load_config(tables: dict, max_hosts: int | None = None,
                projects: list[str] | None = None) -> Config:
    subnets = {sid: Subnet(sid, net, proj, _cidr(cidr, f"subnets: subnet {sid}"), gw)
               for sid, net, proj, cidr, gw in _rows(tables.get("subnets"),
                                                     ["id", "network_id", "project_id", "cidr", "gateway_ip"])
               if cidr and ":" not in cidr}
    networks = {nid: {"project_id": proj, "external": bool(ext), "port_security": sec is not False}
                for nid, proj, ext, sec in _rows(tables.get("networks"), [
                    "id", "project_id", "router_external", "port_security_enabled"])}
    vms, chosen_hosts, unplaced = _vms(tables, subnets, networks, max_hosts, projects)
    ports = {p.id: p for vm in vms.values() for p in vm.ports}
    routers = _routers(tables, subnets, networks, {p.network_id for p in ports.values()})
    fips = _fips(tables, routers, ports)
    rules, skipped = _rules(tables)
    externals = _externals(routers, subnets, fips)
    used = {p.network_id for p in ports.values()}
    used |= {i.network_id for r in routers.values() for i in r.interfaces + r.gateway}
    default = {"project_id": None, "external": False, "port_security": True}
    networks = {k: networks.get(k, default) for k in sorted(used)}
    return Config(vms, ports, subnets, networks, routers, fips, rules, externals, skipped,
                  {"hosts": len(chosen_hosts), "projects": len({v.project_id for v in vms.values()}),
                   "max_hosts": max_hosts, "projects_requested": list(projects or []),
                   "compute_ports_unplaced": unplaced})


def _port_addrs(tables, subnets, port_ids) -> dict[str, list[Addr]]:
    out: dict[str, list] = {}
    for pid, idx, sid, ip in sorted(_rows(tables.get("port_ips"),
                                          ["port_id", "ip_index", "subnet_id", "ip_address"]),
                                    key=lambda r: (r[0], r[1] if r[1] is not None else 1 << 30)):
        if pid in port_ids and _v4(ip) and sid in subnets:
            cidr = subnets[sid].cidr
            out.setdefault(pid, []).append(Addr(ip, int(cidr.split("/")[1]), sid, cidr))
    return out


def _vms(tables, subnets, networks, max_hosts, projects):
    hosts = {name for (name,) in _rows(tables.get("hosts"), ["node_name"])}
    cols = ["id", "device_id", "device_owner", "binding_host_id", "network_id", "project_id",
            "mac_address", "port_security_enabled"]
    all_compute = [r for r in _rows(tables.get("ports"), cols) if (r[2] or "").startswith("compute:")]
    compute = [r for r in all_compute if r[3] in hosts and r[4]]
    unplaced = len(all_compute) - len(compute)  # no known host or no network: not emulable
    if projects:
        unknown = sorted(set(projects) - {r[5] for r in compute})
        if unknown:
            raise InputError(f"--projects: no VM of project {unknown[0]} is bound to a known host")
        compute = [r for r in compute if r[5] in set(projects)]
    used_hosts = sorted({r[3] for r in compute})
    chosen = set(used_hosts[:max_hosts] if max_hosts else used_hosts)
    compute = sorted((r for r in compute if r[3] in chosen), key=lambda r: (r[1] or r[0], r[0]))
    addrs = _port_addrs(tables, subnets, {r[0] for r in compute})
    groups: dict[str, list] = {}
    for pid, gid in _rows(tables.get("port_security_groups"), ["port_id", "security_group_id"]):
        groups.setdefault(pid, []).append(gid)
    vms: dict[str, Vm] = {}
    for pid, dev, _, host, net, proj, mac, sec in compute:
        vm_id = dev or pid
        if sec is None:  # Neutron: the network's default, itself on by default
            sec = networks.get(net, {}).get("port_security", True)
        port = VmPort(pid, vm_id, net, proj, mac, addrs.get(pid, []), bool(sec),
                      tuple(sorted(groups.get(pid, []))))
        vm = vms.setdefault(vm_id, Vm(vm_id, proj, host, []))
        vm.ports.append(port)
    return vms, chosen, unplaced


def _routers(tables, subnets, networks, vm_networks):
    mac_of = {pid: mac for pid, mac in _rows(tables.get("ports"), ["id", "mac_address"])}
    ifaces: dict[str, list] = {}
    for pid, rid, net, sid, ip in _rows(tables.get("router_interfaces"),
                                        ["port_id", "router_id", "network_id", "subnet_id", "ip_address"]):
        if _v4(ip) and sid in subnets:
            prefix = int(subnets[sid].cidr.split("/")[1])
            ifaces.setdefault(rid, []).append(RouterIf(pid, net or subnets[sid].network_id, sid, ip,
                                                       prefix, mac_of.get(pid)))
    import json

    routers = {}
    for rid, proj, gw_net, snat, ext_ips in _rows(tables.get("routers"),
                                                  ["id", "project_id", "gateway_network_id",
                                                   "enable_snat", "external_fixed_ips"]):
        mine = sorted(ifaces.get(rid, []), key=lambda i: i.port_id)
        if not any(i.network_id in vm_networks for i in mine):
            continue  # a router none of the emulated VMs can reach
        gateway = []
        try:
            items = json.loads(ext_ips) if ext_ips else []
        except ValueError as e:
            raise InputError(f"routers: router {rid}: external_fixed_ips is not JSON ({e})") from e
        for item in items:
            sid, ip = item.get("subnet_id"), item.get("ip_address")
            if _v4(ip) and sid in subnets and gw_net:
                gateway.append(RouterIf("", gw_net, sid, ip, int(subnets[sid].cidr.split("/")[1]), None))
        upstream = subnets[gateway[0].subnet_id].gateway_ip if gateway else None
        routers[rid] = Router(rid, proj, mine, gateway, bool(snat) if snat is not None else True,
                              upstream)
    return routers


def _fips(tables, routers, ports):
    out = {}
    cols = ["floating_ip_address", "fixed_ip_address", "port_id", "router_id", "floating_network_id"]
    for addr, fixed, pid, rid, net in sorted(_rows(tables.get("floating_ips"), cols),
                                             key=lambda r: r[0] or ""):
        if not (_v4(addr) and _v4(fixed) and pid in ports and rid in routers):
            continue
        if not routers[rid].gateway or addr in out:
            continue
        fip = FloatingIp(addr, fixed, pid, rid, net)
        out[addr] = fip
        routers[rid].fips.append(fip)
    return out


def _rules(tables):
    rules: dict[str, list] = {}
    skipped = 0
    cols = ["id", "security_group_id", "direction", "ethertype", "protocol", "port_range_min",
            "port_range_max", "remote_ip_prefix", "remote_group_id"]
    for rid, gid, direction, ether, proto, pmin, pmax, prefix, rgroup in sorted(
            _rows(tables.get("security_group_rules"), cols), key=lambda r: r[0]):
        if (ether or "IPv4") != "IPv4" or (prefix and ":" in prefix):
            continue
        proto = normalise_protocol(proto)
        if isinstance(proto, str):
            skipped += 1
            continue
        if prefix:
            prefix = _cidr(prefix, f"security_group_rules: rule {rid} remote_ip_prefix")
        rules.setdefault(gid, []).append(Rule(rid, gid, direction, proto, _int(pmin), _int(pmax),
                                              prefix, rgroup))
    return rules, skipped


def _externals(routers, subnets, fips) -> dict[str, External]:
    """One outside client per external network: the subnet's gateway address (the upstream
    the routers default to) when nobody else holds it, else the highest free address."""
    out = {}
    taken = {i.ip for r in routers.values() for i in r.gateway} | set(fips)
    for r in sorted(routers.values(), key=lambda r: r.id):
        if not r.gateway or r.gateway[0].network_id in out:
            continue
        sub = subnets[r.gateway[0].subnet_id]
        net = ipaddress.ip_network(sub.cidr)
        ip = sub.gateway_ip if sub.gateway_ip and sub.gateway_ip not in taken else None
        if ip is None:
            ip = next((str(h) for h in reversed(list(net.hosts())) if str(h) not in taken), None)
        if ip:
            out[sub.network_id] = External(sub.network_id, ip, net.prefixlen, sub.cidr)
    return out
