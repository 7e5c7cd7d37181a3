"""Building the clean world: hosts, the external network, projects and their workloads."""

from __future__ import annotations

import math
from datetime import timedelta

from pipeline.sample.addresses import Space
from pipeline.sample.kinds import BUILDERS
from pipeline.sample.profiles import (CONFUSABLE, EXTRAS, KINDS, LABEL_NOISE, LABELLED, MGMT_PREFIXES,
                                      MISLABELED, MISNAMED, MIXED_USE, OTHER_PLACEMENT, PROFILES,
                                      UNBOUND_PORT, realistic_profile)
from pipeline.sample.resources import add_fip, add_network, add_port
from pipeline.sample.security import finish_groups
from pipeline.sample.world import Project, World


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
    """The tenant projects, their labels, then each one's workload (in this order: the draws)."""
    n = int(w.cfg["projects"])
    kinds = [k for k, c in kind_counts(n).items() for _ in range(c)]
    w.rng.shuffle(kinds)
    profiles = ({k: realistic_profile(k, w.size_scale) for k in KINDS} if w.realism else PROFILES)
    for i, kind in enumerate(kinds):
        w.projects.append(new_project(w, i, kind, profiles[kind]))
    assign_labels(w, n)
    for p in w.projects:
        build_workload(w, p, profiles)


def new_project(w: World, index: int, kind: str, prof: dict) -> Project:
    """A project of `kind`: creation time, naming, controller, zones and address spaces."""
    rng = w.rng
    zones = sorted(w.compute)
    p = Project(id=w.hexid(), kind=kind, index=index,
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
    return p


def assign_labels(w: World, n: int) -> None:
    """Naming noise, the projects listed in labels.csv, and (realism) the wrong rows there."""
    rng = w.rng
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


def build_workload(w: World, p: Project, profiles: dict[str, dict]) -> None:
    """The project's resources: its kind's builder, realism extras, group noise, a spare port."""
    rng = w.rng
    prof = profiles[p.kind]
    if w.realism and rng.random() < OTHER_PLACEMENT:
        prof = {**prof, "placement": rng.choice(("spread", "zone", "packed", "random"))}
    BUILDERS[p.kind](w, p, prof)
    if w.realism:
        realistic_extras(w, p, profiles)
    finish_groups(w, p, prof)
    if w.chance(UNBOUND_PORT):   # a spare port created ahead of a VM
        v4 = [s for s in p.subnets if s["ip_version"] == 4]
        sn = rng.choice(v4)
        net = w.net_by_id[sn["network_id"]]
        add_port(w, p.id, net, owner="", device_id="", host="", fixed=[(sn, w.alloc(sn))],
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
        vip = add_port(w, p.id, w.net_by_id[sn["network_id"]], owner="Octavia", device_id=f"lb-{lb}",
                       host="", fixed=[(sn, w.alloc(sn))], sgs=[], since=p.created,
                       name=f"octavia-lb-{lb}", status="DOWN", admin=False)
        if p.routers and rng.random() < 0.5:
            add_fip(w, p, p.routers[0], vip)
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
    w.ext_net = add_network(w, None, "public", mtu=1500, external=True)
    w.ext_net["availability_zones"] = [f"az{z}" for z in sorted(w.compute)]
    build_projects(w)
    return w
