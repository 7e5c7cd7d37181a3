"""Rule baselines: what a person does without a model (the subnet naming convention for
projects, keywords of port names, device_id conventions and addresses for ports)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from pipeline.labels.labelers import naming_labels


# ---------------------------------------------------------------------------------------------
# Rule baselines

# Keyword -> role, first match over the name's tokens in this order wins.
PORT_NAME_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("dhcp", "dhcp"),
    ("fip", "floating_ip"), ("floating", "floating_ip"), ("floatingip", "floating_ip"),
    ("lb", "lb_vip"), ("vip", "lb_vip"), ("octavia", "lb_vip"), ("lbaas", "lb_vip"),
    ("gw", "router_gateway"), ("gateway", "router_gateway"),
    ("router", "router_interface"), ("rtr", "router_interface"),
)


def port_name_role(name: str | None) -> str | None:
    from pipeline.features import name_tokens

    toks = set(name_tokens(name))
    for kw, role in PORT_NAME_KEYWORDS:
        if kw in toks:
            return role
    return None


def _naming_baseline(tables, params) -> pd.Series:
    from pipeline.features import project_ids

    ids = project_ids(tables)
    lab = naming_labels(tables, params).set_index("id")["label"]
    return pd.Series([lab.get(i) if i in lab.index else None for i in ids],
                     index=pd.Index(ids, name="id", dtype="string"), dtype=object)


def _port_name_baseline(tables, params) -> pd.Series:
    ports = tables["ports"].drop_duplicates("id")
    ids = ports["id"].astype("string")
    vals = [port_name_role(n) for n in ports["name"].astype("string").fillna("")]
    s = pd.Series(vals, index=pd.Index(ids, name="id"), dtype=object)
    return s.sort_index(kind="stable")


def port_rule(features: pd.DataFrame) -> pd.Series:
    """The rule an engineer writes without a model, over the port feature table: Neutron's
    device_id conventions (router / floating IP ids, DHCP device ids naming the network,
    Octavia's non-UUID `lb-...` ids, empty for unbound ports), then addresses (router external
    IP, floating IP address, subnet gateway, first pool address of a DHCP subnet). Without the
    device_id columns (the scrubbed view) only the address part remains. Indexed by port id."""
    f = features.set_index(features["id"].astype("string"))
    has = set(f.columns)

    def col(c):
        return f[c].to_numpy() == 1 if c in has else pd.Series(False, index=f.index).to_numpy()

    out = pd.Series("vm", index=f.index, dtype=object)
    if "device_id_empty" in has:   # lowest precedence first: later lines override
        out[~col("device_id_is_uuid")] = "lb_vip"
        out[col("device_id_has_network_id")] = "dhcp"
        out[col("device_id_empty")] = "unbound"
    else:
        out[~col("is_bound")] = "unbound"
        out[col("ip_is_pool_first") & (f["subnet_dhcp"].to_numpy() == 1)] = "dhcp"
    out[col("ip_is_gateway") | col("device_is_router")] = "router_interface"
    out[col("ip_is_floating_address") | col("device_is_floating_ip")] = "floating_ip"
    out[col("ip_is_router_external_ip")] = "router_gateway"
    return out.sort_index(kind="stable")


def _device_address_baseline(tables, params) -> pd.Series:
    from pipeline.features import port_features

    return port_rule(port_features(tables, params))


RULE_BASELINES: dict[str, Callable[..., pd.Series]] = {
    "naming": _naming_baseline,
    "port_name": _port_name_baseline,
    "device_address": _device_address_baseline,
}


def rule_baseline(name: str, tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None
                  ) -> pd.Series:
    """Rule predictions indexed by entity id (None where the rule says nothing)."""
    if name not in RULE_BASELINES:
        raise KeyError(f"unknown rule baseline {name!r} (known: {sorted(RULE_BASELINES)})")
    return RULE_BASELINES[name](tables, params)
