"""`dcnet`: one command per pipeline stage. DVC stages call these commands.

Heavy libraries (pandas, pandera, sklearn, mlflow) are imported inside the commands so that
`dcnet --help` stays fast.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    help="dcnet: ingest, validate, classify, synthesize and export data-center network "
    "configuration datasets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
schemas_app = typer.Typer(help="Schema review files (YAML per table + data dictionary).",
                          no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")

PARAMS_OPT = typer.Option(Path("params.yaml"), "--params", help="Parameters file.")


def _fail(msg: str, code: int = 1) -> None:
    # One line on stderr, no traceback: the message names the file and the problem.
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


def friendly(fn):
    """Turn the pipeline's expected errors into one-line messages and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from pipeline.errors import InputError, OutputError, StageFailed

        try:
            return fn(*args, **kwargs)
        except InputError as e:
            _fail(str(e), 2)
        except (StageFailed, OutputError) as e:
            _fail(str(e), 1)
        except KeyboardInterrupt:
            _fail("interrupted", 130)

    return wrapper


def _console():
    from rich.console import Console

    return Console(stderr=True)


def _progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=_console(), transient=True,
                    disable=not sys.stderr.isatty())


@app.command()
@friendly
def sample(
    out: Path = typer.Option(Path("data/raw/sample"), help="Folder to write the sample dump to."),
    realism: str = typer.Option(
        "off", help="off: the embedded reference sample (params `sample`). hard: the harder "
        "benchmark (overlapping kinds, mixed-use tenants, generic names, 5% label noise, no "
        "kind-exclusive artefacts, no planted faults); params `benchmark.<variant>`."),
    variant: str = typer.Option(
        "a", help="With --realism hard: a = data center A; b = an independent data center B "
        "(other seed, naming convention `<kind>_<site>_<suffix>`, 1.5x larger workloads)."),
    seed: Optional[int] = typer.Option(None, help="Random seed (default: from params)."),
    params_file: Path = PARAMS_OPT,
):
    """Regenerate the embedded sample dataset (reference data center with planted faults),
    or, with --realism hard, data center A or B of the harder benchmark."""
    from pipeline import io, sample_dc
    from pipeline.errors import InputError

    params = io.load_params(params_file)
    if realism not in ("off", "hard"):
        raise InputError(f"--realism {realism}: expected off or hard")
    if variant not in sample_dc.VARIANTS:
        raise InputError(f"--variant {variant}: expected one of {', '.join(sample_dc.VARIANTS)}")
    p = dict(io.section(params, "sample"))
    if realism == "hard":
        # over the sample's values; the benchmark plants no faults (its faults_per_kind default)
        bench = dict(params["benchmark"][variant])
        p = {**p, **bench, "realism": "hard", "variant": variant}
    elif variant != "a":
        raise InputError("--variant b needs --realism hard (the embedded sample is data center A)")
    if seed is not None:
        p["seed"] = seed
    summary = sample_dc.write_sample(out, p)
    typer.echo(f"wrote sample dataset to {out}: " + ", ".join(f"{k}={v}" for k, v in summary.items()))


