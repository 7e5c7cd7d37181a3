"""The `synthesize:` parameters, checked, and the project mix."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.params import default
from pipeline.synthesize.common import SynthParamsError


# the defaults live in the params definition (pipeline/params.py), nowhere else
DEFAULTS: dict[str, Any] = default("synthesize")
# a shard is one byte of its MACs' salt and of its IPv6 ULA prefixes (see generate.py)
MAX_SHARDS = 256


def checked_params(params: dict | None, model: dict) -> dict[str, Any]:
    sp = {**DEFAULTS, **{k: v for k, v in ((params or {}).get("synthesize") or {}).items() if v is not None}}
    out = dict(sp)
    for key in ("seed", "hosts", "max_ports_per_host", "shards"):
        try:
            out[key] = int(sp[key])
        except (TypeError, ValueError):
            raise SynthParamsError(f"synthesize.{key} must be an integer, got {sp[key]!r}") from None
    if out["hosts"] < 1:
        raise SynthParamsError(f"synthesize.hosts must be >= 1, got {out['hosts']}")
    if not 1 <= out["shards"] <= MAX_SHARDS:
        raise SynthParamsError(f"synthesize.shards must be between 1 and {MAX_SHARDS}, got {out['shards']}")
    if out["max_ports_per_host"] < 1:
        raise SynthParamsError(f"synthesize.max_ports_per_host must be >= 1, got {out['max_ports_per_host']}")
    if sp["projects"] in (None, "auto"):
        ratio = (model.get("infra") or {}).get("projects_per_compute_host") or 1 / 3
        out["projects"] = max(1, int(round(out["hosts"] * ratio)))
    else:
        try:
            out["projects"] = int(sp["projects"])
        except (TypeError, ValueError):
            raise SynthParamsError(f"synthesize.projects must be an integer or auto, got {sp['projects']!r}") from None
        if out["projects"] < 0:
            raise SynthParamsError(f"synthesize.projects must be >= 0, got {out['projects']}")
    zones = sp.get("zones")
    if zones in (None, "auto", "as_learned"):
        zones = (model.get("infra") or {}).get("zones") or 1
    try:
        out["zones"] = max(1, min(int(zones), out["hosts"]))
    except (TypeError, ValueError):
        raise SynthParamsError(f"synthesize.zones must be an integer, got {zones!r}") from None
    return out


def mix_shares(mix, model: dict, kinds: list[str]) -> np.ndarray:
    if mix in (None, "as_learned"):
        shares = np.array([float(model["kinds"][k].get("projects") or 0) for k in kinds])
        return shares if shares.sum() > 0 else np.ones(len(kinds))
    if not isinstance(mix, dict) or not mix:
        raise SynthParamsError(f"synthesize.mix must be as_learned or a mapping kind: share, got {mix!r}")
    unknown = sorted(set(map(str, mix)) - set(kinds))
    if unknown:
        raise SynthParamsError(f"synthesize.mix: unknown kind(s) {', '.join(unknown)}; the model "
                               f"knows {', '.join(kinds)}")
    try:
        shares = np.array([float(mix.get(k, 0) or 0) for k in kinds])
    except (TypeError, ValueError):
        raise SynthParamsError(f"synthesize.mix shares must be numbers, got {mix!r}") from None
    if (shares < 0).any() or shares.sum() <= 0:
        raise SynthParamsError("synthesize.mix shares must be >= 0 and not all zero")
    return shares
