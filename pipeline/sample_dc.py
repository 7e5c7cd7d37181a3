"""The embedded sample dataset: a documented reference data center, generated deterministically.

`dcnet sample` writes it to data/raw/sample/; it is the default input of the pipeline and the
data that classification work trains on. It is *not* a synthesizer: the structure of every
user-profile kind is written out by hand below (PROFILES), the output mimics what a real dump
of such a cloud looks like (mixed Neutron / openstack-CLI / Alcor wire formats, paginated
lists, NDJSON, CSV inventories, gzip), and a handful of faults are planted on purpose and
listed in a manifest beside the folder (`<out>_faults.json`) so validation can be tested
against known answers.

The data center
- `zones` availability zones (az1, az2, ...), `racks_per_zone` racks of `hosts_per_rack`
  compute hosts named `az<z>-r<rr>-cn<hh>`, plus two network nodes per zone
  (`az<z>-r01-nn0<k>`) that run the DHCP and L3 agents (DHCP and router ports bind there).
  Zone 1 is an Alcor bulk node registration; the other zones are a CSV inventory.
- An admin project owns the external provider network (`public`, flat, router:external);
  router gateway and floating IP ports live there with an empty project, as in Neutron.
- `projects` tenant projects of six kinds (web, hpc, bigdata, kubernetes, database, devtest),
  each built from its profile with random variation and deliberate overlap between kinds.
- About half the projects name their subnets by the site convention `ustc-<kind>-<suffix>`
  (a few with the wrong kind: realistic label noise); `labels.csv` gives the true kind of ~60%.

Determinism: one `random.Random(seed)`, no set/dict-order dependence, fixed timestamps derived
from the seed, compact JSON, gzip with mtime=0 and no file name. Same params => same bytes
(given the same zlib build; the decompressed content is identical everywhere).
"""

from __future__ import annotations

import copy
import csv
import gzip
import io
import ipaddress
import json
import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from pipeline.params import default

# --------------------------------------------------------------------------------------------
# Per-kind profiles (the documented "ground truth" of what each user profile looks like).
#
# Keys common to all kinds
#   share        fraction of the projects that are of this kind
#   named        probability that the project follows the site subnet-naming convention
#   second       probability of a second network (hpc: storage, bigdata: data, devtest: another
#                sandbox) or, for kubernetes and database, of a second subnet (more nodes, replicas)
#   prefixlen    typical IPv4 subnet prefix lengths (uniform choice) ...
#   prefix_noise ... replaced, with this probability, by one of `prefix_odd` (overlap with kinds)
#   vms          (min, max) virtual machines
#   placement    spread (both zones, distinct hosts first) | zone (one zone, distinct hosts)
#                | packed (a few hosts of one rack, `vms_per_host` each) | random (any host)
#   router       probability of a router with an external gateway (SNAT)
#   fips         (min, max) floating IPs on VMs (besides load-balancer VIPs); 0 = never
#   dual_stack   probability that each network also gets an IPv6 /64 (dhcpv6-stateful)
#   mtu          MTU choices (8950 = jumbo frames on the VXLAN underlay)
#   + kind-specific keys: web `layouts` (tiers in one network or one network per tier, or two
#     tiers only), `lb`/`lb_vips` (Octavia VIPs); hpc `vms_per_host`; database `engines`.
#   alcor        probability that the project lives on the Alcor controller (VPCs with cidr)
#   no_port_sec  probability that the networks have port security disabled (no groups)
#   sriov        probability of SR-IOV ports (vnic direct, vif hw_veb)
#   noise_rules  number of random extra rules (from NOISE_RULES) is binomial(4, this)
#   groups       security-group templates: {group: [(protocol, min, max, remote), ...]}
#                remote: @world (0.0.0.0/0, plus ::/0 when dual-stack), @mgmt (site management
#                prefix), @self (remote_group_id = the group itself), @group:<name> (another
#                group of the project), @subnet (the project's first subnet), @app (an
#                application prefix); ports "@db" = the project's database engine port(s).
#                The first rule of a group is always kept, the others with probability 0.9.
# --------------------------------------------------------------------------------------------

KINDS = ("web", "hpc", "bigdata", "kubernetes", "database", "devtest")

PROFILES: dict[str, dict[str, Any]] = {
    "web": dict(
        doc="Three-tier web application: web/app/db tiers (one network with a subnet per tier "
            "or one network per tier), an Octavia load-balancer VIP with a floating IP, "
            "80/443 open to the world, 22 from management, app and db tiers chained by "
            "remote_group_id (8080 from web, 3306 from app).",
        share=0.22, named=0.55, second=0.0,
        layouts=(("one_net", 0.5), ("net_per_tier", 0.35), ("two_tier", 0.15)),
        prefixlen=(24, 25, 26), prefix_noise=0.1, prefix_odd=(23, 27),
        vms=(9, 60), placement="spread", router=1.0, fips=(0, 2), lb=0.85, lb_vips=(1, 2),
        dual_stack=0.2, mtu=(1450,), alcor=0.0, no_port_sec=0.0, sriov=0.0, noise_rules=0.12,
        groups={
            "web": [("tcp", 443, 443, "@world"), ("tcp", 80, 80, "@world"), ("tcp", 22, 22, "@mgmt")],
            "app": [("tcp", 8080, 8080, "@group:web"), ("tcp", 22, 22, "@mgmt")],
            "db": [("tcp", 3306, 3306, "@group:app"), ("tcp", 22, 22, "@mgmt")],
        },
    ),
    "hpc": dict(
        doc="Batch HPC cluster: big /22-/21 subnets, many VMs packed on a few hosts of one rack, "
            "often jumbo MTU and a second storage network, permissive intra-group rules and "
            "ICMP, sometimes port security off or SR-IOV, SNAT router but no floating IPs.",
        share=0.12, named=0.55, second=0.5,
        prefixlen=(22, 21), prefix_noise=0.15, prefix_odd=(23,),
        vms=(100, 400), placement="packed", vms_per_host=(24, 48), router=0.6, fips=(0, 0),
        dual_stack=0.0, mtu=(8950, 8950, 1450), alcor=0.0, no_port_sec=0.3, sriov=0.2,
        noise_rules=0.1,
        groups={
            "cluster": [(None, None, None, "@self"), ("icmp", None, None, "@world"),
                        ("tcp", 22, 22, "@mgmt"), ("tcp", 1, 65535, "@subnet")],
        },
    ),
    "bigdata": dict(
        doc="Hadoop/Spark cluster: large /23-/22 subnets, many VMs spread one per host across "
            "a zone, HDFS/YARN ports (8020, 9000, 9870, 50070, 9864, 50010, 8088, 2181) within "
            "the group and UIs from management, an edge node with a floating IP.",
        share=0.12, named=0.55, second=0.3,
        prefixlen=(23, 22), prefix_noise=0.15, prefix_odd=(24, 21),
        vms=(30, 200), placement="zone", router=1.0, fips=(0, 1),
        dual_stack=0.0, mtu=(1450, 1450, 8950), alcor=0.0, no_port_sec=0.0, sriov=0.0,
        noise_rules=0.12,
        groups={
            "hadoop": [("tcp", 8020, 8020, "@self"), ("tcp", 9000, 9000, "@self"),
                       ("tcp", 9870, 9870, "@mgmt"), ("tcp", 50070, 50070, "@mgmt"),
                       ("tcp", 9864, 9864, "@self"), ("tcp", 50010, 50010, "@self"),
                       ("tcp", 8088, 8088, "@mgmt"), ("tcp", 2181, 2181, "@self"),
                       ("tcp", 22, 22, "@mgmt")],
            "spark": [("tcp", 7077, 7077, "@self"), ("tcp", 4040, 4040, "@mgmt"),
                      ("tcp", 18080, 18080, "@mgmt")],
        },
    ),
    "kubernetes": dict(
        doc="Kubernetes cluster, often on Alcor VPCs with a cidr: masters and workers, pod CIDR "
            "and API VIP in allowed_address_pairs, 6443 API, 10250 kubelet, 2379-2380 etcd, "
            "30000-32767 node ports, VXLAN overlay (udp 8472) and BGP (179) inside the groups.",
        share=0.18, named=0.55, second=0.25,
        prefixlen=(24, 23, 22), prefix_noise=0.1, prefix_odd=(25,),
        vms=(8, 70), placement="spread", router=1.0, fips=(1, 2),
        dual_stack=0.25, mtu=(1450,), alcor=0.7, no_port_sec=0.0, sriov=0.0, noise_rules=0.12,
        groups={
            "k8s-master": [("tcp", 6443, 6443, "@world"), ("tcp", 2379, 2380, "@self"),
                           ("tcp", 10250, 10250, "@group:k8s-worker"), ("tcp", 10257, 10257, "@self"),
                           ("tcp", 10259, 10259, "@self"), ("tcp", 22, 22, "@mgmt")],
            "k8s-worker": [("tcp", 30000, 32767, "@world"), ("tcp", 10250, 10250, "@group:k8s-master"),
                           ("udp", 8472, 8472, "@self"), ("tcp", 179, 179, "@self"),
                           ("112", None, None, "@self")],
        },
    ),
    "database": dict(
        doc="Database service: few VMs on distinct hosts, small /27-/26 subnets, engine ports "
            "(3306/5432/27017) from application prefixes and replication within the group, no "
            "floating IPs.",
        share=0.15, named=0.55, second=0.35,
        prefixlen=(27, 26), prefix_noise=0.15, prefix_odd=(28, 25),
        vms=(2, 9), placement="spread", router=0.4, fips=(0, 0),
        dual_stack=0.0, mtu=(1450,), alcor=0.0, no_port_sec=0.0, sriov=0.0, noise_rules=0.1,
        engines=(("mysql", 3306), ("postgres", 5432), ("mongodb", 27017)),
        groups={
            "db": [("tcp", "@db", "@db", "@app"), ("tcp", "@db", "@db", "@self"),
                   ("tcp", 22, 22, "@mgmt"), ("tcp", 9104, 9104, "@mgmt")],
        },
    ),
    "devtest": dict(
        doc="Developer sandbox: tiny /28-/27 subnets (sometimes a default /24 'private'), 1-5 "
            "VMs anywhere, random names, 22 open to the world, floating IPs on most VMs.",
        share=0.21, named=0.3, second=0.15,
        prefixlen=(28, 27), prefix_noise=0.2, prefix_odd=(24,),
        vms=(1, 5), placement="random", router=0.9, fips=(1, 3),
        dual_stack=0.1, mtu=(1450,), alcor=0.0, no_port_sec=0.0, sriov=0.0, noise_rules=0.3,
        groups={
            "dev": [("tcp", 22, 22, "@world"), ("icmp", None, None, "@world"),
                    ("tcp", 8080, 8080, "@world"), ("tcp", 3389, 3389, "@world"),
                    ("tcp", 80, 80, "@world")],
        },
    ),
}

