"""Errors that the CLI turns into a one-line message and a non-zero exit code."""


class InputError(Exception):
    """Bad input that stops a stage: the message names the file and the problem."""


class StageFailed(Exception):
    """A stage ran but its result breaks a configured limit (e.g. too much quarantined)."""


class OutputError(Exception):
    """An output could not be written (disk full, no permission): the message names the file."""


def describe(e: Exception) -> str:
    """`Type: first line of the message`, for errors from MLflow or its database."""
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
