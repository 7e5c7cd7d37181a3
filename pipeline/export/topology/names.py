"""Generated names: unique, deterministic short names and labels (rules in the package doc)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.export.topology.model import LABEL_MAX, ROLE_PREFIX, SHORT_MAX, TopologyInputError, pylist


def unique_names(cands, max_len: int, sep: str) -> list[str]:
    """Make candidate names unique, deterministically (see the module doc)."""
    cands = [c[:max_len] for c in cands]
    dup = pd.Series(cands, dtype=object).duplicated(keep="first").to_numpy()
    if not dup.any():
        return cands
    taken = set(cands)  # every first holder keeps its name: reserve them all up front
    next_n: dict[str, int] = {}  # per candidate, the next counter to try (no quadratic rescans)
    out = list(cands)
    for i in np.flatnonzero(dup):
        base = cands[i]
        n = next_n.get(base, 2)
        while True:
            sfx = f"{sep}{n}"
            name = base[:max_len - len(sfx)] + sfx
            n += 1
            if name not in taken:
                break
        next_n[base] = n
        taken.add(name)
        out[i] = name
    return out


def label_candidates(values, fallback: str) -> list[str]:
    """Lower case, runs of other characters -> "-", trimmed, at most LABEL_MAX characters."""
    s = pd.Series(values, dtype="string")
    s = (s.str.lower().str.replace(r"[^a-z0-9]+", "-", regex=True).str.strip("-")
         .str.slice(0, LABEL_MAX).str.rstrip("-"))
    s = s.where(s.fillna("") != "", fallback)
    return pylist(s)


_NON_ALNUM = re.compile(r"[^a-z0-9]")


def _short_names(nodes: pd.DataFrame) -> list[str]:
    kinds, refs = pylist(nodes["kind"]), pylist(nodes["ref_id"])
    vm_rows = [i for i, kind in enumerate(kinds) if kind == "vm"]
    vm_names = iter(_vm_short_names([refs[i] for i in vm_rows]))
    counters: dict[str, int] = {}
    out = []
    for kind, role in zip(kinds, pylist(nodes["role"])):
        if kind == "vm":
            out.append(next(vm_names))
            continue
        pre = "h" if kind == "host" else ROLE_PREFIX.get(role, "sw")
        counters[pre] = counters.get(pre, 0) + 1
        name = f"{pre}{counters[pre]}"
        if len(name) > SHORT_MAX:
            raise TopologyInputError(f"too many {role} nodes for {SHORT_MAX}-character names")
        out.append(name)
    return unique_names(out, SHORT_MAX, "-")  # "-": LXD names allow no "_"


def _vm_short_names(refs: list) -> list[str]:
    """"v" + the first letters and digits of each VM's lower-cased id: in one Arrow pass when
    every id is ASCII text (as ids are; a third of the topology's names took ~0.3 s one by
    one), else one by one as Python lower-cases them."""
    if not refs:
        return []
    try:
        ids = pc.fill_null(pa.array(refs, pa.large_string()), "None")  # str(None), as below
        ascii_only = bool(pc.all(pc.string_is_ascii(ids)).as_py())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        ascii_only = False
    if not ascii_only:
        return ["v" + _NON_ALNUM.sub("", str(ref).lower())[:SHORT_MAX - 1] for ref in refs]
    kept = pc.utf8_slice_codeunits(pc.replace_substring_regex(pc.ascii_lower(ids), "[^a-z0-9]", ""),
                                   0, SHORT_MAX - 1)
    text = pa.large_string()
    return pc.binary_join_element_wise(pa.scalar("v", text), kept, pa.scalar("", text)).to_pylist()
