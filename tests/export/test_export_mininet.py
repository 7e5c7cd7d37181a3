"""Mininet / Distrinet module: built with the real `mininet` package (Topo needs no root)."""

from __future__ import annotations

import ast
import csv
import os

import pytest

from export_fixtures import (INJECTION, compute_port_count, load_mininet_topo, sample_tables,  # noqa: F401
                             small_dc, vm_count)
from pipeline.export import mininet as export_mininet
from pipeline.export.topology import build_topology

pytest.importorskip("mininet.topo")


def write(tables, out, **params):
    topo = build_topology(tables)
    out.mkdir(parents=True, exist_ok=True)
    summary = export_mininet.write(topo, out, params)
    return topo, summary


def test_inline_module_builds_and_counts_match_the_input(tmp_path):
    tables = small_dc()
    topo, summary = write(tables, tmp_path)
    assert summary["inline"] and not (tmp_path / "dcnet_topo.json").exists()
    assert summary["left_out"] == {"IPv6 NIC addresses (Mininet's ip is IPv4 only)": 7}
    t = load_mininet_topo(tmp_path / "dcnet_topo.py")
    n_fabric = len(tables["fabric_switches"])
    assert len(t.hosts()) == vm_count(tables) == 12
    assert len(t.switches()) == n_fabric + len(tables["hosts"])
    assert len(t.links()) == len(tables["fabric_links"]) + compute_port_count(tables)
    assert all(len(n) <= 8 for n in t.nodes())  # `<name>-eth<N>` fits 15 characters

    names = {r["id"]: r for r in csv.DictReader(open(tmp_path / "names.csv"))}
    # the two-NIC VM: host ip/mac = first NIC, both NICs' addresses on their link interfaces
    vm = names["vm-000-00"]["short"]
    info = t.nodeInfo(vm)
    assert info["ip"] == "10.10.1.60/24" and info["mac"] == "fa:16:3e:00:00:00"
    nic_opts = sorted((o["cls1"].keywords["ip"], o.get("addr1"))
                      for a, b, o in t.links(withInfo=True) if vm in (a, b))
    assert nic_opts == [("10.10.1.60/24", "fa:16:3e:00:00:00"), ("192.168.5.61/24", "fa:16:3e:00:00:01")]
    # the VM's links end at its compute host's switch
    host_sw = names["node-0000"]["short"]
    assert {b if a == vm else a for a, b in t.links() if vm in (a, b)} == {host_sw}


class _RecordingNode:
    """Just enough of a Mininet node for an Intf to configure itself: records its commands."""

    name = "v1"

    def __init__(self):
        self.commands = []

    def addIntf(self, intf, port=None, moveIntfFn=None):  # noqa: N802 - Mininet's name
        pass

    def cmd(self, *args, **kwargs):
        self.commands.append(" ".join(str(a) for a in args))
        return ""


def _distrinet_add_link(options):
    """Distrinet's addLink (distrinet.py:377-405): options = the link's options, then
    cls(node1=..., node2=..., params1=..., params2=..., **options), here with CloudLink's
    signature; returns the VM end's interface constructor."""
    def cloud_link(node1, node2, port1=None, port2=None, intfName1=None, intfName2=None,
                   addr1=None, addr2=None, intf=None, cls1=None, cls2=None, params1=None,
                   params2=None, fast=True, **params):
        return cls1

    options = dict(options)
    options.setdefault("addr1", "00:00:00:00:00:01")
    return cloud_link(node1="a", node2="b", params1=None, params2=None, **options)


def test_vm_links_load_in_distrinet_and_set_the_nic_address(tmp_path):
    write(small_dc(), tmp_path)
    t = load_mininet_topo(tmp_path / "dcnet_topo.py")
    nic_links = [o for a, b, o in t.links(withInfo=True) if "bw" not in o]
    assert len(nic_links) == 13
    for opts in nic_links:
        options = {k: v for k, v in opts.items() if k not in ("node1", "node2", "port1", "port2")}
        cls1 = _distrinet_add_link(options)  # a params1 option would raise TypeError here
        node = _RecordingNode()
        intf = cls1(name="v1-eth1", node=node, mac=opts["addr1"], port=1)
        ip = opts["cls1"].keywords["ip"]
        assert intf.IP() == ip.split("/")[0] and any(ip.split("/")[0] in c for c in node.commands)
    # the old way fails exactly like Distrinet did
    with pytest.raises(TypeError, match="params1"):
        _distrinet_add_link({"params1": {"ip": "10.0.0.1/24"}})


