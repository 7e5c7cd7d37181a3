"""Elastic-IP ranges (one per IP version) and elastic IPs from the floating IPs."""

from __future__ import annotations

import ipaddress
import uuid

from pipeline.export.alcor.accepts import ROUTER_NS, Counts
from pipeline.export.alcor.fields import _p, _req, resources


def _elastic_ips(fips, ports: dict, counts: Counts):
    """One elastic-IP range per IP version covering every floating address, then the elastic
    IPs on the elastic-IP manager's own path. `ports`: {port id: (project, {fixed ips})}."""
    by_version: dict = {}
    used: set = set()
    reqs = []
    for obj in resources(fips, "floating_ips"):
        addr = obj.get("floating_ip_address")
        try:
            ip = ipaddress.ip_address(addr) if addr else None
        except ValueError:
            counts.out("floating IP with a malformed address")
            continue
        version = ip.version if ip else 4
        project = obj.get("project_id")
        body = {"id": obj["id"], "elastic_ip_version": version}
        for key in ("project_id", "tenant_id"):
            if obj.get(key) is not None:
                body[key] = obj[key]
        if ip:
            body["elastic_ip"] = addr
            by_version.setdefault(version, []).append(ip)
        port, private = obj.get("port_id"), obj.get("fixed_ip_address")
        if port is not None:
            if port in ports and ports[port][0] == project:
                body["port_id"] = port
                if private is not None and private in ports[port][1] and (port, private) not in used:
                    body["private_ip"] = private
                    used.add((port, private))
                elif private is not None:
                    counts.change("elastic IP private_ip not a free fixed IP of its port: "
                                  "chosen by Alcor (R-EIP-PORT)")
            else:
                counts.change("elastic IP of a port not exported: sent unassociated (R-EIP-PORT)")
        reqs.append(_req("elasticip", "elastic_ip_manager", "POST",
                         f"/project/{_p(project)}/elasticips", {"elasticip": body}))
    if reqs and 4 not in by_version and any("elastic_ip" not in r[4]["elasticip"] for r in reqs):
        by_version[4] = []
    ranges = []
    for version in sorted(by_version):
        ips = sorted(by_version[version])
        name = f"dcnet-floating-ipv{version}"
        body = {"id": str(uuid.uuid5(ROUTER_NS, name)), "name": name, "ip_version": version,
                "allocation_ranges": [{"start": str(ips[0]), "end": str(ips[-1])}] if ips else []}
        ranges.append(_req("elasticip_range", "elastic_ip_manager", "POST", "/elasticip-ranges",
                           {"elasticip-range": body}))
    return ranges, reqs
