"""The sample's files: the committed sample is fresh, the same params give the same bytes."""

from __future__ import annotations

import gzip

import pytest

from pipeline import sample
from pipeline.errors import InputError
from pipeline.sample import stage
from tests.sample.sample_fixtures import MANIFEST, SAMPLE, SMALL, sample_params


def test_committed_sample_is_what_the_generator_writes(tmp_path):
    out = tmp_path / "sample"
    sample.write_sample(out, sample_params())
    fresh = sorted(p.name for p in out.iterdir())
    assert fresh == sorted(p.name for p in SAMPLE.iterdir()), "committed sample is stale: run `make sample`"
    for name in fresh:
        a, b = (out / name).read_bytes(), (SAMPLE / name).read_bytes()
        if name.endswith(".gz"):
            # Compressed bytes depend on the zlib build; the content must be identical.
            a, b = gzip.decompress(a), gzip.decompress(b)
        assert a == b, f"{name} is stale: run `make sample`"
    assert (tmp_path / "sample_faults.json").read_bytes() == MANIFEST.read_bytes()


def test_same_params_give_identical_bytes_and_deterministic_gzip(tmp_path):
    sample.write_sample(tmp_path / "a", SMALL)
    sample.write_sample(tmp_path / "b", SMALL)
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert any(n.endswith(".gz") for n in names)
    for n in names:
        blob = (tmp_path / "a" / n).read_bytes()
        assert blob == (tmp_path / "b" / n).read_bytes(), n
        if n.endswith(".gz"):
            flags, mtime = blob[3], int.from_bytes(blob[4:8], "little")
            assert mtime == 0 and not flags & 0x08, f"{n}: gzip header carries a time or a name"
    assert (tmp_path / "a_faults.json").read_bytes() == (tmp_path / "b_faults.json").read_bytes()


def test_other_seed_gives_other_content():
    a, _, _ = sample.generate(SMALL)
    b, _, _ = sample.generate({**SMALL, "seed": 8})
    assert a["neutron_networks.json"] != b["neutron_networks.json"]
    assert a[sample.F_LABELS] != b[sample.F_LABELS]


def test_rewrite_removes_files_of_an_earlier_generation(tmp_path):
    out = tmp_path / "s"
    sample.write_sample(out, SMALL)
    first = {p.name for p in out.iterdir()}
    (out / "notes.txt").write_text("mine")   # not ours: must survive
    sample.write_sample(out, {**SMALL, "seed": 8})
    names = {p.name for p in out.iterdir()}
    assert "notes.txt" in names
    assert names - {"notes.txt"} == set(sample.generate({**SMALL, "seed": 8})[0])
    assert any(n.startswith("osc_port_show_") for n in first - names)   # ids in names changed


def test_sample_params_layer_the_benchmark_over_the_sample_and_reject_bad_options():
    params = {"sample": {"seed": 1, "projects": 10, "zones": 2},
              "benchmark": {"a": {"seed": 7, "projects": 20}, "b": {"seed": 9}}}
    assert stage.sample_params(params) == {"seed": 1, "projects": 10, "zones": 2}
    assert stage.sample_params(params, "off", "a", seed=3)["seed"] == 3
    assert stage.sample_params(params, "hard", "b") == {
        "seed": 9, "projects": 10, "zones": 2, "realism": "hard", "variant": "b"}
    assert stage.sample_params(params, "hard", "a", seed=4) == {
        "seed": 4, "projects": 20, "zones": 2, "realism": "hard", "variant": "a"}
    assert params["sample"] == {"seed": 1, "projects": 10, "zones": 2}  # not changed in place
    for realism, variant, message in (("x", "a", "--realism x"), ("off", "c", "--variant c"),
                                      ("off", "b", "--variant b needs --realism hard")):
        with pytest.raises(InputError, match=message):
            stage.sample_params(params, realism, variant)
