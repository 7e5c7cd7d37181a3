"""Views of the topology used by several exporters."""

from __future__ import annotations

import pandas as pd

from pipeline.export.topology.model import Topology


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
