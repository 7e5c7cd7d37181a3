"""The train stage's entry point: read a task's tables, train it, write its artifacts (layout:
pipeline/train/artifacts.py), log the run. The CLI declares options, loads params, calls `run`
and prints what it yields.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

from pipeline import io
from pipeline import train as core
from pipeline.errors import InputError, StageFailed, describe
from pipeline.train.artifacts import model_path, write_model

def write_outputs(result: core.TrainResult, models_dir: Path, report: Path,
                  plots: Optional[Path]) -> None:
    """The model, the metrics report and (with `plots`) confusion_<task>.csv/.png."""
    import pandas as pd

    write_model(result, models_dir)
    io.write_json(result.metrics, report)
    if plots:
        from pipeline import tracking

        plots.mkdir(parents=True, exist_ok=True)
        # One row per labelled entity, out-of-fold: DVC's confusion template counts them.
        pd.DataFrame({"actual": result.oof["label"], "predicted": result.oof["model"]}).to_csv(
            plots / f"confusion_{result.task}.csv", index=False)
        tracking.write_confusion_png(result, plots / f"confusion_{result.task}.png")


def _rule_predictions(name: str, cfg: dict[str, Any], feats, tables, params: dict[str, Any],
                      params_file: Path):
    """The task's rule baseline predictions (None without one)."""
    from pipeline import labels as labeler

    try:
        if cfg["rule_baseline"] == "device_address" and "device_id_empty" in feats.columns:
            return labeler.port_rule(feats)   # the port features already made
        return labeler.rule_baseline(cfg["rule_baseline"], tables, params)
    except (KeyError, ValueError) as e:  # unknown rule, bad naming pattern
        raise InputError(f"{params_file}: tasks.{name}.rule_baseline: "
                         f"{e.args[0] if e.args else e}") from e


def run(params: dict[str, Any], task: str, features_dir: Path, labels_dir: Path, validated: Path,
        models_dir: Path, report: str, plots: Optional[Path], bench: Optional[Path], track: bool,
        params_file: Path) -> Iterator[tuple[core.TrainResult, Optional[str]]]:
    """Train each task named by `task` (or `all`), one at a time: yields (result, MLflow run id)
    after the task's outputs are written, so a caller reports each before the next starts."""
    names = io.task_names(params, task, params_file)
    if len(names) > 1 and "{task}" not in report:
        raise InputError(f"--report {report}: with several tasks it needs a {{task}} placeholder")
    tables = None
    bench_data = None
    for name in names:
        cfg = dict(params["tasks"][name] or {})
        feat_path = features_dir / f"{cfg.get('features', name)}.parquet"
        lab_path = labels_dir / f"{name}.parquet"
        feats = io.read_frame(feat_path, "features table")
        labs = io.read_frame(lab_path, "labels table")
        rule = None
        if cfg.get("rule_baseline"):
            tables = tables if tables is not None else io.read_tables(validated)
            rule = _rule_predictions(name, cfg, feats, tables, params, params_file)
        try:
            result = core.train_task(name, feats, labs, rule, params)
            if bench is not None:
                from pipeline import benchmark

                if bench_data is None:
                    bench_data = benchmark.load(bench)
                result.metrics["benchmark"] = benchmark.evaluate_task(name, bench_data, params)
        except core.LabelsError as e:
            raise InputError(f"{lab_path}: {e}") from e
        except core.FeaturesError as e:
            raise InputError(f"{feat_path}: {e}") from e
        except core.ParamsError as e:
            raise InputError(f"{params_file}: {e}") from e
        write_outputs(result, models_dir, Path(report.replace("{task}", name)), plots)
        run_id = None
        if track:
            run_id = _log(result, params, feat_path, [features_dir, labels_dir, validated],
                          plots, models_dir)
        yield result, run_id


def _log(result: core.TrainResult, params: dict[str, Any], feat_path: Path, data_dirs: list[Path],
         plots: Optional[Path], models_dir: Path) -> str:
    from pipeline import tracking

    name = result.task
    try:
        return tracking.log_training(
            result, params, dataset_source=str(feat_path),
            data_paths=[str(d) for d in data_dirs],
            confusion_png=(plots / f"confusion_{name}.png") if plots else None,
            model_blob=model_path(models_dir, name).read_bytes())
    except Exception as e:  # MLflow/DB trouble: the files are written, say so plainly
        raise StageFailed(f"{name}: model written to {models_dir / name} but MLflow "
                          f"logging to {tracking.tracking_uri()} failed: {describe(e)}") from e
