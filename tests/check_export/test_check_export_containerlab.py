"""dcnet check-export, containerlab: every rule fails on a bad example; dcnet's export passes."""

from __future__ import annotations

import pytest
import yaml

from export_fixtures import small_dc
from pipeline.export import containerlab as export_containerlab
from pipeline.check_export import containerlab
from pipeline.export.topology import build_topology

LAB = "dcnet.clab.yml"


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    out = tmp_path_factory.mktemp("clab")
    export_containerlab.write(build_topology(small_dc()), out, {})
    return yaml.safe_load((out / LAB).read_text()), (out / "dcnet.bridges.sh").read_text()


def run(tmp_path, doc, script, extra: dict | None = None) -> dict:
    (tmp_path / LAB).write_text(yaml.safe_dump(doc))
    (tmp_path / "dcnet.bridges.sh").write_text(script)
    for name, other in (extra or {}).items():
        (tmp_path / name).write_text(yaml.safe_dump(other))
    return containerlab.check(tmp_path).violations


def _copy(doc):
    return yaml.safe_load(yaml.safe_dump(doc))


def _vm(doc):
    return next(n for n, v in doc["topology"]["nodes"].items() if v["kind"] == "linux" and v.get("exec"))


def _vm_endpoint(doc):
    return next(l["endpoints"][0] for l in doc["topology"]["links"] if isinstance(l["endpoints"][0], dict))


def _bridge_link(doc):
    return next(l for l in doc["topology"]["links"] if isinstance(l["endpoints"][0], str))


def test_dcnet_export_passes(tmp_path, good):
    assert run(tmp_path, *good) == {}


BAD = {
    "C-SCHEMA": lambda d: d["topology"]["nodes"].update({"-bad": {"kind": "linux"}}),
    "C-MGMT": lambda d: d.pop("mgmt"),
    "C-ENDPOINT-NODE": lambda d: _vm_endpoint(d).update(node="ghost"),
    "C-INTF-UNIQUE": lambda d: d["topology"]["links"].append(_copy(d["topology"]["links"][-1])),
    "C-IFNAME": lambda d: _bridge_link(d).update(
        endpoints=[_bridge_link(d)["endpoints"][0].split(":")[0] + ":averyveryverylongname",
                   _bridge_link(d)["endpoints"][1]]),
    "C-ETH0": lambda d: _vm_endpoint(d).update(interface="eth0"),
    "C-LINUX-ENDPOINT-IP": lambda d: _vm_endpoint(d).update(ipv4="10.10.1.60/24"),
    "C-EXEC": lambda d: d["topology"]["nodes"][_vm(d)]["exec"].append("ip addr add 10.1.1.300/24 dev eth1"),
}


@pytest.mark.parametrize("rule", sorted(BAD))
def test_each_rule_fails_on_a_bad_example(tmp_path, good, rule):
    doc = _copy(good[0])
    BAD[rule](doc)
    violations = run(tmp_path, doc, good[1])
    assert rule in violations, violations
    assert "containerlab" in violations[rule].evidence


def test_exec_commands_must_name_an_interface_of_the_node_and_parse(tmp_path, good):
    for cmd in ("ip addr add 10.10.1.60/24 dev eth9", "ip -6 addr add 10.10.1.60/24 dev eth1",
                "ip addr add 'unterminated dev eth1", "ip addr add 10.10.1.60 dev eth1"):
        doc = _copy(good[0])
        doc["topology"]["nodes"][_vm(doc)]["exec"] = [cmd]
        assert "C-EXEC" in run(tmp_path, doc, good[1]), cmd


def test_small_management_subnet_is_refused(tmp_path, good):
    doc = _copy(good[0])
    doc["mgmt"]["ipv4-subnet"] = "100.64.0.0/29"  # 5 usable addresses for 21 nodes
    assert "C-MGMT" in run(tmp_path, doc, good[1])


def test_parts_need_distinct_management_subnets(tmp_path, good):
    other = _copy(good[0])
    other["name"] = "dcnet-other"
    other["mgmt"]["network"] = "dcnet-other-mgmt"
    other["topology"]["links"] = []
    violations = run(tmp_path, good[0], good[1], {"other.clab.yml": other})
    assert "C-MGMT-DISTINCT" in violations


