"""Cross-request rules of elastic-IP ranges and elastic IPs."""

from __future__ import annotations

from pipeline.check_export.alcor.created import _addr, _items, _obj, _violate
from pipeline.check_export.alcor.stream import Stream


def _ranges(s: Stream) -> dict:
    """ip_version -> [lines of elastic-IP ranges], in stream order."""
    out: dict = {}
    for line in s.of("elasticip_ranges.create"):
        out.setdefault(_version(_obj(line, "elasticip-range").get("ip_version")), []).append(line)
    return out


def _version(value):
    """An IP version as Alcor reads it (null -> 4); other types kept apart, as text."""
    return 4 if value is None else value if isinstance(value, int) else repr(value)


def _eip_version(eip: dict):
    return _version(eip.get("elastic_ip_version"))


def eip_range_first(s, c, refs, report) -> None:
    """R-EIP-RANGE-FIRST: a range of the elastic IP's version exists in an earlier phase."""
    ranges = _ranges(s)
    for line in s.of("elasticips.create"):
        version = _eip_version(_obj(line, "elasticip"))
        if not any(r.phase < line.phase for r in ranges.get(version, ())):
            _violate(report, "R-EIP-RANGE-FIRST", line, f"no IPv{version} range before it")


def eip_one_range(s, c, refs, report) -> None:
    """R-EIP-ONE-RANGE: one range per version, holding every requested address."""
    ranges = _ranges(s)
    for version, lines in ranges.items():
        for line in lines[1:]:
            _violate(report, "R-EIP-ONE-RANGE", line, f"second IPv{version} range (only the "
                     f"first is used)")
    for line in s.of("elasticips.create"):
        eip = _obj(line, "elasticip")
        addr = _addr(eip.get("elastic_ip")) if eip.get("elastic_ip") else None
        first = ranges.get(_eip_version(eip), [None])[0]
        if addr is None or first is None:
            continue
        ranges_of_first = _items(_obj(first, "elasticip-range").get("allocation_ranges"))
        if not any(_in_range(addr, r) for r in ranges_of_first):
            _violate(report, "R-EIP-ONE-RANGE", line, f"{addr} outside the first IPv{addr.version} range")


def _in_range(addr, rng) -> bool:
    if not isinstance(rng, dict):
        return False
    lo, hi = _addr(rng.get("start")), _addr(rng.get("end"))
    return lo is not None and hi is not None and lo.version == hi.version == addr.version \
        and lo <= addr <= hi


def eip_range_order(s, c, refs, report) -> None:
    """R-EIP-RANGE-ORDER: each allocation range has start <= end."""
    for lines in _ranges(s).values():
        for line in lines:
            for rng in _items(_obj(line, "elasticip-range").get("allocation_ranges")):
                if not isinstance(rng, dict):
                    continue
                lo, hi = _addr(rng.get("start")), _addr(rng.get("end"))
                if lo is not None and hi is not None and (lo.version != hi.version or lo > hi):
                    _violate(report, "R-EIP-RANGE-ORDER", line, f"range {lo} .. {hi}")


def eip_project(s, c, refs, report) -> None:
    """R-EIP-PROJECT: a non-null body project_id equals the path's project."""
    from urllib.parse import unquote

    for line in s.of("elasticips.create"):
        project = _obj(line, "elasticip").get("project_id")
        if project is not None and line.project is not None and project != unquote(line.project):
            _violate(report, "R-EIP-PROJECT", line, f"project_id {project!r} in path {line.project!r}")


def eip_port(s, c, refs, report) -> None:
    """R-EIP-PORT: an elastic IP's port exists (earlier, same project); private_ip is one of its
    fixed IPs and not used by another elastic IP."""
    used: set = set()
    for line in s.of("elasticips.create"):
        eip = _obj(line, "elasticip")
        port = eip.get("port_id")
        if not port:
            continue
        if not refs.ok(port, c.ports, line, "R-EIP-PORT", "port_id"):
            continue
        made = c.ports[port] if port in c.ports else None
        if made is not None and made.project != line.project:
            _violate(report, "R-EIP-PORT", line, f"port {port!r} is in project {made.project!r}")
        private = eip.get("private_ip")
        if not isinstance(private, str) or made is None:
            continue
        fixed = {ip.get("ip_address") for ip in _items(_obj(made, "port").get("fixed_ips"))
                 if isinstance(ip, dict)}
        if private not in fixed:
            _violate(report, "R-EIP-PORT", line, f"private_ip {private} is not a fixed IP of {port!r}")
        elif (port, private) in used:
            _violate(report, "R-EIP-PORT", line, f"private_ip {private} of {port!r} used twice")
        used.add((port, private))
