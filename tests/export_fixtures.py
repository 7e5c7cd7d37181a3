"""Shared inputs for the export tests: a small hand-built data center and the real sample."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from schemas import model
from pipeline.fabric import build_fabric

ROOT = Path(__file__).resolve().parents[1]
INJECTION = 'x"); import os; ("'


def _frame(table, rows):
    return model.conform(pd.DataFrame(rows), table)


def small_dc(n_hosts: int = 6, vms_per_host: int = 2, hosts_per_rack: int = 3,
             host_names=None, fabric: dict | None = None, with_fabric: bool = True) -> dict:
    """A complete, valid little data center: 2 projects, a VPC + subnet each (one IPv6 subnet),
    security groups with rules (one referencing another group), a router with interfaces and an
    external gateway, VMs (one with two NICs), a DHCP port, a floating IP, and the fabric."""
    names = host_names or [f"cn{i:02d}" for i in range(n_hosts)]
    hosts = _frame("hosts", {
        "id": [f"node-{i:04d}" for i in range(n_hosts)],
        "node_name": names,
        "local_ip": [f"10.1.0.{i + 10}" for i in range(n_hosts)],
        "mac_address": [f"3c:fd:fe:00:00:{i:02x}" for i in range(n_hosts)],
        "veth": ["veth0"] * n_hosts, "server_port": [50001] * n_hosts,
        "availability_zone": ["az1"] * n_hosts,
        "rack": [f"r{i // hosts_per_rack + 1}" for i in range(n_hosts)],
    })
    nets = _frame("networks", {
        "id": ["net-a", "net-b", "net-ext"], "project_id": ["pa", "pb", "admin"],
        "name": ["web-net", "db-net", "public"], "admin_state_up": [True] * 3,
        "status": ["ACTIVE"] * 3, "shared": [False, False, True], "mtu": [1450, 1450, 1500],
        "router_external": [False, False, True], "network_type": ["vxlan", "vxlan", "flat"],
        "segmentation_id": [101, 102, None], "cidr": ["10.10.0.0/16", None, None],
        "availability_zones": ['["az1"]', "[]", "[]"],
    })
    subnets = _frame("subnets", {
        "id": ["sub-a", "sub-b", "sub-b6", "sub-ext"], "network_id": ["net-a", "net-b", "net-b", "net-ext"],
        "project_id": ["pa", "pb", "pb", "admin"], "name": ["web-app-1", "db-main", "db-v6", "public-v4"],
        "cidr": ["10.10.1.0/24", "192.168.5.0/24", "fd00:5::/64", "203.0.113.0/24"],
        "ip_version": [4, 4, 6, 4], "gateway_ip": ["10.10.1.1", "192.168.5.1", "fd00:5::1", "203.0.113.1"],
        "enable_dhcp": [True, True, True, False],
        "dns_nameservers": ['["8.8.8.8"]', "[]", "[]", "[]"], "host_routes": ["[]"] * 4,
    })
    pools = _frame("allocation_pools", {
        "subnet_id": ["sub-a", "sub-a", "sub-b"], "pool_index": [0, 1, 0],
        "start": ["10.10.1.10", "10.10.1.100", "192.168.5.10"],
        "end": ["10.10.1.50", "10.10.1.200", "192.168.5.200"],
    })
    sgs = _frame("security_groups", {
        "id": ["sg-web", "sg-db", "sg-default-a", "sg-default-b"], "project_id": ["pa", "pb", "pa", "pb"],
        "name": ["web", "db", "default", "default"], "description": ["", "", "", ""],
        "stateful": [True] * 4,
    })
    rules = _frame("security_group_rules", {
        "id": ["r1", "r2", "r3", "r4"], "security_group_id": ["sg-web", "sg-web", "sg-db", "sg-db"],
        "project_id": ["pa", "pa", "pb", "pb"], "direction": ["ingress", "egress", "ingress", "ingress"],
        "ethertype": ["IPv4", "IPv4", "IPv4", "IPv6"], "protocol": ["tcp", None, "tcp", "icmpv6"],
        "port_range_min": [80, None, 5432, None], "port_range_max": [443, None, 5432, None],
        "remote_ip_prefix": ["0.0.0.0/0", None, None, None],
        "remote_group_id": [None, None, "sg-web", None],
    })
    routers = _frame("routers", {
        "id": ["rtr-1"], "project_id": ["pa"], "name": ["edge-router"], "admin_state_up": [True],
        "status": ["ACTIVE"], "distributed": [False], "ha": [False],
        "gateway_network_id": ["net-ext"], "enable_snat": [True],
        "external_fixed_ips": ['[{"ip_address":"203.0.113.5","subnet_id":"sub-ext"}]'],
        "routes": ["[]"],
    })
    ports, ips, psg = [], [], []
    k = 0
    for h in range(n_hosts):
        for v in range(vms_per_host):
            proj = "pa" if (h + v) % 2 == 0 else "pb"
            vm = f"vm-{h:03d}-{v:02d}"
            nics = 2 if (h, v) == (0, 0) else 1
            for n in range(nics):
                pid = f"port-{k:05d}"
                net, sub, sg = (("net-a", "sub-a", "sg-web") if proj == "pa" and n == 0
                                else ("net-b", "sub-b", "sg-db"))
                ports.append({"id": pid, "network_id": net, "project_id": proj, "name": "",
                              "mac_address": f"fa:16:3e:00:{k // 256:02x}:{k % 256:02x}",
                              "device_id": vm, "device_owner": "compute:az1",
                              "binding_host_id": names[h], "admin_state_up": True,
                              "status": "ACTIVE", "allowed_address_pairs": "[]"})
                base = "10.10.1" if sub == "sub-a" else "192.168.5"
                ips.append({"port_id": pid, "ip_index": 0, "subnet_id": sub,
                            "ip_address": f"{base}.{60 + k}"})
                if sub == "sub-b":
                    ips.append({"port_id": pid, "ip_index": 1, "subnet_id": "sub-b6",
                                "ip_address": f"fd00:5::{k + 16:x}"})
                psg.append({"port_id": pid, "security_group_id": sg})
                k += 1
    for pid, sub, net, ip, owner, dev in (
            ("port-if-a", "sub-a", "net-a", "10.10.1.1", "network:router_interface", "rtr-1"),
            ("port-if-b", "sub-b", "net-b", "192.168.5.1", "network:router_interface", "rtr-1"),
            ("port-dhcp", "sub-a", "net-a", "10.10.1.2", "network:dhcp", "dhcp-agent"),
            ("port-gw", "sub-ext", "net-ext", "203.0.113.5", "network:router_gateway", "rtr-1")):
        ports.append({"id": pid, "network_id": net, "project_id": "pa", "name": "",
                      "mac_address": f"fa:16:3e:ff:00:{len(ports) % 256:02x}", "device_id": dev,
                      "device_owner": owner, "binding_host_id": names[0], "admin_state_up": True,
                      "status": "ACTIVE"})
        ips.append({"port_id": pid, "ip_index": 0, "subnet_id": sub, "ip_address": ip})
    ports_df = _frame("ports", pd.DataFrame(ports))
    ips_df = _frame("port_ips", pd.DataFrame(ips))
    ri = _frame("router_interfaces", {
        "port_id": ["port-if-a", "port-if-b"], "router_id": ["rtr-1", "rtr-1"],
        "network_id": ["net-a", "net-b"], "subnet_id": ["sub-a", "sub-b"],
        "ip_address": ["10.10.1.1", "192.168.5.1"]})
    fips = _frame("floating_ips", {
        "id": ["fip-1"], "project_id": ["pa"], "floating_network_id": ["net-ext"],
        "floating_ip_address": ["203.0.113.20"], "fixed_ip_address": ["10.10.1.60"],
        "port_id": ["port-00000"], "router_id": ["rtr-1"], "status": ["ACTIVE"]})
    tables = {t: model.empty_frame(t) for t in model.TABLES}
    tables.update(hosts=hosts, networks=nets, subnets=subnets, allocation_pools=pools, ports=ports_df,
                  port_ips=ips_df, port_security_groups=_frame("port_security_groups", pd.DataFrame(psg)),
                  security_groups=sgs, security_group_rules=rules, routers=routers,
                  router_interfaces=ri, floating_ips=fips)
    if with_fabric:
        sw, fl = build_fabric(hosts, fabric or {"topology": "leaf_spine", "hosts_per_rack": hosts_per_rack})
        tables["fabric_switches"], tables["fabric_links"] = sw, fl
    for name, df in tables.items():  # provenance, so the tables also pass validation
        df["source_file"] = pd.array([f"fixture/{name}.json"] * len(df), dtype="string")
        df["source_pos"] = pd.array(range(len(df)), dtype="Int64")
    return tables


def compute_port_count(tables) -> int:
    return int(tables["ports"]["device_owner"].fillna("").str.startswith("compute:").sum())


def vm_count(tables) -> int:
    p = tables["ports"]
    return int(p.loc[p["device_owner"].fillna("").str.startswith("compute:"), "device_id"].nunique())


@pytest.fixture(scope="session")
def sample_tables():
    """The embedded sample, ingested and validated in-process (real validated tables)."""
    from pipeline.ingest import ingest_dir
    from pipeline.validate import validate_tables

    tables, _ = ingest_dir(ROOT / "data" / "raw" / "sample", {})
    return validate_tables(tables, {}).valid


def load_schema():
    """containerlab's own JSON Schema, vendored in schemas/consumers/."""
    from pipeline.check_export.core import load_contract

    return load_contract("containerlab.schema.json")


