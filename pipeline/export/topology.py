"""The emulation topology, built once from the canonical tables; every exporter reads it.

Nodes (one row each, `key` unique):
- fabric switches (kind "switch", role spine/leaf/edge/aggregation/core) from fabric_switches;
- one virtual switch per compute host (kind "host", role "compute") from hosts;
- VMs (kind "vm"): ports whose device_owner is `compute:*` and whose binding_host_id names a
  known host, grouped by device_id (the port id when device_id is empty). A VM's `host_key`
  is the host of its first port (ports sorted by id).
Links (one row each):
- kind "fabric": fabric_links (switch-switch and switch-host), with bandwidth_gbps;
- kind "nic": one per VM port, VM -> its port's host switch, carrying the port's MAC, first
  IPv4 address as ip/prefix (`ip`) and first IPv6 (`ip6`).
Compute ports that cannot be placed (no binding, unknown host) are counted in `summary`, never
silently dropped from the accounting.

Names. Exporters never print raw strings from the data as code or unescaped markup; they use
two generated names per node (the mapping back to id/name travels in each format's map file):
- `short` (<= 8 characters, [a-z0-9-], starting with a letter, never ending with "-"): valid
  LXD container names (Distrinet creates one container per node: letters, digits and dashes,
  not starting with a digit or dash), and short enough for Linux interface names
  (`<short>-eth<n>`, `<short>e<n>` <= 15). Fabric switches: role prefix +
  index within the role (sp1, lf12, co3, ag7, ed40); compute hosts: h + index (h1 ...);
  VMs: v + the first 7 alphanumerics of the VM id (v3f2a9c1), so they can be matched to the
  controller's records by eye.
- `label` (<= 40 characters, [a-z0-9-], DNS-label safe): the real name, lower-cased, other
  characters replaced by "-", truncated.
Collisions after shortening are resolved by `unique_names`: nodes are taken in canonical order
(switches by role layer then id, hosts by id, VMs by id); the first holder of a candidate keeps
it, every later one gets the candidate cut short plus a separator and a counter (`-2`, `-3`, ...
for both short names and labels), skipping names already taken. Same input, same names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.errors import InputError
from schemas import netaddr

SHORT_MAX = 8
LABEL_MAX = 40
ROLE_LAYER = {"core": 0, "spine": 0, "aggregation": 1, "edge": 2, "leaf": 2}
ROLE_PREFIX = {"spine": "sp", "leaf": "lf", "core": "co", "aggregation": "ag", "edge": "ed"}


class TopologyInputError(InputError):
    """Input tables that cannot make a topology (missing hosts or fabric, broken references)."""


@dataclass
class Topology:
    nodes: pd.DataFrame
    links: pd.DataFrame
    fabric_kind: str
    summary: dict = field(default_factory=dict)
    tables: dict = field(default_factory=dict, repr=False)  # the canonical tables used
    _cache: dict = field(default_factory=dict, repr=False)

    def names_csv(self) -> str:
        """short,label,kind,role,id,name per node (the map back to real names), built once."""
        if "names_csv" not in self._cache:
            import csv
            import io

            from pipeline.util import csv_cell

            m = name_map(self)
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(list(m.columns))
            w.writerows([csv_cell(v) for v in row]
                        for row in zip(*(pylist(m[c]) for c in m.columns)))
            self._cache["names_csv"] = buf.getvalue()
        return self._cache["names_csv"]

    def count(self, kind: str) -> int:
        return int((self.nodes["kind"] == kind).sum())

    def link_count(self, kind: str) -> int:
        return int((self.links["kind"] == kind).sum())


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------

def pylist(s) -> list:
    """A Series as a Python list, nulls (NA, NaN) as None. Iterating a pandas Series element by
    element is ~50x slower on pyarrow-backed columns; every exporter goes through this."""
    return s.to_numpy(dtype=object, na_value=None).tolist()


def unique_names(cands, max_len: int, sep: str) -> list[str]:
    """Make candidate names unique, deterministically (see the module doc)."""
    cands = [c[:max_len] for c in cands]
    dup = pd.Series(cands, dtype=object).duplicated(keep="first").to_numpy()
    if not dup.any():
        return cands
    taken = set(cands)  # every first holder keeps its name: reserve them all up front
    next_n: dict[str, int] = {}  # per candidate, the next counter to try (no quadratic rescans)
    out = list(cands)
    for i in np.flatnonzero(dup):
        base = cands[i]
        n = next_n.get(base, 2)
        while True:
            sfx = f"{sep}{n}"
            name = base[:max_len - len(sfx)] + sfx
            n += 1
            if name not in taken:
                break
        next_n[base] = n
        taken.add(name)
        out[i] = name
    return out


def label_candidates(values, fallback: str) -> list[str]:
    """Lower case, runs of other characters -> "-", trimmed, at most LABEL_MAX characters."""
    s = pd.Series(values, dtype="string")
    s = (s.str.lower().str.replace(r"[^a-z0-9]+", "-", regex=True).str.strip("-")
         .str.slice(0, LABEL_MAX).str.rstrip("-"))
    s = s.where(s.fillna("") != "", fallback)
    return pylist(s)


def fabric_missing(tables: dict) -> list[str]:
    return [t for t in ("fabric_switches", "fabric_links")
            if tables.get(t) is None or len(tables[t]) == 0]


def require_tables(tables: dict, derive_fabric: bool, require_fabric: bool = True) -> None:
    hosts = tables.get("hosts")
    if hosts is None or len(hosts) == 0:
        raise TopologyInputError("hosts table is empty or missing: export needs hosts.parquet "
                                 "(compute hosts) in the input folder")
    if require_fabric and not derive_fabric:
        missing = fabric_missing(tables)
        if missing:
            raise TopologyInputError(
                f"{' and '.join(missing)} {'tables are' if len(missing) > 1 else 'table is'} empty "
                f"or missing: export needs {' and '.join(m + '.parquet' for m in missing)} (the "
                f"physical fabric); `dcnet export --derive-fabric` builds one from hosts")


def build_topology(tables: dict, fabric_params: dict | None = None,
                   derive_fabric: bool = False, require_fabric: bool = True) -> Topology:
    """The topology of the canonical `tables` (see the module doc).

    derive_fabric: build the fabric from hosts with pipeline.fabric (replacing any fabric tables
    in the input). require_fabric=False: a missing fabric is allowed (formats that do not draw
    the physical network, e.g. the Alcor stream); the topology then has no fabric switches."""
    from pipeline import fabric as fab
    from schemas.model import conform, empty_frame

    require_tables(tables, derive_fabric, require_fabric)
    tables = dict(tables)
    hosts = conform(tables["hosts"], "hosts")
    if derive_fabric:
        try:
            sw, fl = fab.build_fabric(hosts, fabric_params or {})
        except fab.FabricParamsError as e:
            raise InputError(f"params: {e}") from e
        kind = fab.choose_topology(len(hosts), fabric_params or {})
    elif fabric_missing(tables):
        sw, fl, kind = empty_frame("fabric_switches"), empty_frame("fabric_links"), "none"
    else:
        sw = conform(tables["fabric_switches"], "fabric_switches")
        fl = conform(tables["fabric_links"], "fabric_links")
        roles = set(sw["role"].dropna())
        kind = ("fat_tree" if "core" in roles else "leaf_spine" if "spine" in roles else "custom")
    tables["fabric_switches"], tables["fabric_links"] = sw, fl
    tables["hosts"] = hosts

    sw_nodes = _switch_nodes(sw)
    host_nodes = _host_nodes(hosts)
    vm_nodes, nic_links, placement = _vms(tables, hosts)
    nodes = pd.concat([sw_nodes, host_nodes, vm_nodes], ignore_index=True)
    fabric_links = _fabric_links(fl, set(pylist(sw["id"])), set(pylist(hosts["id"])))
    links = pd.concat([fabric_links, nic_links], ignore_index=True)

    nodes["short"] = pd.Series(_short_names(nodes), dtype=object, index=nodes.index)
    nodes["label"] = pd.Series(unique_names(label_candidates(pylist(nodes["name"]), "node"),
                                            LABEL_MAX, "-"), dtype=object, index=nodes.index)
    linked_hosts = {d for d in pylist(fabric_links["dst"]) if d.startswith("host:")}
    summary = {
        "fabric": kind,
        "fabric_derived": bool(derive_fabric),
        "fabric_switches": int(len(sw_nodes)),
        "compute_hosts": int(len(host_nodes)),
        "compute_hosts_without_fabric_link": sum(k not in linked_hosts for k in pylist(host_nodes["key"])),
        "vms": int(len(vm_nodes)),
        "fabric_links": int(len(fabric_links)),
        "vm_nics": int(len(nic_links)),
        **placement,
    }
    return Topology(nodes, links, kind, summary, tables)


def _obj(s) -> np.ndarray:
    return s.to_numpy(dtype=object, na_value=None)


def _frame(cols: dict) -> pd.DataFrame:
    """Object columns as given (pandas 3 would otherwise convert every list of str to its
    string dtype, which costs more than everything else here and gives NaN for nulls)."""
    n = max((len(v) for v in cols.values() if not isinstance(v, str)), default=0)
    return pd.DataFrame({k: (np.full(n, v, dtype=object) if isinstance(v, str)
                             else np.asarray(v, dtype=object)) for k, v in cols.items()},
                        dtype=object)


def _switch_nodes(sw: pd.DataFrame) -> pd.DataFrame:
    ids, roles, names = pylist(sw["id"]), pylist(sw["role"]), pylist(sw["name"])
    pods, racks = pylist(sw["pod"]), pylist(sw["rack"])
    order = sorted(range(len(ids)), key=lambda i: (ROLE_LAYER.get(roles[i], 3), ids[i]))
    return _frame({
        "key": ["switch:" + ids[i] for i in order], "kind": "switch",
        "role": [roles[i] or "switch" for i in order], "ref_id": [ids[i] for i in order],
        "name": [names[i] if names[i] is not None else ids[i] for i in order],
        "pod": [pods[i] for i in order], "rack": [racks[i] for i in order],
    })


def _host_nodes(hosts: pd.DataFrame) -> pd.DataFrame:
    cols = {c: pylist(hosts[c]) for c in ("id", "node_name", "availability_zone", "rack",
                                          "local_ip", "mac_address")}
    order = sorted(range(len(hosts)), key=cols["id"].__getitem__)
    pick = {c: [v[i] for i in order] for c, v in cols.items()}
    return _frame({
        "key": ["host:" + h for h in pick["id"]], "kind": "host", "role": "compute",
        "ref_id": pick["id"],
        "name": [n if n is not None else h for n, h in zip(pick["node_name"], pick["id"])],
        "zone": pick["availability_zone"], "rack": pick["rack"], "ip": pick["local_ip"],
        "mac": pick["mac_address"],
    })


def _first_ips(tables: dict, port_set: set) -> tuple[dict, dict, dict]:
    """For the ports in port_set: ({port: first IPv4 'a.b.c.d/len'}, {port: first IPv6
    'addr/len'}, {port: subnet of its first address}), "first" = lowest ip_index."""
    pi = tables.get("port_ips")
    sn = tables.get("subnets")
    if pi is None or len(pi) == 0:
        return {}, {}, {}
    plen = {}
    if sn is not None and len(sn):
        c = netaddr.parse_cidrs(sn["cidr"], require_prefix=False)
        for sid, prefix, ok in zip(pylist(sn["id"]), c.prefix.tolist(), c.valid.tolist()):
            if ok:
                plen[sid] = prefix
    best4: dict = {}
    best6: dict = {}
    bestsub: dict = {}
    for p, idx, sub, addr in zip(pylist(pi["port_id"]), pylist(pi["ip_index"]),
                                 pylist(pi["subnet_id"]), pylist(pi["ip_address"])):
        if p not in port_set:
            continue
        idx = idx if idx is not None else 1 << 30
        if p not in bestsub or idx < bestsub[p][0]:
            bestsub[p] = (idx, sub)
        if addr is None:
            continue
        v6 = ":" in addr
        best = best6 if v6 else best4
        if p not in best or idx < best[p][0]:
            best[p] = (idx, f"{addr}/{plen.get(sub, 128 if v6 else 32)}")
    return ({p: v for p, (_, v) in best4.items()}, {p: v for p, (_, v) in best6.items()},
            {p: v for p, (_, v) in bestsub.items()})


_NODE_COLS = ["key", "kind", "role", "ref_id", "name", "host_key", "project_id"]
_LINK_COLS = ["src", "dst", "kind", "ref_id", "bandwidth_gbps", "mac", "ip", "ip6", "subnet_id",
              "network_id", "project_id"]


def _vms(tables: dict, hosts: pd.DataFrame):
    ports = tables.get("ports")
    empty = (_frame({c: [] for c in _NODE_COLS}), _frame({c: [] for c in _LINK_COLS}))
    if ports is None or len(ports) == 0:
        return (*empty, {"compute_ports": 0, "compute_ports_unplaced": 0})
    host_of_name: dict = {}
    for hid, name in zip(pylist(hosts["id"]), pylist(hosts["node_name"])):
        host_of_name.setdefault(name, hid)
    cols = [pylist(ports[c]) for c in ("id", "device_owner", "device_id", "binding_host_id",
                                       "mac_address", "network_id", "project_id")]
    rows = []
    n_comp = 0
    for pid, owner, dev, bind, mac, net, proj in zip(*cols):
        if owner is None or not owner.startswith("compute:"):
            continue
        n_comp += 1
        h = host_of_name.get(bind)
        if h is not None:
            rows.append((dev or pid, pid, h, mac, net, proj))
    rows.sort(key=lambda r: (r[0], r[1]))
    stats = {"compute_ports": n_comp, "compute_ports_unplaced": n_comp - len(rows)}
    if not rows:
        return (*empty, stats)
    ip4, ip6, sub = _first_ips(tables, {r[1] for r in rows})
    vm, pid, host, mac, net, proj = (list(c) for c in zip(*rows))
    first = [i for i in range(len(rows)) if i == 0 or vm[i] != vm[i - 1]]
    hosts_of_vm: dict = {}
    for v, h in zip(vm, host):
        hosts_of_vm.setdefault(v, set()).add(h)
    stats["vms_multi_host"] = sum(len(x) > 1 for x in hosts_of_vm.values())
    nodes = _frame({
        "key": ["vm:" + vm[i] for i in first], "kind": "vm", "role": "vm",
        "ref_id": [vm[i] for i in first], "name": [vm[i] for i in first],
        "host_key": ["host:" + host[i] for i in first], "project_id": [proj[i] for i in first],
    })
    links = _frame({
        "src": ["vm:" + v for v in vm], "dst": ["host:" + h for h in host], "kind": "nic",
        "ref_id": pid, "mac": mac, "ip": [ip4.get(p) for p in pid], "ip6": [ip6.get(p) for p in pid],
        "subnet_id": [sub.get(p) for p in pid], "network_id": net, "project_id": proj,
    })
    links.insert(4, "bandwidth_gbps", pd.Series(np.full(len(links), np.nan), index=links.index))
    return nodes, links, stats


def _fabric_links(fl: pd.DataFrame, switch_ids: set, host_ids: set) -> pd.DataFrame:
    lid, src, dst, kind, bw = (pylist(fl[c]) for c in ("id", "src_id", "dst_id", "dst_kind",
                                                        "bandwidth_gbps"))
    order = sorted(range(len(lid)), key=lid.__getitem__)
    bad = [i for i in order if src[i] not in switch_ids
           or dst[i] not in (host_ids if kind[i] == "host" else switch_ids)]
    if bad:
        i = bad[0]
        raise TopologyInputError(
            f"fabric_links: {len(bad)} link(s) name a missing switch or host, first {lid[i]} "
            f"({src[i]} -> {kind[i]} {dst[i]}); validate the tables or use --derive-fabric")
    links = _frame({
        "src": ["switch:" + src[i] for i in order],
        "dst": [("host:" if kind[i] == "host" else "switch:") + dst[i] for i in order],
        "kind": "fabric", "ref_id": [lid[i] for i in order],
    })
    links["bandwidth_gbps"] = np.array([np.nan if bw[i] is None else float(bw[i]) for i in order],
                                       dtype="float64")
    return links


_NON_ALNUM = re.compile(r"[^a-z0-9]")


def _short_names(nodes: pd.DataFrame) -> list[str]:
    counters: dict[str, int] = {}
    out = []
    for kind, role, ref in zip(pylist(nodes["kind"]), pylist(nodes["role"]), pylist(nodes["ref_id"])):
        if kind == "vm":
            out.append("v" + _NON_ALNUM.sub("", str(ref).lower())[:SHORT_MAX - 1])
            continue
        pre = "h" if kind == "host" else ROLE_PREFIX.get(role, "sw")
        counters[pre] = counters.get(pre, 0) + 1
        name = f"{pre}{counters[pre]}"
        if len(name) > SHORT_MAX:
            raise TopologyInputError(f"too many {role} nodes for {SHORT_MAX}-character names")
        out.append(name)
    return unique_names(out, SHORT_MAX, "-")  # "-": LXD names allow no "_"


# ---------------------------------------------------------------------------------------------
# Views used by several exporters
# ---------------------------------------------------------------------------------------------

def to_networkx(topo: Topology):
    """A networkx MultiGraph keyed by node `key` with the node/link columns as attributes
    (nulls dropped). For drawing and tests; the GraphML writer streams the frames directly."""
    import networkx as nx

    g = nx.MultiGraph()
    for rec in topo.nodes.to_dict("records"):
        g.add_node(rec["key"], **{k: v for k, v in rec.items() if k != "key" and _present(v)})
    for rec in topo.links.to_dict("records"):
        g.add_edge(rec["src"], rec["dst"], **{k: v for k, v in rec.items()
                                               if k not in ("src", "dst") and _present(v)})
    return g


def _present(v) -> bool:
    if v is None or v is pd.NA:
        return False
    if isinstance(v, float) and v != v:
        return False
    return True


def name_map(topo: Topology) -> pd.DataFrame:
    """short, label, kind, role, id, name: one row per node, in node order."""
    n = topo.nodes
    return pd.DataFrame({"short": n["short"], "label": n["label"], "kind": n["kind"],
                         "role": n["role"], "id": n["ref_id"], "name": n["name"]})


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
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    keep = ~(top[s] | top[d])
    graph = coo_matrix((np.ones(int(keep.sum())), (s[keep], d[keep])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    comp = np.where(top, -1, comp)
    # upward neighbours of each repeated switch (towards layer 0), then their closure
    tt = top[s] & top[d]
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

    mixed = top[s] ^ top[d]
    link_unit = np.where(top[s], comp[d], comp[s])
    top_end = np.where(top[s], s, d)
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
    unit_part = {u: p for p, us in enumerate(parts) for u in us}
    node_part = pd.Series(comp).map(unit_part).to_numpy()
    link_part = pd.Series(link_unit).map(unit_part).to_numpy().astype(float)
    link_part[tt] = np.nan
    part_nodes = [set(np.flatnonzero(node_part == p).tolist()) for p in range(len(parts))]
    for p in range(len(parts)):
        ends = np.flatnonzero(link_part == p)
        part_nodes[p].update(top_end[ends].tolist())
    # closure: repeated switches bring the links up to their ancestors, first holder wins
    holder: dict[int, int] = {}
    for p, ns in enumerate(part_nodes):
        for x in ns:
            if top[x]:
                holder.setdefault(x, p)
    extra = len(parts)
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
    n_parts = len(parts) + (1 if (link_part == extra).any() else 0)
    if n_parts > len(parts):
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