@app.command()
@friendly
def ingest(
    input: Path = typer.Option(..., "--input", "-i", help="Raw dump folder (JSON/NDJSON/CSV, optionally .gz)."),
    out: Path = typer.Option(Path("data/interim"), "--out", "-o", help="Folder for canonical parquet tables."),
    report: Optional[Path] = typer.Option(None, help="Ingest report JSON (default: OUT/_ingest_report.json)."),
    engine: Optional[str] = typer.Option(
        None, "--engine", help="local (this machine's processes) or dask (default: params "
        "engine.kind). Outputs are the same on both."),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (implies "
        "--engine dask; default: params engine.address, else a LocalCluster of engine.workers)."),
    params_file: Path = PARAMS_OPT,
):
    """Read a raw dump folder into canonical tables."""
    from pipeline import engine as engines
    from pipeline import ingest as stage
    from pipeline import io

    params = io.load_params(params_file)
    p = io.section(params, "ingest")
    spec = engines.spec_from_params(params, engine, scheduler)
    with engines.open_engine(spec, announce=lambda line: typer.echo(line, err=True)) as runner, \
            _progress() as prog:
        task = prog.add_task("ingest", total=None)

        def on_file(i, n, name):
            prog.update(task, total=n, completed=i, description=f"ingest {name}")

        tables, rep = stage.ingest_dir(input, p, on_file=on_file, engine=runner)
    if report is None:  # the report is part of the output folder: written in the same step
        io.write_tables(tables, out, files={"_ingest_report.json": rep})
    else:
        io.write_tables(tables, out)
        io.write_json(rep, report)
    # Skipped (unreadable) and unknown files are both shown: neither may pass unnoticed.
    _print_counts("ingested", {k: len(v) for k, v in tables.items()},
                  [f"{f['file']}: skipped, {f['reason']}" for f in rep.get("skipped_files", [])]
                  + [f"{f['file']}: {f['reason']}" for f in rep.get("unknown_files", [])]
                  + [f"{f['file']}: passed over, {f['reason']}" for f in rep.get("passed_over", [])]
                  + ([f"{rep['redacted_values']:,} values of secret-like keys redacted "
                      f"({', '.join(rep['redacted_keys'])})"] if rep.get("redacted_values") else []))


def _print_counts(title, counts, warnings=()):
    from rich.table import Table

    t = Table(title=title)
    t.add_column("table")
    t.add_column("rows", justify="right")
    for k, v in counts.items():
        t.add_row(k, f"{v:,}")
    c = _console()
    c.print(t)
    for w in warnings:
        c.print(f"[yellow]warning[/]: {w}")


@app.command()
@friendly
def validate(
    input: Path = typer.Option(Path("data/interim"), "--input", "-i", help="Ingested tables."),
    out: Path = typer.Option(Path("data/validated"), "--out", "-o", help="Valid rows."),
    quarantine: Path = typer.Option(Path("data/quarantine"), help="Quarantined rows with reasons."),
    report: Path = typer.Option(Path("reports/validation.json"), help="Row accounting (DVC metric)."),
    engine: Optional[str] = typer.Option(
        None, "--engine", help="local (this process) or dask: checks per partition and "
        "co-partitioned on their keys (default: params engine.kind). Outputs are the same."),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", help="Dask scheduler address (implies --engine dask; default: "
        "params engine.address, else a LocalCluster of engine.workers)."),
    params_file: Path = PARAMS_OPT,
):
    """Validate tables against the schemas; quarantine failing rows with a reason."""
    from pipeline import engine as engines
    from pipeline import io
    from pipeline.validate import stage

    params = io.load_params(params_file)
    p = io.section(params, "validate")
    spec = engines.spec_from_params(params, engine, scheduler)
    with engines.open_engine(spec, announce=lambda line: typer.echo(line, err=True)) as runner:
        result = stage.run(input, out, quarantine, report, p, engine=runner)
    _print_validation(result.report)
    stage.enforce_limits(result.report, p, quarantine_dir=quarantine)


def _print_validation(rep):
    from rich.table import Table

    t = Table(title="validation")
    for col in ("table", "rows in", "valid", "quarantined", "warnings"):
        t.add_column(col, justify="left" if col == "table" else "right")
    for name, r in rep["tables"].items():
        t.add_row(name, f"{r['rows_in']:,}", f"{r['rows_valid']:,}", f"{r['rows_quarantined']:,}",
                  f"{r.get('warnings', 0):,}")
    _console().print(t)


@app.command()
@friendly
def features(
    input: Path = typer.Option(Path("data/validated"), "--input", "-i", help="Validated tables."),
    out: Path = typer.Option(Path("data/features"), "--out", "-o", help="Folder for feature tables."),
    params_file: Path = PARAMS_OPT,
):
    """Build numeric feature tables: one row per project and one row per port."""
    from pipeline import features as stage
    from pipeline import io

    params = io.load_params(params_file)
    feats = stage.run(params, input, out)
    _print_counts("features", {f"{k} ({v.shape[1]} columns)": len(v) for k, v in feats.items()})


