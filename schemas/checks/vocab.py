"""Vocabularies and ranges the checks use (shared with models.py; here so messages can quote them)."""

from __future__ import annotations

from schemas.model import DEVICE_OWNER_PREFIXES, DEVICE_OWNERS


# Values and ranges follow what Neutron itself accepts and reports (neutron-lib constants and
# API validators), so that no object Neutron stored is quarantined.
DIRECTIONS = ["egress", "ingress"]
ETHERTYPES = ["IPv4", "IPv6"]
# neutron-lib IPV4_MIN_MTU .. the largest MTU a Linux/OVS interface takes. Neutron's `mtu`
# attribute is any non-negative integer and 0 (its default) or an absent value means "not
# known": both pass.
MTU_RANGE = (68, 65535)
# Provider segmentation id ranges per network type (neutron-lib: VLAN 1..4094, VXLAN and
# Geneve VNI 1..2^24-1, GRE key 1..2^32-1). Flat and local networks have no segmentation id.
SEGMENTATION_RANGES = {
    "geneve": [1, 2**24 - 1],
    "gre": [1, 2**32 - 1],
    "vlan": [1, 4094],
    "vxlan": [1, 2**24 - 1],
}
UNSEGMENTED_TYPES = ["flat", "local"]
# Rule protocols Neutron accepts by name (neutron-lib IP_PROTOCOL_MAP, case-insensitive; 'any'
# is Neutron's spelling of null); any other value must be an IP protocol number 0..255.
PROTOCOL_NAMES = ["ah", "any", "dccp", "egp", "esp", "gre", "hopopt", "icmp", "icmpv6", "igmp",
                  "ip", "ipip", "ipv6-encap", "ipv6-frag", "ipv6-icmp", "ipv6-nonxt",
                  "ipv6-opts", "ipv6-route", "ospf", "pgm", "rsvp", "sctp", "tcp", "udp",
                  "udplite", "vrrp"]
# neutron-lib INVALID_MAC_ADDRESSES; multicast addresses (low bit of the first octet set) can be
# no NIC's source address (IEEE 802.3) and Neutron refuses them in allowed address pairs.
RESERVED_MACS = ["00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"]
# Fields every stored object has (Neutron's database columns are NOT NULL), per table. A null
# here is a broken or partial record; validation derives ip_version and ethertype first where
# another field determines them (schemas/fill.py).
REQUIRED_FIELDS = {
    "subnets": ["cidr", "ip_version"],
    "ports": ["mac_address"],
    "port_ips": ["ip_address"],
    "security_group_rules": ["direction", "ethertype"],
    "floating_ips": ["floating_ip_address"],
}
# Protocols whose port_range_min/max are ports (names and IANA numbers as Neutron accepts them).
PORT_PROTOCOLS = ["6", "17", "33", "132", "136", "dccp", "sctp", "tcp", "udp", "udplite"]
# Protocols whose port_range_min/max are ICMP type/code.
ICMP_PROTOCOLS = ["1", "58", "icmp", "icmpv6", "ipv6-icmp"]
KNOWN_DEVICE_OWNERS = sorted(DEVICE_OWNERS)
DEVICE_OWNER_PREFIX_LIST = list(DEVICE_OWNER_PREFIXES)
