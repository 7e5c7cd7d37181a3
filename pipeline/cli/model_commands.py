"""The model commands: train, demand, classify, synthesize, runs, evaluate-synthetic."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli.apps import ENGINE_OPT, PARAMS_OPT, SCHEDULER_OPT, TASK_OPT_HELP, app
from pipeline.cli.console import friendly, progress


@app.command()
@friendly
def train(
    task: str = typer.Option("all", "--task", "-t", help=TASK_OPT_HELP),
    features_dir: Path = typer.Option(Path("data/features"), "--features", help="Feature tables."),
    labels_dir: Path = typer.Option(Path("data/labels"), "--labels", help="Label tables."),
    validated: Path = typer.Option(Path("data/validated"), "--validated",
                                   help="Validated tables (the rule baselines read them)."),
    models_dir: Path = typer.Option(Path("models"), "--models", help="Writes <models>/<task>/model.skops + meta.json."),
    report: str = typer.Option("reports/train_{task}.json", "--report",
                               help="Metrics JSON (DVC metric); {task} is replaced by the task name."),
    plots: Optional[Path] = typer.Option(None, "--plots", help="Folder for confusion_<task>.csv/.png."),
    bench: Optional[Path] = typer.Option(
        None, "--bench", help="Harder benchmark folder (dvc stage benchmark_data): also score the "
        "task on data center A and transferred to B (the report's `benchmark` block)."),
    track: bool = typer.Option(True, "--track/--no-track", help="Log the run to MLflow."),
    params_file: Path = PARAMS_OPT,
):
    """Cross-validate a task's model beside its baselines, fit it, log the run to MLflow."""
    from pipeline import io
    import pipeline.cli.render as render
    from pipeline.train import stage

    params = io.load_params(params_file)
    for result, run_id in stage.run(params, task, features_dir, labels_dir, validated, models_dir,
                                    report, plots, bench, track, params_file):
        render.print_training(result, run_id)


@app.command()
@friendly
def demand(
    validated: Path = typer.Option(Path("data/validated"), "--validated", help="Validated tables."),
    bench: Optional[Path] = typer.Option(None, "--bench", help="Harder benchmark folder: also CV on A, transfer to B."),
    report: Path = typer.Option(Path("reports/train_config_demand.json"), "--report", help="Metrics JSON."),
    track: bool = typer.Option(True, "--track/--no-track", help="Log the run to MLflow."),
    params_file: Path = PARAMS_OPT,
):
    """Configuration prediction: a project's VMs, ports, SG rules and floating IPs from its
    networks, subnets and profile, against the per-profile median (MAE, MAPE)."""
    from pipeline import io
    import pipeline.cli.render as render
    from pipeline.demand import stage
    from pipeline.demand.frame import TARGETS

    params = io.load_params(params_file)
    rep, run_id = stage.run(params, validated, bench, report, track)
    render.print_demand(rep, TARGETS, bench, run_id)


@app.command()
@friendly
def classify(
    task: str = typer.Option("all", "--task", "-t", help=TASK_OPT_HELP),
    features_dir: Path = typer.Option(Path("data/features"), "--features", help="Feature tables."),
    models_dir: Path = typer.Option(Path("models"), "--models", help="Trained models (dcnet train)."),
    out: Path = typer.Option(Path("data/predictions"), "--out", "-o", help="Writes <out>/<task>.parquet."),
    params_file: Path = PARAMS_OPT,
):
    """Predict every entity (labelled or not) with each task's trained model."""
    from pipeline import io
    from pipeline.classify import stage
    import pipeline.cli.render as render

    params = io.load_params(params_file)
    counts = stage.run(params, task, features_dir, models_dir, out, params_file)
    render.print_counts("predictions", counts)


