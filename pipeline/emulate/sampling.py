"""A stratified, seeded sample of probes, each with the reachability expected for it.

Classes (drawn in turn, so each gets about the same share; a class with no candidates in the
slice gives its share to the others):
- same_subnet: two VMs on one subnet;
- cross_router: two VMs of one project on two subnets joined by one of its routers;
- cross_project: two VMs of different projects;
- floating_ip: the outside client of an external network to a floating IP;
- sg_blocked: a pair with a working path, probed with a protocol its security groups drop.
For the first four, the protocol is one the destination's security groups allow when there is
one (ICMP echo or a TCP port from its rules), so the probe tests the path, not the filter.
Probes whose address would be answered by another VM (overlapping CIDRs on the path) are left
out: a ping cannot tell who answered.
"""

from __future__ import annotations

import random

from pipeline.emulate.config import Config
from pipeline.emulate.expected import TCP, Expected, Probe, View, expect

CLASSES = ("same_subnet", "cross_router", "cross_project", "floating_ip", "sg_blocked")
COMMON_TCP = (22, 80, 443, 3306, 5432, 6443, 8080, 9000, 10250, 31337)
MAX_MISSES = 200


class Sampler:
    def __init__(self, cfg: Config, seed: int, security_groups: bool = True, egress: bool = False):
        self.cfg, self.sg, self.egress = cfg, security_groups, egress
        self.rng = random.Random(seed)
        self.view = View(cfg)
        self.ports = sorted(p for p, port in cfg.ports.items() if port.addrs)
        self.by_subnet: dict[str, list[str]] = {}
        for pid in self.ports:
            self.by_subnet.setdefault(cfg.ports[pid].addrs[0].subnet_id, []).append(pid)
        self.subnets = sorted(s for s, ps in self.by_subnet.items()
                              if len({cfg.ports[p].vm_id for p in ps}) > 1)
        self.router_pairs = sorted({(a, b) for r in cfg.routers.values()
                                    for a in self._router_subnets(r) for b in self._router_subnets(r)
                                    if a != b})
        self.fips = sorted(cfg.fips)

    def _router_subnets(self, router) -> list[str]:
        return [i.subnet_id for i in router.interfaces if i.subnet_id in self.by_subnet]

    def expect(self, probe: Probe) -> Expected:
        return expect(self.cfg, probe, self.sg, self.view, self.egress)

    # one candidate per class ---------------------------------------------------------------
    def _vm_probe(self, cls, src, dst) -> Probe | None:
        if self.cfg.ports[src].vm_id == self.cfg.ports[dst].vm_id:
            return None
        return Probe(cls, ("vm", src), ("vm", dst), self.cfg.ports[dst].addrs[0].ip)

    def same_subnet(self):
        if not self.subnets:
            return None
        ports = self.by_subnet[self.rng.choice(self.subnets)]
        return self._vm_probe("same_subnet", *self.rng.sample(ports, 2))

    def cross_router(self):
        if not self.router_pairs:
            return None
        a, b = self.rng.choice(self.router_pairs)
        src, dst = self.rng.choice(self.by_subnet[a]), self.rng.choice(self.by_subnet[b])
        if self.cfg.ports[src].project_id != self.cfg.ports[dst].project_id:
            return None
        return self._vm_probe("cross_router", src, dst)

    def cross_project(self):
        if len(self.ports) < 2:
            return None
        src, dst = self.rng.sample(self.ports, 2)
        if self.cfg.ports[src].project_id == self.cfg.ports[dst].project_id:
            return None
        return self._vm_probe("cross_project", src, dst)

    def floating_ip(self):
        if not self.fips:
            return None
        fip = self.cfg.fips[self.rng.choice(self.fips)]
        if fip.network_id not in self.cfg.externals:
            return None
        return Probe("floating_ip", ("ext", fip.network_id), ("fip", fip.address), fip.address)

    def sg_blocked(self):
        base = self.same_subnet() if self.rng.random() < 0.5 else self.cross_router()
        if base is None or not self.sg:
            return None
        ports = list(COMMON_TCP)
        self.rng.shuffle(ports)
        for proto, port in [("icmp", None)] + [("tcp", p) for p in ports[:4]]:
            probe = Probe("sg_blocked", base.src, base.dst, base.dst_ip, proto, port)
            exp = self.expect(probe)
            if exp.code in ("sg_ingress", "sg_egress"):
                return probe
        return None

    # protocol choice -----------------------------------------------------------------------
    def allowed_protocol(self, probe: Probe) -> tuple[Probe, Expected]:
        """The probe with a protocol the destination's groups allow, when one does."""
        options = [("icmp", None)] + [("tcp", p) for p in self._tcp_ports(probe)]
        self.rng.shuffle(options)
        first = None
        for proto, port in options:
            candidate = Probe(probe.cls, probe.src, probe.dst, probe.dst_ip, proto, port)
            exp = self.expect(candidate)
            first = first or (candidate, exp)
            if exp.reachable or exp.code not in ("sg_ingress", "sg_egress"):
                return candidate, exp
        return first

    def _tcp_ports(self, probe: Probe) -> list[int]:
        port_id = probe.dst[1] if probe.dst[0] == "vm" else self.cfg.fips[probe.dst[1]].port_id
        out = set()
        for g in self.cfg.ports[port_id].groups:
            for rule in self.cfg.rules.get(g, ()):
                if rule.direction == "ingress" and rule.protocol in (None, TCP):
                    out.add(rule.port_min if rule.port_min is not None else 22)
        return sorted(out)[:3]


def sample_probes(cfg: Config, count: int, seed: int = 0, security_groups: bool = True,
                  egress: bool = False) -> list[tuple[Probe, Expected]]:
    sampler = Sampler(cfg, seed, security_groups, egress)
    out: list[tuple[Probe, Expected]] = []
    seen: set = set()
    misses = {c: 0 for c in CLASSES}
    active = list(CLASSES)
    while len(out) < count and active:
        for cls in list(active):
            if len(out) >= count:
                break
            probe = getattr(sampler, cls)()
            if probe is not None and cls != "sg_blocked":
                probe, exp = sampler.allowed_protocol(probe)
            elif probe is not None:
                exp = sampler.expect(probe)
            key = probe and (probe.src, probe.dst, probe.proto, probe.port)
            if probe is None or key in seen or exp.code == "wrong_host":
                misses[cls] += 1
                if misses[cls] >= MAX_MISSES:
                    active.remove(cls)
                continue
            misses[cls] = 0
            seen.add(key)
            out.append((probe, exp))
    return out
