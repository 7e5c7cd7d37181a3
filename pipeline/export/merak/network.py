"""The network-config body: VPCs with the subnets merak-network can create in Alcor, one router
per VPC, security groups; and the name map of those resources."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from pipeline.export.merak.common import Tally, _ipv4_net, _labels, _s
from pipeline.export.topology import LABEL_MAX, Topology, pylist, unique_names
from schemas.model import empty_frame

SUBNET_PREFIXES = range(16, 29)  # Alcor's subnet manager accepts IPv4 /16../28 only


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


def _ext_ips(v) -> list[str]:
    import orjson

    if v is None:
        return []
    try:
        lst = orjson.loads(v)
    except orjson.JSONDecodeError:
        return []
    return [str(x["ip_address"]) for x in lst if isinstance(x, dict) and x.get("ip_address")]
