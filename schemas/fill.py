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
    wanted = pips[pips["port_id"].isin(ports.loc[missing, "id"].dropna())]
    return fill_port_networks(ports, one_network_per_port(
        fixed_ip_networks(wanted, subnet_networks(subs))))


# The steps of the ports' network fill, each a rule over rows that share a key (subnet id, then
# port id), so pipeline/validate/on_engine.py runs the same steps on co-partitions of the key.

def subnet_networks(subnets: pd.DataFrame) -> pd.Series:
    """subnet id -> network_id, the first row of an id (subnets in input order)."""
    return subnets.dropna(subset=["id", "network_id"]).drop_duplicates("id").set_index(
        "id")["network_id"]


def fixed_ip_networks(port_ips: pd.DataFrame, subnet_net: pd.Series) -> pd.DataFrame:
    """(port, net) of every fixed IP whose subnet's network is known."""
    nets = pd.DataFrame({"port": port_ips["port_id"].to_numpy(dtype=object),
                         "net": port_ips["subnet_id"].map(subnet_net).to_numpy(dtype=object)})
    return nets.dropna()


def one_network_per_port(nets: pd.DataFrame) -> pd.Series:
    """port -> net, for the ports whose fixed IPs all lie on one network."""
    if not len(nets):
        return pd.Series([], dtype=object)
    per_port = nets.groupby("port")["net"].agg(lambda s: s.iloc[0] if s.nunique() == 1 else None)
    return per_port.dropna()


def fill_port_networks(ports: pd.DataFrame, per_port: pd.Series,
                       key: str = "id") -> tuple[pd.DataFrame, int]:
    """(ports whose null network_id `per_port` (by the `key` column) knows filled, rows
    filled)."""
    if not len(per_port) or not len(ports):
        return ports, 0
    missing = ports["network_id"].isna().to_numpy(dtype=bool)
    found = ports[key].map(per_port)
    fill = missing & found.notna().to_numpy(dtype=bool)
    if not fill.any():
        return ports, 0
    col = ports["network_id"].copy()
    col[fill] = found[fill].to_numpy(dtype=object)
    return ports.assign(network_id=col), int(fill.sum())


# table -> (field filled, the field whose address family determines it, family -> value,
# whether that field must have a prefix length)
FAMILY_FILLS = {
    "subnets": ("ip_version", "cidr", {4: 4, 6: 6}, True),
    "security_group_rules": ("ethertype", "remote_ip_prefix", {4: "IPv4", 6: "IPv6"}, False),
}


def fill_row_fields(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """(table `name` with the fields its own row determines filled, {column: rows filled}):
    row by row, so any cut of the table into partitions gives the same rows."""
    if name not in FAMILY_FILLS or df is None or len(df) == 0:
        return df, {}
    target, source, values, require_prefix = FAMILY_FILLS[name]
    df, n = _fill_from_family(df, target, source, values, require_prefix)
    return df, ({target: n} if n else {})


def fill_determined(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict]:
    """(tables with determined fields filled, {table: {column: rows filled}})."""
    out, counts = dict(tables), {}
    out["ports"], n = _port_networks_from_fixed_ips(out)
    if n:
        counts["ports"] = {"network_id": n}
    for table in FAMILY_FILLS:
        if table in out:
            out[table], filled = fill_row_fields(table, out[table])
            if filled:
                counts.setdefault(table, {}).update(filled)
    return out, counts