# Rules any kind may carry (overlap between kinds).
NOISE_RULES = (("tcp", 22, 22, "@world"), ("icmp", None, None, "@world"),
               ("tcp", 8080, 8080, "@world"), ("tcp", 9100, 9100, "@mgmt"),
               ("udp", 53, 53, "@subnet"), ("tcp", 443, 443, "@world"),
               ("tcp", 5432, 5432, "@subnet"), ("tcp", 6379, 6379, "@subnet"))
BORROW_GROUP = 0.08        # probability a project also carries a group template of another kind
EXTRA_RULES_FILE = 0.2     # probability a group's last rules were added later (separate file)
DEFAULT_SG_ON_PORT = 0.5   # probability a VM port also carries the project's "default" group
UNBOUND_PORT = 0.06        # probability a project holds a spare unbound port
LABELLED = default("benchmark.a.labelled")  # share of projects listed in labels.csv (stratified per kind)
MISLABELED = 0.035         # share of projects whose conventional name carries the wrong kind
CONFUSABLE = {"web": "devtest", "devtest": "web", "hpc": "bigdata", "bigdata": "hpc",
              "kubernetes": "web", "database": "web"}

SITE = "ustc"
NEUTRON_URL = "https://network.dc.ustc.example:9696"
MGMT_PREFIXES = ("10.250.0.0/16", "172.31.254.0/24")
EXT_BLOCKS = ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24") + tuple(
    f"100.{64 + i // 256}.{i % 256}.0/24" for i in range(64))
DNS_CHOICES = ((), ("10.250.0.53", "10.250.1.53"), ("8.8.8.8", "1.1.1.1"))
POD_CIDRS = ("10.244.0.0/16", "192.168.0.0/16", "172.20.0.0/16")
ARBITRARY_NETS = ("private", "net_a", "internal", "lan", "tenant-net", "default", "prod",
                  "backend", "vpc-1", "cluster-net", "my_network", "int-net", "shared-lan")
ARBITRARY_SUBNETS = ("private-subnet", "subnet-3", "net_a", "sub1", "internal-v4", "",
                     "subnet1", "lan_sub", "default-subnet", "ipv4", "priv", "subnet-{n}")
DEVTEST_WORDS = ("foo", "bar", "tmp", "sandbox", "jdoe", "alice", "test", "scratch", "demo",
                 "try", "poc", "lab", "play", "xx", "qa")
HOST_OUIS = ("3c:fd:fe", "b8:59:9f", "0c:42:a1", "98:03:9b")

# params `sample` (pipeline/params.py) and the CLI options --realism, --variant
DEFAULTS = {**default("sample"), "realism": "off", "variant": "a"}

# --------------------------------------------------------------------------------------------
# Realism mode (`realism: hard`, `dcnet sample --realism hard`): the harder benchmark.
# Off by default, so the embedded sample keeps its bytes. With it on, kinds overlap the way
# tenants of a real cloud do, and nothing but the workload's structure tells them apart:
#   - mixed-use tenants: MIXED_USE of the projects also run a smaller workload of another kind;
#   - shared templates: security groups get generic names (GENERIC_GROUPS) whatever their rules;
#   - generic names: only NAMED of the projects follow the naming convention (MISNAMED of those
#     with another kind's word); every other project draws network, subnet and port names from
#     one vocabulary shared by all kinds;
#   - label noise: LABEL_NOISE of the rows of labels.csv name a wrong kind (the stated rate);
#   - no kind-exclusive artefacts: Octavia VIPs, keepalived allowed-address pairs, Alcor VPCs,
#     SR-IOV, jumbo MTU, IPv6 and any placement policy occur in every kind (EXTRAS);
#   - wider, overlapping size ranges (scaled by the variant's size_scale).
# Variant b is an independent second data center: another site name and naming convention
# (`<kind>_<site>_<suffix>`, which the default labels.naming_pattern does not match) and
# larger workloads (size_scale); its seed and host counts come from params benchmark.b.
# --------------------------------------------------------------------------------------------

MIXED_USE = 0.25
NAMED = 0.3
MISNAMED = 0.1
LABEL_NOISE = 0.05
OTHER_PLACEMENT = 0.3      # probability a project ignores its kind's placement policy
EXTRAS = {"octavia": 0.12, "keepalived": 0.12, "alcor": 0.12, "sriov": 0.05}
GENERIC_GROUPS = ("app", "internal", "frontend", "backend", "base", "access", "svc", "nodes",
                  "allow-in", "cluster", "mgmt", "ops")
GENERIC_PORTS = ("", "", "", "eth0", "port1", "nic0", "vip", "spare", "mgmt0")
GENERIC_NETS = ARBITRARY_NETS + ("sandbox", "lab", "demo-net", "work")
GENERIC_SUBNETS = ARBITRARY_SUBNETS + ("tmp-sub", "lab1", "subnet-a")
VARIANTS = {
    "a": {"site": SITE, "convention": "{site}-{label}-{suffix}", "size_scale": 1.0},
    "b": {"site": "dcb", "convention": "{label}_{site}_{suffix}", "size_scale": 1.5},
}


def realistic_profile(kind: str, size_scale: float = 1.0) -> dict[str, Any]:
    """A kind's profile in realism mode: wider sizes, overlap with the other kinds."""
    prof = copy.deepcopy(PROFILES[kind])
    lo, hi = prof["vms"]
    prof["vms"] = (max(1, round(lo * 0.5 * size_scale)), max(2, round(hi * 1.3 * size_scale)))
    prof["named"] = NAMED
    prof["prefix_noise"] = 0.3
    prof["prefix_odd"] = tuple(sorted({p + d for p in prof["prefixlen"] for d in (-2, -1, 1, 2)}
                                      & set(range(21, 29))))
    prof["alcor"] = max(prof["alcor"] * 0.5, EXTRAS["alcor"])
    prof["sriov"] = max(prof["sriov"], EXTRAS["sriov"])
    prof["no_port_sec"] = max(prof["no_port_sec"], 0.05)
    prof["dual_stack"] = max(prof["dual_stack"], 0.1)
    prof["mtu"] = tuple(prof["mtu"]) + ((8950,) if 8950 not in prof["mtu"] else (1450,))
    prof["fips"] = (0, max(2, prof["fips"][1]))
    prof["router"] = max(prof["router"], 0.7)
    prof["noise_rules"] = 0.3
    prof.setdefault("vms_per_host", (8, 24))
    if kind == "web":
        prof["lb"] = 0.6
    return prof

# Planted faults: kind -> (table of the row validation must quarantine). Order = planting order.
FAULTS = {
    "superseded": "ports", "ip_outside_subnet": "port_ips", "ip_family_mismatch": "port_ips",
    "subnet_overlap": "subnets", "ref_network_id": "ports", "mac_format": "ports",
    "port_range_invalid": "security_group_rules", "ref_remote_group_id": "security_group_rules",
    "ingest_type_error": "security_group_rules", "ref_binding_host_id": "ports",
}
WARNINGS = {"device_owner_unknown": "ports", "gateway_outside_subnet": "subnets"}

# File names (ingest detects formats by content; names only need to be plausible).
F_NETWORKS, F_SUBNETS = "neutron_networks.json", "neutron_subnets.json"
F_PAGE = "neutron_ports_page{n}.json.gz"
F_UPDATES = "neutron_ports_updates.ndjson.gz"   # sorts after the pages: later in canonical order
F_SGS, F_RULES = "neutron_security_groups.json.gz", "neutron_security_group_rules.json"
F_ROUTERS, F_FIPS = "neutron_routers.json", "neutron_floatingips.json"
F_ALCOR_VPCS, F_ALCOR_SUBNETS, F_ALCOR_PORTS = "alcor_vpcs.json", "alcor_subnets.json", "alcor_ports.json.gz"
F_NODES, F_INVENTORY, F_LABELS = "alcor_nodes_az1.json", "host_inventory.csv", "labels.csv"
GENERATED_PREFIXES = ("neutron_", "osc_", "alcor_", "host_inventory", "labels.csv", "README.md")
UPDATES_SHARE = 0.08       # share of Neutron ports exported by the change feed (NDJSON)
SHOW_PORTS, OSC_PORTS, OSC_NETWORKS, SHOW_ROUTERS = 3, 3, 2, 1


# --------------------------------------------------------------------------------------------
# Address bookkeeping
# --------------------------------------------------------------------------------------------

