"""Feature tables for classification: one row per project and one row per port.

Pure functions over validated canonical tables (schemas/model.py columns). Outputs are all
numeric (int64 or float64, no NA: every default is documented in FEATURE_DOCS), columns in a
fixed order and rows sorted by id, so the same tables give identical frames.

Port features never read `device_owner`, the `router_interfaces` table (derived from it) or
anything computed from them: the port-role model must work on dumps where that field is
scrubbed. Project features may use it (ports by kind, VMs), since the project task's labels
do not come from it.

Names never leave this stage: tokens of names are hashed (zlib.crc32, stable across runs and
machines, unlike Python's hash()) into `features.name_hash_buckets` buckets.
"""

from __future__ import annotations

import ipaddress
import math
import re
import zlib
from typing import Any

import numpy as np
import pandas as pd

from pipeline.util import stripped as _str
from pipeline.params import default
from schemas import netaddr

DEFAULT_BUCKETS = default("features.name_hash_buckets")

# Security-group profile: ingress rules whose explicit port range covers one of these ports.
WELL_KNOWN_PORTS: dict[str, tuple[int, ...]] = {
    "ssh": (22,),
    "http": (80, 443),
    "sql": (3306, 5432),
    "k8s": (6443, 10250, 2379),
    "nfs": (2049,),
    "mongo": (27017,),
    "hadoop": (8020, 9000, 9870, 50070),
}
NODEPORT = (30000, 32767)
HIGH_RANGE_MIN_WIDTH = 100  # an explicit range this wide above 1023 (not NodePort) = "high range"
PORT_PROTOCOLS = {"tcp", "udp", "sctp", "6", "17", "132"}
ICMP_PROTOCOLS = {"icmp", "icmpv6", "ipv6-icmp", "1", "58"}
ANY_PROTOCOLS = {"", "any", "0"}  # null protocol = any; some clients spell it out
WORLD_PREFIXES = {"0.0.0.0/0", "::/0"}

VNIC_TYPES = ("normal", "direct", "direct-physical", "macvtap", "baremetal", "virtio-forwarder",
              "smart-nic")
VIF_TYPES = ("ovs", "bridge", "vhostuser", "hw_veb", "hostdev_physical", "distributed",
             "unbound", "binding_failed")
PORT_STATUSES = ("ACTIVE", "DOWN", "BUILD", "ERROR")
OPENSTACK_OUI = "fa:16:3e"

_UUID_RE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
_HEXISH_RE = re.compile(r"^[0-9a-f]{8,}$")


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


# ---------------------------------------------------------------------------------------------
# Small helpers (nullable columns in, plain numpy-backed values out).

def _flag(s: pd.Series) -> pd.Series:
    """Nullable boolean -> 1/0 with NA = 0."""
    return s.astype("boolean").fillna(False).astype("int64")


def _tri(s: pd.Series) -> pd.Series:
    """Nullable boolean -> 1 true, 0 false, -1 unknown."""
    b = s.astype("boolean")
    return pd.Series(np.where(b.isna(), -1, b.fillna(False).astype("int64")), index=s.index,
                     dtype="int64")


def _json_len(s: pd.Series) -> pd.Series:
    """Length of a JSON list column; 0 for null, empty or unreadable values."""
    import orjson

    cache: dict[str, int] = {}

    def one(v: str) -> int:
        if v not in cache:
            try:
                x = orjson.loads(v)
                cache[v] = len(x) if isinstance(x, (list, dict)) else 0
            except orjson.JSONDecodeError:
                cache[v] = 0
        return cache[v]

    v = _str(s)
    return pd.Series([one(x) if x else 0 for x in v], index=s.index, dtype="int64")


def _json_ips(s: pd.Series) -> set[str]:
    """Every `ip_address` in a JSON list-of-objects column (routers.external_fixed_ips)."""
    import orjson

    out: set[str] = set()
    for v in _str(s).unique():
        if not v:
            continue
        try:
            x = orjson.loads(v)
        except orjson.JSONDecodeError:
            continue
        for item in x if isinstance(x, list) else []:
            if isinstance(item, dict) and item.get("ip_address"):
                out.add(str(item["ip_address"]).strip())
    return out


def _ip_ints(s: pd.Series) -> np.ndarray:
    """Addresses as Python ints in an object array; -1 when missing or invalid (vectorized
    parsing: dumps have millions of port addresses)."""
    return netaddr.as_ints(netaddr.parse_ips(_str(s)))


