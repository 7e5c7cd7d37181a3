"""The world being built: its projects, hosts and resource lists, ids, names and placement.

One `random.Random(seed)` (`World.rng`) draws everything; the resources are added by
resources.py and security.py, the kinds' workloads by kinds.py.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from pipeline.sample.addresses import Pool, Space, pool_capacity
from pipeline.sample.profiles import (ARBITRARY_NETS, ARBITRARY_SUBNETS, DEVTEST_WORDS, GENERIC_NETS,
                                      GENERIC_SUBNETS, HOST_OUIS, VARIANTS)


@dataclass
class Project:
    """One tenant project while it is built: kind, naming, address spaces, its resources."""

    id: str
    kind: str
    index: int
    created: datetime
    named: bool = False
    label: str = ""          # kind written in conventional names (may disagree with `kind`)
    labelled: bool = False
    alcor: bool = False
    dual: bool = False
    zones: list[int] = field(default_factory=list)
    space: Space | None = None
    space6: Space | None = None
    mgmt: str = ""
    app_prefix: str = ""
    name_style: str = ""
    db_ports: list[int] = field(default_factory=list)
    networks: list[dict] = field(default_factory=list)
    subnets: list[dict] = field(default_factory=list)
    groups: dict[str, dict] = field(default_factory=dict)
    routers: list[dict] = field(default_factory=list)
    vm_ports: list[dict] = field(default_factory=list)
    net_seq: int = 0
    subnet_seq: int = 0
    listed: str = ""         # kind written in labels.csv when it differs from `kind` (label noise)
    sriov: bool = False      # realism: SR-IOV NICs on a kind that is not hpc


class World:
    """The data center under construction: the seeded rng, hosts, every resource list, and the
    indexes and used-value sets that keep ids, MACs and VNIs unique."""

    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.rng = random.Random(int(cfg["seed"]))
        # Fixed clock derived from the seed: the cloud went live on t0.
        self.t0 = datetime(2023, 1, 1, tzinfo=timezone.utc) + timedelta(days=int(cfg["seed"]) % 365)
        self.hosts: list[dict] = []
        self.compute: dict[int, dict[int, list[str]]] = {}   # zone -> rack -> node names
        self.netnodes: dict[int, list[str]] = {}
        self.projects: list[Project] = []
        self.networks: list[dict] = []
        self.subnets: list[dict] = []
        self.ports: list[dict] = []
        self.sgs: list[dict] = []
        self.extra_rules: list[dict] = []
        self.routers: list[dict] = []
        self.fips: list[dict] = []
        self.pools: dict[str, Pool] = {}
        self.subnet_by_id: dict[str, dict] = {}
        self.net_by_id: dict[str, dict] = {}
        self.v6_of_net: dict[str, dict] = {}
        self.macs: set[int] = set()
        self.host_macs: set[tuple] = set()
        self.dvr_macs: set[int] = set()
        self.vnis: set[int] = set()
        self.std_attr = 1000
        self.faults: list[dict] = []   # {"obj", "check", "table", "note", ["ip_address"], ...}
        self.admin = ""                # the admin project (external network owner)
        self.ext_net: dict = {}
        self.ext_subnets: list[dict] = []   # created on demand as gateways/FIPs use addresses
        self.realism = str(cfg.get("realism", "off")) == "hard"
        variant = VARIANTS[str(cfg.get("variant", "a"))]
        self.site = variant["site"]
        self.convention = variant["convention"]
        self.size_scale = float(variant["size_scale"])

    def conv(self, label: str, suffix: str) -> str:
        """A name following the site's naming convention."""
        return self.convention.format(site=self.site, label=label, suffix=suffix)

    # ---- random helpers
    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexid(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4).hex

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def between(self, lo_hi) -> int:
        return self.rng.randint(lo_hi[0], lo_hi[1])

    def mac(self) -> str:
        while True:
            b = self.rng.getrandbits(24)
            if b not in self.macs:
                self.macs.add(b)
                return "fa:16:3e:%02x:%02x:%02x" % (b >> 16, (b >> 8) & 255, b & 255)

    def vni(self) -> int:
        while True:
            v = self.rng.randint(1001, 65535)
            if v not in self.vnis:
                self.vnis.add(v)
                return v

    def stamps(self, since: datetime, days: int = 200) -> tuple[str, str]:
        c = since + timedelta(seconds=self.rng.randint(0, days * 86400))
        u = c + timedelta(seconds=self.rng.choice((0, 0, self.rng.randint(1, 90 * 86400))))
        f = "%Y-%m-%dT%H:%M:%SZ"
        return c.strftime(f), u.strftime(f)

    def next_std_attr(self) -> int:
        self.std_attr += 1
        return self.std_attr

    # ---- naming
    def net_name(self, p: Project, hint: str = "") -> str:
        p.net_seq += 1
        n = p.net_seq
        if p.named:
            return self.conv(p.label, f"net{n:02d}" if p.name_style != "hint" or not hint else hint)
        if self.realism:
            return self.rng.choice(GENERIC_NETS) + ("" if n == 1 else f"{n}")
        if p.kind == "devtest":
            return f"{self.rng.choice(DEVTEST_WORDS)}{self.rng.choice(('', '-net', '_net', str(n)))}"
        return self.rng.choice(ARBITRARY_NETS) + ("" if n == 1 else f"{n}")

    def subnet_name(self, p: Project, hint: str = "") -> str:
        p.subnet_seq += 1
        n = p.subnet_seq
        if p.named:
            if p.name_style == "hint" and hint:
                suffix = hint
            else:
                suffix = {"sn": f"sn{n:02d}", "net": f"net{n}", "subnet": f"subnet{n}",
                          "hint": f"sn{n:02d}"}[p.name_style]
            return self.conv(p.label, suffix)
        if self.realism:
            return self.rng.choice(GENERIC_SUBNETS).format(n=self.rng.randint(1, 9))
        if p.kind == "devtest":
            return self.rng.choice((f"{self.rng.choice(DEVTEST_WORDS)}-sub", "private-subnet", "",
                                    f"{self.rng.choice(DEVTEST_WORDS)}{n}"))
        return self.rng.choice(ARBITRARY_SUBNETS).format(n=self.rng.randint(1, 9))

    # ---- hosts
    def build_hosts(self) -> None:
        cfg = self.cfg
        for z in range(1, int(cfg["zones"]) + 1):
            self.compute[z] = {}
            ncm = f"ncm-az{z}-{self.rng.randint(1, 9):02d}"
            for r in range(1, int(cfg["racks_per_zone"]) + 1):
                self.compute[z][r] = []
                for h in range(1, int(cfg["hosts_per_rack"]) + 1):
                    name = f"az{z}-r{r:02d}-cn{h:02d}"
                    self.compute[z][r].append(name)
                    self._host(name, z, r, f"10.{200 + z}.{r}.{10 + h}", "compute", ncm)
            self.netnodes[z] = []
            for k in (1, 2):
                name = f"az{z}-r01-nn{k:02d}"
                self.netnodes[z].append(name)
                self._host(name, z, 1, f"10.{200 + z}.0.{10 + k}", "network", ncm)

    def _host(self, name, z, r, ip, role, ncm) -> None:
        oui = self.rng.choice(HOST_OUIS)
        while True:
            b, d = self.rng.getrandbits(24), self.rng.getrandbits(24)
            if (oui, b) not in self.host_macs and d not in self.dvr_macs:
                self.host_macs.add((oui, b))
                self.dvr_macs.add(d)
                break
        self.hosts.append({
            "node_id": self.uuid(), "node_name": name, "local_ip": ip,
            "mac_address": "%s:%02x:%02x:%02x" % (oui, b >> 16, (b >> 8) & 255, b & 255),
            "veth": "veth0", "server_port": 50001,
            "host_dvr_mac": "fa:16:3f:%02x:%02x:%02x" % (d >> 16, (d >> 8) & 255, d & 255),
            "ncm_id": ncm, "ncm_uri": f"http://10.{200 + z}.0.5:9014/ncm/{ncm}",
            "_zone": z, "_rack": r, "_role": role,
        })

    def zone_hosts(self, z: int) -> list[str]:
        return [h for r in sorted(self.compute[z]) for h in self.compute[z][r]]

    def place(self, p: Project, n: int, policy: str, per_host=None) -> list[str]:
        """Host names for n VMs following the kind's placement policy."""
        rng = self.rng
        if policy == "packed":
            z = p.zones[0]
            racks = sorted(self.compute[z])
            rng.shuffle(racks)
            cand = [h for r in racks for h in self.compute[z][r]]  # first rack first, then spill
            k = max(1, min(len(cand), math.ceil(n / rng.randint(*(per_host or (8, 24))))))
            first = self.compute[z][racks[0]][:]
            rng.shuffle(first)
            hosts = (first + [h for h in cand if h not in first])[:k]
            return [hosts[i % k] for i in range(n)]
        if policy == "random":
            pool = [h for z in p.zones for h in self.zone_hosts(z)]
            return [rng.choice(pool) for _ in range(n)]
        zones = p.zones if policy == "spread" else p.zones[:1]
        pool = [h for z in zones for h in self.zone_hosts(z)]
        rng.shuffle(pool)
        return [pool[i % len(pool)] for i in range(n)]

    @staticmethod
    def zone_of(host: str) -> int:
        return int(host.split("-")[0][2:])

    # ---- addresses
    def alloc(self, sn: dict, skip: float = 0.06) -> str:
        """The next free address of the subnet's pools (holes skipped with probability skip)."""
        return self.pools[sn["id"]].alloc(self.rng, skip)

    # ---- helpers for builders
    def prefix(self, prof: dict, need: int) -> int:
        pl = self.rng.choice(prof["prefixlen"])
        if self.chance(prof["prefix_noise"]):
            pl = self.rng.choice(prof["prefix_odd"])
        while pool_capacity(pl) < need:
            pl -= 1
        return pl

    def split(self, total: int, parts: int) -> list[int]:
        cuts = sorted(self.rng.randint(0, total) for _ in range(parts - 1))
        return [b - a for a, b in zip([0] + cuts, cuts + [total])]
