"""Physical fabric builder: hosts -> (fabric_switches, fabric_links), conformed to model.py.

Two designs (params.yaml `fabric:`):

- leaf_spine: one leaf (ToR) switch per rack, `spines` spine switches, a full leaf-spine mesh
  (every leaf to every spine) and one link from each host to its rack's leaf.
  `spines: auto` = one spine per LEAVES_PER_SPINE leaves, at least 2 (no single point of
  failure), at most MAX_AUTO_SPINES (a leaf has a limited number of uplink ports).
- fat_tree: the classic k-ary fat-tree with k the smallest even k such that k^3/4 >= hosts
  (or `fat_tree_k`): k pods of k/2 edge + k/2 aggregation switches, (k/2)^2 core switches,
  5k^2/4 switches in all. Edge switches take k/2 hosts each, filled in rack order; edge e of a
  pod links to every aggregation switch of the pod; aggregation switch j links to cores
  j*k/2 .. j*k/2 + k/2 - 1. Every switch is emitted, also edges left without hosts.
- auto: leaf_spine up to AUTO_FAT_TREE_ABOVE hosts, fat_tree above.

Racks: hosts are grouped by (availability_zone, rack). Hosts whose `rack` is empty are cut into
derived racks of `hosts_per_rack` hosts, in table order, per zone, named `auto-0001`, ...
Racks are ordered by (zone, rack name); nulls sort last. Ids are positional in that order, so
the same hosts table and params always give the same ids.

Ids: leaf-00001, spine-001; edge-001-01, agg-001-01, core-0001 (pod and index 1-based);
links link-0000001 (switch-switch links first, then host links in host order within racks).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from schemas.model import conform, empty_frame
from pipeline.params import default

TOPOLOGIES = ("auto", "leaf_spine", "fat_tree")
AUTO_FAT_TREE_ABOVE = 20_000
LEAVES_PER_SPINE = 16
MAX_AUTO_SPINES = 64
DEFAULTS = default("fabric")


class FabricParamsError(ValueError):
    """A bad `fabric:` parameter; the message names the key."""


def _params(params: dict | None) -> dict:
    p = {**DEFAULTS, **{k: v for k, v in (params or {}).items() if v is not None}}
    if p["topology"] not in TOPOLOGIES:
        raise FabricParamsError(f"fabric.topology must be one of {', '.join(TOPOLOGIES)}, "
                                f"got {p['topology']!r}")
    for key in ("hosts_per_rack",):
        try:
            p[key] = int(p[key])
        except (TypeError, ValueError):
            raise FabricParamsError(f"fabric.{key} must be an integer, got {p[key]!r}") from None
        if p[key] < 1:
            raise FabricParamsError(f"fabric.{key} must be >= 1, got {p[key]}")
    for key in ("host_link_gbps", "uplink_gbps"):
        try:
            p[key] = float(p[key])
        except (TypeError, ValueError):
            raise FabricParamsError(f"fabric.{key} must be a number, got {p[key]!r}") from None
    for key in ("spines", "fat_tree_k"):
        if p[key] != "auto":
            try:
                p[key] = int(p[key])
            except (TypeError, ValueError):
                raise FabricParamsError(f"fabric.{key} must be 'auto' or an integer, "
                                        f"got {p[key]!r}") from None
    if p["spines"] != "auto" and p["spines"] < 1:
        raise FabricParamsError(f"fabric.spines must be >= 1, got {p['spines']}")
    if p["fat_tree_k"] != "auto" and (p["fat_tree_k"] < 2 or p["fat_tree_k"] % 2):
        raise FabricParamsError(f"fabric.fat_tree_k must be an even integer >= 2, got {p['fat_tree_k']}")
    return p


def fat_tree_k(n_hosts: int) -> int:
    """Smallest even k with k^3/4 >= n_hosts (at least 2)."""
    k = max(2, int(math.ceil((4 * max(n_hosts, 1)) ** (1 / 3))))
    k += k % 2
    while k ** 3 // 4 < n_hosts:
        k += 2
    while k > 2 and (k - 2) ** 3 // 4 >= n_hosts:
        k -= 2
    return k


def auto_spines(n_leaves: int) -> int:
    return int(min(MAX_AUTO_SPINES, max(2, math.ceil(n_leaves / LEAVES_PER_SPINE))))


def choose_topology(n_hosts: int, params: dict | None) -> str:
    p = _params(params)
    if p["topology"] != "auto":
        return p["topology"]
    return "leaf_spine" if n_hosts <= AUTO_FAT_TREE_ABOVE else "fat_tree"


def rack_assignment(hosts: pd.DataFrame, hosts_per_rack: int) -> pd.DataFrame:
    """Per host (in table order): zone, rack, rack_index (0-based, racks in sorted order).

    Hosts without a rack get derived ones (`auto-NNNN`, hosts_per_rack per rack, per zone)."""
    n = len(hosts)
    zone = (hosts["availability_zone"] if "availability_zone" in hosts else
            pd.Series(pd.NA, index=hosts.index)).astype("string").reset_index(drop=True)
    rack = (hosts["rack"] if "rack" in hosts else
            pd.Series(pd.NA, index=hosts.index)).astype("string").reset_index(drop=True)
    zone = zone.where(zone.str.strip().fillna("") != "", pd.NA)
    rack = rack.where(rack.str.strip().fillna("") != "", pd.NA)
    missing = rack.isna().to_numpy()
    if missing.any():
        zkey = zone.fillna("\uffff")[missing]  # one derived sequence per zone (nulls together)
        derived = zkey.groupby(zkey, sort=False).cumcount().to_numpy() // hosts_per_rack + 1
        rack = rack.copy()
        rack[missing] = ["auto-%04d" % d for d in derived]
    frame = pd.DataFrame({"zone": zone, "rack": rack, "order": np.arange(n)})
    # null zones sort last; within a zone racks sort by name; hosts keep table order
    frame["_z"] = frame["zone"].isna()
    frame = frame.sort_values(["_z", "zone", "rack", "order"], kind="stable", na_position="last")
    key = (frame["zone"].fillna("\uffff") + "\x00" + frame["rack"]).to_numpy(dtype=object)
    new_rack = np.ones(n, dtype=bool)
    new_rack[1:] = key[1:] != key[:-1]
    frame["rack_index"] = np.cumsum(new_rack) - 1
    zones = frame["zone"].dropna().unique()
    zidx = {z: i for i, z in enumerate(zones)}
    frame["zone_index"] = frame["zone"].map(zidx).astype("Int64").fillna(len(zones)).astype(int)
    return frame.drop(columns="_z")  # rows sorted in rack order; `order` = row in hosts


def build_fabric(hosts: pd.DataFrame, params: dict | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fabric_switches, fabric_links) for the hosts table; see the module doc."""
    p = _params(params)
    if hosts is None or len(hosts) == 0:
        return empty_frame("fabric_switches"), empty_frame("fabric_links")
    host_ids = hosts["id"].astype("string").to_numpy(dtype=object)
    racks = rack_assignment(hosts, p["hosts_per_rack"])
    topo = choose_topology(len(hosts), p)
    if topo == "leaf_spine":
        sw, links = _leaf_spine(racks, host_ids, p)
    else:
        sw, links = _fat_tree(racks, host_ids, p)
    links.insert(0, "id", ["link-%07d" % (i + 1) for i in range(len(links))])
    return conform(sw, "fabric_switches"), conform(links, "fabric_links")


