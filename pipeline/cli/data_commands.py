"""The data commands: sample, ingest, validate, features, labels, and the schema review files."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli.apps import ENGINE_OPT, PARAMS_OPT, SCHEDULER_OPT, app, open_engine, schemas_app
from pipeline.cli.console import fail, friendly, progress


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
    from pipeline import io
    import pipeline.cli.render as render
    from pipeline.sample import stage

    params = io.load_params(params_file)
    summary = stage.run(params, out, realism, variant, seed)
    render.print_sample(summary, out)


@app.command()
@friendly
def ingest(
    input: Path = typer.Option(..., "--input", "-i", help="Raw dump folder (JSON/NDJSON/CSV, optionally .gz)."),
    out: Path = typer.Option(Path("data/interim"), "--out", "-o", help="Folder for canonical parquet tables."),
    report: Optional[Path] = typer.Option(None, help="Ingest report JSON (default: OUT/_ingest_report.json)."),
    engine: Optional[str] = ENGINE_OPT,
    scheduler: Optional[str] = SCHEDULER_OPT,
    params_file: Path = PARAMS_OPT,
):
    """Read a raw dump folder into canonical tables."""
    from pipeline import ingest as stage
    from pipeline import io
    import pipeline.cli.render as render

    params = io.load_params(params_file)
    p = io.section(params, "ingest")
    # the tables are written as the files are read (the folder appears complete at the end, or
    # not at all), so this process never holds the whole dump
    with open_engine(params, engine, scheduler) as runner, \
            progress() as prog, \
            io.writing_tables(out, io.partition_rows(params)) as dest:
        task = prog.add_task("ingest", total=None)

        def on_file(i, n, name):
            prog.update(task, total=n, completed=i, description=f"ingest {name}")

        _, rep = stage.ingest_dir(input, p, on_file=on_file, engine=runner, out=dest)
        if report is None:  # the report is part of the output folder: written in the same step
            dest.files["_ingest_report.json"] = rep
    if report is not None:
        io.write_json(rep, report)
    render.print_ingest(rep["tables"], rep)


@app.command()
@friendly
def validate(
    input: Path = typer.Option(Path("data/interim"), "--input", "-i", help="Ingested tables."),
    out: Path = typer.Option(Path("data/validated"), "--out", "-o", help="Valid rows."),
    quarantine: Path = typer.Option(Path("data/quarantine"), help="Quarantined rows with reasons."),
    report: Path = typer.Option(Path("reports/validation.json"), help="Row accounting (DVC metric)."),
    engine: Optional[str] = ENGINE_OPT,
    scheduler: Optional[str] = SCHEDULER_OPT,
    params_file: Path = PARAMS_OPT,
):
    """Validate tables against the schemas; quarantine failing rows with a reason."""
    from pipeline import io
    from pipeline.validate import stage
    import pipeline.cli.render as render

    params = io.load_params(params_file)
    p = io.section(params, "validate")
    with open_engine(params, engine, scheduler) as runner, progress() as prog:
        task = prog.add_task("validate", total=len(stage.RUN_STEPS))

        def on_step(name, i, n):
            prog.update(task, total=n, completed=i, description=f"validate: {name}")

        result = stage.run(input, out, quarantine, report, p, engine=runner,
                           rows_per_part=io.partition_rows(params), on_step=on_step)
        prog.update(task, completed=len(stage.RUN_STEPS), description="validate")
    render.print_validation(result.report)
    stage.enforce_limits(result.report, p, quarantine_dir=quarantine)


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
    import pipeline.cli.render as render

    params = io.load_params(params_file)
    feats = stage.run(params, input, out)
    render.print_counts("features", {f"{k} ({v.shape[1]} columns)": len(v) for k, v in feats.items()})


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
    import pipeline.cli.render as render
    from pipeline.labels import stage

    params = io.load_params(params_file)
    written, rep = stage.run(params, input, out, report, params_file)
    render.print_labels(written, rep)


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
        fail("schema review files are stale, run `dcnet schemas export`: " + ", ".join(stale))
    typer.echo("schema review files are up to date")
