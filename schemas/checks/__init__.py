"""Custom pandera checks, registered so they survive `schema.to_yaml()` / `from_yaml()`.

Each registered check is NAMED AFTER THE REASON CODE it produces when it fails (the codes in
.notes/CONTEXT.md), so a quarantined row's `check` column, the review YAML and this module
use the same words. A check returns True for rows that pass. Column checks receive non-null
values only (pandera's ignore_na); table checks see the whole frame and handle nulls
themselves (ignore_na=False saves pandera an all-columns null scan on big tables).

Every check is vectorized (numpy / pyarrow kernels, see schemas.netaddr): validation must
handle a million ports in seconds. Python-level loops only touch failing rows (messages) or
small groups (overlapping subnets of one network).

Alongside each check: DOCS (one line for the data dictionary) and MESSAGES (builds the
human-readable `reason` of failing rows).

Package layout: `registry.py` (register, DOCS, READS, MESSAGES, WARNING_CHECKS, shared
helpers), `vocab.py` (vocabularies and ranges), `columns.py` (column checks), then the table
checks by concern: `keys.py` (keys and duplicates), `subnets.py`, `pools.py` (allocation and
subnet pools), `networks.py`, `rules.py` (security group rules), `required.py`; `codes.py`
(codes produced elsewhere, `reason_code`, `message`). Every check is importable from here by
its name (validation looks warning checks up with getattr).
"""

from __future__ import annotations

# Registration order (pandera's registry, DOCS) follows these imports: column checks first.
from schemas.checks.registry import DOCS, MESSAGES, READS, WARNING_CHECKS
from schemas.checks.vocab import (DEVICE_OWNER_PREFIX_LIST, DIRECTIONS, ETHERTYPES, ICMP_PROTOCOLS,
                                  KNOWN_DEVICE_OWNERS, MTU_RANGE, PORT_PROTOCOLS, PROTOCOL_NAMES,
                                  REQUIRED_FIELDS, RESERVED_MACS, SEGMENTATION_RANGES,
                                  UNSEGMENTED_TYPES)
from schemas.checks.columns import (cidr_host_bits, cidr_invalid, device_owner_unknown,
                                    direction_invalid, ethertype_invalid, ingest_type_error,
                                    ip_invalid, mac_format, mac_unusable, mtu_range,
                                    project_tenant_conflict, protocol_invalid, protocol_ok)
from schemas.checks.keys import (duplicate_id, first_holders, host_name_duplicate,
                                 ip_duplicate_in_subnet, ip_keys, mac_duplicate_in_network)
from schemas.checks.subnets import (gateway_family_mismatch, gateway_outside_subnet, gateway_reserved,
                                    ip_version_mismatch, overlap_partners, reserved_gateway,
                                    subnet_overlap)
from schemas.checks.pools import (pool_invalid, pool_problem, prefixlen_bad, prefixlen_range,
                                  subnetpool_prefix_invalid, subnetpool_prefix_problems)
from schemas.checks.networks import segmentation_id_range
from schemas.checks.rules import (ethertype_prefix_mismatch, port_range_bad, port_range_invalid,
                                  port_range_protocol, port_range_wrong_protocol)
from schemas.checks.required import required_missing
from schemas.checks.codes import BUILTIN_CODES, OTHER_DOCS, message, reason_code

__all__ = ["BUILTIN_CODES", "DEVICE_OWNER_PREFIX_LIST", "DIRECTIONS", "DOCS", "ETHERTYPES",
           "ICMP_PROTOCOLS", "KNOWN_DEVICE_OWNERS", "MESSAGES", "MTU_RANGE", "OTHER_DOCS",
           "PORT_PROTOCOLS", "PROTOCOL_NAMES", "READS", "REQUIRED_FIELDS", "RESERVED_MACS",
           "SEGMENTATION_RANGES", "UNSEGMENTED_TYPES", "WARNING_CHECKS", "cidr_host_bits",
           "cidr_invalid", "device_owner_unknown", "direction_invalid", "duplicate_id",
           "ethertype_invalid", "ethertype_prefix_mismatch", "first_holders",
           "gateway_family_mismatch", "gateway_outside_subnet", "gateway_reserved",
           "host_name_duplicate", "ingest_type_error", "ip_duplicate_in_subnet", "ip_invalid",
           "ip_keys", "ip_version_mismatch", "mac_duplicate_in_network", "mac_format",
           "mac_unusable", "message", "mtu_range", "overlap_partners", "pool_invalid",
           "pool_problem", "port_range_bad", "port_range_invalid", "port_range_protocol",
           "port_range_wrong_protocol", "prefixlen_bad", "prefixlen_range",
           "project_tenant_conflict", "protocol_invalid", "protocol_ok", "reason_code",
           "required_missing", "reserved_gateway", "segmentation_id_range", "subnet_overlap",
           "subnetpool_prefix_invalid", "subnetpool_prefix_problems"]
