"""Reason codes produced outside the registered checks, and the reason text of any code."""

from __future__ import annotations

import numpy as np
import pandas as pd

from schemas.checks.registry import MESSAGES


# pandera built-ins and cross-table codes, documented here so the data dictionary covers every
# code a quarantine file can hold.
OTHER_DOCS: dict[str, str] = {
    "id_missing": "A required (non-nullable) column is null: pandera `nullable: false`; "
                  "key columns above all.",
    "ref_<column>": "The reference names a row that does not exist anywhere in the input.",
    "parent_quarantined": "The referenced parent exists but was quarantined itself; the reason "
                          "names the parent and its checks (cascades to a fixpoint). Rows "
                          "unnested from a stale copy of their parent leave with it.",
    "network_id_unknown": "WARNING only: a port has no network_id and its fixed IPs name no "
                          "single network (`openstack port list --long` omits the column): it "
                          "stays valid, counted with example ids.",
    "superseded": "Another copy of the object (same key) is newer: later updated_at, else higher "
                  "revision_number; the newest copy is kept (schemas/copies.py). Copies of one "
                  "version are `duplicate_id` (the first is kept).",
}

BUILTIN_CODES = {"not_nullable": "id_missing"}


def reason_code(check_name: str) -> str:
    """The quarantine code of a pandera check name (registered names are codes already)."""
    return BUILTIN_CODES.get(check_name, check_name)


def message(code: str, df: pd.DataFrame, idx: np.ndarray, column: str | None,
            stats: dict | None = None) -> list[str]:
    """Human-readable reasons for the rows at positions `idx` failing `code`."""
    if code == "id_missing":
        return [f"{column} is missing"] * len(idx)
    fn = MESSAGES.get(code)
    if fn is None:
        return [f"{code} failed" + (f" on {column}" if column else "")] * len(idx)
    return fn(df, idx, column, stats or {})
