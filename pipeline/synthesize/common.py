"""Constants of the synthesis (address spaces, roles, kinds) and its parameter error."""

from __future__ import annotations


MODEL_FORMAT = "dcnet-synth-model/1"
SOURCE_FILE = "synthetic"
WORKLOAD_ROLES = ("vm", "lb_vip", "unbound")
INFRA_ROLES = ("dhcp", "router_interface", "router_gateway", "floating_ip")
BINDINGS = ("compute", "netnode", "none")
FALLBACK_KIND = "all"      # no profile for any project
UNLABELLED_KIND = "other"  # some projects have a profile, these do not

# Address spaces (see the package docstring).
RFC1918 = ((10 << 24, 24), ((172 << 24) | (16 << 16), 20), ((192 << 24) | (168 << 16), 16))
RANGE_NAMES = ("10", "172", "192")
EXTERNAL_BLOCKS_DOC = ((198 << 24) | (51 << 16) | (100 << 8), (203 << 24) | (113 << 8))
EXTERNAL_BULK = ((100 << 24) | (64 << 16), 2 ** 21)   # 100.64.0.0/11
UNDERLAY = ((100 << 24) | (96 << 16), 2 ** 21)        # 100.96.0.0/11
EXT_PER_SUBNET = 253                                  # .2 - .254 of a /24
PRIVATE_DNS = ("10.255.255.53", "10.255.254.53", "10.255.253.53")
PUBLIC_DNS = ("192.0.2.53", "192.0.2.54", "192.0.2.55")
PRIVATE_DNS6 = ("fd00:53::53", "fd00:53::54")
PUBLIC_DNS6 = ("2001:db8::53", "2001:db8::54")
# Provider segmentation ids per network type (as schemas/checks/ validates them).
SEGMENTATION_RANGES = {"geneve": (1, 2**24 - 1), "gre": (1, 2**32 - 1), "vlan": (1, 4094),
                       "vxlan": (1, 2**24 - 1)}
MAC_PREFIX = {"port": 0x02, "host": 0x06, "dvr": 0x0A}  # locally administered, unicast
TIME_BASE = 1_704_067_200  # 2024-01-01T00:00:00Z: synthetic timestamps fall in 2024-2025


class SynthParamsError(ValueError):
    """A bad `synthesize:` parameter (or a model that cannot serve it); names the key."""
