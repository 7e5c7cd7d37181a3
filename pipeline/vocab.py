"""Closed vocabularies: the values a categorical field can take in Neutron and Alcor.

Synthesis learns categorical fields (statuses, binding types, network types, IPv6 modes,
device owners) as value histograms. A value outside these lists is free text of the real
dump (a vendor status, a site-specific VIF type, a typo) and could identify it, so it is
replaced by the field's neutral value before anything is learned, and counted
(`replaced_values` in the model and the synthesis summary). Values from neutron-lib
(constants, portbindings) and Alcor's data model.
"""

from __future__ import annotations

import pandas as pd

from schemas.model import ROUTER_INTERFACE_OWNERS

NET_STATUSES = ("ACTIVE", "BUILD", "DOWN", "ERROR")
PORT_STATUSES = ("ACTIVE", "BUILD", "DOWN", "ERROR", "N/A")
FIP_STATUSES = ("ACTIVE", "DOWN", "ERROR")
ROUTER_STATUSES = ("ACTIVE", "ALLOCATING", "DOWN", "ERROR")
NETWORK_TYPES = ("flat", "geneve", "gre", "ip6gre", "local", "vlan", "vxlan")
VNIC_TYPES = ("accelerator-direct", "accelerator-direct-physical", "baremetal", "direct",
              "direct-physical", "macvtap", "normal", "remote-managed", "smart-nic", "vdpa",
              "virtio-forwarder")
VIF_TYPES = ("agilio_ovs", "binding_failed", "bridge", "distributed", "hostdev_physical",
             "hw_veb", "macvtap", "other", "ovs", "tap", "unbound", "vhostuser")
IPV6_MODES = ("dhcpv6-stateful", "dhcpv6-stateless", "slaac")
LB_OWNERS = ("Octavia", "neutron:LOADBALANCER", "neutron:LOADBALANCERV2")

# (table, column) -> (vocabulary, neutral value). None is "not known": every generator handles
# a missing status or type already (real dumps have them).
VOCABULARIES: dict[tuple[str, str], tuple[tuple[str, ...], str | None]] = {
    ("networks", "status"): (NET_STATUSES, None),
    ("networks", "network_type"): (NETWORK_TYPES, None),
    ("subnets", "ipv6_address_mode"): (IPV6_MODES, None),
    ("subnets", "ipv6_ra_mode"): (IPV6_MODES, None),
    ("ports", "status"): (PORT_STATUSES, None),
    ("ports", "binding_vif_type"): (VIF_TYPES, None),
    ("ports", "binding_vnic_type"): (VNIC_TYPES, None),
    ("routers", "status"): (ROUTER_STATUSES, None),
    ("floating_ips", "status"): (FIP_STATUSES, None),
}
# Device owners of the roles whose owner string is learned (not derived from a zone).
OWNER_VOCABULARIES: dict[str, tuple[tuple[str, ...], str]] = {
    "lb_vip": (LB_OWNERS, "Octavia"),
    "router_interface": (tuple(sorted(ROUTER_INTERFACE_OWNERS)), "network:router_interface"),
}


def close(values: pd.Series, vocabulary: tuple[str, ...], neutral,
          lower: bool = False) -> tuple[pd.Series, int]:
    """(values with anything outside `vocabulary` replaced by `neutral`, how many replaced).

    Nulls and empty strings stay as they are (not set). `lower` compares in lower case (the
    network type is written in any case)."""
    s = values.astype("string")
    probe = s.str.lower() if lower else s
    outside = (s.notna() & (s != "") & ~probe.isin(list(vocabulary))).to_numpy(dtype=bool)
    n = int(outside.sum())
    if not n:
        return values, 0
    out = s.copy()
    out[outside] = neutral if neutral is not None else pd.NA
    return out, n


def close_tables(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict]:
    """Every VOCABULARIES column closed; ({table: frame}, {"table.column": replaced})."""
    out, counts = dict(tables), {}
    for (table, column), (vocab, neutral) in VOCABULARIES.items():
        df = out.get(table)
        if df is None or column not in df.columns or not len(df):
            continue
        new, n = close(df[column], vocab, neutral, lower=(column == "network_type"))
        if n:
            out[table] = df.assign(**{column: new})
            counts[f"{table}.{column}"] = n
    return out, counts
