"""The reference data center: hosts, formats, infrastructure ports, labels and each kind's structure."""

from __future__ import annotations

import gzip
import json
import re
import statistics
from collections import defaultdict

import pytest

from pipeline import sample
from tests.sample import sample_fixtures as fx
from tests.sample.sample_fixtures import MAC_RE, SAMPLE, host_of, sample_params


@pytest.fixture(scope="module")
def committed() -> dict:
    return fx.read_committed()


def test_hosts_zones_and_racks(committed):
    p = sample_params()
    names = [r["o"]["node_name"] for r in committed["hosts"]]
    assert len(names) == len(set(names))
    compute = [n for n in names if "-cn" in n]
    assert len(compute) == p["zones"] * p["racks_per_zone"] * p["hosts_per_rack"]
    assert all(re.fullmatch(r"az\d-r\d\d-(cn|nn)\d\d", n) for n in names)
    alcor = [r["o"] for r in committed["hosts"] if r["file"] == sample.F_NODES]
    inv = [r["o"] for r in committed["hosts"] if r["file"] == sample.F_INVENTORY]
    assert alcor and all(h["node_name"].startswith("az1-") and h["server_port"] == 50001 for h in alcor)
    assert inv and all(h["node_name"].startswith(h["availability_zone"] + "-" + h["rack"]) for h in inv)
    macs = [h["mac_address"] for h in alcor + inv]
    assert len(set(macs)) == len(macs) and all(MAC_RE.match(m) for m in macs)
    # VM ports live on a host of their zone.
    for r in committed["ports"]:
        o = r["o"]
        if o["device_owner"].startswith("compute:") and host_of(o) in names:
            assert host_of(o).startswith(o["device_owner"].split(":")[1] + "-")


def test_formats_present(committed):
    files = {r["file"] for rows in committed.values() for r in rows}
    pages = sorted(f for f in files if f.startswith("neutron_ports_page"))
    assert len(pages) >= 2
    for f in pages[:-1]:
        doc = json.loads(gzip.decompress((SAMPLE / f).read_bytes()))
        assert any(l["rel"] == "next" and "marker=" + doc["ports"][-1]["id"] in l["href"] for l in doc["ports_links"])
    assert any(f.startswith("osc_port_show_") for f in files)
    assert any(f.startswith("osc_network_show_") for f in files)
    assert any(f.startswith("neutron_port_show_") for f in files)
    assert any(".ndjson" in f for f in files)
    assert committed["rules"] and any(r["file"] == sample.F_RULES for r in committed["rules"])
    alcor_ports = [r["o"] for r in committed["ports"] if r["file"].startswith("alcor_")]
    assert alcor_ports and all("create_at" in p and "veth_name" in p and "fast_path" in p for p in alcor_ports)
    assert all(r["o"].get("cidr") for r in committed["networks"] if r["file"].startswith("alcor_"))
    neutron = [r["o"] for r in committed["ports"] if r["file"].startswith("neutron_ports")]
    assert all(p["tenant_id"] == p["project_id"] for p in neutron)
    assert not any("tenant_id" in r["o"] for rows in committed.values() for r in rows if r["file"].startswith("osc_"))
    ports = len({r["o"]["id"] for r in committed["ports"]})
    assert 5000 <= ports <= 15000
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) <= 10 * 2 ** 20


def test_infrastructure_ports(committed):
    ports = [r["o"] for r in committed["ports"]]
    subnets = {r["o"]["id"]: r["o"] for r in committed["subnets"]}
    ext = {r["o"]["id"] for r in committed["networks"]
           if r["o"].get("router:external", r["o"].get("is_router_external"))}
    assert len(ext) == 1
    owners = defaultdict(int)
    for p in ports:
        owners[p["device_owner"].split(":")[0] if p["device_owner"].startswith("compute:") else p["device_owner"]] += 1
        if p["device_owner"] == "network:dhcp":
            for fx in p["fixed_ips"]:   # DHCP sits at the start of the pool
                assert fx["ip_address"] == subnets[fx["subnet_id"]]["allocation_pools"][0]["start"]
        if p["device_owner"] in ("network:router_gateway", "network:floatingip"):
            assert p["network_id"] in ext
    for o in ("compute", "network:dhcp", "network:router_interface", "network:router_gateway",
              "network:floatingip", "Octavia", ""):
        assert owners[o] > 0, o
    assert owners[""] < 0.01 * len(ports)   # a few unbound ports
    port_ips = {p["id"]: {f["ip_address"] for f in p["fixed_ips"]} for p in ports}
    for r in committed["fips"]:
        f = r["o"]
        if f["port_id"]:
            assert f["fixed_ip_address"] in port_ips[f["port_id"]]
            assert f["router_id"]


