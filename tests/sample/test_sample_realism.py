"""Realism mode (the harder benchmark): overlapping kinds, label noise, variant b, the CLI."""

from __future__ import annotations

import json
from collections import defaultdict

import yaml

from pipeline import sample
from tests.sample.sample_fixtures import ROOT, SMALL


HARD = {"seed": 31, "zones": 2, "racks_per_zone": 3, "hosts_per_rack": 10, "projects": 60,
        "faults_per_kind": 0, "realism": "hard"}


def _hard_world(**over):
    return sample.build_world({**sample.DEFAULTS, **HARD, **over})


def test_realism_is_deterministic_and_leaves_the_default_alone():
    a, _, _ = sample.generate(HARD)
    b, _, _ = sample.generate(HARD)
    assert a == b
    plain, _, _ = sample.generate({**HARD, "realism": "off"})
    assert plain != a


def test_realism_has_no_kind_exclusive_artefacts():
    w = _hard_world()
    kind_of = {p.id: p.kind for p in w.projects}
    kinds_with = defaultdict(set)
    for port in w.ports:
        kind = kind_of.get(port["project_id"])
        if kind is None:
            continue
        if port["device_owner"] == "Octavia":
            kinds_with["octavia"].add(kind)
        if port["allowed_address_pairs"]:
            kinds_with["aap"].add(kind)
    for net in w.networks:
        if net["_fmt"] == "alcor":
            kinds_with["alcor"].add(kind_of[net["project_id"]])
    for artefact, kinds in kinds_with.items():
        assert len(kinds) >= 2, f"{artefact} only in {kinds}"
    # security groups carry no kind word; unconventionally named projects no kind in any name
    words = set(sample.KINDS) | {"k8s", "hadoop", "spark", "dev", "db", "cluster-net"}
    assert not {sg["name"] for sg in w.sgs} & (words - {"cluster"})
    for p in w.projects:
        if p.named:
            continue
        names = [n["name"] for n in p.networks] + [s["name"] for s in p.subnets]
        assert not any(k in name for name in names for k in sample.KINDS), p.kind


def test_realism_label_noise_at_the_stated_rate_and_mixed_use():
    w = _hard_world()
    listed = [p for p in w.projects if p.labelled]
    wrong = [p for p in listed if p.listed and p.listed != p.kind]
    assert len(wrong) == round(len(listed) * sample.LABEL_NOISE)
    # a mixed-use tenant owns groups of a kind template other than its own
    own = {k: set(sample.PROFILES[k]["groups"]) | {"default"} for k in sample.KINDS}
    mixed = [p for p in w.projects if set(p.groups) - own[p.kind]]
    assert len(mixed) >= 0.1 * len(w.projects)


def test_variant_b_uses_another_naming_convention():
    import re

    w = _hard_world(variant="b")
    pattern = re.compile(yaml.safe_load((ROOT / "params.yaml").read_text())["labels"]["naming_pattern"])
    named = [s["name"] for p in w.projects if p.named for s in p.subnets]
    assert named and all(s.split("_")[1] == "dcb" for s in named)
    assert not any(pattern.search(s) for s in named)


def test_cli_sample_realism_variants(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    params = tmp_path / "p.yaml"
    params.write_text(yaml.safe_dump({"sample": SMALL, "benchmark": {
        "b": {"seed": 77, "projects": 12, "labelled": 1.0}}}))
    res = CliRunner().invoke(app, ["sample", "--realism", "hard", "--variant", "b", "--params", str(params),
                                   "--out", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    labels = (tmp_path / "b" / sample.F_LABELS).read_text().splitlines()
    assert len(labels) == 1 + 12                 # every project listed (labelled: 1.0)
    assert json.loads((tmp_path / "b_faults.json").read_text()) == []   # no planted faults
    res = CliRunner().invoke(app, ["sample", "--variant", "b", "--params", str(params),
                                   "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--variant b needs --realism hard" in res.output