@app.command()
@friendly
def labels(
    input: Path = typer.Option(Path("data/validated"), "--input", "-i", help="Validated tables."),
    out: Path = typer.Option(Path("data/labels"), "--out", "-o", help="Folder for label tables."),
    report: Path = typer.Option(Path("reports/labels.json"), help="Label report (counts, conflicts)."),
    params_file: Path = PARAMS_OPT,
):
    """Label every task in params.yaml `tasks:` (source precedence, conflicts reported)."""
    from pipeline import io
    from pipeline import labels as stage

    params = io.load_params(params_file)
    written, rep = stage.run(params, input, out, report, params_file)
    outside = [f"tasks.{t}: labels outside labels.classes (typo?): "
               + ", ".join(f"{k} ({v})" for k, v in r["classes_outside_vocabulary"].items())
               for t, r in rep.items() if r.get("classes_outside_vocabulary")]
    _print_counts("labels", {k: len(v) for k, v in written.items()}, outside)


@schemas_app.command("export")
@friendly
def schemas_export(
    out: Path = typer.Option(Path("schemas"), help="Folder for review/ YAML files and DATA_DICTIONARY.md."),
):
    """Write schemas/review/<table>.yaml and schemas/DATA_DICTIONARY.md."""
    from schemas import review

    written = review.export(out)
    typer.echo(f"wrote {len(written)} files under {out}")


@schemas_app.command("check")
@friendly
def schemas_check(
    out: Path = typer.Option(Path("schemas"), help="Folder holding the committed review files."),
):
    """Fail when the committed review files differ from what the schemas generate."""
    from schemas import review

    stale = review.stale(out)
    if stale:
        _fail("schema review files are stale, run `dcnet schemas export`: " + ", ".join(stale))
    typer.echo("schema review files are up to date")


TASK_OPT_HELP = "Task name from params.yaml `tasks:`, or `all`."


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
    from pipeline.train import stage

    params = io.load_params(params_file)
    for result, run_id in stage.run(params, task, features_dir, labels_dir, validated, models_dir,
                                    report, plots, bench, track, params_file):
        _print_training(result, run_id)


def _print_training(result, run_id) -> None:
    from rich.table import Table

    m = result.metrics
    ev = m.get("eval") or {}
    t = Table(title=f"train {result.task}: {result.model_name}, {result.cv_folds}-fold CV, "
                    f"{m['n_labelled']:,} labelled, {m['n_features']} features")
    t.add_column("")
    t.add_column("macro-F1", justify="right")
    t.add_column("accuracy", justify="right")
    if ev.get("n"):
        t.add_column(f"macro-F1 on {result.evaluate_on_source} ({ev['n']:,})", justify="right")
    for name in ("model", "majority", "rule", "tree_rule"):
        if name not in m:
            continue
        ci = (f" [{m[name]['macro_f1_ci_low']:.3f}, {m[name]['macro_f1_ci_high']:.3f}]"
              if "macro_f1_ci_low" in m[name] else "")
        row = [name, f"{m[name]['macro_f1']:.3f}{ci}", f"{m[name]['accuracy']:.3f}"]
        if ev.get("n"):
            row.append(f"{ev.get(f'{name}_macro_f1', float('nan')):.3f}")
        t.add_row(*row)
    c = _console()
    c.print(t)
    bench = m.get("benchmark")
    for view, block in (("benchmark", bench), ("benchmark scrubbed", (bench or {}).get("scrubbed"))):
        if not block:
            continue
        tr = block["transfer"]
        c.print(f"{view} (forbidden: {', '.join(block['forbid_sources']) or 'none'}): "
                f"CV on A {block['a_cv']['model']['macro_f1']:.3f}, transfer A->B "
                f"{tr['model']['macro_f1']:.3f} [{tr['model'].get('macro_f1_ci_low', 0):.3f}, "
                f"{tr['model'].get('macro_f1_ci_high', 0):.3f}], best rule {tr['best_rule_macro_f1']:.3f}")
    for w in result.warnings:
        c.print(f"[yellow]warning[/]: {w}")
    if run_id:
        c.print(f"MLflow run {run_id}")


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
    from rich.table import Table

    from pipeline import demand as stage
    from pipeline import io

    params = io.load_params(params_file)
    rep, run_id = stage.run(params, validated, bench, report, track)
    t = Table(title=f"config prediction: MAE (MAPE), model vs per-profile median, {rep['cv']['n']} projects")
    t.add_column("")
    for name in stage.TARGETS:
        t.add_column(name, justify="right")
    blocks = [("CV", rep["cv"])] + ([("bench A CV", rep["benchmark"]["a_cv"]),
                                     ("bench A->B", rep["benchmark"]["transfer"])] if bench else [])
    for label, b in blocks:
        for who in ("model", "baseline"):
            t.add_row(f"{label} {who}", *[f"{b['targets'][n][who]['mae']:.2f} ({b['targets'][n][who]['mape']:.2f})"
                                          for n in stage.TARGETS])
    c = _console()
    c.print(t)
    for label, b in blocks:
        c.print(f"{label}: MAE reduction vs per-profile median {b['mae_reduction']:+.3f}")
    if run_id:
        c.print(f"MLflow run {run_id}")


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
    from pipeline import classify as stage
    from pipeline import io

    params = io.load_params(params_file)
    counts = stage.run(params, task, features_dir, models_dir, out, params_file)
    _print_counts("predictions", counts)


