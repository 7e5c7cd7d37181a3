"""Per-kind builders: one function per project kind lays out its networks, groups and VMs."""

from __future__ import annotations

from pipeline.sample.addresses import Space
from pipeline.sample.profiles import DEVTEST_WORDS, POD_CIDRS
from pipeline.sample.resources import (add_dhcp_ports, add_fip, add_network, add_port, add_router,
                                       add_subnet6, add_tenant_subnet, add_vm_port, attach_router)
from pipeline.sample.security import default_group, groups_from, vm_groups
from pipeline.sample.world import Project, World


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
            shared = add_network(w, p, w.net_name(p, t), mtu=rng.choice(prof["mtu"]))
            if p.dual:
                add_subnet6(w, p, shared)
        nets[t] = shared
        subs[t] = add_tenant_subnet(w, p, shared, w.prefix(prof, counts[t] + 4), t)
    add_dhcp_ports(w, p)
    default_group(w, p)
    groups_from(w, p, {t: prof["groups"][t] for t in tiers})
    router = add_router(w, p, gateway=True)
    for sn in p.subnets:
        attach_router(w, p, router, sn)
    hosts = w.place(p, sum(counts[t] for t in tiers), prof["placement"])
    i = 0
    for t in tiers:
        for k in range(counts[t]):
            dns = f"{t}-{k + 1:02d}" if rng.random() < 0.6 else ""
            add_vm_port(w, p, nets[t], [subs[t]], hosts[i], vm_groups(w, p, t), dns=dns,
                        name=rng.choice(("", "", f"{t}{k + 1}-eth0")))
            i += 1
    if w.chance(prof["lb"]):
        for _ in range(w.between(prof["lb_vips"])):
            lb = w.uuid()
            vip = add_port(w, p.id, nets["web"], owner="Octavia", device_id=f"lb-{lb}", host="",
                           fixed=[(subs["web"], w.alloc(subs["web"]))], sgs=[], since=p.created,
                           name=f"octavia-lb-{lb}", status="DOWN", admin=False)
            add_fip(w, p, router, vip)
    web_vms = [x for x in p.vm_ports if x["fixed_ips"][0]["subnet_id"] == subs["web"]["id"]]
    for port in rng.sample(web_vms, min(len(web_vms), w.between(prof["fips"]))):
        add_fip(w, p, router, port)


def build_hpc(w: World, p: Project, prof: dict) -> None:
    rng = w.rng
    n = w.between(prof["vms"])
    mtu = rng.choice(prof["mtu"])
    port_sec = not w.chance(prof["no_port_sec"])
    sriov = w.chance(prof["sriov"])
    nets = [add_network(w, p, w.net_name(p, "compute"), mtu=mtu, port_sec=port_sec)]
    if w.chance(prof["second"]):
        nets.append(add_network(w, p, w.net_name(p, "storage"), mtu=mtu, port_sec=port_sec))
    subs = [add_tenant_subnet(w, p, net, w.prefix(prof, n + 4), hint)
            for net, hint in zip(nets, ("compute", "storage"))]
    add_dhcp_ports(w, p)
    default_group(w, p)
    groups_from(w, p, prof["groups"])
    if w.chance(prof["router"]):
        r = add_router(w, p, gateway=True)
        attach_router(w, p, r, subs[0])   # the storage network stays isolated
    hosts = w.place(p, n, prof["placement"], prof["vms_per_host"])
    for i in range(n):
        vm = w.uuid()
        for j, (net, sn) in enumerate(zip(nets, subs)):
            add_vm_port(w, p, net, [sn], hosts[i], vm_groups(w, p, "cluster"), vm=vm,
                        dns=f"node{i + 1:03d}" if j == 0 and rng.random() < 0.5 else "",
                        vnic="direct" if sriov and j == 0 else "normal")


def build_bigdata(w: World, p: Project, prof: dict) -> None:
    rng = w.rng
    n = w.between(prof["vms"])
    mtu = rng.choice(prof["mtu"])
    nets = [add_network(w, p, w.net_name(p, "cluster"), mtu=mtu)]
    if w.chance(prof["second"]):
        nets.append(add_network(w, p, w.net_name(p, "data"), mtu=mtu))
    subs = [add_tenant_subnet(w, p, net, w.prefix(prof, n + 4), hint) for net, hint in zip(nets, ("cluster", "data"))]
    add_dhcp_ports(w, p)
    default_group(w, p)
    groups_from(w, p, {"hadoop": prof["groups"]["hadoop"]})
    if rng.random() < 0.5:
        groups_from(w, p, {"spark": prof["groups"]["spark"]})
    r = add_router(w, p, gateway=True)
    for sn in subs:
        attach_router(w, p, r, sn)
    hosts = w.place(p, n, prof["placement"])
    masters = rng.randint(1, 3)
    for i in range(n):
        vm = w.uuid()
        role = "master" if i < masters else "worker"
        for net, sn in zip(nets, subs):
            add_vm_port(w, p, net, [sn], hosts[i], vm_groups(w, p, "hadoop", "spark"), vm=vm,
                        dns=f"{role}-{i + 1:03d}" if rng.random() < 0.5 else "")
    first = [x for x in p.vm_ports if x["network_id"] == nets[0]["id"]]
    for port in first[:w.between(prof["fips"])]:   # the edge node(s)
        add_fip(w, p, r, port)


