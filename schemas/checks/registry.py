"""The registry of custom checks: their docs, the columns they read, their messages; helpers
shared by the check modules."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from pandera.api.checks import Check
from pandera.extensions import register_check_method


DOCS: dict[str, str] = {}
# Columns a table check reads (data dictionary), when its statistics do not name them.
READS: dict[str, tuple[str, ...]] = {}
# code -> fn(frame, failing positions, column or None, check statistics) -> one reason per row
MESSAGES: dict[str, Callable[[pd.DataFrame, np.ndarray, str | None, dict], list[str]]] = {}
# Checks that only warn (reported with counts and examples, never quarantine).
WARNING_CHECKS: set[str] = set()


def register(name_doc: str, statistics=(), frame: bool = False, message=None, reads=()):
    """Register `fn` as Check.<fn name> (once: module reloads must not fail) and document it."""

    def deco(fn):
        DOCS[fn.__name__] = name_doc
        if reads:
            READS[fn.__name__] = tuple(reads)
        if message is not None:
            MESSAGES[fn.__name__] = message
        if fn.__name__ not in Check.REGISTERED_CUSTOM_CHECKS:
            register_check_method(
                fn, statistics=list(statistics),
                supported_types=pd.DataFrame if frame else pd.Series,
            )
        return fn

    return deco


def passes(mask, index) -> pd.Series:
    return pd.Series(np.asarray(mask, dtype=bool), index=index)


def values_at(df: pd.DataFrame, idx: np.ndarray, col: str) -> list:
    """Values of `col` at positions `idx` as Python objects (None for NA)."""
    s = df[col].iloc[idx]
    return [None if pd.isna(x) else x for x in s.tolist()]


def str_present(s: pd.Series) -> np.ndarray:
    """Non-null and non-empty: an empty string means 'not set' in Neutron dumps."""
    return (s.notna() & (s != "")).to_numpy(dtype=bool, na_value=False)


def source_of(df, f) -> str:
    return f"{df['source_file'].iat[f]}#{df['source_pos'].iat[f]}"