@app.command()
@friendly
def synthesize(
    input: Path = typer.Option(Path("data/validated"), "--input", "-i",
                               help="Validated tables of the real data center to learn from."),
    out: Path = typer.Option(Path("data/synthetic"), "--out", "-o", help="Folder for the synthetic tables."),
    hosts: Optional[int] = typer.Option(None, help="Compute hosts (default: params synthesize.hosts)."),
    projects: Optional[int] = typer.Option(None, help="Tenant projects (default: params synthesize.projects)."),
    seed: Optional[int] = typer.Option(None, help="Random seed (default: params synthesize.seed)."),
    labels_dir: Path = typer.Option(Path("data/labels"), "--labels",
                                    help="Label tables: project kinds from <labels>/project_profile.parquet."),
    predictions_dir: Path = typer.Option(Path("data/predictions"), "--predictions",
                                         help="Predictions: kinds of unlabelled projects."),
    model_out: Path = typer.Option(Path("models/synth_model.json"), "--model-out",
                                   help="The learned model (counts and shares only), for privacy review."),
    params_file: Path = PARAMS_OPT,
):
    """Learn the real data center's structure per project kind and generate a new, valid one."""
    from pipeline import io
    from pipeline import synthesize as stage
    from pipeline.errors import InputError
    from pipeline.fabric import FabricParamsError

    params = io.load_params(params_file)
    sp = dict(params.get("synthesize") or {})
    for key, value in (("hosts", hosts), ("projects", projects), ("seed", seed)):
        if value is not None:
            sp[key] = value
    params = {**params, "synthesize": sp}
    tables = io.read_tables(input)
    profiles = stage.profiles_from(
        io.read_frame(labels_dir / "project_profile.parquet", "labels table", required=False),
        io.read_frame(predictions_dir / "project_profile.parquet", "predictions table", required=False),
        tables, params)
    with _progress() as prog:
        task = prog.add_task("synthesize", total=len(stage.RUN_STEPS) + 1)

        def on_step(name, i, n):
            prog.update(task, total=n + 1, completed=i, description=f"synthesize: {name}")

        try:
            model, syn, summary = stage.run(tables, profiles, params, on_step)
        except (stage.SynthParamsError, FabricParamsError) as e:
            raise InputError(f"{params_file}: {e}") from e
        prog.update(task, description="synthesize: write")
        io.write_tables(syn, out)
        io.write_json(model, model_out)
        prog.update(task, completed=len(stage.RUN_STEPS) + 1)
    kinds = ", ".join(f"{k} {v}" for k, v in summary["kinds"].items())
    _print_counts("synthetic data center (0 rows quarantined)", summary["rows"])
    _console().print(f"project kinds: {kinds or 'none (no labels, predictions or naming matches)'}")
    if summary.get("replaced_values"):
        _console().print("values outside the known vocabularies, learned as a neutral value: "
                         + ", ".join(f"{k} {v:,}" for k, v in summary["replaced_values"].items()))
    _console().print(f"wrote {out} and {model_out}")


