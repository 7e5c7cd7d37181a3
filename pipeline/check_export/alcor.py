"""alcor: export checked against the consumer's contract (to be filled in)."""

from __future__ import annotations

from pathlib import Path

from pipeline.check_export.core import ConsumerReport


def check(folder: Path) -> ConsumerReport:
    report = ConsumerReport(consumer="alcor", unit="files")
    report.checked = sum(1 for p in folder.rglob("*") if p.is_file())
    return report
