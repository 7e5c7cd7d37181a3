"""`dcnet check-export DIR`: an export folder checked against its consumers' own contracts.

One module per consumer, each with `check(folder: Path) -> ConsumerReport` where `folder` is
`DIR/<format>/`. The contracts are the vendored JSON Schemas in `schemas/consumers/` and the
cross-request rules stated in code beside them, each with the consumer's file and line.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from pipeline.check_export.core import ConsumerReport

# consumer -> (module, export folder it reads)
CHECKERS = {
    "alcor": ("pipeline.check_export.alcor", "alcor"),
    "merak": ("pipeline.check_export.merak", "merak"),
    "distrinet": ("pipeline.check_export.distrinet", "mininet"),
    "containerlab": ("pipeline.check_export.containerlab", "containerlab"),
}


def check_export(export_dir: Path, consumers: list[str] | None = None) -> list[ConsumerReport]:
    """Check each consumer's folder under `export_dir`; a missing folder is reported as absent."""
    export_dir = Path(export_dir)
    reports = []
    for name in consumers or list(CHECKERS):
        module_name, folder = CHECKERS[name]
        target = export_dir / folder
        if not target.is_dir():
            reports.append(ConsumerReport(consumer=name, unit="files", present=False))
            continue
        reports.append(importlib.import_module(module_name).check(target))
    return reports
