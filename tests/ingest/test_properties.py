"""Property-based tests: whatever the input, ingest either raises InputError or returns
conformed tables, and it never loses a field."""

from __future__ import annotations

import csv
import gzip
import io
import json

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.ingest.redact import redact
from pipeline.ingest.sources.neutron import LIST_KEYS, MAPPED_KEYS, SHOW_KEYS
from ingest_fixtures import FIP, GROUP, HOST, NETWORK, PORT, ROUTER, RULE, SUBNET, run

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (st.none() | st.booleans() | st.integers(-(2 ** 63), 2 ** 63 - 1)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=4)
                           | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=12)

TEMPLATES = {"ports": PORT, "networks": NETWORK, "subnets": SUBNET, "security_group_rules": RULE,
             "security_groups": GROUP, "routers": ROUTER, "floating_ips": FIP, "hosts": HOST}
LIST_KEY = {"ports": "ports", "networks": "networks", "subnets": "subnets",
            "security_group_rules": "security_group_rules", "security_groups": "security_groups",
            "routers": "routers", "floating_ips": "floatingips", "hosts": "host_infos"}
SHOW_KEY = {v: k for k, v in SHOW_KEYS.items() if k not in ("vpc", "floating_ip")}
assert all(LIST_KEYS[v] == k for k, v in LIST_KEY.items())


@st.composite
def mutated(draw, kind: str):
    """A valid object of `kind` with some fields replaced, removed or added at random."""
    obj = dict(TEMPLATES[kind])
    for k in list(obj):
        action = draw(st.sampled_from(["keep", "keep", "keep", "replace", "drop"]))
        if action == "replace":
            obj[k] = draw(json_values)
        elif action == "drop":
            del obj[k]
    for k, v in draw(st.dictionaries(st.sampled_from(
            ["mtu", "tenant_id", "binding:host_id", "is_admin_state_up", "fixed_ips", "cidr",
             "port_range_min", "external_gateway_info", "security_groups", "node_id", "weird key",
             "allocation_pools", "security_group_rules", "create_at"]) | st.text(max_size=6),
            json_values, max_size=3)).items():
        obj[k] = v
    return obj


@SETTINGS
@given(doc=json_values)
def test_any_json_document_is_an_input_error_or_conformed_tables(doc):
    run({"f.json": json.dumps(doc).encode()})


@SETTINGS
@given(data=st.binary(max_size=200), gz=st.booleans())
def test_any_bytes_are_an_input_error_or_conformed_tables(data, gz):
    run({"f.bin": gzip.compress(data) if gz else data})


@SETTINGS
@given(kind=st.sampled_from(sorted(TEMPLATES)), data=st.data())
def test_mutated_objects_in_list_form_are_all_ingested_and_nothing_is_lost(kind, data):
    objs = data.draw(st.lists(mutated(kind), min_size=1, max_size=4))
    tables, report = run({"f.json": json.dumps({LIST_KEY[kind]: objs}).encode()})
    assert tables is not None, "a list of objects under a known key is always valid input"
    df = tables[kind]
    assert len(df) == len(objs)
    assert df["source_pos"].tolist() == list(range(len(objs)))
    mapped = MAPPED_KEYS[kind]
    for obj, (_, r) in zip(objs, df.iterrows()):
        extra = json.loads(r["extra"]) if not pd.isna(r["extra"]) else {}
        for k, v in obj.items():
            if k not in mapped:  # unmapped fields are kept verbatim, secrets redacted
                assert extra[k] == redact({k: v})[k], k
        if not pd.isna(r["ingest_errors"]):
            for part in r["ingest_errors"].split("; "):
                col = part.split(":")[0].split("[")[0]
                if ": expected " in part and col in df.columns:  # uncoercible: null, raw in extra
                    assert pd.isna(r[col]) and col in extra, part
                elif " but '" in part:  # two spellings disagree: the second one is kept in extra
                    other = part.rsplit(" but '", 1)[1].split("'")[0]
                    assert extra[other] == redact({other: obj[other]})[other], part


@SETTINGS
@given(kind=st.sampled_from(sorted(TEMPLATES)), data=st.data(),
       form=st.sampled_from(["show", "bare", "ndjson", "array"]))
def test_mutated_objects_in_other_forms_never_crash(kind, data, form):
    objs = data.draw(st.lists(mutated(kind), min_size=1, max_size=3))
    if form == "show":
        payload = json.dumps({SHOW_KEY[kind]: objs[0]})
    elif form == "bare":
        payload = json.dumps(objs[0])
    elif form == "ndjson":
        payload = "\n".join(json.dumps(o) for o in objs) + "\n"
    else:
        payload = json.dumps(objs)
    tables, report = run({"f.json": payload.encode()})
    if tables is not None:  # every object is accounted for: a row or an unknown
        n_obj = 1 if form in ("show", "bare") else len(objs)
        assert report["objects"] + report["unknown_objects"] >= n_obj


cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=10)


@SETTINGS
@given(rows=st.lists(st.lists(cell, min_size=0, max_size=6), max_size=5),
       extra_cols=st.lists(st.sampled_from(["rack", "az", "mac_address", "server_port", "x"]), max_size=3))
def test_host_inventory_csv_rows_are_all_ingested(rows, extra_cols):
    header = ["node_name", "local_ip", *extra_cols]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    tables, _ = run({"hosts.csv": buf.getvalue().encode()})
    assert tables is not None
    assert len(tables["hosts"]) == sum(1 for r in rows if any(c.strip() for c in r))
