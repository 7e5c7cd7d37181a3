"""merak: the three POST bodies checked against Merak's own contract.

Each body is validated against its entry of the vendored `merak.api.schema.json` (what the POST
decodes into Merak's structs, plus what the DEPLOY action needs); a violation's rule id is the
`[M-...]` tag of the schema part that failed and its evidence the Merak file:line written
there. Rules across fields or bodies that a JSON Schema cannot state are below, in code, each
with its Merak (or Alcor, which merak-network drives) file:line.

The folder holds `dcnet_scenario.json`: `{"configuration": {"topology", "network-config",
"compute-config"}}` or the three bodies at the top level.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import math
import re
from pathlib import Path

from pipeline.check_export.core import ConsumerReport, load_contract
from pipeline.check_export.fastschema import compile_gate

BODIES = ("topology", "network-config", "compute-config")
_TAG = re.compile(r"\[(M-[A-Z0-9-]+)\]")
_M = "merak services/"
EVIDENCE = {
    "M-FILE": "dcnet export writes merak/dcnet_scenario.json; " + _M + "scenario-manager/main.go:137-162 "
              "(one POST per body)",
    "M-TOPO-RACKS": _M + "merak-topo/handler/topo_gen.go:353 (racks are filled in order; hosts beyond "
                    "number_of_racks * vhosts_per_rack are not created)",
    "M-TOPO-VSWITCH-LOOP": _M + "merak-topo/handler/topo_gen.go:391-402 (the layering loop recomputes "
                           "the same upper layer: it ends only if ceil(ceil(R/p)/p) <= p)",
    "M-NET-ROUTER-SUBNETS": _M + "merak-network/activities/vnet_create_activity.go:177, :213 (router "
                            "subnets are looked up by subnet CIDR)",
    "M-NET-ROUTER-ONE-VPC": _M + "merak-network/activities/vnet_create_activity.go:207-213; alcor "
                            "services/route_manager/.../NeutronRouterServiceImpl.java:191-198 "
                            "(RouterHasMultipleVPCs)",
    "M-NET-SUBNET-INSIDE": _M + "merak-network/activities/vnet_create_activity.go:173; alcor services/"
                           "subnet_manager/.../SubnetServiceImp.java:332-358 (inside the VPC cidr, no "
                           "overlap); " + _M + "merak-network/http/http_request.go:50 (a refusal aborts)",
    "M-NET-SG": _M + "merak-compute/handler/create.go:77 (every VM gets VmDeploy.Secgroups[0])",
    "M-COMP-ASSIGN": _M + "scenario-manager/handler/message.go:280-282 (number_of_vms / "
                     "number_of_compute_nodes must be >= 1)",
    "M-COMP-SUBNETS": _M + "scenario-manager/handler/message.go:275-284 (ASSIGN passes only the subnet "
                      "cidr and gateway); " + _M + "merak-network/activities/vnet_create_activity.go:173 "
                      "(only network-config subnets are created)",
    "M-COMP-NODES": _M + "merak-compute/handler/create.go:45 (VMs go to every pod merak-topo built) and "
                    + _M + "scenario-manager/handler/message.go:280 (divided by number_of_compute_nodes)",
}


@functools.lru_cache(maxsize=1)
def _gates() -> dict:
    schema = load_contract("merak.api.schema.json")
    return {body: compile_gate(schema, body) for body in BODIES}


@functools.lru_cache(maxsize=1)
def _validators() -> dict:
    from jsonschema import Draft202012Validator

    schema = load_contract("merak.api.schema.json")
    root = {k: v for k, v in schema.items() if k not in ("properties", "type", "title", "description")}
    return {body: Draft202012Validator(dict(root, **{"$ref": f"#/$defs/{body}"})) for body in BODIES}


def _walk_tag(schema: dict, body: str, path) -> tuple[str, str]:
    """(rule, evidence): follow an error's schema path from the body's `$defs` entry (jsonschema
    leaves `$ref` steps out, so a key missing from a node is looked up in its `$ref` target) and
    keep the deepest `[M-...]` tag of a `$comment` on the way."""
    def resolve(ref):
        target = schema
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        return target

    found = ["M-SCHEMA", "merak.api.schema.json"]

    def note(node):
        tag = _TAG.search(node.get("$comment", "")) if isinstance(node, dict) else None
        if tag:
            found[:] = [tag.group(1), node["$comment"].split(" -- ", 1)[-1]]

    node = schema["$defs"][body]
    note(node)
    for key in path:
        while isinstance(node, dict) and key not in node and "$ref" in node:
            node = resolve(node["$ref"])
            note(node)
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
        note(node)
    return found[0], found[1]


def load_bodies(folder: Path, report: ConsumerReport) -> dict | None:
    path = folder / "dcnet_scenario.json"
    if not path.is_file():
        report.violate("M-FILE", f"{folder}: no dcnet_scenario.json", EVIDENCE["M-FILE"])
        return None
    try:
        doc = json.loads(path.read_bytes())
    except ValueError as e:
        report.violate("M-DECODE", f"{path.name}: not JSON ({e})", EVIDENCE["M-FILE"])
        return None
    doc = doc.get("configuration", doc) if isinstance(doc, dict) else {}
    missing = [b for b in BODIES if b not in doc]
    if missing:
        report.violate("M-FILE", f"{path.name}: no {', '.join(missing)} body", EVIDENCE["M-FILE"])
        return None
    return {b: doc[b] for b in BODIES}


def check(folder: Path) -> ConsumerReport:
    report = ConsumerReport(consumer="merak", unit="request bodies")
    bodies = load_bodies(Path(folder), report)
    if bodies is None:
        return report
    report.checked = len(bodies)
    gates = _gates()
    for body in BODIES:
        if gates[body](bodies[body]):
            continue  # valid: no need for jsonschema's slower walk
        validator = _validators()[body]
        for error in validator.iter_errors(bodies[body]):
            rule, evidence = _walk_tag(validator.schema, body, error.absolute_schema_path)
            where = "/".join(str(p) for p in error.absolute_path)
            report.violate(rule, f"{body}{'/' + where if where else ''}: {error.message}", evidence)
    if all(isinstance(bodies[b], dict) for b in BODIES):
        check_rules(bodies, report)
    return report


# ---------------------------------------------------------------------------------------------
# rules across fields and bodies
# ---------------------------------------------------------------------------------------------

def _uint(v) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else 0


def _list(v) -> list:
    return v if isinstance(v, list) else []


def check_rules(bodies: dict, report: ConsumerReport) -> None:
    topo, net, comp = bodies["topology"], bodies["network-config"], bodies["compute-config"]
    _topology_rules(topo, report)
    subnets = _network_rules(net, report)
    _compute_rules(comp, topo, net, subnets, report)


def _topology_rules(topo: dict, report: ConsumerReport) -> None:
    hosts, racks = _uint(topo.get("number_of_vhosts")), _uint(topo.get("number_of_racks"))
    per_rack, ports = _uint(topo.get("vhosts_per_rack")), _uint(topo.get("ports_per_vswitch"))
    if hosts and racks * per_rack < hosts:
        report.violate("M-TOPO-RACKS", f"topology: {racks} racks x {per_rack} vhosts < {hosts} vhosts",
                       EVIDENCE["M-TOPO-RACKS"])
    if hosts and per_rack and ports:
        built = min(racks, math.ceil(hosts / per_rack))
        if math.ceil(math.ceil(built / ports) / ports) > ports:
            report.violate("M-TOPO-VSWITCH-LOOP", f"topology: {built} racks, ports_per_vswitch {ports}",
                           EVIDENCE["M-TOPO-VSWITCH-LOOP"])


def _ipv4(text):
    try:
        net = ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        return None
    return net if net.version == 4 else None


def _network_rules(net: dict, report: ConsumerReport) -> dict:
    """Returns {subnet cidr: [vpc index, ...]} of the exported subnets."""
    where: dict[str, list] = {}
    for i, vpc in enumerate(_list(net.get("vpcs"))):
        if not isinstance(vpc, dict):
            continue
        vpc_net = _ipv4(vpc.get("vpc_cidr")) if vpc.get("vpc_cidr") else None
        seen = []
        for sub in _list(vpc.get("subnet_info")):
            cidr = sub.get("subnet_cidr") if isinstance(sub, dict) else None
            s_net = _ipv4(cidr) if cidr else None
            if s_net is None:
                continue  # the schema reports it
            where.setdefault(cidr, []).append(i)
            if vpc_net is not None and not s_net.subnet_of(vpc_net):
                report.violate("M-NET-SUBNET-INSIDE", f"vpcs/{i}: subnet {cidr} outside vpc_cidr "
                               f"{vpc.get('vpc_cidr')}", EVIDENCE["M-NET-SUBNET-INSIDE"])
            clash = next((o for o in seen if o.overlaps(s_net)), None)
            if clash is not None:
                report.violate("M-NET-SUBNET-INSIDE", f"vpcs/{i}: subnet {cidr} overlaps {clash}",
                               EVIDENCE["M-NET-SUBNET-INSIDE"])
            seen.append(s_net)
    for r, router in enumerate(_list(net.get("routers"))):
        if not isinstance(router, dict):
            continue
        vpcs = set()
        for cidr in _list(router.get("subnet_gateways")):
            holders = where.get(cidr, [])
            if len(holders) != 1:
                report.violate("M-NET-ROUTER-SUBNETS", f"routers/{r}: {cidr!r} is the subnet_cidr of "
                               f"{len(holders)} subnets (must be exactly one)",
                               EVIDENCE["M-NET-ROUTER-SUBNETS"])
            vpcs.update(holders)
        if len(vpcs) > 1:
            report.violate("M-NET-ROUTER-ONE-VPC", f"routers/{r} ({router.get('name')}): subnets in "
                           f"{len(vpcs)} VPCs", EVIDENCE["M-NET-ROUTER-ONE-VPC"])
    return where


def _compute_rules(comp: dict, topo: dict, net: dict, subnets: dict, report: ConsumerReport) -> None:
    nodes = _uint(comp.get("number_of_compute_nodes"))
    vms = 0
    assign = str(comp.get("vm_deploy_type", "")).lower() == "assign"
    for i, vpc in enumerate(_list(comp.get("vpc_info")) if assign else []):
        for sub in _list(vpc.get("subnet_info") if isinstance(vpc, dict) else None):
            if not isinstance(sub, dict):
                continue
            count = _uint(sub.get("number_of_vms"))
            vms += count
            if nodes and count // nodes < 1:
                report.violate("M-COMP-ASSIGN", f"compute vpc_info/{i}: subnet {sub.get('subnet_cidr')} "
                               f"number_of_vms {count} < number_of_compute_nodes {nodes}",
                               EVIDENCE["M-COMP-ASSIGN"])
            if sub.get("subnet_cidr") not in subnets:
                report.violate("M-COMP-SUBNETS", f"compute vpc_info/{i}: subnet {sub.get('subnet_cidr')} "
                               f"is not a network-config subnet", EVIDENCE["M-COMP-SUBNETS"])
    if not assign and _uint(comp.get("number_of_vm_per_vpc")):
        vms = 1
    if vms and not _list(net.get("security_groups")):
        report.violate("M-NET-SG", "network-config: VMs to deploy but no security group",
                       EVIDENCE["M-NET-SG"])
    if nodes and nodes != _uint(topo.get("number_of_vhosts")):
        report.violate("M-COMP-NODES", f"compute number_of_compute_nodes {nodes} != topology "
                       f"number_of_vhosts {topo.get('number_of_vhosts')}", EVIDENCE["M-COMP-NODES"])
