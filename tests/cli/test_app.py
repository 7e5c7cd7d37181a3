"""The `dcnet` app as a whole: its commands register in a fixed order from several modules, and
importing it stays light (`dcnet --help` must not load the data and ML stack)."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from conftest import ROOT
from pipeline.cli import app

COMMANDS = ["sample", "ingest", "validate", "features", "labels", "train", "demand", "classify",
            "synthesize", "runs", "evaluate-synthetic", "export", "check-export", "emulate",
            "schemas"]


def test_help_lists_every_command_in_pipeline_order():
    res = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "120"})
    assert res.exit_code == 0
    listed = [line.split()[1] for line in res.output.splitlines()
              if line.startswith("│ ") and len(line.split()) > 1 and line.split()[1] in COMMANDS]
    assert listed == COMMANDS


def test_importing_the_cli_loads_no_heavy_library():
    code = ("import sys, pipeline.cli; print(sorted(m for m in ('pandas', 'numpy', 'pyarrow', "
            "'rich', 'sklearn', 'mlflow', 'pandera', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_python_dash_m_runs_the_same_app():
    res = subprocess.run([sys.executable, "-m", "pipeline.cli", "--help"], cwd=ROOT,
                         capture_output=True, text=True, env={"COLUMNS": "120", "PATH": ""})
    assert res.returncode == 0
    assert "evaluate-synthetic" in res.stdout and "check-export" in res.stdout
