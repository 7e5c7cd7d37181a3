"""Schemas (schemas/): registered checks, review files and their staleness, address parsing."""

from __future__ import annotations

import ipaddress
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pandera.engines import pandas_engine

from schemas.model import TABLES, conform
from schemas import checks as C
from schemas import netaddr as na
from schemas import relations, review
from schemas.models import SCHEMAS

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "schemas"

# The shared reason codes (.notes/CONTEXT.md), ref_<column> aside.
REASON_CODES = {
    "duplicate_id", "id_missing", "mac_format", "mac_duplicate_in_network", "ip_invalid",
    "ip_family_mismatch", "ip_outside_subnet", "ip_duplicate_in_subnet",
    "ip_subnet_network_mismatch", "cidr_invalid", "cidr_host_bits", "ip_version_mismatch",
    "gateway_outside_subnet", "gateway_reserved", "pool_outside_cidr", "pool_covers_gateway",
    "pool_invalid", "subnet_overlap", "subnet_outside_network_cidr", "direction_invalid",
    "ethertype_invalid", "ethertype_prefix_mismatch", "port_range_invalid", "port_range_protocol",
    "segmentation_id_range", "mtu_range", "ingest_type_error", "parent_quarantined",
    "device_owner_unknown", "superseded", "mac_unusable", "protocol_invalid",
    "host_name_duplicate", "required_missing",
}
# Neutron subnet pools and the project/tenant disagreement (issue 10).
REASON_CODES |= {"subnetpool_prefix_invalid", "prefixlen_range", "project_tenant_conflict"}
# A gateway of the other IP family (Neutron refuses it; an off-subnet one it accepts: a warning).
REASON_CODES |= {"gateway_family_mismatch"}


def _yaml_check_names(node) -> set[str]:
    """check names in a serialized schema: list entries (options.check_name) and flat keys."""
    found = set()
    if isinstance(node, dict):
        opts = node.get("options")
        if isinstance(opts, dict) and "check_name" in opts:
            found.add(opts["check_name"])
        for k, v in node.items():
            if k in C.DOCS:
                found.add(k)
            found |= _yaml_check_names(v)
    elif isinstance(node, list):
        for v in node:
            found |= _yaml_check_names(v)
    return found


# --- schemas ---------------------------------------------------------------------------------


def test_one_schema_per_model_table_with_model_columns_dtypes_nullability():
    assert list(SCHEMAS) == list(TABLES)
    for name, t in TABLES.items():
        s = SCHEMAS[name]
        assert list(s.columns) == t.column_names
        for c in t.columns:
            col = s.columns[c.name]
            model_dtype = pandas_engine.Engine.dtype(pd.Series([], dtype=c.dtype).dtype)
            assert col.dtype.check(model_dtype), (name, c.name)
            assert col.nullable == c.nullable
        assert s.strict and s.ordered


def test_registered_checks_are_reason_codes_and_every_code_is_produced_somewhere():
    assert set(C.DOCS) <= REASON_CODES
    produced = set(C.DOCS) | {"id_missing", "parent_quarantined", "superseded"} | {
        cc.code for cc in relations.CROSS_CHECKS}
    assert produced == REASON_CODES
    for name in C.DOCS:
        assert name in pa.Check.REGISTERED_CUSTOM_CHECKS


def test_every_registered_check_is_exported_by_its_name_with_its_docs():
    # Validation looks warning checks up by name on the package (getattr(checks, name)).
    for name in C.DOCS:
        assert getattr(C, name).__name__ == name and name in C.__all__
    assert C.WARNING_CHECKS <= set(C.DOCS)
    assert set(C.MESSAGES) <= set(C.DOCS) and set(C.READS) <= set(C.DOCS)


def test_review_yaml_round_trips_through_from_yaml():
    for name, schema in SCHEMAS.items():
        path = COMMITTED / "review" / f"{name}.yaml"
        loaded = pa.DataFrameSchema.from_yaml(path)
        assert loaded == schema, name


def test_review_yaml_lists_every_check_of_the_schemas():
    listed = set()
    for name in SCHEMAS:
        listed |= _yaml_check_names(yaml.safe_load((COMMITTED / "review" / f"{name}.yaml").read_text()))
    used = {c.name for s in SCHEMAS.values()
            for c in list(s.checks) + [k for col in s.columns.values() for k in col.checks]}
    assert used == set(C.DOCS)  # every registered check is used by some table
    assert used <= listed


