"""Ingest of third-party dumps shaped like the real thing (issue 10): OSC Title-Case output of
other resources is reported, never taken for a network or group; secrets are redacted; Alcor's
service responses, nova floating IPs and Neutron subnet pools are read; every file passed over
is listed with its reason. Fixtures: tests/fixtures/ingest/ (own values, real shapes)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.ingest import ingest_dir
from pipeline.validate import validate_tables
from ingest_fixtures import extra, row

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
SERIAL = {"workers": 1}
RESOURCE_TABLES = ("hosts", "networks", "subnetpools", "subnets", "allocation_pools", "ports",
                   "port_ips", "port_security_groups", "security_groups", "security_group_rules",
                   "routers", "router_interfaces", "floating_ips")


def raw_from(tmp_path: Path, *names: str) -> Path:
    """A dump folder holding the named fixture files (or whole fixture folders)."""
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    for name in names:
        src = FIXTURES / name
        if src.is_dir():
            for f in sorted(src.iterdir()):
                shutil.copy(f, raw / f"{src.name}__{f.name}")
        else:
            shutil.copy(src, raw / src.name)
    return raw


def all_text(tables: dict, report: dict | None = None) -> str:
    """Every string cell of every table (and the report) as one text, to search for leaks."""
    parts = [json.dumps(report)] if report is not None else []
    for df in tables.values():
        for c in df.columns:
            if df[c].dtype == "string" or df[c].dtype == object:
                parts += [str(v) for v in df[c].dropna().tolist()]
    return "\n".join(parts)


# --- 1. foreign OSC output is unknown, never a network or a security group ---------------------


def test_osc_output_of_other_resources_is_reported_unknown_not_ingested(tmp_path):
    raw = raw_from(tmp_path, "osc_foreign")
    tables, report = ingest_dir(raw, SERIAL)
    assert {t: len(tables[t]) for t in RESOURCE_TABLES} == {t: 0 for t in RESOURCE_TABLES}
    unknown = {u["file"]: u["objects"] for u in report["unknown_files"]}
    expected = {f"osc_foreign__{f.name}": len(json.loads(f.read_text()))
                if f.read_text().lstrip().startswith("[") else 1
                for f in (FIXTURES / "osc_foreign").iterdir()}
    assert unknown == expected
    assert report["unknown_objects"] == sum(expected.values())


def test_pre_shared_key_of_a_vpn_connection_appears_nowhere(tmp_path):
    raw = raw_from(tmp_path, "osc_foreign/vpn_ipsec_site_connection_show.json")
    tables, report = ingest_dir(raw, SERIAL)
    assert "hunter2-branch-psk" not in all_text(tables, report)


def test_real_osc_lists_are_still_recognised(tmp_path):
    raw = raw_from(tmp_path, "osc_lists")
    tables, report = ingest_dir(raw, SERIAL)
    assert report["unknown_objects"] == 0
    counts = {t: len(tables[t]) for t in ("ports", "networks", "subnets", "security_groups",
                                         "security_group_rules", "routers", "floating_ips",
                                         "subnetpools")}
    assert counts == {"ports": 2, "networks": 1, "subnets": 1, "security_groups": 2,
                      "security_group_rules": 3, "routers": 2, "floating_ips": 1, "subnetpools": 1}
    # older OSC prints a group's rules as key='value' lines: read as rules of that group
    printed = tables["security_group_rules"].set_index("id").loc["3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b"]
    assert printed["security_group_id"] == "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"
    assert (printed["protocol"], printed["port_range_min"], printed["direction"]) == ("tcp", 443, "ingress")
    rule = row(tables["security_group_rules"], id="5f6a7b8c-9d0e-4f1a-8b2c-3d4e5f6a7b8c")
    assert (rule["port_range_min"], rule["port_range_max"], rule["direction"]) == (443, 443, "ingress")
    pool = row(tables["subnetpools"], id="9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a")
    assert json.loads(pool["prefixes"]) == ["10.96.0.0/14", "172.20.0.0/16"]
    assert pool["default_prefixlen"] == 26 and pool["shared"] is True


# --- 7. MAC spellings ---------------------------------------------------------------------------


def test_dash_separated_macs_are_normalised_and_stay_valid(tmp_path):
    raw = raw_from(tmp_path, "osc_lists/port_list_long.json", "alcor/node_manager_nodes.json")
    tables, _ = ingest_dir(raw, SERIAL)
    assert row(tables["ports"], id="2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e70")["mac_address"] == "fa:16:3e:71:0a:b2"
    assert tables["hosts"]["mac_address"].tolist() == ["3c:fd:fe:11:22:33"]
    res = validate_tables(tables)
    assert "mac_format" not in res.report["totals"]["by_check"]


@pytest.mark.parametrize("given, want", [("00-AA-BB-CC-DD-EE", "00:aa:bb:cc:dd:ee"),
                                         ("00aa.bbcc.ddee", "00:aa:bb:cc:dd:ee"),
                                         ("00AABBCCDDEE", "00:aa:bb:cc:dd:ee"),
                                         ("00:AA:BB:CC:DD:EE", "00:aa:bb:cc:dd:ee"),
                                         ("00-AA-BB-CC-DD", "00-aa-bb-cc-dd")])
def test_mac_spellings_netaddr_accepts_become_colon_lower_case(tmp_path, given, want):
    port = {"id": "p1", "network_id": "n1", "mac_address": given, "fixed_ips": []}
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "ports.json").write_text(json.dumps({"ports": [port]}))
    tables, _ = ingest_dir(tmp_path / "raw", SERIAL)
    assert tables["ports"]["mac_address"].tolist() == [want]


# --- 2. secrets ---------------------------------------------------------------------------------

SECRETS = ["s3cr3t-pass-0x51", "tok-9f8e7d6c5b4a", "-----BEGIN PRIVATE KEY-----MIIEv0x",
           "psk-branch-77x", "url-pw-q1w2e3", "ak-AKIA00TEST11"]


def _secret_dump(tmp_path: Path) -> Path:
    raw = tmp_path / "raw"
    raw.mkdir()
    port = {"id": "p1", "network_id": "n1", "mac_address": "fa:16:3e:00:00:01",
            "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}],
            "binding:profile": {"nested": [{"admin_password": SECRETS[0]}], "pci_slot": "0000:3b:00.1"},
            "X-Auth-Token": SECRETS[1]}
    net = {"id": "n1", "name": "net", "mtu": 1450, "provider:network_type": "vxlan",
           "ssh_private_key": SECRETS[2], "vpn": {"Pre-shared Key": SECRETS[3]},
           "service_url": f"https://admin:{SECRETS[4]}@api.example.test/v2"}
    router = {"id": "r1", "name": "edge", "external_gateway_info": {
        "network_id": "n1", "enable_snat": True, "credentials": {"access_key": SECRETS[5]}}}
    (raw / "dump.json").write_text(json.dumps({"ports": [port], "networks": [net],
                                               "routers": [router]}))
    (raw / "hosts.csv").write_text("node_name,local_ip,ipmi_password,ncm_uri\nh1,10.1.0.1,"
                                   f"{SECRETS[0]},grpc://ncm:{SECRETS[4]}@10.1.0.9:50001\n")
    return raw


def test_secret_values_are_redacted_at_any_depth_and_counted(tmp_path):
    tables, report = ingest_dir(_secret_dump(tmp_path), SERIAL)
    text = all_text(tables, report)
    for secret in SECRETS:
        assert secret not in text, secret
    assert report["redacted_values"] == 8
    assert report["redacted_keys"] == {
        "<url password>": 2, "Pre-shared Key": 1, "X-Auth-Token": 1, "admin_password": 1,
        "credentials": 1, "ipmi_password": 1, "ssh_private_key": 1}  # credentials: whole object
    port = row(tables["ports"], id="p1")
    assert extra(port)["binding:profile"] == {"nested": [{"admin_password": "<redacted>"}],
                                              "pci_slot": "0000:3b:00.1"}  # the rest is kept
    net = row(tables["networks"], id="n1")
    assert extra(net)["service_url"] == "https://admin:<redacted>@api.example.test/v2"
    assert tables["hosts"]["ncm_uri"].tolist() == ["grpc://ncm:<redacted>@10.1.0.9:50001"]
    # and validation passes nothing through: valid and quarantined tables are clean too
    res = validate_tables(tables)
    assert not any(s in all_text(res.valid) + all_text(res.quarantine) for s in SECRETS)
    # nor do the features built from them
    from pipeline.features import build_features

    feats = build_features(res.valid)
    assert sum(len(df) for df in feats.values()) > 0
    text = "\n".join(df.astype(str).to_csv() for df in feats.values())
    assert not any(s in text for s in SECRETS)


def test_redacted_count_in_report_matches_values():
    from pipeline.ingest.redact import redact

    counts: dict = {}
    out = redact({"a": {"Password": "x", "list": [{"token": 1}, {"token": None}]}, "psk": ""}, counts)
    # null values are not secrets; an empty string is redacted like any other value
    assert out == {"a": {"Password": "<redacted>", "list": [{"token": "<redacted>"}, {"token": None}]},
                   "psk": "<redacted>"}
    assert counts == {"Password": 1, "token": 1, "psk": 1}


# --- 4. Alcor service responses -------------------------------------------------------------------


def test_alcor_service_responses_are_read(tmp_path):
    raw = raw_from(tmp_path, "alcor")
    tables, report = ingest_dir(raw, SERIAL)
    assert report["skipped_files"] == []
    router = row(tables["routers"], id="a1f0c2e4-7d3b-4e9a-8c21-5b6d7e8f9a01")
    assert router["name"] == "vpc-edge-router"
    assert extra(router)["subnets"] == ["b2e1d3f5-8e4c-4fab-9d32-6c7e8f9a0b12",
                                        "c3f2e4a6-9f5d-40bc-8e43-7d8f9a0b1c23"]
    assert json.loads(router["routes"])[0] == {"destination": "172.31.1.0/24", "nexthop": "172.31.0.21"}
    sub = row(tables["subnets"], id="b2e1d3f5-8e4c-4fab-9d32-6c7e8f9a0b12")
    assert sub["attached_router_id"] == "a1f0c2e4-7d3b-4e9a-8c21-5b6d7e8f9a01"
    net = row(tables["networks"], id="e5b4a6c8-1b7f-42de-8a65-9f0b1c2d3e45")
    assert (net["cidr"], net["segmentation_id"]) == ("172.31.0.0/16", 7707)
    port = row(tables["ports"], id="07d6c8ea-3d9b-44f0-8c87-1b2d3e4f5a67")
    assert port["mac_address"] == "aa:bb:cc:3a:7f:01" and port["fast_path"] is True
    assert port["created_at"] == "2026-02-11 09:33:10"
    assert extra(port)["binding:profile"]["auth_token"] == "<redacted>"
    assert sorted(tables["hosts"]["node_name"]) == ["node-a17", "node-a18", "node-a19"]
    # the internal router message is reported, not dropped silently
    assert [u["reason"] for u in report["unknown_files"]] == ["unknown resource key 'internal_router_info'"]
    res = validate_tables(tables)
    assert res.report["totals"]["rows_quarantined"] == 0, res.report["totals"]["by_check"]


def test_an_id_list_beside_several_objects_is_reported_not_fatal(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.json").write_text(json.dumps({"subnets": ["x", "y"]}))
    tables, report = ingest_dir(raw, SERIAL)
    assert report["unknown_files"][0]["reason"] == "'subnets' lists ids, not objects"
    assert report["unknown_files"][0]["objects"] == 2


# --- 5. nova-network floating IPs -------------------------------------------------------------------


def test_nova_floating_ips_are_mapped_with_their_addresses(tmp_path):
    raw = raw_from(tmp_path, "nova")
    tables, report = ingest_dir(raw, SERIAL)
    fips = tables["floating_ips"]
    assert len(fips) == 4
    assert fips["floating_ip_address"].notna().all()
    assert sorted(fips["floating_ip_address"]) == ["172.24.4.17", "172.24.4.23", "192.0.2.201",
                                                   "192.0.2.202"]
    r = row(fips, floating_ip_address="172.24.4.23")
    assert r["fixed_ip_address"] == "10.0.0.4"
    assert extra(r) == {"instance_id": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", "pool": "public"}
    assert row(fips, floating_ip_address="192.0.2.202")["id"] == "2"
    res = validate_tables(tables)
    assert res.report["tables"]["floating_ips"]["rows_quarantined"] == 0


# --- 6. Neutron subnet pools ------------------------------------------------------------------------


def test_subnetpools_are_their_own_table_and_subnets_reference_them(tmp_path):
    raw = raw_from(tmp_path, "neutron")
    tables, report = ingest_dir(raw, SERIAL)
    assert report["unknown_objects"] == 0
    pools = tables["subnetpools"]
    assert len(pools) == 2
    v4 = row(pools, id="1f2a3b4c-5d6e-4f7a-8b8c-9d0e1f2a3b4c")
    assert json.loads(v4["prefixes"]) == ["10.112.0.0/16", "10.113.0.0/16"]
    assert (v4["default_prefixlen"], v4["min_prefixlen"], v4["max_prefixlen"]) == (24, 16, 28)
    assert v4["address_scope_id"] == "a5b6c7d8-e9f0-4a1b-8c2d-3e4f5a6b7c8d"
    assert (v4["is_default"], v4["default_quota"]) == (True, 4096)
    assert len(tables["allocation_pools"]) == 2  # the allocation pools of the two subnets
    res = validate_tables(tables)
    q = res.quarantine["subnets"]
    assert q["id"].tolist() == ["4c5d6e7f-8a9b-4c0d-9e1f-2a3b4c5d6e7f"]
    assert q["check"].tolist() == ["ref_subnetpool_id"]
    assert res.report["tables"]["subnetpools"]["rows_quarantined"] == 0


def test_subnetpool_reference_is_not_checked_without_subnetpools(tmp_path):
    raw = raw_from(tmp_path, "neutron/subnets_from_pools.json", "neutron/network.json")
    tables, _ = ingest_dir(raw, SERIAL)
    res = validate_tables(tables)
    assert res.report["tables"]["subnets"]["rows_quarantined"] == 0


@pytest.mark.parametrize("change, code", [
    ({"prefixes": ["10.112.0.5/16"]}, "subnetpool_prefix_invalid"),
    ({"prefixes": ["2001:db8::/32"]}, "subnetpool_prefix_invalid"),
    ({"prefixes": ["not-a-cidr"]}, "subnetpool_prefix_invalid"),
    ({"min_prefixlen": 30}, "prefixlen_range"),
    ({"max_prefixlen": 33}, "prefixlen_range"),
])
def test_subnetpool_checks(tmp_path, change, code):
    doc = json.loads((FIXTURES / "neutron" / "subnetpools.json").read_text())
    doc["subnetpools"][1].update(change)
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "pools.json").write_text(json.dumps(doc))
    tables, _ = ingest_dir(tmp_path / "raw", SERIAL)
    res = validate_tables(tables)
    assert res.quarantine["subnetpools"]["check"].tolist() == [code]


# --- 7. project/tenant conflict ---------------------------------------------------------------------


def test_project_tenant_conflict_has_its_own_check(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    nets = [{"id": "n1", "project_id": "pa", "tenant_id": "pb", "name": "x"},
            {"id": "n2", "project_id": "pa", "tenant_id": "pb", "mtu": "big"},
            {"id": "n3", "project_id": "pa", "tenant_id": "pa"}]
    (raw / "n.json").write_text(json.dumps({"networks": nets}))
    tables, _ = ingest_dir(raw, SERIAL)
    res = validate_tables(tables)
    q = res.quarantine["networks"].set_index("id")
    assert q.loc["n1", "check"] == "project_tenant_conflict"
    assert "'pa'" in q.loc["n1", "reason"] and "'pb'" in q.loc["n1", "reason"]
    assert q.loc["n2", "check"] == "ingest_type_error;project_tenant_conflict"
    assert res.valid["networks"]["id"].tolist() == ["n3"]


# --- 7 / issue 11: every file passed over is reported -----------------------------------------------


def test_every_file_passed_over_is_reported_with_its_reason(tmp_path):
    raw = raw_from(tmp_path, "neutron/network.json")
    shutil.copy(FIXTURES / "neutron" / "subnetpools.json", raw / "README-pools.json")
    (raw / ".hidden.json").write_text("{}")
    (raw / ".git").mkdir()
    (raw / ".git" / "config").write_text("x")
    os.mkfifo(raw / "pipe.json")
    os.symlink(raw / "gone.json", raw / "dangling.json")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "ports.json").write_text(json.dumps({"ports": []}))
    os.symlink(outside, raw / "linked")
    tables, report = ingest_dir(raw, SERIAL)
    assert [f["file"] for f in report["files"]] == ["network.json"]
    assert {p["file"]: p["reason"].split(" (")[0].split(",")[0] for p in report["passed_over"]} == {
        ".git/": "hidden folder", ".hidden.json": "hidden file",
        "README-pools.json": "README* is taken as documentation",
        "dangling.json": "dangling symlink", "linked/": "symlinked folder",
        "pipe.json": "not a regular file"}
    assert report["files_passed_over"] == 6


def test_only_passed_over_files_is_a_one_line_error_saying_why(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "README.json").write_text("{}")
    with pytest.raises(InputError, match=r"no data files found \(1 entries passed over, e.g. "
                                         r"README.json: README\*"):
        ingest_dir(raw, SERIAL)


def test_file_name_that_is_not_utf8_is_a_one_line_bad_file(tmp_path):
    raw = raw_from(tmp_path, "neutron/network.json")
    bad = os.fsencode(str(raw)) + b"/ports-\xff\xfe.json"
    with open(bad, "wb") as fh:
        fh.write(json.dumps({"ports": []}).encode())
    with pytest.raises(InputError) as err:
        ingest_dir(raw, SERIAL)
    msg = str(err.value)
    assert "\n" not in msg and "ports-\\xff\\xfe.json: file name is not valid UTF-8" in msg
    msg.encode("utf-8")  # printable
    tables, report = ingest_dir(raw, {**SERIAL, "on_bad_file": "skip"})
    assert report["skipped_files"] == [{"file": "ports-\\xff\\xfe.json",
                                        "reason": "file name is not valid UTF-8; rename the file "
                                                  "to ingest it"}]
    json.dumps(report).encode("utf-8")
    assert len(tables["networks"]) == 1


def test_cli_with_a_non_utf8_file_name_prints_one_line_and_skip_mode_lists_it(tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    raw = raw_from(tmp_path, "neutron/network.json")
    with open(os.fsencode(str(raw)) + b"/net-\xe9.json", "wb") as fh:
        fh.write(b'{"networks": []}')
    for mode in ("error", "skip"):
        pfile = tmp_path / f"params-{mode}.yaml"
        pfile.write_text(json.dumps({"ingest": {"workers": 1, "on_bad_file": mode}}))
        out = tmp_path / f"interim-{mode}"
        res = CliRunner().invoke(app, ["ingest", "--input", str(raw), "--out", str(out),
                                       "--params", str(pfile)])
        assert "Traceback" not in res.output
        if mode == "error":
            assert res.exit_code == 2
            assert res.stderr.strip().count("\n") == 0
            assert "net-\\xe9.json: file name is not valid UTF-8" in res.stderr
        else:
            assert res.exit_code == 0, res.output
            rep = json.loads((out / "_ingest_report.json").read_text())
            assert rep["skipped_files"][0]["file"] == "net-\\xe9.json"


def test_an_object_of_empty_unknown_lists_is_still_counted(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.json").write_text(json.dumps([{"Subnet": []}, {"trunks": []},
                                            {"ID": [], "Name": [None, None]},  # not a wrapper
                                            {"trunks": [{"id": "t1"}, {"id": "t2"}]}]))
    _, report = ingest_dir(raw, SERIAL)
    assert report["unknown_objects"] == 5
