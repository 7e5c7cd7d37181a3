"""Splitting the topology for formats with a node limit (containerlab): units below a cut of
the fabric's upper layers, packed in order; the switches above the cut repeated where needed."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.export.topology.model import ROLE_LAYER, Topology, TopologyInputError


def partitions(topo: Topology, max_nodes: int) -> list[tuple[list[int], list[int]]] | None:
    """Split for formats with a node limit: None when the topology fits in one piece.

    The fabric is cut below its top layer (spines or cores): units are the connected pieces
    left (a leaf with its hosts and VMs, or a fat-tree pod). If a unit is still above the
    limit, the cut moves one layer down (aggregation, then edge/leaf switches), down to units
    of one compute host with its VMs. Switches at or above the cut are repeated in every part
    that links to them; units are packed in order into parts of at most `max_nodes` nodes,
    counting those repeated switches. Every other node, and every link, is in exactly one part
    (a link between two repeated switches goes to the first part holding its lower end; links
    whose lower end is in no part go to one extra part). Returns [(node rows, link rows)] per
    part. Raises TopologyInputError when one compute host with its VMs exceeds the limit."""
    nodes, links = topo.nodes, topo.links
    if len(nodes) <= max_nodes:
        return None
    idx = pd.Series(np.arange(len(nodes)), index=nodes["key"].to_numpy(dtype=object))
    s = idx[links["src"].to_numpy(dtype=object)].to_numpy()
    d = idx[links["dst"].to_numpy(dtype=object)].to_numpy()
    is_switch = (nodes["kind"] == "switch").to_numpy()
    layer = nodes["role"].map(ROLE_LAYER).fillna(3).to_numpy(dtype=int)
    layer = np.where(is_switch, layer, 99)
    last_err = None
    for cut in sorted(set(layer[is_switch].tolist())):
        try:
            return _partition_at(len(nodes), s, d, layer, layer <= cut, max_nodes)
        except _TooBig as e:
            last_err = e
    raise TopologyInputError(f"{last_err}: above the per-file limit of {max_nodes} nodes "
                             f"even when split down to single compute hosts")


class _TooBig(Exception):
    pass


def _partition_at(n, s, d, layer, top, max_nodes):
    """The parts with the cut at the switches of `top` (see `partitions`): [(node rows, link
    rows)]; raises _TooBig when a unit or a part exceeds `max_nodes`."""
    comp = _units_below(n, s, d, top)
    tt = top[s] & top[d]  # links between two repeated switches
    ancestors = _ancestors(s, d, layer, tt)
    link_unit = np.where(top[s], comp[d], comp[s])
    top_end = np.where(top[s], s, d)
    parts = _pack_units(comp, top, top[s] ^ top[d], link_unit, top_end, ancestors, max_nodes)
    part_nodes, link_part = _part_members(parts, comp, link_unit, top_end, tt)
    extra = len(parts)
    _place_top_links(s, d, layer, top, tt, part_nodes, link_part, extra)
    return _part_rows(s, d, top, part_nodes, link_part, extra, max_nodes)


def _units_below(n, s, d, top):
    """The unit (connected piece once the switches of `top` are cut away) of each node; -1 for
    the switches of `top`."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    keep = ~(top[s] | top[d])
    graph = coo_matrix((np.ones(int(keep.sum())), (s[keep], d[keep])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    return np.where(top, -1, comp)


def _ancestors(s, d, layer, tt):
    """A function: repeated switch -> every repeated switch above it (towards layer 0) along
    the links `tt` between repeated switches, memoised."""
    # upward neighbours of each repeated switch (towards layer 0), then their closure
    up: dict[int, set] = {}
    for a, b in zip(s[tt].tolist(), d[tt].tolist()):
        lo, hi = (a, b) if layer[a] > layer[b] else (b, a)
        if layer[lo] != layer[hi]:
            up.setdefault(lo, set()).add(hi)
    anc: dict[int, frozenset] = {}

    def ancestors(t):
        if t not in anc:
            acc = set()
            for h in up.get(t, ()):
                acc.add(h)
                acc |= ancestors(h)
            anc[t] = frozenset(acc)
        return anc[t]

    return ancestors


def _pack_units(comp, top, mixed, link_unit, top_end, ancestors, max_nodes) -> list[list]:
    """Units, in order, packed into parts of at most `max_nodes` nodes, counting the repeated
    switches each unit links to (`mixed` links) and their ancestors."""
    direct = (pd.DataFrame({"u": link_unit[mixed], "t": top_end[mixed]})
              .groupby("u")["t"].agg(lambda x: set(x.tolist())))
    units = pd.unique(comp[~top])
    sizes = pd.Series(comp[~top]).value_counts()
    parts, cur, cur_tops, cur_size = [], [], set(), 0
    for u in units:
        tops = set()
        for t in direct.get(u, ()):
            tops.add(t)
            tops |= ancestors(t)
        size = int(sizes[u])
        if size + len(tops) > max_nodes:
            raise _TooBig(f"one unit has {size + len(tops)} nodes")
        if cur and cur_size + size + len(cur_tops | tops) > max_nodes:
            parts.append(cur)
            cur, cur_tops, cur_size = [], set(), 0
        cur.append(u)
        cur_tops |= tops
        cur_size += size
    if cur:
        parts.append(cur)
    return parts


def _part_members(parts, comp, link_unit, top_end, tt):
    """(node rows of each part: its units and the repeated switches they link to, the part of
    each link: its unit's, NaN for the links `tt` between repeated switches)."""
    unit_part = {u: p for p, us in enumerate(parts) for u in us}
    node_part = pd.Series(comp).map(unit_part).to_numpy()
    link_part = pd.Series(link_unit).map(unit_part).to_numpy().astype(float)
    link_part[tt] = np.nan
    part_nodes = [set(np.flatnonzero(node_part == p).tolist()) for p in range(len(parts))]
    for p in range(len(parts)):
        ends = np.flatnonzero(link_part == p)
        part_nodes[p].update(top_end[ends].tolist())
    return part_nodes, link_part


def _place_top_links(s, d, layer, top, tt, part_nodes, link_part, extra) -> None:
    """Each link between repeated switches goes to the first part holding its lower end (else
    `extra`), and that part also holds both its ends; updates `part_nodes` and `link_part`."""
    # closure: repeated switches bring the links up to their ancestors, first holder wins
    holder: dict[int, int] = {}
    for p, ns in enumerate(part_nodes):
        for x in ns:
            if top[x]:
                holder.setdefault(x, p)
    rows_tt = np.flatnonzero(tt)
    for r in rows_tt.tolist():
        a, b = int(s[r]), int(d[r])
        lo = a if layer[a] >= layer[b] else b
        p = holder.get(lo, holder.get(a if lo == b else b, extra))
        link_part[r] = p
    order_changed = True
    while order_changed:  # ancestors pulled in by top-top links also hold links further up
        order_changed = False
        for r in rows_tt.tolist():
            p = int(link_part[r])
            a, b = int(s[r]), int(d[r])
            if p == extra:
                continue
            for x in (a, b):
                if x not in part_nodes[p]:
                    part_nodes[p].add(x)
                    order_changed = True


def _part_rows(s, d, top, part_nodes, link_part, extra, max_nodes):
    """[(node rows, link rows)] per part, plus the `extra` part for links whose lower end is in
    no part; repeated switches linked to nothing go to the first part."""
    n_parts = extra + (1 if (link_part == extra).any() else 0)
    if n_parts > extra:
        part_nodes.append(set())
    for r in np.flatnonzero(link_part == extra).tolist():
        part_nodes[extra].update((int(s[r]), int(d[r])))
    linked = set(s.tolist()) | set(d.tolist())
    orphans = [x for x in np.flatnonzero(top).tolist() if x not in linked]
    part_nodes[0].update(orphans)
    out = []
    for p in range(n_parts):
        rows = sorted(part_nodes[p])
        if len(rows) > max_nodes:
            raise _TooBig(f"part {p + 1} needs {len(rows)} nodes")
        out.append((rows, np.flatnonzero(link_part == p).tolist()))
    return out
