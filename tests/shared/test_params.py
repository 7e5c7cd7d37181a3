"""params.yaml against its definition (pipeline/params.py): closed sections, one-line errors
naming the file and the dotted key, defaults from the definition, dvc.yaml params per key."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from pipeline import io
from pipeline import params as P
from pipeline.cli import app
from pipeline.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
RAW = yaml.safe_load((ROOT / "params.yaml").read_text())


def write(tmp_path: Path, doc) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(json.dumps(doc))  # JSON is YAML
    return path


def cli(*args):
    res = CliRunner().invoke(app, [str(a) for a in args])
    # the CLI's own exit, never an escaped exception (a traceback)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res


def one_line_error(res, path: Path) -> str:
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.output
    assert res.stderr.count("\n") == 1, res.stderr
    assert res.stderr.startswith(f"error: {path}: "), res.stderr
    return res.stderr[len(f"error: {path}: "):].rstrip("\n")


# --- the project's params.yaml -------------------------------------------------------------------


def leaves(doc, prefix=""):
    if isinstance(doc, dict) and doc:
        for key, value in doc.items():
            yield from leaves(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip("."), doc


def lookup(doc, dotted: str):
    for part in dotted.split("."):
        doc = doc[part]
    return doc


def test_params_yaml_loads_with_its_values_unchanged():
    loaded = io.load_params(ROOT / "params.yaml")
    for key, value in leaves(RAW):
        if key.startswith("export.merak_images"):
            continue  # list of closed entries: compared below
        got = lookup(loaded, key)
        # same value and same type: what the stages see (and record in reports) is unchanged
        assert got == value and type(got) is type(value), key
    for given, got in zip(RAW["export"]["merak_images"], loaded["export"]["merak_images"]):
        assert {k: got[k] for k in given} == given


# --- unknown keys and wrong types: one line, exit 2 -------------------------------------------


def test_unknown_top_level_key_is_one_line_naming_it(tmp_path):
    path = write(tmp_path, {**RAW, "ingset": {"workers": 1}})
    msg = one_line_error(cli("ingest", "--input", tmp_path, "--out", tmp_path / "o", "--params", path), path)
    assert msg.startswith("ingset: unknown key (known: engine, data, sample, benchmark, ingest, validate,")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("section, key, dotted, known", [
    ("export", {"alcr": {}}, "export.alcr", "formats, max_png_nodes"),
    ("export", {"alcor": {"ncm": "http://x"}}, "export.alcor.ncm",
     "nodes_per_request, server_port, ncm_uri, flat_segmentation_id"),
    ("export", {"merak_images": [{"nme": "ACA", "registry": "r"}]}, "export.merak_images[0].nme",
     "name, registry, cmd, args"),
    ("benchmark", {"c": {"seed": 1}}, "benchmark.c", "a, b, targets"),
    ("train", {"models": {"svm": {}}}, "train.models.svm",
     "logistic_regression, random_forest, hist_gradient_boosting"),
])
def test_unknown_nested_key_is_one_line_naming_it(tmp_path, section, key, dotted, known):
    path = write(tmp_path, {**RAW, section: {**RAW[section], **key}})
    msg = one_line_error(cli("export", "--input", tmp_path / "none", "--out", tmp_path / "o",
                             "--params", path), path)
    assert msg.startswith(f"{dotted}: unknown key (known: {known}")


def test_unknown_key_of_a_task_names_the_task(tmp_path):
    tasks = {**RAW["tasks"], "port_role": {**RAW["tasks"]["port_role"], "featurs": "ports"}}
    path = write(tmp_path, {**RAW, "tasks": tasks})
    msg = one_line_error(cli("classify", "--features", tmp_path, "--models", tmp_path,
                             "--out", tmp_path / "o", "--params", path), path)
    assert msg.startswith("tasks.port_role.featurs: unknown key (known: features, labeler,")


@pytest.mark.parametrize("section, key, expected", [
    ("ingest", {"workers": "many"}, "ingest.workers: expected an integer, got 'many'"),
    ("fabric", {"spines": "lots"}, "fabric.spines: expected an integer or 'auto', got 'lots'"),
    ("labels", {"classes": "web"}, "labels.classes: expected a list, got 'web'"),
    ("evaluate_synthetic", {"tstr_seeds": [11, "x"]},
     "evaluate_synthetic.tstr_seeds[1]: expected an integer, got 'x'"),
    ("validate", {"max_quarantine_fraction": "5%"},
     "validate.max_quarantine_fraction: expected a number, got '5%'"),
    ("synthesize", {"mix": "uniform"}, "synthesize.mix: expected 'as_learned' or a mapping, got 'uniform'"),
    # inside a union's mapping member: the share itself is named
    ("synthesize", {"mix": {"web": 0.5, "hpc": "half"}}, "synthesize.mix.hpc: expected a number, got 'half'"),
])
def test_wrong_type_is_one_line_naming_the_key(tmp_path, section, key, expected):
    path = write(tmp_path, {**RAW, section: {**RAW[section], **key}})
    res = cli("ingest", "--input", tmp_path, "--out", tmp_path / "o", "--params", path)
    assert one_line_error(res, path) == expected


def test_the_python_name_of_a_section_is_not_a_key(tmp_path):
    # `validate` is spelt `validate_` in the definition (BaseModel has a validate method)
    path = write(tmp_path, {"validate_": {"max_quarantine_fraction": 0.5}})
    with pytest.raises(InputError, match=re.escape(f"{path}: validate_: unknown key")):
        io.load_params(path)
    assert io.load_params(write(tmp_path, {"validate": {"max_quarantine_fraction": 0.5}}))[
        "validate"] == {"max_quarantine_fraction": 0.5, "workers": 2}  # defaults filled
    assert P.declared("validate.max_quarantine_fraction") and not P.declared("validate_")


def test_a_section_that_is_not_a_mapping_is_one_line(tmp_path):
    path = write(tmp_path, {**RAW, "sample": 3})
    with pytest.raises(InputError, match=re.escape(f"{path}: sample: expected a mapping, got 3")):
        io.load_params(path)


# --- defaults come from the definition --------------------------------------------------------


def test_a_params_file_without_a_section_gives_the_definitions_defaults(tmp_path):
    loaded = io.load_params(write(tmp_path, {"sample": {"seed": 5}}))
    assert loaded["sample"]["seed"] == 5
    assert loaded["sample"]["zones"] == P.SampleParams().zones == 2
    assert loaded["export"] == P.defaults()["export"]
    assert loaded["export"]["alcor"]["nodes_per_request"] == 1000
    assert loaded["ingest"]["workers"] == P.default("ingest.workers") == 1
    assert loaded["evaluate_synthetic"]["tstr_max_gap"] == 0.05  # the code's default, not params.yaml's
    assert loaded["tasks"] == {}   # no tasks: commands that need one say so


def test_a_missing_params_file_gives_the_defaults(tmp_path):
    assert io.load_params(tmp_path / "none.yaml") == P.defaults()


def test_an_empty_key_or_section_is_its_default(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("ingest:\n  workers:\nexport:\n")
    loaded = io.load_params(path)
    assert loaded["ingest"]["workers"] == 1
    assert loaded["export"] == P.defaults()["export"]
    # an empty unknown key is still unknown
    path.write_text("export:\n  alcr:\n")
    with pytest.raises(InputError, match=r"export\.alcr: unknown key"):
        io.load_params(path)


def test_not_set_keys_stay_out_and_task_names_fill_features_and_labeler(tmp_path):
    loaded = io.load_params(write(tmp_path, {"tasks": {"my_task": None}}))
    # None = "not set": left out, so a stage's `key in section` / `.get(key)` keeps its meaning
    assert "tstr_gap" not in loaded["benchmark"]["targets"]
    assert "seed" not in loaded["demand"]          # falls back to train.seed in the stage
    assert loaded["tasks"]["my_task"] == {"features": "my_task", "labeler": "my_task",
                                          "forbid_sources": [], "exclude_classes": []}


def test_code_reads_its_defaults_from_the_definition():
    from pipeline import features, ingest, validate

    assert ingest.SPLIT_ABOVE_BYTES == P.default("ingest.split_above_bytes")
    assert features.DEFAULT_BUCKETS == P.default("features.name_hash_buckets")
    assert validate.DEFAULT_MAX_QUARANTINE_FRACTION == P.default("validate.max_quarantine_fraction")


# --- dvc.yaml lists params per key, each declared and present in params.yaml ------------------


def dvc_params() -> list[tuple[str, str]]:
    """(stage, key) of every param dvc.yaml lists, foreach templates expanded."""
    spec = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    out = []
    for name, stage in spec.items():
        body, items = stage, [None]
        if "foreach" in stage:
            body = stage["do"]
            each = stage["foreach"]
            if isinstance(each, str):  # ${tasks}: the keys of a params.yaml section
                each = list(lookup(RAW, each.strip("${}")))
            items = list(each)
        for entry in body.get("params", []):
            keys = [entry] if isinstance(entry, str) else [k for ks in entry.values() for k in ks]
            for item in items:
                for key in keys:
                    key = key.replace("${item}", str(item)).replace("${key}", str(item))
                    out.append((f"{name}@{item}" if item else name, key))
    return out


def test_dvc_params_are_declared_and_in_params_yaml():
    listed = dvc_params()
    assert len(listed) > 50
    for stage, key in listed:
        assert P.declared(key), f"dvc.yaml {stage}: {key} is not in pipeline/params.py"
        lookup(RAW, key)  # KeyError: dvc repro would fail on a param missing from params.yaml


def test_dvc_params_are_listed_per_key():
    for stage, key in dvc_params():
        # whole top-level sections hide what a stage reads; per-variant and per-task blocks
        # (benchmark.a, tasks.port_role) are listed whole, their keys differ per item
        assert "." in key, f"dvc.yaml {stage}: list the keys of {key} it reads, not the section"


def test_the_dvc_check_finds_an_undeclared_key():
    assert not P.declared("export.alcr")
    assert not P.declared("tasks.port_role.featurs")
    assert P.declared("export.alcor.ncm_uri") and P.declared("tasks.port_role.exclude_classes")


def leaf_keys(section: dict, prefix: str) -> list[str]:
    """Dotted keys of the leaves of a params.yaml section (lists are leaves)."""
    out = []
    for key, value in section.items():
        dotted = f"{prefix}.{key}"
        out += leaf_keys(value, dotted) if isinstance(value, dict) and value else [dotted]
    return out


@pytest.mark.parametrize("stage", ["ingest", "validate", "features", "demand", "synthesize",
                                   "evaluate_synthetic", "export"])
def test_a_stage_lists_every_key_of_its_own_section(stage):
    # a key added to a stage's own section but not to its dvc.yaml params would let a change
    # of that key go unnoticed by `dvc repro`
    listed = {key for name, key in dvc_params() if name == stage}
    missing = [key for key in leaf_keys(RAW.get(stage) or {}, stage)
               if not any(key == k or key.startswith(k + ".") for k in listed)]
    assert missing == [], f"dvc.yaml {stage}: add {missing} to its params"
