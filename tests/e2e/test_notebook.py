"""notebooks/compare_runs.ipynb runs headless (nbclient) on the project's .venv kernel."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT
from tests.shared.test_tracking import build_workspace, invoke  # the tracking tests' workspace

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("mlflow"),
              pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy")]

NOTEBOOK = ROOT / "notebooks" / "compare_runs.ipynb"


def execute(cwd: Path) -> tuple[str, list[str]]:
    """Run the notebook with its working directory at `cwd`; (stdout text, output mime types)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # kernel "python3" is ipykernel's own spec, whose argv[0] "python" jupyter_client replaces
    # with the running interpreter: the kernel is this .venv's python (checked below).
    NotebookClient(nb, kernel_name="python3", timeout=180,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    text, kinds = [], []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", out
            if out["output_type"] == "stream" and out["name"] == "stdout":
                text.append(out["text"])
            kinds.extend(out.get("data", {}))
    return "".join(text), kinds


def test_notebook_compares_runs_and_explores_features(tmp_path, monkeypatch):
    ws = tmp_path / "ws"
    ws.mkdir()
    build_workspace(ws)
    (ws / "dvc.yaml").write_text("stages: {}\n")
    r = invoke(["train", "--task", "project_profile", "--models", "m"], ws)
    assert r.exit_code == 0, r.output
    (ws / "notebooks").mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{ws}/mlflow.db")
    text, kinds = execute(ws / "notebooks")
    assert f"python: {sys.executable}\n" in text
    assert f"repo root: {ws}" in text
    assert "no training runs" not in text
    assert "project_profile: 45 labelled rows" in text
    assert "port_role: 120 labelled rows" in text
    assert "most class-separating features: " in text
    # runs table + bar chart, then per task a class table + chart and a box-plot figure
    assert kinds.count("text/html") >= 3 and kinds.count("image/png") >= 5


def test_notebook_tolerates_an_empty_store(tmp_path, monkeypatch):
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/absent.db")
    text, _ = execute(tmp_path)
    assert "no training runs in" in text and "nothing to chart" in text
    assert "data/features/projects.parquet, data/labels/project_profile.parquet missing" in text
    assert not (tmp_path / "absent.db").exists()
