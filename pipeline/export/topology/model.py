"""The Topology (node and link frames, the summary, the tables used) and its name map; the
column readers every exporter goes through (`pylist`, `arrow_column`) live in export.wire."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from pipeline.errors import InputError
from pipeline.export.wire import arrow_column, pylist  # noqa: F401 - the column readers, re-exported

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

    def cached(self, key, make):
        """make(), built once per topology under `key` (derived data several exporters, or
        several tasks of one exporter, read)."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def names_csv(self) -> str:
        """short,label,kind,role,id,name per node (the map back to real names), built once."""
        def make() -> str:
            from pipeline.export.wire import csv_text

            return csv_text(name_map(self))

        return self.cached("names_csv", make)

    def count(self, kind: str) -> int:
        return int((self.nodes["kind"] == kind).sum())

    def link_count(self, kind: str) -> int:
        return int((self.links["kind"] == kind).sum())


def object_frame(cols: dict) -> pd.DataFrame:
    """A frame of object columns as given (a str value fills its column). pandas 3 would
    otherwise convert every list of str to its string dtype, which costs more than building the
    topology and gives NaN for nulls."""
    import numpy as np

    n = max((len(v) for v in cols.values() if not isinstance(v, str)), default=0)
    return pd.DataFrame({k: (np.full(n, v, dtype=object) if isinstance(v, str)
                             else np.asarray(v, dtype=object)) for k, v in cols.items()},
                        dtype=object)


def name_map(topo: Topology) -> pd.DataFrame:
    """short, label, kind, role, id, name: one row per node, in node order."""
    n = topo.nodes
    return pd.DataFrame({"short": n["short"], "label": n["label"], "kind": n["kind"],
                         "role": n["role"], "id": n["ref_id"], "name": n["name"]})
