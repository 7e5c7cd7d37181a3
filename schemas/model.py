"""The canonical data model: one table per resource, one column per field.

This module is the contract between stages. Ingest produces exactly these columns (in this
order, with these dtypes); validation, classification, synthesis and export read them.
It is plain data (no pandas import at module level) so `dcnet --help` stays fast and the
schema review files can be generated from it.

Conventions
- snake_case everywhere; `id` is a table's primary key, `<thing>_id` a reference.
- `project_id` is the one tenant column (`tenant_id` is folded into it by ingest).
- Nested lists become child tables (`port_ips`, `allocation_pools`, `port_security_groups`);
  small nested values that no check needs (routes, DNS servers) stay as JSON text.
- Every row carries provenance: `source_file` (path relative to the dataset folder) and
  `source_pos` (0-based position of the resource object in that file; child rows keep their
  parent's position). `ingest_errors` lists fields that could not be coerced to their type
  (the raw value is kept in `extra`); validation quarantines such rows.
- `extra` is a JSON object of every field ingest did not map: nothing is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# dtype names are pandas extension dtypes, nullable throughout.
STR = "string"
INT = "Int64"
BOOL = "boolean"
FLOAT = "Float64"


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str
    doc: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ("id",)
    # (column, parent_table, parent_column): references checked by validation.
    references: tuple[tuple[str, str, str], ...] = ()
    has_extra: bool = True

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def dtypes(self) -> dict[str, str]:
        return {c.name: c.dtype for c in self.columns}


PROVENANCE = (
    Column("source_file", STR, "Dataset-relative path of the file the row came from.", False),
    Column("source_pos", INT, "0-based position of the resource object within its file.", False),
    Column("ingest_errors", STR, "Fields ingest could not coerce, as 'field: problem; ...'; null when clean."),
)
EXTRA = Column("extra", STR, "JSON object of unmapped fields, kept verbatim; null when none.")


def _t(name, doc, cols, key=("id",), refs=(), has_extra=True) -> Table:
    tail = (EXTRA,) if has_extra else ()
    return Table(name, doc, tuple(cols) + tail + PROVENANCE, key, tuple(refs), has_extra)


TABLES: dict[str, Table] = {}


def _add(t: Table) -> None:
    TABLES[t.name] = t


_add(_t("hosts", "Compute hosts (Alcor node registrations or a CSV inventory). Ports bind to "
        "a host by `node_name`.", [
    Column("id", STR, "Node id (`node_id`); the node name when the source has no id.", False),
    Column("node_name", STR, "Host name; ports reference it in `binding_host_id`.", False),
    Column("local_ip", STR, "Host underlay IP address."),
    Column("mac_address", STR, "Host NIC MAC, lower case."),
    Column("veth", STR, "Agent veth interface name."),
    Column("server_port", INT, "Control agent gRPC port (Alcor default 50001)."),
    Column("host_dvr_mac", STR, "Distributed virtual router MAC of the host."),
    Column("ncm_id", STR, "Network configuration manager id."),
    Column("ncm_uri", STR, "Network configuration manager URI."),
    Column("availability_zone", STR, "Availability zone, when the inventory gives it."),
    Column("rack", STR, "Rack name, when the inventory gives it."),
]))

_add(_t("networks", "Virtual networks (Neutron networks, Alcor VPCs).", [
    Column("id", STR, "Network id.", False),
    Column("project_id", STR, "Owning project (tenant)."),
    Column("name", STR, "Network name."),
    Column("admin_state_up", BOOL, "Administrative state."),
    Column("status", STR, "Operational status (ACTIVE, DOWN, ...)."),
    Column("shared", BOOL, "Shared across projects."),
    Column("mtu", INT, "MTU in bytes."),
    Column("router_external", BOOL, "External (provider) network usable for router gateways and floating IPs."),
    Column("port_security_enabled", BOOL, "Default port security for its ports."),
    Column("network_type", STR, "Provider network type: flat, vlan, vxlan, gre, geneve, local."),
    Column("physical_network", STR, "Provider physical network name."),
    Column("segmentation_id", INT, "VLAN id or VXLAN/GRE/Geneve VNI."),
    Column("cidr", STR, "VPC address block (Alcor only); subnets must lie inside it."),
    Column("availability_zones", STR, "JSON list of availability zones."),
    Column("created_at", STR, "Creation timestamp as given (ISO 8601)."),
    Column("updated_at", STR, "Update timestamp as given."),
]))

_add(_t("subnetpools", "Neutron subnet pools (`subnetpools`): address blocks that subnets are "
        "allocated from (not a subnet's allocation pools, see `allocation_pools`).", [
    Column("id", STR, "Subnet pool id.", False),
    Column("project_id", STR, "Owning project."),
    Column("name", STR, "Pool name."),
    Column("ip_version", INT, "4 or 6; every prefix is of this family."),
    Column("prefixes", STR, "JSON list of the pool's CIDRs."),
    Column("default_prefixlen", INT, "Prefix length of a subnet allocated without one."),
    Column("min_prefixlen", INT, "Shortest prefix length a subnet may take."),
    Column("max_prefixlen", INT, "Longest prefix length a subnet may take."),
    Column("address_scope_id", STR, "Address scope the pool belongs to."),
    Column("shared", BOOL, "Shared across projects."),
    Column("is_default", BOOL, "Default pool of its IP version."),
    Column("default_quota", INT, "Per-project quota of addresses from the pool."),
    Column("created_at", STR, "Creation timestamp as given."),
    Column("updated_at", STR, "Update timestamp as given."),
]))

_add(_t("subnets", "IP subnets of a network.", [
    Column("id", STR, "Subnet id.", False),
    Column("network_id", STR, "Network the subnet belongs to."),
    Column("project_id", STR, "Owning project."),
    Column("name", STR, "Subnet name (sites often encode a kind/label in it)."),
    Column("cidr", STR, "Address block, host bits zero."),
    Column("ip_version", INT, "4 or 6; must agree with `cidr`."),
    Column("gateway_ip", STR, "Gateway address inside `cidr`; null when the subnet has none."),
    Column("enable_dhcp", BOOL, "DHCP enabled."),
    Column("host_routes", STR, "JSON list of {destination, nexthop}."),
    Column("dns_nameservers", STR, "JSON list of DNS server addresses."),
    Column("subnetpool_id", STR, "Subnet pool the CIDR was allocated from."),
    Column("segment_id", STR, "Routed-network segment."),
    Column("ipv6_address_mode", STR, "IPv6 address mode (slaac, dhcpv6-stateful, ...)."),
    Column("ipv6_ra_mode", STR, "IPv6 router advertisement mode."),
    Column("attached_router_id", STR, "Router attached to the subnet (Alcor only)."),
], refs=[("network_id", "networks", "id"), ("subnetpool_id", "subnetpools", "id")]))

_add(_t("allocation_pools", "Allocation pools of a subnet, one row per pool (`allocation_pools`).", [
    Column("subnet_id", STR, "Subnet the pool belongs to.", False),
    Column("pool_index", INT, "Position of the pool in the subnet's list.", False),
    Column("start", STR, "First allocatable address."),
    Column("end", STR, "Last allocatable address."),
], key=("subnet_id", "pool_index"), refs=[("subnet_id", "subnets", "id")], has_extra=False))

_add(_t("ports", "Ports: VM NICs, router interfaces and gateways, DHCP, floating IP and "
        "load-balancer ports.", [
    Column("id", STR, "Port id.", False),
    Column("network_id", STR, "Network of the port."),
    Column("project_id", STR, "Owning project."),
    Column("name", STR, "Port name."),
    Column("mac_address", STR, "MAC address, lower case, unique within the network."),
    Column("device_id", STR, "Owning device (VM id, router id, DHCP agent id)."),
    Column("device_owner", STR, "Role of the port: compute:<zone>, network:router_interface, network:dhcp, ..."),
    Column("port_security_enabled", BOOL, "Port security on."),
    Column("admin_state_up", BOOL, "Administrative state."),
    Column("status", STR, "Operational status."),
    Column("binding_host_id", STR, "Host the port is bound to: a host's `node_name`."),
    Column("binding_vif_type", STR, "VIF type (ovs, ...)."),
    Column("binding_vnic_type", STR, "vNIC type (normal, direct, macvtap, baremetal, ...)."),
    Column("dns_name", STR, "DNS name."),
    Column("allowed_address_pairs", STR, "JSON list of {ip_address, mac_address}."),
    Column("veth_name", STR, "Agent veth name (Alcor only)."),
    Column("fast_path", BOOL, "Fast path flag (Alcor only)."),
    Column("network_ns", STR, "Network namespace (Alcor only)."),
    Column("created_at", STR, "Creation timestamp (`created_at`, Alcor `create_at`)."),
    Column("updated_at", STR, "Update timestamp (`updated_at`, Alcor `update_at`)."),
], refs=[("network_id", "networks", "id"), ("binding_host_id", "hosts", "node_name")]))

_add(_t("port_ips", "Fixed IPs of ports, one row per address (`fixed_ips`).", [
    Column("port_id", STR, "Port holding the address.", False),
    Column("ip_index", INT, "Position in the port's `fixed_ips` list.", False),
    Column("subnet_id", STR, "Subnet the address belongs to."),
    Column("ip_address", STR, "The address; inside the subnet's CIDR, unique within it."),
], key=("port_id", "ip_index"), refs=[("port_id", "ports", "id"), ("subnet_id", "subnets", "id")],
    has_extra=False))

_add(_t("port_security_groups", "Security groups applied to ports, one row per (port, group).", [
    Column("port_id", STR, "Port.", False),
    Column("security_group_id", STR, "Security group applied to it.", False),
], key=("port_id", "security_group_id"),
    refs=[("port_id", "ports", "id"), ("security_group_id", "security_groups", "id")], has_extra=False))

_add(_t("security_groups", "Security groups.", [
    Column("id", STR, "Security group id.", False),
    Column("project_id", STR, "Owning project."),
    Column("name", STR, "Group name."),
    Column("description", STR, "Description."),
    Column("stateful", BOOL, "Stateful filtering."),
]))

_add(_t("security_group_rules", "Security group rules (embedded in groups or listed alone).", [
    Column("id", STR, "Rule id.", False),
    Column("security_group_id", STR, "Group the rule belongs to."),
    Column("project_id", STR, "Owning project."),
    Column("direction", STR, "ingress or egress."),
    Column("ethertype", STR, "IPv4 or IPv6; agrees with `remote_ip_prefix`."),
    Column("protocol", STR, "null (any), tcp, udp, icmp, icmpv6, sctp, ... or an IP protocol number."),
    Column("port_range_min", INT, "Lowest port (ICMP: type); null = any."),
    Column("port_range_max", INT, "Highest port (ICMP: code); null = any."),
    Column("remote_ip_prefix", STR, "Remote CIDR; null = any."),
    Column("remote_group_id", STR, "Remote security group; must exist."),
    Column("description", STR, "Description."),
], refs=[("security_group_id", "security_groups", "id"), ("remote_group_id", "security_groups", "id")]))

_add(_t("routers", "Routers.", [
    Column("id", STR, "Router id.", False),
    Column("project_id", STR, "Owning project."),
    Column("name", STR, "Router name."),
    Column("admin_state_up", BOOL, "Administrative state."),
    Column("status", STR, "Operational status."),
    Column("distributed", BOOL, "Distributed (DVR)."),
    Column("ha", BOOL, "Highly available (VRRP)."),
    Column("gateway_network_id", STR, "External network of the gateway (`external_gateway_info.network_id`)."),
    Column("enable_snat", BOOL, "SNAT on the gateway."),
    Column("external_fixed_ips", STR, "JSON list of the gateway's {subnet_id, ip_address}."),
    Column("routes", STR, "JSON list of static routes {destination, nexthop}."),
], refs=[("gateway_network_id", "networks", "id")]))

_add(_t("router_interfaces", "Router interfaces, derived from ports whose `device_owner` is a "
        "router interface (`device_id` = router).", [
    Column("port_id", STR, "Interface port.", False),
    Column("router_id", STR, "Router (the port's `device_id`).", False),
    Column("network_id", STR, "Network of the interface port."),
    Column("subnet_id", STR, "Subnet of the interface's first fixed IP."),
    Column("ip_address", STR, "Interface address (usually the subnet gateway)."),
], key=("port_id",), refs=[("port_id", "ports", "id"), ("router_id", "routers", "id")], has_extra=False))

_add(_t("floating_ips", "Floating IPs.", [
    Column("id", STR, "Floating IP id.", False),
    Column("project_id", STR, "Owning project."),
    Column("floating_network_id", STR, "External network the address comes from."),
    Column("floating_ip_address", STR, "The public address."),
    Column("fixed_ip_address", STR, "Private address it maps to."),
    Column("port_id", STR, "Port it is associated with; null when unassociated."),
    Column("router_id", STR, "Router doing the NAT."),
    Column("status", STR, "Operational status."),
], refs=[("floating_network_id", "networks", "id"), ("port_id", "ports", "id"),
         ("router_id", "routers", "id")]))

_add(_t("project_labels", "Ground-truth labels shipped with a dataset (CSV `project_id,profile`).", [
    Column("project_id", STR, "Labelled project.", False),
    Column("profile", STR, "User-profile kind of the project.", False),
], key=("project_id",), has_extra=False))

_add(_t("fabric_switches", "Physical fabric switches (leaf/ToR, spine, or fat-tree edge/aggregation/"
        "core). Real dumps rarely carry them; synthesis builds them from the host count.", [
    Column("id", STR, "Switch id.", False),
    Column("name", STR, "Switch name."),
    Column("role", STR, "leaf, spine, edge, aggregation or core.", False),
    Column("pod", INT, "Pod number (fat-tree) or zone index."),
    Column("rack", STR, "Rack a leaf/ToR switch serves."),
], has_extra=False))

_add(_t("fabric_links", "Physical links between fabric switches, and from each host to its ToR.", [
    Column("id", STR, "Link id.", False),
    Column("src_id", STR, "Switch id at one end.", False),
    Column("dst_id", STR, "Switch id, or host id when `dst_kind` is host.", False),
    Column("dst_kind", STR, "switch or host.", False),
    Column("bandwidth_gbps", FLOAT, "Link capacity in Gbit/s."),
], refs=[("src_id", "fabric_switches", "id")], has_extra=False))

TABLE_NAMES: list[str] = list(TABLES)

# How ingest words a row whose `project_id` and `tenant_id` disagree (in `ingest_errors`,
# after any other error of the row); validation gives it its own check.
PROJECT_TENANT_CONFLICT = "project_id: 'project_id' is "

# Device owners Neutron and Alcor use. `compute:<zone>` is matched by prefix.
DEVICE_OWNERS: frozenset[str] = frozenset({
    "", "network:router_interface", "network:router_interface_distributed",
    "network:ha_router_replicated_interface", "network:router_gateway", "network:dhcp",
    "network:floatingip", "network:router_centralized_snat", "network:distributed",
    "network:local_ip", "network:routed", "Octavia", "neutron:LOADBALANCERV2",
    "neutron:LOADBALANCER", "trunk:subport", "baremetal:none",
})
DEVICE_OWNER_PREFIXES: tuple[str, ...] = ("compute:",)
ROUTER_INTERFACE_OWNERS: frozenset[str] = frozenset({
    "network:router_interface", "network:router_interface_distributed",
    "network:ha_router_replicated_interface",
})


def empty_frame(table: str):
    """An empty DataFrame with the table's columns and dtypes."""
    import pandas as pd

    t = TABLES[table]
    return pd.DataFrame({c.name: pd.Series([], dtype=c.dtype) for c in t.columns})


def conform(df, table: str):
    """Reorder/complete columns of `df` to the table's contract and cast dtypes."""
    import pandas as pd

    t = TABLES[table]
    out = {}
    for c in t.columns:
        if c.name in df.columns:
            out[c.name] = df[c.name].astype(c.dtype)
        else:
            out[c.name] = pd.Series(pd.NA, index=df.index, dtype=c.dtype)
    return pd.DataFrame(out, index=df.index)