def _subnet_geometry(subnets: pd.DataFrame, pools: pd.DataFrame) -> pd.DataFrame:
    """Per subnet id: network/last address ints, prefix, version, gateway, pool bounds/size."""
    rows = []
    for sid, cidr in zip(subnets["id"], _str(subnets["cidr"])):
        try:
            net = ipaddress.ip_network(cidr, strict=False)
            rows.append((sid, int(net.network_address), int(net.broadcast_address), net.prefixlen,
                         net.version))
        except ValueError:
            rows.append((sid, -1, -1, -1, 0))
    geo = pd.DataFrame(rows, columns=["subnet_id", "net_lo", "net_hi", "prefix", "version"])
    geo = geo.astype({"net_lo": object, "net_hi": object})
    geo["gateway"] = _ip_ints(subnets["gateway_ip"])
    geo["dhcp"] = _tri(subnets["enable_dhcp"]).to_numpy()
    p = pd.DataFrame({"subnet_id": pools["subnet_id"].astype("string"),
                      "pool_index": pools["pool_index"].fillna(0).astype("int64"),
                      "start": _ip_ints(pools["start"]), "end": _ip_ints(pools["end"])})
    p = p[(p["start"] != -1) & (p["end"] != -1)]
    p = p.sort_values(["subnet_id", "pool_index"], kind="stable")
    p["size"] = [e - s + 1 for s, e in zip(p["start"], p["end"])]
    agg = p.groupby("subnet_id", sort=False).agg(
        pool_first=("start", "first"), pool_last=("end", "last"), pool_size=("size", "sum"))
    geo = geo.merge(agg, left_on="subnet_id", right_index=True, how="left")
    for c in ("pool_first", "pool_last", "pool_size"):
        geo[c] = geo[c].astype(object).where(geo[c].notna(), -1)
    return geo.drop_duplicates("subnet_id")


def name_tokens(name: str | None) -> list[str]:
    """Lower-case word tokens of a name; trailing digits and UUID/hex fragments are dropped."""
    if not name:
        return []
    out = []
    for tok in re.split(r"[^a-z0-9]+", str(name).lower()):
        if _HEXISH_RE.match(tok):
            continue
        tok = tok.rstrip("0123456789")
        if tok:
            out.append(tok)
    return out


def token_bucket(token: str, buckets: int) -> int:
    """Stable bucket of a token (crc32; Python's hash() is salted per process)."""
    return zlib.crc32(token.encode("utf-8")) % buckets


def _token_counts(names: pd.Series, buckets: int) -> np.ndarray:
    """(len(names), buckets) int64 matrix of hashed token counts (same tokens as name_tokens,
    vectorized: port names are mostly distinct, so per-name caching does not help)."""
    out = np.zeros((len(names), buckets), dtype="int64")
    s = pd.Series(_str(names).str.lower().to_numpy(), dtype="string")
    toks = s.str.split(r"[^a-z0-9]+", regex=True).explode().dropna().astype("string")
    toks = toks[~toks.str.match(_HEXISH_RE.pattern)].str.rstrip("0123456789")
    toks = toks[toks != ""]
    if len(toks):
        bucket = {t: token_bucket(t, buckets) for t in toks.unique()}
        np.add.at(out, (toks.index.to_numpy(), toks.map(bucket).to_numpy(dtype="int64")), 1)
    return out


