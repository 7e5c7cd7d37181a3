"""Cross-request rules of security groups and their rules."""

from __future__ import annotations

from pipeline.check_export.alcor.created import _items, _key, _obj, _violate

ALLOW_ALL_PREFIXES = (None, "0.0.0.0/0", "::/0")


def sg_default_export(s, c, refs, report) -> None:
    """R-SG-DEFAULT-EXPORT: no group named default is POSTed."""
    for line in c.default_groups.values():
        _violate(report, "R-SG-DEFAULT-EXPORT", line, "POST of a group named default")


def sg_default_owned(s, c, refs, report) -> None:
    """R-SG-DEFAULT-OWNED: nothing references the id of a POSTed default group (Alcor never
    stores it under that id)."""
    if not c.default_groups:
        return
    for line in s.of("ports.create"):
        for g in _items(_obj(line, "port").get("security_groups")):
            if _key(g) in c.default_groups:
                _violate(report, "R-SG-DEFAULT-OWNED", line, f"port references default group {g!r}")
    for line in s.of("security_group_rules.create"):
        rule = _obj(line, "security_group_rule")
        for key in ("security_group_id", "remote_group_id"):
            if _key(rule.get(key)) in c.default_groups:
                _violate(report, "R-SG-DEFAULT-OWNED", line, f"{key} is a POSTed default group")


def _allow_all(rule: dict, direction: str) -> bool:
    return (rule.get("direction") == direction and rule.get("protocol") is None
            and rule.get("port_range_min") is None and rule.get("port_range_max") is None
            and rule.get("remote_group_id") is None
            and rule.get("remote_ip_prefix") in ALLOW_ALL_PREFIXES
            and rule.get("ethertype") in ("IPv4", "IPv6", None))


def sg_auto_rules(s, c, refs, report) -> None:
    """R-SG-AUTO-RULES: no rule duplicates the allow-all rules Alcor adds itself (egress for a
    new group, ingress for the tenant default); a group's embedded rules are discarded."""
    for line in s.of("security_groups.create"):
        if _obj(line, "security_group").get("security_group_rules"):
            _violate(report, "R-SG-AUTO-RULES", line, "embedded security_group_rules are discarded")
    for line in s.of("security_group_rules.create"):
        rule = _obj(line, "security_group_rule")
        group = rule.get("security_group_id")
        default = isinstance(group, str) and "{{" in group
        if _allow_all(rule, "ingress" if default else "egress"):
            _violate(report, "R-SG-AUTO-RULES", line, f"allow-all {rule.get('direction')} rule "
                     f"({rule.get('ethertype')}) duplicates Alcor's own")


def sgr_order(s, c, refs, report) -> None:
    """R-SGR-ORDER: a rule's group and remote group exist before it."""
    for line in s.of("security_group_rules.create"):
        rule = _obj(line, "security_group_rule")
        for key in ("security_group_id", "remote_group_id"):
            if rule.get(key) is not None and _key(rule.get(key)) not in c.default_groups:
                refs.ok(rule[key], c.groups, line, "R-SGR-ORDER", key)


def sgr_minmax(s, c, refs, report) -> None:
    """R-SGR-MINMAX: tcp/udp port_range_min <= port_range_max."""
    for line in s.of("security_group_rules.create"):
        rule = _obj(line, "security_group_rule")
        lo, hi = rule.get("port_range_min"), rule.get("port_range_max")
        if rule.get("protocol") in ("tcp", "udp") and isinstance(lo, int) and isinstance(hi, int) \
                and lo > hi:
            _violate(report, "R-SGR-MINMAX", line, f"port range {lo} > {hi}")
