"""The Neutron API's JSON: response keys (list and show forms) and, per canonical table,
the source keys of every column. Alcor answers in Neutron's shape with a few keys of its own
(VPCs, host infos, node ids), listed here beside Neutron's so one routing serves both."""

from __future__ import annotations

from schemas import model


# Top-level keys of API responses: list form {"ports": [...]} and show form {"port": {...}}.
# Alcor calls networks VPCs in places; `host_info(s)` are its node registrations.
LIST_KEYS = {
    "networks": "networks", "vpcs": "networks", "subnets": "subnets", "ports": "ports",
    "security_groups": "security_groups", "security_group_rules": "security_group_rules",
    "routers": "routers", "floatingips": "floating_ips", "floating_ips": "floating_ips",
    "host_infos": "hosts", "nodeInfos": "hosts", "subnetpools": "subnetpools",
}
SHOW_KEYS = {
    "network": "networks", "vpc": "networks", "subnet": "subnets", "port": "ports",
    "security_group": "security_groups", "security_group_rule": "security_group_rules",
    "router": "routers", "floatingip": "floating_ips", "floating_ip": "floating_ips",
    "host_info": "hosts", "subnetpool": "subnetpools",
}
# Build order matters once: groups before rules (embedded rules join the rules table).
RESOURCE_TABLES = ("hosts", "networks", "subnetpools", "subnets", "security_groups",
                   "security_group_rules", "ports", "routers", "floating_ips")

# canonical column -> source keys, in priority order (the first present wins; a different
# non-null value under a later key is an ingest error and is kept in `extra`).
_COMMON_ALIASES = {
    "project_id": ("project_id", "tenant_id"),
    "admin_state_up": ("admin_state_up", "is_admin_state_up"),
    "created_at": ("created_at", "create_at"),
    "updated_at": ("updated_at", "update_at"),
    "port_security_enabled": ("port_security_enabled", "is_port_security_enabled"),
}
_ALIASES = {
    "hosts": {"id": ("node_id", "id"), "availability_zone": ("availability_zone", "az", "zone"),
              "mac_address": ("mac_address", "mac")},
    "networks": {
        "router_external": ("router:external", "router_external", "is_router_external"),
        "network_type": ("provider:network_type", "provider_network_type", "network_type"),
        "physical_network": ("provider:physical_network", "provider_physical_network",
                             "physical_network"),
        "segmentation_id": ("provider:segmentation_id", "provider_segmentation_id",
                            "segmentation_id"),
        "shared": ("shared", "is_shared"),
    },
    "subnets": {"enable_dhcp": ("enable_dhcp", "is_dhcp_enabled"),
                "subnetpool_id": ("subnetpool_id", "subnet_pool_id")},
    "ports": {
        "binding_host_id": ("binding:host_id", "binding_host_id"),
        "binding_vif_type": ("binding:vif_type", "binding_vif_type"),
        "binding_vnic_type": ("binding:vnic_type", "binding_vnic_type"),
    },
    "security_groups": {"stateful": ("stateful", "is_stateful")},
    "routers": {"distributed": ("distributed", "is_distributed"), "ha": ("ha", "is_ha")},
    # nova-network (and nova's os-floating-ips proxy) spell the addresses `ip` / `fixed_ip`
    "floating_ips": {"floating_ip_address": ("floating_ip_address", "ip"),
                     "fixed_ip_address": ("fixed_ip_address", "fixed_ip")},
    "subnetpools": {"default_prefixlen": ("default_prefixlen", "default_prefix_length"),
                    "min_prefixlen": ("min_prefixlen", "minimum_prefix_length"),
                    "max_prefixlen": ("max_prefixlen", "maximum_prefix_length"),
                    "shared": ("shared", "is_shared")},
}
# Keys consumed by child tables / derived columns rather than by a column of the same name.
CHILD_KEYS = {
    "ports": {"fixed_ips": ("fixed_ips",), "security_groups": ("security_groups", "security_group_ids")},
    "subnets": {"allocation_pools": ("allocation_pools",)},
    "security_groups": {"security_group_rules": ("security_group_rules", "rules")},
    "routers": {"external_gateway_info": ("external_gateway_info",)},
}
# Columns holding small nested values as compact JSON text.
JSON_COLUMNS = frozenset({"host_routes", "dns_nameservers", "allowed_address_pairs", "routes",
                          "availability_zones", "external_fixed_ips", "prefixes"})
LOWER_COLUMNS = frozenset({"mac_address", "host_dvr_mac"})  # MACs compare case-insensitively
# Columns ingest derives itself (not read from a key of the same name).
_DERIVED = {"routers": {"gateway_network_id", "enable_snat", "external_fixed_ips"}}
_PROVENANCE = {"source_file", "source_pos", "ingest_errors", "extra"}


def _sources(table: str) -> dict[str, tuple[str, ...]]:
    t = model.TABLES[table]
    al = _ALIASES.get(table, {})
    out = {}
    for c in t.column_names:
        if c in _PROVENANCE or c in _DERIVED.get(table, ()):
            continue
        out[c] = al.get(c) or _COMMON_ALIASES.get(c) or (c,)
    return out


SOURCES = {t: _sources(t) for t in RESOURCE_TABLES}
MAPPED_KEYS = {
    t: frozenset(k for ks in list(SOURCES[t].values()) + list(CHILD_KEYS.get(t, {}).values()) for k in ks)
    for t in RESOURCE_TABLES
}
