"""The port requests built column-wise (port_lines) are the bytes of the request tuples encoded
one by one (the reference), counts included, whatever the values hold."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from export_fixtures import sample_tables, small_dc  # noqa: F401
from pipeline.export.alcor import stream
from pipeline.export.alcor.accepts import Counts
from pipeline.export.alcor.fields import resources
from pipeline.export.alcor.port_lines import port_lines, port_table, probe_candidates
from pipeline.export.alcor.security import _default_groups, _probe_candidates
from test_export_alcor import _tricky_dc


def both_ways(tables: dict) -> tuple:
    """(lines, left out, changed) of the stream with ports column-wise, and the reference."""
    out = []
    for encoded in (True, False):
        counts = Counts()
        lines = [line for phase, _, batch in stream.part_requests(tables, {}, counts, encoded=encoded)
                 for line in stream._lines(batch, phase)]
        out.append((lines, counts.left_out, counts.changed))
    return out


def test_same_stream_on_the_sample_and_a_tricky_dc(sample_tables):  # noqa: F811
    tricky = _tricky_dc()
    tricky.pop("_expect")
    for tables in (sample_tables, tricky):
        assert port_table(tables["ports"]) is not None  # the column-wise path is the one taken
        fast, reference = both_ways(tables)
        assert fast == reference
        assert sum(b'"resource":"port"' in line for line in fast[0]) > 10


def test_another_column_type_takes_the_reference_path():
    tables = small_dc()
    tables["ports"]["name"] = range(len(tables["ports"]))  # numbers where names are text
    assert port_table(tables["ports"]) is None
    fast, reference = both_ways(tables)
    assert fast == reference
    assert any(b'"name":3,' in line for line in fast[0])


TEXT = st.one_of(st.none(), st.sampled_from(["", "vm", 'a"b', "back\\slash", "tab\there", "\x00\x1f",
                                             "é ü 中", "\u2028", "{{x}}"]), st.text(max_size=6))
VALUES = {
    "name": TEXT, "device_owner": st.one_of(TEXT, st.just("compute:nova")),
    "binding_host_id": st.sampled_from([None, "", "cn01", "cn02", "nowhere", "cn01\n"]),
    "binding_vif_type": st.sampled_from([None, "ovs", "unbound", "binding_failed", "weird", "other"]),
    "binding_vnic_type": st.sampled_from([None, "normal", "direct-physical", "odd", "direct"]),
    "mac_address": st.sampled_from([None, "fa:16:3e:00:00:01", "FA-16-3E-00-00-02", "fa:16:3e:00:00:03\n",
                                    "nonsense", "fa:16:3e:00:00"]),
    "allowed_address_pairs": st.sampled_from([None, "[]", "null", "not json", '[{"ip_address": "10.0.0.9",'
                                              ' "mac_address": "fa:16:3e:00:00:09"}]', '{"b": 1, "a": [2]}']),
    "admin_state_up": st.sampled_from([None, True, False]),
    "dns_name": TEXT,
}
ROW = st.fixed_dictionaries(VALUES)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(ROW, min_size=1, max_size=30), as_objects=st.booleans())
def test_same_stream_whatever_the_port_values(rows, as_objects):
    tables = small_dc(n_hosts=4, vms_per_host=3)
    ports = tables["ports"]
    for i, row in enumerate(rows[: len(ports)]):
        for column, value in row.items():
            ports.loc[ports.index[i], column] = value
    for column in VALUES:  # both the canonical dtypes and plain Python objects
        ports[column] = ports[column].astype(object if as_objects else
                                             "boolean" if column == "admin_state_up" else "string")
    fast, reference = both_ways(tables)
    assert fast == reference
    for line in fast[0]:
        orjson.loads(line)


@pytest.mark.parametrize("parts", [1, 3])
def test_written_parts_take_the_column_wise_path(tmp_path, monkeypatch, parts):
    """write_group writes the ready text; the file is the reference stream."""
    from pipeline.export.topology import build_topology

    calls = []
    monkeypatch.setattr(stream, "port_lines", lambda *a: calls.append(1) or port_lines(*a))
    tricky = _tricky_dc()
    tricky.pop("_expect")
    topo = build_topology(tricky, require_fabric=False)
    results = [stream.write_group(topo, tmp_path, {}, g, parts) for g in range(parts)]
    stream.finish(tmp_path, results)
    assert len(calls) == parts
    reference = both_ways(tricky)[1][0]
    assert (tmp_path / stream.STREAM).read_bytes() == b"\n".join(reference) + b"\n"
    assert sum(r["requests"] for r in results) == len(reference)


GROUPS = ["sg-web", "sg-db", "sg-default-a", "sg-default-b", "sg-gone", 'sg-"quoted"']


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(links=st.lists(st.tuples(st.integers(0, 11), st.sampled_from(GROUPS)), max_size=40),
       rule_on_default=st.sampled_from([None, "sg-default-a", "sg-default-b"]))
def test_same_stream_whatever_the_port_groups(links, rule_on_default):
    """Ports with no group, only their project's default, another project's default (captured
    or not), groups not exported, a group twice (the one-port-at-a-time way)."""
    tables = small_dc(n_hosts=4, vms_per_host=3)
    ports = tables["ports"]["id"].tolist()
    tables["port_security_groups"] = pd.DataFrame(
        {"port_id": [ports[i % len(ports)] for i, _ in links], "security_group_id": [g for _, g in links]},
        dtype="string")
    if rule_on_default:
        rules = tables["security_group_rules"]
        rules.loc[rules["id"] == "r1", ["remote_ip_prefix", "remote_group_id"]] = [None, rule_on_default]
    fast, reference = both_ways(tables)
    assert fast == reference
    # the capture probes' candidates, from the rows at once and one port at a time
    plan = stream._Plan(tables, {}, Counts(), True)
    assert plan.group_rows is not None
    defaults = _default_groups(resources(plan.get("security_groups"), "security_groups"))
    kept = np.array([ips is not None for ips in plan.screened.kept])
    assert (probe_candidates(plan.group_rows, kept, plan.screened.projects, defaults)
            == _probe_candidates(plan.kept, plan.port_groups, defaults))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["p1", "p2", "p3", None]), st.integers(0, 3),
                               st.sampled_from(["s1", "s2", None]), st.sampled_from(["a", None])),
                     max_size=25),
       as_strings=st.booleans())
def test_children_group_rows_by_parent_in_order(rows, as_strings):
    """fields._children: per parent (None too), the children sorted by `order`, ties in row
    order, nulls left out of each child; parents in sorted order."""
    from pipeline.export.alcor.fields import _children

    df = pd.DataFrame(rows, columns=["port_id", "ip_index", "subnet_id", "ip_address"])
    if as_strings:
        df = df.astype({"port_id": "string", "subnet_id": "string", "ip_address": "string"})
    expected: dict = {}
    parents = sorted({r[0] for r in rows}, key=lambda p: (p is None, p or ""))
    for p in parents:
        mine = sorted((r for r in rows if r[0] == p), key=lambda r: r[1])  # stable: row order on ties
        expected[p] = [{k: v for k, v in (("subnet_id", r[2]), ("ip_address", r[3])) if v is not None}
                       for r in mine]
    got = _children(df, "port_id", "ip_index", ("subnet_id", "ip_address"))
    assert list(got) == parents and got == expected
    single = _children(df, "port_id", "ip_index", ("subnet_id",), single=True)
    assert single == {p: [c.get("subnet_id") for c in kids] for p, kids in expected.items()}