def test_bridges_must_be_created_by_the_script(tmp_path, good):
    assert "C-BRIDGE-SCRIPT" in run(tmp_path, good[0], "#!/bin/sh\n")


def test_no_lab_file(tmp_path):
    assert "C-FILE" in containerlab.check(tmp_path).violations
    (tmp_path / LAB).write_text("name: [unclosed")
    assert "C-YAML" in containerlab.check(tmp_path).violations


def test_host_interfaces_are_unique_across_lab_files(tmp_path, good):
    other = _copy(good[0])
    other["name"] = "dcnet-other"
    other["mgmt"] = {"network": "dcnet-other-mgmt", "ipv4-subnet": "100.65.0.0/24"}
    other["topology"]["links"] = [_copy(_bridge_link(good[0]))]  # the same bridge interfaces again
    violations = run(tmp_path, good[0], good[1], {"other.clab.yml": other})
    assert "C-IFNAME" in violations and "also used by" in violations["C-IFNAME"].example


def test_lab_in_json_form_with_a_duplicate_key_is_refused(tmp_path, good):
    """The JSON fast path keeps yaml.UnmarshalStrict's refusal of a key given twice."""
    import json

    doc, script = good
    text = json.dumps(doc).replace('{"name": ', '{"name": "again", "name": ', 1)
    (tmp_path / LAB).write_text("# a lab in JSON form\n" + text)
    (tmp_path / "dcnet.bridges.sh").write_text(script)
    violations = containerlab.check(tmp_path).violations
    assert list(violations) == ["C-YAML"] and "already defined" in violations["C-YAML"].example


def test_exported_lab_is_json_form_and_yaml_reads_it_the_same(tmp_path):
    import json

    export_containerlab.write(build_topology(small_dc()), tmp_path, {})
    text = (tmp_path / LAB).read_text()
    body = "".join(line for line in text.splitlines(True) if not line.startswith("#"))
    assert json.loads(body) == yaml.safe_load(text) == containerlab.load_lab(text.encode())


def test_json_fast_path_never_hides_a_duplicate_key():
    """load_lab's orjson path (a duplicate key proven absent by counting) gives json.loads's
    document or the same refusal, on JSON texts written with duplicate keys, spaces before
    colons, and quotes or colons inside strings, raw or \\u-escaped."""
    import json

    from hypothesis import given, settings, strategies as st

    word = st.sampled_from(["a", "b", 'q"', "c:", '":', "x\\", ""])
    colon = st.sampled_from([": ", ":", " : ", "\n:"])

    def encode(text: str, escaped: int) -> str:  # 0: as json writes it, 1: quotes, 2: colons \u-escaped
        out = json.dumps(text)
        return out.replace('\\"', "\\u0022") if escaped == 1 else \
            out.replace(":", "\\u003a") if escaped == 2 else out

    def obj(children):
        pair = st.tuples(word, st.integers(0, 2), colon, children)
        return st.lists(pair, max_size=4).map(lambda pairs: "{" + ", ".join(
            encode(k, esc) + c + v for k, esc, c, v in pairs) + "}")

    scalar = st.one_of(st.builds(encode, word, st.integers(0, 2)), st.sampled_from(["1", "true", "null"]))
    value = st.recursive(scalar, lambda children: st.one_of(
        obj(children), st.lists(children, max_size=3).map(lambda items: "[" + ", ".join(items) + "]")),
        max_leaves=12)

    def same_as_json(text):
        try:
            expected = json.loads(text, object_pairs_hook=containerlab._unique_keys)
        except ValueError:
            expected = ValueError
        try:
            got = containerlab.load_lab(text.encode())
        except ValueError:
            got = ValueError
        assert got == expected

    for text in ['{"a": 1, "a": "\\u0022:"}', '{"a": 1, "a": "\\":"}', '{"a": 1, "a" : 2}',
                 '{"a": 1, "b": {"a": 2, "a": 3}}']:
        same_as_json(text)
    settings(max_examples=400, deadline=None)(given(obj(value))(same_as_json))()
