"""The engine switch (params `engine:`, `dcnet ingest --engine/--scheduler`): ingest on a Dask
cluster writes the same bytes as the local engine, and fails with the same one-line errors.

One 2-worker LocalCluster for every Dask test module (tests/conftest.py `dask_cluster`); its tests share
an xdist group so `make test` (-n 2 --dist loadgroup) starts it once.
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import engine as engines
from pipeline import ingest
from pipeline.ingest import plan as ingest_plan
from pipeline.ingest import run as ingest_run
from pipeline.cli import app
from pipeline.errors import InputError
from ingest_fixtures import GROUP, HOST, NETWORK, PORT, RULE, SUBNET, write

pytestmark = [pytest.mark.dask, pytest.mark.xdist_group("dask")]

ROOT = Path(__file__).resolve().parents[2]
# tiny thresholds: every file of FIXTURE_DUMP but the smallest is cut into several chunks
SPLIT = {"workers": 2, "pool_min_bytes": 1, "split_above_bytes": 2000, "chunk_bytes": 3000}


@pytest.fixture(scope="module")
def cluster(dask_cluster):
    return dask_cluster


def _ports(start: int, count: int) -> list[dict]:
    return [{**PORT, "id": f"p{i}", "mac_address": f"fa:16:3e:00:{i // 256:02x}:{i % 256:02x}"}
            for i in range(start, start + count)]


FIXTURE_DUMP = {
    "z.json": {"ports": _ports(0, 150)},                                  # plain, split
    "a/b.ndjson": "\n".join(json.dumps({"port": p}) for p in _ports(150, 150)),  # NDJSON, split
    # gzip above split_above once gunzipped: spilled to a temporary file and split
    "m.json.gz": gzip.compress(json.dumps({"ports": _ports(300, 100), "ports_links": []}).encode()),
    # gzip that fits in memory: the local engine ships its bytes, dask a temporary file
    "small.json.gz": gzip.compress(json.dumps({"networks": [NETWORK]}).encode()),
    "groups.json": {"security_groups": [GROUP, {**GROUP, "id": "g2"}]},
    "rules.json": [{**RULE, "id": f"r{i}"} for i in range(60)],
    "subnets.json": {"subnets": [SUBNET]},
    "hosts.csv": "node_name,local_ip\nh1,10.0.0.1\nh2,10.0.0.2\n",
    "alcor_nodes.json": {"host_infos": [HOST]},
    "lb.json": {"load_balancers": []},                                    # unknown objects
}


def _run_cli(tmp_path: Path, name: str, raw: Path, ingest_params: dict, *engine_args: str,
             engine_params: dict | None = None):
    pfile = tmp_path / f"params-{name}.yaml"
    pfile.write_text(json.dumps({"ingest": ingest_params, "engine": engine_params or {}}))
    out = tmp_path / name
    res = CliRunner().invoke(app, ["ingest", "--input", str(raw), "--out", str(out),
                                   "--params", str(pfile), *engine_args])
    return res, out


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _local_and_dask(tmp_path, cluster, raw, ingest_params, temp_dir=None):
    eng, _ = cluster
    local, local_out = _run_cli(tmp_path, "local", raw, ingest_params, "--engine", "local")
    dask, dask_out = _run_cli(tmp_path, "dask", raw, ingest_params,
                              "--scheduler", eng.client.scheduler.address,
                              engine_params={"temp_dir": str(temp_dir)} if temp_dir else None)
    return local, local_out, dask, dask_out


def test_the_cluster_announces_its_dashboard_on_one_line(cluster):
    eng, lines = cluster
    assert len(lines) == 1 and "LocalCluster of 2 worker processes" in lines[0]
    assert eng.client.dashboard_link in lines[0]
    assert sum(eng.client.nthreads().values()) == 2  # 2 processes, 1 thread each
    # engine.memory_limit reaches the workers (conftest asks for 3 GiB each)
    limits = [w["memory_limit"] for w in eng.client.scheduler_info()["workers"].values()]
    assert limits == [3 * 2**30] * 2


def test_sample_gives_the_same_bytes_on_both_engines(tmp_path, cluster, sample_dir):
    local, local_out, dask, dask_out = _local_and_dask(tmp_path, cluster, sample_dir,
                                                       {"workers": 2, "pool_min_bytes": 1})
    assert local.exit_code == 0 and dask.exit_code == 0, (local.stderr, dask.stderr)
    local_files = _folder_bytes(local_out)
    assert "_ingest_report.json" in local_files and "ports.parquet" in local_files
    assert json.loads(local_files["_ingest_report.json"])["tables"]["ports"] > 0
    assert _folder_bytes(dask_out) == local_files


def test_split_files_give_the_same_bytes_on_both_engines(tmp_path, cluster):
    raw = write(tmp_path / "raw", FIXTURE_DUMP)
    spill = tmp_path / "spill"
    spill.mkdir()
    local, local_out, dask, dask_out = _local_and_dask(tmp_path, cluster, raw, SPLIT, spill)
    assert local.exit_code == 0 and dask.exit_code == 0, (local.stderr, dask.stderr)
    report = json.loads((local_out / "_ingest_report.json").read_text())
    assert report["tables"]["ports"] == 400 and report["unknown_files"][0]["file"] == "lb.json"
    assert _folder_bytes(dask_out) == _folder_bytes(local_out)
    assert list(spill.iterdir()) == []  # the temporary files are gone


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_workers_write_the_parts_and_this_process_converts_no_row(tmp_path, cluster,
                                                                  monkeypatch):
    # 70-row parts: the 400 ports of the split dump come in chunks of other sizes, so output
    # parts span several units' files; on Dask the workers write them (worker_tables.py)
    raw = write(tmp_path / "raw", FIXTURE_DUMP)
    eng, _ = cluster
    local, local_out = _run_cli(tmp_path, "local", raw, SPLIT, "--engine", "local",
                                engine_params={"partition_rows": 70})
    real = ingest_run.to_frame

    def no_rows_here(name, tables):
        assert not any(t.num_rows for t in tables), "the dcnet process converted rows"
        return real(name, tables)

    monkeypatch.setattr(ingest_run, "to_frame", no_rows_here)
    dask, dask_out = _run_cli(tmp_path, "dask", raw, SPLIT, "--scheduler",
                              eng.client.scheduler.address, engine_params={"partition_rows": 70})
    assert local.exit_code == 0 and dask.exit_code == 0, (local.output, dask.output)
    files = _tree_bytes(local_out)
    assert "ports/part-00005.parquet" in files and "ports/part-00006.parquet" not in files
    assert _tree_bytes(dask_out) == files  # no unit file left behind either


def test_dask_units_name_files_and_big_files_are_cut(tmp_path):
    raw = write(tmp_path / "raw", FIXTURE_DUMP)
    files, _ = ingest.discover(raw)
    sizes = [(raw / f).stat().st_size for f in files]
    _, _, tun = ingest_run._check_params(SPLIT)
    with ingest_plan.TempFiles(str(tmp_path)) as temps:
        units = list(ingest_plan.plan_files(raw, files, sizes, tun, temps, paths_only=True))
        local = list(ingest_plan.plan_files(raw, files, sizes, tun, temps))
        assert all(u.data is None and Path(u.path).is_file() for u in units)
    per_file = {f: sum(u.rel == f for u in units) for f in files}
    assert per_file["z.json"] > 1 and per_file["a/b.ndjson"] > 1 and per_file["m.json.gz"] > 1
    # the only unit that differs: the small gzip, in memory locally, a temporary file on dask
    small = [u for u in units if u.rel == "small.json.gz"]
    assert [u.spilled for u in small] == [True]
    assert [u.data is not None for u in local if u.rel == "small.json.gz"] == [True]


def test_a_bad_chunk_fails_with_the_same_line_on_both_engines(tmp_path, cluster):
    lines = [json.dumps({"port": p}) for p in _ports(0, 120)]
    lines[90] = '{"port": {"id": "broken", '  # a malformed line in a later chunk
    raw = write(tmp_path / "raw", {"ports.ndjson": "\n".join(lines), "groups.json": {"security_groups": [GROUP]}})
    local, local_out, dask, dask_out = _local_and_dask(tmp_path, cluster, raw, SPLIT)
    assert local.exit_code == dask.exit_code == 2
    assert len(local.stderr.strip().splitlines()) == 1 and "Traceback" not in dask.stderr
    assert f"{raw}/ports.ndjson: malformed JSON at line 91" in local.stderr
    assert dask.stderr == local.stderr
    assert not local_out.exists() and not dask_out.exists()
    # skipping it instead: the same tables and report (the file listed as skipped)
    local, local_out, dask, dask_out = _local_and_dask(tmp_path, cluster, raw, {**SPLIT, "on_bad_file": "skip"})
    assert local.exit_code == dask.exit_code == 0
    report = json.loads((local_out / "_ingest_report.json").read_text())
    assert [f["file"] for f in report["skipped_files"]] == ["ports.ndjson"]
    assert _folder_bytes(dask_out) == _folder_bytes(local_out)


def test_an_unreachable_scheduler_is_a_one_line_error(tmp_path, monkeypatch, sample_dir):
    monkeypatch.setattr(engines, "CONNECT_TIMEOUT", "1s")
    res, out = _run_cli(tmp_path, "x", sample_dir, {"workers": 1}, "--scheduler", "tcp://127.0.0.1:9")
    assert res.exit_code == 2 and not out.exists()
    assert res.stderr.strip().splitlines() == [
        res.stderr.strip()] and "cannot connect to the dask scheduler at tcp://127.0.0.1:9" in res.stderr


@pytest.mark.parametrize("params, kind, address, message", [
    ({"engine": {"kind": "spark"}}, None, None, "params engine.kind must be one of local, dask"),
    ({}, "spark", None, "--engine must be one of local, dask, got 'spark'"),
    ({}, "local", "tcp://h:8786", "--scheduler needs --engine dask"),
    ({"engine": {"kind": "dask", "workers": 0}}, None, None, "engine.workers must be a positive integer"),
    ({"engine": {"kind": "dask", "workers": "two"}}, None, None, "engine.workers must be a positive integer"),
    ({"engine": ["dask"]}, None, None, "params engine must be a mapping"),
    ({"engine": {"memory_limit": "lots"}}, None, None, "engine.memory_limit must be a size such as 4GB"),
    ({"engine": {"memory_limit": -5}}, None, None, "engine.memory_limit must be a size such as 4GB"),
    ({"engine": {"memory_limit": True}}, None, None, "engine.memory_limit must be a size such as 4GB"),
])
def test_bad_engine_settings_are_input_errors(params, kind, address, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        engines.spec_from_params(params, kind, address)


def test_engine_settings_and_overrides():
    params = {"engine": {"kind": "dask", "address": "tcp://h:8786", "workers": 3}}
    assert engines.spec_from_params({}) == engines.EngineSpec("local", "", 2)
    assert engines.spec_from_params(params) == engines.EngineSpec("dask", "tcp://h:8786", 3)
    assert engines.spec_from_params(params, "local").kind == "local"  # --engine local wins
    assert engines.spec_from_params({}, None, "tcp://x:1") == engines.EngineSpec("dask", "tcp://x:1", 2)
    assert engines.spec_from_params({"engine": {"kind": "dask"}}).address == ""  # LocalCluster
    assert engines.spec_from_params({}).memory_limit is None  # Dask's default
    assert engines.spec_from_params({"engine": {"memory_limit": "4GB"}}).memory_limit == 4 * 10**9
    assert engines.spec_from_params({"engine": {"memory_limit": "1 GiB"}}).memory_limit == 2**30


def test_the_local_engine_never_imports_dask(tmp_path, sample_dir):
    code = ("import sys; from typer.testing import CliRunner; from pipeline.cli import app; "
            f"r = CliRunner().invoke(app, ['ingest', '--input', {str(sample_dir)!r}, "
            f"'--out', {str(tmp_path / 'out')!r}]); "
            "assert r.exit_code == 0, r.output; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('dask', 'distributed')))")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


class _InProcessEngine:
    """The dask engine's interface, run in this process: ingest's dask path without a cluster."""

    def __init__(self, temp_dir: str):
        self.temp_dir = temp_dir
        self.seen: set[str] = set()  # temporary files present while a unit ran

    def run_ordered(self, fn, items, describe=repr):
        for item in items:
            self.seen.update(os.listdir(self.temp_dir))
            yield item, fn(item)


def test_temporary_files_go_once_their_file_is_done(tmp_path):
    raw = write(tmp_path / "raw", FIXTURE_DUMP)
    spill = tmp_path / "spill"
    spill.mkdir()
    left_after = {}

    def on_file(i, n, name):
        left_after[name] = sorted(p.name for p in spill.iterdir())

    eng = _InProcessEngine(str(spill))
    tables, report = ingest.ingest_dir(raw, SPLIT, on_file=on_file, engine=eng)
    assert len(eng.seen) == 2
    # both gzip files went through a temporary file, each removed when its last unit was done
    assert left_after["m.json.gz"] == [] and left_after["small.json.gz"] == []
    assert report["tables"]["ports"] == 400 and len(tables["networks"]) == 1
