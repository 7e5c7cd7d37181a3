"""The per-table rules of validation, as pure functions over one pandas frame.

Both engines run these same functions: the local engine on whole tables, the dask engine
(pipeline/validate/dask_checks.py) on partitions, so every reason text is written once.

- `single_table_failures`: the table's pandera schema (schemas/models.py) as (pos, check,
  reason) failures. `row_schema` / `GROUP_CHECKS` split that schema for partitions: the checks
  that compare rows with each other (uniqueness, overlaps) need every row sharing a key in one
  partition, the others need only the row;
- `warning_hits` / `summarize_warnings`: the warning checks (raise_warning=True), counted with
  examples; hits of several partitions combine to the same summary as one whole-table pass.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pandas as pd

from pipeline.errors import StageFailed

WARNING_EXAMPLES = 5
# Fields Neutron always has that some listings omit, with nothing to fill them from: the row is
# a real object and stays valid; the count (examples: row ids) is a warning.
UNKNOWN_WARNINGS = (("ports", "network_id", "network_id_unknown"),)

# Table-level checks that compare rows with each other -> (the column whose equal values must
# share a partition, the columns the check and its reason read). A coarser key than the
# check's own is fine: equal keys stay together. Only the columns read are shuffled.
_WHERE = ["source_file", "source_pos"]  # reasons name the first row by its place
GROUP_CHECKS = {
    "duplicate_id": lambda st: (list(st["key"])[0], [*st["key"], *_WHERE]),
    "mac_duplicate_in_network": lambda st: (st["scope"], [st["scope"], st["column"], "id",
                                                          *_WHERE]),
    "ip_duplicate_in_subnet": lambda st: ("subnet_id", ["subnet_id", "ip_address", "port_id",
                                                        *_WHERE]),
    "subnet_overlap": lambda st: ("network_id", ["network_id", "cidr", "id"]),
    "host_name_duplicate": lambda st: ("node_name", ["node_name", "id", *_WHERE]),
}
# Table-level checks that read one row at a time (any partitioning gives the same result).
ROW_CHECKS = {
    "required_missing", "segmentation_id_range", "ip_version_mismatch",
    "gateway_family_mismatch", "gateway_outside_subnet", "gateway_reserved", "pool_invalid",
    "subnetpool_prefix_invalid", "prefixlen_range", "ethertype_prefix_mismatch",
    "port_range_invalid", "port_range_protocol",
}


def single_table_failures(name: str, df: pd.DataFrame, schema=None):
    """Failures of the table's pandera schema as a (pos, check, reason) frame.

    pandera runs at DATA_ONLY depth: its schema-level checks (dtypes, column set and order)
    hold by construction because validation conforms every table to the model first, and they
    cost about a millisecond per column per call. pandera files `nullable` under schema-level
    too, so the non-null columns the schema declares are checked here (`id_missing`); a blank
    string ("", or only whitespace before `normalise_ids`) counts as missing there.
    `schema`: another schema of the table (e.g. `row_schema(name)`), default the full one.
    """
    import pandera.errors as pe
    from pandera.config import ValidationDepth, config_context

    from schemas import checks
    from schemas.models import SCHEMAS
    from schemas.relations import failures, no_failures

    schema = SCHEMAS[name] if schema is None else schema
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
            # Warning checks are counted by `warning_hits`; pandera's own warning text is noise.
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


# --- the schema split for partitions -------------------------------------------------------------

_ROW_SCHEMAS: dict = {}


def group_checks(name: str) -> list[tuple[object, str, list[str]]]:
    """(check, column to co-partition on, columns it reads) of every table-level check of
    `name` comparing rows.

    A table check in neither GROUP_CHECKS nor ROW_CHECKS is an error: run per partition
    unnoticed, a check comparing rows would silently miss pairs split across partitions.
    """
    from schemas.models import SCHEMAS

    out = []
    for chk in SCHEMAS[name].checks:
        if chk.name in GROUP_CHECKS:
            key, columns = GROUP_CHECKS[chk.name](dict(chk.statistics or {}))
            out.append((chk, key, list(dict.fromkeys(columns))))
        elif chk.name not in ROW_CHECKS:
            raise StageFailed(f"{name}: table check {chk.name} is not classified in "
                              "pipeline/validate/rules.py (GROUP_CHECKS or ROW_CHECKS)")
    return out


def row_schema(name: str):
    """The table's schema without the checks comparing rows (those run on co-partitions)."""
    from schemas.models import SCHEMAS

    if name not in _ROW_SCHEMAS:
        grouped = {id(chk) for chk, _, _ in group_checks(name)}
        schema = copy.deepcopy(SCHEMAS[name])
        schema.checks = [c for c, orig in zip(schema.checks, SCHEMAS[name].checks)
                         if id(orig) not in grouped]
        _ROW_SCHEMAS[name] = schema
    return _ROW_SCHEMAS[name]


