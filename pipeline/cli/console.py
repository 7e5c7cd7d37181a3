"""The CLI's shared plumbing: one-line errors with exit codes, the stderr console, the
progress bar. Light at import (typer only): `dcnet --help` must stay fast."""

from __future__ import annotations

import functools
import sys

import typer


def fail(msg: str, code: int = 1) -> None:
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
            fail(str(e), 2)
        except (StageFailed, OutputError) as e:
            fail(str(e), 1)
        except KeyboardInterrupt:
            fail("interrupted", 130)

    return wrapper


def console():
    from rich.console import Console

    return Console(stderr=True)


def progress():
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=console(), transient=True,
                    disable=not sys.stderr.isatty())