def _leaf_spine(racks: pd.DataFrame, host_ids, p: dict):
    first = racks.drop_duplicates("rack_index")
    n_leaves = len(first)
    n_spines = auto_spines(n_leaves) if p["spines"] == "auto" else p["spines"]
    leaf_ids = np.array(["leaf-%05d" % (i + 1) for i in range(n_leaves)], dtype=object)
    spine_ids = np.array(["spine-%03d" % (i + 1) for i in range(n_spines)], dtype=object)
    zone_s = first["zone"].fillna("").to_numpy(dtype=object)
    rack_s = first["rack"].to_numpy(dtype=object)
    leaf_names = [f"tor-{z}-{r}" if z else f"tor-{r}" for z, r in zip(zone_s, rack_s)]
    sw = pd.DataFrame({
        "id": np.concatenate([spine_ids, leaf_ids]),
        "name": np.concatenate([spine_ids, np.array(leaf_names, dtype=object)]),
        "role": ["spine"] * n_spines + ["leaf"] * n_leaves,
        "pod": pd.array([pd.NA] * n_spines + list(first["zone_index"]), dtype="Int64"),
        "rack": pd.array([pd.NA] * n_spines + list(rack_s), dtype="string"),
    })
    # leaf-major mesh: leaf 1 to every spine, then leaf 2, ...
    mesh = pd.DataFrame({"src_id": np.repeat(leaf_ids, n_spines),
                         "dst_id": np.tile(spine_ids, n_leaves), "dst_kind": "switch",
                         "bandwidth_gbps": p["uplink_gbps"]})
    down = pd.DataFrame({"src_id": leaf_ids[racks["rack_index"].to_numpy()],
                         "dst_id": host_ids[racks["order"].to_numpy()], "dst_kind": "host",
                         "bandwidth_gbps": p["host_link_gbps"]})
    return sw, pd.concat([mesh, down], ignore_index=True)