@app.command()
@friendly
def synthesize(
    input: Path = typer.Option(Path("data/validated"), "--input", "-i",
                               help="Validated tables of the real data center to learn from."),
    out: Path = typer.Option(Path("data/synthetic"), "--out", "-o", help="Folder for the synthetic tables."),
    hosts: Optional[int] = typer.Option(None, help="Compute hosts (default: params synthesize.hosts)."),
    projects: Optional[int] = typer.Option(None, help="Tenant projects (default: params synthesize.projects)."),
    seed: Optional[int] = typer.Option(None, help="Random seed (default: params synthesize.seed)."),
    shards: Optional[int] = typer.Option(None, help="Independent shards of projects, run on the engine "
                                         "(default: params synthesize.shards)."),
    labels_dir: Path = typer.Option(Path("data/labels"), "--labels",
                                    help="Label tables: project kinds from <labels>/project_profile.parquet."),
    predictions_dir: Path = typer.Option(Path("data/predictions"), "--predictions",
                                         help="Predictions: kinds of unlabelled projects."),
    model_out: Path = typer.Option(Path("models/synth_model.json"), "--model-out",
                                   help="The learned model (counts and shares only), for privacy review."),
    engine: Optional[str] = ENGINE_OPT,
    scheduler: Optional[str] = SCHEDULER_OPT,
    params_file: Path = PARAMS_OPT,
):
    """Learn the real data center's structure per project kind and generate a new, valid one."""
    from pipeline import engine as engines
    from pipeline import io
    from pipeline import synthesize as stage
    import pipeline.cli.render as render
    from pipeline.errors import InputError
    from pipeline.fabric import FabricParamsError

    params = io.load_params(params_file)
    sp = dict(params.get("synthesize") or {})
    for key, value in (("hosts", hosts), ("projects", projects), ("seed", seed), ("shards", shards)):
        if value is not None:
            sp[key] = value
    params = {**params, "synthesize": sp}
    tables = io.read_tables(input)
    profiles = stage.profiles_from(
        io.read_frame(labels_dir / "project_profile.parquet", "labels table", required=False),
        io.read_frame(predictions_dir / "project_profile.parquet", "predictions table", required=False),
        tables, params)
    spec = engines.spec_from_params(params, engine, scheduler)
    if spec.kind == "dask" and sp.get("shards", stage.DEFAULTS["shards"]) == 1:
        typer.echo("note: synthesize.shards is 1: one shard, generated in this process", err=True)
        spec = engines.EngineSpec()  # no cluster to start for nothing
    with engines.open_engine(spec, announce=lambda line: typer.echo(line, err=True)) as runner, \
            progress() as prog:
        task = prog.add_task("synthesize", total=len(stage.RUN_STEPS) + 1)

        def on_step(name, i, n):
            prog.update(task, total=n + 1, completed=i, description=f"synthesize: {name}")

        try:
            model, syn, summary = stage.run(tables, profiles, params, on_step, engine=runner)
        except (stage.SynthParamsError, FabricParamsError) as e:
            raise InputError(f"{params_file}: {e}") from e
        prog.update(task, description="synthesize: write")
        io.write_tables(syn, out, rows_per_part=io.partition_rows(params))
        io.write_json(model, model_out)
        prog.update(task, completed=len(stage.RUN_STEPS) + 1)
    render.print_synthesis(summary, out, model_out)


@app.command()
@friendly
def runs(
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task's runs."),
    limit: int = typer.Option(20, "--limit", "-n", help="Runs shown per task."),
):
    """MLflow training runs ranked by cross-validated macro-F1 (model vs baselines); config
    prediction runs (config_demand) by their MAE reduction against the per-profile median."""
    from pipeline import tracking
    import pipeline.cli.render as render

    render.print_runs(tracking.list_runs(task, limit), task, tracking.tracking_uri())


@app.command("evaluate-synthetic")
@friendly
def evaluate_synthetic(
    real: Path = typer.Option(Path("data/validated"), "--real", help="Validated real tables."),
    synthetic: Path = typer.Option(Path("data/synthetic"), "--synthetic", help="Synthetic tables."),
    labels_dir: Path = typer.Option(Path("data/labels"), "--labels",
                                    help="Real project_profile labels (computed when missing)."),
    predictions_dir: Path = typer.Option(Path("data/predictions"), "--predictions",
                                         help="Real project_profile predictions (optional)."),
    models_dir: Path = typer.Option(Path("models"), "--models",
                                    help="Trained project_profile model, kinds for unlabelled "
                                         "projects (optional)."),
    report: Path = typer.Option(Path("reports/synthetic.json"), "--report", help="Metrics JSON (DVC metric)."),
    plots: Optional[Path] = typer.Option(Path("reports/plots"), "--plots", help="Folder for synthetic_*.png."),
    track: bool = typer.Option(True, "--track/--no-track", help="Log the run to MLflow (dcnet-synthetic)."),
    enforce: bool = typer.Option(True, "--enforce/--no-enforce",
                                 help="Fail (after writing everything) when a gate fails: fidelity "
                                      "below min_fidelity, real values in the synthetic data, or "
                                      "held-out TSTR more than tstr_max_gap below TRTR."),
    bench: Optional[Path] = typer.Option(
        None, "--bench", help="Harder benchmark folder: held-out TSTR vs TRTR (the synthesizer "
        "learns from part of data center A; scored on A's other projects and on B)."),
    params_file: Path = PARAMS_OPT,
):
    """Fidelity, utility (TSTR vs TRTR) and privacy of synthetic tables against the real ones."""
    from pipeline import io
    import pipeline.cli.render as render
    from pipeline.evaluate_synthetic import stage

    params = io.load_params(params_file)
    outcome = stage.run(params, real, synthetic, labels_dir, predictions_dir, models_dir, report,
                        plots, track, bench)
    render.print_synthetic(outcome.report, outcome.run_id, outcome.notes)
    if enforce:
        stage.enforce_gates(outcome.report, report)