# ---------------------------------------------------------------------------------------------
# Checks shared by the per-format tests and the end-to-end runs (sample, synthetic)
# ---------------------------------------------------------------------------------------------

PROVENANCE = {"source_file", "source_pos", "ingest_errors", "extra"}
ROUND_TRIP_TABLES = ("hosts", "networks", "subnets", "allocation_pools", "ports", "port_ips",
                     "port_security_groups", "security_groups", "security_group_rules", "routers",
                     "router_interfaces", "floating_ips")


def load_mininet_topo(module_path: Path, *args, **kwargs):
    """Load the generated module the way `mn --custom` does (exec, no __file__) and build it."""
    customs: dict = {}
    code = compile(module_path.read_text(), str(module_path), "exec")
    exec(code, customs, customs)  # noqa: S102 - this is how mn loads custom files
    return customs["topos"]["dcnet"](*args, **kwargs)


def check_mininet(out: Path, topo) -> None:
    t = load_mininet_topo(out / "mininet" / "dcnet_topo.py")
    assert len(t.hosts()) == topo.count("vm")
    assert len(t.switches()) == topo.count("switch") + topo.count("host")
    assert len(t.links()) == len(topo.links)
    assert max(len(n) for n in t.nodes()) <= 8
    from pipeline.check_export import distrinet

    report = distrinet.check(out / "mininet")
    assert report.ok, report.to_dict()


