"""Alcor controller API request stream (NDJSON) and a K6 script that replays it.

Output (folder `alcor/`):
- alcor_requests.ndjson: one request per line. Line format (shared with the K6 replayer and
  the ingest round trip; keys sorted, compact JSON):

    {"body": {...}, "capture": {...}?, "method": "POST", "path": "/project/p1/ports",
     "phase": 11, "resource": "port", "service": "port_manager"}

  `service`, `method`, `path`, `body` are the request (Alcor's contract,
  schemas/consumers/alcor.requests.schema.json); `phase` is the 1-based step of Alcor's setup
  order: every request of phase k must be answered before any request of phase k+1 is sent,
  and lines are sorted by phase; `resource` names what the line creates (segment, ncm, node,
  vpc, subnet, router, router_interface, security_group, security_group_rule, port,
  elasticip_range, elasticip). An optional `capture` maps a variable name to an RFC 6901
  JSON pointer into the JSON response body; a later line uses the captured value by writing
  `{{<variable>}}` inside any string of its `path` or `body`, and the replayer substitutes it.
  Phases, in order (empty ones are skipped, the numbering stays consecutive):
    segment             POST /segments/createDefaultTable                  vpc_manager
    ncm                 POST /ncms {"ncm_info"}, one per NCM                node_manager
    node                POST /nodes/bulk {"host_infos"}, one NCM per bulk  node_manager
    vpc                 POST /project/{p}/vpcs {"network"}                 vpc_manager
    subnet              POST /project/{p}/subnets {"subnet"}, IPv4 only    subnet_manager
    router              POST /project/{p}/routers {"router"}, one VPC each route_manager
    router_interface    PUT  /project/{p}/routers/{r}/add_router_interface {"subnet_id"}
    security_group      POST /project/{p}/security-groups, no `default`    security_group_manager
    port (capture)      one port per project whose default group is referenced, sent without
                        security_groups; captures `default_sg.<p>` = /port/security_groups/0
    security_group_rule POST /project/{p}/security-group-rules             security_group_manager
    port                POST /project/{p}/ports {"port"}                    port_manager
    elasticip_range     POST /elasticip-ranges, one per IP version           elastic_ip_manager
    elasticip           POST /project/{p}/elasticips {"elasticip"}          elastic_ip_manager
  Within a phase requests are sorted by id. Path segments taken from the data are
  percent-encoded. A resource without a project goes under project `none`.
- alcor_k6.js: replays the stream phase by phase (pipeline/export/alcor_k6.py).

What Alcor cannot take is left out or changed, never silently: every case is counted per
reason in the summary (`left_out`, `changed`; `data/export/_export_report.json`, section
`formats.alcor`, printed by `dcnet export`). The reasons follow Alcor's code, see
schemas/consumers/ and `dcnet check-export`: IPv6 subnets and fixed IPs (Alcor's subnets are
IPv4 only; ports left with no address are left out), router-interface ports (Alcor creates
the gateway port with the subnet; routers are attached by subnet_id), routers spanning VPCs
(split, one router per VPC), static routes (add_extraroutes is outside the contract), groups
named `default` (Alcor owns the tenant's default group; references go through the captured
id, and a port whose only group is the default omits security_groups), allow-all rules that
Alcor adds to every new group itself, rule protocols Alcor's data plane cannot map, vif/vnic
types outside Alcor's enums, empty or unknown binding:host_id (omitted: unbound port).

Round trip: every resource body is in the Neutron/Alcor wire format that dcnet's own ingest
reads (`{"network": {...}}`, `{"host_infos": [...]}`, ...); `stream_to_dump` writes those bodies
as one NDJSON dump (elastic IPs as Neutron floating IPs), and ingesting it gives back the
exported tables for what the stream carries (placeholders stay as text). List positions
(ip_index, pool_index) are renumbered 0.. in list order.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import numpy as np
import orjson

from pipeline.export.wire import dumps
from pipeline.export.alcor_k6 import k6_script
from schemas.model import ROUTER_INTERFACE_OWNERS, empty_frame
from pipeline.export.topology import pylist
from pipeline.params import default

NEEDS_FABRIC = False  # the controller API knows no physical fabric
STREAM = "alcor_requests.ndjson"
K6 = "alcor_k6.js"
NODES_PER_BULK = default("export.alcor.nodes_per_request")
ACA_SERVER_PORT = default("export.alcor.server_port")  # Alcor control agent's default gRPC port
NCM_URI = default("export.alcor.ncm_uri")  # network_config_manager's default base URL
FLAT_SEGMENTATION_ID = default("export.alcor.flat_segmentation_id")  # flat networks need one (no NPE)
RENAMED_DEFAULT = "dcnet-default"  # a default group posted as an ordinary group


# (column, wire key, json?) per table; wire keys are those ingest maps back to the column.
FIELDS = {
    "hosts": [("id", "node_id", 0), ("node_name", "node_name", 0), ("local_ip", "local_ip", 0),
              ("mac_address", "mac_address", 0), ("veth", "veth", 0),
              ("server_port", "server_port", 0), ("host_dvr_mac", "host_dvr_mac", 0),
              ("ncm_id", "ncm_id", 0), ("ncm_uri", "ncm_uri", 0),
              ("availability_zone", "availability_zone", 0), ("rack", "rack", 0)],
    "networks": [("id", "id", 0), ("project_id", "project_id", 0), ("project_id", "tenant_id", 0),
                 ("name", "name", 0), ("admin_state_up", "admin_state_up", 0),
                 ("status", "status", 0), ("shared", "shared", 0), ("mtu", "mtu", 0),
                 ("router_external", "router:external", 0),
                 ("port_security_enabled", "port_security_enabled", 0),
                 ("network_type", "provider:network_type", 0),
                 ("physical_network", "provider:physical_network", 0),
                 ("segmentation_id", "provider:segmentation_id", 0), ("cidr", "cidr", 0),
                 ("availability_zones", "availability_zones", 1),
                 ("created_at", "created_at", 0), ("updated_at", "updated_at", 0)],
    "subnets": [("id", "id", 0), ("network_id", "network_id", 0), ("project_id", "project_id", 0),
                ("project_id", "tenant_id", 0), ("name", "name", 0), ("cidr", "cidr", 0),
                ("ip_version", "ip_version", 0), ("gateway_ip", "gateway_ip", 0),
                ("enable_dhcp", "enable_dhcp", 0), ("host_routes", "host_routes", 1),
                ("dns_nameservers", "dns_nameservers", 1), ("subnetpool_id", "subnetpool_id", 0),
                ("segment_id", "segment_id", 0), ("ipv6_address_mode", "ipv6_address_mode", 0),
                ("ipv6_ra_mode", "ipv6_ra_mode", 0),
                ("attached_router_id", "attached_router_id", 0)],
    "security_groups": [("id", "id", 0), ("project_id", "project_id", 0),
                        ("project_id", "tenant_id", 0), ("name", "name", 0),
                        ("description", "description", 0), ("stateful", "stateful", 0)],
    "security_group_rules": [("id", "id", 0), ("security_group_id", "security_group_id", 0),
                             ("project_id", "project_id", 0), ("project_id", "tenant_id", 0),
                             ("direction", "direction", 0), ("ethertype", "ethertype", 0),
                             ("protocol", "protocol", 0), ("port_range_min", "port_range_min", 0),
                             ("port_range_max", "port_range_max", 0),
                             ("remote_ip_prefix", "remote_ip_prefix", 0),
                             ("remote_group_id", "remote_group_id", 0),
                             ("description", "description", 0)],
    "routers": [("id", "id", 0), ("project_id", "project_id", 0), ("project_id", "tenant_id", 0),
                ("name", "name", 0), ("admin_state_up", "admin_state_up", 0),
                ("status", "status", 0), ("distributed", "distributed", 0), ("ha", "ha", 0),
                ("routes", "routes", 1)],
    "ports": [("id", "id", 0), ("network_id", "network_id", 0), ("project_id", "project_id", 0),
              ("project_id", "tenant_id", 0), ("name", "name", 0),
              ("mac_address", "mac_address", 0), ("device_id", "device_id", 0),
              ("device_owner", "device_owner", 0),
              ("port_security_enabled", "port_security_enabled", 0),
              ("admin_state_up", "admin_state_up", 0), ("status", "status", 0),
              ("binding_host_id", "binding:host_id", 0),
              ("binding_vif_type", "binding:vif_type", 0),
              ("binding_vnic_type", "binding:vnic_type", 0), ("dns_name", "dns_name", 0),
              ("allowed_address_pairs", "allowed_address_pairs", 1),
              ("veth_name", "veth_name", 0), ("fast_path", "fast_path", 0),
              ("network_ns", "network_ns", 0), ("created_at", "created_at", 0),
              ("updated_at", "updated_at", 0)],
    "floating_ips": [("id", "id", 0), ("project_id", "project_id", 0),
                     ("project_id", "tenant_id", 0),
                     ("floating_network_id", "floating_network_id", 0),
                     ("floating_ip_address", "floating_ip_address", 0),
                     ("fixed_ip_address", "fixed_ip_address", 0), ("port_id", "port_id", 0),
                     ("router_id", "router_id", 0), ("status", "status", 0)],
}


def _json_value(v, cache: dict | None = None):
    """JSON text -> value; identical texts (most are "[]") are parsed once per call site."""
    if cache is not None:
        hit = cache.get(v, cache)
        if hit is not cache:
            return hit
    try:
        out = orjson.loads(v)
    except (orjson.JSONDecodeError, TypeError):
        out = v  # not JSON text: send the string as it is
    if cache is not None and len(v) < 64:
        cache[v] = out  # shared read-only: bodies are only serialised
    return out


def resources(df, table: str) -> list[dict]:
    """Rows of a canonical table as wire-format objects (nulls left out), in row order."""
    fields = FIELDS[table]
    keys = [k for _, k, _ in fields]
    cols = []
    for c, _, js in fields:
        vals = pylist(df[c])
        cache: dict = {}
        cols.append([None if v is None else _json_value(v, cache) for v in vals] if js else vals)
    return [{k: v for k, v in zip(keys, row) if v is not None} for row in zip(*cols)]


def _sorted(df, by=("id",)):
    return df.sort_values(list(by), kind="stable") if len(df) else df


def _children(df, parent: str, order: str, fields: tuple[str, ...], single: bool = False) -> dict:
    """{parent id: [child objects ({field: value}, nulls left out) in `order`]}; with `single`,
    the children are the bare values of the one field. Ties in `order` keep row order."""
    out: dict = {}
    if df is None or len(df) == 0:
        return out
    # one vectorised sort (parent, order, row), then one pass over runs of equal parents
    part = df[list(dict.fromkeys((parent, order, *fields)))].reset_index(drop=True)
    part = part.assign(_row=np.arange(len(part))).sort_values([parent, order, "_row"], kind="stable")
    current: list = []
    last = _NO_PARENT
    for pid, *vals in zip(pylist(part[parent]), *(pylist(part[c]) for c in fields)):
        if pid != last:
            current = out[pid] = []
            last = pid
        current.append(vals[0] if single else {k: v for k, v in zip(fields, vals) if v is not None})
    return out


_NO_PARENT = object()


@lru_cache(maxsize=65536)
def _p(v) -> str:
    """A path segment from the data, percent-encoded (ids repeat: cached)."""
    return quote(str(v), safe="") if v is not None and v != "" else "none"



# ---------------------------------------------------------------------------------------------
# What Alcor accepts (values from its code; see schemas/consumers/alcor.requests.schema.json)
# ---------------------------------------------------------------------------------------------

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

# Setup steps in Alcor's order: (step, resource). Each non-empty step is one phase.
STEPS = (("segment", "segment"), ("ncm", "ncm"), ("node", "node"), ("vpc", "vpc"),
         ("subnet", "subnet"), ("router", "router"), ("router_interface", "router_interface"),
         ("security_group", "security_group"), ("default_sg_capture", "port"),
         ("security_group_rule", "security_group_rule"), ("port", "port"),
         ("elasticip_range", "elasticip_range"), ("elasticip", "elasticip"))
RESOURCE_OF_STEP = dict(STEPS)


def default_sg_var(project) -> str:
    """Capture variable holding Alcor's id of a project's default security group."""
    return "default_sg." + _p(project)


def placeholder(var: str) -> str:
    return "{{" + var + "}}"


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


def _req(resource, service, method, path, body, capture=None) -> tuple:
    return (resource, service, method, path, body, capture)


# ---------------------------------------------------------------------------------------------
# Steps
# ---------------------------------------------------------------------------------------------

def _nodes(hosts, cfg: dict, counts: Counts):
    """NCM registrations, node bulks (one NCM per bulk) and the registered node names."""
    per_bulk = int(cfg.get("nodes_per_request", NODES_PER_BULK))
    server_port = int(cfg.get("server_port", ACA_SERVER_PORT))
    default_uri = str(cfg.get("ncm_uri", NCM_URI))
    names: set = set()
    groups: dict = {}
    ncm_uri: dict = {}
    for info in resources(hosts, "hosts"):
        name = info.get("node_name")
        if not name:
            counts.out("host without node_name (R-NODE-NAME)")
            continue
        if URL_UNSAFE.search(name):
            counts.out("host whose node_name has URL-unsafe characters (R-NODE-NAME-URL)")
            continue
        if name in names:
            counts.out("host with a duplicate node_name (R-NODE-NAME)")
            continue
        names.add(name)
        if info.get("server_port") is None:
            info["server_port"] = server_port
            counts.change("host server_port set to export.alcor.server_port")
        ncm = info.get("ncm_id") or None
        uri = info.pop("ncm_uri", None)  # node_manager fills it from the NCM registry
        if uri is not None:
            counts.change("host ncm_uri not sent per host: the NCM registration carries it")
        if ncm is None:
            info.pop("ncm_id", None)  # "" is not read as absent by node_manager (R-NCM-NONE)
        elif ncm not in ncm_uri and str(uri or "").startswith(("http://", "https://")):
            ncm_uri[ncm] = uri
        groups.setdefault(ncm, []).append(info)
    ncms = []
    for ncm in sorted(k for k in groups if k is not None):
        if ncm not in ncm_uri:
            counts.change("NCM without an http(s) ncm_uri registered at export.alcor.ncm_uri")
        ncms.append(_req("ncm", "node_manager", "POST", "/ncms",
                         {"ncm_info": {"id": ncm, "uri": ncm_uri.get(ncm, default_uri)}}))
    bulks = []
    for ncm in sorted(groups, key=lambda k: (k is None, k or "")):
        infos = groups[ncm]
        for i in range(0, len(infos), per_bulk):
            bulks.append(_req("node", "node_manager", "POST", "/nodes/bulk",
                              {"host_infos": infos[i:i + per_bulk]}))
    return ncms, bulks, names


def _vpcs(nets, cfg: dict, counts: Counts) -> dict:
    """{network id: VPC body}, sanitised to Alcor's enums (requests are built later, once the
    subnets have said whether the VPC cidr can stay)."""
    flat_seg = int(cfg.get("flat_segmentation_id", FLAT_SEGMENTATION_ID))
    out = {}
    for obj in resources(nets, "networks"):
        ntype = obj.get("provider:network_type")
        if ntype is not None and ntype not in NETWORK_TYPES:
            for k in ("provider:network_type", "provider:segmentation_id", "provider:physical_network"):
                obj.pop(k, None)
            counts.change(f"network type {ntype!r} not an Alcor type: provider fields left out")
        elif ntype is None and obj.get("provider:segmentation_id") is not None:
            del obj["provider:segmentation_id"]
            counts.change("segmentation id without network type: left out")
        elif ntype == "flat" and obj.get("provider:segmentation_id") is None:
            obj["provider:segmentation_id"] = flat_seg  # Alcor NPEs on a flat VPC without one
            counts.change("flat network given provider:segmentation_id (A7)")
        cidr = obj.get("cidr")
        if cidr and _v4net(cidr) is None:
            del obj["cidr"]
            counts.change("VPC cidr not IPv4: left out")
        mtu = obj.get("mtu")
        if mtu is not None and mtu < 68:
            del obj["mtu"]
            counts.change("VPC mtu below 68: left out")
        _enum(obj, "status", STATUSES, counts, "VPC")
        out[obj["id"]] = obj
    return out


def _subnets(subnets, pools_df, vpcs: dict, counts: Counts):
    """IPv4 subnet requests; {subnet id: (network id, ip network, gateway address)}."""
    pools = _children(pools_df, "subnet_id", "pool_index", ("start", "end"))
    kept: dict = {}
    by_vpc: dict = {}
    reqs = []
    for obj in resources(subnets, "subnets"):
        cidr = obj.get("cidr") or ""
        if obj.get("ip_version") == 6 or ":" in cidr:
            counts.out("IPv6 subnet (Alcor subnets are IPv4 only, R-IPV6)")
            continue
        if not SUBNET_CIDR.match(cidr):
            counts.out("subnet cidr not IPv4 /16../28")
            continue
        vpc = vpcs.get(obj.get("network_id"))
        if vpc is None:
            counts.out("subnet of a network not exported")
            continue
        net = _v4net(cidr)
        if any(net.overlaps(other) for other in by_vpc.get(obj["network_id"], ())):
            counts.out("subnet overlapping another subnet of its VPC (R-SUBNET-INSIDE)")
            continue
        vpc_net = _v4net(vpc["cidr"]) if vpc.get("cidr") else None
        if vpc_net is not None and not net.subnet_of(vpc_net):
            del vpc["cidr"]
            counts.change("VPC cidr left out: a subnet lies outside it (R-SUBNET-INSIDE)")
        by_vpc.setdefault(obj["network_id"], []).append(net)
        gw = obj.get("gateway_ip")
        hosts_lo, hosts_hi = int(net.network_address) + 1, int(net.broadcast_address) - 1
        if gw:
            try:
                gw_ok = hosts_lo <= int(ipaddress.IPv4Address(gw)) <= hosts_hi
            except ValueError:
                gw_ok = False
            if not gw_ok:
                del obj["gateway_ip"]
                gw = None
                counts.change("subnet gateway_ip outside its host range: left to Alcor (R-SUBNET-GW-RANGE)")
        gw_addr = gw or str(ipaddress.IPv4Address(hosts_lo))  # Alcor's default: first host
        if obj.pop("attached_router_id", None) is not None:
            counts.change("subnet attached_router_id left out: attached by add_router_interface "
                          "(R-RIF-ATTACHED)")
        if obj["id"] in pools:
            obj["allocation_pools"] = pools[obj["id"]]
        project = vpc.get("project_id")
        if project != obj.get("project_id"):
            counts.change("subnet posted under its VPC's project (R-SUBNET-VPC)")
        kept[obj["id"]] = (obj["network_id"], net, gw_addr)
        reqs.append(_req("subnet", "subnet_manager", "POST", f"/project/{_p(project)}/subnets",
                         {"subnet": obj}))
    return reqs, kept


def _vpc_requests(vpcs: dict) -> list:
    return [_req("vpc", "vpc_manager", "POST", f"/project/{_p(obj.get('project_id'))}/vpcs",
                 {"network": obj}) for obj in vpcs.values()]


def _routers(routers_df, ifaces_df, vpcs: dict, subnets: dict, counts: Counts):
    """Router requests (one VPC per router: a router spanning VPCs is split) and their
    add_router_interface requests by subnet_id."""
    gw_cols = [pylist(routers_df[c]) for c in ("gateway_network_id", "enable_snat", "external_fixed_ips")]
    attach: dict = {}  # router id -> [subnet ids]
    seen_subnet: set = set()
    rows = sorted(zip(pylist(ifaces_df["router_id"]), pylist(ifaces_df["subnet_id"])),
                  key=lambda r: (str(r[0]), str(r[1]))) if len(ifaces_df) else []
    for rid, sid in rows:
        if sid not in subnets:
            counts.out("router interface on a left-out or unknown subnet")
            continue
        if sid in seen_subnet:
            counts.out("second router interface on one subnet (R-RIF-ATTACHED)")
            continue
        seen_subnet.add(sid)
        attach.setdefault(rid, []).append(sid)
    reqs, ifaces = [], []
    for i, obj in enumerate(resources(routers_df, "routers")):
        routes = obj.pop("routes", None)
        if routes:
            counts.out("router static route (add_extraroutes is outside the contract, "
                       "R-ROUTER-ROUTES)", len(routes) if isinstance(routes, list) else 1)
        gw = _gateway_info(gw_cols, i, vpcs, subnets, counts)
        if gw:
            obj["external_gateway_info"] = gw
        _enum(obj, "status", STATUSES, counts, "router")
        by_vpc: dict = {}
        for sid in attach.get(obj["id"], ()):
            by_vpc.setdefault(subnets[sid][0], []).append(sid)
        # the VPC with most interfaces keeps the router; each further VPC gets its own
        order = sorted(by_vpc, key=lambda v: (-len(by_vpc[v]), str(v)))
        project = _p(obj.get("project_id"))
        for k, vpc in enumerate(order or [None]):
            body = obj
            if k:
                body = {key: v for key, v in obj.items() if key != "external_gateway_info"}
                body["id"] = str(uuid.uuid5(ROUTER_NS, f"{obj['id']}/{vpc}"))
                body["name"] = f"{obj.get('name') or 'router'}-vpc{k + 1}"
                counts.change("router split: extra router for a further VPC (R-ROUTER-ONE-VPC)")
            reqs.append(_req("router", "route_manager", "POST", f"/project/{project}/routers",
                             {"router": body}))
            for sid in by_vpc.get(vpc, ()):
                ifaces.append(_req("router_interface", "route_manager", "PUT",
                                   f"/project/{project}/routers/{_p(body['id'])}/add_router_interface",
                                   {"subnet_id": sid}))
    sent = {r[4]["router"]["id"] for r in reqs}
    for rid in attach:
        if rid not in sent:
            counts.out("router interface of a router not exported", len(attach[rid]))
    return reqs, ifaces


def _gateway_info(gw_cols, i: int, vpcs: dict, subnets: dict, counts: Counts) -> dict:
    net, snat, fixed = (col[i] for col in gw_cols)
    if net is None and snat is None and fixed is None:
        return {}
    if net is not None and net not in vpcs:
        counts.out("router gateway on a network not exported")
        return {}
    gw = {}
    if net is not None:
        gw["network_id"] = net
    if snat is not None:
        gw["enable_snat"] = snat
    if fixed is not None:
        ips = _json_value(fixed)
        if isinstance(ips, list):
            kept = [ip for ip in ips if not isinstance(ip, dict) or ip.get("subnet_id") in subnets]
            counts.out("router gateway fixed IP in a left-out subnet", len(ips) - len(kept))
            ips = kept
        gw["external_fixed_ips"] = ips
    return gw


def _default_groups(sg_objs: list) -> dict:
    """{id of a group named default: its project}."""
    return {obj["id"]: obj.get("project_id") for obj in sg_objs if obj.get("name") == "default"}


def _security_groups(sg_objs: list, defaults: dict, renamed: set, counts: Counts):
    """Group requests without Alcor's own `default` groups (a default group whose id cannot be
    captured is posted under RENAMED_DEFAULT instead); {posted group id: project}."""
    reqs, posted = [], {}
    for obj in sg_objs:
        if obj["id"] in renamed:
            obj["name"] = RENAMED_DEFAULT
            counts.change(f"default group posted as {RENAMED_DEFAULT!r}: no port of its project "
                          f"to capture Alcor's default id from (R-SG-DEFAULT-EXPORT)")
        elif obj["id"] in defaults:
            counts.change("security group named default not posted: Alcor's own default group "
                          "of the project is used (R-SG-DEFAULT-EXPORT)")
            continue
        posted[obj["id"]] = obj.get("project_id")
        reqs.append(_req("security_group", "security_group_manager", "POST",
                         f"/project/{_p(obj.get('project_id'))}/security-groups",
                         {"security_group": obj}))
    return reqs, posted


def _port_objects(ports, port_ips, node_names: set, vpcs: dict, subnets: dict, counts: Counts):
    """Port bodies Alcor can take (security groups are set later), in id order."""
    fips = _children(port_ips, "port_id", "ip_index", ("subnet_id", "ip_address"))
    used: set = set()
    out = []
    for obj in resources(ports, "ports"):
        if obj.get("device_owner") in ROUTER_INTERFACE_OWNERS:
            counts.out("router interface port (Alcor creates the gateway port with the subnet, "
                       "R-GW-PORT)")
            continue
        if obj.get("network_id") not in vpcs:
            counts.out("port on a network not exported")
            continue
        ips = fips.get(obj["id"], [])
        kept, v6, at_gateway = _fixed_ips(ips, subnets, used, counts)
        if at_gateway:
            counts.out("port at its subnet's gateway address (R-GW-PORT)")
            continue
        if ips and not kept:
            counts.out("port with only IPv6 fixed IPs (R-IPV6)" if v6 == len(ips)
                       else "port whose fixed IPs are all left out")
            continue
        counts.out("IPv6 fixed IP of a port (R-IPV6)", v6)
        for ip in kept:
            used.add((ip.get("subnet_id"), ip.get("ip_address")))
        if kept:
            obj["fixed_ips"] = kept
        _port_binding(obj, node_names, counts)
        out.append(obj)
    return out


def _fixed_ips(ips: list, subnets: dict, used: set, counts: Counts):
    """(kept entries, number of IPv6 entries, whether one sits at its subnet's gateway)."""
    kept, v6, at_gateway = [], 0, False
    for ip in ips:
        sid, addr = ip.get("subnet_id"), ip.get("ip_address")
        if addr and ":" in addr:
            v6 += 1
            continue
        if sid is not None and sid not in subnets:
            counts.out("fixed IP in a left-out subnet")
            continue
        if sid is not None and addr is not None:
            if addr == subnets[sid][2]:
                at_gateway = True
            if (sid, addr) in used:
                counts.out("fixed IP already used in its subnet (R-PORT-FIXEDIP)")
                continue
        kept.append(ip)
    return kept, v6, at_gateway


def _port_binding(obj: dict, node_names: set, counts: Counts) -> None:
    host = obj.get("binding:host_id")
    if host is not None and host not in node_names:
        del obj["binding:host_id"]
        counts.change("empty binding:host_id omitted: unbound port (R-NODE-UNBOUND)" if host == ""
                      else "binding:host_id naming no registered node omitted (R-NODE-NAME)")
    vif = obj.get("binding:vif_type")
    if vif is not None and vif not in VIF_TYPES:
        if vif in VIF_UNBOUND:
            del obj["binding:vif_type"]
            counts.change(f"vif_type {vif!r} omitted: Alcor's default applies (A4)")
        else:
            obj["binding:vif_type"] = "other"
            counts.change(f"vif_type {vif!r} sent as 'other' (A4)")
    vnic = obj.get("binding:vnic_type")
    if vnic is not None and vnic not in VNIC_TYPES:
        if vnic in VNIC_ALIASES:
            obj["binding:vnic_type"] = VNIC_ALIASES[vnic]
            counts.change(f"vnic_type {vnic!r} sent as {VNIC_ALIASES[vnic]!r}")
        else:
            del obj["binding:vnic_type"]
            counts.change(f"vnic_type {vnic!r} not an Alcor value: omitted")
    mac = obj.get("mac_address")
    if mac is not None and not MAC.match(mac):
        del obj["mac_address"]
        counts.change("port mac_address malformed: left to Alcor")


def _default_sg_probes(port_objs, port_groups: dict, rules: list, defaults: dict, counts: Counts):
    """One capture port per project whose default group is referenced explicitly (by a rule,
    by a port with further groups, or from another project): {project: port body}. A port whose
    only group is the default is the faithful probe; failing that, a port without groups (it
    then gets the default group, counted)."""
    needed = set()
    for obj in rules:
        for key in ("security_group_id", "remote_group_id"):
            if obj.get(key) in defaults:
                needed.add(defaults[obj[key]])
    for obj in port_objs:
        groups = port_groups.get(obj["id"], ())
        for g in groups:
            if g in defaults and (len(groups) > 1 or defaults[g] != obj.get("project_id")):
                needed.add(defaults[g])
    only_default, no_groups = {}, {}
    for obj in port_objs:
        project = obj.get("project_id")
        if project not in needed:
            continue
        groups = port_groups.get(obj["id"], ())
        if len(groups) == 1 and defaults.get(groups[0], object()) == project:
            only_default.setdefault(project, obj)
        elif not groups:
            no_groups.setdefault(project, obj)
    probes = {}  # projects left without a probe get their default group posted renamed
    for project in sorted(needed, key=str):
        obj = only_default.get(project) or no_groups.get(project)
        if obj is None:
            continue
        if project not in only_default:
            counts.change("port without security groups gets its project's default group "
                          "(capture probe, R-SG-DEFAULT-EXPORT)")
        probes[project] = obj
    return probes, needed


def _port_security_groups(obj: dict, groups: list, defaults: dict, posted: dict,
                          captured: set, counts: Counts) -> None:
    project = obj.get("project_id")
    if not groups:
        obj["security_groups"] = []  # no group in the data; absent would bind the default
        return
    if all(g in defaults and defaults[g] == project for g in groups):
        return  # only the project's default: port_manager binds Alcor's default itself
    mapped = []
    for g in groups:
        if g in defaults:
            if defaults[g] in captured:
                mapped.append(placeholder(default_sg_var(defaults[g])))
            else:
                counts.out("port's default-group reference without a capture port in its project")
        elif g in posted:
            mapped.append(g)
        else:
            counts.out("port's security group not exported")
    obj["security_groups"] = list(dict.fromkeys(mapped))


def _rules(rule_objs: list, defaults: dict, posted: dict, captured: set, counts: Counts) -> list:
    reqs = []
    for obj in rule_objs:
        default_group = obj["security_group_id"] in defaults
        if not _rule_refs(obj, defaults, posted, captured, counts):
            continue
        proto = obj.get("protocol")
        if proto is not None:
            mapped = SGR_PROTOCOLS.get(str(proto).lower())
            if mapped is None:
                counts.out(f"rule protocol {proto!r} not mapped by Alcor's data plane (A-SGR-PROTO)")
                continue
            obj["protocol"] = mapped
        if _is_auto_rule(obj, "ingress" if default_group else "egress"):
            counts.out("allow-all rule Alcor creates with the group itself (R-SG-AUTO-RULES)")
            continue
        if not _rule_ranges_ok(obj):
            counts.out("rule port range Alcor rejects (R-SGR-MINMAX)")
            continue
        reqs.append(_req("security_group_rule", "security_group_manager", "POST",
                         f"/project/{_p(obj.get('project_id'))}/security-group-rules",
                         {"security_group_rule": obj}))
    return reqs


def _rule_refs(obj: dict, defaults: dict, posted: dict, captured: set, counts: Counts) -> bool:
    for key in ("security_group_id", "remote_group_id"):
        g = obj.get(key)
        if g is None or g in posted:
            continue
        if g in defaults and defaults[g] in captured:
            obj[key] = placeholder(default_sg_var(defaults[g]))
        elif g in defaults:
            counts.out("rule referencing a default group without a capture port in its project")
            return False
        else:
            counts.out("rule referencing a group not exported")
            return False
    return True


def _is_auto_rule(obj: dict, direction: str) -> bool:
    return (obj.get("direction") == direction and obj.get("protocol") is None
            and obj.get("port_range_min") is None and obj.get("port_range_max") is None
            and obj.get("remote_group_id") is None
            and obj.get("remote_ip_prefix") in ALLOW_ALL_PREFIXES
            and obj.get("ethertype") in ("IPv4", "IPv6"))


def _rule_ranges_ok(obj: dict) -> bool:
    lo, hi = obj.get("port_range_min"), obj.get("port_range_max")
    if lo is None and hi is None:
        return True
    proto = obj.get("protocol")
    if proto in ("tcp", "udp"):
        return lo is not None and hi is not None and 1 <= lo <= hi <= 65535
    if proto == "icmp":
        return lo is not None and hi is not None and 0 <= lo <= 255 and 0 <= hi <= 255
    return proto is not None


def _elastic_ips(fips, ports: dict, counts: Counts):
    """One elastic-IP range per IP version covering every floating address, then the elastic
    IPs on the elastic-IP manager's own path. `ports`: {port id: (project, {fixed ips})}."""
    by_version: dict = {}
    used: set = set()
    reqs = []
    for obj in resources(fips, "floating_ips"):
        addr = obj.get("floating_ip_address")
        try:
            ip = ipaddress.ip_address(addr) if addr else None
        except ValueError:
            counts.out("floating IP with a malformed address")
            continue
        version = ip.version if ip else 4
        project = obj.get("project_id")
        body = {"id": obj["id"], "elastic_ip_version": version}
        for key in ("project_id", "tenant_id"):
            if obj.get(key) is not None:
                body[key] = obj[key]
        if ip:
            body["elastic_ip"] = addr
            by_version.setdefault(version, []).append(ip)
        port, private = obj.get("port_id"), obj.get("fixed_ip_address")
        if port is not None:
            if port in ports and ports[port][0] == project:
                body["port_id"] = port
                if private is not None and private in ports[port][1] and (port, private) not in used:
                    body["private_ip"] = private
                    used.add((port, private))
                elif private is not None:
                    counts.change("elastic IP private_ip not a free fixed IP of its port: "
                                  "chosen by Alcor (R-EIP-PORT)")
            else:
                counts.change("elastic IP of a port not exported: sent unassociated (R-EIP-PORT)")
        reqs.append(_req("elasticip", "elastic_ip_manager", "POST",
                         f"/project/{_p(project)}/elasticips", {"elasticip": body}))
    if reqs and 4 not in by_version and any("elastic_ip" not in r[4]["elasticip"] for r in reqs):
        by_version[4] = []
    ranges = []
    for version in sorted(by_version):
        ips = sorted(by_version[version])
        name = f"dcnet-floating-ipv{version}"
        body = {"id": str(uuid.uuid5(ROUTER_NS, name)), "name": name, "ip_version": version,
                "allocation_ranges": [{"start": str(ips[0]), "end": str(ips[-1])}] if ips else []}
        ranges.append(_req("elasticip_range", "elastic_ip_manager", "POST", "/elasticip-ranges",
                           {"elasticip-range": body}))
    return ranges, reqs


# ---------------------------------------------------------------------------------------------
# The stream
# ---------------------------------------------------------------------------------------------

def build_stream(tables: dict, params: dict | None = None) -> list[dict]:
    """The ordered request list for the canonical tables (see the module doc), as the dicts
    written to the NDJSON stream."""
    return [orjson.loads(line) for line in stream_lines(tables, params)]


def stream_lines(tables: dict, params: dict | None = None, counts: Counts | None = None):
    """The stream's lines (bytes, without newline), in order."""
    phase, prev = 0, None
    for step, batch in iter_requests(tables, params, counts):
        if not batch:
            continue
        if step != prev:
            phase, prev = phase + 1, step
        yield from _encode(batch, phase)


def iter_requests(tables: dict, params: dict | None = None, counts: Counts | None = None):
    """(step, [request tuple]) in Alcor's setup order; a step may come in several batches
    (ports), so a writer can serialise and drop each before the next is built. Request tuple:
    (resource, service, method, path, body, capture or None)."""
    cfg = dict((params or {}).get("alcor") or {})
    counts = counts if counts is not None else Counts()

    def get(name):
        df = tables.get(name)
        df = df if df is not None else empty_frame(name)
        return _sorted(df) if "id" in df.columns else df

    yield "segment", [_req("segment", "vpc_manager", "POST", "/segments/createDefaultTable", {})]
    ncms, bulks, node_names = _nodes(get("hosts"), cfg, counts)
    yield "ncm", ncms
    yield "node", bulks
    del bulks
    vpcs = _vpcs(get("networks"), cfg, counts)
    subnet_reqs, subnets = _subnets(get("subnets"), get("allocation_pools"), vpcs, counts)
    yield "vpc", _vpc_requests(vpcs)
    yield "subnet", subnet_reqs
    routers, ifaces = _routers(get("routers"), get("router_interfaces"), vpcs, subnets, counts)
    yield "router", routers
    yield "router_interface", ifaces
    del routers, ifaces

    sg_objs = resources(get("security_groups"), "security_groups")
    defaults = _default_groups(sg_objs)
    port_objs = _port_objects(get("ports"), get("port_ips"), node_names, vpcs, subnets, counts)
    port_groups = _children(get("port_security_groups"), "port_id", "security_group_id",
                            ("security_group_id",), single=True)
    rule_objs = resources(get("security_group_rules"), "security_group_rules")
    probes, needed = _default_sg_probes(port_objs, port_groups, rule_objs, defaults, counts)
    renamed = {g for g, project in defaults.items() if project in needed and project not in probes}
    sg_reqs, posted = _security_groups(sg_objs, defaults, renamed, counts)
    defaults = {g: project for g, project in defaults.items() if g not in renamed}
    yield "security_group", sg_reqs
    del sg_objs, sg_reqs
    captured = set(probes)
    probe_ids = {obj["id"] for obj in probes.values()}
    yield "default_sg_capture", [
        _req("port", "port_manager", "POST", f"/project/{_p(project)}/ports", {"port": obj},
             {default_sg_var(project): "/port/security_groups/0"})
        for project, obj in sorted(probes.items(), key=lambda kv: kv[1]["id"])]
    yield "security_group_rule", _rules(rule_objs, defaults, posted, captured, counts)
    del rule_objs

    eip_ports = {}
    fips = get("floating_ips")
    fip_ports = set(pylist(fips["port_id"])) if len(fips) else set()  # the few a floating IP names
    batch = []
    for i, obj in enumerate(port_objs):
        port_objs[i] = None  # the batch holds it now; written and dropped chunk by chunk
        if obj["id"] in fip_ports:
            eip_ports[obj["id"]] = (obj.get("project_id"),
                                    {ip.get("ip_address") for ip in obj.get("fixed_ips", ())})
        if obj["id"] in probe_ids:
            continue
        _port_security_groups(obj, port_groups.get(obj["id"], []), defaults, posted, captured, counts)
        batch.append(_req("port", "port_manager", "POST",
                          f"/project/{_p(obj.get('project_id'))}/ports", {"port": obj}))
        if len(batch) >= 20_000:
            yield "port", batch
            batch = []
    yield "port", batch
    del port_objs, port_groups
    ranges, eips = _elastic_ips(fips, eip_ports, counts)
    yield "elasticip_range", ranges
    yield "elasticip", eips


def _encode(batch: list, phase: int) -> list:
    """NDJSON lines of one batch, keys sorted, compact, without building a dict per line: the
    wrapper's keys are fixed and its values (service, method, percent-encoded path) plain."""
    tail_phase = b',"phase":' + str(phase).encode()
    out = []
    for resource, service, method, path, body, capture in batch:
        cap = b',"capture":' + dumps(capture) if capture else b""
        out.append(b'{"body":' + dumps(body) + cap + b',"method":"' + method.encode()
                   + b'","path":' + dumps(path) + tail_phase + b',"resource":"'
                   + resource.encode() + b'","service":"' + service.encode() + b'"}')
    return out


def stream_to_dump(lines) -> bytes:
    """NDJSON dump of the stream's resource bodies (what the controller would hold), in stream
    order; action bodies (segment table, NCMs, router interfaces, elastic-IP ranges) are left
    out, elastic IPs are written as Neutron floating IPs. Placeholders stay as text."""
    from pipeline.ingest.sources.neutron import LIST_KEYS, SHOW_KEYS

    out = []
    for line in lines:
        if isinstance(line, (bytes, str)):
            if not line.strip():
                continue
            line = orjson.loads(line)
        body = line.get("body")
        if isinstance(body, dict) and isinstance(body.get("elasticip"), dict):
            body = {"floatingip": _floating_ip(body["elasticip"])}
        if isinstance(body, dict) and body and all(k in SHOW_KEYS or k in LIST_KEYS for k in body):
            out.append(dumps(body))
    return b"\n".join(out) + b"\n"


def _floating_ip(eip: dict) -> dict:
    keys = {"id": "id", "project_id": "project_id", "tenant_id": "tenant_id",
            "elastic_ip": "floating_ip_address", "private_ip": "fixed_ip_address",
            "port_id": "port_id"}
    return {new: eip[old] for old, new in keys.items() if eip.get(old) is not None}


def write(topo, out: Path, params: dict) -> dict:
    counts = Counts()
    by_resource: dict[str, int] = {}
    n = phases = 0
    with open(out / STREAM, "wb") as fh:
        prev = None
        for step, batch in iter_requests(topo.tables, params, counts):
            if not batch:
                continue
            if step != prev:
                phases, prev = phases + 1, step
            fh.write(b"\n".join(_encode(batch, phases)) + b"\n")
            n += len(batch)
            for r in batch:
                by_resource[r[0]] = by_resource.get(r[0], 0) + 1
    (out / K6).write_text(k6_script(params))
    return {"files": [K6, STREAM], "requests": n, "phases": phases,
            "by_resource": dict(sorted(by_resource.items())),
            "left_out": dict(sorted(counts.left_out.items())),
            "changed": dict(sorted(counts.changed.items()))}
