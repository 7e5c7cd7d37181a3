"""Validation stage: split every canonical table into valid rows and quarantined rows.

0. identities and copies (schemas/copies.py): id columns normalised (whitespace, UUID case),
   null fields that another field determines filled (schemas/fill.py), then of the copies of
   one object the newest is kept, the others quarantined (`superseded`, `duplicate_id`) with
   their nested children; the steps below run on the remaining rows;
1. single-table checks: the pandera schema of each table (schemas/models.py), run lazily; each
   failure case (row, check) becomes a reason code and a human-readable reason (locally on
   `validate.workers` forked processes, pipeline/validate/parallel.py);
2. cross-table checks, references and the parent cascade (schemas/relations.py);
3. assembly: valid rows keep the model's columns, dtypes and input order; quarantined rows
   keep all their columns plus `check` (sorted unique codes joined by ';') and `reason`.
Warnings (device_owner_unknown, gateway_outside_subnet, network_id_unknown) are counted with
examples and never quarantine.

Row accounting is exact: for every table rows_in == rows_valid + rows_quarantined.

Steps 0 (copies), 1 and 2 run here on whole tables (the local engine) or on a Dask cluster
(`engine`: pipeline/validate/dask_checks.py), with the same rules (pipeline/validate/rules.py,
schemas/) and the same failures; for tables held in memory, identities, fills and assembly
run here on both engines. `dcnet validate --engine dask` reads and writes a folder on the
workers instead (pipeline/validate/on_engine.py): every step runs there, per partition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import InputError, StageFailed
from pipeline.params import default
from pipeline.validate.rules import summarize_warnings, warning_hits
from schemas.model import TABLES, conform, empty_frame

DEFAULT_MAX_QUARANTINE_FRACTION = default("validate.max_quarantine_fraction")
DEFAULT_WORKERS = default("validate.workers")


@dataclass
class ValidationResult:
    valid: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]
    report: dict[str, Any] = field(default_factory=dict)


def _prepare(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every model table, conformed to the contract, with positions as index."""
    return {name: prepare_table(name, tables.get(name)) for name in TABLES}


def prepare_table(name: str, df: pd.DataFrame | None) -> pd.DataFrame:
    """Table `name` (None: empty) conformed to the contract, with positions as index."""
    if df is None:
        df = empty_frame(name)
    elif not _conforms(df, name):
        df = conform(df, name)
    return df.reset_index(drop=True)


def _conforms(df: pd.DataFrame, name: str) -> bool:
    t = TABLES[name]
    return (list(df.columns) == t.column_names
            and all(str(df[c.name].dtype) == str(pd.api.types.pandas_dtype(c.dtype))
                    for c in t.columns))


# The phases of validate_tables, in order, as reported to `on_step`.
STEPS = ("normalise ids", "fill determined fields", "checks", "assemble outputs")


def validate_tables(tables: dict[str, pd.DataFrame], params: dict | None = None,
                    engine=None, partition_rows: int | None = None,
                    on_step=None) -> ValidationResult:
    """Split every model table into valid and quarantined rows; see the module docstring.

    `params` is the `validate` section of params.yaml; no check is tunable today (its limit is
    applied by `enforce_limits`, after the outputs are written). `engine`: None (local) or a
    pipeline.engine.DaskEngine whose cluster runs the checks on partitions of about
    `partition_rows` rows (default: the engine's, params engine.partition_rows); the result
    is the same. `on_step(name)` is called as each of STEPS starts (a progress bar).
    """
    from schemas import copies, fill

    step = on_step or (lambda name: None)
    step(STEPS[0])
    tables, normalised = copies.normalise_ids(_prepare(tables))
    step(STEPS[1])
    tables, filled = fill.fill_determined(tables)
    step(STEPS[2])
    if engine is None:
        stale, found, hits = _check_locally(tables, _workers(params))
    else:
        from pipeline.validate.dask_checks import run_checks

        stale, found, hits = run_checks(engine, tables, partition_rows or engine.partition_rows)
    step(STEPS[3])
    return _assemble(tables, stale, found, hits, normalised, filled)


def _workers(params: dict | None) -> int:
    raw = (params or {}).get("workers", DEFAULT_WORKERS)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise InputError(f"params validate.workers must be a positive integer, got {raw!r}")
    return raw


def _check_locally(tables: dict[str, pd.DataFrame], workers: int = 1):
    """(stale copies, other failures, warning hits) per table; positions are table positions.
    The single-table checks run on up to `workers` processes (pipeline/validate/parallel.py)."""
    from pipeline.validate.parallel import all_single_table_failures
    from schemas import copies, relations

    stale = copies.stale_copies(tables)
    # Stale copies are set aside: the other checks see each object once.
    work, kept_pos = {}, {}
    for name, df in tables.items():
        gone = stale[name]["pos"].to_numpy(dtype=np.int64)
        if len(gone):
            keep = np.ones(len(df), dtype=bool)
            keep[gone] = False
            kept_pos[name] = np.flatnonzero(keep)
            work[name] = df.iloc[kept_pos[name]].reset_index(drop=True)
        else:
            work[name] = df
    single = all_single_table_failures(work, workers)
    work_failures = relations.run(work, single)
    found, hits = {}, {}
    for name, f in work_failures.items():
        if name in kept_pos:  # positions in `work` -> positions in the table
            f = f.assign(pos=kept_pos[name][f["pos"].to_numpy(dtype=np.int64)])
        found[name] = f
        hits[name] = [warning_hits(name, work[name], kept_pos.get(name))]
    return stale, found, hits


