"""The stage: learn, generate, validate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from pipeline.synthesize.exclusions import Exclusions
from pipeline.synthesize.generate import STEPS, generate
from pipeline.synthesize.learn import learn


RUN_STEPS = ("learn",) + STEPS + ("validate",)


def shard_runner(engine) -> Callable | None:
    """generate's `run_shards` on an engine: None (in this process) for the local engine; for
    a pipeline.engine.DaskEngine, one Dask task per shard, results taken in shard order (one
    task per worker thread in flight: a shard's tables are large)."""
    if engine is None:
        return None

    def run_shards(fn, items):
        for _item, frames in engine.run_ordered(fn, items, per_worker=1,
                                                describe=lambda item: f"synthesize shard {item[2]}"):
            yield frames

    return run_shards


def run(tables: dict[str, pd.DataFrame], profiles: pd.Series | None, params: dict | None,
        progress: Callable[[str, int, int], None] | None = None, model: dict | None = None,
        engine=None) -> tuple[dict[str, Any], dict[str, pd.DataFrame], dict[str, Any]]:
    """(model, synthetic tables, summary). Raises StageFailed when validation quarantines a
    single synthetic row: generated data must be valid by construction. `model`: generate from
    this (e.g. a reviewed, hand-edited model) instead of learning one from `tables`. `engine`:
    where the shards run (synthesize.shards > 1): None in this process, or a DaskEngine; the
    tables are the same either way."""
    from pipeline.errors import StageFailed
    from pipeline.validate import validate_tables

    total = len(RUN_STEPS)

    def prog(name, i, _n):
        if progress:
            progress(name, 1 + i, total)

    if progress:
        progress("learn", 0, total)
    model = model if model is not None else learn(tables, profiles, params)
    syn = generate(model, params, prog, exclude=Exclusions.from_tables(tables), run_shards=shard_runner(engine))
    if progress:
        progress("validate", total - 1, total)
    result = validate_tables(syn, (params or {}).get("validate"))
    totals = result.report["totals"]
    if totals["rows_quarantined"]:
        name, q = next((n, q) for n, q in result.quarantine.items() if len(q))
        checks = ", ".join(f"{k} {v}" for k, v in totals["by_check"].items())
        raise StageFailed(f"synthetic data failed validation: {totals['rows_quarantined']:,} rows "
                          f"quarantined ({checks}); first: {name}: {q['reason'].iloc[0]}")
    if progress:
        progress("done", total, total)
    kinds = syn["project_labels"]["profile"].value_counts().sort_index()
    summary = {
        "rows": {name: int(len(df)) for name, df in syn.items()},
        "kinds": {str(k): int(v) for k, v in kinds.items()},
        "validation": {k: totals[k] for k in ("rows_in", "rows_valid", "rows_quarantined")},
        "replaced_values": dict(model.get("replaced_values") or {}),
    }
    return model, syn, summary
