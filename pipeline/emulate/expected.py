"""The reachability a probe should see, computed from the configuration alone (no Mininet).

The model is the data center's data plane as Neutron builds it, IPv4 only:
- every network is one isolated layer-2 segment; an address is reachable on a segment when a
  node of that segment holds it (VM port, router interface, router gateway, floating IP on its
  router's gateway, the outside client of an external network);
- a VM has an on-link route per subnet of its ports and a default route to the gateway of its
  first port's first subnet; VMs do not forward;
- a router forwards between its interfaces' subnets, defaults to its external subnet's gateway
  (the outside client), translates its floating IPs (DNAT in, SNAT out) and SNATs the rest of
  its internal traffic to its gateway address when `enable_snat`; replies follow conntrack;
- security groups (option `security_groups`): a port with port security drops what no
  ingress rule of its groups allows (remote prefix, remote group = addresses of the group's
  emulated ports, protocol, port range, ICMP type); with `egress` it also sends only what an
  egress rule allows; replies of allowed flows pass (stateful). Ports without port security
  pass everything.
A probe succeeds when the request reaches a node holding its destination (after DNAT) and the
reply finds its way back through the same NAT routers.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.emulate.config import Config, Rule

ICMP, TCP = 1, 6
ECHO_REQUEST = (8, 0)
MAX_HOPS = 16


@dataclass(frozen=True)
class Probe:
    """One probe. src: ("vm", port id) or ("ext", external network id); dst: ("vm", port id)
    for a fixed address or ("fip", floating address); proto: "icmp" or "tcp" (with port)."""
    cls: str
    src: tuple
    dst: tuple
    dst_ip: str
    proto: str = "icmp"
    port: int | None = None


@dataclass(frozen=True)
class Expected:
    reachable: bool
    code: str
    reason: str


@lru_cache(maxsize=4096)
def _net(cidr: str):
    return ipaddress.ip_network(cidr, strict=False)


@lru_cache(maxsize=65536)
def _addr(ip: str):
    return ipaddress.ip_address(ip)


def in_cidr(ip: str, cidr: str) -> bool:
    return _addr(ip) in _net(cidr)


@dataclass
class Node:
    key: tuple                                          # ("vm"|"router"|"ext", id)
    ifaces: list = field(default_factory=list)          # [(network id, [(ip, cidr)], port id)]
    routes: list = field(default_factory=list)          # [(cidr, iface index, next hop | None)]
    local: set = field(default_factory=set)


class View:
    """Nodes, their routes and who holds which address on which segment."""

    def __init__(self, cfg: Config):
        self.cfg = cfg
        self.nodes: dict[tuple, Node] = {}
        self.holders: dict[str, dict[str, tuple]] = {}   # network -> ip -> (node key, iface)
        for vm in cfg.vms.values():
            self._add_vm(vm)
        for router in cfg.routers.values():
            self._add_router(router)
        for ext in cfg.externals.values():
            self._add_external(ext)
        for node in self.nodes.values():  # longest prefix first, default last
            node.routes.sort(key=lambda r: -_net(r[0]).prefixlen)

    def _hold(self, node: Node, iface: int, ip: str) -> None:
        self.holders.setdefault(node.ifaces[iface][0], {}).setdefault(ip, (node.key, iface))
        node.local.add(ip)

    def _add_vm(self, vm) -> None:
        node = self.nodes.setdefault(("vm", vm.id), Node(("vm", vm.id)))
        for i, port in enumerate(vm.ports):
            node.ifaces.append((port.network_id, [(a.ip, a.cidr) for a in port.addrs], port.id))
            for a in port.addrs:
                self._hold(node, i, a.ip)
                node.routes.append((a.cidr, i, None))
        gw = vm.default_gateway(self.cfg.subnets)
        if gw:
            node.routes.append(("0.0.0.0/0", gw[0], gw[1]))

    def _add_router(self, r) -> None:
        node = self.nodes.setdefault(("router", r.id), Node(("router", r.id)))
        for i, itf in enumerate(r.interfaces):
            cidr = self.cfg.subnets[itf.subnet_id].cidr
            node.ifaces.append((itf.network_id, [(itf.ip, cidr)], itf.port_id))
            self._hold(node, i, itf.ip)
            node.routes.append((cidr, i, None))
        if r.gateway:
            g = len(node.ifaces)
            addrs = [(a.ip, self.cfg.subnets[a.subnet_id].cidr) for a in r.gateway]
            node.ifaces.append((r.gateway[0].network_id, addrs, "gateway"))
            for ip, cidr in addrs:
                self._hold(node, g, ip)
                node.routes.append((cidr, g, None))
            for fip in r.fips:
                self._hold(node, g, fip.address)
            if r.upstream:
                node.routes.append(("0.0.0.0/0", g, r.upstream))

    def _add_external(self, ext) -> None:
        node = self.nodes.setdefault(("ext", ext.network_id), Node(("ext", ext.network_id)))
        node.ifaces.append((ext.network_id, [(ext.ip, ext.cidr)], "outside"))
        self._hold(node, 0, ext.ip)
        node.routes.append((ext.cidr, 0, None))
        for fip in self.cfg.fips.values():  # floating IPs outside the external subnet
            if fip.network_id == ext.network_id and not in_cidr(fip.address, ext.cidr):
                gw = self.cfg.routers[fip.router_id].gateway[0].ip
                node.routes.append((f"{fip.address}/32", 0, gw))

    def route(self, node: Node, dst: str):
        for cidr, iface, hop in node.routes:
            if in_cidr(dst, cidr):
                return iface, hop or dst
        return None

    def source_ip(self, node: Node, iface: int, hop: str) -> str | None:
        addrs = node.ifaces[iface][1]
        for ip, cidr in addrs:
            if in_cidr(hop, cidr):
                return ip
        return addrs[0][0] if addrs else None


@dataclass
class Trip:
    ok: bool
    node: tuple | None = None        # where the packet ended
    iface: int | None = None         # its arrival interface there
    dst: str | None = None           # destination after DNAT
    src: str | None = None           # source as seen on arrival (after SNAT)
    routers: list = field(default_factory=list)
    nat: list = field(default_factory=list)   # (kind, router id, original, translated)
    code: str = ""
    reason: str = ""


def _travel(view: View, start: tuple, dst: str, src: str, replies_to: list | None = None) -> Trip:
    """Follow one packet from `start`. replies_to: the forward trip's NAT records, when this
    is its reply (conntrack undoes them; no new NAT)."""
    trip = Trip(False, src=src, dst=dst)
    node = view.nodes[start]
    for hop in range(MAX_HOPS):
        if hop:
            if node.key[0] == "router":
                trip.routers.append(node.key[1])
                dst = _translate(view, node, dst, trip, replies_to)
            if dst in node.local:
                trip.ok, trip.node, trip.dst, trip.src = True, node.key, dst, src
                return trip
            if node.key[0] != "router":
                where = ("left through an external gateway; the outside does not route "
                         if node.key[0] == "ext" else f"{_name(node.key)} received it and does not forward ")
                return _fail(trip, "not_forwarding", f"{where}to {dst}")
        found = view.route(node, dst)
        if found is None:
            return _fail(trip, "no_route", f"{_name(node.key)} has no route to {dst}")
        iface, next_hop = found
        network = node.ifaces[iface][0]
        if node.key[0] == "router" and replies_to is None:
            src = _snat(view, node, iface, src, trip)
        holder = view.holders.get(network, {}).get(next_hop)
        if holder is None:
            return _fail(trip, "no_l2_holder", f"no node holds {next_hop} on network {network} "
                         f"(next hop of {_name(node.key)})")
        node, trip.iface = view.nodes[holder[0]], holder[1]
    return _fail(trip, "loop", f"more than {MAX_HOPS} hops")


def _translate(view, node, dst, trip, replies_to):
    router = view.cfg.routers[node.key[1]]
    if replies_to is not None:  # conntrack: the reply to an SNAT'd flow goes to its origin
        for kind, rid, original, translated in replies_to:
            if kind == "snat" and rid == router.id and dst == translated:
                return original
        return dst
    for fip in router.fips:
        if fip.address == dst:
            trip.nat.append(("dnat", router.id, dst, fip.fixed_ip))
            return fip.fixed_ip
    return dst


def _snat(view, node, iface, src, trip):
    router = view.cfg.routers[node.key[1]]
    if node.ifaces[iface][2] != "gateway" or any(in_cidr(src, c) for _, c in node.ifaces[iface][1]):
        return src
    new = next((f.address for f in router.fips if f.fixed_ip == src), None)
    if new is None and router.snat:
        new = router.gateway[0].ip
    if new is None:
        return src
    trip.nat.append(("snat", router.id, src, new))
    return new


def _fail(trip: Trip, code: str, reason: str) -> Trip:
    trip.ok, trip.code, trip.reason = False, code, reason
    return trip


def _name(key: tuple) -> str:
    return {"vm": "VM", "router": "router", "ext": "outside client of"}[key[0]] + f" {key[1]}"


# ---------------------------------------------------------------------------------------------
# Security groups
# ---------------------------------------------------------------------------------------------

def rule_allows(rule: Rule, proto: int, port: int | None, remote_ip: str, cfg: Config) -> bool:
    if rule.protocol is not None and rule.protocol != proto:
        return False
    if proto == TCP and rule.protocol == TCP and rule.port_min is not None:
        high = rule.port_max if rule.port_max is not None else rule.port_min
        if port is None or not rule.port_min <= port <= high:
            return False
    if proto == ICMP and rule.protocol == ICMP and rule.port_min is not None:
        if rule.port_min != ECHO_REQUEST[0] or rule.port_max not in (None, ECHO_REQUEST[1]):
            return False
    if rule.prefix and not in_cidr(remote_ip, rule.prefix):
        return False
    if rule.remote_group and remote_ip not in cfg.members(rule.remote_group):
        return False
    return True


def port_allows(cfg: Config, port_id: str, direction: str, proto: int, port: int | None,
                remote_ip: str) -> bool:
    p = cfg.ports[port_id]
    if not p.secured:
        return True
    return any(rule.direction == direction and rule_allows(rule, proto, port, remote_ip, cfg)
               for g in p.groups for rule in cfg.rules.get(g, ()))


# ---------------------------------------------------------------------------------------------
# The expected outcome of a probe
# ---------------------------------------------------------------------------------------------

def expect(cfg: Config, probe: Probe, security_groups: bool = True, view: View | None = None,
           egress: bool = False) -> Expected:
    """The expected outcome of `probe`. security_groups: ingress filtering; egress: also
    egress filtering (off by default: Neutron gives every new group allow-all egress rules,
    and dumps often leave them out)."""
    view = view or View(cfg)
    proto = ICMP if probe.proto == "icmp" else TCP
    start = _start_node(cfg, probe.src)
    node = view.nodes[start]
    found = view.route(node, probe.dst_ip)
    if found is None:
        return Expected(False, "no_route", f"{_name(start)} has no route to {probe.dst_ip}")
    src_ip = view.source_ip(node, found[0], found[1])
    if security_groups and egress and start[0] == "vm":
        out_port = node.ifaces[found[0]][2]
        if not port_allows(cfg, out_port, "egress", proto, probe.port, probe.dst_ip):
            return Expected(False, "sg_egress", f"egress of port {out_port} blocked by its "
                            f"security groups {list(cfg.ports[out_port].groups)} (no egress rule "
                            f"allows {_what(probe)} to {probe.dst_ip})")
    there = _travel(view, start, probe.dst_ip, src_ip)
    if not there.ok:
        return Expected(False, there.code, there.reason)
    if security_groups and there.node[0] == "vm":
        in_port = view.nodes[there.node].ifaces[there.iface][2]
        if not port_allows(cfg, in_port, "ingress", proto, probe.port, there.src):
            return Expected(False, "sg_ingress", f"ingress of port {in_port} blocked by its "
                            f"security groups {list(cfg.ports[in_port].groups)} (no ingress rule "
                            f"allows {_what(probe)} from {there.src}; default deny)")
    back = _travel(view, there.node, there.src, there.dst, replies_to=there.nat)
    if not back.ok or back.node != start:
        why = back.reason if not back.ok else f"the reply reaches {_name(back.node)} instead"
        return Expected(False, "no_return", f"request arrives but the reply to {there.src} is "
                        f"lost: {why}")
    dnat_routers = {rid for kind, rid, _, _ in there.nat if kind == "dnat"}
    if not dnat_routers <= set(back.routers):
        return Expected(False, "no_return", f"the reply bypasses NAT router(s) "
                        f"{sorted(dnat_routers - set(back.routers))}")
    return _success(cfg, probe, there)


def _start_node(cfg: Config, src: tuple) -> tuple:
    if src[0] == "vm":
        return ("vm", cfg.ports[src[1]].vm_id)
    return ("ext", src[1])


def _what(probe: Probe) -> str:
    return "icmp echo" if probe.proto == "icmp" else f"tcp/{probe.port}"


def _success(cfg: Config, probe: Probe, there: Trip) -> Expected:
    intended = (("vm", cfg.ports[probe.dst[1]].vm_id) if probe.dst[0] == "vm"
                else ("vm", cfg.ports[cfg.fips[probe.dst[1]].port_id].vm_id))
    if there.node != intended:
        return Expected(True, "wrong_host", f"answered by {_name(there.node)}, not the "
                        f"intended {_name(intended)} (the address is held on the source's path)")
    dnat = [n for n in there.nat if n[0] == "dnat"]
    if dnat:
        return Expected(True, "fip_dnat", f"floating IP {dnat[0][2]} DNAT via router "
                        f"{dnat[0][1]} to {dnat[0][3]}")
    if not there.routers:
        src_port = cfg.ports.get(probe.src[1]) if probe.src[0] == "vm" else None
        same = src_port and probe.dst[0] == "vm" and {a.subnet_id for a in src_port.addrs} & {
            a.subnet_id for a in cfg.ports[probe.dst[1]].addrs}
        return Expected(True, "same_subnet" if same else "same_network",
                        "same subnet" if same else "same network segment")
    routers = " and ".join(dict.fromkeys(there.routers))
    projects = {cfg.ports[probe.src[1]].project_id if probe.src[0] == "vm" else None,
                cfg.ports[probe.dst[1]].project_id}
    snat = " with SNAT" if any(n[0] == "snat" for n in there.nat) else ""
    if len(projects) == 1:
        return Expected(True, "routed", f"same project across router {routers}{snat}")
    return Expected(True, "routed", f"across router {routers}{snat} (different projects)")
