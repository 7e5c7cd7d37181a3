"""Validation stage: split every canonical table into valid rows and quarantined rows.

0. identities and copies (schemas/copies.py): id columns normalised (whitespace, UUID case),
   null fields that another field determines filled (schemas/fill.py), then of the copies of
   one object the newest is kept, the others quarantined (`superseded`, `duplicate_id`) with
   their nested children; the steps below run on the remaining rows;
1. single-table checks: the pandera schema of each table (schemas/models.py), run lazily; each
   failure case (row, check) becomes a reason code and a human-readable reason;
2. cross-table checks, references and the parent cascade (schemas/relations.py);
3. assembly: valid rows keep the model's columns, dtypes and input order; quarantined rows
   keep all their columns plus `check` (sorted unique codes joined by ';') and `reason`.
Warnings (device_owner_unknown, gateway_outside_subnet, network_id_unknown) are counted with
examples and never quarantine.

Row accounting is exact: for every table rows_in == rows_valid + rows_quarantined.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipeline.errors import StageFailed
from pipeline.params import default
from schemas.model import TABLES, conform, empty_frame

DEFAULT_MAX_QUARANTINE_FRACTION = default("validate.max_quarantine_fraction")
WARNING_EXAMPLES = 5
# Fields Neutron always has that some listings omit, with nothing to fill them from: the row is
# a real object and stays valid; the count (examples: row ids) is a warning.
UNKNOWN_WARNINGS = (("ports", "network_id", "network_id_unknown"),)


@dataclass
class ValidationResult:
    valid: dict[str, pd.DataFrame]
    quarantine: dict[str, pd.DataFrame]
    report: dict[str, Any] = field(default_factory=dict)


def _prepare(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Every model table, conformed to the contract, with positions as index."""
    out = {}
    for name in TABLES:
        df = tables.get(name)
        if df is None:
            df = empty_frame(name)
        elif not _conforms(df, name):
            df = conform(df, name)
        out[name] = df.reset_index(drop=True)
    return out


def _conforms(df: pd.DataFrame, name: str) -> bool:
    t = TABLES[name]
    return (list(df.columns) == t.column_names
            and all(str(df[c.name].dtype) == str(pd.api.types.pandas_dtype(c.dtype))
                    for c in t.columns))


def single_table_failures(name: str, df: pd.DataFrame):
    """Failures of the table's pandera schema as a (pos, check, reason) frame.

    pandera runs at DATA_ONLY depth: its schema-level checks (dtypes, column set and order)
    hold by construction because `_prepare` conforms every table to the model, and they cost
    about a millisecond per column per call. pandera files `nullable` under schema-level too,
    so the non-null columns the schema declares are checked here (`id_missing`); a blank
    string ("", or only whitespace before `normalise_ids`) counts as missing there.
    """
    import pandera.errors as pe
    from pandera.config import ValidationDepth, config_context

    from schemas import checks
    from schemas.models import SCHEMAS
    from schemas.relations import failures, no_failures

    schema = SCHEMAS[name]
    if len(df) == 0:
        return no_failures()
    parts = []
    for col_name, col in schema.columns.items():
        if not col.nullable:
            values = df[col_name]
            missing = np.flatnonzero(values.isna().to_numpy(dtype=bool))
            if len(missing):
                parts.append(failures(missing, "id_missing",
                                      checks.message("id_missing", df, missing, col_name)))
            if values.dtype == "string":
                blank = np.flatnonzero((values.str.strip() == "").to_numpy(dtype=bool,
                                                                          na_value=False))
                if len(blank):
                    parts.append(failures(blank, "id_missing",
                                          [f"{col_name} is blank ({v!r})"
                                           for v in values.iloc[blank].tolist()]))
    try:
        with warnings.catch_warnings(), config_context(validation_depth=ValidationDepth.DATA_ONLY):
            # Warning checks are counted by `_warnings`; pandera's own warning text is noise.
            warnings.simplefilter("ignore", pe.SchemaWarning)
            schema.validate(df, lazy=True)
        return pd.concat(parts, ignore_index=True) if parts else no_failures()
    except pe.SchemaErrors as err:
        fc = err.failure_cases
    rowless = fc["index"].isna()
    if rowless.any():  # a column-level problem: the input broke the contract, not a row
        first = fc[rowless].iloc[0]
        raise StageFailed(f"{name}: schema check {first['check']} failed on column "
                          f"{first['column']} ({first['failure_case']}); input does not match "
                          f"schemas/model.py")
    fc = fc.assign(pos=fc["index"].astype(np.int64))
    table_level = (fc["schema_context"] == "DataFrameSchema").to_numpy()
    fc.loc[table_level, "column"] = None  # table checks report once per row, not per column
    for (ctx, column, number, check_label), grp in fc.groupby(
            ["schema_context", "column", "check_number", "check"], dropna=False, sort=True):
        check_obj = _check_object(schema, ctx, column, number)
        code = checks.reason_code(check_obj.name if check_obj is not None else check_label)
        pos = np.unique(grp["pos"].to_numpy())
        stats = dict(check_obj.statistics or {}) if check_obj is not None else {}
        col = None if pd.isna(column) else column
        parts.append(failures(pos, code, checks.message(code, df, pos, col, stats)))
    return pd.concat(parts, ignore_index=True)


