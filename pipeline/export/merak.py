"""Merak scenario (futurewei-cloud/merak): the three bodies its scenario manager accepts.

Output (folder `merak/`): dcnet_scenario.json, names.csv (topology node names) and
network_names.csv (names of VPCs, subnets, routers and security groups -> ids and real names).

`{"configuration": {"name", "id", "topology", "network-config", "compute-config"}}`; each of the
three sections is one POST body (`/api/topologies`, `/api/network-config`,
`/api/compute-config`), written with the json tags of Merak's own structs (scenario-manager
`entities.go`) and holding what a DEPLOY needs (schemas/consumers/merak.api.schema.json).
VPC and subnet entries also carry `name` (their label, ignored by Merak) to read them by.

What Merak does with them decides what can be represented (docs/export.md, "Merak"):
- topology: merak-topo implements only its TREE generator (`type: "tree"`): racks of
  `vhosts_per_rack` vhosts filled in order, vswitch layers of `ports_per_vswitch` ports and
  one core, vhost addresses from `data_plane_cidr`. The data's fabric (vnodes, vlinks) is in
  the body for reference, but Merak builds its own; the counts are chosen so that the TREE
  holds every host and its layering terminates.
- network-config: `vpcs` with `subnet_info` (IPv4 /16-/28 subnets inside the VPC cidr, no
  overlap: merak-network creates them in Alcor, which accepts nothing else); routers with
  `subnet_gateways` = the CIDRs of their subnets (merak-network looks subnets up by CIDR), one
  router per VPC (Alcor refuses a router spanning VPCs); security groups (Merak creates them
  without rules).
- compute-config: `vm_deploy_type: ASSIGN` with `vpc_info`. Merak puts `number_of_vms /
  number_of_compute_nodes` VMs of a subnet on every compute node, so per-node placement cannot
  be represented: the data's VMs per compute node (total / nodes, rounded) are apportioned to
  the subnets in proportion to their VM counts (largest remainder), and each subnet's count
  becomes a whole number per node. Merak deploys about as many VMs as the data holds.
Everything left out, changed or not used by Merak is counted per reason in the summary
(`_export_report.json`). All names are generated labels (pipeline/export/topology.py rules).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import math
from collections import Counter
from pathlib import Path

import pandas as pd

from pipeline.export.wire import dumps
from schemas.model import empty_frame
from pipeline.export.topology import LABEL_MAX, Topology, label_candidates, pylist, unique_names
from pipeline.util import csv_cell
from pipeline.params import default

SCENARIO = "dcnet_scenario.json"
# merak-topo picks images by "ACA"/"OVS" in the name and deploys `registry` as the container
# image (merak-topo handler.go:41-44); the default is the images of Merak's own end-to-end test.
DEFAULT_IMAGES = default("export.merak_images")
DEFAULT_DATA_PLANE_CIDR = "10.200.0.0/16"  # the value in Merak's own examples
SUBNET_PREFIXES = range(16, 29)  # Alcor's subnet manager accepts IPv4 /16../28 only
SCHEDULER = "SEQUENTIAL"


class Tally:
    """Counts per reason of what the export leaves out, changes, or Merak does not use."""

    def __init__(self):
        self.left_out: Counter = Counter()
        self.changed: Counter = Counter()
        self.ignored: Counter = Counter()

    def as_dict(self) -> dict:
        return {k: dict(sorted((r, int(n)) for r, n in c.items() if n))
                for k, c in (("left_out", self.left_out), ("changed", self.changed),
                             ("not_used_by_merak", self.ignored))}


def _s(v) -> str:
    return "" if v is None else str(v)


def _labels(df: pd.DataFrame, prefix: str) -> dict:
    """{id: unique label} for a resource table, names first, ids when unnamed; sorted by id."""
    if df is None or len(df) == 0:
        return {}
    df = df.sort_values("id", kind="stable")
    ids = pylist(df["id"])
    names = [n if n is not None and str(n).strip() else i for n, i in zip(pylist(df["name"]), ids)]
    return dict(zip(ids, unique_names(label_candidates(names, prefix), LABEL_MAX, "-")))


def _ipv4_net(text):
    """An IPv4Network for 'a.b.c.d/n' (host bits allowed), None otherwise."""
    if text is None or "/" not in str(text):
        return None
    try:
        net = ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        return None
    return net if net.version == 4 else None


# ---------------------------------------------------------------------------------------------
# parameters
# ---------------------------------------------------------------------------------------------

def _param_error(msg: str):
    from pipeline.errors import InputError

    return InputError(f"params export.{msg}")


def images_param(params: dict) -> list[dict]:
    images = params.get("merak_images") or DEFAULT_IMAGES
    if not isinstance(images, list) or not all(isinstance(i, dict) for i in images):
        raise _param_error("merak_images must be a list of {name, registry} mappings")
    names = [str(i.get("name") or "") for i in images]

    def usable(i):
        reg = str(images[i].get("registry") or "")
        return bool(reg) and not any(ch.isspace() for ch in reg)

    if not any("ACA" in n and usable(i) for i, n in enumerate(names)) or \
            not any("OVS" in n and "ACA" not in n and usable(i) for i, n in enumerate(names)):
        raise _param_error("merak_images needs one image whose name contains \"ACA\" and one whose "
                           "name contains \"OVS\", each with a full image reference in `registry` "
                           "(merak-topo deploys `registry` as the container image)")
    return [{"name": str(i.get("name")), "registry": str(i.get("registry")),
             "cmd": list(i.get("cmd") or []), "args": list(i.get("args") or [])} for i in images]


def data_plane_cidr(params: dict, host_ips: list) -> str:
    """params export.merak_data_plane_cidr, else the /16 holding most hosts' underlay IPv4
    addresses (merak-topo numbers vhosts a.b.<i>.<j>/16 from the first two octets)."""
    given = params.get("merak_data_plane_cidr")
    if given:
        net = _ipv4_net(given)
        if net is None or str(given).rsplit("/", 1)[1] in ("8", "24"):
            raise _param_error(f"merak_data_plane_cidr {given!r}: need an IPv4 CIDR a.b.c.d/n, n not "
                               f"8 or 24 (merak-topo gives every vhost the CIDR itself for /8 and /24)")
        return str(given)
    counts = Counter()
    for ip in host_ips:
        try:
            addr = ipaddress.ip_address(str(ip).split("/")[0])
        except ValueError:
            continue
        if addr.version == 4:
            counts[str(ipaddress.ip_network(f"{addr}/16", strict=False))] += 1
    if not counts:
        return DEFAULT_DATA_PLANE_CIDR
    return max(sorted(counts), key=counts.__getitem__)


def vswitch_layers_end(racks: int, ports: int) -> bool:
    """merak-topo builds vswitch layers until one has at most `ports` switches, but recomputes
    the upper layer from the same lower one, so it ends only if two layers suffice
    (merak-topo topo_gen.go:391-402)."""
    return ports >= 1 and math.ceil(math.ceil(racks / ports) / ports) <= ports


# ---------------------------------------------------------------------------------------------
# topology
# ---------------------------------------------------------------------------------------------

def build_topology_body(topo: Topology, params: dict, tally: Tally) -> tuple[dict, list[str]]:
    """(topology body, host keys in vnode order)."""
    nodes, links = topo.nodes, topo.links
    nkeys, nkinds, nlabels = pylist(nodes["key"]), pylist(nodes["kind"]), pylist(nodes["label"])
    label = dict(zip(nkeys, nlabels))
    lsrc, ldst, lkind = pylist(links["src"]), pylist(links["dst"]), pylist(links["kind"])
    nic_no: dict[str, int] = {}
    nics: dict[str, list] = {}

    def intf(key):
        n = nic_no.get(key, 0)
        nic_no[key] = n + 1
        nics.setdefault(key, []).append(f"eth{n}")
        return f"eth{n}"

    vlinks = []
    hosts_under: Counter = Counter()  # rack switch -> hosts linked to it
    switch_peers: Counter = Counter()  # switch -> links to other switches
    for a, b, k in zip(lsrc, ldst, lkind):
        if k != "fabric":
            continue
        ia, ib = intf(a), intf(b)
        vlinks.append({"name": f"vlink-{len(vlinks) + 1:07d}", "from": f"{label[a]}:{ia}",
                       "to": f"{label[b]}:{ib}"})
        if b.startswith("host:"):
            hosts_under[a] += 1
        else:
            switch_peers[a] += 1
            switch_peers[b] += 1
    host_ip = dict(zip(nkeys, pylist(nodes["ip"])))
    vnodes, host_keys = [], []
    for key, k in zip(nkeys, nkinds):
        if k == "vm":
            continue
        nic_list = [{"name": n} for n in nics.get(key) or (["eth0"] if k == "host" else [])]
        if k == "host":
            host_keys.append(key)
            if host_ip.get(key) is not None:
                nic_list[0]["ip"] = str(host_ip[key])
        vnodes.append({"name": label[key], "type": "vhost" if k == "host" else "vswitch",
                       "nics": nic_list})

    n_hosts = len(host_keys)
    per_rack = max(hosts_under.values(), default=0) or max(n_hosts, 1)
    racks = max(len(hosts_under), math.ceil(n_hosts / per_rack))
    built = math.ceil(n_hosts / per_rack)  # merak-topo stops when every host is placed
    ports = _ports_per_vswitch(params, max(switch_peers.values(), default=0), built)
    uneven = sum(1 for n in hosts_under.values() if n != per_rack)
    if uneven:
        tally.changed["racks regrouped: Merak fills racks of vhosts_per_rack hosts in order"] += uneven
    tally.ignored["vnodes (merak-topo's TREE generator builds its own nodes)"] += len(vnodes)
    tally.ignored["vlinks (never sent to merak-topo)"] += len(vlinks)
    body = {
        "name": "dcnet-topology", "type": "tree",
        "number_of_vhosts": n_hosts, "number_of_racks": racks, "vhosts_per_rack": per_rack,
        "ports_per_vswitch": ports,
        "data_plane_cidr": data_plane_cidr(params, [host_ip[k] for k in host_keys if host_ip.get(k)]),
        "number_of_control_plane_gateways": 0, "control_plane_gateway_ips": [],
        "images": images_param(params), "vnodes": vnodes, "vlinks": vlinks,
    }
    return body, host_keys


def _ports_per_vswitch(params: dict, from_fabric: int, racks: int) -> int:
    given = params.get("merak_ports_per_vswitch")
    if given:
        if not isinstance(given, int) or not vswitch_layers_end(racks, given):
            raise _param_error(f"merak_ports_per_vswitch {given!r}: with {racks} racks merak-topo's "
                               f"vswitch layering never ends unless ceil(ceil(racks/p)/p) <= p")
        return given
    ports = max(from_fabric, 2)
    while not vswitch_layers_end(racks, ports):
        ports += 1
    return ports


# ---------------------------------------------------------------------------------------------
# network-config
# ---------------------------------------------------------------------------------------------

def _subnet_entries(subnets: pd.DataFrame, sub_l: dict, vpc_net: dict, vms_per_subnet: dict,
                    tally: Tally) -> dict:
    """{network id: [(subnet id, IPv4Network, subnet_info entry)]}: the subnets merak-network
    can create in Alcor; every other one counted by reason."""
    out: dict[str, list] = {}
    ordered = subnets.sort_values(["network_id", "id"], kind="stable")
    for sid, nid, cidr, gw in zip(*(pylist(ordered[c]) for c in ("id", "network_id", "cidr", "gateway_ip"))):
        net = _ipv4_net(cidr)
        if net is None:
            tally.left_out["subnets not IPv4 (Alcor, driven by merak-network, creates IPv4 only)"] += 1
            continue
        if net.prefixlen not in SUBNET_PREFIXES:
            tally.left_out["subnets with a prefix outside /16../28 (Alcor refuses them)"] += 1
            continue
        vpc = vpc_net.get(nid)
        if vpc is not None and not net.subnet_of(vpc):
            tally.left_out["subnets outside their VPC cidr (Alcor refuses them)"] += 1
            continue
        if str(net) != str(cidr).strip():
            tally.changed["subnet cidrs with host bits, sent as the network address"] += 1
        out.setdefault(nid, []).append((sid, net, {
            "name": sub_l[sid], "subnet_cidr": str(net), "subnet_gateway": _s(gw),
            "number_of_vms": len(vms_per_subnet.get(sid, ()))}))
    for nid, entries in out.items():  # Alcor refuses a subnet overlapping another of its VPC
        entries.sort(key=lambda e: (e[1].network_address, -e[1].prefixlen, e[0]))
        kept, end = [], -1
        for e in entries:
            if int(e[1].network_address) <= end:
                tally.left_out["subnets overlapping another subnet of their VPC (Alcor refuses them)"] += 1
                continue
            kept.append(e)
            end = int(e[1].broadcast_address)
        kept.sort(key=lambda e: sub_l[e[0]])
        out[nid] = kept
    return out


def _router_docs(ri, rtr_l: dict, sub_vpc: dict, sub_cidr: dict, tally: Tally) -> list[dict]:
    """One router per (router, VPC), subnet_gateways = the CIDRs of its exported subnets."""
    cidr_use = Counter(sub_cidr.values())
    subs_of: dict[str, set] = {}
    for rid, sid in zip(pylist(ri["router_id"]), pylist(ri["subnet_id"])):
        if rid not in rtr_l:
            continue
        if sid not in sub_cidr:
            tally.left_out["router interfaces on a subnet not exported"] += 1
        elif cidr_use[sub_cidr[sid]] > 1:
            tally.left_out["router interfaces on a subnet whose CIDR another VPC also uses "
                           "(merak-network resolves router subnets by CIDR)"] += 1
        else:
            subs_of.setdefault(rid, set()).add(sid)
    names, cidrs = [], []
    for rid in sorted(rtr_l, key=rtr_l.get):
        by_vpc: dict[str, list] = {}
        for sid in subs_of.get(rid, ()):
            by_vpc.setdefault(sub_vpc[sid], []).append(sub_cidr[sid])
        groups = [sorted(c) for _, c in sorted(by_vpc.items())] or [[]]
        if len(groups) > 1:
            tally.changed["routers split into one per VPC (Alcor refuses a router spanning VPCs)"] += 1
        for g in groups:
            names.append(rtr_l[rid])
            cidrs.append(g)
    return [{"name": n, "subnet_gateways": c}
            for n, c in zip(unique_names(names, LABEL_MAX, "-"), cidrs)]


def build_network_body(topo: Topology, tally: Tally) -> tuple[dict, list[list[str]], dict]:
    """(network-config body, name map rows, {subnet id: (vpc entry, subnet entry)})."""
    t = topo.tables

    def get(n):
        return t[n] if t.get(n) is not None else empty_frame(n)

    nets, subnets, routers, sgs = get("networks"), get("subnets"), get("routers"), get("security_groups")
    net_l, sub_l, rtr_l, sg_l = (_labels(nets, "vpc"), _labels(subnets, "subnet"),
                                 _labels(routers, "router"), _labels(sgs, "sg"))
    label = dict(zip(pylist(topo.nodes["key"]), pylist(topo.nodes["label"])))
    nic = topo.links[topo.links["kind"] == "nic"]
    n_src, n_port, n_sub = pylist(nic["src"]), pylist(nic["ref_id"]), pylist(nic["subnet_id"])
    vms_per_subnet: dict = {}
    for vm, sid in zip(n_src, n_sub):
        vms_per_subnet.setdefault(sid, set()).add(vm)

    net_cidr = dict(zip(pylist(nets["id"]), pylist(nets["cidr"])))
    vpc_net = {}
    for nid, cidr in net_cidr.items():
        net = _ipv4_net(cidr)
        if net is not None:
            vpc_net[nid] = net
        elif cidr is not None and str(cidr).strip():
            tally.changed["VPC cidrs not IPv4, sent empty (merak-network passes them to Alcor)"] += 1
    entries = _subnet_entries(subnets, sub_l, vpc_net, vms_per_subnet, tally)
    net_project = dict(zip(pylist(nets["id"]), pylist(nets["project_id"])))
    vpc_ids = sorted(net_l, key=net_l.get)
    # merak-network sends every request to vpcs[0]'s project: put a VPC with a usable one first
    first = next((n for n in vpc_ids if _s(net_project.get(n)) and "/" not in _s(net_project[n])), None)
    if first is not None:
        vpc_ids.remove(first)
        vpc_ids.insert(0, first)
        tally.ignored["VPCs of another project than vpcs[0] (merak-network creates all in vpcs[0]'s "
                      "project)"] += sum(_s(net_project.get(n)) != _s(net_project[first]) for n in vpc_ids)
    orphans = sum(len(subs) for nid, subs in entries.items() if nid not in net_l)
    if orphans:
        tally.left_out["subnets of a network that is not in the tables"] += orphans
    vpcs, placed = [], {}
    for nid in vpc_ids:
        subs = entries.get(nid, [])
        doc = {"name": net_l[nid], "project_id": _s(net_project.get(nid)), "tenant_id": _s(net_project.get(nid)),
               "vpc_cidr": str(vpc_net[nid]) if nid in vpc_net else "",
               "number_of_subnets": len(subs), "subnet_info": [e[2] for e in subs]}
        vpcs.append(doc)
        for sid, _, entry in subs:
            placed[sid] = (doc, entry)
    sub_vpc = {sid: net_l[nid] for nid, subs in entries.items() for sid, _, _ in subs}
    sub_cidr = {sid: str(net) for subs in entries.values() for sid, net, _ in subs}
    router_docs = _router_docs(get("router_interfaces"), rtr_l, sub_vpc, sub_cidr, tally)
    gateways = []
    for rid, ext in sorted(zip(pylist(routers["id"]), pylist(routers["external_fixed_ips"])),
                           key=lambda r: rtr_l.get(r[0], "")):
        ips = _ext_ips(ext)
        if ips and rid in rtr_l:
            gateways.append({"name": rtr_l[rid], "ips": ips})
    if gateways:
        tally.ignored["external gateways (merak-network does not read them)"] += len(gateways)
    sg_docs = _security_groups(get, sg_l, dict(zip(n_port, n_src)), label, tally)
    body = {
        "name": "dcnet-network", "number_of_vpcs": len(vpcs),
        "number_of_subnet_per_vpc": max((v["number_of_subnets"] for v in vpcs), default=0),
        "number_of_security_groups": len(sg_docs), "vpcs": vpcs, "routers": router_docs,
        "gateways": gateways, "security_groups": sg_docs,
    }
    name_rows = []
    for k, labels, df in (("vpc", net_l, nets), ("subnet", sub_l, subnets), ("router", rtr_l, routers),
                          ("security_group", sg_l, sgs)):
        real = dict(zip(pylist(df["id"]), pylist(df["name"])))
        for _id, lab in sorted(labels.items(), key=lambda kv: kv[1]):
            name_rows.append([k, lab, _id, _s(real.get(_id))])
    return body, name_rows, placed


def _security_groups(get, sg_l: dict, vm_of_port: dict, label: dict, tally: Tally) -> list[dict]:
    sgs = get("security_groups")
    rules = get("security_group_rules").sort_values("id", kind="stable")
    rules_of: dict[str, list] = {}
    for r in zip(*(pylist(rules[c]) for c in ("id", "security_group_id", "direction", "ethertype",
                                               "protocol", "port_range_min", "port_range_max",
                                               "remote_ip_prefix", "remote_group_id", "description"))):
        rid, sg, direction, eth, proto, lo, hi, prefix, rgroup, desc = r
        rng = "" if lo is None and hi is None else f"{_s(lo) or _s(hi)}-{_s(hi) or _s(lo)}"
        rules_of.setdefault(sg, []).append({
            "name": rid, "description": _s(desc), "direction": _s(direction), "ethertype": _s(eth),
            "protocol": _s(proto), "port_range": rng, "remote_ip_prefix": _s(prefix),
            "remote_group_id": sg_l.get(rgroup, "") if rgroup is not None else ""})
    psg = get("port_security_groups")
    vm_names_of_sg: dict[str, set] = {}
    for pid, sg in zip(pylist(psg["port_id"]), pylist(psg["security_group_id"])):
        vm = vm_of_port.get(pid)
        if vm is not None:
            vm_names_of_sg.setdefault(sg, set()).add(label[vm])
    sg_project = dict(zip(pylist(sgs["id"]), pylist(sgs["project_id"])))
    docs = [{"name": sg_l[g], "project_id": _s(sg_project.get(g)), "tenant_id": _s(sg_project.get(g)),
             "rules": rules_of.get(g, []), "apply_to": sorted(vm_names_of_sg.get(g, ()))}
            for g in sorted(sg_l, key=sg_l.get)]
    n_rules = sum(len(d["rules"]) for d in docs)
    if n_rules:
        tally.ignored["security-group rules (merak-network creates groups without rules)"] += n_rules
    if not docs:  # merak-compute puts every VM in the first group (create.go:77)
        tally.changed["security group added: Merak attaches every VM to the first group"] += 1
        docs = [{"name": "dcnet-default", "project_id": "", "tenant_id": "", "rules": [], "apply_to": []}]
    return docs


# ---------------------------------------------------------------------------------------------
# compute-config
# ---------------------------------------------------------------------------------------------

def apportion(counts: list[int], slots: int) -> list[int]:
    """Largest-remainder split of `slots` in proportion to `counts` (ties: earlier first)."""
    total = sum(counts)
    if total == 0 or slots == 0:
        return [0] * len(counts)
    quotas = [slots * c / total for c in counts]
    out = [math.floor(q) for q in quotas]
    order = sorted(range(len(counts)), key=lambda i: (-(quotas[i] - out[i]), i))
    for i in order[:slots - sum(out)]:
        out[i] += 1
    return out


def build_compute_body(topo: Topology, n_nodes: int, placed: dict, tally: Tally) -> dict:
    nic = topo.links[topo.links["kind"] == "nic"]
    vm_nets: dict = {}
    ports_of_vm: Counter = Counter()
    for vm, nid in zip(pylist(nic["src"]), pylist(nic["network_id"])):
        vm_nets.setdefault(nid, set()).add(vm)
        ports_of_vm[vm] += 1
    order = list(placed)  # subnets in VPC order, then name order
    counts = [placed[s][1]["number_of_vms"] for s in order]
    total = sum(counts)
    slots = max(1, round(total / n_nodes)) if total and n_nodes else 0
    per_node = apportion(counts, slots)
    vpc_info: dict[int, dict] = {}
    deployed = 0
    for sid, n, k in zip(order, counts, per_node):
        vpc, sub = placed[sid]
        if k == 0:
            if n:
                tally.left_out["subnets with too few VMs for one per compute node in the "
                               "apportionment (Merak's ASSIGN puts a subnet's VMs on every node)"] += 1
            continue
        if k * n_nodes != n:
            tally.changed["subnets whose VM count is rounded to a whole number per compute node"] += 1
        deployed += k * n_nodes
        entry = vpc_info.setdefault(id(vpc), {
            "name": vpc["name"], "project_id": vpc["project_id"], "tenant_id": vpc["tenant_id"],
            "vpc_cidr": vpc["vpc_cidr"], "number_of_subnets": 0, "subnet_info": []})
        entry["subnet_info"].append({"name": sub["name"], "subnet_cidr": sub["subnet_cidr"],
                                     "subnet_gateway": sub["subnet_gateway"],
                                     "number_of_vms": k * n_nodes})
        entry["number_of_subnets"] += 1
    n_vms = topo.count("vm")
    if n_vms:
        tally.ignored["VM placement per compute node (Merak spreads each subnet evenly)"] += n_vms
    return {
        "name": "dcnet-compute", "number_of_compute_nodes": n_nodes,
        "number_of_port_per_vm": max(ports_of_vm.values(), default=0),
        "vm_deploy_type": "ASSIGN", "scheduler": SCHEDULER,
        # one unsigned integer (not read for ASSIGN): the largest VPC's VM count
        "number_of_vm_per_vpc": max((len(v) for v in vm_nets.values()), default=0),
        "vpc_info": list(vpc_info.values()),
    }


# ---------------------------------------------------------------------------------------------

def build_scenario(topo: Topology, params: dict | None = None) -> tuple[dict, list[list[str]], dict]:
    """(scenario document, network name map rows [kind, label, id, name], tally dict)."""
    params = params or {}
    tally = Tally()
    topology, host_keys = build_topology_body(topo, params, tally)
    network, name_rows, placed = build_network_body(topo, tally)
    compute = build_compute_body(topo, len(host_keys), placed, tally)
    doc = {"configuration": {"name": "dcnet", "id": "dcnet-" + topo.fabric_kind, "topology": topology,
                             "network-config": network, "compute-config": compute}}
    return doc, name_rows, tally.as_dict()


def _ext_ips(v) -> list[str]:
    import orjson

    if v is None:
        return []
    try:
        lst = orjson.loads(v)
    except orjson.JSONDecodeError:
        return []
    return [str(x["ip_address"]) for x in lst if isinstance(x, dict) and x.get("ip_address")]


def write(topo: Topology, out: Path, params: dict) -> dict:
    doc, name_rows, tally = build_scenario(topo, params)
    (out / SCENARIO).write_bytes(dumps(doc) + b"\n")  # compact: 10k hosts make ~100 MB
    (out / "names.csv").write_text(topo.names_csv())
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kind", "label", "id", "name"])
    w.writerows([csv_cell(v) for v in row] for row in name_rows)
    (out / "network_names.csv").write_text(buf.getvalue())
    c = doc["configuration"]
    nc, cc = c["network-config"], c["compute-config"]
    return {"files": ["dcnet_scenario.json", "names.csv", "network_names.csv"],
            "vhosts": c["topology"]["number_of_vhosts"], "vpcs": nc["number_of_vpcs"],
            "subnets": sum(v["number_of_subnets"] for v in nc["vpcs"]),
            "security_groups": nc["number_of_security_groups"],
            "vms": topo.count("vm"),
            "vms_merak_deploys": sum(s["number_of_vms"] for v in cc["vpc_info"] for s in v["subnet_info"]),
            **tally}