def projects_by_kind(committed) -> dict[str, list[str]]:
    out = defaultdict(list)
    for r in committed["labels"]:
        out[r["o"]["profile"]].append(r["o"]["project_id"])
    return out


def test_labels_and_naming_convention(committed):
    labels = {r["o"]["project_id"]: r["o"]["profile"] for r in committed["labels"]}
    projects = {r["o"]["project_id"] for r in committed["networks"]} - {""}
    tenants = {r["o"]["project_id"] for r in committed["security_groups"]}
    assert set(labels) <= tenants and set(sample.KINDS) == set(labels.values())
    assert 0.5 <= len(labels) / len(tenants) <= 0.7
    assert tenants <= projects
    named = {}
    for r in committed["subnets"]:
        parts = r["o"]["name"].split("-")
        if len(parts) >= 3 and parts[0] == sample.SITE:
            named[r["o"]["project_id"]] = parts[1]
    assert 0.35 <= len(named) / len(tenants) <= 0.65
    both = [p for p in named if p in labels]
    wrong = [p for p in both if named[p] != labels[p]]
    assert 1 <= len(wrong) <= 3 and len(both) - len(wrong) >= 10
    assert set(named) - set(labels) and set(labels) - set(named)   # partial overlap


def test_kinds_show_their_typical_structure(committed):
    kinds = projects_by_kind(committed)
    rules = defaultdict(list)
    for r in committed["rules"]:
        rules[r["o"]["project_id"]].append(r["o"])
    prefixes = defaultdict(list)
    for r in committed["subnets"]:
        if r["o"]["ip_version"] == 4:
            prefixes[r["o"]["project_id"]].append(int(r["o"]["cidr"].split("/")[1]))
    fip_projects = {r["o"]["project_id"] for r in committed["fips"]}
    ports = defaultdict(list)
    for r in committed["ports"]:
        ports[r["o"]["project_id"]].append(r["o"])

    def opens(p, port, prefix=None, group=False):
        return any(x["port_range_min"] == port and (prefix is None or x["remote_ip_prefix"] == prefix)
                   and (not group or x["remote_group_id"]) for x in rules[p])

    def median_prefix(kind):
        return statistics.median(pl for p in kinds[kind] for pl in prefixes[p])

    assert all(opens(p, 443, "0.0.0.0/0") for p in kinds["web"])
    assert sum(opens(p, 3306, group=True) for p in kinds["web"]) >= len(kinds["web"]) // 2
    assert any(x["device_owner"] == "Octavia" for p in kinds["web"] for x in ports[p])
    assert all(opens(p, 22, "0.0.0.0/0") for p in kinds["devtest"])
    assert all(opens(p, 6443) for p in kinds["kubernetes"])
    assert all(any(x["allowed_address_pairs"] for x in ports[p]) for p in kinds["kubernetes"])
    assert all(opens(p, 8020, group=True) for p in kinds["bigdata"])
    assert all(any(opens(p, port) for port in (3306, 5432, 27017)) for p in kinds["database"])
    assert not fip_projects & set(kinds["hpc"] + kinds["database"])
    assert all(p in fip_projects for p in kinds["web"] + kinds["kubernetes"]
               if any(x["device_owner"] == "Octavia" for x in ports[p]) or p in kinds["kubernetes"])
    # Subnet sizes order the kinds (with overlap: medians of the labelled projects may tie).
    assert median_prefix("hpc") <= 22 and median_prefix("bigdata") <= 23
    assert 24 <= median_prefix("web") <= median_prefix("database")
    assert median_prefix("devtest") >= 24
    vms = {k: statistics.median(sum(x["device_owner"].startswith("compute:") for x in ports[p]) for p in kinds[k])
           for k in kinds}
    assert vms["hpc"] > vms["bigdata"] > vms["web"] > max(vms["database"], vms["devtest"])
    # hpc packs many VMs per host; bigdata spreads them (a VM may have several ports).
    def per_host(p):
        vm = {x["device_id"]: host_of(x) for x in ports[p] if x["device_owner"].startswith("compute:")}
        return len(vm) / len(set(vm.values()))
    assert min(per_host(p) for p in kinds["hpc"]) > 10 > 2 > max(per_host(p) for p in kinds["bigdata"])
