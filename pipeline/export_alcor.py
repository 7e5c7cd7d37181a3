"""Alcor controller API request stream (NDJSON) and a K6 script that replays it.

Output (folder `alcor/`):
- alcor_requests.ndjson: one request per line, `{"body", "method", "path", "service"}`, keys
  sorted, compact. Order = Alcor's setup order, in phases:
    1 segment     POST /segments/createDefaultTable                      (vpc_manager)
    2 node        POST /nodes/bulk {"host_infos": [...]}, NODES_PER_BULK hosts a request
    3 vpc         POST /project/{p}/vpcs {"network": ...}
    4 subnet      POST /project/{p}/subnets {"subnet": ...}
    5 security_group       POST /project/{p}/security-groups {"security_group": ...}
    6 security_group_rule  POST /project/{p}/security-group-rules {"security_group_rule": ...}
    7 router      POST /project/{p}/routers {"router": ...}
    8 port        POST /project/{p}/ports, the router-interface ports first
    9 router_interface     PUT /project/{p}/routers/{r}/add_router_interface {"port_id": ...}
   10 port        POST /project/{p}/ports, every other port
   11 floatingip  POST /v2.0/floatingips {"floatingip": ...} (Neutron-compatible endpoint)
  Within a phase requests are sorted by id. Path segments taken from the data are
  percent-encoded. A resource without a project goes under project `none`.
- alcor_k6.js: replays the stream phase by phase (pipeline/export_alcor_k6.py).

Round trip: every POST body except the segment-table call is a resource document in the
Neutron/Alcor wire format that dcnet's own ingest reads (`{"network": {...}}`,
`{"host_infos": [...]}`, ...), carrying every model column under its wire name;
`stream_to_dump` writes those bodies as one NDJSON dump, and ingesting it gives back the
exported tables (compared on the model columns; provenance and `extra` are not exported).
Router interfaces are not sent as a table: ingest derives them from the interface ports, as it
does for any dump. List positions (ip_index, pool_index) are renumbered 0.. in list order.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import orjson

from pipeline.export import dumps
from pipeline.export_alcor_k6 import k6_script
from pipeline.model import ROUTER_INTERFACE_OWNERS, empty_frame
from pipeline.topology import pylist

NEEDS_FABRIC = False  # the controller API knows no physical fabric
STREAM = "alcor_requests.ndjson"
K6 = "alcor_k6.js"
NODES_PER_BULK = 1000

SERVICES = {  # service -> default base URL (Alcor's default per-service ports)
    "vpc_manager": "http://localhost:9001",
    "subnet_manager": "http://localhost:9002",
    "route_manager": "http://localhost:9003",
    "port_manager": "http://localhost:9006",
    "node_manager": "http://localhost:9007",
    "security_group_manager": "http://localhost:9008",
    "neutron": "http://localhost:9696",
}

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
    the children are the bare values of the one field."""
    out: dict = {}
    if df is None or len(df) == 0:
        return out
    groups: dict = {}
    for pid, key, *vals in zip(pylist(df[parent]), pylist(df[order]), *(pylist(df[c]) for c in fields)):
        child = vals[0] if single else {k: v for k, v in zip(fields, vals) if v is not None}
        groups.setdefault(pid, []).append((key, child))
    for pid, lst in groups.items():  # small lists: sorting each beats sorting the table
        if len(lst) > 1:
            lst.sort(key=lambda kv: kv[0])
        out[pid] = [c for _, c in lst]
    return out


@lru_cache(maxsize=65536)
def _p(v) -> str:
    """A path segment from the data, percent-encoded (ids repeat: cached)."""
    return quote(str(v), safe="") if v is not None else "none"


def build_stream(tables: dict, params: dict | None = None) -> list[dict]:
    """The ordered request list for the canonical tables (see the module doc), as dicts
    {service, method, path, body}."""
    return [{"service": sv, "method": m, "path": p, "body": b}
            for sv, m, p, b in build_requests(tables, params)]


def build_requests(tables: dict, params: dict | None = None) -> list[tuple]:
    """The ordered requests as (service, method, path, body) tuples."""
    return [r for batch in iter_requests(tables, params) for r in batch]


