"""Which file each object is written to, and in what order (pages, show forms, change feed)."""

from __future__ import annotations

import math

from pipeline.sample.world import World


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
