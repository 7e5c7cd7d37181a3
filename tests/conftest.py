"""Shared fixtures: the repo, the embedded sample, and a throwaway git+DVC copy of the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "raw" / "sample"
BIN = Path(sys.executable).parent

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def tool_env(**extra) -> dict:
    """Environment for subprocesses: the project's venv first on PATH, no analytics."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "DVC_NO_ANALYTICS": "1", "MPLBACKEND": "Agg",
           "GIT_AUTHOR_NAME": "dcnet-test", "GIT_AUTHOR_EMAIL": "test@dcnet.invalid",
           "GIT_COMMITTER_NAME": "dcnet-test", "GIT_COMMITTER_EMAIL": "test@dcnet.invalid"}
    env.update(extra)
    return env


def run(cmd, cwd, env=None, check=True, timeout=900) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, cwd=cwd, env=env or tool_env(), capture_output=True, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} failed ({p.returncode})\nstdout:\n{p.stdout[-3000:]}\n"
                             f"stderr:\n{p.stderr[-3000:]}")
    return p


def copy_repo(dest: Path) -> Path:
    """Copy the project's files (tracked + untracked, not ignored) into a fresh git repo."""
    files = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    run(["git", "init", "-q", "-b", "main"], dest)
    run(["git", "add", "-A"], dest)
    run(["git", "commit", "-q", "-m", "test copy"], dest)
    return dest


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    return copy_repo(tmp_path / "repo")


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    assert SAMPLE.is_dir(), "embedded sample missing: run `make sample`"
    return SAMPLE


TEST_WORKER_MEMORY = 3 * 2**30  # per test worker: past 60% of it a worker spills to disk


@pytest.fixture(scope="session")
def dask_cluster():
    """One 2-worker LocalCluster for every Dask test: (engine, the lines dcnet announced). The
    Dask modules share the xdist group "dask", so one xdist worker runs them all and starts the
    cluster once (a start costs seconds), not once per module."""
    from pipeline import engine as engines

    lines: list[str] = []
    spec = engines.EngineSpec("dask", workers=2, memory_limit=TEST_WORKER_MEMORY)
    with engines.open_engine(spec, announce=lines.append) as eng:
        yield eng, lines
