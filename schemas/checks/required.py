"""Table check: fields every stored Neutron object has."""

from __future__ import annotations

import pandas as pd

from schemas.checks.registry import passes, register


def _required_msg(df, idx, _col, stats):
    cols = list(stats["columns"])
    out = []
    for i in idx:
        gone = [c for c in cols if pd.isna(df[c].iat[i])]
        out.append(", ".join(gone) + (" is missing" if len(gone) == 1 else " are missing")
                   + " (every stored object has " + ("it" if len(gone) == 1 else "them") + ")")
    return out


@register("Fields every stored Neutron object has are present (subnet cidr/ip_version, port "
          "mac_address, fixed IP address, rule direction/ethertype, floating IP address).",
          statistics=["columns"], frame=True, message=_required_msg)
def required_missing(df: pd.DataFrame, *, columns: list[str]) -> pd.Series:
    return passes(~df[list(columns)].isna().any(axis=1).to_numpy(dtype=bool), df.index)
