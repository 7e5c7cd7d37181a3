"""GraphML (read back with networkx) and the PNG overview."""

from __future__ import annotations

import networkx as nx
import pytest

from export_fixtures import INJECTION, small_dc
from pipeline.export import graphml as export_graphml
from pipeline.export.topology import build_topology


def export(tables, out, **params):
    out.mkdir(parents=True, exist_ok=True)
    topo = build_topology(tables)
    return topo, export_graphml.write(topo, out, params)


def test_graphml_reads_back_with_networkx(tmp_path):
    tables = small_dc()
    topo, summary = export(tables, tmp_path)
    g = nx.read_graphml(tmp_path / "dcnet.graphml")
    assert isinstance(g, nx.MultiGraph)
    assert g.number_of_nodes() == len(topo.nodes) == 4 + 6 + 12
    assert g.number_of_edges() == len(tables["fabric_links"]) + 13
    vm = g.nodes["vm:vm-000-00"]
    assert vm["kind"] == "vm" and vm["host_key"] == "host:node-0000" and len(vm["short"]) <= 8
    assert g.number_of_edges("vm:vm-000-00", "host:node-0000") == 2  # two NICs, parallel edges
    fab = [d for _, _, d in g.edges(data=True) if d["kind"] == "fabric"]
    assert {d["bandwidth_gbps"] for d in fab} == {25.0, 100.0}
    assert g.nodes["switch:leaf-00001"]["pod"] == 0
    assert summary["png"] == "full" and (tmp_path / "dcnet.png").stat().st_size > 1000


def test_png_without_vms_or_skipped_for_large_topologies(tmp_path):
    _, s = export(small_dc(), tmp_path / "a", max_png_nodes=12)
    assert s["png"] == "without_vms" and (tmp_path / "a" / "dcnet.png").exists()
    _, s = export(small_dc(), tmp_path / "b", max_png_nodes=5)
    assert s["png"].startswith("skipped") and not (tmp_path / "b" / "dcnet.png").exists()
    assert s["files"] == ["dcnet.graphml"]


def test_markup_and_control_characters_stay_data(tmp_path):
    hostile = ['<x a="1">&amp;</x>', "bell\x07\x00nul", INJECTION, "cn03", "cn04", "cn05"]
    tables = small_dc(host_names=hostile)
    for old, new in zip(["cn00", "cn01", "cn02"], hostile):
        tables["ports"].loc[tables["ports"]["binding_host_id"] == old, "binding_host_id"] = new
    topo, _ = export(tables, tmp_path)
    g = nx.read_graphml(tmp_path / "dcnet.graphml")
    names = {d.get("name") for _, d in g.nodes(data=True)}
    assert '<x a="1">&amp;</x>' in names and INJECTION in names
    assert "bell\ufffd\ufffdnul" in names  # XML cannot carry these, even escaped
    assert g.number_of_nodes() == len(topo.nodes)


def test_chunked_writing_gives_the_same_file(tmp_path, monkeypatch):
    topo = build_topology(small_dc())
    export_graphml.write_graphml(topo, tmp_path / "whole.graphml")
    monkeypatch.setattr(export_graphml, "CHUNK", 5)  # several slices for nodes and links
    export_graphml.write_graphml(topo, tmp_path / "chunked.graphml")
    assert (tmp_path / "whole.graphml").read_bytes() == (tmp_path / "chunked.graphml").read_bytes()


@pytest.mark.parametrize("parts", [2, 3, 40])
def test_parts_in_order_are_the_whole_document(tmp_path, monkeypatch, parts):
    """write_group/finish (the dask engine's GraphML tasks): any number of parts, finished in
    any order, gives the file and summary of one write."""
    topo = build_topology(small_dc())
    (tmp_path / "whole").mkdir()
    (tmp_path / "parts").mkdir()
    monkeypatch.setattr(export_graphml, "CHUNK", 4)  # several slices per part (40 parts: some none)
    summary = export_graphml.write(topo, tmp_path / "whole", {})
    results = [export_graphml.write_group(topo, tmp_path / "parts", {}, g, parts) for g in range(parts)]
    assert export_graphml.finish(tmp_path / "parts", results[::-1]) == summary
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == sorted(summary["files"])
    for name in summary["files"]:
        assert (tmp_path / "parts" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()