def _finish(df: pd.DataFrame, cols: list[str], keep: tuple[str, ...]) -> pd.DataFrame:
    """Fixed column order, numeric dtypes (int64 stays int64, else float64), rows by id."""
    out = df[list(keep) + cols].copy()
    for c in cols:
        s = out[c]
        if pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
            out[c] = s.astype("int64")
        else:
            out[c] = s.astype("float64")
    for c in keep:
        out[c] = out[c].astype("string").fillna("")
    return out.sort_values("id", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Projects

def project_ids(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Projects that own anything (network, subnet, port, group, rule, router, floating IP)."""
    ids: set[str] = set()
    for t in ("networks", "subnets", "ports", "security_groups", "security_group_rules",
              "routers", "floating_ips"):
        df = tables.get(t)
        if df is not None and len(df):
            ids.update(x for x in _str(df["project_id"]).unique() if x)
    return sorted(ids)


def _rule_profile(rules: pd.DataFrame) -> pd.DataFrame:
    """Per-rule indicator columns for the security-group profile."""
    direction = _str(rules["direction"]).str.lower()
    proto = _str(rules["protocol"]).str.lower()
    lo = rules["port_range_min"].astype("Int64")
    hi = rules["port_range_max"].astype("Int64")
    ingress = direction == "ingress"
    port_proto = proto.isin(PORT_PROTOCOLS)
    explicit = port_proto & lo.notna()
    lo_v = lo.fillna(0).astype("int64")
    hi_v = hi.fillna(lo).fillna(0).astype("int64")
    prefix = _str(rules["remote_ip_prefix"])
    group = _str(rules["remote_group_id"])
    out = pd.DataFrame({"project_id": _str(rules["project_id"])}, index=rules.index)
    out["n_sg_rules"] = 1
    out["n_sg_ingress"] = ingress.astype("int64")
    out["n_sg_egress"] = (direction == "egress").astype("int64")
    for k, ports in WELL_KNOWN_PORTS.items():
        cover = np.zeros(len(rules), dtype=bool)
        for p in ports:
            cover |= ((lo_v <= p) & (hi_v >= p)).to_numpy()
        out[f"sg_open_{k}"] = (ingress & explicit & cover).astype("int64")
    nodeport = (lo_v <= NODEPORT[1]) & (hi_v >= NODEPORT[0])
    out["sg_open_nodeport"] = (ingress & explicit & nodeport).astype("int64")
    wide = (lo_v >= 1024) & (hi_v - lo_v + 1 >= HIGH_RANGE_MIN_WIDTH)
    out["sg_open_high_range"] = (ingress & explicit & wide & ~nodeport).astype("int64")
    out["sg_open_all_ports"] = (ingress & (proto.isin(ANY_PROTOCOLS) | (port_proto & lo.isna()))
                                ).astype("int64")
    world = prefix.isin(WORLD_PREFIXES) | ((prefix == "") & (group == ""))
    out["_world"] = (ingress & world).astype("int64")
    out["_group"] = (ingress & (group != "")).astype("int64")
    out["n_sg_icmp"] = proto.isin(ICMP_PROTOCOLS).astype("int64")
    out["n_sg_udp"] = proto.isin({"udp", "17"}).astype("int64")
    out["_v6"] = (_str(rules["ethertype"]).str.lower() == "ipv6").astype("int64")
    return out


def _safe_div(a: pd.Series, b: pd.Series) -> pd.Series:
    a = a.astype("float64")
    b = b.astype("float64")
    return (a / b.where(b > 0)).fillna(0.0)


def project_features(tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per project that owns anything; `id` = project_id, then numeric features."""
    from pipeline.roles import owner_roles

    buckets = _buckets(params)
    ids = project_ids(tables)
    idx = pd.Index(ids, name="id", dtype="string")
    f = pd.DataFrame(index=idx)

    def count(df: pd.DataFrame, mask=None) -> pd.Series:
        pid = _str(df["project_id"])
        if mask is not None:
            pid = pid[np.asarray(mask, dtype=bool)]
        return pid.value_counts().reindex(idx, fill_value=0).astype("int64")

    def agg(keys: pd.Series, vals: pd.Series, how: str, default: float = 0.0) -> pd.Series:
        s = pd.Series(np.asarray(vals, dtype="float64"), index=pd.Index(np.asarray(keys, dtype=object)))
        r = s.groupby(level=0).agg(how)
        return r.reindex(idx).fillna(default).astype("float64")

    nets, subs, ports = tables["networks"], tables["subnets"], tables["ports"]
    pools, pips = tables["allocation_pools"], tables["port_ips"]

    # --- networks
    ntype = _str(nets["network_type"]).str.lower()
    f["n_networks"] = count(nets)
    f["n_networks_shared"] = count(nets, _flag(nets["shared"]))
    f["n_networks_external"] = count(nets, _flag(nets["router_external"]))
    f["n_networks_vlan"] = count(nets, ntype == "vlan")
    f["n_networks_flat"] = count(nets, ntype == "flat")
    f["n_networks_overlay"] = count(nets, ntype.isin({"vxlan", "gre", "geneve"}))
    f["n_networks_alcor_cidr"] = count(nets, _str(nets["cidr"]) != "")
    mtu = nets["mtu"].astype("Int64")
    has_mtu = mtu.notna().to_numpy()
    f["mtu_max"] = agg(_str(nets["project_id"])[has_mtu], mtu[has_mtu], "max")
    f["mtu_mean"] = agg(_str(nets["project_id"])[has_mtu], mtu[has_mtu], "mean")

    # --- subnets
    geo = _subnet_geometry(subs, pools)
    sub = pd.DataFrame({"subnet_id": subs["id"].astype("string"),
                        "project_id": _str(subs["project_id"])})
    sub = sub.merge(geo[["subnet_id", "prefix", "version", "pool_size"]], on="subnet_id", how="left")
    port_count = pips.groupby(pips["subnet_id"].astype("string"))["port_id"].nunique()
    sub["n_ports"] = sub["subnet_id"].map(port_count).fillna(0).astype("int64")
    f["n_subnets"] = count(subs)
    f["n_subnets_v6"] = count(sub, sub["version"] == 6)
    f["share_subnets_v6"] = _safe_div(f["n_subnets_v6"], f["n_subnets"])
    f["subnets_per_network"] = _safe_div(f["n_subnets"], f["n_networks"])
    f["ports_per_subnet_mean"] = agg(sub["project_id"], sub["n_ports"], "mean")
    f["ports_per_subnet_max"] = agg(sub["project_id"], sub["n_ports"], "max")
    v4 = sub[(sub["version"] == 4) & (sub["prefix"] >= 0)]
    v4_pool = v4[np.array([x > 0 for x in v4["pool_size"]], dtype=bool)]
    f["pool_fill_mean"] = agg(v4_pool["project_id"],
                              v4_pool["n_ports"] / v4_pool["pool_size"].astype("float64"), "mean")
    f["prefix_v4_min"] = agg(v4["project_id"], v4["prefix"], "min")
    f["prefix_v4_mean"] = agg(v4["project_id"], v4["prefix"], "mean")
    f["prefix_v4_max"] = agg(v4["project_id"], v4["prefix"], "max")
    f["n_subnets_dhcp"] = count(subs, _flag(subs["enable_dhcp"]))
    f["share_subnets_dhcp"] = _safe_div(f["n_subnets_dhcp"], f["n_subnets"])
    f["n_subnets_no_gateway"] = count(subs, _str(subs["gateway_ip"]) == "")
    f["n_host_routes"] = agg(_str(subs["project_id"]), _json_len(subs["host_routes"]), "sum")
    f["n_subnets_dns"] = count(subs, _json_len(subs["dns_nameservers"]) > 0)

    # --- ports (device_owner is fine here: the project task's labels do not come from it)
    pid = _str(ports["project_id"])
    role = owner_roles(ports["device_owner"])
    vnic = _str(ports["binding_vnic_type"]).str.lower()
    f["n_ports"] = count(ports)
    for r in ("vm", "router_interface", "router_gateway", "dhcp", "floating_ip", "lb_vip",
              "unbound"):
        f[f"n_ports_{r}"] = count(ports, role == r)
    f["n_ports_other"] = count(ports, ~role.isin(
        {"vm", "router_interface", "router_gateway", "dhcp", "floating_ip", "lb_vip", "unbound"}))
    f["n_ports_sriov"] = count(ports, vnic.isin({"direct", "direct-physical", "macvtap"}))
    f["n_ports_baremetal"] = count(ports, vnic == "baremetal")
    no_ps = ports["port_security_enabled"].astype("boolean").eq(False).fillna(False)
    f["share_ports_no_port_security"] = _safe_div(count(ports, no_ps), f["n_ports"])
    f["n_ports_aap"] = count(ports, _json_len(ports["allowed_address_pairs"]) > 0)
    psg = tables["port_security_groups"]
    sg_n = ports["id"].astype("string").map(psg.groupby(psg["port_id"].astype("string")).size())
    f["sg_per_port_mean"] = agg(pid, sg_n.fillna(0), "mean")

    dev = _str(ports["device_id"])
    vm = pd.DataFrame({"project_id": pid, "device_id": dev})[(role == "vm") & (dev != "")]
    per_vm = vm.groupby(["project_id", "device_id"]).size().reset_index(name="n")
    f["n_vms"] = per_vm["project_id"].value_counts().reindex(idx, fill_value=0).astype("int64")
    f["ports_per_vm_mean"] = agg(per_vm["project_id"], per_vm["n"], "mean")
    f["ports_per_vm_max"] = agg(per_vm["project_id"], per_vm["n"], "max")
    f["share_vms_multi_nic"] = agg(per_vm["project_id"], per_vm["n"] > 1, "mean")

    host = _str(ports["binding_host_id"])
    bound = pd.DataFrame({"project_id": pid, "host": host})[host != ""]
    per_host = bound.groupby(["project_id", "host"]).size().reset_index(name="n")
    f["n_hosts"] = per_host["project_id"].value_counts().reindex(idx, fill_value=0).astype("int64")
    hosts = tables["hosts"]
    h = pd.DataFrame({"host": _str(hosts["node_name"]), "rack": _str(hosts["rack"]),
                      "zone": _str(hosts["availability_zone"])}).drop_duplicates("host")
    ph = per_host.merge(h, on="host", how="left").fillna({"rack": "", "zone": ""})
    for col, name in (("rack", "n_racks"), ("zone", "n_zones")):
        known = ph[ph[col] != ""]
        f[name] = known.groupby("project_id")[col].nunique().reindex(idx, fill_value=0).astype("int64")
    f["ports_per_host_mean"] = agg(per_host["project_id"], per_host["n"], "mean")
    f["ports_per_host_max"] = agg(per_host["project_id"], per_host["n"], "max")
    tot = per_host.groupby("project_id")["n"].transform("sum")
    pr = per_host["n"] / tot
    ent = (-(pr * np.log(pr))).groupby(per_host["project_id"]).sum()
    nh = f["n_hosts"].reindex(ent.index)
    norm = ent / np.log(nh.where(nh > 1))
    f["host_entropy"] = norm.reindex(idx).fillna(0.0).astype("float64")

    # --- security groups and rules
    sgs, rules = tables["security_groups"], tables["security_group_rules"]
    f["n_security_groups"] = count(sgs)
    rp = _rule_profile(rules)
    # A rule without its own project_id belongs to its group's project.
    grp_owner = pd.Series(_str(sgs["project_id"]).to_numpy(), index=sgs["id"].astype("string"))
    grp_owner = grp_owner[~grp_owner.index.duplicated()]
    missing = rp["project_id"] == ""
    if missing.any():
        rp.loc[missing, "project_id"] = (rules["security_group_id"].astype("string")[missing]
                                         .map(grp_owner).fillna(""))
    rsum = rp.groupby("project_id").sum(numeric_only=True).reindex(idx, fill_value=0)
    for c in ["n_sg_rules", "n_sg_ingress", "n_sg_egress", *[f"sg_open_{k}" for k in WELL_KNOWN_PORTS],
              "sg_open_nodeport", "sg_open_high_range", "sg_open_all_ports", "n_sg_icmp", "n_sg_udp"]:
        f[c] = rsum[c].astype("int64")
    f["sg_rules_per_group"] = _safe_div(f["n_sg_rules"], f["n_security_groups"])
    f["sg_ingress_world_share"] = _safe_div(rsum["_world"], rsum["n_sg_ingress"])
    f["sg_remote_group_share"] = _safe_div(rsum["_group"], rsum["n_sg_ingress"])
    f["sg_ipv6_share"] = _safe_div(rsum["_v6"], rsum["n_sg_rules"])

    # --- routers and floating IPs
    rt, fips = tables["routers"], tables["floating_ips"]
    f["n_routers"] = count(rt)
    f["n_routers_gateway"] = count(rt, _str(rt["gateway_network_id"]) != "")
    f["n_routers_distributed"] = count(rt, _flag(rt["distributed"]))
    f["n_routers_ha"] = count(rt, _flag(rt["ha"]))
    f["n_router_routes"] = agg(_str(rt["project_id"]), _json_len(rt["routes"]), "sum")
    f["n_floating_ips"] = count(fips)
    f["n_floating_ips_associated"] = count(fips, _str(fips["port_id"]) != "")
    f["fip_per_vm"] = _safe_div(f["n_floating_ips_associated"], f["n_vms"])

    # --- hashed name tokens (shares, so a project's size does not swamp its vocabulary)
    names = pd.concat([
        pd.DataFrame({"project_id": _str(df["project_id"]), "name": _str(df["name"])})
        for df in (nets, subs, ports, sgs)], ignore_index=True)
    names = names[(names["project_id"] != "") & (names["name"] != "")]
    tok = pd.DataFrame(_token_counts(names["name"], buckets),
                       columns=[f"name_tok_{i:02d}" for i in range(buckets)])
    tok["project_id"] = names["project_id"].to_numpy()
    tsum = tok.groupby("project_id").sum().reindex(idx, fill_value=0)
    total = tsum.sum(axis=1)
    for c in tsum.columns:
        f[c] = _safe_div(tsum[c], total)

    f = f.reset_index()
    cols = [c for c in feature_docs(buckets)["projects"] if c != "id"]
    return _finish(f, cols, ("id",))


# ---------------------------------------------------------------------------------------------
# Ports

def port_features(tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per port; `id`, `project_id` (grouping only), then numeric features.

    Reads no `device_owner` and no `router_interfaces`: see the module docstring.
    """
    buckets = _buckets(params)
    ports = tables["ports"]
    p = pd.DataFrame({"id": ports["id"].astype("string"),
                      "project_id": _str(ports["project_id"]),
                      "network_id": _str(ports["network_id"])}).drop_duplicates("id")
    p = p.reset_index(drop=True)
    pid_idx = pd.Index(p["id"])

    # --- fixed IPs, with their subnet geometry
    geo = _subnet_geometry(tables["subnets"], tables["allocation_pools"])
    ips = tables["port_ips"]
    ip = pd.DataFrame({"port_id": ips["port_id"].astype("string"),
                       "ip_index": ips["ip_index"].fillna(0).astype("int64"),
                       "subnet_id": ips["subnet_id"].astype("string"),
                       "addr": _str(ips["ip_address"])})
    ip["ip"] = _ip_ints(ip["addr"])
    ip = ip.merge(geo, on="subnet_id", how="left")
    for c in ("net_lo", "net_hi", "gateway", "pool_first", "pool_last", "pool_size"):
        ip[c] = ip[c].astype(object).where(ip[c].notna(), -1)
    ip["prefix"] = ip["prefix"].fillna(-1).astype("int64")
    ip["version"] = ip["version"].fillna(0).astype("int64")
    ip["dhcp"] = ip["dhcp"].fillna(-1).astype("int64")
    ok = np.array([a != -1 and lo != -1 and lo <= a <= hi
                   for a, lo, hi in zip(ip["ip"], ip["net_lo"], ip["net_hi"])], dtype=bool)
    ip["is_v6"] = (ip["addr"].str.contains(":", regex=False)).astype("int64")
    ip["is_gw"] = np.array([a != -1 and a == g for a, g in zip(ip["ip"], ip["gateway"])],
                           dtype="int64")
    ip["off"] = [math.log2(1 + a - lo) if k else -1.0 for a, lo, k in zip(ip["ip"], ip["net_lo"], ok)]
    ip["off_end"] = [math.log2(1 + hi - a) if k else -1.0 for a, hi, k in zip(ip["ip"], ip["net_hi"], ok)]
    ip["pool_first_hit"] = [int(k and a == s) for a, s, k in zip(ip["ip"], ip["pool_first"], ok)]
    ip["pool_last_hit"] = [int(k and a == e) for a, e, k in zip(ip["ip"], ip["pool_last"], ok)]
    ip["rel"] = [((a - s) / (e - s) if e > s else 0.0) if k and s != -1 and s <= a <= e else -1.0
                 for a, s, e, k in zip(ip["ip"], ip["pool_first"], ip["pool_last"], ok)]
    # in any pool: check each pool of the subnet (few per subnet)
    pools = tables["allocation_pools"]
    pl = pd.DataFrame({"subnet_id": pools["subnet_id"].astype("string"),
                       "start": _ip_ints(pools["start"]), "end": _ip_ints(pools["end"])})
    pl = pl[(pl["start"] != -1) & (pl["end"] != -1)]
    first = ip.sort_values(["port_id", "ip_index"], kind="stable").drop_duplicates("port_id")
    fp = first[["port_id", "subnet_id", "ip"]].reset_index(drop=True)
    fp["row"] = np.arange(len(fp))
    hit = fp.merge(pl, on="subnet_id", how="inner")
    in_pool = np.zeros(len(fp), dtype="int64")
    if len(hit):
        m = np.array([a != -1 and s <= a <= e for a, s, e in zip(hit["ip"], hit["start"], hit["end"])],
                     dtype=bool)
        in_pool[hit["row"].to_numpy()[m]] = 1
    first = first.assign(in_pool=in_pool).set_index("port_id")
    subnet_ports = ip.groupby("subnet_id")["port_id"].nunique()

    # addresses owned elsewhere: floating IP addresses and router gateway addresses
    fips = tables["floating_ips"]
    fip_addr = set(_str(fips["floating_ip_address"]).unique()) - {""}
    rext = _json_ips(tables["routers"]["external_fixed_ips"])
    ip["is_fip_addr"] = ip["addr"].isin(fip_addr).astype("int64")
    ip["is_rext"] = ip["addr"].isin(rext).astype("int64")
    per = ip.groupby("port_id").agg(n_fixed_ips=("ip_index", "size"), n_ipv6=("is_v6", "sum"),
                                    ip_is_gateway=("is_gw", "max"),
                                    ip_is_floating_address=("is_fip_addr", "max"),
                                    ip_is_router_external_ip=("is_rext", "max"))
    per = per.reindex(pid_idx, fill_value=0)
    fr = first.reindex(pid_idx)

    f = p[["id", "project_id"]].copy()
    for c in per.columns:
        f[c] = per[c].to_numpy().astype("int64")
    f["ip_offset_log"] = fr["off"].fillna(-1.0).to_numpy(dtype="float64")
    f["ip_offset_end_log"] = fr["off_end"].fillna(-1.0).to_numpy(dtype="float64")
    f["ip_in_pool"] = fr["in_pool"].fillna(0).to_numpy().astype("int64")
    f["ip_is_pool_first"] = fr["pool_first_hit"].fillna(0).to_numpy().astype("int64")
    f["ip_is_pool_last"] = fr["pool_last_hit"].fillna(0).to_numpy().astype("int64")
    f["ip_pool_rel_pos"] = fr["rel"].fillna(-1.0).to_numpy(dtype="float64")
    f["subnet_prefix_len"] = fr["prefix"].fillna(-1).to_numpy().astype("int64")
    f["subnet_is_v6"] = (fr["version"].fillna(0).to_numpy() == 6).astype("int64")
    f["subnet_dhcp"] = fr["dhcp"].fillna(-1).to_numpy().astype("int64")
    f["subnet_has_gateway"] = np.array([g is not None and not pd.isna(g) and g != -1
                                        for g in fr["gateway"]], dtype="int64")
    f["subnet_n_ports"] = (fr["subnet_id"].map(subnet_ports).fillna(0).to_numpy().astype("int64"))

    # --- binding and device
    pr = ports.drop_duplicates("id")
    pr = pr.set_index(pr["id"].astype("string")).reindex(pid_idx)
    dev = _str(pr["device_id"]).to_numpy()
    f["is_bound"] = (_str(pr["binding_host_id"]) != "").to_numpy().astype("int64")
    f["device_id_empty"] = (dev == "").astype("int64")
    router_ids = set(_str(tables["routers"]["id"])) - {""}
    fip_ids = set(_str(fips["id"])) - {""}
    f["device_is_router"] = np.isin(dev, list(router_ids)).astype("int64") if router_ids else 0
    f["device_is_floating_ip"] = np.isin(dev, list(fip_ids)).astype("int64") if fip_ids else 0
    f["device_id_is_uuid"] = np.array([bool(_UUID_RE.match(d.lower())) for d in dev], dtype="int64")
    f["device_id_has_network_id"] = np.array(
        [bool(nid) and nid in d for d, nid in zip(dev, p["network_id"])], dtype="int64")
    dd = pd.DataFrame({"dev": dev, "net": p["network_id"].to_numpy()})
    dd = dd[dd["dev"] != ""]
    dn = dd.groupby("dev").agg(n=("net", "size"), nets=("net", "nunique"))
    f["device_n_ports"] = pd.Series(dev).map(dn["n"]).fillna(0).to_numpy().astype("int64")
    f["device_n_networks"] = pd.Series(dev).map(dn["nets"]).fillna(0).to_numpy().astype("int64")

    # --- security, state
    psg = tables["port_security_groups"]
    sgc = psg.groupby(psg["port_id"].astype("string"))["security_group_id"].nunique()
    f["n_security_groups"] = pd.Series(pid_idx).map(sgc).fillna(0).to_numpy().astype("int64")
    f["port_security"] = _tri(pr["port_security_enabled"]).to_numpy()
    f["admin_state_up"] = _tri(pr["admin_state_up"]).to_numpy()
    status = _str(pr["status"]).str.upper().to_numpy()
    for s in PORT_STATUSES:
        f[f"status_{s.lower()}"] = (status == s).astype("int64")
    f["status_other"] = (~np.isin(status, PORT_STATUSES)).astype("int64")
    vnic = _str(pr["binding_vnic_type"]).str.lower().to_numpy()
    for v in VNIC_TYPES:
        f[f"vnic_{v.replace('-', '_')}"] = (vnic == v).astype("int64")
    f["vnic_other"] = (~np.isin(vnic, VNIC_TYPES)).astype("int64")
    vif = _str(pr["binding_vif_type"]).str.lower().to_numpy()
    for v in VIF_TYPES:
        f[f"vif_{v}"] = (vif == v).astype("int64")
    f["vif_other"] = (~np.isin(vif, VIF_TYPES)).astype("int64")
    f["n_allowed_address_pairs"] = _json_len(pr["allowed_address_pairs"]).to_numpy()
    fip_ports = set(_str(fips["port_id"])) - {""}
    f["has_floating_ip"] = p["id"].isin(fip_ports).to_numpy().astype("int64")

    # --- network
    nets = tables["networks"].drop_duplicates("id")
    nets = nets.set_index(nets["id"].astype("string"))
    netx = nets.reindex(pd.Index(p["network_id"]))
    f["net_router_external"] = _flag(netx["router_external"]).to_numpy()
    f["net_shared"] = _flag(netx["shared"]).to_numpy()
    net_ports = p.loc[p["network_id"] != "", "network_id"].value_counts()
    f["net_n_ports"] = p["network_id"].map(net_ports).fillna(0).to_numpy().astype("int64")
    f["net_port_security"] = _tri(netx["port_security_enabled"]).to_numpy()
    net_proj = _str(netx["project_id"]).to_numpy()
    f["project_empty"] = (p["project_id"] == "").to_numpy().astype("int64")
    f["project_differs_from_network"] = (
        (net_proj != "") & (p["project_id"].to_numpy() != net_proj)).astype("int64")

    # --- names, DNS, MAC, Alcor extras
    name = _str(pr["name"])
    f["name_empty"] = (name == "").to_numpy().astype("int64")
    f["dns_name_set"] = (_str(pr["dns_name"]) != "").to_numpy().astype("int64")
    mac = _str(pr["mac_address"]).str.lower()
    f["mac_openstack_oui"] = mac.str.startswith(OPENSTACK_OUI).to_numpy().astype("int64")
    first_octet = pd.Series([int(x, 16) if re.match(r"^[0-9a-f]{2}$", x) else -1
                             for x in mac.str.slice(0, 2)], dtype="int64")
    f["mac_local_admin"] = ((first_octet >= 0) & ((first_octet & 2) > 0)).to_numpy().astype("int64")
    f["mac_missing"] = (mac == "").to_numpy().astype("int64")
    f["veth_set"] = (_str(pr["veth_name"]) != "").to_numpy().astype("int64")
    f["network_ns_set"] = (_str(pr["network_ns"]) != "").to_numpy().astype("int64")
    tok = _token_counts(name, buckets)
    for i in range(buckets):
        f[f"name_tok_{i:02d}"] = tok[:, i]

    # Grouping column: Neutron creates router gateway and floating IP ports without a project.
    # Group them with the project of the router / floating IP their device_id names, so that a
    # project's ports land in one cross-validation fold instead of forming one giant '' group.
    rt = tables["routers"]
    owner = pd.concat([pd.Series(_str(rt["project_id"]).to_numpy(), index=_str(rt["id"]).to_numpy()),
                       pd.Series(_str(fips["project_id"]).to_numpy(), index=_str(fips["id"]).to_numpy())])
    owner = owner[(owner.index != "") & (owner != "")]
    owner = owner[~owner.index.duplicated()]
    fallback = pd.Series(dev).map(owner).fillna("").to_numpy()
    f["project_id"] = np.where(f["project_id"].to_numpy() == "", fallback, f["project_id"].to_numpy())

    cols = [c for c in feature_docs(buckets)["ports"] if c not in ("id", "project_id")]
    return _finish(f, cols, ("id", "project_id"))


BUILDERS = {"projects": project_features, "ports": port_features}


def build_features(tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None
                   ) -> dict[str, pd.DataFrame]:
    """Every feature table, by entity name (the file stem under data/features/)."""
    return {name: fn(tables, params) for name, fn in BUILDERS.items()}
