"""FEATURE_DOCS (every output column, with its default when the input is missing) and what
each feature reads (SOURCES, feature_sources): the trainer leaves out columns a task forbids."""

from __future__ import annotations


from typing import Any

from pipeline.features.common import (HIGH_RANGE_MIN_WIDTH, OPENSTACK_OUI, PORT_STATUSES,
                                      VIF_TYPES, VNIC_TYPES, WELL_KNOWN_PORTS)
from pipeline.params import default

DEFAULT_BUCKETS = default("features.name_hash_buckets")


# ---------------------------------------------------------------------------------------------
# Documentation: every output column, with its default when the input is missing.

def _name_docs(prefix: str, buckets: int, what: str) -> dict[str, str]:
    return {f"{prefix}{i:02d}": f"{what} hashed (crc32 mod {buckets}) into bucket {i}; 0 when none."
            for i in range(buckets)}


_PROJECT_DOCS: dict[str, str] = {
    "id": "project_id (grouping key, not a feature).",
    "n_networks": "Networks owned.",
    "n_subnets": "Subnets owned.",
    "n_subnets_v6": "IPv6 subnets owned.",
    "share_subnets_v6": "Share of subnets that are IPv6; 0 when no subnet.",
    "subnets_per_network": "Subnets / networks; 0 when no network.",
    "n_ports": "Ports owned.",
    "n_ports_vm": "Ports with device_owner compute:* (project features only).",
    "n_ports_router_interface": "Router interface ports (model.ROUTER_INTERFACE_OWNERS).",
    "n_ports_router_gateway": "network:router_gateway ports.",
    "n_ports_dhcp": "network:dhcp ports.",
    "n_ports_floating_ip": "network:floatingip ports.",
    "n_ports_lb_vip": "Load-balancer VIP ports (Octavia, neutron:LOADBALANCER*).",
    "n_ports_unbound": "Ports with an empty device_owner.",
    "n_ports_other": "Ports with any other (or null) device_owner.",
    "n_ports_sriov": "Ports with vnic_type direct, direct-physical or macvtap (SR-IOV).",
    "n_ports_baremetal": "Ports with vnic_type baremetal.",
    "share_ports_no_port_security": "Share of ports with port_security_enabled false; 0 when no port.",
    "n_ports_aap": "Ports with a non-empty allowed_address_pairs list.",
    "sg_per_port_mean": "Mean security groups per port; 0 when no port.",
    "n_vms": "Distinct device_id of compute:* ports (VMs).",
    "ports_per_vm_mean": "Mean ports per VM; 0 when no VM.",
    "ports_per_vm_max": "Max ports per VM; 0 when no VM.",
    "share_vms_multi_nic": "Share of VMs with more than one port; 0 when no VM.",
    "n_hosts": "Distinct hosts (binding_host_id) the project's ports are bound to.",
    "n_racks": "Distinct racks of those hosts (hosts.rack); 0 when unknown.",
    "n_zones": "Distinct availability zones of those hosts; 0 when unknown.",
    "ports_per_host_mean": "Mean bound ports per host; 0 when no bound port.",
    "ports_per_host_max": "Max bound ports on one host; 0 when no bound port.",
    "host_entropy": "Entropy of bound ports over hosts / log(n_hosts); 0 when fewer than 2 hosts.",
    "ports_per_subnet_mean": "Mean ports with an address in each owned subnet; 0 when no subnet.",
    "ports_per_subnet_max": "Max ports with an address in one owned subnet; 0 when no subnet.",
    "pool_fill_mean": "Mean over IPv4 subnets of ports / allocation pool size; 0 when none.",
    "prefix_v4_min": "Smallest IPv4 subnet prefix length; 0 when no IPv4 subnet.",
    "prefix_v4_mean": "Mean IPv4 subnet prefix length; 0 when no IPv4 subnet.",
    "prefix_v4_max": "Largest IPv4 subnet prefix length; 0 when no IPv4 subnet.",
    "n_subnets_dhcp": "Subnets with enable_dhcp true.",
    "share_subnets_dhcp": "Share of subnets with DHCP enabled; 0 when no subnet.",
    "n_subnets_no_gateway": "Subnets without a gateway_ip.",
    "n_host_routes": "Host routes over all subnets.",
    "n_subnets_dns": "Subnets with DNS name servers set.",
    "n_networks_shared": "Networks with shared true.",
    "n_networks_external": "Networks with router:external true.",
    "n_networks_vlan": "Networks of provider type vlan.",
    "n_networks_flat": "Networks of provider type flat.",
    "n_networks_overlay": "Networks of provider type vxlan, gre or geneve.",
    "n_networks_alcor_cidr": "Networks with an Alcor VPC cidr.",
    "mtu_max": "Largest network MTU; 0 when unknown.",
    "mtu_mean": "Mean network MTU over networks that give one; 0 when unknown.",
    "n_security_groups": "Security groups owned.",
    "n_sg_rules": "Security group rules (of groups the project owns, or owned by it).",
    "sg_rules_per_group": "Rules / groups; 0 when no group.",
    "n_sg_ingress": "Ingress rules.",
    "n_sg_egress": "Egress rules.",
    **{f"sg_open_{k}": f"Ingress rules whose explicit port range covers {'/'.join(map(str, v))}."
       for k, v in WELL_KNOWN_PORTS.items()},
    "sg_open_nodeport": "Ingress rules whose explicit port range overlaps the NodePort range 30000-32767.",
    "sg_open_high_range": f"Ingress rules with an explicit range of at least {HIGH_RANGE_MIN_WIDTH} "
                          "ports above 1023 that does not overlap NodePort.",
    "sg_open_all_ports": "Ingress rules with no port restriction (any protocol, or tcp/udp/sctp without a range).",
    "sg_ingress_world_share": "Share of ingress rules open to the world (remote 0.0.0.0/0 or ::/0, "
                              "or neither prefix nor remote group); 0 when no ingress rule.",
    "sg_remote_group_share": "Share of ingress rules with a remote group; 0 when no ingress rule.",
    "n_sg_icmp": "ICMP / ICMPv6 rules.",
    "n_sg_udp": "UDP rules.",
    "sg_ipv6_share": "Share of rules with ethertype IPv6; 0 when no rule.",
    "n_routers": "Routers owned.",
    "n_routers_gateway": "Routers with an external gateway network.",
    "n_routers_distributed": "Distributed (DVR) routers.",
    "n_routers_ha": "HA routers.",
    "n_router_routes": "Static routes over all routers.",
    "n_floating_ips": "Floating IPs owned.",
    "n_floating_ips_associated": "Floating IPs associated with a port.",
    "fip_per_vm": "Associated floating IPs / VMs; 0 when no VM.",
}

