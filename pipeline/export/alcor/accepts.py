"""What Alcor accepts (values from its code; see schemas/consumers/alcor.requests.schema.json),
and the counts of what is left out or changed to fit it."""

from __future__ import annotations

import ipaddress
import re
import uuid
from functools import lru_cache

VIF_TYPES = frozenset({"ovs", "macvtap", "hw_veb", "hostdev_physical", "vhostuser",
                       "distributed", "other"})
VIF_UNBOUND = frozenset({"unbound", "binding_failed"})  # sent without vif_type (Alcor: ovs)
VNIC_TYPES = frozenset({"normal", "macvtap", "direct", "baremetal", "directphysical"})
VNIC_ALIASES = {"direct-physical": "directphysical"}
NETWORK_TYPES = frozenset({"vxlan", "vlan", "gre", "flat"})
STATUSES = frozenset({"ACTIVE", "DOWN", "BUILD", "ERROR"})

# rule protocols the data-plane manager maps (IP protocol numbers of the same protocols too)
SGR_PROTOCOLS = {"tcp": "tcp", "udp": "udp", "icmp": "icmp", "http": "http",
                 "6": "tcp", "17": "udp", "1": "icmp"}
ALLOW_ALL_PREFIXES = (None, "0.0.0.0/0", "::/0")
URL_UNSAFE = re.compile(r"[&=#+%{}\s]")  # node names go into a query string unescaped
SUBNET_CIDR = re.compile(r"^(?:25[0-5]|2[0-4][0-9]|[01]?[0-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]"
                         r"|[01]?[0-9]?[0-9])){3}/(?:1[6-9]|2[0-8])$")
MAC = re.compile(r"^[0-9A-Fa-f]{2}(?:[-,:][0-9A-Fa-f]{2}){5}$")
ROUTER_NS = uuid.UUID("5b0c6f1e-7d1a-4c0e-9a57-2f1c8d3b6a10")  # ids of split routers, ranges


class Counts:
    """Everything left out or changed on the way to Alcor, per reason."""

    def __init__(self):
        self.left_out: dict[str, int] = {}
        self.changed: dict[str, int] = {}

    def out(self, reason: str, n: int = 1) -> None:
        if n:
            self.left_out[reason] = self.left_out.get(reason, 0) + n

    def change(self, reason: str, n: int = 1) -> None:
        if n:
            self.changed[reason] = self.changed.get(reason, 0) + n


@lru_cache(maxsize=None)
def _v4net(cidr):
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except (ValueError, TypeError):
        return None
    return net if net.version == 4 else None


def _enum(obj: dict, key: str, allowed, counts: Counts, what: str) -> None:
    v = obj.get(key)
    if v is not None and v not in allowed:
        del obj[key]
        counts.change(f"{what} {key} {v!r} not an Alcor value: left out")
