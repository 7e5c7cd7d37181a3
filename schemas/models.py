"""One pandera DataFrameSchema per canonical table (schemas/model.py), for single-table checks.

Read this file top to bottom to review what validation enforces on each table alone:
- columns, dtypes, nullability and descriptions come from schemas/model.py (the contract);
  a null in a non-nullable column is reason code `id_missing`;
- every table: its key is unique (`duplicate_id`, later row fails) and ingest coerced every
  field (`ingest_type_error` on `ingest_errors`); a row whose project_id and tenant_id disagree
  fails `project_tenant_conflict`;
- then the per-column and per-table checks below, named after their reason codes
  (schemas/checks/). Cross-table checks (references, parents) live in schemas/relations.py.

Schemas are strict and ordered: validation conforms its input to the model first, so any other
column layout is a bug upstream, not a data problem.
"""

from __future__ import annotations

import pandera.pandas as pa

from schemas.model import TABLES
from schemas import checks as C  # noqa: F401  (registers the custom checks on pa.Check)

Check = pa.Check


def _port_range(kind):
    # Fresh lists: shared objects would appear as YAML anchors (&id001) in the review files.
    return getattr(Check, kind)(port_protocols=list(C.PORT_PROTOCOLS),
                                icmp_protocols=list(C.ICMP_PROTOCOLS), ignore_na=False)


# --- per-column checks (column checks see non-null values only) ------------------------------

COLUMN_CHECKS: dict[str, dict[str, list[pa.Check]]] = {
    "hosts": {
        "local_ip": [Check.ip_invalid()],
        "mac_address": [Check.mac_format(), Check.mac_unusable()],
    },
    "networks": {
        "mtu": [Check.mtu_range(min_value=C.MTU_RANGE[0], max_value=C.MTU_RANGE[1])],
        "cidr": [Check.cidr_invalid(require_prefix=True), Check.cidr_host_bits()],
    },
    "subnets": {
        "cidr": [Check.cidr_invalid(require_prefix=True), Check.cidr_host_bits()],
        "gateway_ip": [Check.ip_invalid()],
    },
    "ports": {
        "mac_address": [Check.mac_format(), Check.mac_unusable()],
        # A warning only: new owners appear with new OpenStack services.
        "device_owner": [Check.device_owner_unknown(known=C.KNOWN_DEVICE_OWNERS,
                                                    prefixes=C.DEVICE_OWNER_PREFIX_LIST,
                                                    raise_warning=True)],
    },
    "port_ips": {
        "ip_address": [Check.ip_invalid()],
    },
    "security_group_rules": {
        "direction": [Check.direction_invalid(allowed=C.DIRECTIONS)],
        "ethertype": [Check.ethertype_invalid(allowed=C.ETHERTYPES)],
        "protocol": [Check.protocol_invalid()],
        # Neutron accepts a bare address as a /32 (/128) remote prefix.
        "remote_ip_prefix": [Check.cidr_invalid(require_prefix=False)],
    },
    "router_interfaces": {
        "ip_address": [Check.ip_invalid()],
    },
    "floating_ips": {
        "floating_ip_address": [Check.ip_invalid()],
        "fixed_ip_address": [Check.ip_invalid()],
    },
}

# --- per-table checks (see the whole row; ignore_na=False: they handle nulls themselves) ------

TABLE_CHECKS: dict[str, list[pa.Check]] = {
    "hosts": [Check.host_name_duplicate(ignore_na=False)],
    "networks": [Check.segmentation_id_range(ranges=C.SEGMENTATION_RANGES,
                                             unsegmented=list(C.UNSEGMENTED_TYPES),
                                             ignore_na=False)],
    "subnets": [
        Check.ip_version_mismatch(ignore_na=False),
        Check.gateway_family_mismatch(ignore_na=False),
        # a warning only: Neutron accepts an off-subnet gateway of the same family
        Check.gateway_outside_subnet(ignore_na=False, raise_warning=True),
        Check.gateway_reserved(ignore_na=False),
        Check.subnet_overlap(ignore_na=False),
    ],
    "allocation_pools": [Check.pool_invalid(ignore_na=False)],
    "subnetpools": [Check.subnetpool_prefix_invalid(ignore_na=False),
                    Check.prefixlen_range(ignore_na=False)],
    "ports": [Check.mac_duplicate_in_network(column="mac_address", scope="network_id",
                                             ignore_na=False)],
    "port_ips": [Check.ip_duplicate_in_subnet(ignore_na=False)],
    "security_group_rules": [
        Check.ethertype_prefix_mismatch(ignore_na=False),
        _port_range("port_range_invalid"),
        _port_range("port_range_protocol"),
    ],
}


def build_schema(name: str) -> pa.DataFrameSchema:
    t = TABLES[name]
    col_checks = COLUMN_CHECKS.get(name, {})
    unknown = set(col_checks) - set(t.column_names)
    if unknown:  # a typo here would silently drop a check
        raise KeyError(f"{name}: checks for unknown columns {sorted(unknown)}")
    columns = {}
    for c in t.columns:
        checks = list(col_checks.get(c.name, []))
        if c.name == "ingest_errors":
            checks.append(Check.ingest_type_error())
            if "project_id" in t.column_names and t.has_extra:
                checks.append(Check.project_tenant_conflict())
        columns[c.name] = pa.Column(c.dtype, checks=checks or None, nullable=c.nullable,
                                    description=c.doc)
    table_checks = [Check.duplicate_id(key=list(t.key), ignore_na=False)]
    if name in C.REQUIRED_FIELDS:
        table_checks.append(Check.required_missing(columns=list(C.REQUIRED_FIELDS[name]),
                                                   ignore_na=False))
    table_checks += TABLE_CHECKS.get(name, [])
    return pa.DataFrameSchema(columns, checks=table_checks, name=name, description=t.doc,
                              strict=True, ordered=True)


SCHEMAS: dict[str, pa.DataFrameSchema] = {name: build_schema(name) for name in TABLES}
