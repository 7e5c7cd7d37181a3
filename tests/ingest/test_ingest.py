"""Ingest: every accepted input format, provenance, order, and the bad-input contract."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from schemas import model
from pipeline.cli import app
from pipeline.errors import InputError
from pipeline.ingest import ingest_dir
from ingest_fixtures import FIP, GROUP, HOST, NETWORK, PORT, ROUTER, RULE, SERIAL, SUBNET, extra, row, write


def ingest(tmp_path: Path, files: dict, **params):
    raw = write(tmp_path / "raw", files)
    return ingest_dir(raw, {**SERIAL, **params})


# ----------------------------------------------------------------------------- formats


def test_neutron_list_form_maps_every_field(tmp_path):
    tables, rep = ingest(tmp_path, {
        "ports.json": {"ports": [PORT]}, "networks.json": {"networks": [NETWORK]},
        "subnets.json": {"subnets": [SUBNET]}, "routers.json": {"routers": [ROUTER]},
        "fips.json": {"floatingips": [FIP]}})
    assert set(tables) == set(model.TABLES)
    p = row(tables["ports"], id="p1")
    assert p["mac_address"] == "fa:16:3e:aa:bb:01"
    assert p["binding_host_id"] == "host-1" and p["binding_vif_type"] == "ovs"
    assert p["project_id"] == "proj" and p["ingest_errors"] is None
    assert p["allowed_address_pairs"] == '[{"ip_address":"10.0.0.9","mac_address":"fa:16:3e:00:00:09"}]'
    # unmapped fields are kept, compact with sorted keys
    assert p["extra"] == '{"binding:vif_details":{"bridge_name":"br-int","port_filter":true},"revision_number":4}'
    ips = tables["port_ips"]
    assert ips[["port_id", "ip_index", "subnet_id", "ip_address"]].values.tolist() == [
        ["p1", 0, "s1", "10.0.0.5"], ["p1", 1, "s2", "fd00::5"]]
    assert tables["port_security_groups"]["security_group_id"].tolist() == ["g1", "g2"]
    n = row(tables["networks"], id="n1")
    assert (n["network_type"], n["segmentation_id"], n["router_external"], n["mtu"]) == ("vxlan", 1001, False, 1450)
    assert n["availability_zones"] == '["nova"]' and extra(n) == {"subnets": ["s1"]}
    s = row(tables["subnets"], id="s1")
    assert s["host_routes"] == '[{"destination":"0.0.0.0/0","nexthop":"10.0.0.254"}]'
    assert tables["allocation_pools"][["subnet_id", "pool_index", "start", "end"]].values.tolist() == [
        ["s1", 0, "10.0.0.2", "10.0.0.100"], ["s1", 1, "10.0.0.150", "10.0.0.254"]]
    r = row(tables["routers"], id="rt1")
    assert (r["gateway_network_id"], r["enable_snat"]) == ("ext", True)
    assert r["external_fixed_ips"] == '[{"ip_address":"203.0.113.5","subnet_id":"es"}]' and r["extra"] is None
    f = row(tables["floating_ips"], id="f1")
    assert (f["floating_ip_address"], f["port_id"], f["router_id"]) == ("203.0.113.9", "p1", "rt1")
    for name, df in tables.items():  # every table conformed, empty ones included
        assert list(df.columns) == model.TABLES[name].column_names
        assert {c: str(t) for c, t in df.dtypes.items()} == model.TABLES[name].dtypes()
    assert rep["tables"]["ports"] == 1 and rep["tables"]["fabric_links"] == 0


def test_gzip_detected_by_magic_not_name(tmp_path):
    tables, rep = ingest(tmp_path, {
        "a/ports.json": gzip.compress(json.dumps({"ports": [PORT]}).encode()),  # gzip, no .gz
        "b/nets.gz": json.dumps({"networks": [NETWORK]}),                      # .gz, plain
    })
    assert len(tables["ports"]) == 1 and len(tables["networks"]) == 1
    by_file = {f["file"]: f for f in rep["files"]}
    assert by_file["a/ports.json"]["gzip"] is True and by_file["b/nets.gz"]["gzip"] is False


def test_ndjson_show_form_and_bare_objects_of_every_kind(tmp_path):
    lines = [{"port": PORT}, NETWORK, SUBNET, RULE, FIP, ROUTER, {**GROUP, "id": "g9"}, HOST,
             {"security_group_rule": {**RULE, "id": "r2"}}]
    text = "\n".join(json.dumps(x) for x in lines[:3]) + "\n\n" + "\n".join(json.dumps(x) for x in lines[3:]) + "\n"
    tables, rep = ingest(tmp_path, {"dump.ndjson": text})
    assert rep["files"][0]["format"] == "ndjson"
    assert row(tables["ports"], id="p1")["source_pos"] == 0
    assert row(tables["networks"], id="n1")["source_pos"] == 1
    assert row(tables["subnets"], id="s1")["source_pos"] == 2
    # a blank line counts: positions are line indexes
    rules = tables["security_group_rules"]
    assert rules[["id", "source_pos"]].values.tolist() == [["r1", 4], ["r1", 7], ["r2", 9]]
    assert row(tables["floating_ips"], id="f1")["source_pos"] == 5
    assert row(tables["routers"], id="rt1")["source_pos"] == 6
    assert row(tables["security_groups"], id="g9")["source_pos"] == 7
    assert row(tables["hosts"], id="node-1")["source_pos"] == 8
    assert rep["objects"] == 9 and rep["unknown_objects"] == 0


def test_pagination_across_files_keeps_order_and_positions(tmp_path):
    ports = [{**PORT, "id": f"p{i}", "mac_address": f"fa:16:3e:00:00:{i:02x}"} for i in range(5)]
    tables, rep = ingest(tmp_path, {
        "ports/page-2.json": {"ports": ports[3:], "ports_links": [{"rel": "previous", "href": "x"}]},
        "ports/page-1.json": {"ports": ports[:3], "ports_links": [{"rel": "next", "href": "y"}]},
    })
    p = tables["ports"]
    assert p["id"].tolist() == ["p0", "p1", "p2", "p3", "p4"]
    assert p["source_file"].tolist() == ["ports/page-1.json"] * 3 + ["ports/page-2.json"] * 2
    assert p["source_pos"].tolist() == [0, 1, 2, 0, 1]
    assert p["extra"].str.contains("links").sum() == 0
    assert rep["files"][0]["ignored_keys"] == ["ports_links"]


def test_openstack_cli_show_output_renamed_keys(tmp_path):
    port = {"id": "p1", "network_id": "n1", "project_id": "proj", "mac_address": "FA:16:3E:00:00:01",
            "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}], "binding_host_id": "h1",
            "binding_vif_type": "ovs", "binding_vnic_type": "direct", "is_admin_state_up": "True",
            "is_port_security_enabled": "no", "security_group_ids": ["g1"], "device_owner": "compute:az1"}
    net = {"id": "n1", "name": "ext", "is_router_external": "yes", "provider_network_type": "vlan",
           "provider_physical_network": "physnet1", "provider_segmentation_id": "101", "is_shared": "False"}
    tables, _ = ingest(tmp_path, {"port.json": port, "net.json": net})
    p = row(tables["ports"], id="p1")
    assert (p["binding_host_id"], p["binding_vif_type"], p["binding_vnic_type"]) == ("h1", "ovs", "direct")
    assert (p["admin_state_up"], p["port_security_enabled"]) == (True, False)
    assert p["extra"] is None and p["ingest_errors"] is None
    assert tables["port_security_groups"]["security_group_id"].tolist() == ["g1"]
    n = row(tables["networks"], id="n1")
    assert (n["router_external"], n["network_type"], n["physical_network"], n["segmentation_id"], n["shared"]) == (
        True, "vlan", "physnet1", 101, False)


def test_openstack_cli_list_output_title_case(tmp_path):
    ports = [{"ID": "p1", "Name": "", "MAC Address": "FA:16:3E:00:00:01",
              "Fixed IP Addresses": "ip_address='10.0.0.5', subnet_id='s1'\nip_address='10.0.1.5', subnet_id='s2'",
              "Status": "ACTIVE", "Security Groups": "g1, g2", "Device Owner": "network:router_interface",
              "Device ID": "rt1", "Network": "n1", "Project": "proj", "Tags": []},
             {"ID": "p2", "Name": "x", "MAC Address": "fa:16:3e:00:00:02",
              "Fixed IP Addresses": [{"subnet_id": "s1", "ip_address": "10.0.0.6"}],
              "Status": "DOWN", "Security Groups": ["g1"], "Device Owner": "compute:nova"}]
    nets = [{"ID": "n1", "Name": "net", "Subnets": ["s1"], "Status": "ACTIVE", "State": "UP",
             "Shared": False, "Network Type": "vxlan", "Router Type": "Internal", "Project": "proj"}]
    subnets = [{"ID": "s1", "Name": "sub", "Network": "n1", "Subnet": "10.0.0.0/24", "IP Version": 4,
                "Gateway": "10.0.0.1", "DHCP": True, "Allocation Pools": "10.0.0.2-10.0.0.254"}]
    rules = [{"ID": "r1", "IP Protocol": "tcp", "Ethertype": "IPv4", "IP Range": "0.0.0.0/0",
              "Port Range": "22:80", "Direction": "ingress", "Remote Security Group": None,
              "Security Group": "g1"},
             {"ID": "r2", "IP Protocol": None, "Ethertype": "IPv6", "IP Range": None, "Port Range": "",
              "Direction": "egress", "Remote Security Group": None, "Security Group": "g1"}]
    groups = [{"ID": "g1", "Name": "default", "Description": "Default", "Project": "proj", "Tags": []}]
    tables, rep = ingest(tmp_path, {"ports.json": ports, "nets.json": nets, "subnets.json": subnets,
                                    "rules.json": rules, "groups.json": groups})
    p1 = row(tables["ports"], id="p1")
    assert (p1["mac_address"], p1["network_id"], p1["project_id"], p1["device_id"]) == (
        "fa:16:3e:00:00:01", "n1", "proj", "rt1")
    assert extra(p1) == {"Tags": []}
    ips = tables["port_ips"]
    assert ips[["port_id", "ip_index", "subnet_id", "ip_address"]].values.tolist() == [
        ["p1", 0, "s1", "10.0.0.5"], ["p1", 1, "s2", "10.0.1.5"], ["p2", 0, "s1", "10.0.0.6"]]
    assert tables["port_security_groups"].values[:, :2].tolist() == [["p1", "g1"], ["p1", "g2"], ["p2", "g1"]]
    ri = row(tables["router_interfaces"], port_id="p1")
    assert (ri["router_id"], ri["subnet_id"], ri["ip_address"]) == ("rt1", "s1", "10.0.0.5")
    n = row(tables["networks"], id="n1")
    assert (n["admin_state_up"], n["router_external"], n["network_type"]) == (True, False, "vxlan")
    s = row(tables["subnets"], id="s1")
    assert (s["cidr"], s["network_id"], s["gateway_ip"], s["ip_version"], s["enable_dhcp"]) == (
        "10.0.0.0/24", "n1", "10.0.0.1", 4, True)
    assert tables["allocation_pools"][["start", "end"]].values.tolist() == [["10.0.0.2", "10.0.0.254"]]
    r1, r2 = row(tables["security_group_rules"], id="r1"), row(tables["security_group_rules"], id="r2")
    assert (r1["port_range_min"], r1["port_range_max"], r1["remote_ip_prefix"], r1["security_group_id"]) == (
        22, 80, "0.0.0.0/0", "g1")
    assert (r2["port_range_min"], r2["port_range_max"], r2["direction"]) == (None, None, "egress")
    g = row(tables["security_groups"], id="g1")
    assert (g["description"], g["project_id"]) == ("Default", "proj")
    assert rep["unknown_objects"] == 0


def test_alcor_objects(tmp_path):
    vpc = {"network": {"id": "vpc1", "project_id": "proj", "tenant_id": "proj", "name": "vpc",
                       "cidr": "10.0.0.0/16", "admin_state_up": True, "mtu": 1400, "port_security_enabled": True}}
    port = {"port": {"id": "p1", "network_id": "vpc1", "mac_address": "AA:BB:CC:DD:EE:01",
                     "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.1.5"}],
                     "create_at": "2026-01-01 00:00:00", "update_at": "2026-01-02 00:00:00",
                     "veth_name": "veth-p1", "fast_path": True, "network_ns": "ns-1", "mac_learning_enabled": False}}
    subnet = {"subnet": {**SUBNET, "network_id": "vpc1", "cidr": "10.0.1.0/24", "attached_router_id": "rt1",
                         "gateway_port_id": "gp1"}}
    tables, _ = ingest(tmp_path, {"vpc.json": vpc, "port.json": port, "subnet.json": subnet})
    n = row(tables["networks"], id="vpc1")
    assert (n["cidr"], n["mtu"]) == ("10.0.0.0/16", 1400)
    p = row(tables["ports"], id="p1")
    assert (p["created_at"], p["updated_at"]) == ("2026-01-01 00:00:00", "2026-01-02 00:00:00")
    assert (p["veth_name"], p["fast_path"], p["network_ns"]) == ("veth-p1", True, "ns-1")
    assert extra(p) == {"mac_learning_enabled": False}
    s = row(tables["subnets"], id="s1")
    assert s["attached_router_id"] == "rt1" and extra(s) == {"gateway_port_id": "gp1"}


def test_alcor_host_info_and_host_infos(tmp_path):
    tables, _ = ingest(tmp_path, {
        "node.json": {"host_info": HOST},
        "nodes.json": {"host_infos": [{**HOST, "node_id": "node-2", "node_name": "host-2"},
                                      {**HOST, "node_id": "node-3", "node_name": "host-3", "server_port": "50002"}]}})
    h = tables["hosts"]
    assert h[["id", "node_name", "source_file", "source_pos"]].values.tolist() == [
        ["node-1", "host-1", "node.json", 0], ["node-2", "host-2", "nodes.json", 0],
        ["node-3", "host-3", "nodes.json", 1]]
    h1 = row(h, id="node-1")
    assert (h1["mac_address"], h1["veth"], h1["server_port"], h1["ncm_id"], h1["host_dvr_mac"]) == (
        "aa:bb:cc:00:00:01", "veth0", 50001, "ncm-1", "fa:16:3f:00:00:01")
    assert row(h, id="node-3")["server_port"] == 50002


def test_csv_host_inventory(tmp_path):
    csv_text = ("node_name,local_ip,mac_address,az,rack,owner\n"
                "host-1,192.168.0.1,AA:BB:CC:DD:EE:01,az1,r01,ops\n"
                "\n"
                "host-2,192.168.0.2,aa:bb:cc:dd:ee:02,az2,r02,\n")
    tables, rep = ingest(tmp_path, {"inventory/hosts.txt": csv_text})
    h = tables["hosts"]
    assert h[["id", "node_name", "local_ip", "mac_address", "availability_zone", "rack", "source_pos"]].values.tolist() == [
        ["host-1", "host-1", "192.168.0.1", "aa:bb:cc:dd:ee:01", "az1", "r01", 0],
        ["host-2", "host-2", "192.168.0.2", "aa:bb:cc:dd:ee:02", "az2", "r02", 1]]
    assert extra(row(h, id="host-1")) == {"owner": "ops"} and row(h, id="host-2")["extra"] is None
    assert rep["files"][0]["format"] == "csv"


def test_csv_labels(tmp_path):
    tables, _ = ingest(tmp_path, {"labels.csv": "project_id,profile\nproj-a,web\nproj-b,hpc\n"})
    lab = tables["project_labels"]
    assert lab[["project_id", "profile", "source_pos"]].values.tolist() == [["proj-a", "web", 0], ["proj-b", "hpc", 1]]


def test_embedded_rules_take_the_group_id_and_position(tmp_path):
    g1 = {"id": "g1", "name": "a", "security_group_rules": [
        {k: v for k, v in RULE.items() if k != "security_group_id"}, {**RULE, "id": "r2", "security_group_id": "other"}]}
    g2 = {"id": "g2", "name": "b", "rules": [{**RULE, "id": "r3", "security_group_id": None}], "stateful": False}
    tables, _ = ingest(tmp_path, {"sg.json": {"security_groups": [g1, g2]},
                                  "sgr.json": {"security_group_rules": [{**RULE, "id": "r4"}]}})
    r = tables["security_group_rules"]
    assert r[["id", "security_group_id", "source_file", "source_pos"]].values.tolist() == [
        ["r1", "g1", "sg.json", 0], ["r2", "other", "sg.json", 0], ["r3", "g2", "sg.json", 1],
        ["r4", "g1", "sgr.json", 0]]
    g = tables["security_groups"]
    assert g["extra"].isna().all() and g["id"].tolist() == ["g1", "g2"]


def test_router_interfaces_derived_from_ports(tmp_path):
    ports = [
        {**PORT, "id": "if1", "device_owner": "network:router_interface", "device_id": "rt1"},
        {**PORT, "id": "vm", "device_owner": "compute:nova"},
        {**PORT, "id": "if2", "device_owner": "network:router_interface_distributed", "device_id": "rt2",
         "fixed_ips": [{"subnet_id": "s9", "ip_address": "10.9.0.1"}]},
        {**PORT, "id": "if3", "device_owner": "network:ha_router_replicated_interface", "device_id": "rt3",
         "fixed_ips": []},
        {**PORT, "id": "gw", "device_owner": "network:router_gateway", "device_id": "rt1"},
    ]
    tables, _ = ingest(tmp_path, {"ports.json": {"ports": ports}})
    ri = tables["router_interfaces"]
    assert ri[["port_id", "router_id", "network_id", "subnet_id", "ip_address", "source_pos"]].astype(object).where(
        ri.notna(), None).values.tolist() == [
        ["if1", "rt1", "n1", "s1", "10.0.0.5", 0], ["if2", "rt2", "n1", "s9", "10.9.0.1", 2],
        ["if3", "rt3", "n1", None, None, 3]]


def test_tenant_and_project_are_folded(tmp_path):
    nets = [{"id": "a", "tenant_id": "t1", "subnets": []},
            {"id": "b", "tenant_id": "t2", "project_id": "t2", "subnets": []},
            {"id": "c", "tenant_id": "t3", "project_id": "p3", "subnets": []},
            {"id": "d", "tenant_id": "t4", "project_id": None, "subnets": []}]
    tables, rep = ingest(tmp_path, {"n.json": {"networks": nets}})
    n = tables["networks"].set_index("id")
    assert n["project_id"].tolist() == ["t1", "t2", "p3", "t4"]
    assert n["ingest_errors"].isna().tolist() == [True, True, False, True]
    assert "'project_id' is 'p3' but 'tenant_id' is 't3'" in n.loc["c", "ingest_errors"]
    assert json.loads(n.loc["c", "extra"]) == {"subnets": [], "tenant_id": "t3"}
    assert rep["rows_with_ingest_errors"]["networks"] == 1


def test_provenance_and_children_keep_parent_position(tmp_path):
    ports = [{**PORT, "id": f"p{i}", "fixed_ips": [{"subnet_id": "s1", "ip_address": f"10.0.0.{i}"}] * 2}
             for i in range(3)]
    tables, _ = ingest(tmp_path, {"sub/dir/ports.json": {"ports": ports}})
    assert set(tables["ports"]["source_file"]) == {"sub/dir/ports.json"}
    ips = tables["port_ips"]
    assert ips[["port_id", "ip_index", "source_pos"]].values.tolist() == [
        ["p0", 0, 0], ["p0", 1, 0], ["p1", 0, 1], ["p1", 1, 1], ["p2", 0, 2], ["p2", 1, 2]]
    assert tables["port_security_groups"]["source_pos"].tolist() == [0, 0, 1, 1, 2, 2]


def test_multi_list_file_positions_are_unique_within_the_file(tmp_path):
    tables, _ = ingest(tmp_path, {"all.json": {"networks": [NETWORK], "subnets": [SUBNET],
                                               "ports": [PORT, {**PORT, "id": "p2"}]}})
    assert tables["networks"]["source_pos"].tolist() == [0]
    assert tables["subnets"]["source_pos"].tolist() == [1]
    assert tables["ports"]["source_pos"].tolist() == [2, 3]


def test_order_is_deterministic_and_independent_of_workers(tmp_path):
    ports = [{**PORT, "id": f"p{i}", "mac_address": f"fa:16:3e:00:{i // 256:02x}:{i % 256:02x}"} for i in range(400)]
    files = {"z.json": {"ports": ports[:150]}, "a/b.ndjson": "\n".join(json.dumps({"port": p}) for p in ports[150:300]),
             "m.json.gz": gzip.compress(json.dumps({"ports": ports[300:], "ports_links": []}).encode()),
             "groups.json": {"security_groups": [GROUP, {**GROUP, "id": "g2"}]},
             "rules.json": [{**RULE, "id": f"r{i}"} for i in range(60)]}
    raw = write(tmp_path / "raw", files)
    t1, r1 = ingest_dir(raw, {"workers": 1})
    t1b, _ = ingest_dir(raw, {"workers": 1})
    # tiny thresholds: a real process pool, and every file cut into several chunks
    t2, r2 = ingest_dir(raw, {"workers": 2, "pool_min_bytes": 1, "split_above_bytes": 2000, "chunk_bytes": 3000})
    assert t1["ports"]["source_file"].tolist() == ["a/b.ndjson"] * 150 + ["m.json.gz"] * 100 + ["z.json"] * 150
    for name in model.TABLES:
        pd.testing.assert_frame_equal(t1[name], t1b[name])
        pd.testing.assert_frame_equal(t1[name], t2[name])
    assert r1 == r2


def test_progress_callback_reports_each_file(tmp_path):
    raw = write(tmp_path / "raw", {"b.json": {"ports": [PORT]}, "a.json": {"networks": [NETWORK]}})
    calls = []
    ingest_dir(raw, SERIAL, on_file=lambda i, n, name: calls.append((i, n, name)))
    assert calls == [(0, 2, "a.json"), (1, 2, "a.json"), (2, 2, "b.json")]


def test_readme_and_hidden_files_are_skipped(tmp_path):
    tables, rep = ingest(tmp_path, {"README.md": "# not data", ".hidden.json": "{", ".git/x": "junk",
                                    "ports.json": {"ports": [PORT]}})
    assert [f["file"] for f in rep["files"]] == ["ports.json"] and len(tables["ports"]) == 1


# ----------------------------------------------------------------------------- values


def test_wrong_types_become_null_with_error_and_raw_kept(tmp_path):
    net = {**NETWORK, "mtu": "jumbo", "shared": "maybe", "provider:segmentation_id": {"vni": 5}, "name": ["x"]}
    rule = {**RULE, "port_range_min": "ssh", "port_range_max": "80"}
    tables, rep = ingest(tmp_path, {"n.json": {"networks": [net]}, "r.json": {"security_group_rules": [rule]}})
    n = row(tables["networks"], id="n1")
    assert (n["mtu"], n["shared"], n["segmentation_id"], n["name"]) == (None, None, None, None)
    assert n["ingest_errors"].split("; ") == [
        "name: expected string, got [\"x\"]", "shared: expected boolean, got 'maybe'",
        "mtu: expected integer, got 'jumbo'", "segmentation_id: expected integer, got {\"vni\":5}"]
    assert extra(n) == {"mtu": "jumbo", "shared": "maybe", "segmentation_id": {"vni": 5}, "name": ["x"],
                        "subnets": ["s1"]}
    r = row(tables["security_group_rules"], id="r1")
    assert (r["port_range_min"], r["port_range_max"]) == (None, 80)
    assert r["ingest_errors"] == "port_range_min: expected integer, got 'ssh'"
    assert rep["rows_with_ingest_errors"] == {**{t: 0 for t in model.TABLES}, "networks": 1, "security_group_rules": 1}


def test_semantically_bad_but_well_typed_values_are_kept(tmp_path):
    rule = {**RULE, "port_range_min": -5, "port_range_max": 70000, "direction": "sideways"}
    port = {**PORT, "mac_address": "not-a-mac", "fixed_ips": [{"subnet_id": "s1", "ip_address": "fd00::1"}]}
    tables, _ = ingest(tmp_path, {"r.json": {"security_group_rules": [rule, rule]},
                                  "p.json": {"ports": [port, port]}})
    r = tables["security_group_rules"]
    assert r["port_range_min"].tolist() == [-5, -5] and r["direction"].tolist() == ["sideways"] * 2
    assert r["ingest_errors"].isna().all()
    assert tables["ports"]["mac_address"].tolist() == ["not-a-mac"] * 2  # duplicates kept too
    assert tables["ports"]["ingest_errors"].isna().all()


def test_bad_children_are_reported_on_the_parent(tmp_path):
    ports = [{**PORT, "id": "a", "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.1", "note": "x"}, 7]},
             {**PORT, "id": "b", "fixed_ips": 5, "security_groups": [1, "g1"]}]
    tables, _ = ingest(tmp_path, {"p.json": {"ports": ports}})
    a, b = row(tables["ports"], id="a"), row(tables["ports"], id="b")
    assert a["ingest_errors"] == "fixed_ips[1]: expected an object, got 7"
    assert extra(a)["fixed_ips"] == ports[0]["fixed_ips"]
    assert "fixed_ips: expected a list" in b["ingest_errors"] and "security_groups: expected an id string, got 1" in b["ingest_errors"]
    assert extra(b)["fixed_ips"] == 5 and extra(b)["security_groups"] == [1, "g1"]
    assert tables["port_ips"][["port_id", "ip_index"]].values.tolist() == [["a", 0]]
    assert tables["port_security_groups"].values[:, :2].tolist() == [["a", "g1"], ["a", "g2"], ["b", "g1"]]


def test_child_value_of_wrong_type_marks_the_child_row(tmp_path):
    port = {**PORT, "fixed_ips": [{"subnet_id": "s1", "ip_address": ["10.0.0.1"]}]}
    tables, _ = ingest(tmp_path, {"p.json": {"ports": [port]}})
    ip = row(tables["port_ips"], port_id="p1")
    assert ip["ip_address"] is None and ip["ingest_errors"] == "ip_address: expected string, got [\"10.0.0.1\"]"


# ----------------------------------------------------------------------------- bad input


BAD_FILES = {
    "malformed": ('{"ports": [\n  {"id": "p1",\n   "name": x}\n]}', "malformed JSON at line 3 column"),
    "truncated_gzip": (gzip.compress(json.dumps({"ports": [PORT] * 20}).encode())[:60], "corrupt or truncated gzip"),
    "non_utf8_json": (b'{"ports": [{"id": "p\xff1"}]}', "not valid UTF-8"),
    "non_utf8_csv": (b"node_name,local_ip\nh\xe9te,10.0.0.1\n", "not valid UTF-8"),
    "empty": (b"", "empty file"),
    "blank": (b"  \n\n", "empty file"),
    "array_of_numbers": ("[1, 2, 3]", "expected an array of objects, item 0 is a number"),
    "bare_number": ("42", "expected a JSON object or an array of objects, got a number"),
    "list_of_numbers": ('{"ports": [1, 2]}', "'ports' item 0 is a number, expected an object"),
    "csv_header": ("a,b,c\n1,2,3\n", "unrecognized CSV header 'a,b,c'"),
    "ndjson_bad_line": ('{"port": {"id": "a"}}\n{"port": \n', "malformed JSON at line 2 column"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_one_line_input_error_naming_the_file(tmp_path, case):
    content, expected = BAD_FILES[case]
    raw = write(tmp_path / "raw", {"good.json": {"ports": [PORT]}, f"sub/{case}.dat": content})
    with pytest.raises(InputError) as e:
        ingest_dir(raw, SERIAL)
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"{raw}/sub/{case}.dat: ")
    assert expected in msg


def test_on_bad_file_skip_reports_and_goes_on(tmp_path):
    tables, rep = ingest(tmp_path, {"a.json": "{oops", "b.json": {"ports": [PORT]}, "c.csv": "x,y\n"},
                         on_bad_file="skip")
    assert len(tables["ports"]) == 1
    assert [s["file"] for s in rep["skipped_files"]] == ["a.json", "c.csv"]
    assert "malformed JSON at line 1" in rep["skipped_files"][0]["reason"]
    assert rep["files_total"] == 3 and rep["files_ingested"] == 1


def test_unknown_resources_are_reported_not_fatal(tmp_path):
    tables, rep = ingest(tmp_path, {
        "lb.json": {"load_balancers": [{"id": "lb1"}, {"id": "lb2"}]},
        "mixed.ndjson": json.dumps({"port": PORT}) + "\n" + json.dumps({"id": "x", "color": "red"}) + "\n",
        "both.json": {"networks": [NETWORK], "pools": [{"id": "pool"}]}})
    assert len(tables["ports"]) == 1 and len(tables["networks"]) == 1
    unknown = {(u["file"], u["objects"]): u["reason"] for u in rep["unknown_files"]}
    assert unknown[("lb.json", 2)] == "unknown resource key(s) 'load_balancers'"
    assert unknown[("both.json", 1)] == "unknown resource key 'pools'"
    assert "not recognised" in unknown[("mixed.ndjson", 1)]
    assert rep["unknown_objects"] == 4
    # every object is accounted for: recognised + unknown
    assert rep["objects"] + rep["unknown_objects"] == 2 + 4


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        ingest_dir(tmp_path / "nope", SERIAL)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("docs only")
    with pytest.raises(InputError, match="no data files"):
        ingest_dir(tmp_path / "empty", SERIAL)


def test_bad_params_are_input_errors(tmp_path):
    raw = write(tmp_path / "raw", {"p.json": {"ports": [PORT]}})
    with pytest.raises(InputError, match="on_bad_file"):
        ingest_dir(raw, {"on_bad_file": "ignore"})
    with pytest.raises(InputError, match="workers"):
        ingest_dir(raw, {"workers": "many"})


# ----------------------------------------------------------------------------- CLI


def _cli(tmp_path, raw: Path, **params):
    pfile = tmp_path / "params.yaml"
    pfile.write_text(json.dumps({"ingest": {"workers": 1, **params}}))  # JSON is YAML
    out = tmp_path / "interim"
    res = CliRunner().invoke(app, ["ingest", "--input", str(raw), "--out", str(out), "--params", str(pfile)])
    return res, out


def test_cli_ingest_writes_tables_and_report(tmp_path):
    raw = write(tmp_path / "raw", {"p.json": {"ports": [PORT]}, "lb.json": {"load_balancers": []}})
    res, out = _cli(tmp_path, raw)
    assert res.exit_code == 0, res.stderr
    assert sorted(p.stem for p in out.glob("*.parquet")) == sorted(model.TABLES)
    assert pd.read_parquet(out / "ports.parquet")["id"].tolist() == ["p1"]
    rep = json.loads((out / "_ingest_report.json").read_text())
    assert rep["tables"]["ports"] == 1 and rep["unknown_files"][0]["file"] == "lb.json"


@pytest.mark.parametrize("case", ["malformed", "truncated_gzip", "array_of_numbers", "non_utf8_csv"])
def test_cli_bad_file_exits_nonzero_with_one_line(tmp_path, case):
    raw = write(tmp_path / "raw", {"x/" + case + ".json": BAD_FILES[case][0]})
    res, out = _cli(tmp_path, raw)
    assert res.exit_code != 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in res.stderr and "Traceback" not in res.stdout
    assert f"{raw}/x/{case}.json" in lines[0] and BAD_FILES[case][1] in lines[0]
    assert not out.exists()


def test_messages_stay_on_one_line(tmp_path):
    raw = write(tmp_path / "raw", {"odd\nname.csv": '"a\nb",c\n1,2\n'})
    with pytest.raises(InputError) as e:
        ingest_dir(raw, SERIAL)
    assert "\n" not in str(e.value) and "odd\\nname.csv" in str(e.value) and "unrecognized CSV header" in str(e.value)
