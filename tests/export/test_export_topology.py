"""pipeline/export/topology/: nodes, links and generated names shared by every exporter."""

from __future__ import annotations

import pytest

from export_fixtures import small_dc
from pipeline.errors import InputError
from pipeline.export.topology import (TopologyInputError, build_topology, name_map, partitions,
                               unique_names)


def test_unique_names_is_deterministic_and_documented():
    assert unique_names(["a", "a", "a"], 8, "_") == ["a", "a_2", "a_3"]
    # truncation first, then the counter replaces the tail so the name keeps its length limit
    assert unique_names(["abcdefgh1", "abcdefgh2"], 8, "_") == ["abcdefgh", "abcdef_2"]
    # a name that already exists is never taken by a disambiguated one
    assert unique_names(["a", "a", "a_2"], 8, "_") == ["a", "a_3", "a_2"]


def test_nodes_links_and_counts():
    tables = small_dc()
    topo = build_topology(tables)
    s = topo.summary
    assert (s["fabric_switches"], s["compute_hosts"], s["vms"], s["vm_nics"]) == (4, 6, 12, 13)
    assert s["fabric_links"] == len(tables["fabric_links"]) and s["compute_ports_unplaced"] == 0
    assert topo.nodes["key"].is_unique and topo.nodes["short"].is_unique and topo.nodes["label"].is_unique
    assert topo.nodes["short"].str.len().max() <= 8
    # LXD container names (Distrinet): letters, digits, dashes; a letter first; no dash last
    assert topo.nodes["short"].str.fullmatch(r"[a-z]([a-z0-9-]*[a-z0-9])?").all()
    assert topo.nodes["label"].str.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?").all()
    keys = set(topo.nodes["key"])
    assert set(topo.links["src"]) <= keys and set(topo.links["dst"]) <= keys
    assert list(topo.nodes["kind"].drop_duplicates()) == ["switch", "host", "vm"]
    assert list(topo.nodes["role"][:2]) == ["spine", "spine"]  # top layer first


def test_colliding_names_after_shortening():
    tables = small_dc(host_names=["web_1", "WEB 1", "web.1", "cn03", "cn04", "cn05"])
    for old, new in zip(["cn00", "cn01", "cn02"], ["web_1", "WEB 1", "web.1"]):
        tables["ports"].loc[tables["ports"]["binding_host_id"] == old, "binding_host_id"] = new
    # VM ids that share their first 7 alphanumerics collide in the 8-character short names
    dev = tables["ports"]["device_id"]
    tables["ports"]["device_id"] = dev.replace({"vm-000-00": "abcdefg-1", "vm-000-01": "abcdefg-2",
                                                "vm-001-00": "abcdefg-3"})
    topo = build_topology(tables)
    m = name_map(topo).set_index("id")
    assert [m.loc[h, "label"] for h in ("node-0000", "node-0001", "node-0002")] == \
        ["web-1", "web-1-2", "web-1-3"]  # hosts sorted by id, the first keeps the name
    assert [m.loc[v, "short"] for v in ("abcdefg-1", "abcdefg-2", "abcdefg-3")] == \
        ["vabcdefg", "vabcde-2", "vabcde-3"]
    assert build_topology(tables).nodes.equals(topo.nodes)


def test_missing_tables_have_clear_messages():
    tables = small_dc(with_fabric=False)
    with pytest.raises(TopologyInputError, match=r"fabric_switches and fabric_links .*--derive-fabric"):
        build_topology(tables)
    assert isinstance(TopologyInputError("x"), InputError)  # the CLI prints it as one line
    topo = build_topology(tables, {"topology": "fat_tree"}, derive_fabric=True)
    assert topo.fabric_kind == "fat_tree" and topo.summary["fabric_derived"]
    assert build_topology(tables, require_fabric=False).summary["fabric_switches"] == 0
    tables["hosts"] = tables["hosts"].iloc[:0]
    with pytest.raises(TopologyInputError, match="hosts table is empty or missing"):
        build_topology(tables, derive_fabric=True)


def test_dangling_fabric_link_and_unplaced_ports():
    tables = small_dc()
    tables["fabric_links"].loc[0, "dst_id"] = "no-such-switch"
    with pytest.raises(TopologyInputError, match="name a missing switch or host"):
        build_topology(tables)
    tables = small_dc()
    tables["ports"].loc[tables["ports"]["id"] == "port-00005", "binding_host_id"] = "ghost"
    s = build_topology(tables).summary
    assert s["compute_ports_unplaced"] == 1 and s["vm_nics"] == 12


def test_partitions_cover_everything_once():
    tables = small_dc(n_hosts=12, vms_per_host=3, hosts_per_rack=3)
    topo = build_topology(tables)
    assert partitions(topo, 10_000) is None
    parts = partitions(topo, 20)
    links = sorted(i for _, ls in parts for i in ls)
    assert links == list(range(len(topo.links)))
    kinds = topo.nodes["kind"].tolist()
    non_top = sorted(i for ns, _ in parts for i in ns if topo.nodes["role"].iloc[i] != "spine")
    assert non_top == [i for i in range(len(topo.nodes)) if topo.nodes["role"].iloc[i] != "spine"]
    for ns, ls in parts:
        assert len(ns) <= 20
        keys = set(topo.nodes["key"].iloc[ns])
        sub = topo.links.iloc[ls]
        assert set(sub["src"]) <= keys and set(sub["dst"]) <= keys
    assert kinds.count("vm") == 36
