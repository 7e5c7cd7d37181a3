"""containerlab's own YAML library reads dcnet's lab files as dcnet's checker does.

dcnet writes lab files as YAML in JSON form and its checker loads them with a JSON parser. This
test builds a small Go program against gopkg.in/yaml.v2 (containerlab core/file.go
`yaml.UnmarshalStrict`) and yaml.v3 (Debian's golang-gopkg-yaml.v2-dev/-v3-dev; .ci/run installs
them) and compares the documents. Skipped where Go or those packages are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from export_fixtures import small_dc
from pipeline.check_export.containerlab import load_lab
from pipeline.export import containerlab as export_containerlab
from pipeline.export.containerlab import jq
from pipeline.export.topology import build_topology

GOPATH = Path("/usr/share/gocode")
SOURCE = Path(__file__).resolve().parents[1] / "fixtures" / "goyaml" / "main.go"


@pytest.fixture(scope="module")
def goyaml(tmp_path_factory) -> Path:
    if shutil.which("go") is None or not (GOPATH / "src" / "gopkg.in" / "yaml.v3").is_dir() \
            or not (GOPATH / "src" / "gopkg.in" / "yaml.v2").is_dir():
        pytest.skip("needs go and Debian's golang-gopkg-yaml.v2-dev/-v3-dev (.ci/run installs them)")
    work = tmp_path_factory.mktemp("goyaml")
    shutil.copy(SOURCE, work / "main.go")
    env = dict(os.environ, GO111MODULE="off", GOPATH=f"{work / 'gopath'}:{GOPATH}",
               GOCACHE=str(work / "cache"), GOFLAGS="")
    subprocess.run(["go", "build", "-o", str(work / "goyaml"), "main.go"], cwd=work, env=env,
                   check=True, capture_output=True)
    return work / "goyaml"


def go_parse(goyaml: Path, path: Path):
    done = subprocess.run([str(goyaml), str(path)], capture_output=True, text=True)
    return json.loads(done.stdout) if done.returncode == 0 else ("refused", done.stdout)


def test_exported_lab_reads_the_same_in_containerlabs_parser(goyaml, tmp_path):
    export_containerlab.write(build_topology(small_dc()), tmp_path, {"containerlab_max_nodes": 12})
    labs = sorted(tmp_path.glob("*.clab.yml"))
    assert len(labs) > 1  # parts, each with nodes, links and exec commands
    for lab in labs:
        ours = load_lab(lab.read_bytes())
        assert ours["topology"]["links"] and any(n.get("exec") for n in ours["topology"]["nodes"].values())
        assert go_parse(goyaml, lab) == ours


@pytest.mark.parametrize("text", [
    "plain", "quote \" and \\ backslash", "tab\tand\nnewline", "é ünïcode 😀 astral",
    "\x7f\x85\x9f C1 controls", "\u2028 line and \u2029 paragraph separators", "\ufeff bom",
    "\ud800 lone surrogate", "\x00 nul \x1b esc"])
def test_strings_survive_both_parsers(goyaml, tmp_path, text):
    """jq() writes one scalar that JSON and go-yaml read as the same string (a lone surrogate,
    which no UTF-8 file can hold, becomes U+FFFD)."""
    lab = tmp_path / "x.clab.yml"
    lab.write_text(f'# comment\n{{"name": "x", "topology": {{"nodes": {{"a": {{"labels": '
                   f'{{"v": {jq(text)}}}}}}}}}}}\n', encoding="utf-8")
    ours = load_lab(lab.read_bytes())
    assert ours["topology"]["nodes"]["a"]["labels"]["v"] == text.replace("\ud800", "\ufffd")
    assert go_parse(goyaml, lab) == ours


def test_duplicate_key_is_refused_by_both(goyaml, tmp_path):
    lab = tmp_path / "dup.clab.yml"
    lab.write_text('{"name": "x", "name": "y", "topology": {"nodes": {}}}\n')
    assert go_parse(goyaml, lab)[0] == "refused"
    with pytest.raises(ValueError, match="already defined"):
        load_lab(lab.read_bytes())
