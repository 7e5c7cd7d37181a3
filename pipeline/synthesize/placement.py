"""Placement: fitting VMs and network ports onto hosts with room."""

from __future__ import annotations


import numpy as np
from pipeline.synthesize.arrays import _starts
from pipeline.synthesize.common import SynthParamsError


def _fit(host: np.ndarray, weight: np.ndarray, room: np.ndarray, what: str) -> np.ndarray:
    """Move units (VMs, ports) off hosts they would overfill, onto hosts with room.

    Units keep their host in order until it is full; the rest are laid, in order, on a line of
    the remaining room per host, each host's room shortened by (largest unit - 1) so no unit
    straddles past a host's capacity. `room` is updated in place."""
    host = host.copy()
    if len(host) == 0:
        return host
    order = np.argsort(host, kind="stable")
    h_sorted = host[order]
    w_sorted = weight[order]
    cum = np.cumsum(w_sorted)
    start = _starts(np.bincount(h_sorted, minlength=len(room)))
    before = np.concatenate([[0], cum])[start]  # cumulative weight before each host's run
    over = (cum - before[h_sorted]) > room[h_sorted]
    kept = ~over
    load = np.bincount(h_sorted[kept], weights=w_sorted[kept], minlength=len(room)).astype(np.int64)
    room -= load
    if not over.any():
        return host
    ev = order[over]
    need = weight[ev]
    eff = np.maximum(room - (int(weight.max()) - 1), 0)
    if need.sum() > eff.sum():
        raise SynthParamsError(f"synthesize.max_ports_per_host is too small for the {what}: "
                               f"raise it or the number of hosts")
    line = np.cumsum(eff)
    starts = np.cumsum(need) - need
    dest = np.searchsorted(line, starts, side="right")
    host[ev] = dest
    room -= np.bincount(dest, weights=need, minlength=len(room)).astype(np.int64)
    return host