def group_check_failures(df: pd.DataFrame, chk) -> pd.DataFrame:
    """Failures of one row-comparing table check on `df` (all rows sharing its key), with the
    code and reason text pandera's path gives (`single_table_failures`)."""
    from schemas import checks
    from schemas.relations import failures, no_failures

    if len(df) == 0:
        return no_failures()
    stats = dict(chk.statistics or {})
    ok = getattr(checks, chk.name)(df, **stats)
    pos = np.flatnonzero(~ok.to_numpy(dtype=bool))
    if len(pos) == 0:
        return no_failures()
    code = checks.reason_code(chk.name)
    return failures(pos, code, checks.message(code, df, pos, None, stats))


# --- warnings ------------------------------------------------------------------------------------


def warning_specs(name: str) -> list[tuple[str, str | None, str]]:
    """(check, column, kind) of every warning of table `name`, in report order; kind `values`
    (examples: the most frequent bad values) or `rows` (examples: the first rows' ids)."""
    from schemas.models import SCHEMAS

    out = []
    for col_name, col in SCHEMAS[name].columns.items():
        out += [(chk.name, col_name, "values") for chk in col.checks if chk.raise_warning]
    out += [(chk.name, None, "rows") for chk in SCHEMAS[name].checks if chk.raise_warning]
    out += [(check, col, "rows") for table, col, check in UNKNOWN_WARNINGS if table == name]
    return out


def warning_hits(name: str, df: pd.DataFrame, pos: np.ndarray | None = None) -> list[pd.Series]:
    """Per warning spec: the bad values (`values`) or bad rows' ids (`rows`), indexed by row
    position (`pos`: the rows' positions in the whole table; default 0..n-1)."""
    from schemas import checks
    from schemas.models import SCHEMAS

    pos = np.arange(len(df)) if pos is None else np.asarray(pos, dtype=np.int64)
    schema = SCHEMAS[name]
    out = []
    for check, col_name, kind in warning_specs(name):
        if kind == "values":
            chk = next(c for c in schema.columns[col_name].checks if c.name == check)
            values = df[col_name].set_axis(pos)
            s = values.dropna()
            ok = getattr(checks, chk.name)(s, **(chk.statistics or {}))
            out.append(s[~ok.to_numpy(dtype=bool)])
            continue
        if not len(df):
            out.append(df["id"].set_axis(pos))
            continue
        if col_name is None:
            chk = next(c for c in schema.checks if c.name == check)
            bad = ~getattr(checks, chk.name)(df).to_numpy(dtype=bool)
        else:
            bad = df[col_name].isna().to_numpy(dtype=bool)
        out.append(df["id"].set_axis(pos)[bad])
    return out


def summarize_warnings(name: str, hits: list[list[pd.Series]]) -> list[dict]:
    """The report's warnings of table `name` from the `warning_hits` of its partitions."""
    out = []
    for k, (check, col_name, kind) in enumerate(warning_specs(name)):
        parts = [h[k] for h in hits if len(h[k])]
        if not parts:
            continue
        bad = pd.concat(parts) if len(parts) > 1 else parts[0]
        if kind == "values":
            counts = bad.value_counts()
            counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
            examples = [str(v) for v in counts.index[:WARNING_EXAMPLES]]
        else:
            examples = [str(v) for v in bad.sort_index(kind="stable").iloc[:WARNING_EXAMPLES]]
        out.append({"table": name, "check": check, "column": col_name, "count": int(len(bad)),
                    "examples": examples})
    return out
