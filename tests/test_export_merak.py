"""Merak scenario JSON: sections consistent with each other and with the input."""

from __future__ import annotations

import json

from export_fixtures import check_merak, sample_tables, small_dc  # noqa: F401
from pipeline import export_merak
from pipeline.topology import build_topology


def export(tables, out, derive=False):
    out.mkdir(parents=True, exist_ok=True)
    topo = build_topology(tables, {}, derive_fabric=derive)
    export_merak.write(topo, out, {})
    return topo, json.loads((out / "dcnet_scenario.json").read_text())


def test_small_scenario(tmp_path):
    tables = small_dc()
    topo, doc = export(tables, tmp_path)
    check_merak(doc, topo)
    c = doc["configuration"]
    assert set(c) == {"name", "id", "topology", "network-config", "compute-config"}
    t, nc, cc = c["topology"], c["network-config"], c["compute-config"]
    assert len(t["vlinks"]) == len(tables["fabric_links"])
    host = next(v for v in t["vnodes"] if v["name"] == "cn03")
    assert host["type"] == "vhost" and host["nics"][0]["ip"] == "10.1.0.13"
    assert t["vhosts_per_rack"] == 3 and t["number_of_racks"] == 2
    assert nc["number_of_vpcs"] == 3 and nc["subnet_ciders"].count("10.10.1.0/24") == 1
    # both "default" groups kept apart by the deterministic disambiguation
    names = sorted(g["name"] for g in nc["security_groups"])
    assert names == ["db", "default", "default-2", "web"]
    db = next(g for g in nc["security_groups"] if g["name"] == "db")
    assert {r["remote_group_id"] for r in db["rules"]} == {"web", ""}
    assert {r["port_range"] for r in db["rules"]} == {"5432-5432", ""}
    web = next(g for g in nc["security_groups"] if g["name"] == "web")
    assert len(web["apply_to"]) == sum(1 for h in range(6) for v in range(2) if (h + v) % 2 == 0)
    assert nc["routers"] == [{"name": "edge-router", "subnet-gw": ["10.10.1.1", "192.168.5.1"],
                              "subnet_gateways": ["10.10.1.1", "192.168.5.1"]}]
    assert nc["gateways"] == [{"name": "edge-router", "ip": "203.0.113.5", "ips": ["203.0.113.5"]}]
    assert cc["VM_deploy_type"] == "ASSIGN" and cc["number_of_port_per_VM"] == 2
    assert cc["number_of_VM_per_node"] == 2
    # vpcs sorted by name: db-net (6 VMs + the two-NIC VM), public, web-net
    assert [v["name"] for v in nc["vpcs"]] == ["db-net", "public", "web-net"]
    assert cc["number_of_VM_per_vpc"] == [7, 0, 6]
    net_names = (tmp_path / "network_names.csv").read_text().splitlines()
    assert "security_group,default-2,sg-default-b,default" in net_names


def test_deterministic(tmp_path):
    export(small_dc(), tmp_path / "a")
    tables = small_dc()
    for name in ("hosts", "ports", "security_groups", "subnets"):
        tables[name] = tables[name].iloc[::-1].reset_index(drop=True)
    export(tables, tmp_path / "b")
    a = (tmp_path / "a" / "dcnet_scenario.json").read_bytes()
    assert a == (tmp_path / "b" / "dcnet_scenario.json").read_bytes()


def test_sample_with_derived_fabric(tmp_path, sample_tables):  # noqa: F811
    topo, doc = export(sample_tables, tmp_path, derive=True)
    check_merak(doc, topo)
    assert doc["configuration"]["network-config"]["number_of_vpcs"] == len(sample_tables["networks"])