@app.command()
@friendly
def runs(
    task: Optional[str] = typer.Option(None, "--task", "-t", help="Only this task's runs."),
    limit: int = typer.Option(20, "--limit", "-n", help="Runs shown per task."),
):
    """MLflow training runs ranked by cross-validated macro-F1 (model vs baselines); config
    prediction runs (config_demand) by their MAE reduction against the per-profile median."""
    from rich.console import Console
    from rich.table import Table

    from pipeline import tracking

    df = tracking.list_runs(task, limit)
    # A wide table even when piped (rich would wrap it at 80 columns).
    console = Console(width=None if sys.stdout.isatty() else 200)
    if df is None:
        console.print(f"no MLflow runs yet: {tracking.tracking_uri()} does not exist (run dcnet train)")
        return
    if not len(df):
        console.print(f"no finished training runs{f' for task {task}' if task else ''} in "
                      f"{tracking.tracking_uri()}")
        return

    def num(row, col):
        v = row.get(f"metrics.{col}")
        return "" if v is None or v != v else f"{v:.3f}"

    def text(row, col):
        v = row.get(col)
        return "" if v is None or v != v else str(v)  # v != v: NaN for a missing tag

    t = Table(title=f"training runs ({tracking.tracking_uri()}), ranked by CV macro-F1 "
                    "(config_demand: by CV MAE reduction against the per-profile median)")
    for col, just in (("task", "left"), ("#", "right"), ("run", "left"), ("run id", "left"),
                      ("model", "left"), ("DVC exp", "left"), ("macro-F1", "right"),
                      ("majority", "right"), ("rule", "right"), ("eval macro-F1", "right"),
                      ("accuracy", "right"), ("started", "left")):
        t.add_column(col, justify=just)
    rank = {}
    for _, row in df.iterrows():
        rank[row["task"]] = rank.get(row["task"], 0) + 1
        started = row.get("start_time")
        t.add_row(row["task"], str(rank[row["task"]]), text(row, "tags.mlflow.runName"),
                  str(row["run_id"])[:8], text(row, "params.model"),
                  text(row, "tags.dvc_exp_name"),
                  num(row, "model_macro_f1") or num(row, "model_mae_reduction"),
                  num(row, "majority_macro_f1"), num(row, "rule_macro_f1"),
                  num(row, "eval_model_macro_f1"), num(row, "model_accuracy"),
                  started.strftime("%Y-%m-%d %H:%M:%S") if hasattr(started, "strftime") else str(started))
    console.print(t)


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
    from pipeline.evaluate_synthetic import stage

    params = io.load_params(params_file)
    outcome = stage.run(params, real, synthetic, labels_dir, predictions_dir, models_dir, report,
                        plots, track, bench)
    _print_synthetic(outcome.report, outcome.run_id, outcome.notes)
    if enforce:
        stage.enforce_gates(outcome.report, report)


def _print_heldout(rep) -> None:
    h = rep.get("utility_heldout")
    if not h:
        return
    line = (f"held-out TSTR {h['tstr_heldout_mean']:.3f} ± {h['tstr_heldout_sd']:.3f} vs TRTR "
            f"{h['trtr_heldout_mean']:.3f} ± {h['trtr_heldout_sd']:.3f} (gap {h['gap_heldout']:+.3f}, "
            f"max {rep['gates']['tstr_heldout']['max']})")
    if "tstr_other_mean" in h:
        line += (f"; on data center B TSTR {h['tstr_other_mean']:.3f} ± {h['tstr_other_sd']:.3f} vs "
                 f"TRTR {h['trtr_other_mean']:.3f} ± {h['trtr_other_sd']:.3f}")
    _console().print(line + f"; {len(h['seeds'])} seeds")


