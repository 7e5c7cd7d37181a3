"""The export dispatcher: formats written in forked workers (the Alcor stream forked before the
topology is built, since it reads only the tables) give exactly the in-process bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from export_fixtures import small_dc
from pipeline.errors import InputError
from pipeline.export import FORMATS, export_tables


def digests(root: Path) -> dict:
    return {str(p.relative_to(root)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_forked_workers_write_the_same_bytes_as_one_process(tmp_path):
    tables = small_dc(n_hosts=9, vms_per_host=3)
    params = {"export": {"containerlab_max_nodes": 20}}
    one = export_tables(tables, list(FORMATS), tmp_path / "one", {"export": {**params["export"], "workers": 1}})
    two = export_tables(tables, list(FORMATS), tmp_path / "two", {"export": {**params["export"], "workers": 2}})
    assert one == two
    assert one["formats"]["alcor"]["requests"] > 0
    assert digests(tmp_path / "one") == digests(tmp_path / "two")
    assert len(digests(tmp_path / "one")) > 10


def test_bad_tables_fail_before_any_format_is_forked(tmp_path):
    tables = small_dc()
    tables["hosts"] = tables["hosts"].iloc[0:0]
    with pytest.raises(InputError, match="hosts"):
        export_tables(tables, ["alcor", "mininet"], tmp_path / "out", {"export": {"workers": 2}})
    assert not (tmp_path / "out" / "alcor").exists()
