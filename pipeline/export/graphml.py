"""GraphML of the whole topology (networkx-readable) and a PNG overview for small ones.

Output (folder `graphml/`):
- dcnet.graphml: every node of pipeline/export/topology/ (id = its key, e.g. `vm:<id>`,
  `host:<id>`, `switch:<id>`) and every link (fabric and VM NIC links, parallel links kept),
  with their attributes. Written as a stream (networkx's own writer needs lxml to be fast);
  `networkx.read_graphml(path)` reads it back as a MultiGraph.
- dcnet.png: drawn in layers (core/spine, aggregation, edge/leaf, compute hosts, VMs) when the
  topology has at most `max_png_nodes` nodes; when only the VMs make it too big, the fabric and
  hosts are drawn without them (the title says so); otherwise no PNG (the summary says why).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.export.topology import Topology, arrow_column, pylist, to_networkx
from pipeline.export.wire import end_to_end, join_parts, part_name
from pipeline.params import default

GRAPHML = "dcnet.graphml"
PNG = "dcnet.png"
NODE_ATTRS = [("kind", "string"), ("role", "string"), ("ref_id", "string"), ("name", "string"),
              ("short", "string"), ("label", "string"), ("pod", "long"), ("rack", "string"),
              ("zone", "string"), ("ip", "string"), ("mac", "string"), ("project_id", "string"),
              ("host_key", "string")]
EDGE_ATTRS = [("kind", "string"), ("ref_id", "string"), ("bandwidth_gbps", "double"),
              ("mac", "string"), ("ip", "string"), ("ip6", "string"), ("subnet_id", "string"),
              ("network_id", "string"), ("project_id", "string")]
# characters XML 1.0 cannot carry, even escaped (RE2 syntax: pyarrow runs it; UTF-8 strings
# cannot hold surrogates, so they need no rule)
_BAD_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x{FFFE}\x{FFFF}]"
LAYER = {"core": 0, "spine": 0, "aggregation": 1, "edge": 2, "leaf": 2, "compute": 3, "vm": 4}


def _xml_text(col: pd.Series, typ: str) -> pa.Array:
    """Escaped XML text per value (null stays null), vectorized (pyarrow string kernels)."""
    if typ == "long":
        return arrow_column(col.astype("Int64").astype("string"))
    if typ == "double":
        v = col.astype("float64")
        return pa.array([None if x != x else repr(x) for x in v.tolist()], pa.large_string())
    text = _strings(col)
    if not _any_match(text, _TEXT_SPECIAL):  # most columns (ids, names, addresses): nothing to escape
        return text
    text = pc.replace_substring_regex(text, _BAD_XML, "\ufffd")
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = pc.replace_substring(text, char, entity)
    return text


def _strings(col: pd.Series) -> pa.Array:
    """The column as Arrow strings, straight from its Python strings (pandas' astype("string")
    re-checks every value in Python: most of the GraphML worker's 2.9 -> 1.8 CPU-s on the
    10k-host export); a column holding other values (numbers) is converted by pandas as before."""
    if col.dtype == object:
        try:
            return arrow_column(col)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
    return arrow_column(col.astype("string"))


def _xml_attr(col: pd.Series) -> pa.Array:
    text = _xml_text(col, "string")
    if _any_match(text, _ATTR_SPECIAL):
        for char, entity in (('"', "&quot;"), ("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;")):
            text = pc.replace_substring(text, char, entity)
    return pc.binary_join_element_wise(_scalar('"'), text, _scalar('"'), _scalar(""))


_TEXT_SPECIAL = _BAD_XML[:-1] + "&<>]"  # what _xml_text rewrites
_ATTR_SPECIAL = '["\\n\\r\\t]'  # what _xml_attr rewrites besides


def _any_match(text: pa.Array, pattern: str) -> bool:
    """Whether any value holds a character of `pattern` (one vectorised pass, RE2)."""
    return bool(pc.any(pc.match_substring_regex(text, pattern)).as_py())


def _elements(df: pd.DataFrame, head: pa.Array, attrs, prefix: str, close: str) -> pa.Buffer:
    """One XML element per row: `head`, a <data> per non-null attribute, `close` and a newline;
    joined in one Arrow pass (adding the attributes one by one copied the growing text once per
    attribute), returned as the UTF-8 text of all rows end to end (no Python string per row)."""
    pieces = [head]
    for i, (a, t) in enumerate(attrs):
        if a not in df:
            continue
        text = _xml_text(df[a].reset_index(drop=True), t)
        pieces.append(pc.binary_join_element_wise(_scalar(f'<data key="{prefix}{i}">'), text,
                                                  _scalar("</data>"), _scalar("")))
    pieces.append(_scalar(close + "\n"))
    return end_to_end(pc.binary_join_element_wise(*pieces, _scalar(""), null_handling="skip"))


def _join(*pieces) -> pa.Array:
    """Arrays and fixed texts joined element-wise (null when any array value is null)."""
    return pc.binary_join_element_wise(*(_scalar(p) if isinstance(p, str) else p for p in pieces),
                                       _scalar(""))


def _scalar(text: str) -> pa.Scalar:
    return pa.scalar(text, pa.large_string())


CHUNK = 50_000  # rows per vectorised slice: bounds the memory of the string columns


def write_graphml(topo: Topology, path: Path, part: int = 0, parts: int = 1) -> None:
    """The GraphML document, or part `part` of `parts` of its text: part 0 starts with the
    header, the last ends with the footer, each holds a range of the CHUNK-row slices of nodes
    then links (the parts in order are the whole document, whatever `parts` is)."""
    nodes, links = topo.nodes, topo.links
    slices = ([("node", lo) for lo in range(0, len(nodes), CHUNK)]
              + [("link", lo) for lo in range(0, len(links), CHUNK)])
    mine = slices[part * len(slices) // parts:(part + 1) * len(slices) // parts]
    with open(path, "wb") as fh:
        if part == 0:
            fh.write(_header().encode())
        for kind, lo in mine:
            fh.write(_node_text(nodes, lo) if kind == "node" else _link_text(links, lo))
        if part == parts - 1:
            fh.write(b"  </graph>\n</graphml>\n")


def _header() -> str:
    head = ['<?xml version="1.0" encoding="UTF-8"?>',
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
            'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">']
    head += [f'  <key id="n{i}" for="node" attr.name="{a}" attr.type="{t}"/>'
             for i, (a, t) in enumerate(NODE_ATTRS)]
    head += [f'  <key id="e{i}" for="edge" attr.name="{a}" attr.type="{t}"/>'
             for i, (a, t) in enumerate(EDGE_ATTRS)]
    head.append('  <graph id="dcnet" edgedefault="undirected">')
    return "\n".join(head) + "\n"


def _node_text(nodes: pd.DataFrame, lo: int) -> pa.Buffer:
    part = nodes.iloc[lo:lo + CHUNK].reset_index(drop=True)
    start = _join("    <node id=", _xml_attr(part["key"]), ">")
    return _elements(part, start, NODE_ATTRS, "n", "</node>")


def _link_text(links: pd.DataFrame, lo: int) -> pa.Buffer:
    part = links.iloc[lo:lo + CHUNK].reset_index(drop=True)
    ids = pa.array([f"l{r}" for r in range(lo, lo + len(part))], pa.large_string())
    start = _join('    <edge id="', ids, '" source=', _xml_attr(part["src"]), " target=",
                  _xml_attr(part["dst"]), ">")
    return _elements(part, start, EDGE_ATTRS, "e", "</edge>")


def draw_png(topo: Topology, path: Path, max_nodes: int) -> str:
    """Draw the overview; returns what was drawn ("full", "without_vms") or why not."""
    n_all = len(topo.nodes)
    n_fabric = int((topo.nodes["kind"] != "vm").sum())
    if n_all <= max_nodes:
        mode = "full"
    elif n_fabric <= max_nodes:
        mode = "without_vms"
    else:
        return f"skipped: {n_fabric} switches and hosts > max_png_nodes={max_nodes}"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import networkx as nx

    g = nx.Graph(to_networkx(topo))
    if mode == "without_vms":
        g.remove_nodes_from([k for k, d in g.nodes(data=True) if d.get("kind") == "vm"])
    for k, d in g.nodes(data=True):
        d["layer"] = LAYER.get(d.get("role"), 2)
    pos = _layered_layout(g)
    colors = {"switch": "#1f77b4", "host": "#2ca02c", "vm": "#ff7f0e"}
    fig, ax = plt.subplots(figsize=(14, 8), dpi=100)
    order = sorted(g.nodes)
    nx.draw_networkx_edges(g, pos, ax=ax, width=0.4, alpha=0.4)
    nx.draw_networkx_nodes(g, pos, nodelist=order, ax=ax, node_size=40 if len(order) > 60 else 200,
                           node_color=[colors.get(g.nodes[k].get("kind"), "#7f7f7f") for k in order])
    if len(order) <= 60:
        nx.draw_networkx_labels(g, pos, labels={k: g.nodes[k].get("short", "") for k in order},
                                font_size=7, ax=ax)
    s = topo.summary
    ax.set_title(f"dcnet {topo.fabric_kind}: {s['fabric_switches']} fabric switches, "
                 f"{s['compute_hosts']} compute hosts, {s['vms']} VMs"
                 + (" (VMs not drawn)" if mode == "without_vms" else ""))
    ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    return mode


def _layered_layout(g) -> dict:
    """Each layer spread over the full width, top layer first; a node sits under the mean
    position of its neighbours in the layers above (one barycentre pass: fewer crossings)."""
    layers: dict[int, list] = {}
    for k, d in g.nodes(data=True):
        layers.setdefault(d["layer"], []).append(k)
    pos: dict = {}
    for depth, layer in enumerate(sorted(layers)):
        ks = sorted(layers[layer])
        if pos:
            def bary(k):
                xs = [pos[n][0] for n in g.neighbors(k) if n in pos]
                return (sum(xs) / len(xs) if xs else 2.0, k)
            ks.sort(key=bary)
        n = len(ks)
        for i, k in enumerate(ks):
            pos[k] = ((i + 0.5) / n, -float(depth))
    return pos


def write(topo: Topology, out: Path, params: dict) -> dict:
    return finish(out, [write_group(topo, out, params, 0, 1)])


def write_group(topo: Topology, out: Path, params: dict, group: int, groups: int) -> dict:
    """Part `group` of `groups` of the document (write_graphml) for `finish` to join; part 0
    also draws the PNG (the dask engine writes the parts side by side)."""
    target = part_name(GRAPHML, group, groups)
    write_graphml(topo, out / target, group, groups)
    result = {"file": target, "nodes": len(topo.nodes), "edges": len(topo.links)}
    if group == 0:
        result["png"] = draw_png(topo, out / PNG, int(params.get("max_png_nodes",
                                                                 default("export.max_png_nodes"))))
    return result


def finish(out: Path, results: list[dict]) -> dict:
    join_parts(out, GRAPHML, [r["file"] for r in results])
    head = next(r for r in results if "png" in r)
    files = [GRAPHML] + ([PNG] if not head["png"].startswith("skipped") else [])
    return {"files": sorted(files), "nodes": head["nodes"], "edges": head["edges"], "png": head["png"]}