class Space:
    """An address block carved, in order, into aligned non-overlapping subnets."""

    def __init__(self, block: str):
        self.block = ipaddress.ip_network(block)
        self.cursor = int(self.block.network_address)

    def _start(self, prefixlen: int) -> tuple[int, int]:
        size = 1 << (self.block.max_prefixlen - prefixlen)
        return -(-self.cursor // size) * size, size

    def has_room(self, prefixlen: int, spare: int = 0) -> bool:
        start, size = self._start(prefixlen)
        return start + size + spare - 1 <= int(self.block.broadcast_address)

    def take(self, prefixlen: int, rng: random.Random | None = None):
        start, size = self._start(prefixlen)
        if rng is not None and rng.random() < 0.2 and self.has_room(prefixlen, size):
            start += size  # a gap, as left by a deleted subnet
        if start + size - 1 > int(self.block.broadcast_address):
            raise ValueError(f"{self.block} exhausted")
        self.cursor = start + size
        return self.block.__class__((start, prefixlen))

    def spare_address(self, offset: int) -> str:
        """An address beyond everything carved so far (in no subnet); reserved from now on."""
        a = self.cursor + offset
        if a > int(self.block.broadcast_address):
            raise ValueError(f"{self.block} has no spare address")
        self.cursor = a + 1
        return str(self.block.network_address.__class__(a))


class Pool:
    """Allocation pools of one subnet; hands out addresses like Neutron's IPAM."""

    def __init__(self, cidr, ranges):
        self.cls = type(cidr.network_address)
        self.ranges = [(int(a), int(b)) for a, b in ranges]
        self.used: set[int] = set()
        self.cursor = self.ranges[0][0]

    def capacity(self) -> int:
        return sum(b - a + 1 for a, b in self.ranges) - len(self.used)

    def first(self) -> str:
        a = self.ranges[0][0]
        assert a not in self.used
        self.used.add(a)
        return str(self.cls(a))

    def alloc(self, rng: random.Random, skip: float = 0.06) -> str:
        # Walk forward leaving random holes (ports deleted since), then fall back to any gap.
        for lo, hi in self.ranges:
            a = max(lo, self.cursor)
            while a <= hi:
                if a not in self.used and rng.random() >= skip:
                    self.used.add(a)
                    self.cursor = a + 1
                    return str(self.cls(a))
                a += 1
        for lo, hi in self.ranges:
            for a in range(lo, hi + 1):
                if a not in self.used:
                    self.used.add(a)
                    return str(self.cls(a))
        raise RuntimeError("allocation pool exhausted")


def default_pools(cidr, rng: random.Random | None) -> list[tuple]:
    """Neutron's default pool (gateway excluded), sometimes with reserved or split ranges."""
    n, size = int(cidr.network_address), cidr.num_addresses
    last = n + size - (2 if cidr.version == 4 else 1)
    cls = type(cidr.network_address)
    r = rng.random() if rng is not None else 1.0
    if cidr.version == 4 and size >= 256 and r < 0.05:
        return [(cls(n + 2), cls(n + 99)), (cls(n + 150), cls(last))]
    if cidr.version == 4 and size >= 64 and r < 0.2:
        return [(cls(n + 10), cls(last))]
    return [(cls(n + 2), cls(last))]


def pool_capacity(prefixlen: int) -> int:
    """Addresses the smallest pool default_pools may give an IPv4 subnet of this size."""
    size = 1 << (32 - prefixlen)
    return size - 62 if size >= 256 else size - 12 if size >= 64 else size - 3


# --------------------------------------------------------------------------------------------
# The world being built
# --------------------------------------------------------------------------------------------

@dataclass
class Project:
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

    # ---- resources
    def network(self, p: Project | None, name: str, *, mtu=1450, port_sec=True, cidr=None,
                external=False, since=None) -> dict:
        alcor_any = self.realism and p is not None and p.alcor and cidr is None and not external
        if alcor_any:   # realism: Alcor VPCs are not a kubernetes artefact
            cidr = f"10.{self.rng.randint(0, 255)}.0.0/16"
        c, u = self.stamps(since or (p.created if p else self.t0), 30 if p is None else 200)
        nid = self.uuid()
        proj = p.id if p else self.admin
        net = {
            "id": nid, "name": name, "tenant_id": proj, "admin_state_up": True, "mtu": mtu,
            "status": "ACTIVE", "subnets": [], "shared": False, "availability_zone_hints": [],
            "availability_zones": [], "ipv4_address_scope": None, "ipv6_address_scope": None,
            "router:external": external, "description": "", "port_security_enabled": port_sec,
            "qos_policy_id": None, "l2_adjacency": True, "dns_domain": "", "tags": [],
            "created_at": c, "updated_at": u, "revision_number": self.rng.randint(1, 6),
            "provider:network_type": "flat" if external else "vxlan",
            "provider:physical_network": "physnet-ext" if external else None,
            "provider:segmentation_id": None if external else self.vni(),
            "project_id": proj,
            "_fmt": "alcor" if cidr else "neutron",
        }
        if external:
            net["is_default"] = True
        if cidr:
            # Alcor VPC: the block all its subnets must lie in.
            net.update({"cidr": cidr, "default": False, "segments": None,
                        "vlan_transparent": False, "routers": []})
        if alcor_any:
            net["_space"] = Space(cidr)
        self.networks.append(net)
        self.net_by_id[nid] = net
        if p:
            p.networks.append(net)
        return net

    def subnet(self, p: Project | None, net: dict, cidr, name: str, *, dhcp=True, pools=None,
               gateway=None, insert_after: dict | None = None, dns=None) -> dict:
        rng = self.rng
        c, u = self.stamps(datetime.strptime(net["created_at"], "%Y-%m-%dT%H:%M:%SZ")
                           .replace(tzinfo=timezone.utc), 2)
        v6 = cidr.version == 6
        gw = gateway if gateway is not None else str(cidr.network_address + 1)
        pools = pools if pools is not None else default_pools(cidr, None if v6 else rng)
        proj = net["project_id"]
        sid = self.uuid()
        sn = {
            "id": sid, "name": name, "tenant_id": proj, "network_id": net["id"],
            "ip_version": cidr.version, "subnetpool_id": None, "enable_dhcp": dhcp,
            "ipv6_ra_mode": "dhcpv6-stateful" if v6 else None,
            "ipv6_address_mode": "dhcpv6-stateful" if v6 else None,
            "gateway_ip": gw, "cidr": str(cidr),
            "allocation_pools": [{"start": str(a), "end": str(b)} for a, b in pools],
            "host_routes": [],
            "dns_nameservers": [] if v6 else list(dns if dns is not None else rng.choice(DNS_CHOICES)),
            "description": "", "service_types": [], "tags": [], "created_at": c, "updated_at": u,
            "revision_number": rng.randint(0, 3), "segment_id": None, "project_id": proj,
            "_fmt": net["_fmt"],
        }
        if net["_fmt"] == "alcor":
            sn.update({"gateway_port_id": None, "gateway_port_detail": None,
                       "attached_router_id": None, "dns_publish_fixed_ip": False,
                       "use_default_subnetpool": False})
        if insert_after is not None:
            self.subnets.insert(self.subnets.index(insert_after) + 1, sn)
        else:
            self.subnets.append(sn)
        self.subnet_by_id[sid] = sn
        self.pools[sid] = Pool(cidr, pools)
        net["subnets"].append(sid)
        if v6:
            self.v6_of_net[net["id"]] = sn
        if p:
            p.subnets.append(sn)
        return sn

    def tenant_subnet(self, p: Project, net: dict, prefixlen: int, hint: str = "") -> dict:
        space = p.space if net["_fmt"] == "neutron" else net["_space"]
        return self.subnet(p, net, space.take(prefixlen, self.rng), self.subnet_name(p, hint))

    def subnet6(self, p: Project, net: dict) -> dict:
        return self.subnet(p, net, p.space6.take(64), self.subnet_name(p, "v6"))

    def port(self, proj: str, net: dict, *, owner: str, device_id: str, host: str,
             fixed: list[tuple[dict, str]], sgs: list[str], since: datetime, name: str = "",
             aap=None, vnic: str = "normal", status: str = "ACTIVE", admin: bool = True,
             port_sec: bool | None = None, dns_name: str = "", mac: str | None = None) -> dict:
        if self.realism and name and not name.startswith("octavia-lb-"):
            name = self.rng.choice(GENERIC_PORTS)   # no kind word in port names
        mac = mac or self.mac()
        bound = bool(host)
        if vnic == "direct":
            vif, details = "hw_veb", {"port_filter": False, "vlan": "0", "connectivity": "l2"}
        elif bound:
            vif, details = "ovs", {"port_filter": True, "connectivity": "l2", "ovs_hybrid_plug": False,
                                   "datapath_type": "system", "bridge_name": "br-int"}
        else:
            vif, details = "unbound", {}
        c, u = self.stamps(since, 120)
        p = {
            "id": self.uuid(), "name": name, "network_id": net["id"] if net else self.uuid(),
            "tenant_id": proj, "mac_address": mac, "admin_state_up": admin, "status": status,
            "device_id": device_id, "device_owner": owner,
            "fixed_ips": [{"subnet_id": s["id"], "ip_address": ip} for s, ip in fixed],
            "allowed_address_pairs": [{"ip_address": a, "mac_address": mac} for a in (aap or [])],
            "extra_dhcp_opts": [], "security_groups": list(sgs), "description": "",
            "binding:vnic_type": vnic, "binding:profile": {}, "binding:host_id": host,
            "binding:vif_type": vif, "binding:vif_details": details,
            "port_security_enabled": (net["port_security_enabled"] if net else True)
            if port_sec is None else port_sec,
            "dns_name": dns_name, "qos_policy_id": None, "qos_network_policy_id": None,
            "ip_allocation": "immediate", "resource_request": None, "tags": [],
            "created_at": c, "updated_at": u, "revision_number": self.rng.randint(1, 9),
            "project_id": proj, "_fmt": net["_fmt"] if net else "neutron",
        }
        self.ports.append(p)
        return p

    def alloc(self, sn: dict, skip: float = 0.06) -> str:
        return self.pools[sn["id"]].alloc(self.rng, skip)

    def dhcp_ports(self, p: Project) -> None:
        """One DHCP port per Neutron network, at the start of each DHCP subnet's pool."""
        for net in p.networks:
            if net["_fmt"] != "neutron" or net.get("_dhcp"):
                continue
            net["_dhcp"] = True   # a mixed-use tenant's second workload must not add another
            subs = [self.subnet_by_id[s] for s in net["subnets"] if self.subnet_by_id[s]["enable_dhcp"]]
            if not subs:
                continue
            z = self.rng.choice(p.zones)
            host = self.rng.choice(self.netnodes[z])
            net["availability_zones"] = [f"az{z}"]
            dev = f"dhcp{uuid.uuid5(uuid.NAMESPACE_DNS, host)}-{net['id']}"
            self.port(p.id, net, owner="network:dhcp", device_id=dev, host=host,
                      fixed=[(s, self.pools[s["id"]].first()) for s in subs], sgs=[],
                      since=p.created, port_sec=False)

    def ext_ip(self) -> tuple[dict, str]:
        for sn in self.ext_subnets:
            if self.pools[sn["id"]].capacity() > 0:
                return sn, self.alloc(sn, 0.0)
        block = ipaddress.ip_network(EXT_BLOCKS[len(self.ext_subnets)])
        sn = self.subnet(None, self.ext_net, block, f"public-subnet{len(self.ext_subnets) + 1}",
                         dhcp=False, pools=[(block.network_address + 2, block.broadcast_address - 1)],
                         dns=())
        self.ext_subnets.append(sn)
        return sn, self.alloc(sn, 0.0)

    def router(self, p: Project, gateway: bool) -> dict:
        rng = self.rng
        c, u = self.stamps(p.created, 5)
        z = p.zones[0]
        rid = self.uuid()
        host = rng.choice(self.netnodes[z])
        r = {
            "id": rid, "name": (self.conv(p.label, "router") if p.named else
                                rng.choice(("router1", "router", "gw", "rtr-main", "ext-router"))),
            "tenant_id": p.id, "admin_state_up": True, "status": "ACTIVE",
            "external_gateway_info": None, "description": "", "availability_zones": [f"az{z}"],
            "availability_zone_hints": [], "routes": [], "flavor_id": None, "distributed": False,
            "ha": False, "tags": [], "created_at": c, "updated_at": u,
            "revision_number": rng.randint(3, 12), "project_id": p.id, "_host": host,
        }
        if gateway:
            sn, ip = self.ext_ip()
            r["external_gateway_info"] = {"network_id": self.ext_net["id"], "enable_snat": True,
                                          "external_fixed_ips": [{"subnet_id": sn["id"], "ip_address": ip}]}
            # Neutron creates gateway ports without a project.
            self.port("", self.ext_net, owner="network:router_gateway", device_id=rid, host=host,
                      fixed=[(sn, ip)], sgs=[], since=p.created, port_sec=False)
        self.routers.append(r)
        p.routers.append(r)
        return r

    def attach(self, p: Project, r: dict, sn: dict) -> None:
        """Router interface: a port holding the subnet's gateway address."""
        if sn.get("_attached"):   # a mixed-use tenant's second workload reuses the subnet's router
            return
        sn["_attached"] = True
        net = self.net_by_id[sn["network_id"]]
        port = self.port(p.id, net, owner="network:router_interface", device_id=r["id"],
                         host=r["_host"], fixed=[(sn, sn["gateway_ip"])], sgs=[],
                         since=p.created, port_sec=False)
        if sn["_fmt"] == "alcor":
            sn["attached_router_id"] = r["id"]
            sn["gateway_port_id"] = port["id"]
            sn["gateway_port_detail"] = {"gateway_macAddress": port["mac_address"],
                                         "gateway_port_id": port["id"]}
            if r["id"] not in net["routers"]:
                net["routers"].append(r["id"])

    def fip(self, p: Project, router: dict | None, port: dict | None) -> dict:
        sn, ip = self.ext_ip()
        fid = self.uuid()
        c, u = self.stamps(p.created, 200)
        fixed = None
        if port is not None:
            fixed = next(f["ip_address"] for f in port["fixed_ips"] if ":" not in f["ip_address"])
        f = {
            "id": fid, "tenant_id": p.id, "floating_network_id": self.ext_net["id"],
            "router_id": router["id"] if port is not None else None, "fixed_ip_address": fixed,
            "floating_ip_address": ip, "port_id": port["id"] if port is not None else None,
            "status": "ACTIVE" if port is not None else "DOWN", "description": "",
            "dns_domain": "", "dns_name": "", "port_forwardings": [], "qos_policy_id": None,
            "port_details": None if port is None else {
                "name": port["name"], "network_id": port["network_id"],
                "mac_address": port["mac_address"], "admin_state_up": port["admin_state_up"],
                "status": port["status"], "device_id": port["device_id"],
                "device_owner": port["device_owner"]},
            "tags": [], "created_at": c, "updated_at": u, "revision_number": self.rng.randint(0, 4),
            "project_id": p.id,
        }
        self.fips.append(f)
        self.port("", self.ext_net, owner="network:floatingip", device_id=fid, host="",
                  fixed=[(sn, ip)], sgs=[], since=p.created, status="N/A", port_sec=False)
        return f

    def vm_port(self, p: Project, net: dict, subs: list[dict], host: str, sgs: list[str], *,
                vm: str | None = None, name: str = "", dns: str = "", aap=None, vnic="normal") -> dict:
        """A VM NIC: bound to a compute host, owner compute:<zone>, one address per subnet."""
        if p.sriov and vnic == "normal":
            vnic = "direct"
        fixed = [(s, self.alloc(s)) for s in subs]
        v6 = self.v6_of_net.get(net["id"])
        if p.dual and v6 is not None and v6 not in subs:
            fixed.append((v6, self.alloc(v6)))
        ps = net["port_security_enabled"] and vnic != "direct"
        port = self.port(p.id, net, owner=f"compute:az{self.zone_of(host)}", device_id=vm or self.uuid(),
                         host=host, fixed=fixed, sgs=sgs if ps else [], since=p.created, name=name,
                         aap=aap, vnic=vnic, status="ACTIVE" if self.chance(0.95) else "DOWN",
                         port_sec=ps, dns_name=dns)
        p.vm_ports.append(port)
        return port

    # ---- security groups
    def group(self, p: Project, name: str, desc: str = "", default: bool = False) -> dict:
        c, u = self.stamps(p.created, 3 if default else 60)
        sg = {"id": self.uuid(), "name": name, "tenant_id": p.id, "description": desc,
              "security_group_rules": [], "tags": [], "created_at": c, "updated_at": u,
              "revision_number": 1, "stateful": True, "shared": False, "project_id": p.id}
        self.sgs.append(sg)
        return sg

    def rule(self, p: Project, sg: dict, direction: str, ethertype: str, proto, lo, hi,
             prefix=None, remote_group=None, *, default=False, extra=False) -> dict | None:
        key = (direction, ethertype, proto, lo, hi, prefix, remote_group)
        for r in sg["security_group_rules"] + [x for x in self.extra_rules if x["security_group_id"] == sg["id"]]:
            if (r["direction"], r["ethertype"], r["protocol"], r["port_range_min"],
                    r["port_range_max"], r["remote_ip_prefix"], r["remote_group_id"]) == key:
                return None  # Neutron refuses duplicate rules
        c, u = self.stamps(datetime.strptime(sg["created_at"], "%Y-%m-%dT%H:%M:%SZ")
                           .replace(tzinfo=timezone.utc), 0 if default else 90)
        r = {"id": self.uuid(), "tenant_id": p.id, "security_group_id": sg["id"],
             "ethertype": ethertype, "direction": direction, "protocol": proto,
             "port_range_min": lo, "port_range_max": hi, "remote_ip_prefix": prefix,
             "remote_address_group_id": None, "normalized_cidr": prefix,
             "remote_group_id": remote_group, "standard_attr_id": self.next_std_attr(),
             "description": "", "tags": [], "created_at": c, "updated_at": u,
             "revision_number": 0, "project_id": p.id, "belongs_to_default_sg": default}
        (self.extra_rules if extra else sg["security_group_rules"]).append(r)
        return r

    def default_group(self, p: Project) -> dict:
        if "default" in p.groups:   # one per project, also for a mixed-use tenant
            return p.groups["default"]
        sg = self.group(p, "default", "Default security group", default=True)
        for eth in ("IPv4", "IPv6"):
            self.rule(p, sg, "egress", eth, None, None, None, default=True)
            self.rule(p, sg, "ingress", eth, None, None, None, remote_group=sg["id"], default=True)
        p.groups["default"] = sg
        return sg

    def groups_from(self, p: Project, templates: dict[str, list], keep: float = 0.9) -> None:
        """Create the groups of a template, then their rules (so @group: refs resolve)."""
        style = self.rng.choice(("{g}", "{g}-sg", "sg-{g}", f"{self.site}-{{g}}" if p.named else "{g}"))
        created = {}
        for g in templates:
            if g in p.groups:
                continue
            shown = self.rng.choice(GENERIC_GROUPS) if self.realism else g   # shared templates
            desc = self.rng.choice(("", f"{shown} tier", f"rules for {shown}"))
            created[g] = p.groups[g] = self.group(p, style.format(g=shown), desc)
        for g, rules in templates.items():
            if g not in created:
                continue
            for i, t in enumerate(rules):
                if i == 0 or self.chance(keep):
                    self.template_rule(p, created[g], t)

    def template_rule(self, p: Project, sg: dict, t: tuple) -> None:
        proto, lo, hi, remote = t
        ports = [(lo, hi)] if lo != "@db" else [(x, x) for x in p.db_ports]
        for lo_, hi_ in ports:
            for eth, prefix, group in self.remotes(p, sg, remote):
                self.rule(p, sg, "ingress", eth, proto, lo_, hi_, prefix, group)

    def remotes(self, p: Project, sg: dict, remote: str) -> list[tuple]:
        if remote == "@world":
            return [("IPv4", "0.0.0.0/0", None)] + ([("IPv6", "::/0", None)] if p.dual else [])
        if remote == "@mgmt":
            return [("IPv4", p.mgmt, None)]
        if remote == "@self":
            return [("IPv4", None, sg["id"])]
        if remote == "@subnet":
            v4 = [s for s in p.subnets if s["ip_version"] == 4]
            return [("IPv4", v4[0]["cidr"], None)] if v4 else []
        if remote == "@app":
            return [("IPv4", p.app_prefix, None)]
        if remote.startswith("@group:"):
            g = p.groups.get(remote.split(":", 1)[1])
            return [("IPv4", None, g["id"])] if g else []
        raise ValueError(remote)

    def finish_groups(self, p: Project, prof: dict) -> None:
        """Noise rules, a borrowed group of another kind, and rules moved to the rules file."""
        rng = self.rng
        own = [g for g in p.groups.values() if g["name"] != "default"]
        if own:
            for _ in range(4):
                if self.chance(prof["noise_rules"]):
                    self.template_rule(p, rng.choice(own), rng.choice(NOISE_RULES))
        if self.chance(BORROW_GROUP):
            other = rng.choice([k for k in KINDS if k != p.kind])
            gname = rng.choice(sorted(PROFILES[other]["groups"]))
            if not p.db_ports:
                p.db_ports = [rng.choice(PROFILES["database"]["engines"])[1]]
            self.groups_from(p, {gname: PROFILES[other]["groups"][gname]})
        for g in p.groups.values():
            if g["name"] != "default" and len(g["security_group_rules"]) > 2 and self.chance(EXTRA_RULES_FILE):
                for _ in range(rng.randint(1, 2)):
                    self.extra_rules.append(g["security_group_rules"].pop())

    def vm_groups(self, p: Project, *names: str) -> list[str]:
        ids = [p.groups[n]["id"] for n in names if n in p.groups]
        if not ids or self.chance(DEFAULT_SG_ON_PORT):
            ids.insert(0, p.groups["default"]["id"])
        return ids

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


# --------------------------------------------------------------------------------------------
# Per-kind builders
# --------------------------------------------------------------------------------------------

def build_web(w: World, p: Project, prof: dict) -> None:
    rng = w.rng
    layout = rng.choices([x for x, _ in prof["layouts"]], [q for _, q in prof["layouts"]])[0]
    tiers = ("web", "app") if layout == "two_tier" else ("web", "app", "db")
    total = w.between(prof["vms"])
    db_n = rng.randint(1, 4) if "db" in tiers else 0
    web_n = max(2, round((total - db_n) * rng.uniform(0.4, 0.65)))
    counts = {"web": web_n, "app": max(1, total - db_n - web_n), "db": db_n}
    subs, nets = {}, {}
    shared = None
    for t in tiers:
        if layout == "net_per_tier" or shared is None:
            shared = w.network(p, w.net_name(p, t), mtu=rng.choice(prof["mtu"]))
            if p.dual:
                w.subnet6(p, shared)
        nets[t] = shared
        subs[t] = w.tenant_subnet(p, shared, w.prefix(prof, counts[t] + 4), t)
    w.dhcp_ports(p)
    w.default_group(p)
    w.groups_from(p, {t: prof["groups"][t] for t in tiers})
    router = w.router(p, gateway=True)
    for sn in p.subnets:
        w.attach(p, router, sn)
    hosts = w.place(p, sum(counts[t] for t in tiers), prof["placement"])
    i = 0
    for t in tiers:
        for k in range(counts[t]):
            dns = f"{t}-{k + 1:02d}" if rng.random() < 0.6 else ""
            w.vm_port(p, nets[t], [subs[t]], hosts[i], w.vm_groups(p, t), dns=dns,
                      name=rng.choice(("", "", f"{t}{k + 1}-eth0")))
            i += 1
    if w.chance(prof["lb"]):
        for _ in range(w.between(prof["lb_vips"])):
            lb = w.uuid()
            vip = w.port(p.id, nets["web"], owner="Octavia", device_id=f"lb-{lb}", host="",
                         fixed=[(subs["web"], w.alloc(subs["web"]))], sgs=[], since=p.created,
                         name=f"octavia-lb-{lb}", status="DOWN", admin=False)
            w.fip(p, router, vip)
    web_vms = [x for x in p.vm_ports if x["fixed_ips"][0]["subnet_id"] == subs["web"]["id"]]
    for port in rng.sample(web_vms, min(len(web_vms), w.between(prof["fips"]))):
        w.fip(p, router, port)


def build_hpc(w: World, p: Project, prof: dict) -> None:
    rng = w.rng
    n = w.between(prof["vms"])
    mtu = rng.choice(prof["mtu"])
    port_sec = not w.chance(prof["no_port_sec"])
    sriov = w.chance(prof["sriov"])
    nets = [w.network(p, w.net_name(p, "compute"), mtu=mtu, port_sec=port_sec)]
    if w.chance(prof["second"]):
        nets.append(w.network(p, w.net_name(p, "storage"), mtu=mtu, port_sec=port_sec))
    subs = [w.tenant_subnet(p, net, w.prefix(prof, n + 4), hint) for net, hint in zip(nets, ("compute", "storage"))]
    w.dhcp_ports(p)
    w.default_group(p)
    w.groups_from(p, prof["groups"])
    if w.chance(prof["router"]):
        r = w.router(p, gateway=True)
        w.attach(p, r, subs[0])   # the storage network stays isolated
    hosts = w.place(p, n, prof["placement"], prof["vms_per_host"])
    for i in range(n):
        vm = w.uuid()
        for j, (net, sn) in enumerate(zip(nets, subs)):
            w.vm_port(p, net, [sn], hosts[i], w.vm_groups(p, "cluster"), vm=vm,
                      dns=f"node{i + 1:03d}" if j == 0 and rng.random() < 0.5 else "",
                      vnic="direct" if sriov and j == 0 else "normal")


def build_bigdata(w: World, p: Project, prof: dict) -> None:
    rng = w.rng
    n = w.between(prof["vms"])
    mtu = rng.choice(prof["mtu"])
    nets = [w.network(p, w.net_name(p, "cluster"), mtu=mtu)]
    if w.chance(prof["second"]):
        nets.append(w.network(p, w.net_name(p, "data"), mtu=mtu))
    subs = [w.tenant_subnet(p, net, w.prefix(prof, n + 4), hint) for net, hint in zip(nets, ("cluster", "data"))]
    w.dhcp_ports(p)
    w.default_group(p)
    w.groups_from(p, {"hadoop": prof["groups"]["hadoop"]})
    if rng.random() < 0.5:
        w.groups_from(p, {"spark": prof["groups"]["spark"]})
    r = w.router(p, gateway=True)
    for sn in subs:
        w.attach(p, r, sn)
    hosts = w.place(p, n, prof["placement"])
    masters = rng.randint(1, 3)
    for i in range(n):
        vm = w.uuid()
        role = "master" if i < masters else "worker"
        for net, sn in zip(nets, subs):
            w.vm_port(p, net, [sn], hosts[i], w.vm_groups(p, "hadoop", "spark"), vm=vm,
                      dns=f"{role}-{i + 1:03d}" if rng.random() < 0.5 else "")
    first = [x for x in p.vm_ports if x["network_id"] == nets[0]["id"]]
    for port in first[:w.between(prof["fips"])]:   # the edge node(s)
        w.fip(p, r, port)


def build_kubernetes(w: World, p: Project, prof: dict) -> None:
    rng = w.rng
    masters = 3 if rng.random() < 0.8 else 1
    workers = max(1, w.between(prof["vms"]) - masters)
    n_sub = 2 if w.chance(prof["second"]) else 1
    net_kw = {"mtu": rng.choice(prof["mtu"])}
    if p.alcor:
        vpc = f"10.{rng.randint(0, 255)}.0.0/16" if rng.random() < 0.7 else f"172.{rng.randint(16, 31)}.0.0/16"
        net_kw["cidr"] = vpc
    net = w.network(p, w.net_name(p, "nodes"), **net_kw)
    if p.alcor:
        net["_space"] = Space(net["cidr"])
    if p.dual:
        w.subnet6(p, net)
    per = w.split(masters + workers, n_sub)
    subs = [w.tenant_subnet(p, net, w.prefix(prof, max(per) + 6), "nodes" if i == 0 else f"nodes{i + 1}")
            for i in range(n_sub)]
    w.dhcp_ports(p)
    w.default_group(p)
    w.groups_from(p, prof["groups"])
    r = w.router(p, gateway=True)
    for sn in p.subnets:
        w.attach(p, r, sn)
    pod = rng.choice(POD_CIDRS)
    vip = None
    if rng.random() < 0.6:  # keepalived API VIP: a reserved unbound port
        vip = w.port(p.id, net, owner="", device_id="", host="", fixed=[(subs[0], w.alloc(subs[0]))],
                     sgs=[p.groups["k8s-master"]["id"]], since=p.created, name="k8s-api-vip", status="DOWN")
    hosts = w.place(p, masters + workers, prof["placement"])
    sub_of = [s for s, k in zip(subs, per) for _ in range(k)]
    first_master = None
    for i in range(masters + workers):
        master = i < masters
        aap = [pod] + ([vip["fixed_ips"][0]["ip_address"]] if vip and master else [])
        if w.realism and w.chance(0.4):   # not every cluster routes pods through the port
            aap = []
        dns = f"master-{i + 1}" if master else f"worker-{i - masters + 1}"
        port = w.vm_port(p, net, [sub_of[i]], hosts[i],
                         w.vm_groups(p, "k8s-master" if master else "k8s-worker"), aap=aap,
                         dns=dns if rng.random() < 0.7 else "")
        first_master = first_master or port
    w.fip(p, r, vip or first_master)
    if w.between(prof["fips"]) > 1 and len(p.vm_ports) > masters:
        w.fip(p, r, rng.choice(p.vm_ports[masters:]))


def build_database(w: World, p: Project, prof: dict) -> None:
    rng = w.rng
    n = w.between(prof["vms"])
    net = w.network(p, w.net_name(p, "db"), mtu=rng.choice(prof["mtu"]))
    n_sub = 2 if w.chance(prof["second"]) else 1
    subs = [w.tenant_subnet(p, net, w.prefix(prof, n + 4), "db" if i == 0 else "replica") for i in range(n_sub)]
    w.dhcp_ports(p)
    w.default_group(p)
    w.groups_from(p, prof["groups"])
    if w.chance(prof["router"]):
        r = w.router(p, gateway=True)
        for sn in subs:
            w.attach(p, r, sn)
    hosts = w.place(p, n, prof["placement"])  # anti-affinity: distinct hosts
    for i in range(n):
        w.vm_port(p, net, [subs[i % n_sub]], hosts[i], w.vm_groups(p, "db"),
                  dns=f"db-{i + 1}" if rng.random() < 0.5 else "")


def build_devtest(w: World, p: Project, prof: dict) -> None:
    rng = w.rng
    n = w.between(prof["vms"])
    nets = [w.network(p, w.net_name(p), mtu=rng.choice(prof["mtu"]))
            for _ in range(2 if w.chance(prof["second"]) else 1)]
    for net in nets:
        if p.dual:
            w.subnet6(p, net)
    subs = [w.tenant_subnet(p, net, w.prefix(prof, n + 4)) for net in nets]
    w.dhcp_ports(p)
    w.default_group(p)
    w.groups_from(p, prof["groups"], keep=0.5)
    r = None
    if w.chance(prof["router"]):
        r = w.router(p, gateway=True)
        for sn in p.subnets:
            w.attach(p, r, sn)
    hosts = w.place(p, n, prof["placement"])
    for i in range(n):
        k = i % len(nets)
        w.vm_port(p, nets[k], [subs[k]], hosts[i], w.vm_groups(p, "dev"),
                  name=rng.choice(("", f"{rng.choice(DEVTEST_WORDS)}-port")),
                  dns=f"{rng.choice(DEVTEST_WORDS)}{rng.randint(1, 99)}" if rng.random() < 0.4 else "")
    if r is not None:
        for port in rng.sample(p.vm_ports, min(len(p.vm_ports), w.between(prof["fips"]))):
            w.fip(p, r, port)


BUILDERS = {"web": build_web, "hpc": build_hpc, "bigdata": build_bigdata,
            "kubernetes": build_kubernetes, "database": build_database, "devtest": build_devtest}


# --------------------------------------------------------------------------------------------
# Building the clean world
# --------------------------------------------------------------------------------------------

def kind_counts(n: int) -> dict[str, int]:
    """Projects per kind by largest remainder (every kind present when n >= 6)."""
    raw = {k: n * PROFILES[k]["share"] / sum(PROFILES[x]["share"] for x in KINDS) for k in KINDS}
    counts = {k: math.floor(v) for k, v in raw.items()}
    for k in sorted(KINDS, key=lambda k: (-(raw[k] - counts[k]), KINDS.index(k)))[: n - sum(counts.values())]:
        counts[k] += 1
    if n >= len(KINDS):
        for k in KINDS:
            if counts[k] == 0:
                counts[max(KINDS, key=lambda x: counts[x])] -= 1
                counts[k] = 1
    return counts


def build_projects(w: World) -> None:
    rng = w.rng
    n = int(w.cfg["projects"])
    kinds = [k for k, c in kind_counts(n).items() for _ in range(c)]
    rng.shuffle(kinds)
    zones = sorted(w.compute)
    profiles = ({k: realistic_profile(k, w.size_scale) for k in KINDS} if w.realism else PROFILES)
    for i, kind in enumerate(kinds):
        prof = profiles[kind]
        p = Project(id=w.hexid(), kind=kind, index=i,
                    created=w.t0 + timedelta(days=rng.randint(0, 540), seconds=rng.randint(0, 86399)))
        p.named = rng.random() < prof["named"]
        p.label = kind
        p.name_style = rng.choice(("sn", "net", "subnet", "hint"))
        p.alcor = rng.random() < prof["alcor"]
        p.dual = rng.random() < prof["dual_stack"] and not p.alcor  # a v6 /64 cannot sit in a v4 VPC
        z = rng.choice(zones)
        p.zones = ([z] + [x for x in zones if x != z]) if prof["placement"] == "spread" and (
            kind != "database" or rng.random() < 0.5) else [z]
        if w.realism:   # any kind may use the 192.168 default range; room for a second workload
            p.space = Space("192.168.0.0/16" if rng.random() < 0.2 else f"10.{rng.randint(0, 249)}.0.0/16")
            p.sriov = kind != "hpc" and rng.random() < prof["sriov"]
        else:
            p.space = Space(f"192.168.{4 * rng.randint(0, 63)}.0/22" if kind == "devtest" and rng.random() < 0.7
                            else f"10.{rng.randint(0, 249)}.0.0/16")
        p.space6 = Space(f"2001:db8:{rng.getrandbits(16):x}::/48")
        p.mgmt = rng.choice(MGMT_PREFIXES)
        p.app_prefix = rng.choice((f"10.{rng.randint(0, 249)}.0.0/16", "172.16.0.0/12",
                                   f"10.{rng.randint(0, 249)}.{rng.randint(0, 255)}.0/24"))
        if kind == "database":
            engines = rng.sample(prof["engines"], 2 if rng.random() < 0.2 else 1)
            p.db_ports = [port for _, port in engines]
        w.projects.append(p)

    # Naming noise: a few conventionally named projects carry the label of another kind.
    named = [p for p in w.projects if p.named]
    misnamed = round(len(named) * MISNAMED) if w.realism else round(n * MISLABELED)
    for p in rng.sample(named, min(len(named), max(1, misnamed))):
        p.label = CONFUSABLE[p.kind]
    # Ground truth for ~60%, stratified per kind, including at least one mislabeled project.
    for k in KINDS:
        ps = [p for p in w.projects if p.kind == k]
        for p in rng.sample(ps, round(len(ps) * float(w.cfg.get("labelled", LABELLED)))):
            p.labelled = True
    wrong = [p for p in w.projects if p.label != p.kind]
    if wrong and not any(p.labelled for p in wrong):
        swap = next(p for p in w.projects if p.labelled and p.kind == wrong[0].kind and p is not wrong[0])
        swap.labelled, wrong[0].labelled = False, True

    if w.realism:
        # Label noise: a stated share of labels.csv rows name another kind.
        listed = [p for p in w.projects if p.labelled]
        for p in rng.sample(listed, round(len(listed) * LABEL_NOISE)):
            p.listed = rng.choice([k for k in KINDS if k != p.kind])

    for p in w.projects:
        prof = profiles[p.kind]
        if w.realism and rng.random() < OTHER_PLACEMENT:
            prof = {**prof, "placement": rng.choice(("spread", "zone", "packed", "random"))}
        BUILDERS[p.kind](w, p, prof)
        if w.realism:
            realistic_extras(w, p, profiles)
        w.finish_groups(p, prof)
        if w.chance(UNBOUND_PORT):   # a spare port created ahead of a VM
            v4 = [s for s in p.subnets if s["ip_version"] == 4]
            sn = rng.choice(v4)
            net = w.net_by_id[sn["network_id"]]
            w.port(p.id, net, owner="", device_id="", host="", fixed=[(sn, w.alloc(sn))],
                   sgs=[p.groups["default"]["id"]], since=p.created, name=rng.choice(("", "spare", "reserved")),
                   status="DOWN")


def realistic_extras(w: World, p: Project, profiles: dict[str, dict]) -> None:
    """Realism mode: a second, smaller workload of another kind (mixed-use tenant), and
    artefacts no longer exclusive to one kind (Octavia VIP, keepalived address pairs)."""
    rng = w.rng
    if rng.random() < MIXED_USE:
        other = rng.choice([k for k in KINDS if k != p.kind])
        prof = dict(profiles[other])
        prof["vms"] = (1, max(2, prof["vms"][1] // 5))
        if not p.db_ports:
            p.db_ports = [rng.choice(PROFILES["database"]["engines"])[1]]
        BUILDERS[other](w, p, prof)
    v4 = [s for s in p.subnets if s["ip_version"] == 4 and w.pools[s["id"]].capacity() > 2]
    if p.kind != "web" and v4 and rng.random() < EXTRAS["octavia"]:
        sn = v4[0]
        lb = w.uuid()
        vip = w.port(p.id, w.net_by_id[sn["network_id"]], owner="Octavia", device_id=f"lb-{lb}",
                     host="", fixed=[(sn, w.alloc(sn))], sgs=[], since=p.created,
                     name=f"octavia-lb-{lb}", status="DOWN", admin=False)
        if p.routers and rng.random() < 0.5:
            w.fip(p, p.routers[0], vip)
    pairs = [x for x in p.vm_ports if not x["allowed_address_pairs"] and x["port_security_enabled"]]
    if len(pairs) >= 2 and rng.random() < EXTRAS["keepalived"]:
        first = pairs[0]
        sn = w.subnet_by_id[first["fixed_ips"][0]["subnet_id"]]
        if w.pools[sn["id"]].capacity() > 1:
            vip_ip = w.alloc(sn)
            for x in [y for y in pairs if y["fixed_ips"][0]["subnet_id"] == sn["id"]][:2]:
                x["allowed_address_pairs"] = [{"ip_address": vip_ip, "mac_address": x["mac_address"]}]


def build_world(cfg: dict) -> World:
    w = World(cfg)
    w.build_hosts()
    w.admin = w.hexid()
    w.ext_net = w.network(None, "public", mtu=1500, external=True)
    w.ext_net["availability_zones"] = [f"az{z}" for z in sorted(w.compute)]
    build_projects(w)
    return w


# --------------------------------------------------------------------------------------------
# Planted faults
# --------------------------------------------------------------------------------------------

def _stray_vm(w: World, p: Project, with_ip: bool = True) -> dict:
    """A fresh, clean VM port of p on a v4 subnet (to be corrupted in exactly one way)."""
    rng = w.rng
    v4 = [s for s in p.subnets if s["ip_version"] == 4 and w.pools[s["id"]].capacity() > 2]
    sn = rng.choice(v4)
    net = w.net_by_id[sn["network_id"]]
    host = rng.choice([h for z in p.zones for h in w.zone_hosts(z)])
    ps = net["port_security_enabled"]
    port = w.port(p.id, net, owner=f"compute:az{w.zone_of(host)}", device_id=w.uuid(), host=host,
                  fixed=[(sn, w.alloc(sn))] if with_ip else [],
                  sgs=[p.groups["default"]["id"]] if ps else [], since=p.created, port_sec=ps)
    return port


def plant_faults(w: World) -> None:
    """Plant faults_per_kind faults of each kind; record which row validation must catch."""
    rng = w.rng
    per = int(w.cfg["faults_per_kind"])
    neutron_projects = [p for p in w.projects if not p.alcor]
    fip_ports = {f["port_id"] for f in w.fips if f["port_id"]}   # membership only
    big_subnet_projects = [p for p in neutron_projects
                           if any(s["ip_version"] == 4 and int(s["cidr"].split("/")[1]) <= 26 for s in p.subnets)]
    stray_n = 0

    def stray_file(port: dict) -> None:
        nonlocal stray_n
        if port["_fmt"] == "neutron":
            port["_file"] = F_UPDATES if stray_n % 3 == 1 else None
            stray_n += 1

    def add(obj, check, note, **kw):
        w.faults.append({"obj": obj, "check": check, "table": {**FAULTS, **WARNINGS}[check],
                         "note": note, **kw})

    used_projects: list[str] = []

    def pick(cands: list[Project]) -> Project:
        # Spread faults over projects (no project gets two while others have none).
        fresh = [p for p in cands if p.id not in used_projects] or cands
        p = rng.choice(fresh)
        used_projects.append(p.id)
        return p

    for i in range(per):
        # superseded: a stale copy of a paged port in the change feed (a later file), one
        # revision older than the paged copy, which validation keeps.
        cands = [x for x in w.ports if x["_fmt"] == "neutron" and x.get("_file") is None
                 and x["device_owner"].startswith("compute:") and not x.get("_fault")
                 and x["id"] not in fip_ports and len(x["fixed_ips"]) == 1]
        orig = rng.choice(cands)
        dup = copy.deepcopy(orig)
        sn = w.subnet_by_id[orig["fixed_ips"][0]["subnet_id"]]
        dup["mac_address"] = w.mac()
        dup["fixed_ips"] = [{"subnet_id": sn["id"], "ip_address": w.alloc(sn)}]
        for a in dup["allowed_address_pairs"]:
            a["mac_address"] = dup["mac_address"]
        dup["revision_number"] = orig["revision_number"] - 1
        dup["_file"] = F_UPDATES
        dup["_fault"] = True
        w.ports.append(dup)
        add(dup, "superseded", "port id already exported in the paged list; stale copy in the "
            "change feed (different MAC and address)", original=orig)

        p = pick([q for q in neutron_projects if q.space.has_room(24, 64)])
        port = _stray_vm(w, p)
        sn = w.subnet_by_id[port["fixed_ips"][0]["subnet_id"]]
        bad = p.space.spare_address(17 + i)   # beyond every subnet of the project
        port["fixed_ips"][0]["ip_address"] = bad
        stray_file(port)
        add(port, "ip_outside_subnet", f"fixed IP {bad} is not inside subnet {sn['cidr']}", ip_address=bad)

        p = pick(neutron_projects)
        port = _stray_vm(w, p)
        sn = w.subnet_by_id[port["fixed_ips"][0]["subnet_id"]]
        bad = f"fd{rng.getrandbits(8):02x}:{rng.getrandbits(16):x}:{rng.getrandbits(16):x}::{rng.randint(16, 4095):x}"
        port["fixed_ips"][0]["ip_address"] = bad
        stray_file(port)
        add(port, "ip_family_mismatch", f"IPv6 address {bad} in IPv4 subnet {sn['cidr']}", ip_address=bad)

        # subnet_overlap: a sub-block of an existing subnet, listed after it, with no ports.
        p = pick(big_subnet_projects)
        sn = rng.choice([s for s in p.subnets if s["ip_version"] == 4 and int(s["cidr"].split("/")[1]) <= 26
                         and not s.get("_fault")])
        base = ipaddress.ip_network(sn["cidr"])
        sub = list(base.subnets(prefixlen_diff=2))[-1]
        bad_sn = w.subnet(p, w.net_by_id[sn["network_id"]], sub, w.subnet_name(p), dhcp=False,
                          pools=[(sub.network_address + 2, sub.broadcast_address - 1)], insert_after=sn)
        bad_sn["_fault"] = True
        add(bad_sn, "subnet_overlap", f"{sub} overlaps {sn['cidr']} of the same network", original=sn)

        p = pick(neutron_projects)
        port = _stray_vm(w, p, with_ip=False)
        port["network_id"] = w.uuid()
        port["status"] = "DOWN"
        stray_file(port)
        add(port, "ref_network_id", "port of a network that no longer exists (no fixed IPs)")

        p = pick(w.projects)
        port = _stray_vm(w, p)
        if i % 2 == 0:   # an octet lost in a copy-paste
            bad = "fa:16:3e:%02x:%02x" % (rng.getrandbits(8), rng.getrandbits(8))
        else:            # a non-hex digit
            bad = "fa:16:3e:g%x:%02x:%02x" % (rng.getrandbits(4), rng.getrandbits(8), rng.getrandbits(8))
        port["mac_address"] = bad
        stray_file(port)
        add(port, "mac_format", f"malformed MAC {bad!r}")

        # Rule faults live in the standalone rules file (top-level objects: unambiguous position).
        p = pick([q for q in w.projects if len(q.groups) > 1])
        sg = rng.choice([g for g in p.groups.values() if g["name"] != "default"])
        r = w.rule(p, sg, "ingress", "IPv4", "tcp", -1, -1 if i % 2 == 0 else 65535, p.mgmt, extra=True)
        r["_fault"] = True
        add(r, "port_range_invalid", f"negative port_range_min {r['port_range_min']} (AWS-style 'all ports')")

        p = pick([q for q in w.projects if len(q.groups) > 1])
        sg = rng.choice([g for g in p.groups.values() if g["name"] != "default"])
        r = w.rule(p, sg, "ingress", "IPv4", "tcp", 5432 + i, 5432 + i, None, w.uuid(), extra=True)
        r["_fault"] = True
        add(r, "ref_remote_group_id", "remote_group_id names a deleted security group")

        p = pick([q for q in w.projects if len(q.groups) > 1])
        sg = rng.choice([g for g in p.groups.values() if g["name"] != "default"])
        word = ("ssh", "https")[i % 2]
        r = w.rule(p, sg, "ingress", "IPv4", "tcp", 2200 + i, 2200 + i, p.mgmt, extra=True)
        r["port_range_min"] = r["port_range_max"] = word
        r["_fault"] = True
        add(r, "ingest_type_error", f"port_range_min/max given as service name {word!r}")

        alcor = [q for q in w.projects if q.alcor]
        p = pick(alcor if i % 2 == 1 and alcor else neutron_projects)   # also exercise Alcor files
        port = _stray_vm(w, p)
        z = w.zone_of(port["binding:host_id"])
        racks, per_rack = int(w.cfg["racks_per_zone"]), int(w.cfg["hosts_per_rack"])
        ghost = (f"az{z}-r{racks + 1:02d}-cn{rng.randint(1, per_rack):02d}" if i % 2 == 0   # no such rack
                 else f"az{z}-r{rng.randint(1, racks):02d}-cn{per_rack + 3:02d}")         # decommissioned
        port["binding:host_id"] = ghost
        stray_file(port)
        add(port, "ref_binding_host_id", f"bound to {ghost!r}, a host missing from the inventory")

        # gateway_outside_subnet: a new, port-less subnet whose gateway was copy-pasted. Neutron
        # accepts an off-subnet gateway of the same family, so this is a warning, not a fault.
        p = pick([q for q in neutron_projects if q.space.has_room(26, 256)])
        net = rng.choice([n for n in p.networks if any(w.subnet_by_id[s]["ip_version"] == 4 for s in n["subnets"])])
        first = next(w.subnet_by_id[s] for s in net["subnets"] if w.subnet_by_id[s]["ip_version"] == 4)
        pl = int(first["cidr"].split("/")[1])
        block = p.space.take(max(pl, 26))
        bad_sn = w.subnet(p, net, block, w.subnet_name(p), dhcp=False, gateway=first["gateway_ip"],
                          pools=[(block.network_address + 2, block.broadcast_address - 1)])
        bad_sn["_fault"] = True
        add(bad_sn, "gateway_outside_subnet", f"gateway {first['gateway_ip']} (from {first['cidr']}) "
            f"is outside {block} (warning only: Neutron accepts it)", warning=True)

        p = pick(w.projects)
        port = _stray_vm(w, p)
        port["device_owner"] = ("appliance:fw", "appliance:ids")[i % 2]
        stray_file(port)
        add(port, "device_owner_unknown", f"vendor appliance port, device_owner "
            f"{port['device_owner']!r} (warning only)", warning=True)

    for f in w.faults:
        f["obj"]["_fault"] = True


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

def _strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if not k.startswith("_")}


def _sg_wire(sg: dict) -> dict:
    out = _strip(sg)
    out["security_group_rules"] = [_strip(r) for r in sg["security_group_rules"]]
    return out


def _osc_port(d: dict) -> dict:
    """`openstack port show -f json`: renamed keys, no tenant_id, sorted keys."""
    ren = {"binding:host_id": "binding_host_id", "binding:vif_type": "binding_vif_type",
           "binding:vnic_type": "binding_vnic_type", "binding:profile": "binding_profile",
           "binding:vif_details": "binding_vif_details", "admin_state_up": "is_admin_state_up",
           "port_security_enabled": "is_port_security_enabled"}
    out = {ren.get(k, k): v for k, v in _strip(d).items() if k != "tenant_id"}
    out.update({"data_plane_status": None, "propagate_uplink_status": None,
                "numa_affinity_policy": None, "trunk_details": None, "location": None})
    return dict(sorted(out.items()))


def _osc_network(d: dict) -> dict:
    ren = {"router:external": "is_router_external", "port_security_enabled": "is_port_security_enabled",
           "admin_state_up": "is_admin_state_up", "provider:network_type": "provider_network_type",
           "provider:segmentation_id": "provider_segmentation_id",
           "provider:physical_network": "provider_physical_network"}
    out = {ren.get(k, k): v for k, v in _strip(d).items() if k != "tenant_id"}
    out.update({"is_default": None, "is_vlan_transparent": None, "location": None})
    return dict(sorted(out.items()))


def _alcor_port(d: dict) -> dict:
    out = {}
    for k, v in _strip(d).items():
        out[{"created_at": "create_at", "updated_at": "update_at"}.get(k, k)] = v
    short = d["id"][:11]
    out.update({"veth_name": f"veth{short}", "fast_path": True,
                "network_ns": f"/var/run/netns/{short}" if d["binding:host_id"] else "",
                "mac_learning_enabled": False, "uplink_status_propagation": False})
    return out


def _dumps(obj, indent=None, sort_keys=False) -> str:
    if indent is None:
        return json.dumps(obj, separators=(",", ":"), sort_keys=sort_keys)
    return json.dumps(obj, indent=indent, sort_keys=sort_keys)


def _gzip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
        f.write(data)
    return buf.getvalue()


def _csv(rows: list[list], header: list[str]) -> str:
    s = io.StringIO()
    wr = csv.writer(s, lineterminator="\n")
    wr.writerow(header)
    wr.writerows(rows)
    return s.getvalue()


def assign_files(w: World) -> None:
    """Pick the objects written outside the list files (show forms, the NDJSON change feed)."""
    rng = w.rng

    # Single objects in show form (taken out of the lists).
    vm_ports = [x for x in w.ports if x["_fmt"] == "neutron" and x["device_owner"].startswith("compute:")
                and not x.get("_fault")]
    picks = rng.sample(vm_ports, SHOW_PORTS + OSC_PORTS)
    for i, x in enumerate(picks):
        x["_file"] = (f"neutron_port_show_{x['id'][:8]}.json" if i < SHOW_PORTS
                      else f"osc_port_show_{x['id'][:8]}.json")
    tenant_nets = [n for n in w.networks if n["_fmt"] == "neutron" and not n["router:external"]]
    for n in rng.sample(tenant_nets, OSC_NETWORKS):
        n["_file"] = f"osc_network_show_{n['id'][:8]}.json"
    for r in rng.sample(w.routers, SHOW_ROUTERS):
        r["_file"] = f"neutron_router_show_{r['id'][:8]}.json"
    # The change feed: a random share of the remaining Neutron ports.
    for x in w.ports:
        if x["_fmt"] == "neutron" and "_file" not in x and rng.random() < UPDATES_SHARE:
            x["_file"] = F_UPDATES


def layout_files(w: World) -> dict[str, list[dict]]:
    """Every file's objects in their final order (positions in the file = list indices)."""
    rng = w.rng
    files: dict[str, list[dict]] = {}

    def put(name, obj):
        files.setdefault(name, []).append(obj)

    for n in w.networks:
        put(n.get("_file") or (F_ALCOR_VPCS if n["_fmt"] == "alcor" else F_NETWORKS), n)
    for s in w.subnets:
        put(F_ALCOR_SUBNETS if s["_fmt"] == "alcor" else F_SUBNETS, s)
    paged = []
    for x in w.ports:
        if x["_fmt"] == "alcor":
            put(F_ALCOR_PORTS, x)
        elif x.get("_file"):
            put(x["_file"], x)
        else:
            paged.append(x)
    # Alcor's own listing is in creation order; planted strays sit at random places in it.
    if F_ALCOR_PORTS in files:
        clean = [x for x in files[F_ALCOR_PORTS] if not x.get("_fault")]
        for x in [x for x in files[F_ALCOR_PORTS] if x.get("_fault")]:
            clean.insert(rng.randint(0, len(clean)), x)
        files[F_ALCOR_PORTS] = clean
    if F_UPDATES in files:
        files[F_UPDATES].sort(key=lambda x: (x["updated_at"], x["id"], x["revision_number"]))
    # Neutron paginates sorted by id; the marker is the last id of the page.
    paged.sort(key=lambda x: x["id"])
    limit = max(1, math.ceil(len(paged) / 300)) * 100
    for i in range(0, len(paged), limit):
        files[F_PAGE.format(n=i // limit + 1)] = paged[i:i + limit]
    for s in w.sgs:
        put(F_SGS, s)
    clean = [r for r in w.extra_rules if not r.get("_fault")]
    for r in [r for r in w.extra_rules if r.get("_fault")]:
        clean.insert(rng.randint(0, len(clean)), r)
    files[F_RULES] = clean
    for r in w.routers:
        put(r.get("_file") or F_ROUTERS, r)
    for f in w.fips:
        put(F_FIPS, f)
    return dict(sorted(files.items()))


def render(w: World, files: dict[str, list[dict]]) -> dict[str, bytes]:
    out: dict[str, str] = {}
    pages = sorted(k for k in files if k.startswith("neutron_ports_page"))
    limit = len(files[pages[0]]) if pages else 0
    for name, objs in files.items():
        if name.startswith("neutron_ports_page"):
            i = pages.index(name)
            links = []
            if i < len(pages) - 1:
                links.append({"rel": "next", "href": f"{NEUTRON_URL}/v2.0/ports?limit={limit}&marker={objs[-1]['id']}"})
            if i > 0:
                links.append({"rel": "previous", "href": f"{NEUTRON_URL}/v2.0/ports?limit={limit}"
                              f"&marker={objs[0]['id']}&page_reverse=True"})
            doc = {"ports": [_strip(x) for x in objs]}
            if links:
                doc["ports_links"] = links
            out[name] = _dumps(doc) + "\n"
        elif name == F_UPDATES:
            out[name] = "".join(_dumps(_strip(x)) + "\n" for x in objs)
        elif name.startswith("neutron_port_show_"):
            out[name] = _dumps({"port": _strip(objs[0])}) + "\n"
        elif name.startswith("osc_port_show_"):
            out[name] = _dumps(_osc_port(objs[0]), indent=2) + "\n"
        elif name.startswith("osc_network_show_"):
            out[name] = _dumps(_osc_network(objs[0]), indent=2) + "\n"
        elif name.startswith("neutron_router_show_"):
            out[name] = _dumps({"router": _strip(objs[0])}) + "\n"
        elif name == F_ALCOR_PORTS:
            out[name] = _dumps({"ports": [_alcor_port(x) for x in objs]}) + "\n"
        elif name == F_SGS:
            out[name] = _dumps({"security_groups": [_sg_wire(x) for x in objs]}) + "\n"
        else:
            key = {F_NETWORKS: "networks", F_ALCOR_VPCS: "networks", F_SUBNETS: "subnets",
                   F_ALCOR_SUBNETS: "subnets", F_RULES: "security_group_rules",
                   F_ROUTERS: "routers", F_FIPS: "floatingips"}[name]
            out[name] = _dumps({key: [_strip(x) for x in objs]}) + "\n"

    z1 = [h for h in w.hosts if h["_zone"] == 1]
    out[F_NODES] = _dumps({"host_infos": [_strip(h) for h in z1]}, indent=2) + "\n"
    rest = [h for h in w.hosts if h["_zone"] != 1]
    if rest:
        rng = random.Random(int(w.cfg["seed"]) + 1)   # inventory-only attributes
        rows = []
        for h in rest:
            big = h["_role"] == "compute" and rng.random() < 0.3
            rows.append([h["node_name"], h["local_ip"], h["mac_address"], f"az{h['_zone']}",
                         f"r{h['_rack']:02d}", h["_role"], rng.choice(("PowerEdge R650", "ThinkSystem SR650")),
                         96 if big else 64, 768 if big else 512, f"SN{rng.getrandbits(40):010X}"])
        out[F_INVENTORY] = _csv(rows, ["node_name", "local_ip", "mac_address", "availability_zone",
                                       "rack", "role", "model", "cpu_cores", "memory_gb", "serial"])
    out[F_LABELS] = _csv([[p.id, p.listed or p.kind] for p in sorted(w.projects, key=lambda p: p.id) if p.labelled],
                         ["project_id", "profile"])
    out["README.md"] = readme(w, files)
    return {k: (_gzip(v.encode()) if k.endswith(".gz") else v.encode()) for k, v in sorted(out.items())}


def manifest(w: World, files: dict[str, list[dict]]) -> list[dict]:
    where = {id(o): (name, i) for name, objs in files.items() for i, o in enumerate(objs)}
    rows = []
    for f in w.faults:
        name, pos = where[id(f["obj"])]
        row = {"table": f["table"], "source_file": name, "source_pos": pos, "check": f["check"],
               "note": f["note"], "id": f["obj"]["id"]}
        if "ip_address" in f:
            row["ip_address"] = f["ip_address"]
        if f.get("warning"):
            row["warning"] = True
        if "original" in f:
            # The planted row must be the later one in canonical order (file, then position).
            assert where[id(f["original"])] < (name, pos), (f["check"], where[id(f["original"])], name, pos)
            row["note"] += f" (first: {where[id(f['original'])][0]} #{where[id(f['original'])][1]})"
        rows.append(row)
    return sorted(rows, key=lambda r: (r["source_file"], r["source_pos"], r["check"]))


def counts(w: World) -> dict[str, int]:
    return {
        "projects": len(w.projects),
        **{f"projects_{k}": sum(p.kind == k for p in w.projects) for k in KINDS},
        "labelled": sum(p.labelled for p in w.projects),
        "hosts": len(w.hosts),
        "networks": len(w.networks),
        "subnets": len(w.subnets),
        "ports": len(w.ports),
        "security_groups": len(w.sgs),
        "rules": sum(len(s["security_group_rules"]) for s in w.sgs) + len(w.extra_rules),
        "routers": len(w.routers),
        "floating_ips": len(w.fips),
        "faults": len(w.faults),
        **({"label_noise": sum(bool(p.listed) for p in w.projects if p.labelled)} if w.realism else {}),
    }


def _naming_doc(w: World, c: dict[str, int]) -> str:
    if not w.realism:
        return (f"About half of the projects name their subnets `{SITE}-<kind>-<suffix>` (the kind is the second\n"
                "dash-separated field); a few of those carry the wrong kind. "
                f"`{F_LABELS}` gives the true kind\n(`project_id,profile`) of {c['labelled']} projects.")
    return (f"Realism mode (harder benchmark, variant {w.cfg.get('variant', 'a')}): {NAMED:.0%} of the projects name\n"
            f"their resources `{w.conv('<kind>', '<suffix>')}` ({MISNAMED:.0%} of those with another kind's word),\n"
            "the others use names shared by all kinds; security groups have generic names;\n"
            f"{MIXED_USE:.0%} of the tenants also run a smaller workload of another kind; Octavia VIPs,\n"
            "allowed-address pairs, Alcor VPCs and SR-IOV occur in every kind. "
            f"`{F_LABELS}` gives the kind\n(`project_id,profile`) of {c['labelled']} projects, "
            f"{c['label_noise']} of them wrong on purpose (label noise {LABEL_NOISE:.0%}).")


def readme(w: World, files: dict[str, list[dict]]) -> str:
    c = counts(w)
    n_warn = sum(1 for f in w.faults if f.get("warning"))
    kinds = "\n".join(f"- **{k}** ({c['projects_' + k]} projects): {PROFILES[k]['doc']}" for k in KINDS)
    listing = "\n".join(f"- `{name}`" for name in sorted(list(files) + [F_NODES, F_INVENTORY, F_LABELS])
                        if not name.startswith(("neutron_port_show_", "osc_", "neutron_router_show_")))
    return f"""# Sample data center (generated by `dcnet sample`, seed {w.cfg['seed']})

A reference data center used as the default input of the dcnet pipeline, generated
deterministically by `pipeline/sample_dc.py`. Do not edit by hand: change the generator or
`params.yaml` and run `make sample`.

- {c['hosts']} hosts: {len(w.compute)} zones x {w.cfg['racks_per_zone']} racks x {w.cfg['hosts_per_rack']} compute hosts
  (`az<z>-r<rr>-cn<hh>`) plus two network nodes per zone (`az<z>-r01-nn0<k>`, DHCP and L3 agents).
  Zone 1 is an Alcor bulk node registration (`{F_NODES}`), the other zones a CSV inventory
  (`{F_INVENTORY}`).
- {c['projects']} tenant projects, plus an admin project owning the external network `public`.
- {c['networks']} networks, {c['subnets']} subnets, {c['ports']} ports, {c['security_groups']} security groups with
  {c['rules']} rules, {c['routers']} routers, {c['floating_ips']} floating IPs.

## Project kinds

{kinds}

{_naming_doc(w, c)}

## Files (formats are detected by content, not by name)

{listing}
- `neutron_port_show_*.json` (`{{"port": ...}}`), `neutron_router_show_*.json`,
  `osc_port_show_*.json` / `osc_network_show_*.json` (`openstack ... show -f json` key spelling)

Kubernetes projects on the Alcor controller are in `alcor_*` files (VPCs with `cidr`, ports with
`create_at`/`update_at`, `veth_name`, `fast_path`). Neutron ports are paginated (`ports_links`)
and partly exported as NDJSON (`{F_UPDATES}`, one port per line). Router gateway and floating IP
ports have an empty project, as Neutron creates them.

## Planted faults

{c['faults'] - n_warn} rows are wrong on purpose and {n_warn} ports carry an unknown `device_owner`
(a validation warning; they stay valid). The manifest `<folder>_faults.json` beside this folder
(`sample_faults.json` for `data/raw/sample`) lists each one (table, source_file, source_pos,
check). Everything else is coherent:
subnets of a network do not overlap and lie in the VPC `cidr` when there is one, gateways are
the first host address, pools exclude the gateway, fixed IPs are unique and lie in their
subnet's pools (router interfaces hold the gateway), MACs are unique.
"""


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------

def generate(params: dict) -> tuple[dict[str, bytes], list[dict], dict[str, int]]:
    """Pure generation: file name -> bytes, the fault manifest, and summary counts."""
    cfg = {**DEFAULTS, **(params or {})}
    w = build_world(cfg)
    assign_files(w)
    plant_faults(w)
    files = layout_files(w)
    data = render(w, files)
    return data, manifest(w, files), counts(w)


def write_sample(out_dir: Path, params: dict) -> dict:
    """Write the sample dump to out_dir and its fault manifest beside it; return counts."""
    out_dir = Path(out_dir)
    data, faults, summary = generate(params)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(out_dir.iterdir()):   # files of an earlier generation (ids in names change)
        if old.is_file() and old.name.startswith(GENERATED_PREFIXES) and old.name not in data:
            old.unlink()
    for name, blob in data.items():
        (out_dir / name).write_bytes(blob)
    (out_dir.parent / f"{out_dir.name}_faults.json").write_text(json.dumps(faults, indent=2, sort_keys=True) + "\n")
    summary["files"] = len(data)
    summary["bytes"] = sum(len(b) for b in data.values())
    return summary