def _fat_tree(racks: pd.DataFrame, host_ids, p: dict):
    n = len(racks)
    k = fat_tree_k(n) if p["fat_tree_k"] == "auto" else p["fat_tree_k"]
    if k ** 3 // 4 < n:
        raise FabricParamsError(f"fabric.fat_tree_k={k} holds {k ** 3 // 4} hosts, fewer than {n}")
    h = k // 2
    pods = np.arange(1, k + 1)
    idx = np.arange(1, h + 1)
    pod_g, idx_g = np.repeat(pods, h), np.tile(idx, k)  # pod-major
    edge_ids = np.array(["edge-%03d-%02d" % (a, b) for a, b in zip(pod_g, idx_g)], dtype=object)
    agg_ids = np.array(["agg-%03d-%02d" % (a, b) for a, b in zip(pod_g, idx_g)], dtype=object)
    core_ids = np.array(["core-%04d" % (i + 1) for i in range(h * h)], dtype=object)
    # hosts fill edge switches k/2 at a time, in rack order
    edge_of_host = np.arange(n) // h
    rack_of_edge = (pd.DataFrame({"e": edge_of_host, "r": racks["rack"].to_numpy()})
                    .groupby("e")["r"].agg(lambda s: s.iloc[0] if s.nunique() == 1 else pd.NA))
    edge_rack = pd.Series(pd.NA, index=range(len(edge_ids)), dtype="string")
    edge_rack.iloc[rack_of_edge.index.to_numpy()] = rack_of_edge.to_numpy()
    sw = pd.DataFrame({
        "id": np.concatenate([core_ids, agg_ids, edge_ids]),
        "role": ["core"] * len(core_ids) + ["aggregation"] * len(agg_ids) + ["edge"] * len(edge_ids),
        "pod": pd.array([pd.NA] * len(core_ids) + list(pod_g) + list(pod_g), dtype="Int64"),
        "rack": pd.array([pd.NA] * (len(core_ids) + len(agg_ids)) + list(edge_rack), dtype="string"),
    })
    sw["name"] = sw["id"]
    # edge (pod p, i) -> every agg (pod p, j)
    e_src = np.repeat(edge_ids, h)
    e_dst = agg_ids[(np.repeat(pod_g - 1, h) * h) + np.tile(np.arange(h), k * h)]
    # agg (pod p, j) -> cores (j-1)*h .. (j-1)*h + h-1
    a_src = np.repeat(agg_ids, h)
    a_dst = core_ids[(np.repeat(idx_g - 1, h) * h) + np.tile(np.arange(h), k * h)]
    up = pd.DataFrame({"src_id": np.concatenate([e_src, a_src]),
                       "dst_id": np.concatenate([e_dst, a_dst]), "dst_kind": "switch",
                       "bandwidth_gbps": p["uplink_gbps"]})
    down = pd.DataFrame({"src_id": edge_ids[edge_of_host],
                         "dst_id": host_ids[racks["order"].to_numpy()], "dst_kind": "host",
                         "bandwidth_gbps": p["host_link_gbps"]})
    return sw, pd.concat([up, down], ignore_index=True)