def _check_object(schema, ctx, column, number):
    if pd.isna(number):
        return None  # built-ins such as not_nullable carry no check object
    number = int(number)
    if ctx == "DataFrameSchema":
        return schema.checks[number]
    return schema.columns[column].checks[number]


def _warnings(name: str, df: pd.DataFrame) -> list[dict[str, Any]]:
    """Warning checks of the schema (raise_warning=True): count and most frequent examples."""
    from schemas import checks
    from schemas.models import SCHEMAS

    out = []
    for col_name, col in SCHEMAS[name].columns.items():
        for chk in col.checks:
            if not chk.raise_warning:
                continue
            s = df[col_name].dropna()
            ok = getattr(checks, chk.name)(s, **(chk.statistics or {}))
            bad = s[~ok.to_numpy(dtype=bool)]
            if len(bad) == 0:
                continue
            counts = bad.value_counts()
            counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
            out.append({"table": name, "check": chk.name, "column": col_name,
                        "count": int(len(bad)),
                        "examples": [str(v) for v in counts.index[:WARNING_EXAMPLES]]})
    for chk in SCHEMAS[name].checks:  # table-level warning checks: examples are row ids
        if not chk.raise_warning or not len(df):
            continue
        bad = ~getattr(checks, chk.name)(df).to_numpy(dtype=bool)
        if bad.any():
            out.append({"table": name, "check": chk.name, "column": None,
                        "count": int(bad.sum()),
                        "examples": [str(v) for v in df["id"][bad].iloc[:WARNING_EXAMPLES]]})
    for table, col_name, check in UNKNOWN_WARNINGS:
        if table != name or not len(df):
            continue
        unknown = df[col_name].isna().to_numpy(dtype=bool)
        if unknown.any():
            out.append({"table": name, "check": check, "column": col_name,
                        "count": int(unknown.sum()),
                        "examples": [str(v) for v in df["id"][unknown].iloc[:WARNING_EXAMPLES]]})
    return out


def validate_tables(tables: dict[str, pd.DataFrame],
                    params: dict | None = None) -> ValidationResult:
    """Split every model table into valid and quarantined rows; see the module docstring.

    `params` is the `validate` section of params.yaml; no check is tunable today (its limit is
    applied by `enforce_limits`, after the outputs are written).
    """
    from schemas import copies, fill, relations

    tables, normalised = copies.normalise_ids(_prepare(tables))
    tables, filled = fill.fill_determined(tables)
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
    single = {name: single_table_failures(name, df) for name, df in work.items()}
    work_failures = relations.run(work, single)

    valid, quarantine, table_reports, warns = {}, {}, {}, []
    for name, df in tables.items():
        f = work_failures[name]
        if name in kept_pos:  # positions in `work` -> positions in the table
            f = f.assign(pos=kept_pos[name][f["pos"].to_numpy(dtype=np.int64)])
            f = pd.concat([stale[name], f], ignore_index=True)
        bad = relations.collapse(f)
        pos = bad.index.to_numpy(dtype=np.int64)
        mask = np.zeros(len(df), dtype=bool)
        mask[pos] = True
        # No copy when nothing failed (the usual case for most tables): memory at 1M rows.
        valid[name] = df[~mask].reset_index(drop=True) if len(pos) else df
        q = df.iloc[pos].reset_index(drop=True)
        q["check"] = pd.array(bad["check"].tolist(), dtype="string")
        q["reason"] = pd.array(bad["reason"].tolist(), dtype="string")
        quarantine[name] = q
        n_in, n_valid, n_q = len(df), len(valid[name]), len(q)
        if n_in != n_valid + n_q:
            raise AssertionError(f"{name}: {n_in} rows in != {n_valid} valid + {n_q} quarantined")
        w = _warnings(name, work[name])
        warns += w
        by_check = f.drop_duplicates(["pos", "check"])["check"].value_counts()
        table_reports[name] = {
            "rows_in": n_in,
            "rows_valid": n_valid,
            "rows_quarantined": n_q,
            "quarantine_fraction": round(n_q / n_in, 6) if n_in else 0.0,
            "warnings": sum(x["count"] for x in w),
            "by_check": {k: int(v) for k, v in sorted(by_check.items())},
        }
    report = _report(table_reports, warns)
    # Ids rewritten to their canonical spelling (whitespace, UUID case), per table and column.
    report["normalised_ids"] = {t: dict(sorted(c.items())) for t, c in sorted(normalised.items())}
    # Null fields filled from the field that determines them (schemas/fill.py).
    report["filled_fields"] = {t: dict(sorted(c.items())) for t, c in sorted(filled.items())}
    return ValidationResult(valid, quarantine, report)


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
