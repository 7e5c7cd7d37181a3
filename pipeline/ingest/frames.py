"""Parsed Arrow tables -> the canonical DataFrame of a table (pandas dtypes of the contract):
what ingest writes, in this process (local engine) or in a Dask task (worker_tables.py)."""

from __future__ import annotations

_EMPTY: dict = {}


def to_frame(name: str, tables: list):
    """Table `name` from its Arrow pieces, in order (none: the empty table), conformed."""
    import pandas as pd
    import pyarrow as pa

    from pipeline.ingest.rows import SCHEMAS
    from schemas import model

    if not tables:
        # cached: building an empty frame costs milliseconds, per table, per call
        if name not in _EMPTY:
            _EMPTY[name] = to_frame(name, [SCHEMAS[name].empty_table()])
        return _EMPTY[name].copy()
    tbl = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    mapper = {pa.string(): pd.StringDtype("pyarrow"), pa.int64(): pd.Int64Dtype(),
              pa.bool_(): pd.BooleanDtype(), pa.float64(): pd.Float64Dtype()}
    df = tbl.to_pandas(types_mapper=mapper.get)
    return model.conform(df, name)
