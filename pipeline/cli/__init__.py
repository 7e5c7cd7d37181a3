"""`dcnet`: one command per pipeline stage. DVC stages call these commands.

A command declares its options, loads params, calls its stage's entry point and hands the
result to render.py, which prints it. The commands live in data_commands.py,
model_commands.py and emulator_commands.py, registered on the app of apps.py in the order
`dcnet --help` lists them. Heavy libraries (pandas, pandera, sklearn, mlflow, rich) are
imported inside the commands so that `dcnet --help` stays fast.
"""

from __future__ import annotations

# Importing a commands module registers its commands; the order is the order of `dcnet --help`.
import pipeline.cli.data_commands  # noqa: F401
import pipeline.cli.model_commands  # noqa: F401
import pipeline.cli.emulator_commands  # noqa: F401
from pipeline.cli.apps import app

__all__ = ["app", "main"]


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