def test_schema_loaded_from_yaml_still_catches_bad_rows():
    schema = pa.DataFrameSchema.from_yaml(COMMITTED / "review" / "ports.yaml")
    df = conform(pd.DataFrame({
        "id": ["p1", "p2", "p1"], "network_id": ["n1", "n1", "n1"],
        "mac_address": ["fa:16:3e:00:00:01", "FA-16", "fa:16:3e:00:00:01"],
        "source_file": "x", "source_pos": [0, 1, 2]}), "ports")
    with pytest.raises(pa.errors.SchemaErrors) as e:
        schema.validate(df, lazy=True)
    fc = e.value.failure_cases
    failing = {(int(i), c.split("(")[0]) for i, c in zip(fc["index"], fc["check"])}
    assert (1, "mac_format") in failing
    assert (2, "duplicate_id") in failing and (2, "mac_duplicate_in_network") in failing
    assert not any(i == 0 for i, _ in failing)


def test_relations_follow_model_references_in_parent_first_order():
    declared = {(t.name, c, p, pc) for t in TABLES.values() for c, p, pc in t.references}
    got = {(r.table, r.column, r.parent, r.parent_column) for r in relations.REFERENCES}
    assert got == declared
    order = relations.table_order()
    assert sorted(order) == sorted(TABLES)
    for r in relations.REFERENCES:
        assert order.index(r.parent) < order.index(r.table)
    assert [r for r in relations.REFERENCES if r.only_if_parent_present] == [
        relations.Reference("subnets", "subnetpool_id", "subnetpools", "id", True),
        relations.Reference("ports", "binding_host_id", "hosts", "node_name", True)]
    # Every nested reference points from a child table to the object it is unnested from.
    assert {(r.table, r.column) for r in relations.REFERENCES if r.nested} == {
        ("port_ips", "port_id"), ("port_security_groups", "port_id"),
        ("allocation_pools", "subnet_id"), ("security_group_rules", "security_group_id"),
        ("router_interfaces", "port_id")}


# --- review files --------------------------------------------------------------------------------


def test_committed_review_files_are_up_to_date():
    assert review.stale(COMMITTED) == []


def test_stale_detects_tampering_missing_and_leftover_files(tmp_path):
    copy = tmp_path / "schemas"
    shutil.copytree(COMMITTED / "review", copy / "review")
    shutil.copy(COMMITTED / "DATA_DICTIONARY.md", copy / "DATA_DICTIONARY.md")
    assert review.stale(copy) == []
    ports = copy / "review" / "ports.yaml"
    ports.write_text(ports.read_text().replace("mac_format", "mac_fmt"))
    (copy / "DATA_DICTIONARY.md").unlink()
    (copy / "review" / "old_table.yaml").write_text("schema_type: dataframe\n")
    assert review.stale(copy) == ["DATA_DICTIONARY.md", "review/old_table.yaml",
                                  "review/ports.yaml"]
    review.export(copy)  # re-export repairs everything, leftovers included
    assert review.stale(copy) == []
    assert not (copy / "review" / "old_table.yaml").exists()


def test_export_is_deterministic(tmp_path):
    a = review.export(tmp_path / "a")
    review.export(tmp_path / "b")
    assert sorted(p.relative_to(tmp_path / "a").as_posix() for p in a) == sorted(
        ["DATA_DICTIONARY.md"] + [f"review/{n}.yaml" for n in TABLES])
    for p in a:
        rel = p.relative_to(tmp_path / "a")
        assert p.read_bytes() == (tmp_path / "b" / rel).read_bytes()
        assert p.read_bytes() == (COMMITTED / rel).read_bytes()


def test_data_dictionary_covers_tables_columns_codes_and_relations():
    text = (COMMITTED / "DATA_DICTIONARY.md").read_text()
    for name, t in TABLES.items():
        assert f"## {name}" in text
        for c in t.columns:
            assert f"| `{c.name}` | {c.dtype} |" in text
    for code in REASON_CODES:
        assert f"`{code}`" in text, code
    for r in relations.REFERENCES:
        assert f"`{r.table}.{r.column}` | `{r.parent}.{r.parent_column}` | `{r.code}`" in text


# --- address parsing -------------------------------------------------------------------------------


def _ip_reference(text):
    try:
        a = ipaddress.ip_address(text)
    except ValueError:
        return None
    return a.version, int(a)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(
    st.ip_addresses(v=4).map(str), st.ip_addresses(v=6).map(str),
    st.ip_addresses(v=6).map(lambda a: a.exploded),
    st.text(alphabet="0123456789.:abcdefx/", max_size=20)), min_size=1, max_size=30))
def test_parse_ips_agrees_with_ipaddress(texts):
    got = na.parse_ips(pd.Series(texts, dtype="string"))
    for i, t in enumerate(texts):
        ref = _ip_reference(t)
        if ref is None:
            assert got.version[i] == 0, t
        else:
            assert (got.version[i], (int(got.hi[i]) << 64) | int(got.lo[i])) == ref, t


_HEXTET = st.text(alphabet="0123456789abcdefABCDEF", max_size=5)
_DOTTED = st.lists(st.sampled_from(["0", "1", "9", "10", "99", "255", "256", "01", "00", "1a"]),
                   min_size=3, max_size=5).map(".".join)


