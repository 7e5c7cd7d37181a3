"""Cross-request rules of the segment table, NCMs and compute nodes."""

from __future__ import annotations

import re

from pipeline.check_export.alcor.created import Created, Refs, _hosts, _key, _obj, _violate
from pipeline.check_export.alcor.stream import Stream
from pipeline.check_export.core import ConsumerReport

URL_UNSAFE = re.compile(r"[&=#+%{}\s]")


def seg_once(s: Stream, c: Created, refs: Refs, report: ConsumerReport) -> None:
    """R-SEG-ONCE: createDefaultTable at most once, alone in the first phase."""
    segs = s.of("segments.createDefaultTable")
    for line in segs[1:]:
        _violate(report, "R-SEG-ONCE", line, "createDefaultTable sent again")
    if segs:
        first = segs[0]
        if any(line.phase <= first.phase and line is not first for line in s.lines):
            _violate(report, "R-SEG-ONCE", first, "not alone in the first phase")


def ncm_first(s, c, refs, report) -> None:
    """R-NCM-FIRST: a host's non-null ncm_id names an NCM registered in an earlier phase."""
    for line in s.of("nodes.bulk") + s.of("nodes.create"):
        for ncm in sorted({_key(h.get("ncm_id")) or repr(h["ncm_id"]) for h in _hosts(line)
                           if h.get("ncm_id")}):
            refs.ok(ncm, c.ncms, line, "R-NCM-FIRST", "ncm_id")


def ncm_none(s, c, refs, report) -> None:
    """R-NCM-NONE: no host carries ncm_id "" (it is not read as absent)."""
    for line in s.of("nodes.bulk") + s.of("nodes.create"):
        if any(h.get("ncm_id") == "" for h in _hosts(line)):
            _violate(report, "R-NCM-NONE", line, 'a host has ncm_id ""')


def ncm_one_per_bulk(s, c, refs, report) -> None:
    """R-NCM-ONE-PER-BULK: the hosts of one bulk share one NCM (or none)."""
    for line in s.of("nodes.bulk"):
        ncms = {_key(h.get("ncm_id")) or None for h in _hosts(line)}
        if len(ncms) > 1:
            _violate(report, "R-NCM-ONE-PER-BULK", line,
                     f"one bulk mixes NCMs {sorted(map(str, ncms))}")


def node_name(s, c, refs, report) -> None:
    """R-NODE-NAME: node names non-empty and unique; a port's binding:host_id names a node
    registered in an earlier phase."""
    seen: set = set()
    for line in s.of("nodes.bulk") + s.of("nodes.create"):
        for h in _hosts(line):
            name = h.get("node_name")
            if not name:
                _violate(report, "R-NODE-NAME", line, f"node {h.get('node_id')!r} without node_name")
            elif not isinstance(name, str) or name in seen:
                _violate(report, "R-NODE-NAME", line, f"node_name {name!r} registered twice")
            seen.add(_key(name))
    for line in s.of("ports.create"):
        host = _obj(line, "port").get("binding:host_id")
        if host:
            refs.ok(host, c.nodes, line, "R-NODE-NAME", "binding:host_id")


def node_name_url(s, c, refs, report) -> None:
    """R-NODE-NAME-URL: node names go unescaped into a query string."""
    for line in s.of("nodes.bulk") + s.of("nodes.create"):
        for h in _hosts(line):
            if isinstance(h.get("node_name"), str) and URL_UNSAFE.search(h["node_name"]):
                _violate(report, "R-NODE-NAME-URL", line, f"node_name {h['node_name']!r}")


def node_unbound(s, c, refs, report) -> None:
    """R-NODE-UNBOUND: an unbound port omits binding:host_id, never \"\"."""
    for line in s.of("ports.create"):
        if _obj(line, "port").get("binding:host_id") == "":
            _violate(report, "R-NODE-UNBOUND", line, 'binding:host_id ""')
