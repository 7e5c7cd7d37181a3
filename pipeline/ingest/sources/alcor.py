"""Alcor service responses that Neutron does not send: the route manager answers with its
router and the ids of what it is connected to beside it ({"router": {...}, "subnets":
["<id>", ...]}). Alcor's other keys (VPCs, host infos) are in sources/neutron.py's maps."""

from __future__ import annotations

from pipeline.ingest.sources.neutron import LIST_KEYS


def id_lists(d: dict) -> list[str]:
    """List keys of a response holding ids rather than objects, e.g. Alcor's route manager
    answer {"router": {...}, "subnets": ["<id>", ...]} (the subnets connected to the router)."""
    return [k for k, v in d.items() if k in LIST_KEYS and type(v) is list and v
            and all(type(x) is str for x in v)]


def with_related_ids(obj: dict, related: dict) -> dict:
    """The response's one object with the id lists that came beside it (kept in its `extra`
    under the same key, or '<key> (response)' if the object has that key already)."""
    out = dict(obj)
    for k, ids in related.items():
        out[k if k not in out else f"{k} (response)"] = ids
    return out
