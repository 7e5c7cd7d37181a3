"""Merak scenario: the three bodies Merak's scenario manager takes, deployable as they are."""

from __future__ import annotations

import json

import pytest

from export_fixtures import check_merak, sample_tables, small_dc  # noqa: F401
from pipeline.export import merak as export_merak
from pipeline.check_export import merak as merak_check
from pipeline.errors import InputError
from pipeline.export.topology import build_topology


def export(tables, out, derive=False, **params):
    out.mkdir(parents=True, exist_ok=True)
    topo = build_topology(tables, {}, derive_fabric=derive)
    summary = export_merak.write(topo, out, params)
    return topo, json.loads((out / "dcnet_scenario.json").read_text()), summary


def test_small_scenario_is_what_merak_reads(tmp_path):
    tables = small_dc()
    topo, doc, summary = export(tables, tmp_path)
    check_merak(doc, topo, tmp_path)
    c = doc["configuration"]
    t, nc, cc = c["topology"], c["network-config"], c["compute-config"]
    # topology: Merak's TREE with what merak-topo's deploy requires
    assert t["type"] == "tree" and t["number_of_vhosts"] == 6
    assert (t["number_of_racks"], t["vhosts_per_rack"]) == (2, 3)
    assert t["ports_per_vswitch"] >= 2 and t["data_plane_cidr"] == "10.1.0.0/16"  # hosts' /16
    assert [i["name"] for i in t["images"]] == ["ACA", "OVS"] and all(i["registry"] for i in t["images"])
    assert "number_of_control_plane_gateways" in t and "number_of_gateways" not in t
    host = next(v for v in t["vnodes"] if v["name"] == "cn03")
    assert host["type"] == "vhost" and host["nics"][0]["ip"] == "10.1.0.13"
    # network-config: subnet_info (not subnets), IPv6 left out, routers by subnet CIDR, one VPC each
    assert "number_of_subnet_per_vpc" in nc and "subnet_ciders" not in nc
    subnets = {s["subnet_cidr"]: v["name"] for v in nc["vpcs"] for s in v["subnet_info"]}
    assert subnets == {"192.168.5.0/24": "db-net", "203.0.113.0/24": "public", "10.10.1.0/24": "web-net"}
    assert nc["routers"] == [{"name": "edge-router", "subnet_gateways": ["192.168.5.0/24"]},
                             {"name": "edge-router-2", "subnet_gateways": ["10.10.1.0/24"]}]
    assert nc["vpcs"][0]["project_id"] == "pb"  # merak-network uses vpcs[0]'s project
    assert sorted(g["name"] for g in nc["security_groups"]) == ["db", "default", "default-2", "web"]
    # compute-config: one unsigned number_of_vm_per_vpc, ASSIGN with vpc_info
    assert isinstance(cc["number_of_vm_per_vpc"], int) and cc["vm_deploy_type"] == "ASSIGN"
    assert cc["scheduler"] == "SEQUENTIAL" and cc["number_of_port_per_vm"] == 2
    # 13 NICs on 6 nodes: 2 VMs per node, one per subnet (web-net 6, db-net 7 -> 6)
    assigned = {s["subnet_cidr"]: s["number_of_vms"] for v in cc["vpc_info"] for s in v["subnet_info"]}
    assert assigned == {"10.10.1.0/24": 6, "192.168.5.0/24": 6}
    assert summary["vms_merak_deploys"] == 12 and summary["vms"] == 12
    # every change is counted, per reason
    assert summary["left_out"] == {
        "subnets not IPv4 (Alcor, driven by merak-network, creates IPv4 only)": 1}
    changed = summary["changed"]
    assert changed["routers split into one per VPC (Alcor refuses a router spanning VPCs)"] == 1
    assert changed["subnets whose VM count is rounded to a whole number per compute node"] == 1
    ignored = summary["not_used_by_merak"]
    assert ignored["security-group rules (merak-network creates groups without rules)"] == 4
    assert ignored["vlinks (never sent to merak-topo)"] == len(tables["fabric_links"])
    net_names = (tmp_path / "network_names.csv").read_text().splitlines()
    assert "security_group,default-2,sg-default-b,default" in net_names


def test_subnets_merak_cannot_create_are_left_out_and_counted(tmp_path):
    tables = small_dc()
    sub = tables["subnets"]
    sub.loc[sub["id"] == "sub-a", "cidr"] = "10.99.0.0/24"       # outside net-a's 10.10.0.0/16
    sub.loc[sub["id"] == "sub-ext", "cidr"] = "203.0.113.0/30"   # /30: Alcor takes /16../28
    _, doc, summary = export(tables, tmp_path)
    cidrs = [s["subnet_cidr"] for v in doc["configuration"]["network-config"]["vpcs"]
             for s in v["subnet_info"]]
    assert cidrs == ["192.168.5.0/24"]
    assert summary["left_out"]["subnets outside their VPC cidr (Alcor refuses them)"] == 1
    assert summary["left_out"]["subnets with a prefix outside /16../28 (Alcor refuses them)"] == 1
    assert merak_check.check(tmp_path).ok


def test_assign_apportions_vms_to_whole_vms_per_node():
    assert export_merak.apportion([6, 7, 0], 2) == [1, 1, 0]
    assert export_merak.apportion([100, 1, 1], 3) == [3, 0, 0]
    assert export_merak.apportion([5, 5], 3) == [2, 1]  # ties: the earlier subnet first
    assert sum(export_merak.apportion([3, 9, 27, 81], 7)) == 7


def test_params_are_checked(tmp_path):
    tables = small_dc()
    with pytest.raises(InputError, match="merak_images"):
        export(tables, tmp_path / "a", merak_images=[{"name": "aca", "registry": ""}])
    with pytest.raises(InputError, match="merak_data_plane_cidr"):
        export(tables, tmp_path / "b", merak_data_plane_cidr="10.0.0.0/24")
    with pytest.raises(InputError, match="merak_ports_per_vswitch"):
        # 2 racks need ceil(ceil(2/p)/p) <= p: p=1 never ends merak-topo's layering
        export(tables, tmp_path / "c", merak_ports_per_vswitch=1)
    _, doc, _ = export(tables, tmp_path / "d", merak_data_plane_cidr="10.200.0.0/16",
                       merak_ports_per_vswitch=4)
    assert doc["configuration"]["topology"]["data_plane_cidr"] == "10.200.0.0/16"
    assert doc["configuration"]["topology"]["ports_per_vswitch"] == 4


def test_ports_per_vswitch_lets_merak_layering_end():
    assert export_merak.vswitch_layers_end(12, 12) and export_merak.vswitch_layers_end(12, 3)
    assert not export_merak.vswitch_layers_end(12, 2)  # the hang noted in the contract


def test_deterministic(tmp_path):
    export(small_dc(), tmp_path / "a")
    tables = small_dc()
    for name in ("hosts", "ports", "security_groups", "subnets"):
        tables[name] = tables[name].iloc[::-1].reset_index(drop=True)
    export(tables, tmp_path / "b")
    a = (tmp_path / "a" / "dcnet_scenario.json").read_bytes()
    assert a == (tmp_path / "b" / "dcnet_scenario.json").read_bytes()


def test_sample_with_derived_fabric(tmp_path, sample_tables):  # noqa: F811
    topo, doc, _ = export(sample_tables, tmp_path, derive=True)
    check_merak(doc, topo, tmp_path)
    assert doc["configuration"]["network-config"]["number_of_vpcs"] == len(sample_tables["networks"])