@st.composite
def _ipv6_like(draw):
    """Texts near the IPv6 grammar: 0-9 hextets of 0-5 hex digits, maybe a '::' anywhere, maybe
    a dotted tail: where the C parser's fast path and ipaddress could disagree."""
    text = ":".join(draw(st.lists(_HEXTET, max_size=9)))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + "::" + text[at:]
    if draw(st.integers(0, 4)) == 0:
        text += ":" + draw(_DOTTED)
    return text


@settings(max_examples=300, deadline=None)
@given(st.lists(_ipv6_like(), min_size=1, max_size=40))
def test_ipv6_parsing_agrees_with_ipaddress_near_the_grammar(texts):
    got = na.parse_ips(pd.Series(texts, dtype="string"))
    for i, t in enumerate(texts):
        ref = _ip_reference(t)
        if ref is None or ref[0] == 4:
            assert got.version[i] == (4 if ref else 0), t
        else:
            assert (got.version[i], (int(got.hi[i]) << 64) | int(got.lo[i])) == ref, t


def test_odd_ipv6_texts_are_invalid_not_errors():
    texts = ["fe80::1%eth0", "::1\x00", "\u0663::1", "1::2::3", "1:2:3:4:5:6:7::8", "::ffff:1.02.3.4",
             "::ffff:1.2.3.4", "0:0:0:0:0:ffff:102:304"]
    got = na.parse_ips(pd.Series(texts, dtype="string"))
    assert got.version.tolist() == [0, 0, 0, 0, 0, 0, 6, 6]
    assert got.lo[6] == got.lo[7] == 0xFFFF_0102_0304 and got.hi[6] == got.hi[7] == 0


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.ip_addresses(v=4).map(lambda a: (a, 32)), st.ip_addresses(v=6).map(lambda a: (a, 128)))
       .flatmap(lambda p: st.tuples(st.just(p[0]), st.integers(0, p[1]))))
def test_parse_cidrs_agrees_with_ipaddress(case):
    addr, plen = case
    text = f"{addr}/{plen}"
    c = na.parse_cidrs(pd.Series([text], dtype="string"))
    net = ipaddress.ip_network(text, strict=False)
    assert c.version[0] == net.version and c.prefix[0] == plen
    assert na.fmt_network(c, 0) == str(net)
    last = (int(c.last_hi[0]) << 64) | int(c.last_lo[0])
    assert last == int(net.broadcast_address)
    assert bool(c.host_bits_set[0]) == (int(addr) != int(net.network_address))
    inside = na.parse_ips(pd.Series([str(addr), str(net.broadcast_address)], dtype="string"))
    assert na.contains(na.take(c, np.array([0, 0])), inside).all()


def test_cidr_edge_cases():
    texts = ["10.0.0.0/24", "10.0.0.0/33", "10.0.0.0", "2001:db8::/129", "10.0.0.0/-1",
             "1.2.3.4/032", None, "", "::/0"]
    c = na.parse_cidrs(pd.Series(texts, dtype="string"))
    assert list(c.version) == [4, 0, 0, 0, 0, 4, 0, 0, 6]
    assert list(c.invalid) == [False, True, True, True, True, False, False, True, False]
    bare = na.parse_cidrs(pd.Series(["10.0.0.1", "2001:db8::1"], dtype="string"),
                          require_prefix=False)
    assert list(bare.prefix) == [32, 128]


def test_mac_format_check_is_strict_lower_case_colon_form():
    s = pd.Series(["fa:16:3e:00:00:01", "FA:16:3E:00:00:01", "fa-16-3e-00-00-01",
                   "fa:16:3e:00:00", "fa:16:3e:00:00:01:02", "fa163e000001"], dtype="string")
    assert list(C.mac_format(s)) == [True, False, False, False, False, False]


# --- reference lookups ---------------------------------------------------------------------------

_KEY_TEXT = st.one_of(st.none(), st.just(""), st.sampled_from(["a", "b", "c", "d", "e", "f"]))


def _first_position_reference(values, keys):
    out = []
    for v in values:
        hits = [i for i, k in enumerate(keys) if k not in (None, "") and k == v]
        out.append(hits[0] if v not in (None, "") and hits else -1)
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(_KEY_TEXT, max_size=12), st.lists(_KEY_TEXT, max_size=60))
def test_first_position_on_both_sides_hashed_is_the_first_usable_key(values, keys):
    want = _first_position_reference(values, keys)
    as_series = lambda xs: pd.Series(xs, dtype="string")  # noqa: E731
    for few in (0, 10**9):  # 0: always hash the values; 10**9: always hash the keys
        relations.FEW_VALUES = few
        try:
            got = relations.first_position(as_series(values), as_series(keys))
        finally:
            relations.FEW_VALUES = 8
        assert got.tolist() == want, (few, values, keys)
