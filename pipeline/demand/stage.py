"""The demand stage's entry point: read the validated tables (and the benchmark), evaluate,
write the report, log the run."""

from __future__ import annotations

from typing import Any

from pipeline import io
from pipeline.demand.model import evaluate


def run(params: dict[str, Any], validated, bench, report, track: bool) -> tuple[dict[str, Any], str | None]:
    """The demand stage: evaluate on the validated tables (and the benchmark with `bench`), write
    the report, log the run to MLflow with `track`; (report, MLflow run id or None)."""
    tables = io.read_tables(validated)
    bench_data = None
    if bench is not None:
        from pipeline import benchmark

        bench_data = benchmark.load(bench)
    rep, model, _frame = evaluate(tables, params, bench_data)
    io.write_json(rep, report)
    run_id = None
    if track:
        from pipeline import tracking

        run_id = tracking.log_demand(rep, model, params, data_paths=[str(validated)])
    return rep, run_id
