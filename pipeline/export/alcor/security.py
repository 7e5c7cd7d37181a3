"""Security groups without Alcor's own `default` groups, the ports that capture a project's
default-group id, and the rules (references to a default group go through the capture)."""

from __future__ import annotations

from pipeline.export.alcor.accepts import ALLOW_ALL_PREFIXES, SGR_PROTOCOLS, Counts
from pipeline.export.alcor.fields import _p, _req, default_sg_var, placeholder

RENAMED_DEFAULT = "dcnet-default"  # a default group posted as an ordinary group
# why a group of a port is left out of its security_groups
NO_CAPTURE = "port's default-group reference without a capture port in its project"
NOT_EXPORTED = "port's security group not exported"


def _default_groups(sg_objs: list) -> dict:
    """{id of a group named default: its project}."""
    return {obj["id"]: obj.get("project_id") for obj in sg_objs if obj.get("name") == "default"}


def _security_groups(sg_objs: list, defaults: dict, renamed: set, counts: Counts):
    """Group requests without Alcor's own `default` groups (a default group whose id cannot be
    captured is posted under RENAMED_DEFAULT instead); {posted group id: project}."""
    reqs, posted = [], {}
    for obj in sg_objs:
        if obj["id"] in renamed:
            obj["name"] = RENAMED_DEFAULT
            counts.change(f"default group posted as {RENAMED_DEFAULT!r}: no port of its project "
                          f"to capture Alcor's default id from (R-SG-DEFAULT-EXPORT)")
        elif obj["id"] in defaults:
            counts.change("security group named default not posted: Alcor's own default group "
                          "of the project is used (R-SG-DEFAULT-EXPORT)")
            continue
        posted[obj["id"]] = obj.get("project_id")
        reqs.append(_req("security_group", "security_group_manager", "POST",
                         f"/project/{_p(obj.get('project_id'))}/security-groups",
                         {"security_group": obj}))
    return reqs, posted


def _default_sg_probes(found: tuple, rules: list, defaults: dict, counts: Counts):
    """One capture port per project whose default group is referenced explicitly (by a rule,
    by a port with further groups, or from another project): {project: the port's position}.
    A port whose only group is the default is the faithful probe; failing that, a port without
    groups (it then gets the default group, counted). `found`: what the ports show
    (_probe_candidates one port at a time, or port_lines.probe_candidates from the rows)."""
    needed, only_default, no_groups = found
    needed = set(needed)
    for obj in rules:
        for key in ("security_group_id", "remote_group_id"):
            if obj.get(key) in defaults:
                needed.add(defaults[obj[key]])
    probes = {}  # projects left without a probe get their default group posted renamed
    for project in sorted(needed, key=str):
        if project in only_default:
            probes[project] = only_default[project]
        elif project in no_groups:
            counts.change("port without security groups gets its project's default group "
                          "(capture probe, R-SG-DEFAULT-EXPORT)")
            probes[project] = no_groups[project]
    return probes, needed


def _probe_candidates(kept_ports: list, port_groups: dict, defaults: dict) -> tuple:
    """(projects whose default group a port names beside other groups or from another project,
    {project: first port whose only group is its default}, {project: first port without
    groups}), one port at a time. `kept_ports`: (position, id, project) of the ports Alcor
    takes, in id order."""
    needed = set()
    only_default, no_groups = {}, {}
    for position, port, project in kept_ports:
        groups = port_groups.get(port, ())
        for g in groups:
            if g in defaults and (len(groups) > 1 or defaults[g] != project):
                needed.add(defaults[g])
        if len(groups) == 1 and defaults.get(groups[0], object()) == project:
            only_default.setdefault(project, position)
        elif not groups:
            no_groups.setdefault(project, position)
    return needed, only_default, no_groups


def _port_security_groups(obj: dict, groups: list, defaults: dict, posted: dict,
                          captured: set, counts: Counts) -> None:
    value = port_groups_value(groups, obj.get("project_id"), defaults, posted, captured, counts)
    if value is not None:
        obj["security_groups"] = value


def port_groups_value(groups: list, project, defaults: dict, posted: dict, captured: set,
                      counts: Counts) -> list | None:
    """A port's `security_groups` as sent, or None to leave the key out: a port whose only
    group is its project's default gets Alcor's own default bound by port_manager."""
    if not groups:
        return []  # no group in the data; absent would bind the default
    if all(g in defaults and defaults[g] == project for g in groups):
        return None
    mapped = []
    for g in groups:
        if g in defaults:
            if defaults[g] in captured:
                mapped.append(placeholder(default_sg_var(defaults[g])))
            else:
                counts.out(NO_CAPTURE)
        elif g in posted:
            mapped.append(g)
        else:
            counts.out(NOT_EXPORTED)
    return list(dict.fromkeys(mapped))


def _rules(rule_objs: list, defaults: dict, posted: dict, captured: set, counts: Counts) -> list:
    reqs = []
    for obj in rule_objs:
        default_group = obj["security_group_id"] in defaults
        if not _rule_refs(obj, defaults, posted, captured, counts):
            continue
        proto = obj.get("protocol")
        if proto is not None:
            mapped = SGR_PROTOCOLS.get(str(proto).lower())
            if mapped is None:
                counts.out(f"rule protocol {proto!r} not mapped by Alcor's data plane (A-SGR-PROTO)")
                continue
            obj["protocol"] = mapped
        if _is_auto_rule(obj, "ingress" if default_group else "egress"):
            counts.out("allow-all rule Alcor creates with the group itself (R-SG-AUTO-RULES)")
            continue
        if not _rule_ranges_ok(obj):
            counts.out("rule port range Alcor rejects (R-SGR-MINMAX)")
            continue
        reqs.append(_req("security_group_rule", "security_group_manager", "POST",
                         f"/project/{_p(obj.get('project_id'))}/security-group-rules",
                         {"security_group_rule": obj}))
    return reqs


def _rule_refs(obj: dict, defaults: dict, posted: dict, captured: set, counts: Counts) -> bool:
    for key in ("security_group_id", "remote_group_id"):
        g = obj.get(key)
        if g is None or g in posted:
            continue
        if g in defaults and defaults[g] in captured:
            obj[key] = placeholder(default_sg_var(defaults[g]))
        elif g in defaults:
            counts.out("rule referencing a default group without a capture port in its project")
            return False
        else:
            counts.out("rule referencing a group not exported")
            return False
    return True


def _is_auto_rule(obj: dict, direction: str) -> bool:
    return (obj.get("direction") == direction and obj.get("protocol") is None
            and obj.get("port_range_min") is None and obj.get("port_range_max") is None
            and obj.get("remote_group_id") is None
            and obj.get("remote_ip_prefix") in ALLOW_ALL_PREFIXES
            and obj.get("ethertype") in ("IPv4", "IPv6"))


def _rule_ranges_ok(obj: dict) -> bool:
    lo, hi = obj.get("port_range_min"), obj.get("port_range_max")
    if lo is None and hi is None:
        return True
    proto = obj.get("protocol")
    if proto in ("tcp", "udp"):
        return lo is not None and hi is not None and 1 <= lo <= hi <= 65535
    if proto == "icmp":
        return lo is not None and hi is not None and 0 <= lo <= 255 and 0 <= hi <= 255
    return proto is not None