def _print_synthetic(rep, run_id, notes) -> None:
    _print_heldout(rep)
    from rich.table import Table

    def f(x):
        return "n/a" if x is None else f"{x:.3f}"

    fid, util, priv = rep["fidelity"], rep["utility"], rep["privacy"]
    t = Table(title="synthetic data vs real")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("fidelity (overall)", f(fid["overall"]))
    for k, v in fid["parts"].items():
        t.add_row(f"  {k.replace('_', ' ')}", f(v))
    base = fid.get("real_baseline") or {}
    t.add_row("fidelity: real half vs real half (baseline)", f(base.get("overall")))
    t.add_row("fidelity: profile mix (apart)", f(fid["profile_mix"]["tv_complement"]))
    const = fid["column_shapes"].get("constant_columns") or {}
    t.add_row(f"fidelity: {const.get('n', 0)} columns constant in real (apart)", f(const.get("score")))
    for k, v in fid["structure"]["distributions"].items():
        t.add_row(f"    {k.replace('_', ' ')}", f(v["ks_complement"]))
    t.add_row("utility: TSTR macro-F1", f(util.get("tstr_macro_f1")))
    t.add_row("utility: TRTR macro-F1 (CV)", f(util.get("trtr_macro_f1")))
    t.add_row("privacy: real values reused", str(priv["exact_overlap"]["total"]))
    d = priv["dcr"]
    t.add_row("privacy: DCR median synthetic / holdout",
              f"{f(d.get('median_synthetic'))} / {f(d.get('median_holdout'))}")
    t.add_row("privacy: synthetic below holdout p5", f(d.get("share_synthetic_below_holdout_p5")))
    c = _console()
    c.print(t)
    for n in notes:
        c.print(f"[yellow]note[/]: {n}")
    for k in ("tstr_error", "trtr_error", "error"):
        if util.get(k):
            c.print(f"[yellow]warning[/]: utility: {util[k]}")
    if d.get("error"):
        c.print(f"[yellow]warning[/]: DCR: {d['error']}")
    if run_id:
        c.print(f"MLflow run {run_id}")


@app.command()
@friendly
def export(
    fmt: Optional[str] = typer.Option(None, "--format", "-f",
                                      help="mininet, merak, alcor, containerlab, graphml, all, or a "
                                           "comma list (default: params export.formats, else all)."),
    input: Path = typer.Option(Path("data/synthetic"), "--input", "-i",
                               help="Canonical tables (validated or synthetic)."),
    out: Path = typer.Option(Path("data/export"), "--out", "-o", help="Writes OUT/<format>/."),
    derive_fabric: bool = typer.Option(False, "--derive-fabric",
                                       help="Build the physical fabric from hosts (params `fabric:`) "
                                            "instead of reading fabric_switches/fabric_links."),
    report: Optional[Path] = typer.Option(None, help="Export report JSON (default OUT/_export_report.json)."),
    params_file: Path = PARAMS_OPT,
):
    """Export the topology for emulators: Mininet/Distrinet, Merak, Alcor (+K6), containerlab, GraphML."""
    from pipeline import export as stage
    from pipeline import io
    from pipeline.errors import InputError

    params = io.load_params(params_file)
    formats = stage.parse_formats(fmt or ",".join((params.get("export") or {}).get("formats") or ["all"]))
    tables = io.read_tables(input)
    timings = {}
    try:
        rep = stage.export_tables(tables, formats, out, params, derive_fabric,
                                  on_format=lambda f, s: timings.__setitem__(f, s))
    except InputError as e:
        raise InputError(f"{input}: {e}") from e
    io.write_json(rep, report or out / "_export_report.json")
    _print_export(rep, timings, out)


