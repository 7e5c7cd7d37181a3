"""What a consumer check reports: how much it read and every violated rule.

A rule id names one acceptance rule of a consumer (e.g. `R-NCM-FIRST` for Alcor, a JSON Schema
tag such as `A-PORT-VIF`); each rule counts its violations and keeps the first example, so a
report stays small on a data center of millions of requests.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "schemas" / "consumers"


def load_contract(name: str) -> dict:
    """A vendored JSON Schema from `schemas/consumers/` (e.g. `alcor.requests.schema.json`)."""
    return json.loads((CONTRACTS_DIR / name).read_text())


# An IPv4 interface written address/length as ipaddress accepts it (no leading zeros): the
# common form, matched without building an object (checks read millions of addresses).
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_INTERFACE = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}/(?:3[0-2]|[12]?[0-9])")


def interface_version(text: str) -> int | None:
    """4 or 6 for an interface address written with a prefix ("a.b.c.d/len", "x::y/len") that
    ipaddress accepts, else None."""
    if _IPV4_INTERFACE.fullmatch(text):
        return 4
    if "/" not in text:
        return None
    try:
        return ipaddress.ip_interface(text).version
    except ValueError:
        return None


# Set to a list in a forked checker process (pipeline/check_export/__init__.py): a check's big
# structures are parked there instead of freed object by object, as that process ends with
# os._exit and gives its memory back to the OS at once (freeing the decoded 10k-host Alcor
# stream took ~0.5 s of its check, the built Mininet topology ~0.3 s; measured). None in any
# other process, where they are freed as usual.
PARKED: list | None = None


def free_at_exit(*objects) -> None:
    """Hand a check's big structures to the end of a forked checker process (see PARKED)."""
    if PARKED is not None:
        PARKED.extend(objects)


@dataclass
class RuleCount:
    count: int = 0
    example: str = ""
    evidence: str = ""


@dataclass
class ConsumerReport:
    """One consumer's verdict on one export folder."""

    consumer: str
    unit: str  # what `checked` counts: "requests", "files", "nodes", ...
    checked: int = 0
    present: bool = True  # False when the export has no folder for this consumer
    violations: dict[str, RuleCount] = field(default_factory=dict)

    def violate(self, rule: str, example: str, evidence: str = "") -> None:
        """Record one violation of `rule`; the first example (trimmed) is kept."""
        entry = self.violations.get(rule)
        if entry is None:
            entry = self.violations[rule] = RuleCount(example=str(example)[:300], evidence=evidence)
        entry.count += 1

    @property
    def ok(self) -> bool:
        return not self.violations

    def to_dict(self) -> dict:
        return {
            "consumer": self.consumer,
            "present": self.present,
            "unit": self.unit,
            "checked": self.checked,
            "violations": {rule: {"count": v.count, "example": v.example, "evidence": v.evidence}
                           for rule, v in sorted(self.violations.items())},
        }
