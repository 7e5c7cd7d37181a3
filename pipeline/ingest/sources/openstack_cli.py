"""`openstack ... -f json` output: Title-Case column headers ("MAC Address", "Fixed IP
Addresses") mapped to canonical keys, recognising a resource by its columns, and the
key='value' text OSC prints for nested values (fixed IPs, pools, rules)."""

from __future__ import annotations

import re


# `openstack ... list -f json` headers -> canonical keys, per resource. Headers not listed here
# are kept verbatim in `extra`.
_TITLE_COMMON = {"ID": "id", "Name": "name", "Status": "status", "Project": "project_id",
                 "Project ID": "project_id", "State": "admin_state_up"}
TITLE_KEYS = {
    "ports": {"MAC Address": "mac_address", "Fixed IP Addresses": "fixed_ips",
              "Security Groups": "security_groups", "Device Owner": "device_owner",
              "Device ID": "device_id", "Network": "network_id", "Network ID": "network_id",
              "Host": "binding_host_id", "Port Security": "port_security_enabled"},
    "networks": {"Shared": "shared", "Network Type": "network_type", "Router Type": "router_external",
                 "Availability Zones": "availability_zones", "MTU": "mtu"},
    "subnets": {"Network": "network_id", "Subnet": "cidr", "DHCP": "enable_dhcp",
                "Name Servers": "dns_nameservers", "Allocation Pools": "allocation_pools",
                "Host Routes": "host_routes", "IP Version": "ip_version", "Gateway": "gateway_ip",
                "Subnet Pool": "subnetpool_id"},
    "subnetpools": {"Prefixes": "prefixes", "Default Prefix Length": "default_prefixlen",
                    "Address Scope": "address_scope_id", "Default Subnet Pool": "is_default",
                    "Shared": "shared", "IP Version": "ip_version",
                    "Min Prefix Length": "min_prefixlen", "Max Prefix Length": "max_prefixlen"},
    "security_groups": {"Description": "description", "Stateful": "stateful"},
    "security_group_rules": {"IP Protocol": "protocol", "Ethertype": "ethertype",
                             "IP Range": "remote_ip_prefix", "Direction": "direction",
                             "Remote Security Group": "remote_group_id",
                             "Security Group": "security_group_id", "Description": "description"},
    "routers": {"Distributed": "distributed", "HA": "ha", "Routes": "routes",
                "External gateway info": "external_gateway_info"},
    "floating_ips": {"Floating IP Address": "floating_ip_address",
                     "Fixed IP Address": "fixed_ip_address", "Port": "port_id",
                     "Floating Network": "floating_network_id", "Router": "router_id",
                     # nova-network's floating IP list
                     "IP": "floating_ip_address", "Fixed IP": "fixed_ip_address"},
    "hosts": {"Hypervisor Hostname": "node_name", "Host IP": "local_ip"},
}
TITLE_KEYS = {k: {**_TITLE_COMMON, **v} for k, v in TITLE_KEYS.items()}

# Title-Case (OSC) objects are recognised only by the columns that identify a resource: many
# other commands print ID/Name/Description/Shared/Network Type too (trunks, flavors, QoS
# policies, meters, segments, VPN connections). Per kind, alternatives of required columns.
_TITLE_REQUIRED: tuple[tuple[str, tuple[frozenset, ...]], ...] = (
    ("ports", (frozenset({"MAC Address", "Fixed IP Addresses"}),)),
    ("floating_ips", (frozenset({"Floating IP Address", "Fixed IP Address"}),
                      frozenset({"Floating IP Address", "Port"}),
                      frozenset({"Floating IP Address", "Floating Network"}),
                      frozenset({"IP", "Pool", "Fixed IP"}))),
    ("security_group_rules", (frozenset({"Ethertype", "IP Protocol"}),
                              frozenset({"Ethertype", "Direction"}))),
    ("hosts", (frozenset({"Hypervisor Hostname"}),)),
    ("subnetpools", (frozenset({"Prefixes"}),)),
    ("subnets", (frozenset({"Subnet", "Network"}),)),
    ("routers", (frozenset({"External gateway info"}), frozenset({"Distributed", "HA"}))),
    ("networks", (frozenset({"Subnets"}),)),
)
# `openstack security group list` prints only generic columns, so a group is recognised by
# its whole column set (a trunk adds Parent Port, a meter Shared, a flavor Enabled).
_TITLE_GROUP_COLUMNS = frozenset({"ID", "Name", "Description", "Project", "Project ID", "Tags",
                                  "Stateful"})