def iter_requests(tables: dict, params: dict | None = None):
    """The ordered requests, one batch (list of (service, method, path, body)) per phase, so a
    writer can serialise and drop each phase before the next is built."""
    params = params or {}
    per_bulk = int((params.get("alcor") or {}).get("nodes_per_request", NODES_PER_BULK))
    reqs: list[tuple] = []

    def add(service, method, path, body):
        reqs.append((service, method, path, body))

    def flush():
        nonlocal reqs
        batch, reqs = reqs, []
        return batch

    def get(name):
        df = tables.get(name)
        return df if df is not None else empty_frame(name)

    add("vpc_manager", "POST", "/segments/createDefaultTable", {})
    yield flush()

    hosts = _sorted(get("hosts"))
    infos = resources(hosts, "hosts")
    for i in range(0, len(infos), per_bulk):
        add("node_manager", "POST", "/nodes/bulk", {"host_infos": infos[i:i + per_bulk]})
    del infos
    yield flush()

    nets = _sorted(get("networks"))
    for obj in resources(nets, "networks"):
        add("vpc_manager", "POST", f"/project/{_p(obj.get('project_id'))}/vpcs", {"network": obj})
    yield flush()

    subnets = _sorted(get("subnets"))
    pools = _children(get("subnet_pools"), "subnet_id", "pool_index", ("start", "end"))
    for obj in resources(subnets, "subnets"):
        if obj["id"] in pools:
            obj["allocation_pools"] = pools[obj["id"]]
        add("subnet_manager", "POST", f"/project/{_p(obj.get('project_id'))}/subnets",
            {"subnet": obj})
    del pools
    yield flush()

    for obj in resources(_sorted(get("security_groups")), "security_groups"):
        add("security_group_manager", "POST",
            f"/project/{_p(obj.get('project_id'))}/security-groups", {"security_group": obj})
    for obj in resources(_sorted(get("security_group_rules")), "security_group_rules"):
        add("security_group_manager", "POST",
            f"/project/{_p(obj.get('project_id'))}/security-group-rules",
            {"security_group_rule": obj})
    yield flush()

    routers = _sorted(get("routers"))
    router_project = dict(zip(pylist(routers["id"]), pylist(routers["project_id"])))
    gw_cols = [pylist(routers[c]) for c in ("gateway_network_id", "enable_snat", "external_fixed_ips")]
    for i, obj in enumerate(resources(routers, "routers")):
        gw = {}
        for key, col, js in (("network_id", 0, 0), ("enable_snat", 1, 0),
                             ("external_fixed_ips", 2, 1)):
            v = gw_cols[col][i]
            if v is not None:
                gw[key] = _json_value(v) if js else v
        if gw:
            obj["external_gateway_info"] = gw
        add("route_manager", "POST", f"/project/{_p(obj.get('project_id'))}/routers",
            {"router": obj})
    yield flush()

    ports = _sorted(get("ports"))
    fips = _children(get("port_ips"), "port_id", "ip_index", ("subnet_id", "ip_address"))
    sgs = _children(get("port_security_groups"), "port_id", "security_group_id",
                    ("security_group_id",), single=True)
    port_objs = resources(ports, "ports")
    for obj in port_objs:
        if obj["id"] in fips:
            obj["fixed_ips"] = fips[obj["id"]]
        if obj["id"] in sgs:
            obj["security_groups"] = sgs[obj["id"]]
    is_iface = [o.get("device_owner") in ROUTER_INTERFACE_OWNERS for o in port_objs]
    for obj, iface in zip(port_objs, is_iface):
        if iface:
            add("port_manager", "POST", f"/project/{_p(obj.get('project_id'))}/ports", {"port": obj})
    for obj, iface in zip(port_objs, is_iface):
        rid = obj.get("device_id")
        if iface and rid in router_project:
            add("route_manager", "PUT",
                f"/project/{_p(router_project[rid])}/routers/{_p(rid)}/add_router_interface",
                {"port_id": obj["id"]})
    yield flush()
    del fips, sgs
    for i, iface in enumerate(is_iface):
        if not iface:
            obj = port_objs[i]
            add("port_manager", "POST", f"/project/{_p(obj.get('project_id'))}/ports", {"port": obj})
        port_objs[i] = None  # the batch holds it now; written and dropped chunk by chunk
        if len(reqs) >= 20_000:
            yield flush()
    del port_objs
    yield flush()

    for obj in resources(_sorted(get("floating_ips")), "floating_ips"):
        add("neutron", "POST", "/v2.0/floatingips", {"floatingip": obj})
    yield flush()


def stream_bytes(reqs: list) -> bytes:
    """NDJSON, one request per line, keys sorted (body, method, path, service), compact.
    Request tuples are written without building a dict per line: the wrapper's keys are fixed
    and its values (service, method, percent-encoded path) are plain ASCII."""
    out = []
    for r in reqs:
        if isinstance(r, dict):
            out.append(dumps(r))
            continue
        service, method, path, body = r
        out.append(b'{"body":' + dumps(body) + b',"method":' + dumps(method) + b',"path":'
                   + dumps(path) + b',"service":' + dumps(service) + b"}")
    out.append(b"")
    return b"\n".join(out)


def stream_to_dump(lines) -> bytes:
    """NDJSON dump of the stream's resource bodies (what the controller would hold), in stream
    order; action bodies (the segment-table call, add_router_interface) are left out."""
    from pipeline.formats import LIST_KEYS, SHOW_KEYS

    out = []
    for line in lines:
        if isinstance(line, (bytes, str)):
            if not line.strip():
                continue
            line = orjson.loads(line)
        body = line.get("body")
        if isinstance(body, dict) and body and all(k in SHOW_KEYS or k in LIST_KEYS for k in body):
            out.append(dumps(body))
    return b"\n".join(out) + b"\n"


def write(topo, out: Path, params: dict) -> dict:
    by_path: dict[str, int] = {}
    n = 0
    with open(out / STREAM, "wb") as fh:
        for batch in iter_requests(topo.tables, params):
            fh.write(stream_bytes(batch))
            n += len(batch)
            for _, method, path, _ in batch:
                kind = method + " " + path.rsplit("/", 1)[-1]
                by_path[kind] = by_path.get(kind, 0) + 1
    (out / K6).write_text(k6_script(params))
    return {"files": [K6, STREAM], "requests": n, "by_endpoint": dict(sorted(by_path.items()))}