def check_containerlab(out: Path, schema: bool = True) -> int:
    """Every lab file valid under containerlab's schema (~1 s per 1,000 nodes, so the big
    sample is schema-checked once, in test_export_containerlab), every endpoint a defined node.
    Returns the number of links over all files."""
    import jsonschema
    import yaml

    validator = jsonschema.Draft7Validator(load_schema()) if schema else None
    files = sorted((out / "containerlab").glob("*.clab.yml"))
    assert files
    n_links = 0
    for f in files:
        doc = yaml.load(f.read_text(), Loader=yaml.CSafeLoader)
        errors = list(validator.iter_errors(doc)) if validator else []
        assert not errors, f"{f.name}: {errors[0].message[:300]}"
        nodes = set(doc["topology"]["nodes"])
        for link in doc["topology"].get("links", []):
            eps = link["endpoints"]
            names = [e.split(":")[0] if isinstance(e, str) else e["node"] for e in eps]
            assert set(names) <= nodes, (f.name, names)
            n_links += 1
    from pipeline.check_export import containerlab

    report = containerlab.check(out / "containerlab")
    assert report.ok, report.to_dict()
    return n_links


def check_merak(doc: dict, topo, folder: Path | None = None) -> None:
    """The bodies agree with the topology and with each other, and (given the folder) pass
    dcnet's Merak contract check."""
    c = doc["configuration"]
    t, nc, cc = c["topology"], c["network-config"], c["compute-config"]
    vnames = [v["name"] for v in t["vnodes"]]
    assert len(vnames) == len(set(vnames))
    intfs = {(v["name"], n["name"]) for v in t["vnodes"] for n in v["nics"]}
    for link in t["vlinks"]:
        for end in (link["from"], link["to"]):
            node, _, intf = end.rpartition(":")
            assert (node, intf) in intfs, end
    assert t["number_of_vhosts"] == sum(v["type"] == "vhost" for v in t["vnodes"]) \
        == cc["number_of_compute_nodes"] == topo.count("host")
    assert t["number_of_racks"] * t["vhosts_per_rack"] >= t["number_of_vhosts"]
    assert nc["number_of_vpcs"] == len(nc["vpcs"])
    cidrs = [s["subnet_cidr"] for v in nc["vpcs"] for s in v["subnet_info"]]
    for r in nc["routers"]:
        assert set(r["subnet_gateways"]) <= set(cidrs)
    for v in cc["vpc_info"]:
        for s in v["subnet_info"]:
            assert s["subnet_cidr"] in cidrs and s["number_of_vms"] % cc["number_of_compute_nodes"] == 0
    sg_names = [g["name"] for g in nc["security_groups"]]
    assert len(sg_names) == len(set(sg_names)) == nc["number_of_security_groups"]
    if folder is not None:
        from pipeline.check_export import merak

        report = merak.check(folder)
        assert report.ok, report.to_dict()