def build_kubernetes(w: World, p: Project, prof: dict) -> None:
    rng = w.rng
    masters = 3 if rng.random() < 0.8 else 1
    workers = max(1, w.between(prof["vms"]) - masters)
    n_sub = 2 if w.chance(prof["second"]) else 1
    net_kw = {"mtu": rng.choice(prof["mtu"])}
    if p.alcor:
        vpc = f"10.{rng.randint(0, 255)}.0.0/16" if rng.random() < 0.7 else f"172.{rng.randint(16, 31)}.0.0/16"
        net_kw["cidr"] = vpc
    net = add_network(w, p, w.net_name(p, "nodes"), **net_kw)
    if p.alcor:
        net["_space"] = Space(net["cidr"])
    if p.dual:
        add_subnet6(w, p, net)
    per = w.split(masters + workers, n_sub)
    subs = [add_tenant_subnet(w, p, net, w.prefix(prof, max(per) + 6), "nodes" if i == 0 else f"nodes{i + 1}")
            for i in range(n_sub)]
    add_dhcp_ports(w, p)
    default_group(w, p)
    groups_from(w, p, prof["groups"])
    r = add_router(w, p, gateway=True)
    for sn in p.subnets:
        attach_router(w, p, r, sn)
    pod = rng.choice(POD_CIDRS)
    vip = None
    if rng.random() < 0.6:  # keepalived API VIP: a reserved unbound port
        vip = add_port(w, p.id, net, owner="", device_id="", host="", fixed=[(subs[0], w.alloc(subs[0]))],
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
        port = add_vm_port(w, p, net, [sub_of[i]], hosts[i],
                           vm_groups(w, p, "k8s-master" if master else "k8s-worker"), aap=aap,
                           dns=dns if rng.random() < 0.7 else "")
        first_master = first_master or port
    add_fip(w, p, r, vip or first_master)
    if w.between(prof["fips"]) > 1 and len(p.vm_ports) > masters:
        add_fip(w, p, r, rng.choice(p.vm_ports[masters:]))


def build_database(w: World, p: Project, prof: dict) -> None:
    rng = w.rng
    n = w.between(prof["vms"])
    net = add_network(w, p, w.net_name(p, "db"), mtu=rng.choice(prof["mtu"]))
    n_sub = 2 if w.chance(prof["second"]) else 1
    subs = [add_tenant_subnet(w, p, net, w.prefix(prof, n + 4), "db" if i == 0 else "replica") for i in range(n_sub)]
    add_dhcp_ports(w, p)
    default_group(w, p)
    groups_from(w, p, prof["groups"])
    if w.chance(prof["router"]):
        r = add_router(w, p, gateway=True)
        for sn in subs:
            attach_router(w, p, r, sn)
    hosts = w.place(p, n, prof["placement"])  # anti-affinity: distinct hosts
    for i in range(n):
        add_vm_port(w, p, net, [subs[i % n_sub]], hosts[i], vm_groups(w, p, "db"),
                    dns=f"db-{i + 1}" if rng.random() < 0.5 else "")


def build_devtest(w: World, p: Project, prof: dict) -> None:
    rng = w.rng
    n = w.between(prof["vms"])
    nets = [add_network(w, p, w.net_name(p), mtu=rng.choice(prof["mtu"]))
            for _ in range(2 if w.chance(prof["second"]) else 1)]
    for net in nets:
        if p.dual:
            add_subnet6(w, p, net)
    subs = [add_tenant_subnet(w, p, net, w.prefix(prof, n + 4)) for net in nets]
    add_dhcp_ports(w, p)
    default_group(w, p)
    groups_from(w, p, prof["groups"], keep=0.5)
    r = None
    if w.chance(prof["router"]):
        r = add_router(w, p, gateway=True)
        for sn in p.subnets:
            attach_router(w, p, r, sn)
    hosts = w.place(p, n, prof["placement"])
    for i in range(n):
        k = i % len(nets)
        add_vm_port(w, p, nets[k], [subs[k]], hosts[i], vm_groups(w, p, "dev"),
                    name=rng.choice(("", f"{rng.choice(DEVTEST_WORDS)}-port")),
                    dns=f"{rng.choice(DEVTEST_WORDS)}{rng.randint(1, 99)}" if rng.random() < 0.4 else "")
    if r is not None:
        for port in rng.sample(p.vm_ports, min(len(p.vm_ports), w.between(prof["fips"]))):
            add_fip(w, p, r, port)


BUILDERS = {"web": build_web, "hpc": build_hpc, "bigdata": build_bigdata,
            "kubernetes": build_kubernetes, "database": build_database, "devtest": build_devtest}
