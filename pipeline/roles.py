"""Port roles from device_owner: the shared vocabulary of what a port is for.

Used by the features (port counts per role), the labels (port_role task), the synthesizer and
its evaluation; it sits below all of them, so none of those imports another for it.
"""

from __future__ import annotations

import pandas as pd

from schemas.model import ROUTER_INTERFACE_OWNERS

ROUTER_GATEWAY_OWNERS = frozenset({"network:router_gateway"})
DHCP_OWNERS = frozenset({"network:dhcp"})
FLOATING_IP_OWNERS = frozenset({"network:floatingip"})
LB_VIP_OWNERS = frozenset({"Octavia", "neutron:LOADBALANCERV2", "neutron:LOADBALANCER"})

PORT_ROLES = ("vm", "router_interface", "router_gateway", "dhcp", "floating_ip", "lb_vip",
              "unbound", "other")


def owner_role(owner: str | None) -> str | None:
    """Role of one device_owner value; None when the field is missing (scrubbed)."""
    if owner is None or owner is pd.NA:
        return None
    o = str(owner).strip()
    if o == "":
        return "unbound"
    if o.startswith("compute:"):
        return "vm"
    if o in ROUTER_INTERFACE_OWNERS:
        return "router_interface"
    if o in ROUTER_GATEWAY_OWNERS:
        return "router_gateway"
    if o in DHCP_OWNERS:
        return "dhcp"
    if o in FLOATING_IP_OWNERS:
        return "floating_ip"
    # Octavia spells it "Octavia"; case varies between deployments.
    if o in LB_VIP_OWNERS or o.lower() == "octavia" or o.startswith("neutron:LOADBALANCER"):
        return "lb_vip"
    return "other"


def owner_roles(owners: pd.Series) -> pd.Series:
    """Vectorized owner_role over a column (string dtype, '' for a missing owner -> 'missing')."""
    s = owners.astype("string")
    uniq = {o: owner_role(o) for o in s.dropna().unique()}
    out = s.map(uniq).astype("string")
    return out.fillna("missing")
