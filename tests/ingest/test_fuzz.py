"""Fuzzing ingest over every source format (issue 11): Neutron JSON (list, show, bare, array
forms), `openstack ... -f json` Title-Case output, NDJSON, CSV host inventories and Alcor
service responses, valid or corrupted, plain or gzip. Whatever the bytes: no traceback (only
success or a one-line InputError), every object accounted for (a row or an unknown object),
no planted secret in the output.

`make test` runs a few examples per format; `make bench-fuzz` sets DCNET_FUZZ_EXAMPLES
(examples per format) for a long run, recorded in benchmarks/README.md.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import model
from pipeline.errors import InputError
from pipeline.ingest.sources.neutron import LIST_KEYS, SHOW_KEYS
from pipeline.ingest import ingest_payloads
from ingest_fixtures import FIP, GROUP, HOST, NETWORK, PORT, ROUTER, RULE, SUBNET

EXAMPLES = int(os.environ.get("DCNET_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                suppress_health_check=list(HealthCheck))
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
SECRET = "planted-secret-7Zq"
CHILD_TABLES = {"port_ips", "port_security_groups", "allocation_pools", "router_interfaces"}

scalars = (st.none() | st.booleans() | st.integers(-(2 ** 63), 2 ** 63 - 1)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.text(max_size=10) | st.sampled_from(["", " ", "10.0.0.1", "fa:16:3e:00:00:01",
                                                     "00-AA-BB-CC-DD-EE", "10.0.0.0/24", "null"]))
json_values = st.recursive(scalars, lambda c: st.lists(c, max_size=3)
                           | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=8)
secret_keys = st.sampled_from(["password", "psk", "Pre-shared Key", "auth_token", "private_key",
                               "credentials", "client_secret"])

NEUTRON = {"ports": PORT, "networks": NETWORK, "subnets": SUBNET, "security_group_rules": RULE,
           "security_groups": GROUP, "routers": ROUTER, "floatingips": FIP, "host_infos": HOST}


def _fixture_objects(folder: str) -> list[tuple[str | None, dict]]:
    """(list key or None, object) of every object in a fixture folder."""
    out = []
    for f in sorted((FIXTURES / folder).iterdir()):
        doc = json.loads(f.read_text())
        if isinstance(doc, list):
            out += [(None, o) for o in doc]
        elif any(isinstance(v, list) and v and isinstance(v[0], dict) for v in doc.values()):
            out += [(k, o) for k, v in doc.items() if isinstance(v, list) for o in v
                    if isinstance(o, dict)]
        else:
            out.append((None, doc))
    return out


OSC = _fixture_objects("osc_lists") + _fixture_objects("osc_foreign") + _fixture_objects("nova")
ALCOR_FILES = [json.loads(f.read_text()) for f in sorted((FIXTURES / "alcor").iterdir())]


@st.composite
def mutated(draw, obj: dict) -> dict:
    """`obj` with some values replaced, keys dropped or added, and maybe a planted secret."""
    out = {}
    for k, v in obj.items():
        action = draw(st.sampled_from(["keep", "keep", "keep", "replace", "drop"]))
        if action == "keep":
            out[k] = v
        elif action == "replace":
            out[k] = draw(json_values)
    for k, v in draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2)).items():
        out.setdefault(k, v)
    if draw(st.booleans()):
        out[draw(secret_keys)] = SECRET
    if draw(st.booleans()):  # a secret deeper down
        out["binding:profile"] = {"nested": [{draw(secret_keys): SECRET}]}
    return out


def corrupt(draw, data: bytes) -> tuple[bytes, bool]:
    """Maybe truncate, splice bytes or gzip the payload; (bytes, still well-formed)."""
    how = draw(st.sampled_from(["none", "none", "none", "truncate", "splice", "gzip", "gzip-cut"]))
    if how == "truncate" and data:
        return data[:draw(st.integers(0, len(data) - 1))], False
    if how == "splice":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=6)) + data[at:], False
    if how == "gzip":
        return gzip.compress(data, mtime=0), True
    if how == "gzip-cut":
        z = gzip.compress(data, mtime=0)
        return z[:draw(st.integers(2, len(z) - 1))], False
    return data, True


def run(payload: bytes, name: str = "f.json", intact: bool = True):
    """Ingest one file: success (tables, report) or a one-line InputError (None, None).
    `intact`: the payload was not corrupted (a spliced byte may rename a planted secret's key,
    so the secret check needs intact keys)."""
    try:
        tables, report = ingest_payloads({name: payload}, {"max_decompressed_bytes": 1 << 20})
    except InputError as e:
        assert "\n" not in str(e) and str(e).startswith(f"<memory>/{name}: "), str(e)
        return None, None
    assert set(tables) == set(model.TABLES)
    text = json.dumps(report)
    for name_, df in tables.items():
        assert list(df.columns) == model.TABLES[name_].column_names
        for c in df.columns:
            if str(df[c].dtype) == "string":
                text += "\n".join(df[c].dropna().tolist())
    if intact:
        assert SECRET not in text
    return tables, report


def expected_objects(objs: list) -> int:
    """Top-level objects as ingest accounts them: one each, except an id-less object whose
    every value is an object or a list of objects (a wrapper of unknown resources): its items."""
    n = 0
    for o in objs:
        wrapper = o and "id" not in o and "ID" not in o and all(
            isinstance(v, dict) or (isinstance(v, list) and all(isinstance(x, dict) for x in v))
            for v in o.values())
        n += max(1, sum(len(v) if isinstance(v, list) else 1 for v in o.values())) if wrapper else 1
    return n


def accounted(tables, report, n_objects: int | None) -> None:
    """Every top-level object is a row of its table or an unknown object."""
    objects = {}
    for f in report["files"]:
        for k, v in f["objects"].items():
            objects[k] = objects.get(k, 0) + v
    for t, n in objects.items():
        if t in CHILD_TABLES or t == "project_labels":
            continue
        rows = len(tables[t])
        assert rows >= n if t == "security_group_rules" else rows == n, (t, rows, n)
    if n_objects is not None:
        assert report["objects"] + report["unknown_objects"] == n_objects, report


@FUZZ
@given(data=st.data(), form=st.sampled_from(["list", "show", "bare", "array", "ndjson"]))
def test_fuzz_neutron_json_and_ndjson(data, form):
    key = data.draw(st.sampled_from(sorted(NEUTRON)))
    objs = data.draw(st.lists(mutated(NEUTRON[key]), min_size=1, max_size=4))
    if form == "list":
        doc = json.dumps({key: objs, f"{key}_links": []})
    elif form == "show":
        objs = objs[:1]
        show = {"floatingips": "floatingip", "host_infos": "host_info"}.get(key, key[:-1])
        doc = json.dumps({show: objs[0]})
    elif form == "bare":
        objs = objs[:1]
        doc = json.dumps(objs[0])
    elif form == "array":
        doc = json.dumps(objs)
    else:
        doc = "\n".join(json.dumps(o) for o in objs) + "\n"
    payload, intact = corrupt(data.draw, doc.encode())
    tables, report = run(payload, intact=intact)
    if tables is not None:
        if not intact:
            n = None
        elif form in ("list", "show"):
            n = len(objs)
        elif any(k in LIST_KEYS or k in SHOW_KEYS for o in objs for k in o):
            n = None  # a mutated object may read as a wrapper of known resources
        else:
            n = expected_objects(objs)
        accounted(tables, report, n)


@FUZZ
@given(data=st.data())
def test_fuzz_openstack_cli_title_case(data):
    picked = data.draw(st.lists(st.sampled_from(OSC), min_size=1, max_size=4))
    objs = [data.draw(mutated(o)) for _, o in picked]
    payload, intact = corrupt(data.draw, json.dumps(objs).encode())
    tables, report = run(payload, intact=intact)
    if tables is not None:
        exact = intact and not any(k in LIST_KEYS or k in SHOW_KEYS for o in objs for k in o)
        accounted(tables, report, expected_objects(objs) if exact else None)


@FUZZ
@given(data=st.data())
def test_fuzz_alcor_responses(data):
    doc = data.draw(st.sampled_from(ALCOR_FILES))
    if isinstance(doc, list):
        doc = [data.draw(mutated(o)) for o in doc]
    else:
        doc = {k: data.draw(mutated(v)) if isinstance(v, dict) else
               [data.draw(mutated(o)) if isinstance(o, dict) else o for o in v]
               if isinstance(v, list) else v for k, v in doc.items()}
    payload, intact = corrupt(data.draw, json.dumps(doc).encode())
    tables, report = run(payload, intact=intact)
    if tables is not None:
        accounted(tables, report, None)


host_cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8) | \
    st.sampled_from(["", "10.0.0.1", "aa:bb:cc:00:00:01", "AA-BB-CC-00-00-01", "50001"])


@FUZZ
@given(data=st.data(),
       header=st.lists(st.sampled_from(["node_name", "local_ip", "local_ip", "mac", "mac_address",
                                        "node_id", "id", "rack", "az", "server_port", "password",
                                        "x"]), min_size=1, max_size=6),
       rows=st.lists(st.lists(host_cell, max_size=7), max_size=5))
def test_fuzz_csv_host_inventory(data, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    payload, intact = corrupt(data.draw, buf.getvalue().encode())
    tables, report = run(payload, "hosts.csv", intact)
    if tables is not None and intact and "node_name" in header:
        assert len(tables["hosts"]) == sum(1 for r in rows if any(c.strip() for c in r))


@FUZZ
@given(payload=st.binary(max_size=300), gz=st.booleans())
def test_fuzz_arbitrary_bytes(payload, gz):
    run(gzip.compress(payload, mtime=0) if gz else payload)
