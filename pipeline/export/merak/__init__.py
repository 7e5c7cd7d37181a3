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
(`_export_report.json`). All names are generated labels (pipeline/export/topology/ rules).

Modules: `parameters` (export.merak_*), `topology_body`, `network`, `compute` (one body each),
`common` (the tally, labels); `build_scenario` and `write` below put them together.
"""

from __future__ import annotations

from pathlib import Path

# the plug-in's interface (write) and the names callers and tests import
from pipeline.export.merak.common import Tally
from pipeline.export.merak.compute import SCHEDULER, apportion, build_compute_body
from pipeline.export.merak.network import SUBNET_PREFIXES, build_network_body
from pipeline.export.merak.parameters import (
    DEFAULT_DATA_PLANE_CIDR, DEFAULT_IMAGES, data_plane_cidr, images_param, vswitch_layers_end)
from pipeline.export.merak.topology_body import build_topology_body
from pipeline.export.topology import Topology
from pipeline.export.wire import dumps
from pipeline.util import csv_column, csv_text

SCENARIO = "dcnet_scenario.json"


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


def write(topo: Topology, out: Path, params: dict) -> dict:
    doc, name_rows, tally = build_scenario(topo, params)
    (out / SCENARIO).write_bytes(dumps(doc) + b"\n")  # compact: 10k hosts make ~100 MB
    (out / "names.csv").write_text(topo.names_csv())
    header = ["kind", "label", "id", "name"]
    columns = [csv_column([row[i] for row in name_rows]) for i in range(len(header))]
    (out / "network_names.csv").write_text(csv_text(header, columns))
    c = doc["configuration"]
    nc, cc = c["network-config"], c["compute-config"]
    return {"files": ["dcnet_scenario.json", "names.csv", "network_names.csv"],
            "vhosts": c["topology"]["number_of_vhosts"], "vpcs": nc["number_of_vpcs"],
            "subnets": sum(v["number_of_subnets"] for v in nc["vpcs"]),
            "security_groups": nc["number_of_security_groups"],
            "vms": topo.count("vm"),
            "vms_merak_deploys": sum(s["number_of_vms"] for v in cc["vpc_info"] for s in v["subnet_info"]),
            **tally}
