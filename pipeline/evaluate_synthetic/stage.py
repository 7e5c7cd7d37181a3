"""The evaluate-synthetic stage's entry point: read the real and synthetic tables (and what is
known of the real project kinds), evaluate, write the report and plots, log the run.

The CLI declares options, loads params, calls `run`, prints its result and enforces the gates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pipeline import io
from pipeline.evaluate_synthetic.evaluate import evaluate, gate_failures
from pipeline.evaluate_synthetic.mlflow_run import log_run
from pipeline.evaluate_synthetic.plots import write_plots
from pipeline.evaluate_synthetic.utility import TASK
from pipeline.errors import StageFailed, describe


@dataclass
class Outcome:
    report: dict[str, Any]
    run_id: Optional[str]
    notes: list[str] = field(default_factory=list)   # inputs missing, and what was done instead


def run(params: dict[str, Any], real: Path, synthetic: Path, labels_dir: Path,
        predictions_dir: Path, models_dir: Path, report: Path, plots: Optional[Path],
        track: bool, bench: Optional[Path]) -> Outcome:
    from pipeline.train.artifacts import model_path

    real_tables = io.read_tables(real)
    synth_tables = io.read_tables(synthetic)
    task = TASK
    lab_path, pred_path = labels_dir / f"{task}.parquet", predictions_dir / f"{task}.parquet"
    model_file = model_path(models_dir, task)
    notes = []
    real_labels = io.read_frame(lab_path, "labels table", required=False)
    if real_labels is None:
        notes.append(f"{lab_path} missing: real labels computed from {real}")
    real_preds = io.read_frame(pred_path, "predictions table", required=False)
    model = None
    if model_file.exists():
        from pipeline.train import load_model

        model = load_model(model_file)
    else:
        notes.append(f"{model_file} missing: unlabelled synthetic projects count as unknown")
    ev = evaluate(real_tables, synth_tables, params, real_labels=real_labels,
                       real_predictions=real_preds, model=model)
    if bench is not None:
        _add_heldout(ev.report, bench, params)
    io.write_json(ev.report, report)
    written = write_plots(ev, plots) if plots else []
    run_id = None
    if track:
        from pipeline import tracking

        try:
            run_id = log_run(ev.report, params, written, report,
                             data_paths=[str(real), str(synthetic), str(labels_dir)])
        except Exception as e:  # MLflow/DB trouble: the files are written, say so plainly
            raise StageFailed(f"{report} written but MLflow logging to {tracking.tracking_uri()} "
                              f"failed: {describe(e)}") from e
    return Outcome(ev.report, run_id, notes)


def _add_heldout(report: dict[str, Any], bench: Path, params: dict[str, Any]) -> None:
    """Held-out TSTR vs TRTR on the harder benchmark, and its gate."""
    from pipeline import benchmark
    from pipeline.evaluate_synthetic import heldout

    bench_data = benchmark.load(bench)
    held = heldout.evaluate(bench_data["a"], params, bench_data["b"])
    report["gates"]["tstr_heldout"] = held.pop("gate")
    report["utility_heldout"] = held
    report["passed"] = all(g["passed"] for g in report["gates"].values())


def enforce_gates(report: dict[str, Any], report_path: Path) -> None:
    failures = gate_failures(report)
    if failures:
        raise StageFailed("synthetic data failed evaluation: " + "; ".join(failures)
                          + f" (details in {report_path})")
