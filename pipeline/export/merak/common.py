"""What every Merak body uses: the tally of what is left out, changed or not used, labels for
resource tables, and IPv4 parsing."""

from __future__ import annotations

import ipaddress
from collections import Counter

import pandas as pd

from pipeline.export.topology import LABEL_MAX, label_candidates, pylist, unique_names


class Tally:
    """Counts per reason of what the export leaves out, changes, or Merak does not use."""

    def __init__(self):
        self.left_out: Counter = Counter()
        self.changed: Counter = Counter()
        self.ignored: Counter = Counter()

    def as_dict(self) -> dict:
        return {k: dict(sorted((r, int(n)) for r, n in c.items() if n))
                for k, c in (("left_out", self.left_out), ("changed", self.changed),
                             ("not_used_by_merak", self.ignored))}


def _s(v) -> str:
    return "" if v is None else str(v)


def _labels(df: pd.DataFrame, prefix: str) -> dict:
    """{id: unique label} for a resource table, names first, ids when unnamed; sorted by id."""
    if df is None or len(df) == 0:
        return {}
    df = df.sort_values("id", kind="stable")
    ids = pylist(df["id"])
    names = [n if n is not None and str(n).strip() else i for n, i in zip(pylist(df["name"]), ids)]
    return dict(zip(ids, unique_names(label_candidates(names, prefix), LABEL_MAX, "-")))


def _ipv4_net(text):
    """An IPv4Network for 'a.b.c.d/n' (host bits allowed), None otherwise."""
    if text is None or "/" not in str(text):
        return None
    try:
        net = ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        return None
    return net if net.version == 4 else None
