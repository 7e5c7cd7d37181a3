"""Partitioned tables: a table with more rows than `engine.partition_rows` is a folder of parts
that dcnet, pandas, pyarrow, polars and DuckDB all read back as the same rows in the same order;
a broken part is refused with one line; stages chained through the CLI give the same tables as
unpartitioned files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import yaml
from typer.testing import CliRunner

from pipeline import io
from pipeline.cli import app
from pipeline.errors import InputError

ROOT = Path(__file__).resolve().parents[2]


def assert_same_files(a: Path, b: Path) -> None:
    """Both folders hold the same files (folders of parts included), byte for byte."""
    names = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in names:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "id": pd.Series([f"p{i:04d}" for i in range(n)], dtype="string"),
        "ip_index": pd.Series([i if i % 3 else None for i in range(n)], dtype="Int64"),
        "up": pd.Series([bool(i % 2) if i % 5 else None for i in range(n)], dtype="boolean"),
        "note": pd.Series([None] * n, dtype="string"),  # all null in every part: type kept
    })


def test_big_table_is_a_folder_of_parts_in_row_order(tmp_path):
    df, small = rows(10), rows(3)
    io.write_tables({"big": df, "small": small}, tmp_path / "out", rows_per_part=4)
    out = tmp_path / "out"
    assert sorted(p.name for p in (out / "big").iterdir()) == \
        ["part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]
    assert (out / "small.parquet").is_file()  # at most rows_per_part rows: one file, as before
    entry = json.loads((out / io.MANIFEST).read_text())["tables"]["big"]
    assert entry["rows"] == 10 and [p["rows"] for p in entry["parts"]] == [4, 4, 2]
    assert entry["bytes"] == sum((out / p["file"]).stat().st_size for p in entry["parts"])
    back = io.read_tables(out, ["big", "small"])
    pd.testing.assert_frame_equal(back["big"], df)
    pd.testing.assert_frame_equal(io.read_table(out / "big.parquet"), df)


def test_other_readers_see_the_same_table(tmp_path):
    df = rows(25)
    io.write_tables({"big": df}, tmp_path, rows_per_part=7)
    folder = tmp_path / "big"
    pd.testing.assert_frame_equal(pd.read_parquet(folder), df)

    import pyarrow.parquet as pq

    assert pq.read_table(folder).to_pandas().equals(df)

    import polars as pl

    got = pl.read_parquet(str(folder / "*.parquet"))
    assert got["id"].to_list() == df["id"].tolist()
    assert got["ip_index"].to_list() == [None if pd.isna(v) else int(v) for v in df["ip_index"]]

    import duckdb

    found = duckdb.sql(f"SELECT id, ip_index FROM read_parquet('{folder}/*.parquet')").fetchall()
    assert [r[0] for r in found] == df["id"].tolist()  # DuckDB keeps file and row order here
    assert duckdb.sql(f"SELECT count(*) FROM '{folder}/*.parquet'").fetchall()[0][0] == 25


def test_the_layout_depends_only_on_the_number(tmp_path):
    for name in ("a", "b"):
        io.write_tables({"big": rows(9)}, tmp_path / name, rows_per_part=4)
    for rel in ("_manifest.json", "big/part-00000.parquet", "big/part-00002.parquet"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


@pytest.mark.parametrize("damage", ["missing", "truncated", "bad_list"])
def test_a_broken_part_is_refused_naming_it(tmp_path, damage):
    io.write_tables({"big": rows(9)}, tmp_path, rows_per_part=4)
    part = tmp_path / "big" / "part-00001.parquet"
    if damage == "missing":
        part.unlink()
    elif damage == "truncated":
        part.write_bytes(part.read_bytes()[:-10])
    else:
        manifest = json.loads((tmp_path / io.MANIFEST).read_text())
        manifest["tables"]["big"]["parts"] = "big/*"
        (tmp_path / io.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(InputError) as e:
        io.read_tables(tmp_path, ["big"])
    assert "\n" not in str(e.value)
    assert ("part-00001.parquet" in str(e.value)) if damage != "bad_list" else "parts" in str(e.value)


def test_keep_existing_keeps_a_partitioned_table(tmp_path):
    io.write_tables({"big": rows(9), "small": rows(2)}, tmp_path, rows_per_part=4)
    io.write_tables({"small": rows(3)}, tmp_path, keep_existing=True)
    back = io.read_tables(tmp_path, ["big", "small"])
    pd.testing.assert_frame_equal(back["big"], rows(9))
    assert len(back["small"]) == 3


@pytest.mark.parametrize("bad", [0, -1, "many", True])
def test_partition_rows_is_checked(bad):
    with pytest.raises(InputError, match="engine.partition_rows"):
        io.partition_rows({"engine": {"partition_rows": bad}})


def test_stages_through_the_cli_read_and_write_parts(tmp_path, sample_dir):
    """ingest -> validate -> export on the sample with 1,000-row parts: the ingested and
    validated tables equal those of a run with single files, and the export is identical."""
    runner = CliRunner()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    outs = {}
    for label, per_part in (("files", 10**9), ("parts", 1000)):
        params["engine"] = {**(params.get("engine") or {}), "partition_rows": per_part}
        pfile = tmp_path / f"params_{label}.yaml"
        pfile.write_text(yaml.safe_dump(params))
        base = tmp_path / label
        for args in (["ingest", "--input", str(sample_dir), "--out", str(base / "interim")],
                     ["validate", "--input", str(base / "interim"), "--out", str(base / "valid"),
                      "--quarantine", str(base / "quarantine"), "--report", str(base / "report.json")],
                     ["export", "--input", str(base / "valid"), "--out", str(base / "export"),
                      "--format", "alcor,mininet", "--derive-fabric"]):
            res = runner.invoke(app, [*args, "--params", str(pfile)])
            assert res.exit_code == 0, res.output
        outs[label] = base
    parted = [p.name for p in (outs["parts"] / "interim").iterdir() if p.is_dir()]
    assert "ports" in parted and "port_ips" in parted  # the sample's big tables
    for stage in ("interim", "valid"):
        a, b = io.read_tables(outs["files"] / stage), io.read_tables(outs["parts"] / stage)
        for name in a:
            pd.testing.assert_frame_equal(a[name], b[name], obj=f"{stage}/{name}")
    for rel in ("alcor/alcor_requests.ndjson", "mininet/dcnet_topo.py"):
        assert (outs["files"] / "export" / rel).read_bytes() == \
            (outs["parts"] / "export" / rel).read_bytes()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 9), max_size=6), st.integers(1, 6))
def test_a_table_written_in_pieces_gives_the_same_files(tmp_path_factory, pieces, per_part):
    """However the rows arrive (empty pieces included), the files are those of one write."""
    folder = tmp_path_factory.mktemp("pieces")
    df = rows(sum(pieces))
    io.write_tables({"big": df}, folder / "whole", rows_per_part=per_part)
    with io.writing_tables(folder / "pieces", per_part) as out:
        start = 0
        for n in pieces or [0]:
            out.table("big").append(df.iloc[start:start + n].reset_index(drop=True))
            start += n
    assert_same_files(folder / "whole", folder / "pieces")


def test_tables_written_side_by_side_are_those_written_one_by_one(tmp_path):
    """write_tables writes two tables at a time (threads): the files and the manifest are
    those of writing each table alone; a table that cannot be written fails the whole folder."""
    tables = {f"t{n}": rows(n) for n in (0, 3, 17, 40, 41, 5)}
    io.write_tables(tables, tmp_path / "together", rows_per_part=8)
    for name, df in tables.items():
        io.write_tables({name: df}, tmp_path / "alone", keep_existing=True, rows_per_part=8)
    assert_same_files(tmp_path / "together", tmp_path / "alone")
    broken = {**tables, "t9": pd.DataFrame({"x": [object()]})}  # pyarrow cannot write it
    with pytest.raises(Exception):
        io.write_tables(broken, tmp_path / "broken", rows_per_part=8)
    assert not (tmp_path / "broken").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".broken")] == []


@pytest.mark.parametrize("per_part", [700, 10**9])
def test_ingest_streams_the_files_a_whole_write_would_give(tmp_path, sample_dir, per_part):
    """`dcnet ingest` writes tables as the files are read; the folder is byte for byte the one
    written from the tables ingest_dir returns (parts cut across file boundaries included)."""
    from pipeline.ingest import ingest_dir

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["engine"] = {**(params.get("engine") or {}), "partition_rows": per_part}
    pfile = tmp_path / "params.yaml"
    pfile.write_text(yaml.safe_dump(params))
    res = CliRunner().invoke(app, ["ingest", "--input", str(sample_dir), "--out",
                                   str(tmp_path / "streamed"), "--params", str(pfile)])
    assert res.exit_code == 0, res.output
    tables, rep = ingest_dir(sample_dir, params["ingest"])
    io.write_tables(tables, tmp_path / "whole", files={"_ingest_report.json": rep},
                    rows_per_part=per_part)
    assert_same_files(tmp_path / "whole", tmp_path / "streamed")
    assert (per_part < 10**9) == any(p.name.startswith("part-") for p in (tmp_path / "whole").rglob("*"))
