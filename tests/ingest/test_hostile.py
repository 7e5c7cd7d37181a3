"""Ingest under hostile input (issue 11): gzip bombs and long runs of tiny objects stay within
bounded memory, deep nesting and odd CSV headers give one line or a row error, never a
traceback or a silently dropped value."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import zlib
from pathlib import Path

import pandas as pd
import pytest

from pipeline.errors import InputError
from pipeline.ingest import ingest_dir
from pipeline.validate import validate_tables

SERIAL = {"workers": 1}
ROOT = Path(__file__).resolve().parents[2]


def gzip_bomb(megabytes: int, byte: bytes = b"\0") -> bytes:
    """`megabytes` MB of one byte value as concatenated gzip members (a few KB per 10 MB)."""
    member = gzip.compress(byte * (1 << 20), compresslevel=9)
    return member * megabytes


def peak_rss_mb(script: str) -> tuple[float, str]:
    """Run `script` in a fresh interpreter; (its peak RSS in MB, its stdout)."""
    # VmHWM, not ru_maxrss: the latter may carry the forking parent's (pytest's) peak over exec
    code = script + ("\nprint('RSS', [l.split()[1] for l in open('/proc/self/status')"
                     " if l.startswith('VmHWM')][0])")
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=300, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr[-2000:]
    rss = float(p.stdout.rsplit("RSS", 1)[1]) / 1024
    return rss, p.stdout


def test_gzip_beyond_the_cap_is_one_line_naming_file_and_cap(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "bomb.json.gz").write_bytes(gzip_bomb(8, b" "))  # 8 MB of spaces, ~8 KB
    with pytest.raises(InputError) as err:
        ingest_dir(raw, {**SERIAL, "max_decompressed_bytes": 1 << 20})
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.endswith("bomb.json.gz: decompresses to more than 1,048,576 bytes, the cap of "
                        "ingest.max_decompressed_bytes")
    (raw / "ok.json").write_text(json.dumps({"networks": [{"id": "n1"}]}))
    tables, report = ingest_dir(raw, {**SERIAL, "max_decompressed_bytes": 1 << 20,
                                      "on_bad_file": "skip"})
    assert [f["file"] for f in report["skipped_files"]] == ["bomb.json.gz"]
    assert len(tables["networks"]) == 1


def test_small_gzip_bomb_in_a_worker_is_capped_too(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "b.gz").write_bytes(gzip_bomb(2, b"{"))  # a few KB: gunzipped by the worker
    with pytest.raises(InputError, match="b.gz: decompresses to more than 65,536 bytes"):
        ingest_dir(raw, {**SERIAL, "max_decompressed_bytes": 1 << 16})


def test_gzip_bomb_of_nul_bytes_stops_early_in_bounded_memory(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "zeros.gz").write_bytes(gzip_bomb(200))  # 200 MB of NUL bytes in ~200 KB
    rss, out = peak_rss_mb(
        "from pipeline.ingest import ingest_dir\n"
        "from pipeline.errors import InputError\n"
        "try:\n"
        f"    ingest_dir({str(raw)!r}, {{'workers': 1}})\n"
        "except InputError as e:\n"
        "    print('ERR', e)\n")
    assert "zeros.gz: binary data (NUL byte at offset 0)" in out
    assert rss < 400, f"peak RSS {rss:.0f} MB"


def test_big_gzip_is_split_from_a_temporary_file_in_bounded_memory(tmp_path, monkeypatch):
    import tempfile

    spill = tmp_path / "tmp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    raw = tmp_path / "raw"
    raw.mkdir()
    ports = [{"id": f"p{i}", "network_id": "n1", "mac_address": f"fa:16:3e:00:{i >> 8 & 255:02x}:{i & 255:02x}",
              "fixed_ips": [], "name": "x" * 200} for i in range(60000)]
    (raw / "ports.json.gz").write_bytes(gzip.compress(json.dumps({"ports": ports}).encode(), 1))
    params = {**SERIAL, "split_above_bytes": 4 << 20, "chunk_bytes": 1 << 20}
    tables, report = ingest_dir(raw, params)
    assert len(tables["ports"]) == 60000
    assert tables["ports"]["source_pos"].tolist() == list(range(60000))
    assert report["files"][0]["gzip"] is True
    assert not list(spill.iterdir())  # the temporary file is removed


def test_long_run_of_empty_objects_is_counted_in_bounded_memory(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    n = 2_000_000  # 6 MB each: below the split size, but ~300 MB once decoded whole
    (raw / "empty.ndjson").write_bytes(b"{}\n" * n)
    (raw / "empty_array.json").write_bytes(b"[" + b"{}," * (n - 1) + b"{}]")
    rss, out = peak_rss_mb(
        "from pipeline.ingest import ingest_dir\n"
        f"t, r = ingest_dir({str(raw)!r}, {{'workers': 1, 'chunk_bytes': 1 << 20}})\n"
        "print('UNKNOWN', r['unknown_objects'], sum(len(df) for df in t.values()))\n")
    assert f"UNKNOWN {2 * n} 0" in out
    assert rss < 200, f"peak RSS {rss:.0f} MB"  # ~115 MB of it is the imported libraries


@pytest.mark.parametrize("form", ["json", "ndjson", "big_json"])
def test_json_nested_thousands_of_levels_is_one_line(tmp_path, form):
    raw = tmp_path / "raw"
    raw.mkdir()
    deep = "[" * 5000 + "]" * 5000
    port = '{"id": "p1", "network_id": "n1", "mac_address": "fa:16:3e:00:00:01", "fixed_ips": [], "x": %s}' % deep
    if form == "ndjson":
        text = port + "\n" + port + "\n"
    else:
        text = '{"ports": [' + ", ".join([port] * (200 if form == "big_json" else 1)) + "]}"
    (raw / "deep.json").write_text(text)
    with pytest.raises(InputError) as err:
        ingest_dir(raw, {**SERIAL, "split_above_bytes": 1 << 16, "chunk_bytes": 1 << 14})
    msg = str(err.value)
    assert "\n" not in msg and "deep.json: " in msg and "nested too deeply" in msg, msg


def test_nesting_python_cannot_store_is_one_line(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    deep = "[" * 1000 + "]" * 1000  # orjson reads it; storing it in `extra` recurses too deep
    (raw / "d.json").write_text('{"ports": [{"id": "p1", "fixed_ips": [], "mac_address": "x", "x": %s}]}' % deep)
    try:
        tables, _ = ingest_dir(raw, SERIAL)
    except InputError as e:
        assert "\n" not in str(e) and "d.json: " in str(e)
    else:
        assert len(tables["ports"]) == 1


# --- CSV with repeated or aliased columns ---------------------------------------------------------


def _hosts(tmp_path, text: str):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "hosts.csv").write_text(text)
    tables, _ = ingest_dir(raw, SERIAL)
    return tables["hosts"]


def test_csv_repeated_column_with_different_values_is_a_row_error_keeping_both(tmp_path):
    hosts = _hosts(tmp_path, "node_name,local_ip,local_ip\nh1,10.0.0.1,10.0.0.1\nh2,10.0.0.2,10.0.0.9\n")
    h1, h2 = hosts.iloc[0], hosts.iloc[1]
    assert h1["local_ip"] == "10.0.0.1" and pd.isna(h1["ingest_errors"]) and pd.isna(h1["extra"])
    assert h2["local_ip"] == "10.0.0.2"
    assert h2["ingest_errors"] == "local_ip: column 2 is '10.0.0.2' but column 3 is '10.0.0.9'"
    assert json.loads(h2["extra"]) == {"local_ip (column 3)": "10.0.0.9"}
    res = validate_tables({"hosts": hosts})
    assert res.quarantine["hosts"]["node_name"].tolist() == ["h2"]


def test_csv_aliased_columns_that_disagree_are_a_row_error_keeping_both(tmp_path):
    hosts = _hosts(tmp_path, "node_name,mac,mac_address\nh1,AA:BB:CC:00:00:01,aa:bb:cc:00:00:01\n"
                             "h2,aa:bb:cc:00:00:02,aa:bb:cc:00:00:09\nh3,,aa:bb:cc:00:00:03\n")
    by = hosts.set_index("node_name")
    assert by.loc["h2", "mac_address"] == "aa:bb:cc:00:00:09"  # mac_address is the first alias
    assert "'mac_address' is 'aa:bb:cc:00:00:09' but 'mac' is 'aa:bb:cc:00:00:02'" in by.loc["h2", "ingest_errors"]
    assert json.loads(by.loc["h2", "extra"]) == {"mac": "aa:bb:cc:00:00:02"}
    assert by.loc["h3", "mac_address"] == "aa:bb:cc:00:00:03" and pd.isna(by.loc["h3", "ingest_errors"])
    # two spellings of one MAC are no conflict
    assert by.loc["h1", "mac_address"] == "aa:bb:cc:00:00:01" and pd.isna(by.loc["h1", "ingest_errors"])


def test_ndjson_of_bare_objects_is_cut_at_line_ends_not_parsed_whole():
    from pipeline.ingest.chunks import Chunk, plan_chunks
    from pipeline.ingest.parse import parse_chunk

    lines = [json.dumps({"id": f"n{i}", "name": "net", "mtu": 1450, "router:external": False})
             for i in range(3000)]
    data = ("\n".join(lines) + "\n").encode()
    chunks = plan_chunks(data, 16 << 10)
    assert chunks is not None and len(chunks) > 5
    assert {c.mode for c in chunks} == {"ndjson"}
    assert [c.pos0 for c in chunks] == sorted(c.pos0 for c in chunks)
    assert sum(parse_chunk(c).recs["networks"].__len__() for c in
               (Chunk(c.mode, c.pos0, c.start, c.end, c.key, data[c.start:c.end])
                for c in chunks)) == 3000


def test_big_ndjson_file_of_bare_objects_uses_chunks(tmp_path, monkeypatch):
    import pipeline.ingest.parse as parse

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "all.ndjson").write_text("".join(
        json.dumps({"id": f"n{i}", "name": "net", "mtu": 1450, "router:external": False}) + "\n"
        for i in range(3000)))
    calls = []
    orig = parse.parse_chunk
    monkeypatch.setattr(parse, "parse_chunk", lambda ch, path=None: calls.append(ch) or orig(ch, path))
    tables, _ = ingest_dir(raw, {**SERIAL, "split_above_bytes": 64 << 10, "chunk_bytes": 16 << 10})
    assert len(calls) > 5
    assert tables["networks"]["source_pos"].tolist() == list(range(3000))
