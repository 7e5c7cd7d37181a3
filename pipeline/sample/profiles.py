"""What each project kind looks like (PROFILES), the site's vocabularies, and realism mode."""

from __future__ import annotations

import copy
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