_PORT_DOCS: dict[str, str] = {
    "id": "Port id (key, not a feature).",
    "project_id": "Owning project (grouping column, not a feature); when the port has none, the "
                  "project of the router or floating IP its device_id names; '' when neither.",
    "n_fixed_ips": "Fixed IPs of the port.",
    "n_ipv6": "IPv6 fixed IPs.",
    "ip_offset_log": "log2(1 + offset of the first fixed IP from its subnet's network address); -1 when no IP/subnet.",
    "ip_offset_end_log": "log2(1 + distance of the first fixed IP to the subnet's last address); -1 when no IP/subnet.",
    "ip_is_gateway": "1 when any fixed IP equals its subnet's gateway_ip.",
    "ip_in_pool": "1 when the first fixed IP lies in one of its subnet's allocation pools.",
    "ip_is_pool_first": "1 when the first fixed IP is the first address of its subnet's first pool.",
    "ip_is_pool_last": "1 when the first fixed IP is the last address of its subnet's last pool.",
    "ip_pool_rel_pos": "Position of the first fixed IP between first pool start (0) and last pool end (1); -1 outside/unknown.",
    "ip_is_floating_address": "1 when a fixed IP equals some floating_ip_address (the floating IP's own port).",
    "ip_is_router_external_ip": "1 when a fixed IP is one of a router's external_fixed_ips (gateway address).",
    "subnet_prefix_len": "Prefix length of the first fixed IP's subnet; -1 when unknown.",
    "subnet_is_v6": "1 when the first fixed IP's subnet is IPv6.",
    "subnet_dhcp": "enable_dhcp of the first fixed IP's subnet: 1 true, 0 false, -1 unknown.",
    "subnet_has_gateway": "1 when the first fixed IP's subnet has a gateway_ip.",
    "subnet_n_ports": "Ports with an address in the first fixed IP's subnet; 0 when unknown.",
    "is_bound": "1 when binding_host_id is set.",
    "device_id_empty": "1 when device_id is empty or null.",
    "device_is_router": "1 when device_id is the id of a router in the routers table.",
    "device_is_floating_ip": "1 when device_id is the id of a floating IP.",
    "device_id_is_uuid": "1 when device_id looks like a UUID.",
    "device_id_has_network_id": "1 when device_id contains the port's network_id (e.g. Neutron DHCP devices).",
    "device_n_ports": "Ports sharing this device_id (itself included); 0 when device_id is empty.",
    "device_n_networks": "Distinct networks of the ports sharing this device_id; 0 when empty.",
    "n_security_groups": "Security groups applied to the port.",
    "port_security": "port_security_enabled: 1 true, 0 false, -1 unknown.",
    "admin_state_up": "admin_state_up: 1 true, 0 false, -1 unknown.",
    **{f"status_{s.lower()}": f"1 when status is {s}." for s in PORT_STATUSES},
    "status_other": "1 when status is missing or not one of the above.",
    **{f"vnic_{v.replace('-', '_')}": f"1 when binding_vnic_type is {v}." for v in VNIC_TYPES},
    "vnic_other": "1 when binding_vnic_type is missing or not one of the above.",
    **{f"vif_{v}": f"1 when binding_vif_type is {v}." for v in VIF_TYPES},
    "vif_other": "1 when binding_vif_type is missing or not one of the above.",
    "n_allowed_address_pairs": "Entries in allowed_address_pairs; 0 when none or unreadable.",
    "has_floating_ip": "1 when some floating IP is associated with the port (floating_ips.port_id).",
    "net_router_external": "1 when the port's network is router:external.",
    "net_shared": "1 when the port's network is shared.",
    "net_n_ports": "Ports on the port's network.",
    "net_port_security": "Network port_security_enabled: 1 true, 0 false, -1 unknown.",
    "project_empty": "1 when the port has no project_id.",
    "project_differs_from_network": "1 when the port's project differs from its network's project.",
    "name_empty": "1 when the port name is empty or null.",
    "dns_name_set": "1 when dns_name is set.",
    "mac_openstack_oui": f"1 when the MAC starts with {OPENSTACK_OUI} (Neutron's default base MAC).",
    "mac_local_admin": "1 when the MAC has the locally-administered bit set.",
    "mac_missing": "1 when the MAC is missing.",
    "veth_set": "1 when an Alcor veth_name is set.",
    "network_ns_set": "1 when an Alcor network namespace is set.",
}


