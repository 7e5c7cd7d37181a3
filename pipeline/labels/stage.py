"""The labels stage's entry point: read the validated tables, label every task, write the label
tables and the report."""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline import io
from pipeline.errors import InputError
from pipeline.labels.labelers import LabelConfigError
from pipeline.labels.precedence import task_labels


def run(params: dict[str, Any], validated, out, report, params_file
        ) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The labels stage: label every task in params `tasks:`, write <out>/<task>.parquet and
    <task>_all.parquet (every candidate) and the report; (tables written, report)."""
    tasks = params.get("tasks") or {}
    if not tasks:
        raise InputError(f"{params_file}: no `tasks:` section, nothing to label")
    tables = io.read_tables(validated)
    written, rep = {}, {}
    for task in tasks:
        try:
            lab, cand, rep[task] = task_labels(tables, params, task)
        except LabelConfigError as e:
            raise InputError(f"{params_file}: tasks.{task}: {e}") from e
        written[task], written[f"{task}_all"] = lab, cand
    io.write_tables(written, out)
    io.write_json(rep, report)
    return written, rep
