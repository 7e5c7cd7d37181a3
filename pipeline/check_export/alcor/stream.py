"""Reading the stream: the line format (`phase`/`resource` keys, phases in order), captures, and
the parsed lines per endpoint for the rules (the schema checked in the same pass)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import orjson

from pipeline.check_export.alcor.evidence import EVIDENCE
from pipeline.check_export.alcor.schema import DUMMY_BYTES, PLACEHOLDER_BYTES, _schema, endpoint_of
from pipeline.check_export.core import ConsumerReport

STREAM = "alcor_requests.ndjson"
PLACEHOLDER = re.compile(r"\{\{([^{}]+)\}\}")
LINE_KEYS = frozenset({"service", "method", "path", "body", "phase", "resource", "capture"})

# endpoint (schema name) -> the `resource` a line of it must carry
RESOURCE_OF_ENDPOINT = {
    "segments.createDefaultTable": "segment", "ncms.register": "ncm", "nodes.create": "node",
    "nodes.bulk": "node", "vpcs.create": "vpc", "subnets.create": "subnet",
    "security_groups.create": "security_group",
    "security_group_rules.create": "security_group_rule", "routers.create": "router",
    "routers.add_router_interface": "router_interface", "ports.create": "port",
    "elasticip_ranges.create": "elasticip_range", "elasticips.create": "elasticip",
}


def _placeholders(value, found: list) -> list:
    if isinstance(value, str):
        found.extend(PLACEHOLDER.findall(value))
    elif isinstance(value, dict):
        for v in value.values():
            _placeholders(v, found)
    elif isinstance(value, list):
        for v in value:
            _placeholders(v, found)
    return found


@dataclass(slots=True)
class Line:
    n: int  # 1-based line number
    phase: int
    resource: str
    endpoint: str
    path: str
    body: object
    project: str | None  # the path's project, when it has one
    key: str | None = None  # the body's wrapper key (e.g. "port") ...
    obj: dict = field(default_factory=dict)  # ... and the object under it

    def where(self) -> str:
        return f"line {self.n} (phase {self.phase}, {self.endpoint})"


PROJECT_IN_PATH = re.compile(r"^/(?:project|v4)/([^/]+)/")
WRAPPER = {"ncms.register": "ncm_info", "vpcs.create": "network", "subnets.create": "subnet",
           "security_groups.create": "security_group",
           "security_group_rules.create": "security_group_rule", "routers.create": "router",
           "ports.create": "port", "elasticip_ranges.create": "elasticip-range",
           "elasticips.create": "elasticip"}


@dataclass
class Stream:
    lines: list[Line] = field(default_factory=list)
    by_endpoint: dict[str, list[Line]] = field(default_factory=dict)
    captures: dict[str, tuple[Line, str]] = field(default_factory=dict)  # var -> (line, pointer)

    def of(self, endpoint: str) -> list[Line]:
        return self.by_endpoint.get(endpoint, [])


def read_stream(path: Path, report: ConsumerReport, schema_found: list | None = None) -> Stream:
    """Parse and check the line format; the lines that parse, for the rules. With
    `schema_found`, each line is also checked against the schema in the same pass (one parse
    per line), its (rule, example) findings appended in line order."""
    stream = Stream()
    last_phase = 0
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if raw.isspace():  # (not strip(): a copy of every line)
                continue
            try:
                obj = orjson.loads(raw)
            except orjson.JSONDecodeError as e:
                report.violate("STREAM-FORMAT", f"line {n}: not JSON ({e})", EVIDENCE["STREAM-FORMAT"])
                continue
            report.checked += 1
            if not isinstance(obj, dict):
                report.violate("STREAM-FORMAT", f"line {n}: not an object", EVIDENCE["STREAM-FORMAT"])
                continue
            ep = endpoint_of(obj.get("method"), obj.get("path"))
            if schema_found is not None:
                if b"{{" in raw:  # placeholders: the schema sees a fixed UUID in their place
                    schema_found.extend(_schema(n, orjson.loads(PLACEHOLDER_BYTES.sub(DUMMY_BYTES, raw))))
                else:
                    schema_found.extend(_schema(n, obj, ep))
            line = _line(n, obj, ep, report)
            if line is None:
                continue
            if line.phase < last_phase:
                report.violate("STREAM-FORMAT", f"{line.where()}: after phase {last_phase}; "
                               f"lines must be sorted by phase", EVIDENCE["STREAM-FORMAT"])
            last_phase = max(last_phase, line.phase)
            _capture(line, obj.get("capture"), stream, report)
            stream.lines.append(line)
            stream.by_endpoint.setdefault(line.endpoint, []).append(line)
    return stream


def _line(n: int, obj: dict, ep, report: ConsumerReport) -> Line | None:
    bad = sorted(set(obj) - LINE_KEYS) if not obj.keys() <= LINE_KEYS else None
    phase, resource = obj.get("phase"), obj.get("resource")
    phase_ok = isinstance(phase, int) and not isinstance(phase, bool) and phase >= 1
    problem = None
    if bad:
        problem = f"unknown keys {bad}"
    elif not phase_ok:
        problem = f"phase {phase!r} is not an integer >= 1"
    elif not isinstance(resource, str) or not resource:
        problem = "no resource"
    if problem is None and ep is not None and RESOURCE_OF_ENDPOINT.get(ep.name, resource) != resource:
        problem = f"resource {resource!r} for {ep.name} (expected {RESOURCE_OF_ENDPOINT[ep.name]!r})"
    if problem:
        report.violate("STREAM-FORMAT", f"line {n}: {problem}", EVIDENCE["STREAM-FORMAT"])
    if not phase_ok:
        if phase is not None:
            return None  # cannot be placed in the order
        phase = n  # a line without phase: replayed in stream order, so its own phase
    path = obj.get("path") if isinstance(obj.get("path"), str) else ""
    body = obj.get("body")
    key = WRAPPER.get(ep.name) if ep else None
    inner = body.get(key) if key and isinstance(body, dict) else None
    return Line(n, phase, resource if isinstance(resource, str) else "",
                ep.name if ep else f"{obj.get('method')} {path}", path, body,
                _project_in(path), key, inner if isinstance(inner, dict) else {})


@lru_cache(maxsize=1 << 20)  # remembered per path: a project's path repeats per resource
def _project_in(path: str) -> str | None:
    """The path's project, when it has one."""
    m = PROJECT_IN_PATH.match(path)
    return m.group(1) if m else None


def _capture(line: Line, capture, stream: Stream, report: ConsumerReport) -> None:
    if capture is None:
        return
    if not isinstance(capture, dict) or not capture:
        report.violate("STREAM-CAPTURE", f"{line.where()}: capture is not an object",
                       EVIDENCE["STREAM-CAPTURE"])
        return
    for var, pointer in capture.items():
        if not isinstance(pointer, str) or (pointer and not pointer.startswith("/")) \
                or not var or "{" in var or "}" in var:
            report.violate("STREAM-CAPTURE", f"{line.where()}: capture {var!r}: {pointer!r} is not "
                           f"a variable name and a JSON pointer", EVIDENCE["STREAM-CAPTURE"])
        elif var in stream.captures:
            report.violate("STREAM-CAPTURE", f"{line.where()}: {var!r} is captured twice",
                           EVIDENCE["STREAM-CAPTURE"])
        else:
            stream.captures[var] = (line, pointer)
