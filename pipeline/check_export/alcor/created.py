"""What the stream creates (ids per kind, each with its creating line), references to it, and
the helpers the rules read values through."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from functools import lru_cache

from pipeline.check_export.alcor.evidence import EVIDENCE
from pipeline.check_export.alcor.stream import PLACEHOLDER, Line, Stream
from pipeline.check_export.core import ConsumerReport


def _obj(line: Line, key: str) -> dict:
    """The object under `key` in the line's body ({} when there is none)."""
    if line.key == key:
        return line.obj
    body = line.body if isinstance(line.body, dict) else {}
    inner = body.get(key)
    return inner if isinstance(inner, dict) else {}


@dataclass
class Created:
    """Ids created by the stream, per kind: id -> the creating line."""
    vpcs: dict = field(default_factory=dict)
    subnets: dict = field(default_factory=dict)
    routers: dict = field(default_factory=dict)
    groups: dict = field(default_factory=dict)
    default_groups: dict = field(default_factory=dict)  # groups POSTed with name default
    ports: dict = field(default_factory=dict)
    ncms: dict = field(default_factory=dict)
    nodes: dict = field(default_factory=dict)  # node_name -> line


def created(stream: Stream) -> Created:
    c = Created()
    for line in stream.of("vpcs.create"):
        c.vpcs.setdefault(_key(_obj(line, "network").get("id")), line)
    for line in stream.of("subnets.create"):
        c.subnets.setdefault(_key(_obj(line, "subnet").get("id")), line)
    for line in stream.of("routers.create"):
        c.routers.setdefault(_key(_obj(line, "router").get("id")), line)
    for line in stream.of("security_groups.create"):
        group = _obj(line, "security_group")
        target = c.default_groups if group.get("name") == "default" else c.groups
        target.setdefault(_key(group.get("id")), line)
    for line in stream.of("ports.create"):
        c.ports.setdefault(_key(_obj(line, "port").get("id")), line)
    for line in stream.of("ncms.register"):
        c.ncms.setdefault(_key(_obj(line, "ncm_info").get("id")), line)
    for line in stream.of("nodes.bulk") + stream.of("nodes.create"):
        for host in _hosts(line):
            if _key(host.get("node_name")):
                c.nodes.setdefault(host["node_name"], line)
    for table in (c.vpcs, c.subnets, c.routers, c.groups, c.default_groups, c.ports, c.ncms):
        table.pop(None, None)
    return c


def _hosts(line: Line) -> list[dict]:
    body = line.body if isinstance(line.body, dict) else {}
    hosts = body.get("host_infos") if "host_infos" in body else [body.get("host_info")]
    return [h for h in _items(hosts) if isinstance(h, dict)]


class Refs:
    """Resolves a reference from a line: to an id some earlier line created, or to a captured
    `{{variable}}` (which stands for what its capturing line created)."""

    def __init__(self, stream: Stream, report: ConsumerReport):
        self.stream, self.report = stream, report

    def ok(self, value, table: dict, line: Line, rule: str, what: str) -> bool:
        """True when `value` was created before `line`'s phase; else one violation (of `rule`
        when it does not exist at all, R-PHASE-ORDER when it comes too late)."""
        source = table.get(value) if isinstance(value, str) else None
        if source is not None and source.phase < line.phase:
            return True  # the common case, first
        if isinstance(value, str) and "{{" in value:
            names = PLACEHOLDER.findall(value)
            maker = [self.stream.captures[v][0] for v in names if v in self.stream.captures]
            if len(maker) < len(names) or not names:
                self.report.violate("STREAM-CAPTURE", f"{line.where()}: {what} {value!r} uses a "
                                    f"variable no line captures", EVIDENCE["STREAM-CAPTURE"])
                return False
            source = max(maker, key=lambda m: m.phase)
        else:
            if source is None:
                self.report.violate(rule, f"{line.where()}: {what} {value!r} is never created",
                                    EVIDENCE.get(rule, ""))
                return False
        if source.phase >= line.phase:
            self.report.violate("R-PHASE-ORDER", f"{line.where()}: {what} {value!r} is created by "
                                f"{source.where()}, not in an earlier phase", EVIDENCE["R-PHASE-ORDER"])
            return False
        return True


def _net(cidr):
    return _parse_net(cidr) if isinstance(cidr, str) else None


def _addr(text):
    return _parse_addr(text) if isinstance(text, str) else None


@lru_cache(maxsize=None)
def _parse_net(cidr: str):
    try:
        return ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=None)
def _parse_addr(text: str):
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


# Values read from the stream may have any JSON type (the schema reports wrong ones): the rules
# look at them through these, so a malformed line is a violation, never a crash.
def _key(value):
    """An id usable as a dict key (strings only), else None."""
    return value if isinstance(value, str) else None


def _items(value) -> list:
    return value if isinstance(value, list) else []


def _violate(report: ConsumerReport, rule: str, line: Line, text: str) -> None:
    report.violate(rule, f"{line.where()}: {text}", EVIDENCE[rule])
