"""Identities and copies: ids compared as the source system compares them, the newest copy kept.

Runs in validation before any other check (pipeline/validate/):

1. `normalise_ids`: id and reference columns lose surrounding whitespace, and UUIDs (with or
   without dashes) become lower case. Neutron treats them so: its UUID validator accepts any
   case and its MySQL collation compares case-insensitively and ignores trailing blanks, so
   `ABC...` and `abc... ` name one port. Other ids (host names, Alcor node ids) keep their case.
   A required id left blank (`""`, `" "`) is quarantined later as `id_missing`.
2. `stale_copies`: rows repeating the key of another row are copies of one object. The newest
   copy is kept, by `updated_at` (Alcor `update_at`), then `revision_number`, then position
   (the first in input order wins a tie). The others are quarantined:
   - `superseded` when the kept copy is known to be newer (later updated_at or higher
     revision_number; a copy without them is older than one with them);
   - `duplicate_id` when both carry the same version (a repeated export, or no version at all).
   Child rows unnested from a stale copy (its fixed IPs, security groups, pools, embedded
   rules: same key, source_file and source_pos) leave with it (`parent_quarantined`), so the
   kept copy keeps exactly its own children. Tables are visited parents first, so a child
   table with its own ids (rules) has its copies resolved among the rows that remain.

Stale rows are then set aside: the other checks run on the remaining rows only, so a newer copy
repeating the MAC or address of its stale copy is not reported as a duplicate MAC or address.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.model import TABLES
from schemas import netaddr as na

UUID_REGEX = (r"^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
              r"|[0-9a-fA-F]{32})$")
# Columns holding ids besides keys and references (compared with other ids by synthesis,
# labels and features).
_OTHER_ID_COLUMNS = ("project_id", "device_id", "router_id", "subnetpool_id", "segment_id",
                     "attached_router_id", "ncm_id")
VERSION_FIELDS = ("updated_at", "update_at")


def id_columns(table: str) -> list[str]:
    """String columns of `table` holding identifiers (key, references, other ids)."""
    t = TABLES[table]
    names = set(t.key) | {col for col, _, _ in t.references}
    names |= {c for c in _OTHER_ID_COLUMNS if c in t.column_names}
    names |= {pcol for other in TABLES.values() for _, parent, pcol in other.references
              if parent == table}
    return [c.name for c in t.columns if c.name in names and c.dtype == "string"]


def normalise_id_values(values) -> pa.Array:
    """Whitespace stripped; UUID-shaped values lower-cased (nulls kept)."""
    arr = pc.utf8_trim_whitespace(na.to_arrow(values))
    is_uuid = pc.match_substring_regex(arr, UUID_REGEX)
    return pc.if_else(pc.fill_null(is_uuid, False), pc.utf8_lower(arr), arr)


def normalise_ids(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict]:
    """(tables with normalised id columns, {table: {column: values changed}})."""
    out, changed = {}, {}
    for name, df in tables.items():
        if name not in TABLES or len(df) == 0:
            out[name] = df
            continue
        new_cols = {}
        for col in id_columns(name):
            before = na.to_arrow(df[col])
            # Cheap test first (two kernels): most dumps need no change in most columns.
            maybe = pc.or_(pc.not_equal(before, pc.utf8_trim_whitespace(before)),
                           pc.not_equal(before, pc.utf8_lower(before)))
            if not pc.any(pc.fill_null(maybe, False)).as_py():
                continue
            after = normalise_id_values(before)
            diff = pc.sum(pc.cast(pc.fill_null(pc.not_equal(before, after), False), pa.int64()))
            n = int(diff.as_py() or 0)
            if n:
                new_cols[col] = pd.Series(after.to_pandas().to_numpy(dtype=object),
                                          index=df.index, dtype="string")
                changed.setdefault(name, {})[col] = n
        out[name] = df.assign(**new_cols) if new_cols else df
    return out, changed


# --- copies --------------------------------------------------------------------------------------


def _blank(s: pd.Series) -> np.ndarray:
    return (s.isna() | (s.astype("string") == "")).to_numpy(dtype=bool, na_value=True)


def _versions(df: pd.DataFrame, pos: np.ndarray) -> pd.DataFrame:
    """(ts, rev) of the rows at `pos`: updated_at as UTC nanoseconds and revision_number,
    NaN where unknown. From the columns when the table has them, else from `extra`."""
    extras = [{} for _ in pos]
    if "extra" in df.columns:
        for k, text in enumerate(df["extra"].iloc[pos].tolist()):
            if isinstance(text, str) and text:
                try:
                    obj = json.loads(text)
                except ValueError:
                    continue
                extras[k] = obj if isinstance(obj, dict) else {}
    if "updated_at" in df.columns:
        stamps = df["updated_at"].iloc[pos].tolist()
    else:
        stamps = [next((e[f] for f in VERSION_FIELDS if e.get(f)), None) for e in extras]
    ts = pd.to_datetime(pd.Series([s if isinstance(s, str) else None for s in stamps],
                                  dtype=object), utc=True, errors="coerce", format="ISO8601")
    revs = pd.to_numeric(pd.Series([e.get("revision_number") for e in extras], dtype=object),
                         errors="coerce")
    ts_num = ts.astype("int64").astype("float64").where(ts.notna().to_numpy(), np.nan)
    return pd.DataFrame({"ts": ts_num.to_numpy(dtype="float64"),
                         "rev": revs.to_numpy(dtype="float64"),
                         "stamp": pd.Series([s if isinstance(s, str) else None for s in stamps],
                                            dtype=object),
                         "revision": pd.Series([e.get("revision_number") for e in extras],
                                               dtype=object)})


def _show(value) -> str:
    return "missing" if value is None or (isinstance(value, float) and np.isnan(value)) \
        else str(value)


def _where(df, p) -> str:
    return f"{df['source_file'].iat[p]}#{df['source_pos'].iat[p]}"


def resolve_key_copies(name: str, df: pd.DataFrame, skip: np.ndarray) -> pd.DataFrame:
    """Failures (pos, check, reason) of the non-kept copies of each key among rows not in
    `skip`. Rows with a blank key part are left to id_missing."""
    from schemas.relations import failures, no_failures

    key = list(TABLES[name].key)
    usable = ~skip
    for k in key:
        usable &= ~_blank(df[k])
    pos = np.flatnonzero(usable)
    if len(pos) < 2:
        return no_failures()
    keys = df[key].iloc[pos]
    # one key column: Series.duplicated hashes the arrow strings directly (several times faster)
    dup = (keys.iloc[:, 0].duplicated(keep=False) if len(key) == 1
           else keys.duplicated(keep=False)).to_numpy()
    if not dup.any():
        return no_failures()
    pos = pos[dup]
    ver = _versions(df, pos)
    groups = pd.DataFrame({"pos": pos, "ts": ver["ts"].fillna(-np.inf).to_numpy(),
                           "rev": ver["rev"].fillna(-np.inf).to_numpy(), "i": np.arange(len(pos))})
    groups["g"] = df[key].iloc[pos].astype(str).agg("\x1f".join, axis=1).to_numpy()
    # Newest first; the first position wins a tie.
    order = groups.sort_values(["g", "ts", "rev", "pos"], ascending=[True, False, False, True],
                               kind="stable")
    first = order.groupby("g", sort=False).head(1)
    stale = order.drop(index=first.index)
    kept = first.set_index("g")
    hits, checks, reasons = [], [], []
    for row in stale.sort_values("pos").itertuples():
        k = kept.loc[row.g]
        newer = (k.ts, k.rev) > (row.ts, row.rev)
        label = ", ".join(f"{c}={df[c].iat[row.pos]}" for c in key)
        holder = _where(df, int(k.pos))
        if newer:
            mine, theirs = ver.iloc[row.i], ver.iloc[int(k.i)]
            checks.append("superseded")
            reasons.append(f"superseded: {label} has a newer copy at {holder} (updated_at "
                           f"{_show(theirs['stamp'])} vs {_show(mine['stamp'])}, revision_number "
                           f"{_show(theirs['revision'])} vs {_show(mine['revision'])})")
        else:
            checks.append("duplicate_id")
            reasons.append(f"duplicate {label} (kept copy at {holder}: same updated_at and "
                           f"revision_number, the first copy wins)")
        hits.append(int(row.pos))
    return failures(hits, checks, reasons)


def _stale_children(ref, child: pd.DataFrame, parent: pd.DataFrame,
                    parent_stale: pd.DataFrame) -> pd.DataFrame:
    """Child rows unnested from a stale parent row (same key, source_file and source_pos)."""
    from schemas.relations import _singular, failures, no_failures

    if len(parent_stale) == 0 or len(child) == 0:
        return no_failures()
    ppos = parent_stale["pos"].to_numpy(dtype=np.int64)
    origin = pd.DataFrame({"k": parent[ref.parent_column].iloc[ppos].to_numpy(dtype=object),
                           "f": parent["source_file"].iloc[ppos].to_numpy(dtype=object),
                           "p": parent["source_pos"].iloc[ppos].to_numpy(dtype="int64"),
                           "code": parent_stale["check"].to_numpy(dtype=object)})
    probe = pd.DataFrame({"k": child[ref.column].to_numpy(dtype=object),
                          "f": child["source_file"].to_numpy(dtype=object),
                          "p": child["source_pos"].to_numpy(dtype="int64", na_value=-1),
                          "i": np.arange(len(child))})
    hit = probe.merge(origin.drop_duplicates(["k", "f", "p"]), on=["k", "f", "p"], how="inner")
    if hit.empty:
        return no_failures()
    hit = hit.sort_values("i")
    noun = _singular(ref.parent)
    return failures(hit["i"].to_numpy(), "parent_quarantined",
                    [f"parent {noun} {k} at {f}#{p} quarantined ({c})"
                     for k, f, p, c in zip(hit["k"], hit["f"], hit["p"], hit["code"])])


def stale_copies(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Failures (pos, check, reason) of every stale copy and of its nested children, per table."""
    from schemas.relations import REFERENCES, no_failures, table_order

    out: dict[str, pd.DataFrame] = {}
    for name in table_order():
        df = tables[name]
        parts = [_stale_children(ref, df, tables[ref.parent], out[ref.parent])
                 for ref in REFERENCES if ref.table == name and ref.nested]
        gone = np.zeros(len(df), dtype=bool)
        for f in parts:
            gone[f["pos"].to_numpy(dtype=np.int64)] = True
        # A key made of the parent reference (fixed IPs, pools, ...) has no version of its
        # own: its rows follow their parent copy above, and what repeats within one object is
        # left to the schema's duplicate_id.
        if not any(ref.table == name and ref.nested and ref.column in TABLES[name].key
                   for ref in REFERENCES):
            parts.append(resolve_key_copies(name, df, gone))
        parts = [p for p in parts if len(p)]
        out[name] = pd.concat(parts, ignore_index=True) if parts else no_failures()
    return out
