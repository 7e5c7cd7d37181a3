"""Cross-request rules of routers and their interfaces."""

from __future__ import annotations

import re

from pipeline.check_export.alcor.created import _key, _obj, _violate
from pipeline.check_export.alcor.stream import Line


def rif_by_subnet(s, c, refs, report) -> None:
    """R-RIF-BY-SUBNET: routers are attached by subnet_id."""
    for line in s.of("routers.add_router_interface"):
        body = line.body if isinstance(line.body, dict) else {}
        if body.get("port_id") is not None:
            _violate(report, "R-RIF-BY-SUBNET", line, "attached by port_id")


def _rif_target(line: Line) -> tuple:
    m = re.match(r"^/project/[^/]+/routers/([^/]+)/add_router_interface", line.path)
    body = line.body if isinstance(line.body, dict) else {}
    return (m.group(1) if m else None), _key(body.get("subnet_id"))


def rif_order(s, c, refs, report) -> None:
    """R-RIF-ORDER: the router and the subnet exist before the interface."""
    for line in s.of("routers.add_router_interface"):
        router, subnet = _rif_target(line)
        refs.ok(router, c.routers, line, "R-RIF-ORDER", "router")
        if subnet is not None:
            refs.ok(subnet, c.subnets, line, "R-RIF-ORDER", "subnet_id")


def rif_attached(s, c, refs, report) -> None:
    """R-RIF-ATTACHED: an attached subnet was created without attached_router_id, and is
    attached once."""
    attached: set = set()
    for line in s.of("routers.add_router_interface"):
        _, subnet = _rif_target(line)
        if subnet is None:
            continue
        if subnet in attached:
            _violate(report, "R-RIF-ATTACHED", line, f"subnet {subnet!r} attached twice")
        attached.add(subnet)
        made = c.subnets.get(subnet)
        if made is not None and _obj(made, "subnet").get("attached_router_id"):
            _violate(report, "R-RIF-ATTACHED", line,
                     f"subnet {subnet!r} was created with attached_router_id")


def router_one_vpc(s, c, refs, report) -> None:
    """R-ROUTER-ONE-VPC: all subnets of one router are in one VPC."""
    vpc_of_router: dict = {}
    for line in s.of("routers.add_router_interface"):
        router, subnet = _rif_target(line)
        made = c.subnets.get(subnet)
        if made is None:
            continue
        vpc = _obj(made, "subnet").get("network_id")
        first = vpc_of_router.setdefault(router, vpc)
        if first != vpc:
            _violate(report, "R-ROUTER-ONE-VPC", line,
                     f"router {router!r} spans VPCs {first!r} and {vpc!r}")


def router_routes(s, c, refs, report) -> None:
    """R-ROUTER-ROUTES: routes sent at router creation are dropped."""
    for line in s.of("routers.create"):
        if _obj(line, "router").get("routes"):
            _violate(report, "R-ROUTER-ROUTES", line, "routes at creation are ignored")
