"""The compute-config body: ASSIGN deployment, the data's VMs per compute node apportioned to
the subnets."""

from __future__ import annotations

import math
from collections import Counter

from pipeline.export.merak.common import Tally
from pipeline.export.topology import Topology, pylist

SCHEDULER = "SEQUENTIAL"


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
