"""Real values the synthetic data must not reuse (never stored in the model), and
the id / name draws that stay clear of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.synthesize.text import LS, hex_ascii, join_text, text_from_bytes, uuid_text, where
from schemas.model import TABLES


# Names every cloud uses (Neutron's per-project default security group): never identifying.
GENERIC_NAMES = frozenset({"default"})


@dataclass
class Exclusions:
    ids: pa.Array
    names: pa.Array
    hosts: pa.Array
    mac_prefixes: frozenset[str]  # first two octets ("02:ab") of every real MAC

    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame]) -> "Exclusions":
        def vals(pairs):
            out = []
            for table, col in pairs:
                df = tables.get(table)
                if df is not None and len(df) and col in df.columns:
                    s = df[col].astype("string").str.strip()
                    out.append(pa.array(s[s.notna() & (s != "")].unique(), LS))
            return pc.unique(pa.concat_arrays(out)) if out else pa.array([], LS)

        id_cols = [(t, c) for t in TABLES for c in TABLES[t].column_names
                   if c == "id" or c.endswith("_id")]
        names = [(t, c) for t, cols in {"networks": ["name"], "subnets": ["name"],
                                        "ports": ["name", "dns_name"], "security_groups": ["name"],
                                        "routers": ["name"], "fabric_switches": ["name"]}.items()
                 for c in cols]
        macs = vals([("hosts", "mac_address"), ("hosts", "host_dvr_mac"), ("ports", "mac_address")])
        real_names = vals(names)
        # Neutron names every project's default group "default": it identifies nobody, and
        # renaming it would hide the default groups from anyone learning from the output.
        real_names = pc.filter(real_names, pc.invert(pc.is_in(real_names, pa.array(sorted(GENERIC_NAMES), LS))))
        return cls(ids=vals(id_cols), names=real_names,
                   hosts=vals([("hosts", "node_name"), ("ports", "binding_host_id")]),
                   mac_prefixes=frozenset(str(m).lower()[:5] for m in macs.to_pylist()))


def clashes(values: pa.Array, pool: pa.Array | None) -> np.ndarray:
    if pool is None or len(pool) == 0 or len(values) == 0:
        return np.zeros(len(values), dtype=bool)
    return np.asarray(pc.fill_null(pc.is_in(values, value_set=pool), False).to_numpy(zero_copy_only=False),
                      dtype=bool)


class IdDrawer:
    """Seeded UUIDs (and 32-hex project ids), redrawn where they equal a real id. `prefix`: a
    16-bit value written into the first two bytes of every id (a shard's; see Context.id_prefix)."""

    def __init__(self, rng: np.random.Generator, exclude: Exclusions | None, prefix: int | None = None):
        self.rng, self.exclude, self.prefix = rng, exclude, prefix

    def _bytes(self, n: int) -> np.ndarray:
        b = np.frombuffer(self.rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
        if self.prefix is not None:
            b[:, 0], b[:, 1] = self.prefix >> 8, self.prefix & 0xFF
        return b

    def _draw(self, n: int, fmt: Callable[[np.ndarray], pa.Array]) -> pa.Array:
        b = self._bytes(n)
        out = fmt(b)
        for _ in range(8):
            bad = clashes(out, self.exclude.ids if self.exclude else None)
            if not bad.any():
                return out
            b[bad] = self._bytes(int(bad.sum()))
            out = fmt(b)
        raise RuntimeError("could not draw ids distinct from the real ones")  # 2^-122 per draw

    def uuids(self, n: int) -> pa.Array:
        return self._draw(n, uuid_text)

    def hex32(self, n: int) -> pa.Array:
        def fmt(b):
            b = b.copy()
            b[:, 6] = (b[:, 6] & 0x0F) | 0x40
            b[:, 8] = (b[:, 8] & 0x3F) | 0x80
            return text_from_bytes(hex_ascii(b))
        return self._draw(n, fmt)


def avoid_names(names: pa.Array, exclude: Exclusions | None) -> pa.Array:
    """Append '-s' to any generated name that equals a real one (until none does)."""
    for _ in range(8):
        bad = clashes(names, exclude.names if exclude else None)
        if not bad.any():
            return names
        names = where(bad, join_text(names, "-s"), names)
    return names
