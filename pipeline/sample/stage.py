"""`dcnet sample`: generate the sample (pure), write it and its fault manifest."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.sample.build import build_world
from pipeline.sample.faults import plant_faults
from pipeline.sample.files import GENERATED_PREFIXES, assign_files, layout_files
from pipeline.sample.profiles import DEFAULTS
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
