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

from typing import Any

import pandas as pd

# The package's modules, re-exported: callers import every name from `pipeline.features`.
from pipeline.features.common import (ANY_PROTOCOLS, HIGH_RANGE_MIN_WIDTH, ICMP_PROTOCOLS,
                                      NODEPORT, OPENSTACK_OUI, PORT_PROTOCOLS, PORT_STATUSES,
                                      VIF_TYPES, VNIC_TYPES, WELL_KNOWN_PORTS, WORLD_PREFIXES,
                                      _HEXISH_RE, _UUID_RE, _finish, _flag, _ip_ints, _json_ips,
                                      _json_len, _safe_div, _subnet_geometry, _tri, project_ids)
from pipeline.features.docs import (DEFAULT_BUCKETS, FEATURE_DOCS, LABEL_SOURCE_READS, SOURCES,
                                    _FEATURE_SOURCES, _OWNER_COUNTS, _PORT_DOCS, _PROJECT_DOCS,
                                    _VM_COLUMNS, _buckets, _name_docs, feature_docs,
                                    feature_sources)
from pipeline.features.ports import port_features
from pipeline.features.projects import (_rule_profile, project_features)
from pipeline.features.tokens import (_token_counts, name_tokens, token_bucket)

BUILDERS = {"projects": project_features, "ports": port_features}


def build_features(tables: dict[str, pd.DataFrame], params: dict[str, Any] | None = None
                   ) -> dict[str, pd.DataFrame]:
    """Every feature table, by entity name (the file stem under data/features/): the stage's
    entry point."""
    return {name: fn(tables, params) for name, fn in BUILDERS.items()}


def run(params: dict[str, Any], validated, out) -> dict[str, pd.DataFrame]:
    """The features stage: read the validated tables, build every feature table, write them
    under `out`; the tables written."""
    from pipeline import io

    feats = build_features(io.read_tables(validated), params)
    io.write_tables(feats, out)
    return feats
