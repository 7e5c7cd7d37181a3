"""`make test` relies on xdist groups (Mininet, Dask and the dvc end-to-end run each on one
worker). pytest 9.2 silently stops honouring them (pytest-xdist issue #1386: the group suffix of
the node id no longer takes effect), so requirements.lock pins pytest 9.1.1; this test fails if
the installed pair ever spreads a group over several workers again."""

from __future__ import annotations

import subprocess
import sys


def test_a_group_runs_on_one_worker(tmp_path):
    (tmp_path / "test_grouped.py").write_text(
        "import os, pytest\n"
        "pytestmark = [pytest.mark.xdist_group('one')]\n"
        "@pytest.mark.parametrize('i', range(6))\n"
        "def test_grouped(i):\n"
        "    print('WORKER', os.environ['PYTEST_XDIST_WORKER'])\n")
    (tmp_path / "test_free.py").write_text(
        "import pytest\n@pytest.mark.parametrize('i', range(6))\ndef test_free(i):\n    pass\n")
    done = subprocess.run([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "-v",
                           "-p", "no:cacheprovider", str(tmp_path)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    workers = {line.split("]")[0].strip("[") for line in done.stdout.splitlines()
               if "PASSED" in line and "test_grouped" in line}
    assert len(workers) == 1 and next(iter(workers)).startswith("gw"), done.stdout[-2000:]
