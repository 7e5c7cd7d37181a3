"""Merak scenario JSON (Alcor's emulation scenario manager).

Output (folder `merak/`): dcnet_scenario.json, names.csv (topology node names) and
network_names.csv (names of VPCs, subnets, routers and security groups -> ids and real names).

`{"configuration": {"name", "id", "topology", "network-config", "compute-config"}}`:
- topology: the physical emulation. vnodes are the compute hosts (type "vhost", image
  `aca`: the controller's host agent) and the fabric switches (type "vswitch", image `ovs`);
  a vhost's first NIC carries the host's underlay IP. vlinks are the fabric links,
  `from`/`to` = "vnode:interface". Counts: number_of_vhosts, number_of_vswitches,
  number_of_racks (switches with hosts), vhosts_per_rack / vhosts_per_switch (the largest).
- network-config: VPCs (`vpcs`, with their subnets and VM counts), `subnet_ciders` (sic, Merak's
  spelling), routers with the gateway IPs of the subnets they are attached to (given as both
  `subnet-gw` and `subnet_gateways`, the two spellings Merak's sources use), external gateways,
  security groups with rules (`port_range` "min-max", "" = any; `remote_group_id` = the remote
  group's name) and `apply_to` = names of the VMs whose ports carry the group.
- compute-config: counts (number_of_compute_nodes = number_of_vhosts, the largest
  number_of_VM_per_node and number_of_port_per_VM, number_of_VM_per_vpc and
  number_of_subnets_per_vpc aligned with network-config.vpcs), VM_deploy_type ASSIGN and the
  assignment itself (`vm_assignment`: every compute node with its VMs and their ports'
  VPC/subnet names, IPs and MACs).
All names are generated labels (pipeline/topology.py rules): the same VM name appears in
apply_to and vm_assignment, the same subnet name in vpcs and the VM ports, and so on.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from pipeline.export import dumps
from pipeline.model import empty_frame
from pipeline.topology import LABEL_MAX, Topology, label_candidates, pylist, unique_names
from pipeline.util import csv_cell

SCENARIO = "dcnet_scenario.json"
DEFAULT_IMAGES = [
    {"name": "aca", "registry": "", "cmd": [], "args": []},
    {"name": "ovs", "registry": "", "cmd": [], "args": []},
]


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


def build_scenario(topo: Topology, params: dict | None = None) -> tuple[dict, list[list[str]]]:
    """(scenario document, network name map rows [kind, label, id, name])."""
    params = params or {}
    t = topo.tables

    def get(n):
        return t[n] if t.get(n) is not None else empty_frame(n)

    nodes, links = topo.nodes, topo.links
    nkeys, nkinds, nlabels = pylist(nodes["key"]), pylist(nodes["kind"]), pylist(nodes["label"])
    label = dict(zip(nkeys, nlabels))

    # ---- topology: vhosts + vswitches, fabric links
    lsrc, ldst, lkind = pylist(links["src"]), pylist(links["dst"]), pylist(links["kind"])
    nic_no: dict[str, int] = {}
    nics: dict[str, list] = {}

    def intf(key):
        n = nic_no.get(key, 0)
        nic_no[key] = n + 1
        nics.setdefault(key, []).append(f"eth{n}")
        return f"eth{n}"

    vlinks = []
    per_switch: dict[str, int] = {}
    for a, b, k in zip(lsrc, ldst, lkind):
        if k != "fabric":
            continue
        ia, ib = intf(a), intf(b)
        vlinks.append({"name": f"vlink-{len(vlinks) + 1:07d}", "from": f"{label[a]}:{ia}",
                       "to": f"{label[b]}:{ib}"})
        if b.startswith("host:"):
            per_switch[a] = per_switch.get(a, 0) + 1
    host_ip = dict(zip(nkeys, pylist(nodes["ip"])))
    vnodes = []
    host_keys = []
    for key, k in zip(nkeys, nkinds):
        if k == "vm":
            continue
        names = nics.get(key) or (["eth0"] if k == "host" else [])
        nic_list = [{"name": n} for n in names]
        if k == "host":
            host_keys.append(key)
            if host_ip.get(key) is not None:
                nic_list[0]["ip"] = str(host_ip[key])
        vnodes.append({"name": label[key], "type": "vhost" if k == "host" else "vswitch",
                       "image": "aca" if k == "host" else "ovs", "nics": nic_list})
    most = max(per_switch.values(), default=0)
    topology = {
        "name": "dcnet-topology", "type": topo.fabric_kind,
        "number_of_vhosts": len(host_keys), "number_of_vswitches": nkinds.count("switch"),
        "number_of_racks": len(per_switch), "vhosts_per_rack": most, "vhosts_per_switch": most,
        "number_of_gateways": 0, "gateway_ips": [],
        "images": params.get("merak_images") or DEFAULT_IMAGES,
        "vnodes": vnodes, "vlinks": vlinks,
    }

    # ---- network-config
    nets, subnets, routers, sgs = get("networks"), get("subnets"), get("routers"), get("security_groups")
    net_l, sub_l, rtr_l, sg_l = (_labels(nets, "vpc"), _labels(subnets, "subnet"),
                                 _labels(routers, "router"), _labels(sgs, "sg"))
    nic = links[links["kind"] == "nic"]
    n_src, n_port, n_sub, n_net = (pylist(nic[c]) for c in ("src", "ref_id", "subnet_id", "network_id"))
    n_ip, n_mac = pylist(nic["ip"]), pylist(nic["mac"])
    vm_of_port = dict(zip(n_port, n_src))
    vms_per_subnet: dict = {}
    vms_per_net: dict = {}
    for vm, sid, nid in zip(n_src, n_sub, n_net):
        vms_per_subnet.setdefault(sid, set()).add(vm)
        vms_per_net.setdefault(nid, set()).add(vm)
    subs_sorted = subnets.sort_values(["network_id", "id"], kind="stable")
    subs_of_net: dict[str, list] = {}
    for sid, nid, cidr, gw in zip(*(pylist(subs_sorted[c]) for c in ("id", "network_id", "cidr", "gateway_ip"))):
        subs_of_net.setdefault(nid, []).append({
            "name": sub_l[sid], "subnet_cidr": _s(cidr), "subnet_gateway": _s(gw),
            "number_of_vms": len(vms_per_subnet.get(sid, ()))})
    net_project = dict(zip(pylist(nets["id"]), pylist(nets["project_id"])))
    net_cidr = dict(zip(pylist(nets["id"]), pylist(nets["cidr"])))
    vpc_ids = sorted(net_l, key=lambda x: net_l[x])
    vpcs = [{"name": net_l[nid], "project_id": _s(net_project[nid]), "vpc_cidr": _s(net_cidr[nid]),
             "number_of_subnets": len(subs_of_net.get(nid, [])), "subnets": subs_of_net.get(nid, [])}
            for nid in vpc_ids]
    gw_of_subnet = dict(zip(pylist(subnets["id"]), pylist(subnets["gateway_ip"])))
    ri = get("router_interfaces")
    rtr_gws: dict[str, set] = {}
    for rid, sid in zip(pylist(ri["router_id"]), pylist(ri["subnet_id"])):
        if rid in rtr_l and gw_of_subnet.get(sid) is not None:
            rtr_gws.setdefault(rid, set()).add(str(gw_of_subnet[sid]))
    ext = dict(zip(pylist(routers["id"]), pylist(routers["external_fixed_ips"])))
    router_docs, gateways = [], []
    for rid in sorted(rtr_l, key=lambda x: rtr_l[x]):
        gws = sorted(rtr_gws.get(rid, ()))
        router_docs.append({"name": rtr_l[rid], "subnet-gw": gws, "subnet_gateways": gws})
        ips = _ext_ips(ext.get(rid))
        if ips:
            gateways.append({"name": rtr_l[rid], "ip": ips[0], "ips": ips})
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
    sg_docs = [{"name": sg_l[g], "project_id": _s(sg_project.get(g)), "tenant_id": _s(sg_project.get(g)),
                "rules": rules_of.get(g, []), "apply_to": sorted(vm_names_of_sg.get(g, ()))}
               for g in sorted(sg_l, key=lambda x: sg_l[x])]
    subnets_per_vpc = [v["number_of_subnets"] for v in vpcs]
    network_config = {
        "name": "dcnet-network", "number_of_vpcs": len(vpcs),
        "number_of_subnets_per_vpc": max(subnets_per_vpc, default=0),
        "subnet_ciders": [s["subnet_cidr"] for v in vpcs for s in v["subnets"]],
        "number_of_security_groups": len(sg_docs), "routers": router_docs, "gateways": gateways,
        "security_groups": sg_docs, "vpcs": vpcs,
    }

    # ---- compute-config
    ports_of_vm: dict[str, list] = {}
    for vm, sid, nid, ip, mac in zip(n_src, n_sub, n_net, n_ip, n_mac):
        ports_of_vm.setdefault(vm, []).append({
            "vpc": net_l.get(nid, ""), "subnet": sub_l.get(sid, "") if sid is not None else "",
            "ip": _s(ip), "mac": _s(mac)})
    vms_of_host: dict[str, list] = {}
    n_vms = 0
    for key, k, host in zip(nkeys, nkinds, pylist(nodes["host_key"])):
        if k == "vm":
            n_vms += 1
            vms_of_host.setdefault(host, []).append({"name": label[key], "ports": ports_of_vm.get(key, [])})
    assignment = []
    for key in host_keys:
        lst = sorted(vms_of_host.get(key, []), key=lambda d: d["name"])
        assignment.append({"node": label[key], "number_of_vms": len(lst), "vms": lst})
    assignment.sort(key=lambda d: d["node"])
    compute_config = {
        "name": "dcnet-compute", "number_of_compute_nodes": len(host_keys),
        "number_of_VM_per_node": max((a["number_of_vms"] for a in assignment), default=0),
        "number_of_port_per_VM": max((len(p) for p in ports_of_vm.values()), default=0),
        "VM_deploy_type": "ASSIGN", "scheduler": "dcnet",
        "number_of_VM_per_vpc": [len(vms_per_net.get(nid, ())) for nid in vpc_ids],
        "number_of_subnets_per_vpc": subnets_per_vpc,
        "number_of_vms": n_vms,
        "vm_assignment": assignment,
    }
    doc = {"configuration": {"name": "dcnet", "id": "dcnet-" + topo.fabric_kind,
                             "topology": topology, "network-config": network_config,
                             "compute-config": compute_config}}
    name_rows = []
    for k, labels, df in (("vpc", net_l, nets), ("subnet", sub_l, subnets), ("router", rtr_l, routers),
                          ("security_group", sg_l, sgs)):
        real = dict(zip(pylist(df["id"]), pylist(df["name"])))
        for _id, lab in sorted(labels.items(), key=lambda kv: kv[1]):
            name_rows.append([k, lab, _id, _s(real.get(_id))])
    return doc, name_rows


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
    doc, name_rows = build_scenario(topo, params)
    (out / SCENARIO).write_bytes(dumps(doc) + b"\n")  # compact: 10k hosts make ~100 MB
    (out / "names.csv").write_text(topo.names_csv())
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kind", "label", "id", "name"])
    w.writerows([csv_cell(v) for v in row] for row in name_rows)
    (out / "network_names.csv").write_text(buf.getvalue())
    c = doc["configuration"]
    return {"files": ["dcnet_scenario.json", "names.csv", "network_names.csv"],
            "vnodes": len(c["topology"]["vnodes"]), "vlinks": len(c["topology"]["vlinks"]),
            "vpcs": c["network-config"]["number_of_vpcs"],
            "security_groups": c["network-config"]["number_of_security_groups"],
            "vms": c["compute-config"]["number_of_vms"]}