# `openstack router list` shows Distributed/HA only to those allowed to see them; without them
# a router row is recognised by its whole column set too.
_TITLE_ROUTER_REQUIRED = frozenset({"ID", "Name", "Status", "State", "Project"})
_TITLE_ROUTER_COLUMNS = _TITLE_ROUTER_REQUIRED | {"Distributed", "HA", "Routes", "Tags",
                                                  "External gateway info", "Availability zones"}


def detect_title(d: dict) -> str | None:
    keys = d.keys()
    for kind, alternatives in _TITLE_REQUIRED:
        if any(req <= keys for req in alternatives):
            return kind
    if "Description" in d and keys <= _TITLE_GROUP_COLUMNS:
        return "security_groups"
    if _TITLE_ROUTER_REQUIRED <= keys <= _TITLE_ROUTER_COLUMNS:
        return "routers"
    return None


def retitle(d: dict, kind: str) -> dict:
    """OSC list row -> canonical keys; 'Port Range' "22:80" becomes port_range_min/max."""
    m = TITLE_KEYS[kind]
    out = {}
    for k, v in d.items():
        if kind == "security_group_rules" and k == "Port Range":
            lo, hi = _split_port_range(v)
            out["port_range_min"], out["port_range_max"] = lo, hi
            continue
        ck = m.get(k, k)
        if ck in out and k != ck:  # both spellings present: keep the other one verbatim
            out[k] = v
        else:
            out[ck] = v
    return out


def _split_port_range(v):
    if not isinstance(v, str):
        return v, v
    s = v.strip()
    if s == "" or s.lower() in ("any", "none"):
        return None, None
    lo, sep, hi = s.partition(":")
    return lo, (hi if sep else lo)


_OSC_PAIR = re.compile(r"(\w+)='([^']*)'")


def osc_fixed_ips(s: str):
    """OSC prints fixed IPs as "ip_address='10.0.0.5', subnet_id='...'" (one per line)."""
    pairs = _OSC_PAIR.findall(s)
    if not pairs:
        return [x for x in re.split(r"[,\s]+", s) if x]  # bare addresses
    return osc_records(s, pairs)


def osc_records(s: str, pairs=None) -> list[dict]:
    """key='value' pairs printed by OSC, one record per line (a repeated key starts the next);
    'None' is null, digits are numbers (port ranges)."""
    out, cur = [], {}
    if pairs is None:
        pairs = []
        for line in s.splitlines():
            found = _OSC_PAIR.findall(line)
            if found:
                pairs += found + [("", "")]  # a record ends with its line
        for k, v in pairs:
            if k == "":
                if cur:
                    out.append(cur)
                cur = {}
                continue
            cur[k] = None if v == "None" else int(v) if v.isdigit() else v
        if cur:
            out.append(cur)
        return out
    for k, v in pairs:
        if k in cur:
            out.append(cur)
            cur = {}
        cur[k] = v
    if cur:
        out.append(cur)
    return out


def osc_pools(s: str):
    out = []
    for tok in re.split(r"[,\s]+", s):
        if not tok:
            continue
        a, sep, b = tok.partition("-")
        if not sep:
            return s  # not the start-end form: reported as a type problem
        out.append({"start": a, "end": b})
    return out


def split_words(v: str) -> list[str]:
    return [x for x in re.split(r"[,\s]+", v) if x]
