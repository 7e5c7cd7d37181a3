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