# ---------------------------------------------------------------------------------------------
# What each feature reads. A task may forbid sources (params tasks.<t>.forbid_sources); the
# trainer then never sees a column that reads one, and a task whose labels are made from a
# source must forbid it (LABEL_SOURCE_READS; checked in pipeline/train/). Columns not listed
# read only structure (counts, flags, sizes, states).

SOURCES = ("names", "ids", "addresses", "device_owner")
# Label source -> what its labels are made of (None: nothing a feature could read).
LABEL_SOURCE_READS: dict[str, str | None] = {"naming": "names", "device_owner": "device_owner",
                                              "ground_truth": None}
_OWNER_COUNTS = ("n_ports_vm", "n_ports_router_interface", "n_ports_router_gateway",
                 "n_ports_dhcp", "n_ports_floating_ip", "n_ports_lb_vip", "n_ports_unbound",
                 "n_ports_other")
_VM_COLUMNS = ("n_vms", "ports_per_vm_mean", "ports_per_vm_max", "share_vms_multi_nic", "fip_per_vm")
_FEATURE_SOURCES: dict[str, dict[str, frozenset[str]]] = {
    "projects": {
        **{c: frozenset({"device_owner"}) for c in _OWNER_COUNTS},
        # VMs = distinct device_id of compute:* ports
        **{c: frozenset({"device_owner", "ids"}) for c in _VM_COLUMNS},
        **{c: frozenset({"addresses"}) for c in (
            "ports_per_subnet_mean", "ports_per_subnet_max", "pool_fill_mean", "prefix_v4_min",
            "prefix_v4_mean", "prefix_v4_max", "sg_ingress_world_share")},
    },
    "ports": {
        **{c: frozenset({"addresses"}) for c in (
            "n_ipv6", "ip_offset_log", "ip_offset_end_log", "ip_is_gateway", "ip_in_pool",
            "ip_is_pool_first", "ip_is_pool_last", "ip_pool_rel_pos", "ip_is_floating_address",
            "ip_is_router_external_ip")},
        **{c: frozenset({"ids"}) for c in (
            "device_id_empty", "device_is_router", "device_is_floating_ip", "device_id_is_uuid",
            "device_id_has_network_id", "device_n_ports", "device_n_networks")},
        **{c: frozenset({"names"}) for c in ("name_empty", "dns_name_set")},
    },
}


def feature_sources(entity: str, column: str) -> frozenset[str]:
    """Sources (SOURCES) a column of feature table `entity` reads; hashed name tokens read names.
    Columns of tables this module does not build declare nothing."""
    if column.startswith("name_tok_"):
        return frozenset({"names"})
    return _FEATURE_SOURCES.get(entity, {}).get(column, frozenset())


def feature_docs(buckets: int = DEFAULT_BUCKETS) -> dict[str, dict[str, str]]:
    """Docs of every column for a given bucket count (FEATURE_DOCS uses the default)."""
    return {
        "projects": {**_PROJECT_DOCS,
                     **_name_docs("name_tok_", buckets,
                                  "Share of the project's network/subnet/port/security-group name tokens")},
        "ports": {**_PORT_DOCS, **_name_docs("name_tok_", buckets, "Count of port name tokens")},
    }


FEATURE_DOCS: dict[str, dict[str, str]] = feature_docs()


def _buckets(params: dict[str, Any] | None) -> int:
    p = params or {}
    feat = p.get("features", p) or {}
    return int(feat.get("name_hash_buckets", DEFAULT_BUCKETS))
