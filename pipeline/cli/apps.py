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
