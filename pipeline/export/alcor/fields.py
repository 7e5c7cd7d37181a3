"""Canonical rows as Alcor wire-format objects: the (column, wire key) of every table, child
lists grouped by parent, and the request tuple with its percent-encoded path segments."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc


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


def resources(df, table: str, order=None) -> list[dict]:
    """Rows of a canonical table as wire-format objects (nulls left out), in row order or in
    `order` (row positions)."""
    fields = FIELDS[table]
    keys = [k for _, k, _ in fields]
    cols = []
    for c, _, js in fields:
        vals = _column(df, c, order)
        cache: dict = {}
        cols.append([None if v is None else _json_value(v, cache) for v in vals] if js else vals)
    return [{k: v for k, v in zip(keys, row) if v is not None} for row in zip(*cols)]


def _column(df, column: str, order=None) -> list:
    """A column as a Python list (nulls as None), in row order or in `order`. The values are
    taken in order before they become Python objects, so neighbours in the list are neighbours
    in memory (reading them in another order costs as much as the rest of the export)."""
    series = df[column]
    if order is not None and not isinstance(series.dtype, np.dtype):
        try:
            return pa.array(series).take(order).to_pylist()
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    values = series.to_numpy(dtype=object, na_value=None)
    return (values if order is None else values[order]).tolist()


def row_order(df, keys=("id",)):
    """Row positions that sort `df` by `keys` (ascending, nulls last, ties in row order), or
    None when the rows are in that order already. Arrow sorts strings by UTF-8 bytes, which is
    Python's code-point order."""
    try:
        table = pa.table({f"k{i}": pa.array(df[k]) for i, k in enumerate(keys)})
        order = pc.sort_indices(table, sort_keys=[(f"k{i}", "ascending") for i in range(len(keys))])
        order = order.to_numpy()
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        # a column Arrow cannot sort (mixed Python objects): pandas decides, as it always did
        order = (df[list(keys)].reset_index(drop=True).assign(_row=np.arange(len(df)))
                 .sort_values([*keys, "_row"], kind="stable").index.to_numpy())
    return None if bool(np.all(order[1:] > order[:-1])) else order


def _sorted(df, by=("id",)):
    order = row_order(df, by) if len(df) else None
    return df if order is None else df.take(order)


def _children(df, parent: str, order: str, fields: tuple[str, ...], single: bool = False) -> dict:
    """{parent id: [child objects ({field: value}, nulls left out) in `order`]}; with `single`,
    the children are the bare values of the one field. Ties in `order` keep row order."""
    out: dict = {}
    if df is None or len(df) == 0:
        return out
    # one vectorised sort (parent, order, row); then runs of equal parents, sliced
    rows = row_order(df, (parent, order))
    parents = _column(df, parent, rows)
    columns = [_column(df, c, rows) for c in fields]
    if single:
        children = columns[0]
    else:
        children = [dict(zip(fields, values)) for values in zip(*columns)]
        for name, column in zip(fields, columns):
            if any(v is None for v in column):
                for child, v in zip(children, column):
                    if v is None:
                        del child[name]
    starts = [0] + [i for i in range(1, len(parents)) if parents[i] != parents[i - 1]]
    for start, stop in zip(starts, starts[1:] + [len(parents)]):
        out[parents[start]] = children[start:stop]
    return out


@lru_cache(maxsize=65536)
def _p(v) -> str:
    """A path segment from the data, percent-encoded (ids repeat: cached)."""
    return quote(str(v), safe="") if v is not None and v != "" else "none"


def default_sg_var(project) -> str:
    """Capture variable holding Alcor's id of a project's default security group."""
    return "default_sg." + _p(project)


def placeholder(var: str) -> str:
    return "{{" + var + "}}"


def _req(resource, service, method, path, body, capture=None) -> tuple:
    return (resource, service, method, path, body, capture)
