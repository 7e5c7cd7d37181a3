"""Table checks on networks: the provider segmentation id of each network type."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.checks.registry import passes, register, values_at


def _seg_msg(df, idx, _col, stats):
    out = []
    for t, v in zip(values_at(df, idx, "network_type"), values_at(df, idx, "segmentation_id")):
        if str(t).lower() in stats.get("unsegmented", []):
            out.append(f"segmentation_id {v} given for a {t} network, which has none")
            continue
        lo, hi = stats["ranges"][str(t).lower()]
        out.append(f"segmentation_id {v} out of range {lo}..{hi} for {t}")
    return out


@register("segmentation_id lies in the range of network_type (vlan 1..4094, vxlan/geneve "
          "1..2^24-1, gre 1..2^32-1); flat and local networks have none; other types are not "
          "checked.", statistics=["ranges", "unsegmented"],
          frame=True, message=_seg_msg, reads=("network_type", "segmentation_id"))
def segmentation_id_range(df: pd.DataFrame, *, ranges: dict[str, list[int]],
                          unsegmented: list[str] = ()) -> pd.Series:
    t = df["network_type"].astype("string").str.lower()
    seg = df["segmentation_id"].to_numpy(dtype="float64", na_value=np.nan)
    bad = np.zeros(len(df), dtype=bool)
    for name, (lo, hi) in ranges.items():
        of_type = (t == name).to_numpy(dtype=bool, na_value=False)
        bad |= of_type & ~np.isnan(seg) & ((seg < lo) | (seg > hi))
    bad |= t.isin(list(unsegmented)).to_numpy(dtype=bool, na_value=False) & ~np.isnan(seg)
    return passes(~bad, df.index)
