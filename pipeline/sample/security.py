"""Security groups and rules: templates expanded per project, noise, borrowed groups."""

from __future__ import annotations

from datetime import datetime, timezone

from pipeline.sample.profiles import (BORROW_GROUP, DEFAULT_SG_ON_PORT, EXTRA_RULES_FILE, GENERIC_GROUPS,
                                      KINDS, NOISE_RULES, PROFILES)
from pipeline.sample.world import Project, World


def add_group(w: World, p: Project, name: str, desc: str = "", default: bool = False) -> dict:
    """A security group of p, without rules."""
    c, u = w.stamps(p.created, 3 if default else 60)
    sg = {"id": w.uuid(), "name": name, "tenant_id": p.id, "description": desc,
          "security_group_rules": [], "tags": [], "created_at": c, "updated_at": u,
          "revision_number": 1, "stateful": True, "shared": False, "project_id": p.id}
    w.sgs.append(sg)
    return sg


def add_rule(w: World, p: Project, sg: dict, direction: str, ethertype: str, proto, lo, hi,
             prefix=None, remote_group=None, *, default=False, extra=False) -> dict | None:
    """An ingress/egress rule of sg, or None when Neutron would refuse it as a duplicate;
    extra: listed in the standalone rules file instead of inside the group."""
    key = (direction, ethertype, proto, lo, hi, prefix, remote_group)
    for r in sg["security_group_rules"] + [x for x in w.extra_rules if x["security_group_id"] == sg["id"]]:
        if (r["direction"], r["ethertype"], r["protocol"], r["port_range_min"],
                r["port_range_max"], r["remote_ip_prefix"], r["remote_group_id"]) == key:
            return None  # Neutron refuses duplicate rules
    c, u = w.stamps(datetime.strptime(sg["created_at"], "%Y-%m-%dT%H:%M:%SZ")
                    .replace(tzinfo=timezone.utc), 0 if default else 90)
    r = {"id": w.uuid(), "tenant_id": p.id, "security_group_id": sg["id"],
         "ethertype": ethertype, "direction": direction, "protocol": proto,
         "port_range_min": lo, "port_range_max": hi, "remote_ip_prefix": prefix,
         "remote_address_group_id": None, "normalized_cidr": prefix,
         "remote_group_id": remote_group, "standard_attr_id": w.next_std_attr(),
         "description": "", "tags": [], "created_at": c, "updated_at": u,
         "revision_number": 0, "project_id": p.id, "belongs_to_default_sg": default}
    (w.extra_rules if extra else sg["security_group_rules"]).append(r)
    return r


def default_group(w: World, p: Project) -> dict:
    """The project's "default" group with Neutron's default rules (egress, ingress from itself)."""
    if "default" in p.groups:   # one per project, also for a mixed-use tenant
        return p.groups["default"]
    sg = add_group(w, p, "default", "Default security group", default=True)
    for eth in ("IPv4", "IPv6"):
        add_rule(w, p, sg, "egress", eth, None, None, None, default=True)
        add_rule(w, p, sg, "ingress", eth, None, None, None, remote_group=sg["id"], default=True)
    p.groups["default"] = sg
    return sg


def groups_from(w: World, p: Project, templates: dict[str, list], keep: float = 0.9) -> None:
    """Create the groups of a template, then their rules (so @group: refs resolve)."""
    style = w.rng.choice(("{g}", "{g}-sg", "sg-{g}", f"{w.site}-{{g}}" if p.named else "{g}"))
    created = {}
    for g in templates:
        if g in p.groups:
            continue
        shown = w.rng.choice(GENERIC_GROUPS) if w.realism else g   # shared templates
        desc = w.rng.choice(("", f"{shown} tier", f"rules for {shown}"))
        created[g] = p.groups[g] = add_group(w, p, style.format(g=shown), desc)
    for g, rules in templates.items():
        if g not in created:
            continue
        for i, t in enumerate(rules):
            if i == 0 or w.chance(keep):
                template_rule(w, p, created[g], t)


def template_rule(w: World, p: Project, sg: dict, t: tuple) -> None:
    """One template rule, once per database port (@db) and per remote."""
    proto, lo, hi, remote = t
    ports = [(lo, hi)] if lo != "@db" else [(x, x) for x in p.db_ports]
    for lo_, hi_ in ports:
        for eth, prefix, group in remotes(p, sg, remote):
            add_rule(w, p, sg, "ingress", eth, proto, lo_, hi_, prefix, group)


def remotes(p: Project, sg: dict, remote: str) -> list[tuple]:
    """(ethertype, remote_ip_prefix, remote_group_id) of each rule a template remote stands for."""
    if remote == "@world":
        return [("IPv4", "0.0.0.0/0", None)] + ([("IPv6", "::/0", None)] if p.dual else [])
    if remote == "@mgmt":
        return [("IPv4", p.mgmt, None)]
    if remote == "@self":
        return [("IPv4", None, sg["id"])]
    if remote == "@subnet":
        v4 = [s for s in p.subnets if s["ip_version"] == 4]
        return [("IPv4", v4[0]["cidr"], None)] if v4 else []
    if remote == "@app":
        return [("IPv4", p.app_prefix, None)]
    if remote.startswith("@group:"):
        g = p.groups.get(remote.split(":", 1)[1])
        return [("IPv4", None, g["id"])] if g else []
    raise ValueError(remote)


def finish_groups(w: World, p: Project, prof: dict) -> None:
    """Noise rules, a borrowed group of another kind, and rules moved to the rules file."""
    rng = w.rng
    own = [g for g in p.groups.values() if g["name"] != "default"]
    if own:
        for _ in range(4):
            if w.chance(prof["noise_rules"]):
                template_rule(w, p, rng.choice(own), rng.choice(NOISE_RULES))
    if w.chance(BORROW_GROUP):
        other = rng.choice([k for k in KINDS if k != p.kind])
        gname = rng.choice(sorted(PROFILES[other]["groups"]))
        if not p.db_ports:
            p.db_ports = [rng.choice(PROFILES["database"]["engines"])[1]]
        groups_from(w, p, {gname: PROFILES[other]["groups"][gname]})
    for g in p.groups.values():
        if g["name"] != "default" and len(g["security_group_rules"]) > 2 and w.chance(EXTRA_RULES_FILE):
            for _ in range(rng.randint(1, 2)):
                w.extra_rules.append(g["security_group_rules"].pop())


def vm_groups(w: World, p: Project, *names: str) -> list[str]:
    """Group ids of a VM port: the named groups, plus default sometimes (always when none)."""
    ids = [p.groups[n]["id"] for n in names if n in p.groups]
    if not ids or w.chance(DEFAULT_SG_ON_PORT):
        ids.insert(0, p.groups["default"]["id"])
    return ids
