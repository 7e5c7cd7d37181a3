"""Rules of the stream as a whole: the service paths, and references that must come from an
earlier phase (R-PHASE-ORDER) or a captured variable."""

from __future__ import annotations

from pipeline.check_export.alcor.created import _obj, _violate
from pipeline.check_export.alcor.evidence import EVIDENCE
from pipeline.check_export.alcor.stream import _placeholders


def svc_neutron(s, c, refs, report) -> None:
    """R-SVC-NEUTRON: no Neutron /v2.0 path (only behind the API gateway with Keystone)."""
    for line in s.lines:
        if line.path.startswith("/v2.0/") or line.path == "/v2.0":
            _violate(report, "R-SVC-NEUTRON", line, f"Neutron path {line.path}")


def phase_order(s, c, refs, report) -> None:
    """R-PHASE-ORDER: references of ports to their VPC, and of VPC-scoped lines, come from
    earlier phases (the other references are checked by their own rules)."""
    for line in s.of("ports.create"):
        refs.ok(_obj(line, "port").get("network_id"), c.vpcs, line, "R-PHASE-ORDER", "network_id")
    for line in s.lines:
        for var in _placeholders(line.path, []) if "{{" in line.path else ():
            if var not in s.captures:
                report.violate("STREAM-CAPTURE", f"{line.where()}: path uses {var!r}, never captured",
                               EVIDENCE["STREAM-CAPTURE"])
