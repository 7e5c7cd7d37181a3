"""pipeline/fabric.py: leaf-spine and fat-tree fabrics built from a hosts table."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from schemas import model
from pipeline.fabric import (FabricParamsError, auto_spines, build_fabric, choose_topology,
                             fat_tree_k)


def hosts_frame(n, zones=None, racks=None):
    return model.conform(pd.DataFrame({
        "id": [f"host-{i:06d}" for i in range(n)],
        "node_name": [f"node{i}" for i in range(n)],
        "availability_zone": zones if zones is not None else [None] * n,
        "rack": racks if racks is not None else [None] * n,
    }), "hosts")


def check_references(hosts, sw, links):
    ids = set(sw["id"])
    assert sw["id"].is_unique and links["id"].is_unique
    assert set(links["src_id"]) <= ids
    sw_links = links[links["dst_kind"] == "switch"]
    host_links = links[links["dst_kind"] == "host"]
    assert set(sw_links["dst_id"]) <= ids
    # every host linked exactly once, to a switch
    assert sorted(host_links["dst_id"]) == sorted(hosts["id"])
    assert set(links["dst_kind"]) <= {"switch", "host"}


@pytest.mark.parametrize("k", [2, 4, 6])
def test_fat_tree_counts_for_a_full_tree(k):
    n = k ** 3 // 4
    hosts = hosts_frame(n)
    sw, links = build_fabric(hosts, {"topology": "fat_tree"})
    assert len(sw) == 5 * k * k // 4
    roles = sw["role"].value_counts().to_dict()
    assert roles == {"core": (k // 2) ** 2, "aggregation": k * k // 2, "edge": k * k // 2}
    check_references(hosts, sw, links)
    # a full fat-tree uses all k ports of every edge and aggregation switch, k of each core
    deg = pd.concat([links["src_id"], links.loc[links["dst_kind"] == "switch", "dst_id"]]).value_counts()
    assert (deg.reindex(sw["id"]).fillna(0) == k).all()
    # each core reaches exactly one aggregation switch in every pod
    pod = dict(zip(sw["id"], sw["pod"]))
    core_links = links[links["dst_id"].str.startswith("core-")]
    per_core = core_links.assign(pod=core_links["src_id"].map(pod)).groupby("dst_id")["pod"]
    assert (per_core.nunique() == k).all() and (per_core.size() == k).all()
    # edge->agg links stay inside their pod
    ea = links[links["src_id"].str.startswith("edge-")
               & (links["dst_kind"] == "switch")]
    assert (ea["src_id"].map(pod) == ea["dst_id"].map(pod)).all()


def test_fat_tree_k_is_smallest_even_k():
    assert fat_tree_k(16) == 4 and fat_tree_k(17) == 6 and fat_tree_k(1) == 2
    assert fat_tree_k(27_648) == 48 and fat_tree_k(27_649) == 50
    hosts = hosts_frame(17)
    sw, links = build_fabric(hosts, {"topology": "fat_tree"})
    assert len(sw) == 5 * 36 // 4  # k=6: every switch emitted even if edges stay empty
    check_references(hosts, sw, links)
    # hosts fill edge switches k/2 at a time
    per_edge = links[links["dst_kind"] == "host"]["src_id"].value_counts()
    assert per_edge.max() == 3 and len(per_edge) == 6


def test_leaf_spine_one_leaf_per_rack_and_full_mesh():
    zones = ["az1"] * 6 + ["az2"] * 4 + [None] * 2
    racks = ["r1", "r1", "r2", "r2", "r2", "r1", "r1", "r1", "r1", "r9", "x", "x"]
    hosts = hosts_frame(12, zones, racks)
    sw, links = build_fabric(hosts, {"topology": "leaf_spine", "spines": 3,
                                     "host_link_gbps": 10, "uplink_gbps": 40})
    leaves = sw[sw["role"] == "leaf"]
    assert len(leaves) == 5  # az1/r1, az1/r2, az2/r1, az2/r9, (none)/x
    assert (sw["role"] == "spine").sum() == 3
    check_references(hosts, sw, links)
    mesh = links[links["dst_kind"] == "switch"]
    assert len(mesh) == 5 * 3
    assert set(zip(mesh["src_id"], mesh["dst_id"])) == {
        (l, s) for l in leaves["id"] for s in sw.loc[sw["role"] == "spine", "id"]}
    assert set(mesh["bandwidth_gbps"]) == {40.0}
    down = links[links["dst_kind"] == "host"]
    assert set(down["bandwidth_gbps"]) == {10.0}
    # hosts of one (zone, rack) share one leaf, different racks never do
    leaf_of = dict(zip(down["dst_id"], down["src_id"]))
    key = [f"{z}/{r}" for z, r in zip(zones, racks)]
    groups = pd.DataFrame({"key": key, "leaf": [leaf_of[h] for h in hosts["id"]]})
    assert (groups.groupby("key")["leaf"].nunique() == 1).all()
    assert groups.groupby("leaf")["key"].nunique().max() == 1
    assert set(leaves["rack"]) == {"r1", "r2", "r9", "x"}
    # az1 leaves have zone index 0, az2 1, the zoneless one comes last
    assert sorted(leaves["pod"].tolist()) == [0, 0, 1, 1, 2]


def test_derived_racks_when_rack_column_is_empty():
    hosts = hosts_frame(12)
    sw, links = build_fabric(hosts, {"topology": "leaf_spine", "hosts_per_rack": 5})
    leaves = sw[sw["role"] == "leaf"]
    assert list(leaves["rack"]) == ["auto-0001", "auto-0002", "auto-0003"]
    down = links[links["dst_kind"] == "host"]
    assert down.groupby("src_id").size().tolist() == [5, 5, 2]
    # derived racks follow table order
    assert list(down["dst_id"][:5]) == list(hosts["id"][:5])
    assert (sw["role"] == "spine").sum() == auto_spines(3) == 2


def test_auto_topology_switches_at_20k_hosts():
    assert choose_topology(20_000, {"topology": "auto"}) == "leaf_spine"
    assert choose_topology(20_001, {"topology": "auto"}) == "fat_tree"
    assert auto_spines(1000) == 63 and auto_spines(10_000) == 64


def test_deterministic_and_conformed():
    hosts = hosts_frame(50, racks=[f"r{i % 7}" for i in range(50)])
    a = build_fabric(hosts, {"topology": "auto"})
    b = build_fabric(hosts.copy(), {"topology": "auto"})
    for x, y, name in zip(a, b, ("fabric_switches", "fabric_links")):
        pd.testing.assert_frame_equal(x, y)
        assert list(x.columns) == model.TABLES[name].column_names
        assert x.dtypes.astype(str).tolist() == [str(pd.Series([], dtype=d).dtype)
                                                for d in model.TABLES[name].dtypes().values()]


def test_empty_hosts_and_bad_params():
    sw, links = build_fabric(hosts_frame(0), {})
    assert len(sw) == 0 and len(links) == 0
    for bad in ({"topology": "torus"}, {"spines": "many"}, {"fat_tree_k": 5},
                {"hosts_per_rack": 0}):
        with pytest.raises(FabricParamsError):
            build_fabric(hosts_frame(3), bad)
    with pytest.raises(FabricParamsError, match="holds 2 hosts"):
        build_fabric(hosts_frame(3), {"topology": "fat_tree", "fat_tree_k": 2})


def test_100k_hosts_fast():
    hosts = hosts_frame(100_000)
    t0 = time.perf_counter()
    sw, links = build_fabric(hosts, {"topology": "auto"})
    elapsed = time.perf_counter() - t0
    k = fat_tree_k(100_000)
    assert len(sw) == 5 * k * k // 4
    assert (links["dst_kind"] == "host").sum() == 100_000
    assert elapsed < 10, elapsed  # ~1 s on the 2-core dev machine; generous for shared CI
