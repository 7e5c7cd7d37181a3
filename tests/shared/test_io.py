"""Atomic stage outputs (pipeline/io.py): a folder appears complete with its manifest or not at
all; readers refuse incomplete folders; a full disk is one line and leaves no partial output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from export_fixtures import small_dc
from pipeline import io
from pipeline.cli import app
from pipeline.errors import InputError, OutputError
from schemas.model import conform


def tables3() -> dict[str, pd.DataFrame]:
    nets = conform(pd.DataFrame({"id": ["n1", "n2"], "source_file": ["a.json"] * 2,
                                 "source_pos": [0, 1]}), "networks")
    return {"networks": nets, "security_groups": conform(pd.DataFrame(
        {"id": ["sg1"], "source_file": ["b.json"], "source_pos": [0]}), "security_groups")}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def cli(*args):
    res = CliRunner().invoke(app, [str(a) for a in args])
    # the CLI's own exit, never an escaped exception (a traceback)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res


def test_manifest_lists_every_table_with_rows_bytes_md5(tmp_path):
    out = tmp_path / "t"
    io.write_tables(tables3(), out, files={"_report.json": {"a": 1}})
    m = json.loads((out / io.MANIFEST).read_text())
    assert set(m["tables"]) == {"networks", "security_groups"}
    assert m["tables"]["networks"]["rows"] == 2
    assert m["tables"]["networks"]["bytes"] == (out / "networks.parquet").stat().st_size
    assert len(m["tables"]["networks"]["md5"]) == 32
    assert json.loads((out / "_report.json").read_text()) == {"a": 1}
    got = io.read_tables(out)
    assert len(got["networks"]) == 2 and len(got["ports"]) == 0  # not written: empty
    assert leftovers(tmp_path) == []


def test_outputs_get_the_usual_modes_not_the_temporary_files_0600(tmp_path):
    # outputs are built in mkdtemp/mkstemp places (0700/0600); once swapped in, another user
    # (an emulator operator, `dcnet emulate --plan-out` as nobody) must read them like any file
    import os
    import stat

    old = os.umask(0o022)
    try:
        io.write_tables(tables3(), tmp_path / "t", files={"_report.json": {"a": 1}})
        io.write_json({"b": 2}, tmp_path / "r.json")
    finally:
        os.umask(old)
    out = tmp_path / "t"
    assert stat.S_IMODE(out.stat().st_mode) == 0o755
    for f in [*out.iterdir(), tmp_path / "r.json"]:
        assert stat.S_IMODE(f.stat().st_mode) == 0o644, f.name


def test_new_output_replaces_the_old_folder_whole(tmp_path):
    out = tmp_path / "t"
    io.write_tables(tables3(), out)
    (out / "stray.txt").write_text("x")
    io.write_tables({"networks": tables3()["networks"]}, out)
    assert sorted(p.name for p in out.iterdir()) == [io.MANIFEST, "networks.parquet"]


def test_keep_existing_replaces_one_table_and_keeps_the_others(tmp_path):
    out = tmp_path / "t"
    io.write_tables(tables3(), out)
    io.write_tables({"networks": tables3()["networks"].iloc[:1]}, out, keep_existing=True)
    got = io.read_tables(out, ["networks", "security_groups"])
    assert len(got["networks"]) == 1 and len(got["security_groups"]) == 1


def test_failure_while_writing_keeps_the_previous_output(tmp_path):
    out = tmp_path / "t"
    io.write_tables(tables3(), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    class Broken:  # a table whose parquet write hits a full disk
        def __len__(self):
            return 1

        def reset_index(self, drop):
            return self

        def to_parquet(self, path, **kw):
            Path(path).write_bytes(b"PAR1 half")
            raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match=r"ports.parquet: cannot write \(No space left"):
        io.write_tables({**tables3(), "ports": Broken()}, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert leftovers(tmp_path) == []


def test_reader_refuses_folder_without_manifest_or_with_a_missing_table(tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    for name, df in tables3().items():
        df.to_parquet(bare / f"{name}.parquet")
    with pytest.raises(InputError, match="no _manifest.json"):
        io.read_tables(bare)
    out = tmp_path / "t"
    io.write_tables(tables3(), out)
    (out / "networks.parquet").unlink()
    with pytest.raises(InputError, match="networks.parquet: table missing"):
        io.read_tables(out)
    io.write_tables(tables3(), out)
    (out / "networks.parquet").write_bytes((out / "networks.parquet").read_bytes()[:100])
    with pytest.raises(InputError, match="truncated or replaced"):
        io.read_tables(out)


def test_validate_on_a_folder_of_three_bare_tables_fails_with_one_line(tmp_path):
    inp = tmp_path / "interim"
    inp.mkdir()
    for name in ("networks", "subnets", "ports"):
        conform(pd.DataFrame({"id": ["x"], "source_file": ["f"], "source_pos": [0]}),
                name).to_parquet(inp / f"{name}.parquet")
    res = cli("validate", "--input", inp, "--out", tmp_path / "v", "--quarantine",
              tmp_path / "q", "--report", tmp_path / "r.json", "--params", tmp_path / "no.yaml")
    assert res.exit_code == 2
    assert len(res.output.strip().splitlines()) == 1 and "no _manifest.json" in res.output
    assert not (tmp_path / "v").exists()


def test_synthetic_folder_missing_a_table_is_not_exported(tmp_path):
    io.write_tables(small_dc(), tmp_path / "syn")
    (tmp_path / "syn" / "subnets.parquet").unlink()
    res = cli("export", "--input", tmp_path / "syn", "--out", tmp_path / "exp")
    assert res.exit_code == 2 and "subnets.parquet: table missing" in res.output
    assert not (tmp_path / "exp").exists()


# --- a full disk ---------------------------------------------------------------------------------


@pytest.fixture
def full_disk(tmp_path):
    """A 16 KiB tmpfs (needs root): room for a folder, not for a stage's tables."""
    mnt = tmp_path / "full"
    mnt.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mnt)],
                       capture_output=True)
    if p.returncode != 0:
        pytest.skip("cannot mount a tmpfs (not root)")
    yield mnt
    subprocess.run(["umount", str(mnt)], check=True)


