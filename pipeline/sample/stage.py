"""`dcnet sample`: the sample's parameters (the embedded reference sample, or data center A or B
of the harder benchmark), the sample generated (pure), written with its fault manifest."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.errors import InputError
from pipeline.sample.build import build_world
from pipeline.sample.faults import plant_faults
from pipeline.sample.files import GENERATED_PREFIXES, assign_files, layout_files
from pipeline.sample.profiles import DEFAULTS, VARIANTS
from pipeline.sample.readme import counts
from pipeline.sample.render import manifest, render


def generate(params: dict) -> tuple[dict[str, bytes], list[dict], dict[str, int]]:
    """Pure generation: file name -> bytes, the fault manifest, and summary counts."""
    cfg = {**DEFAULTS, **(params or {})}
    w = build_world(cfg)
    assign_files(w)
    plant_faults(w)
    files = layout_files(w)
    data = render(w, files)
    return data, manifest(w, files), counts(w)


def write_sample(out_dir: Path, params: dict) -> dict:
    """Write the sample dump to out_dir and its fault manifest beside it; return counts."""
    out_dir = Path(out_dir)
    data, faults, summary = generate(params)
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in sorted(out_dir.iterdir()):   # files of an earlier generation (ids in names change)
        if old.is_file() and old.name.startswith(GENERATED_PREFIXES) and old.name not in data:
            old.unlink()
    for name, blob in data.items():
        (out_dir / name).write_bytes(blob)
    (out_dir.parent / f"{out_dir.name}_faults.json").write_text(json.dumps(faults, indent=2, sort_keys=True) + "\n")
    summary["files"] = len(data)
    summary["bytes"] = sum(len(b) for b in data.values())
    return summary


def sample_params(params: dict, realism: str = "off", variant: str = "a",
                  seed: int | None = None) -> dict:
    """The generator's parameters: params `sample`, with --realism hard those of
    `benchmark.<variant>` over them; `seed` overrides. Raises InputError for a bad option."""
    if realism not in ("off", "hard"):
        raise InputError(f"--realism {realism}: expected off or hard")
    if variant not in VARIANTS:
        raise InputError(f"--variant {variant}: expected one of {', '.join(VARIANTS)}")
    p = dict(params.get("sample") or {})
    if realism == "hard":
        # over the sample's values; the benchmark plants no faults (its faults_per_kind default)
        bench = dict(params["benchmark"][variant])
        p = {**p, **bench, "realism": "hard", "variant": variant}
    elif variant != "a":
        raise InputError("--variant b needs --realism hard (the embedded sample is data center A)")
    if seed is not None:
        p["seed"] = seed
    return p


def run(params: dict, out: Path, realism: str = "off", variant: str = "a",
        seed: int | None = None) -> dict:
    """The sample stage: the sample for these options written to `out`; its summary counts."""
    return write_sample(out, sample_params(params, realism, variant, seed))