def _assemble(tables, stale, found, hits, normalised, filled) -> ValidationResult:
    """Valid and quarantined rows, and the report, from the failures in table positions."""
    from schemas import relations

    valid, quarantine, table_reports, warns = {}, {}, {}, []
    for name, df in tables.items():
        f = all_failures(stale[name], found[name])
        bad = relations.collapse(f)
        pos = bad.index.to_numpy(dtype=np.int64)
        mask = np.zeros(len(df), dtype=bool)
        mask[pos] = True
        # No copy when nothing failed (the usual case for most tables): memory at 1M rows.
        valid[name] = df[~mask].reset_index(drop=True) if len(pos) else df
        q = df.iloc[pos].reset_index(drop=True)
        quarantine[name] = with_reasons(q, bad)
        table_reports[name], w = table_report(name, len(df), len(valid[name]), len(q), f,
                                              hits[name])
        warns += w
    return ValidationResult(valid, quarantine, full_report(table_reports, warns, normalised, filled))


def all_failures(stale: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """A table's failures: its stale copies first, then the others (what `collapse` reads)."""
    return pd.concat([stale, found], ignore_index=True) if len(stale) else found


def with_reasons(rows: pd.DataFrame, bad: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows (in position order) with their `check` and `reason` columns, from the
    collapsed failures of exactly these rows."""
    rows = rows.copy()
    rows["check"] = pd.array(bad["check"].tolist(), dtype="string")
    rows["reason"] = pd.array(bad["reason"].tolist(), dtype="string")
    return rows


def table_report(name: str, rows_in: int, rows_valid: int, rows_quarantined: int,
                 f: pd.DataFrame, hits: list) -> tuple[dict, list[dict]]:
    """(the report's entry of table `name`, its warnings) from its failures and warning hits."""
    if rows_in != rows_valid + rows_quarantined:
        raise AssertionError(f"{name}: {rows_in} rows in != {rows_valid} valid + "
                             f"{rows_quarantined} quarantined")
    w = summarize_warnings(name, hits)
    by_check = f.drop_duplicates(["pos", "check"])["check"].value_counts()
    return {
        "rows_in": rows_in,
        "rows_valid": rows_valid,
        "rows_quarantined": rows_quarantined,
        "quarantine_fraction": round(rows_quarantined / rows_in, 6) if rows_in else 0.0,
        "warnings": sum(x["count"] for x in w),
        "by_check": {k: int(v) for k, v in sorted(by_check.items())},
    }, w


def full_report(table_reports: dict, warns: list, normalised: dict, filled: dict) -> dict:
    report = _report(table_reports, warns)
    # Ids rewritten to their canonical spelling (whitespace, UUID case), per table and column.
    report["normalised_ids"] = {t: dict(sorted(c.items())) for t, c in sorted(normalised.items())}
    # Null fields filled from the field that determines them (schemas/fill.py).
    report["filled_fields"] = {t: dict(sorted(c.items())) for t, c in sorted(filled.items())}
    return report


def _report(tables: dict[str, dict], warns: list[dict]) -> dict[str, Any]:
    rows_in = sum(t["rows_in"] for t in tables.values())
    rows_q = sum(t["rows_quarantined"] for t in tables.values())
    by_check: dict[str, int] = {}
    for t in tables.values():
        for k, v in t["by_check"].items():
            by_check[k] = by_check.get(k, 0) + v
    totals = {
        "rows_in": rows_in,
        "rows_valid": sum(t["rows_valid"] for t in tables.values()),
        "rows_quarantined": rows_q,
        "quarantine_fraction": round(rows_q / rows_in, 6) if rows_in else 0.0,
        "warnings": sum(t["warnings"] for t in tables.values()),
        "by_check": dict(sorted(by_check.items())),
    }
    return {"tables": tables, "totals": totals, "warnings": warns}


def enforce_limits(report: dict[str, Any], params: dict | None = None,
                   quarantine_dir: Path | str = Path("data/quarantine")) -> None:
    """Raise StageFailed (one line) when a table's quarantined fraction exceeds the limit."""
    limit = float((params or {}).get("max_quarantine_fraction", DEFAULT_MAX_QUARANTINE_FRACTION))
    over = [(t["quarantine_fraction"], name, t) for name, t in report["tables"].items()
            if t["rows_in"] and t["quarantine_fraction"] > limit]
    if not over:
        return
    over.sort(key=lambda x: (-x[0], x[1]))
    parts = [f"{name} {frac:.1%} ({t['rows_quarantined']:,} of {t['rows_in']:,} rows, see "
             f"{Path(quarantine_dir) / (name + '.parquet')})" for frac, name, t in over]
    raise StageFailed(f"quarantined fraction above max_quarantine_fraction {limit:.1%} in "
                      + "; ".join(parts))