def _print_export(rep, timings, out) -> None:
    from rich.table import Table

    s = rep["topology"]
    fabric = "no" if s['fabric'] in (None, "none") else s['fabric']
    t = Table(title=f"export to {out}: {fabric} fabric{' (derived)' if s['fabric_derived'] else ''}, "
                    f"{s['fabric_switches']:,} switches, {s['compute_hosts']:,} hosts, {s['vms']:,} VMs")
    t.add_column("format")
    t.add_column("files")
    t.add_column("details")
    t.add_column("seconds", justify="right")
    for fmt, r in rep["formats"].items():
        details = ", ".join(f"{k}={v}" for k, v in r.items()
                            if k not in ("files", "by_endpoint") and not isinstance(v, (dict, list)))
        t.add_row(fmt, ", ".join(r["files"][:4]) + (" ..." if len(r["files"]) > 4 else ""),
                  details, f"{timings.get(fmt, 0):.1f}")
    c = _console()
    c.print(t)
    for fmt, r in rep["formats"].items():  # what a consumer cannot take, per reason
        for key, label in (("left_out", "left out"), ("changed", "changed"),
                           ("not_used_by_merak", "not used by Merak")):
            for reason, n in (r.get(key) or {}).items():
                c.print(f"{fmt}: {label}: {n:,} {reason}")
    if s.get("compute_ports_unplaced"):
        c.print(f"[yellow]warning[/]: {s['compute_ports_unplaced']:,} compute ports bound to no "
                f"known host are not in the topology")


@app.command("check-export")
@friendly
def check_export(
    export_dir: Path = typer.Argument(Path("data/export"), help="Export folder (holds alcor/, merak/, ...)."),
    consumer: Optional[list[str]] = typer.Option(None, "--consumer", "-c",
                                                 help="Only this consumer (repeatable): alcor, merak, "
                                                      "distrinet, containerlab."),
    report: Optional[Path] = typer.Option(None, help="Write the findings as JSON here "
                                                     "(default DIR/_check_report.json)."),
):
    """Check an export folder against the consumers' contracts; exit 1 on any violation."""
    from pipeline import io
    from pipeline.check_export import CHECKERS, check_export as run_checks
    from pipeline.errors import InputError

    if not export_dir.is_dir():
        raise InputError(f"{export_dir}: export folder does not exist")
    bad = [c for c in consumer or [] if c not in CHECKERS]
    if bad:
        raise InputError(f"--consumer {bad[0]}: unknown; choose from {', '.join(CHECKERS)}")
    reports = run_checks(export_dir, consumer or None)
    if not any(r.present for r in reports):
        raise InputError(f"{export_dir}: no consumer folder (alcor/, merak/, mininet/, containerlab/) "
                         f"to check")
    io.write_json({"consumers": [r.to_dict() for r in reports]},
                  report or export_dir / "_check_report.json")
    _print_check(reports, export_dir)
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


def _print_check(reports, export_dir) -> None:
    from rich.table import Table

    t = Table(title=f"check-export {export_dir}")
    for col in ("consumer", "checked", "rule", "violations", "first example"):
        t.add_column(col)
    for r in reports:
        checked = f"{r.checked:,} {r.unit}" if r.present else "absent"
        if r.ok:
            t.add_row(r.consumer, checked, "", "0" if r.present else "", "")
        for i, (rule, v) in enumerate(sorted(r.violations.items())):
            t.add_row(r.consumer if i == 0 else "", checked if i == 0 else "", rule,
                      f"{v.count:,}", v.example[:120])
    _console().print(t)


