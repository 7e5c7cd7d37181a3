"""What to build for a configuration: bridges, nodes, links, addresses, routes and rules.

Pure data (no Mininet), so it can be read, tested and changed before anything starts:
- one bridge per network (an isolated layer-2 segment: overlapping tenant CIDRs coexist);
- a host per VM (one interface per port, MAC and IPv4 addresses of the port, default route to
  its first subnet's gateway), a forwarding node per router (interface addresses, gateway
  addresses and floating IPs on the external segment, default route upstream, DNAT/SNAT in the
  nat table), one outside client per external network;
- with `security_groups`, an iptables filter table per VM: replies of tracked flows pass, each
  port with port security jumps to its own ingress chain (and egress chain with `egress`),
  which accepts what a rule of the port's groups allows and drops the rest (remote groups
  expanded to addresses).

Names are `<tag><kind><n>` (kind v = VM, r = router, x = outside client, n = bridge), at most
8 characters, so interfaces (`<node>-eth<i>`) fit Linux's 15 and cleanup can find every object
of one run by its tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.emulate.config import Config, Rule
from pipeline.emulate.expected import ICMP

SYSCTL_COMMON = ("net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.rp_filter=0",
                 "net.ipv4.conf.default.rp_filter=0")
PROTO_NAMES = {1: "icmp", 6: "tcp", 17: "udp"}


@dataclass
class NodePlan:
    name: str
    kind: str                                     # vm | router | ext
    ref: str                                      # VM id, router id or external network id
    links: list = field(default_factory=list)     # [(interface, bridge, mac | None)]
    setup: list = field(default_factory=list)     # shell commands run in the node
    filter_rules: str | None = None               # iptables-restore input, filter table
    nat_rules: str | None = None                  # iptables-restore input, nat table


@dataclass
class Plan:
    tag: str
    bridges: dict                                 # network id -> bridge name
    nodes: list
    names: dict                                   # ("vm"|"router"|"ext", id) -> node name
    security_groups: bool
    egress: bool = False

    def node(self, name: str) -> NodePlan:
        return next(n for n in self.nodes if n.name == name)

    def counts(self) -> dict:
        kinds = [n.kind for n in self.nodes]
        return {"vms": kinds.count("vm"), "routers": kinds.count("router"),
                "outside_clients": kinds.count("ext"), "segments": len(self.bridges),
                "links": sum(len(n.links) for n in self.nodes)}


def build_plan(cfg: Config, tag: str, security_groups: bool = True, egress: bool = False) -> Plan:
    bridges = {net: f"{tag}n{i}" for i, net in enumerate(sorted(cfg.networks), 1)}
    plan = Plan(tag, bridges, [], {}, security_groups, egress)
    for i, vm in enumerate(sorted(cfg.vms.values(), key=lambda v: v.id), 1):
        plan.nodes.append(_vm_node(cfg, vm, f"{tag}v{i}", bridges, security_groups, egress))
    for i, router in enumerate(sorted(cfg.routers.values(), key=lambda r: r.id), 1):
        plan.nodes.append(_router_node(cfg, router, f"{tag}r{i}", bridges))
    for i, ext in enumerate(sorted(cfg.externals.values(), key=lambda e: e.network_id), 1):
        plan.nodes.append(_ext_node(cfg, ext, f"{tag}x{i}", bridges))
    plan.names = {(n.kind, n.ref): n.name for n in plan.nodes}
    return plan


def _iface(name: str, i: int) -> str:
    return f"{name}-eth{i}"


def _vm_node(cfg, vm, name, bridges, security_groups, egress) -> NodePlan:
    node = NodePlan(name, "vm", vm.id)
    node.setup.append("sysctl -qw " + " ".join(SYSCTL_COMMON))
    for i, port in enumerate(vm.ports):
        itf = _iface(name, i)
        node.links.append((itf, bridges[port.network_id], port.mac))
        node.setup += [f"ip addr add {a.ip}/{a.prefix} dev {itf}" for a in port.addrs]
        node.setup.append(f"ip link set {itf} up")
    gw = vm.default_gateway(cfg.subnets)
    if gw:
        node.setup.append(f"ip route add default via {gw[1]} dev {_iface(name, gw[0])}")
    if security_groups:
        node.filter_rules = vm_filter(cfg, vm, name, egress)
    return node


def _router_node(cfg, router, name, bridges) -> NodePlan:
    node = NodePlan(name, "router", router.id)
    node.setup.append("sysctl -qw net.ipv4.ip_forward=1 " + " ".join(SYSCTL_COMMON))
    for i, itf in enumerate(router.interfaces):
        dev = _iface(name, i)
        node.links.append((dev, bridges[itf.network_id], itf.mac))
        node.setup += [f"ip addr add {itf.ip}/{itf.prefix} dev {dev}", f"ip link set {dev} up"]
    if router.gateway:
        dev = _iface(name, len(router.interfaces))
        node.links.append((dev, bridges[router.gateway[0].network_id], None))
        node.setup += [f"ip addr add {g.ip}/{g.prefix} dev {dev}" for g in router.gateway]
        node.setup += [f"ip addr add {f.address}/32 dev {dev}" for f in router.fips]
        node.setup.append(f"ip link set {dev} up")
        if router.upstream:
            node.setup.append(f"ip route add default via {router.upstream} dev {dev}")
        node.nat_rules = router_nat(cfg, router, dev)
    return node


def _ext_node(cfg, ext, name, bridges) -> NodePlan:
    from pipeline.emulate.expected import in_cidr

    dev = _iface(name, 0)
    node = NodePlan(name, "ext", ext.network_id, links=[(dev, bridges[ext.network_id], None)])
    node.setup += [f"ip addr add {ext.ip}/{ext.prefix} dev {dev}", f"ip link set {dev} up"]
    for fip in sorted(cfg.fips.values(), key=lambda f: f.address):
        if fip.network_id == ext.network_id and not in_cidr(fip.address, ext.cidr):
            gw = cfg.routers[fip.router_id].gateway[0].ip
            node.setup.append(f"ip route add {fip.address}/32 via {gw} dev {dev}")
    return node


def router_nat(cfg: Config, router, gw_dev: str) -> str:
    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
             ":POSTROUTING ACCEPT [0:0]"]
    for f in router.fips:
        lines.append(f"-A PREROUTING -d {f.address}/32 -j DNAT --to-destination {f.fixed_ip}")
    for f in router.fips:
        lines.append(f"-A POSTROUTING -o {gw_dev} -s {f.fixed_ip}/32 -j SNAT --to-source {f.address}")
    if router.snat:
        # traffic already from the external subnet keeps its source (as expected.py assumes)
        for g in router.gateway:
            lines.append(f"-A POSTROUTING -o {gw_dev} -s {cfg.subnets[g.subnet_id].cidr} -j RETURN")
        lines.append(f"-A POSTROUTING -o {gw_dev} -j SNAT --to-source {router.gateway[0].ip}")
    return "\n".join(lines + ["COMMIT", ""])


def vm_filter(cfg: Config, vm, name: str, egress: bool = False) -> str:
    chains, jumps, body = [], [], []
    for i, port in enumerate(vm.ports):
        if not port.secured:
            continue
        itf = _iface(name, i)
        sides = [("ingress", f"sg-in-{i}", "-i")] + ([("egress", f"sg-out-{i}", "-o")] if egress else [])
        for direction, chain, flag in sides:
            chains.append(f":{chain} - [0:0]")
            jumps.append(f"-A {'INPUT' if direction == 'ingress' else 'OUTPUT'} {flag} {itf} -j {chain}")
            for g in port.groups:
                for rule in cfg.rules.get(g, ()):
                    if rule.direction == direction:
                        body += [f"-A {chain} {m} -j ACCEPT" for m in rule_matches(rule, cfg)]
            body.append(f"-A {chain} -j DROP")
    head = ["*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    track = ["-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "-A INPUT -i lo -j ACCEPT",
             "-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT", "-A OUTPUT -o lo -j ACCEPT"]
    return "\n".join(head + chains + track + jumps + body + ["COMMIT", ""])


def rule_matches(rule: Rule, cfg: Config) -> list[str]:
    """iptables match texts for one rule (one per remote-group member); [] matches nothing."""
    from pipeline.emulate.expected import in_cidr

    proto = ""
    if rule.protocol is not None:
        proto = f"-p {PROTO_NAMES.get(rule.protocol, rule.protocol)}"
        if rule.protocol == ICMP and rule.port_min is not None:
            code = f"/{rule.port_max}" if rule.port_max is not None else ""
            proto += f" --icmp-type {rule.port_min}{code}"
        elif rule.protocol in (6, 17) and rule.port_min is not None:
            high = rule.port_max if rule.port_max is not None else rule.port_min
            proto += f" --dport {rule.port_min}:{high}"
    side = "-s" if rule.direction == "ingress" else "-d"
    if rule.remote_group:
        members = sorted(ip for ip in cfg.members(rule.remote_group)
                         if not rule.prefix or in_cidr(ip, rule.prefix))
        return [f"{proto} {side} {ip}/32".strip() for ip in members]
    if rule.prefix and rule.prefix != "0.0.0.0/0":
        return [f"{proto} {side} {rule.prefix}".strip()]
    return [proto] if proto else [""]
