"""alcor: the request stream (`alcor_requests.ndjson`) checked against Alcor's own contract.

Two layers, both from futurewei-cloud/alcor's code:
- every line against the vendored JSON Schema (`schemas/consumers/alcor.requests.schema.json`,
  Draft 2020-12): the endpoint is picked from method + path, then the line is validated against
  that endpoint's branch of the schema (compiled once per endpoint with jsonschema-rs; a line
  that fails is re-validated with jsonschema to name the failing constraint). The rule id is the
  `[TAG]` in the failing subschema's `$comment` (e.g. `A-PORT-VIF`), `A-SCHEMA` when none;
- the cross-request rules of `alcor-rules.md` (ids `R-...`), one function per rule in the
  `rules_*` modules (by resource), each with the Alcor file and line it comes from
  (`evidence.EVIDENCE`), plus the stream format itself:
  `phase`/`resource` keys, phases in order, captures (`STREAM-FORMAT`, `STREAM-CAPTURE`) and
  `R-PHASE-ORDER`: a request may only reference what an earlier phase created.

Captures: a line's `capture` {variable: JSON pointer} makes `{{variable}}` in later lines a
reference to what the capturing line's response holds (for the default-group capture, the
project's default security group). For the schema, placeholders are replaced by a fixed UUID.

Modules: `evidence` (rule sources), `schema` (per-endpoint validators), `stream` (reading the
lines and captures), `created` (what the stream creates, references to it), `rules_*` (the
cross-request rules); `check` below runs them in `RULES` order.
"""

from __future__ import annotations

from pathlib import Path

# the package's names as callers and tests import them (some only re-exported here)
from pipeline.check_export.alcor.created import Created, Refs, created
from pipeline.check_export.alcor.evidence import EVIDENCE, INFORMATIONAL
from pipeline.check_export.alcor.rules_elastic_ips import (
    eip_one_range, eip_port, eip_project, eip_range_first, eip_range_order)
from pipeline.check_export.alcor.rules_networks import (
    gw_port, ipv6, subnet_bulk, subnet_gw_range, subnet_inside, subnet_vpc, vpc_flat)
from pipeline.check_export.alcor.rules_nodes import (
    ncm_first, ncm_none, ncm_one_per_bulk, node_name, node_name_url, node_unbound, seg_once)
from pipeline.check_export.alcor.rules_ports import port_fixedip, port_sg, port_vif
from pipeline.check_export.alcor.rules_routers import (
    rif_attached, rif_by_subnet, rif_order, router_one_vpc, router_routes)
from pipeline.check_export.alcor.rules_security import (
    sg_auto_rules, sg_default_export, sg_default_owned, sgr_minmax, sgr_order)
from pipeline.check_export.alcor.rules_stream import phase_order, svc_neutron
from pipeline.check_export.alcor.schema import SCHEMA, Endpoint, endpoint_of, endpoints, schema_violations
from pipeline.check_export.alcor.stream import STREAM, Line, Stream, read_stream
from pipeline.check_export.core import ConsumerReport, free_at_exit

# The report lists rules in this order.
RULES = (seg_once, ncm_first, ncm_none, ncm_one_per_bulk, node_name, node_name_url, node_unbound,
         ipv6, gw_port, subnet_vpc, subnet_inside, subnet_gw_range, subnet_bulk, vpc_flat,
         rif_by_subnet, rif_order, rif_attached, router_one_vpc, router_routes,
         sg_default_export, sg_default_owned, sg_auto_rules, sgr_order, sgr_minmax, port_sg,
         port_fixedip, port_vif, eip_range_first, eip_one_range, eip_range_order, eip_project,
         eip_port, svc_neutron, phase_order)


def check(folder: Path) -> ConsumerReport:
    report = ConsumerReport(consumer="alcor", unit="requests")
    path = Path(folder) / STREAM
    if not path.is_file():
        report.violate("STREAM-FORMAT", f"{path}: no request stream", EVIDENCE["STREAM-FORMAT"])
        return report
    from pipeline.util import no_gc

    with no_gc():  # hundreds of thousands of decoded lines, no cycles among them
        found: list = []
        stream = read_stream(path, report, found)
        made, refs = created(stream), Refs(stream, report)
        for rule in RULES:
            rule(stream, made, refs, report)
        # freed (or parked, in a forked checker) before the collector is back: else its first
        # pass scans every decoded line (~1.5 s on the 10k-host stream, measured)
        free_at_exit(stream, made, refs)
        del stream, made, refs
    for rule, example in found:
        report.violate(rule, example, "schemas/consumers/" + SCHEMA)
    return report
