"""`dcnet export` on Dask (pipeline/export/on_engine.py): the same folders, byte for byte, and
the same report as the local engine; containerlab's parts written by several tasks.

The 2-worker LocalCluster of every Dask test (tests/conftest.py `dask_cluster`), in their xdist group.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from export_fixtures import sample_tables, small_dc  # noqa: F401
from pipeline import io
from pipeline.cli import app
from pipeline.errors import InputError
from pipeline.export import containerlab as export_containerlab
from pipeline.export import stage
from pipeline.export.topology import build_topology

pytestmark = [pytest.mark.dask, pytest.mark.xdist_group("dask")]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster(dask_cluster):
    return dask_cluster[0]


def _files(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _params(**export) -> dict:
    params = io.load_params(ROOT / "params.yaml")
    params["export"] = {**params["export"], **export}
    return params


def test_the_sample_exports_the_same_bytes_on_both_engines(tmp_path, cluster, sample_tables):  # noqa: F811
    inp = tmp_path / "valid"
    io.write_tables(sample_tables, inp)
    # small lab files: containerlab is cut into parts, written by one task per worker; no
    # Mininet tenant view (its plan is 3.5 s of each export of the sample, and the same code)
    params = _params(containerlab_max_nodes=200, mininet_tenant_max_vms=0)
    reports = {}
    for label, engine in (("local", None), ("dask", cluster)):
        reports[label] = stage.run(params, inp, tmp_path / label, "all", derive_fabric=True,
                                   engine=engine)
    assert reports["local"] == reports["dask"]
    assert reports["dask"]["formats"]["containerlab"]["parts"] > 2
    local, dask = _files(tmp_path / "local"), _files(tmp_path / "dask")
    assert local.keys() == dask.keys() and len(local) > 20
    assert [name for name in local if local[name] != dask[name]] == []
    # no temporary folder left behind
    assert sorted(p.name for p in (tmp_path / "dask").iterdir()) == sorted(
        p.name for p in (tmp_path / "local").iterdir())


def test_alcor_alone_keeps_the_topology_summary(tmp_path, cluster, sample_tables):  # noqa: F811
    inp = tmp_path / "valid"
    io.write_tables(sample_tables, inp)
    reports = [stage.run(_params(), inp, tmp_path / label, "alcor", engine=engine)
               for label, engine in (("local", None), ("dask", cluster))]
    assert reports[0] == reports[1] and reports[1]["topology"]["vms"] > 0
    assert _files(tmp_path / "local") == _files(tmp_path / "dask")


def test_bad_input_fails_before_any_task_with_the_local_message(tmp_path, cluster, sample_tables):  # noqa: F811
    inp = tmp_path / "valid"
    io.write_tables(sample_tables, inp)  # no fabric tables
    messages = []
    for engine in (None, cluster):
        with pytest.raises(InputError) as err:
            stage.run(_params(), inp, tmp_path / "out", "mininet", engine=engine)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "--derive-fabric" in messages[0]
    assert not (tmp_path / "out" / "mininet").exists()


def test_an_unreadable_input_names_its_folder_once_on_both_engines(tmp_path, cluster):
    (tmp_path / "empty").mkdir()
    for engine in (None, cluster):
        with pytest.raises(InputError) as err:
            stage.run(_params(), tmp_path / "empty", tmp_path / "out", "all", engine=engine)
        assert str(err.value).count(str(tmp_path / "empty")) == 1, str(err.value)
        assert "no _manifest.json" in str(err.value)


@pytest.mark.parametrize("groups", [1, 2, 5])
def test_containerlab_groups_write_the_parts_of_one_write(tmp_path, groups):
    topo = build_topology(small_dc(n_hosts=12, vms_per_host=3))
    params = {"containerlab_max_nodes": 12}
    (tmp_path / "whole").mkdir()
    whole = export_containerlab.write(topo, tmp_path / "whole", params)
    out = tmp_path / "groups"
    out.mkdir()
    # groups finished in any order
    results = [export_containerlab.write_group(topo, out, params, g, groups)
               for g in reversed(range(groups))]
    assert export_containerlab.finish(out, results) == whole
    assert _files(out) == _files(tmp_path / "whole") and whole["parts"] > groups


def test_the_cli_takes_a_scheduler(tmp_path, cluster):
    inp = tmp_path / "dc"
    io.write_tables(small_dc(), inp)
    pfile = tmp_path / "params.yaml"
    pfile.write_text(yaml.safe_dump(_params()))
    address = cluster.client.scheduler.address
    res = CliRunner().invoke(app, ["export", "--input", str(inp), "--out", str(tmp_path / "out"),
                                   "--params", str(pfile), "--scheduler", address])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(app, ["export", "--input", str(inp), "--out", str(tmp_path / "local"),
                                   "--params", str(pfile), "--engine", "local"])
    assert res.exit_code == 0, res.output
    assert _files(tmp_path / "out") == _files(tmp_path / "local")
    rep = json.loads((tmp_path / "out" / "_export_report.json").read_text())
    assert set(rep["formats"]) == {"mininet", "merak", "alcor", "containerlab", "graphml"}
