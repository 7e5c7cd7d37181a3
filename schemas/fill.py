"""Fields that other fields determine, filled in before validation.

Some dump formats omit a field Neutron always stores but that another field fixes:
`openstack subnet list` has no IP version column, but the CIDR's family is the IP version; a
rule without an ethertype but with a remote prefix has the prefix's family; `openstack port list
--long` has no network column, but a fixed IP's subnet lies on the port's network (Neutron
enforces it), so a port whose fixed IPs name subnets of one network is on that network. Filling
these is not guessing, so the row stays valid; every value filled is counted in the validation
report (`filled_fields`). A required field that stays null is quarantined (`required_missing`).
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


def _port_networks_from_fixed_ips(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, int]:
    """Ports without network_id get the one network of their fixed IPs' subnets."""
    ports = tables.get("ports")
    if ports is None or not len(ports):
        return ports, 0
    missing = ports["network_id"].isna().to_numpy(dtype=bool)
    pips, subs = tables.get("port_ips"), tables.get("subnets")
    if not missing.any() or pips is None or subs is None or not len(pips) or not len(subs):
        return ports, 0
    subnet_net = subs.dropna(subset=["id", "network_id"]).drop_duplicates("id").set_index(
        "id")["network_id"]
    wanted = pips[pips["port_id"].isin(ports.loc[missing, "id"].dropna())]
    nets = pd.DataFrame({"port": wanted["port_id"].to_numpy(dtype=object),
                         "net": wanted["subnet_id"].map(subnet_net).to_numpy(dtype=object)})
    nets = nets.dropna()
    per_port = nets.groupby("port")["net"].agg(lambda s: s.iloc[0] if s.nunique() == 1 else None)
    per_port = per_port.dropna()
    if not len(per_port):
        return ports, 0
    found = ports["id"].map(per_port)
    fill = missing & found.notna().to_numpy(dtype=bool)
    if not fill.any():
        return ports, 0
    col = ports["network_id"].copy()
    col[fill] = found[fill].to_numpy(dtype=object)
    return ports.assign(network_id=col), int(fill.sum())


def fill_determined(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict]:
    """(tables with determined fields filled, {table: {column: rows filled}})."""
    out, counts = dict(tables), {}
    out["ports"], n = _port_networks_from_fixed_ips(out)
    if n:
        counts["ports"] = {"network_id": n}
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

