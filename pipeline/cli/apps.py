"""The typer apps and the options several commands share (no command here: see the
*_commands.py modules, which register theirs on import)."""

from __future__ import annotations

from pathlib import Path

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
TASK_OPT_HELP = "Task name from params.yaml `tasks:`, or `all`."
# Where a stage runs (README "Running on Dask"): the same outputs on every engine.
ENGINE_OPT = typer.Option(None, "--engine", help="local (this machine's processes) or dask "
                          "(default: params engine.kind). Outputs are the same on both.")
SCHEDULER_OPT = typer.Option(None, "--scheduler", help="Dask scheduler address, e.g. "
                             "tcp://host:8786 (implies --engine dask; default: params "
                             "engine.address, else a LocalCluster of engine.workers).")


def open_engine(params: dict, engine, scheduler):
    """The engine the options and params ask for, as a context manager; a LocalCluster's
    dashboard address is printed on stderr when dcnet starts one."""
    from pipeline import engine as engines

    spec = engines.spec_from_params(params, engine, scheduler)
    return engines.open_engine(spec, announce=lambda line: typer.echo(line, err=True))