def test_switch_options_stp_and_bandwidth(tmp_path):
    topo, _ = write(small_dc(), tmp_path)
    t = load_mininet_topo(tmp_path / "dcnet_topo.py")
    sw = t.switches()[0]
    assert t.nodeInfo(sw)["stp"] is True and t.nodeInfo(sw)["failMode"] == "standalone"
    dpids = [t.nodeInfo(s)["dpid"] for s in t.switches()]
    assert len(set(dpids)) == len(dpids) and all(len(d) == 16 for d in dpids)
    bws = sorted({o["bw"] for _, _, o in t.links(withInfo=True) if "bw" in o})
    assert bws == [25_000.0, 100_000.0]  # Mbit/s from the fabric's Gbit/s
    t2 = load_mininet_topo(tmp_path / "dcnet_topo.py", stp=0, bw_scale=0.01)
    assert "stp" not in t2.nodeInfo(sw)
    assert sorted({o["bw"] for _, _, o in t2.links(withInfo=True) if "bw" in o}) == [250.0, 1000.0]


def test_large_topology_reads_companion_file(tmp_path, monkeypatch):
    tables = small_dc()
    _, summary = write(tables, tmp_path / "out", mininet_inline_max_hosts=3)
    assert not summary["inline"]
    src = (tmp_path / "out" / "dcnet_topo.py").read_text()
    assert "DCNET_DATA = None" in src and len(src) < 8000
    # loaded from another working directory: the module finds its data file beside itself
    monkeypatch.chdir(tmp_path)
    t = load_mininet_topo(tmp_path / "out" / "dcnet_topo.py")
    assert len(t.hosts()) == 12
    # or wherever $DCNET_TOPO_DATA points
    moved = tmp_path / "elsewhere.json"
    (tmp_path / "out" / "dcnet_topo.json").rename(moved)
    monkeypatch.setenv("DCNET_TOPO_DATA", str(moved))
    assert len(load_mininet_topo(tmp_path / "out" / "dcnet_topo.py").hosts()) == 12


def test_generated_code_is_constant_and_names_stay_data(tmp_path):
    # hostile names everywhere a name can come from
    tables = small_dc(host_names=[INJECTION, "cn01", "cn02", "cn03", "cn04", "cn05"])
    tables["ports"].loc[tables["ports"]["binding_host_id"] == "cn00", "binding_host_id"] = INJECTION
    tables["ports"].loc[tables["ports"]["device_id"] == "vm-001-00", "device_id"] = INJECTION
    tables["fabric_switches"].loc[0, "name"] = "'''\"\"\"; import sys"
    topo, _ = write(tables, tmp_path / "a")
    src = (tmp_path / "a" / "dcnet_topo.py").read_text()
    assert "import os;" not in src and "import sys" not in src
    t = load_mininet_topo(tmp_path / "a" / "dcnet_topo.py")
    assert len(t.hosts()) == vm_count(tables)
    # the real names are in the mapping file, as data
    rows = list(csv.DictReader(open(tmp_path / "a" / "names.csv")))
    assert {r["name"] for r in rows} >= {INJECTION}
    assert all(len(r["short"]) <= 8 for r in rows)

    # the module's code does not depend on the data: only the DCNET_DATA literal differs
    _, _ = write(small_dc(), tmp_path / "b")

    def code_without_data(path):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and node.targets[0].id == "DCNET_DATA":
                assert isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
                node.value = ast.Constant(None)
        return ast.dump(tree)

    assert code_without_data(tmp_path / "a" / "dcnet_topo.py") == \
        code_without_data(tmp_path / "b" / "dcnet_topo.py")


def test_output_is_deterministic(tmp_path):
    write(small_dc(), tmp_path / "a", mininet_inline_max_hosts=0)
    tables = small_dc()
    for name in ("hosts", "ports", "port_ips"):  # row order must not matter
        tables[name] = tables[name].iloc[::-1].reset_index(drop=True)
    write(tables, tmp_path / "b", mininet_inline_max_hosts=0)
    for f in ("dcnet_topo.py", "dcnet_topo.json", "names.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_sample_with_derived_fabric(tmp_path, sample_tables):  # noqa: F811
    topo = build_topology(sample_tables, {"topology": "leaf_spine"}, derive_fabric=True)
    export_mininet.write(topo, tmp_path, {})
    t = load_mininet_topo(tmp_path / "dcnet_topo.py")
    assert len(t.hosts()) == topo.count("vm") == vm_count(sample_tables)
    assert len(t.switches()) == topo.count("switch") + len(sample_tables["hosts"])
    assert len(t.links()) == len(topo.links)
    assert os.path.getsize(tmp_path / "dcnet_topo.py") < 8000  # the data is in the companion file