def _one_line_no_output(res, disk: Path) -> None:
    assert res.exit_code == 1, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "No space left on device" in lines[0], res.output
    assert "Traceback" not in res.output
    assert list(disk.iterdir()) == []  # no partial folder, no temporary leftovers


def test_full_disk_in_ingest_is_one_line_and_no_partial_output(tmp_path, full_disk):
    raw = tmp_path / "raw"
    raw.mkdir()
    nets = [{"id": f"net-{i}", "name": f"n{i}", "mtu": 1450} for i in range(50)]
    (raw / "networks.json").write_text(json.dumps({"networks": nets}))
    res = cli("ingest", "--input", raw, "--out", full_disk / "interim",
              "--params", tmp_path / "no.yaml")
    _one_line_no_output(res, full_disk)


def test_full_disk_in_validate_is_one_line_and_no_partial_output(tmp_path, full_disk):
    io.write_tables(small_dc(), tmp_path / "interim")
    res = cli("validate", "--input", tmp_path / "interim", "--out", full_disk / "validated",
              "--quarantine", full_disk / "quarantine", "--report", full_disk / "v.json",
              "--params", tmp_path / "no.yaml")
    _one_line_no_output(res, full_disk)


def test_full_disk_in_export_is_one_line_and_no_partial_output(tmp_path, full_disk):
    io.write_tables(small_dc(), tmp_path / "syn")
    res = cli("export", "--input", tmp_path / "syn", "--out", full_disk / "export",
              "--params", tmp_path / "no.yaml")
    assert res.exit_code == 1, res.output
    assert len(res.output.strip().splitlines()) == 1 and "No space left" in res.output
    # the export folder itself may exist (created before the first format); no format in it
    leftover = [p for p in full_disk.rglob("*") if p.is_file() or ".tmp-" in p.name]
    assert leftover == []



def test_kill_9_during_ingest_leaves_the_previous_output_and_no_mix(tmp_path):
    """A real process killed while writing its tables: the target keeps its old, complete
    content; the next run clears the leftover temporary folder."""
    import os
    import signal
    import sys
    import time

    from conftest import SAMPLE, tool_env

    out = tmp_path / "interim"
    io.write_tables(tables3(), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    dcnet = str(Path(sys.executable).parent / "dcnet")
    proc = subprocess.Popen([dcnet, "ingest", "--input", str(SAMPLE), "--out", str(out),
                             "--params", str(tmp_path / "none.yaml")], env=tool_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        tmp = list(tmp_path.glob(".interim.tmp-*/*.parquet"))
        if tmp:  # tables are being written
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    if proc.returncode != -signal.SIGKILL:
        pytest.skip("ingest finished before it could be killed")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert len(io.read_tables(out)["networks"]) == 2
    assert leftovers(tmp_path)  # the killed write's folder ...
    io.write_tables(tables3(), out)
    assert leftovers(tmp_path) == []  # ... is cleared by the next write


def test_model_folder_is_replaced_whole_or_not_at_all(tmp_path):
    from types import SimpleNamespace

    from sklearn.dummy import DummyClassifier

    from pipeline.train.stage import write_outputs

    models = tmp_path / "models"
    old = models / "t"
    old.mkdir(parents=True)
    (old / "model.skops").write_bytes(b"old")
    (old / "meta.json").write_text("{}")
    fields = dict(task="t", model=DummyClassifier().fit([[0], [1]], [0, 1]), model_name="dummy",
                  hyperparameters={}, seed=1, cv_folds=2, classes=[0, 1], feature_names=["a"],
                  dropped_features=[], forbidden_features=[])
    # metrics without n_labelled: fails after the model bytes were written into the new folder
    with pytest.raises(KeyError):
        write_outputs(SimpleNamespace(**fields, metrics={}), models, tmp_path / "r.json", None)
    assert (old / "model.skops").read_bytes() == b"old" and leftovers(models) == []
    write_outputs(SimpleNamespace(**fields, metrics={"n_labelled": 2}), models, tmp_path / "r.json", None)
    assert (old / "model.skops").read_bytes() != b"old"
    assert json.loads((old / "meta.json").read_text())["n_labelled"] == 2 and leftovers(models) == []


def test_a_manifest_that_cannot_be_read_is_one_line_not_a_traceback(tmp_path):
    out = tmp_path / "t"
    io.write_tables(tables3(), out)
    (out / io.MANIFEST).unlink()
    (out / io.MANIFEST).mkdir()  # read_text raises IsADirectoryError, an OSError like EACCES
    with pytest.raises(InputError, match="cannot read the manifest"):
        io.read_tables(out)
    res = cli("features", "--input", out, "--out", tmp_path / "f")
    assert res.exit_code == 2 and "Traceback" not in res.output
