"""dcnet check-export, Merak: every rule fails on a bad example; dcnet's own export passes."""

from __future__ import annotations

import copy
import json

import pytest

from export_fixtures import small_dc
from pipeline.export import merak as export_merak
from pipeline.check_export import merak
from pipeline.export.topology import build_topology


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    out = tmp_path_factory.mktemp("merak")
    export_merak.write(build_topology(small_dc()), out, {})
    return json.loads((out / "dcnet_scenario.json").read_text())["configuration"]


def run(tmp_path, bodies) -> dict:
    (tmp_path / "dcnet_scenario.json").write_text(json.dumps({"configuration": bodies}))
    return merak.check(tmp_path).violations


def test_dcnet_export_passes(tmp_path, good):
    assert run(tmp_path, good) == {}


def _vpc_with_subnets(c):
    return next(v for v in c["network-config"]["vpcs"] if v["subnet_info"])


BAD = {
    # schema rules (the tag of the failing schema part)
    "M-DECODE": lambda c: c["compute-config"].update(number_of_vm_per_vpc=[1, 2]),
    "M-TOPO-REQUIRED": lambda c: c["topology"].pop("data_plane_cidr"),
    "M-TOPO-COUNTS": lambda c: c["topology"].update(ports_per_vswitch=0),
    "M-TOPO-CIDR": lambda c: c["topology"].update(data_plane_cidr="10.0.0.0/24"),
    "M-TOPO-IMAGES": lambda c: c["topology"].update(images=[{"name": "aca", "registry": ""}]),
    "M-TOPO-TYPE": lambda c: c["topology"].update(type="mesh"),  # no generator: no nodes
    "M-NET-VPCS": lambda c: c["network-config"]["vpcs"][0].update(project_id=""),
    "M-NET-SUBNET-CIDR": lambda c: _vpc_with_subnets(c)["subnet_info"][0].update(subnet_cidr="fd00::/64"),
    "M-NET-VPC-CIDR": lambda c: _vpc_with_subnets(c).update(vpc_cidr="fd00::/48"),
    "M-COMP-PER-VPC": lambda c: c["compute-config"].update(vm_deploy_type="UNIFORM", number_of_vm_per_vpc=0),
    # rules stated in code
    "M-NET-ROUTER-SUBNETS": lambda c: c["network-config"]["routers"][0].update(
        subnet_gateways=["10.77.0.0/24"]),
    "M-NET-ROUTER-ONE-VPC": lambda c: c["network-config"]["routers"][0].update(
        subnet_gateways=["192.168.5.0/24", "10.10.1.0/24"]),
    "M-NET-SUBNET-INSIDE": lambda c: next(v for v in c["network-config"]["vpcs"] if v["vpc_cidr"])[
        "subnet_info"][0].update(subnet_cidr="10.99.1.0/24"),
    "M-NET-SG": lambda c: c["network-config"].update(security_groups=[]),
    "M-TOPO-RACKS": lambda c: c["topology"].update(number_of_racks=1),
    "M-TOPO-VSWITCH-LOOP": lambda c: c["topology"].update(vhosts_per_rack=1, ports_per_vswitch=1),
    "M-COMP-SUBNETS": lambda c: c["compute-config"]["vpc_info"][0]["subnet_info"][0].update(
        subnet_cidr="10.55.0.0/24"),
    "M-COMP-NODES": lambda c: c["compute-config"].update(number_of_compute_nodes=3),
}


@pytest.mark.parametrize("rule", sorted(BAD))
def test_each_rule_fails_on_a_bad_example(tmp_path, good, rule):
    bad = copy.deepcopy(good)
    BAD[rule](bad)
    violations = run(tmp_path, bad)
    assert rule in violations, violations
    assert "merak" in violations[rule].evidence and ".go" in violations[rule].evidence


def test_assign_quotient_is_checked(tmp_path, good):
    bad = copy.deepcopy(good)
    bad["compute-config"]["vpc_info"][0]["subnet_info"][0]["number_of_vms"] = 5  # < 6 nodes
    assert "M-COMP-ASSIGN" in run(tmp_path, bad)
    bad["compute-config"].pop("vpc_info")
    assert "M-COMP-ASSIGN" in run(tmp_path, bad)


def test_missing_or_broken_file(tmp_path):
    assert "M-FILE" in merak.check(tmp_path).violations
    (tmp_path / "dcnet_scenario.json").write_text("{not json")
    assert "M-DECODE" in merak.check(tmp_path).violations