# Columns the Alcor export changes on purpose (pipeline/export/alcor/, counted per reason in
# its summary): not compared by the round trip.
ALCOR_CHANGED = {
    "hosts": {"server_port", "ncm_id", "ncm_uri"},
    "networks": {"segmentation_id", "cidr"},
    "subnets": {"attached_router_id", "gateway_ip", "project_id"},
    "ports": {"binding_host_id", "binding_vif_type", "binding_vnic_type", "mac_address"},
    "routers": {"routes", "gateway_network_id", "enable_snat", "external_fixed_ips"},
    "security_groups": {"name"},
    "security_group_rules": {"security_group_id", "remote_group_id", "protocol"},
    "floating_ips": {"floating_network_id", "router_id", "status", "port_id", "fixed_ip_address"},
}
ALCOR_ROWS_BY_KEY = ("hosts", "networks", "subnets", "allocation_pools", "ports", "security_groups",
                     "security_group_rules", "routers", "floating_ips")


def alcor_round_trip(stream: Path, tables: dict, tmp: Path) -> dict:
    """Ingest the stream's bodies with dcnet's own ingest: every row that comes back equals
    the exported table's row on the model columns the export does not change on purpose, and
    nothing comes back that was not exported (split routers aside). Returns the tables."""
    from pipeline.export.alcor import stream_to_dump
    from pipeline.ingest import ingest_dir

    dump = tmp / "alcor_dump"
    dump.mkdir(parents=True, exist_ok=True)
    (dump / "alcor_bodies.ndjson").write_bytes(stream_to_dump(stream.read_bytes().splitlines()))
    back, rep = ingest_dir(dump, {})
    assert not rep["unknown_files"] and not rep["skipped_files"]
    for name in ALCOR_ROWS_BY_KEY:
        t = model.TABLES[name]
        cols = [c for c in t.column_names if c not in PROVENANCE and c not in ALCOR_CHANGED.get(name, ())]
        key = list(t.key)
        a = tables[name][cols].set_index(key)
        b = back[name][cols].set_index(key)
        if name == "routers":  # a router spanning VPCs comes back as one router per VPC
            b = b[b.index.isin(a.index)]
        assert b.index.isin(a.index).all(), (name, list(b.index[~b.index.isin(a.index)][:5]))
        a = a.loc[b.index]
        pd.testing.assert_frame_equal(a.sort_index(), b.sort_index(), check_dtype=False, obj=name)
    ips = set(zip(tables["port_ips"]["port_id"], tables["port_ips"]["subnet_id"],
                  tables["port_ips"]["ip_address"]))
    assert set(zip(back["port_ips"]["port_id"], back["port_ips"]["subnet_id"],
                   back["port_ips"]["ip_address"])) <= ips
    groups = set(zip(tables["port_security_groups"]["port_id"],
                     tables["port_security_groups"]["security_group_id"]))
    for pid, sg in zip(back["port_security_groups"]["port_id"],
                       back["port_security_groups"]["security_group_id"]):
        assert (pid, sg) in groups or sg.startswith("{{default_sg."), (pid, sg)
    return back


def check_graphml(out: Path, topo) -> None:
    import networkx as nx

    g = nx.read_graphml(out / "graphml" / "dcnet.graphml")
    assert g.number_of_nodes() == len(topo.nodes)
    assert g.number_of_edges() == len(topo.links)
