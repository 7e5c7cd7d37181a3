"""Fields that other fields of the same row determine, filled in before validation.

Some dump formats omit a field Neutron always stores but that another field fixes:
`openstack subnet list` has no IP version column, but the CIDR's family is the IP version; a
rule without an ethertype but with a remote prefix has the prefix's family. Filling these is not
guessing, so the row stays valid; every value filled is counted in the validation report
(`filled_fields`). A required field that stays null is quarantined (`required_missing`).
"""

from __future__ import annotations

import pandas as pd

from schemas import netaddr as na


def _fill_from_family(df: pd.DataFrame, target: str, source: str, values: dict[int, object],
                      require_prefix: bool) -> tuple[pd.DataFrame, int]:
    missing = df[target].isna().to_numpy(dtype=bool)
    if not missing.any():
        return df, 0
    family = na.parse_cidrs(df[source], require_prefix=require_prefix).version
    fill = missing & (family > 0)
    if not fill.any():
        return df, 0
    col = df[target].copy()
    col[fill] = [values[int(v)] for v in family[fill]]
    return df.assign(**{target: col}), int(fill.sum())


def fill_determined(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict]:
    """(tables with determined fields filled, {table: {column: rows filled}})."""
    out, counts = dict(tables), {}
    plan = [("subnets", "ip_version", "cidr", {4: 4, 6: 6}, True),
            ("security_group_rules", "ethertype", "remote_ip_prefix",
             {4: "IPv4", 6: "IPv6"}, False)]
    for table, target, source, values, require_prefix in plan:
        df = out.get(table)
        if df is None or len(df) == 0:
            continue
        out[table], n = _fill_from_family(df, target, source, values, require_prefix)
        if n:
            counts.setdefault(table, {})[target] = n
    return out, counts

