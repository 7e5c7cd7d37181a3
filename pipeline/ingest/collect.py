"""Routing decoded objects to tables (the Collected of one file or chunk): wrappers in list
and show form, bare objects recognised by their keys (Neutron or Title-Case OSC), and what
is not configuration, counted under its reason."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.ingest.decode import BadFile, type_name
from pipeline.ingest.sources.alcor import id_lists, with_related_ids
from pipeline.ingest.sources.neutron import LIST_KEYS, RESOURCE_TABLES, SHOW_KEYS
from pipeline.ingest.sources.openstack_cli import detect_title, retitle


@dataclass
class Collected:
    """Resource objects of one file (or chunk), grouped by table, in file order."""

    recs: dict = field(default_factory=lambda: {t: [] for t in RESOURCE_TABLES})
    poss: dict = field(default_factory=lambda: {t: [] for t in RESOURCE_TABLES})
    labels: list = field(default_factory=list)  # (pos, {"project_id", "profile"})
    unknown: dict = field(default_factory=dict)  # reason -> [count, first_pos]
    ignored_keys: set = field(default_factory=set)
    redacted: dict = field(default_factory=dict)  # secret-like key -> values redacted

    def add(self, kind: str, obj: dict, pos: int) -> None:
        self.recs[kind].append(obj)
        self.poss[kind].append(pos)

    def add_unknown(self, reason: str, pos: int, count: int = 1) -> None:
        u = self.unknown.setdefault(reason, [0, pos])
        u[0] += count

    def add_dict(self, d: dict, pos: int, sequential: bool) -> int:
        """Route one top-level object (wrapper, show form or bare). Returns the next position:
        with `sequential`, the objects inside a wrapper take consecutive positions."""
        if not d:  # cheap path: runs of {} are a known way to exhaust a parser
            u = self.unknown.get(_EMPTY_REASON)
            if u is None:
                self.unknown[_EMPTY_REASON] = [1, pos]
            else:
                u[0] += 1
            return pos + 1
        if _is_wrapper(d):
            return self._add_wrapper(d, pos, sequential)
        self._add_bare(d, pos)
        return pos + 1

    def _add_wrapper(self, d: dict, pos: int, sequential: bool) -> int:
        """{"ports": [...]} / {"port": {...}} (and several such keys): every object inside."""
        ids = id_lists(d)
        shows = [k for k, v in d.items() if k in SHOW_KEYS and type(v) is dict]
        for k, v in d.items():
            if k in LIST_KEYS:
                if v is None:
                    continue
                if type(v) is not list:
                    raise BadFile(f"'{k}' should be a list of objects, got {type_name(v)}")
                if k in ids:
                    if len(shows) != 1:  # ids of nothing in particular: say so
                        self.add_unknown(f"'{k}' lists ids, not objects", pos, len(v))
                        pos += sequential * len(v)
                    continue  # else kept on the one object of the response (below)
                kind = LIST_KEYS[k]
                for i, o in enumerate(v):
                    if type(o) is not dict:
                        raise BadFile(f"'{k}' item {i} is {type_name(o)}, expected an object")
                    self.add(kind, o, pos)
                    pos += sequential
            elif k in SHOW_KEYS:
                if type(v) is not dict:
                    raise BadFile(f"'{k}' should be an object, got {type_name(v)}")
                if ids and len(shows) == 1:
                    v = with_related_ids(v, {ik: d[ik] for ik in ids})
                self.add(SHOW_KEYS[k], v, pos)
                pos += sequential
            elif k.endswith("_links"):
                self.ignored_keys.add(k)  # pagination links carry no configuration
            else:
                n = len(v) if type(v) is list else 1
                self.add_unknown(f"unknown resource key '{k}'", pos, n)
                pos += sequential * n
        return pos if sequential else pos + 1

    def _add_bare(self, d: dict, pos: int) -> None:
        """One resource object, its kind told by its keys; otherwise counted as unknown."""
        kind = detect_kind(d)
        if kind is None:
            if _unknown_wrapper(d):
                # items of the lists, as for a wrapper; at least the object itself
                self.add_unknown("unknown resource key(s) " + ", ".join(f"'{k}'" for k in list(d)[:5]),
                                 pos, max(1, sum(len(v) if type(v) is list else 1 for v in d.values())))
            else:
                self.add_unknown("resource kind not recognised from its keys ("
                                 + ", ".join(sorted(map(str, d))[:8]) + ")", pos)
        else:
            self.add(kind, retitle(d, kind) if "ID" in d else d, pos)


def _is_wrapper(d: dict) -> bool:
    """A wrapper has no id of its own (a bare network also has a `subnets` list)."""
    return "id" not in d and "ID" not in d and any(k in LIST_KEYS or k in SHOW_KEYS for k in d) and all(
        k in LIST_KEYS or k in SHOW_KEYS or k.endswith("_links")
        or type(v) is list or type(v) is dict for k, v in d.items())


_EMPTY_REASON = "empty object {}"


def _unknown_wrapper(d: dict) -> bool:
    """{"trunks": [{...}, ...]}: no id of its own, every value an object or a list of objects."""
    return "id" not in d and "ID" not in d and all(
        type(v) is dict or (type(v) is list and all(type(x) is dict for x in v)) for v in d.values())


_NETWORK_HINTS = ("provider:network_type", "provider:physical_network", "provider:segmentation_id",
                  "provider_network_type", "provider_physical_network", "provider_segmentation_id",
                  "router:external", "is_router_external", "subnets")


def detect_kind(d: dict) -> str | None:
    """Table name for a bare resource object, from its distinctive keys (None if unknown)."""
    if "ID" in d:
        return detect_title(d)
    if "mac_address" in d and "fixed_ips" in d:
        return "ports"
    if "node_name" in d and ("local_ip" in d or "node_id" in d):
        return "hosts"
    if "direction" in d and "ethertype" in d:
        return "security_group_rules"
    if "cidr" in d and "network_id" in d:
        return "subnets"
    if "floating_ip_address" in d:
        return "floating_ips"
    if "ip" in d and "pool" in d and ("fixed_ip" in d or "instance_id" in d):
        return "floating_ips"  # nova-network's form
    if "prefixes" in d and any(k in d for k in _SUBNETPOOL_HINTS):
        return "subnetpools"
    if "external_gateway_info" in d:
        return "routers"
    if "security_group_rules" in d or _has_group_rules(d) or _has_printed_rules(d):
        return "security_groups"
    if "device_owner" in d and "network_id" in d:
        return "ports"
    if "cidr" in d and "ip_version" in d:
        return "subnets"
    if any(k in d for k in _NETWORK_HINTS):
        return "networks"
    if "cidr" in d and ("mtu" in d or "admin_state_up" in d):  # an Alcor VPC
        return "networks"
    return None


_SUBNETPOOL_HINTS = ("default_prefixlen", "min_prefixlen", "max_prefixlen", "address_scope_id",
                     "default_prefix_length", "minimum_prefix_length", "maximum_prefix_length")


def _has_group_rules(d: dict) -> bool:
    """OSC's `security group show` lists rules under `rules`; so do QoS policies, whose rules
    carry no ethertype: a group needs `stateful` or rules that look like security rules."""
    rules = d.get("rules")
    if type(rules) is not list:
        return False
    if "stateful" in d or "is_stateful" in d:
        return True
    return bool(rules) and all(type(r) is dict and "ethertype" in r for r in rules)


def _has_printed_rules(d: dict) -> bool:
    rules = d.get("rules")
    return type(rules) is str and "ethertype=" in rules and "id" in d


def walk_document(doc, col: Collected, pos0: int = 0, key: str | None = None) -> None:
    """Route a decoded JSON document. `key` forces the list key (a chunk of a big list)."""
    if key is not None:
        kind = LIST_KEYS[key]
        for i, o in enumerate(doc):
            if type(o) is not dict:
                raise BadFile(f"'{key}' item {pos0 + i} is {type_name(o)}, expected an object")
            col.add(kind, o, pos0 + i)
        return
    if type(doc) is dict:
        col.add_dict(doc, pos0, sequential=True)
    elif type(doc) is list:
        for i, o in enumerate(doc):
            if type(o) is not dict:
                raise BadFile(f"expected an array of objects, item {pos0 + i} is {type_name(o)}")
            col.add_dict(o, pos0 + i, sequential=False)
    else:
        raise BadFile(f"expected a JSON object or an array of objects, got {type_name(doc)}")