@app.command()
@friendly
def emulate(
    input: Path = typer.Option(Path("data/synthetic"), "--input", "-i",
                               help="Canonical tables (synthetic or validated)."),
    switch: str = typer.Option("lxbr", "--switch",
                               help="lxbr (Linux bridges, no kernel module needed) or ovs-user "
                                    "(Open vSwitch user-space datapath)."),
    probes: int = typer.Option(200, "--probes", "-n", help="Probes, stratified over the classes."),
    seed: int = typer.Option(0, "--seed", help="Probe sampling seed."),
    max_hosts: Optional[int] = typer.Option(None, "--max-hosts",
                                            help="Emulate all VMs of the first N compute hosts "
                                                 "(by name) that carry the chosen projects."),
    projects: Optional[str] = typer.Option(None, "--projects",
                                           help="Comma list of project ids to emulate (default all)."),
    security_groups: bool = typer.Option(True, "--security-groups/--no-security-groups",
                                         help="Enforce security-group ingress rules in the VMs."),
    egress: bool = typer.Option(False, "--egress/--no-egress",
                                help="Also enforce egress rules (groups without egress rules then "
                                     "block all outgoing traffic)."),
    report: Path = typer.Option(Path("reports/emulation.json"), "--report", help="JSON report."),
    markdown: Path = typer.Option(Path("reports/emulation.md"), "--markdown", help="Readable report."),
    plan_out: Optional[Path] = typer.Option(None, "--plan-out",
                                            help="Only write the plan (nodes, links, addresses, "
                                                 "routes, iptables rules) and the sampled probes "
                                                 "with their expected outcome as JSON; no root "
                                                 "needed, nothing is started."),
):
    """Run the data center in real Mininet (root) and check reachability against the config."""
    from pipeline.emulate.live import SWITCHES, preflight
    from pipeline.errors import InputError

    if switch not in SWITCHES:
        raise InputError(f"--switch {switch}: choose from {', '.join(SWITCHES)}")
    if probes < 1 or (max_hosts is not None and max_hosts < 1):
        raise InputError("--probes and --max-hosts must be at least 1")
    problem = None if plan_out else preflight(switch)
    if problem:
        _fail(problem, 2)
    from pipeline import io
    from pipeline.emulate.report import markdown as to_markdown
    from pipeline.emulate.run import Options, emulate as run_emulation, plan_document, prepare

    opts = Options(switch=switch, probes=probes, seed=seed, max_hosts=max_hosts,
                   projects=[p for p in (projects or "").split(",") if p] or None,
                   security_groups=security_groups, egress=egress)
    tables = io.read_tables(input)
    try:
        cfg, plan, sampled, expected = prepare(tables, opts)
    except InputError as e:
        raise InputError(f"{input}: {e}" if not str(e).startswith("--") else str(e)) from e
    if not cfg.vms:
        raise InputError(f"{input}: no VM (compute port bound to a known host) to emulate")
    c = _console()
    if cfg.slice.get("compute_ports_unplaced"):
        c.print(f"[yellow]warning[/]: {cfg.slice['compute_ports_unplaced']:,} compute ports bound to "
                f"no known host or network are not emulated")
    if plan_out:
        io.write_json(plan_document(plan, sampled, expected), plan_out)
        c.print(f"wrote {plan_out}: {plan.counts()}, {len(sampled)} probes")
        return
    counts = plan.counts()
    c.print(f"emulating {counts['vms']} VMs, {counts['routers']} routers, {counts['segments']} "
            f"segments on {cfg.slice['hosts']} hosts ({switch}); {len(sampled)} probes")
    from pipeline.emulate.live import EmulationError
    from pipeline.errors import StageFailed

    try:
        rep = run_emulation(cfg, plan, sampled, expected, opts,
                            on_phase=lambda name: c.print(f"[dim]{name}[/]"))
    except EmulationError as e:  # already torn down
        raise StageFailed(str(e)) from e
    io.write_json(rep, report)
    markdown.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text(to_markdown(rep))
    _print_emulation(rep, report, markdown)
    if rep["mismatches_total"]:
        raise typer.Exit(1)


def _print_emulation(rep, report, markdown) -> None:
    from rich.table import Table

    t = Table(title=f"emulation: {rep['probes_total']} probes, {rep['mismatches_total']} mismatches")
    for col in ("class", "probes", "expected reachable", "observed reachable", "mismatches"):
        t.add_column(col, justify="left" if col == "class" else "right")
    for cls, v in rep["classes"].items():
        t.add_row(cls, str(v["probes"]), str(v["expected_reachable"]), str(v["observed_reachable"]),
                  str(v["mismatches"]))
    c = _console()
    c.print(t)
    tm = rep["timings"]
    c.print(f"start {tm.get('start_s')} s ({tm.get('start_nodes_per_s')} nodes/s), converge "
            f"{tm.get('converge_s')} s, probes {tm.get('probe_s')} s ({tm.get('probes_per_s')}/s), "
            f"stop {tm.get('stop_s')} s; wrote {report} and {markdown}")


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
