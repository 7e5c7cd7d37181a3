"""Round trip through the CLI: `dcnet ingest` reads an Alcor request stream folder back into the
tables that were exported (for what the stream carries); the K6 script beside it is listed as
an unknown file, not fatal."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from alcor_stream_fixtures import default_var, hand_stream
from export_fixtures import PROVENANCE, ROUND_TRIP_TABLES, sample_tables, small_dc  # noqa: F401
from pipeline import io
from pipeline.export import alcor as export_alcor
from schemas import model
from pipeline.cli import app
from pipeline.export.alcor.k6 import k6_script
from pipeline.ingest.sources.alcor_stream import GATEWAY_PORT_PREFIX
from pipeline.export.topology import build_topology
from ingest_fixtures import run as ingest_or_input_error


def cli(*args):
    return CliRunner().invoke(app, [*map(str, args)])


def dcnet_ingest(folder: Path, out: Path, printed: list | None = None) -> tuple[dict, dict]:
    """`dcnet ingest` through the CLI: (tables, report); the console text goes to `printed`."""
    res = cli("ingest", "--input", folder, "--out", out, "--params", out.parent / "none.yaml")
    assert res.exit_code == 0, res.output
    if printed is not None:
        printed.append(" ".join(res.output.split()))
    rep = json.loads((out / "_ingest_report.json").read_text())
    return io.read_tables(out), rep


def assert_same(expected: dict, back: dict, names=ROUND_TRIP_TABLES) -> None:
    """Equal on the model columns (provenance and `extra` are not exported), any row order."""
    for name in names:
        t = model.TABLES[name]
        cols = [c for c in t.column_names if c not in PROVENANCE]
        key = list(t.key)
        a = model.conform(expected[name].copy(), name)[cols].sort_values(key).reset_index(drop=True)
        b = back[name][cols].sort_values(key).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b, check_dtype=False, obj=name)


def write_lines(path: Path, lines: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(l, separators=(",", ":")) + "\n" for l in lines))


@pytest.fixture(scope="module")
def synthetic(sample_tables):  # noqa: F811
    synth = pytest.importorskip("pipeline.synthesize")
    learned = synth.learn(sample_tables)
    return synth.generate(learned, {"synthesize": {"seed": 5, "hosts": 30, "projects": 8},
                                    "fabric": {"topology": "auto", "hosts_per_rack": 10}})


def test_cli_round_trip_of_the_exported_synthetic_dc(tmp_path, synthetic):
    inp = tmp_path / "synthetic"
    io.write_tables(synthetic, inp)
    res = cli("export", "-f", "alcor", "--input", inp, "--out", tmp_path / "export",
              "--params", tmp_path / "none.yaml")
    assert res.exit_code == 0, res.output
    folder = tmp_path / "export" / "alcor"
    assert (folder / "alcor_k6.js").exists()
    printed: list = []
    back, rep = dcnet_ingest(folder, tmp_path / "back", printed)
    exported = io.read_tables(inp)
    lines = [json.loads(x) for x in (folder / "alcor_requests.ndjson").read_text().splitlines()]
    assert len(back["ports"]) == len(stream_ids(lines, "port")) > 100
    assert_alcor_round_trip(exported, lines, back)
    stream = next(f for f in rep["files"] if f["file"] == "alcor_requests.ndjson")
    assert stream["format"] == "alcor-stream"
    assert rep["unknown_files"] == [{"file": "alcor_k6.js", "reason": "not a data file (beside an "
                                     "Alcor request stream)", "objects": 1, "first_pos": 0}]
    assert not rep["skipped_files"]
    assert "warning: alcor_k6.js: not a data file (beside an Alcor request stream)" in printed[0]


def stream_ids(lines: list[dict], key: str) -> list:
    """Ids of the `key` bodies (port, subnet, ...) the stream carries, in stream order."""
    return [l["body"][key]["id"] for l in lines if isinstance(l["body"], dict) and key in l["body"]]


def expected_after_alcor_rules(tables: dict, lines: list[dict]) -> dict:
    """What an exported stream carries of `tables`, by Alcor's rules (export_alcor's module doc):
    what the stream left out (IPv6 subnets and addresses, router-interface ports, rules Alcor
    makes itself or cannot map) is absent; a `default` group that was not posted is Alcor's own
    (named by the capture variable `default_sg.<project>`), and so are the references to it; a
    port sent without `security_groups` gets that default group; hosts carry the server port of
    export.alcor.server_port; a flat network without segmentation id gets one; router
    interfaces name the subnet's gateway port. Routers are compared apart (they may be split)."""
    t = {k: v.copy() for k, v in tables.items() if k not in ("fabric_switches", "fabric_links")}
    sent = {key: set(stream_ids(lines, key)) for key in ("port", "subnet", "security_group",
                                                         "security_group_rule", "router")}
    # ports sent without `security_groups`: Alcor binds their project's default group
    bound = {l["body"]["port"]["id"]: l["body"]["port"]["project_id"] for l in lines
             if "port" in l["body"] and "security_groups" not in l["body"]["port"]}
    t["hosts"]["server_port"] = export_alcor.ACA_SERVER_PORT
    ncm_uri = {l["body"]["ncm_info"]["id"]: l["body"]["ncm_info"]["uri"] for l in lines
               if l["resource"] == "ncm"}
    t["hosts"]["ncm_uri"] = t["hosts"]["ncm_id"].map(ncm_uri)  # the NCM's registration
    hosts = set(t["hosts"]["node_name"])
    ports = t["ports"]
    ports.loc[~ports["binding_host_id"].isin(hosts), "binding_host_id"] = None  # unbound
    # Alcor's VifType enum; unbound ports are sent without one (Alcor's default applies)
    vif = ports["binding_vif_type"]
    ports.loc[vif.isin(["unbound", "binding_failed"]), "binding_vif_type"] = None
    alcor_vif = {"ovs", "macvtap", "hw_veb", "hostdev_physical", "vhostuser", "distributed", "other"}
    ports.loc[vif.notna() & ~vif.isin(alcor_vif) & ports["binding_vif_type"].notna(), "binding_vif_type"] = "other"
    nets = t["networks"]
    flat = (nets["network_type"] == "flat") & nets["segmentation_id"].isna()
    nets.loc[flat, "segmentation_id"] = export_alcor.FLAT_SEGMENTATION_ID
    t["subnets"] = t["subnets"][t["subnets"]["id"].isin(sent["subnet"])].copy()
    t["subnets"]["attached_router_id"] = None  # attached by add_router_interface instead
    # a gateway outside the subnet's host range (Neutron accepts an off-subnet one) is left to
    # Alcor, which takes the first host address
    sub = t["subnets"]
    def outside_hosts(cidr, gw) -> bool:
        net = ipaddress.ip_network(cidr)
        return not (net.network_address < ipaddress.ip_address(gw) < net.broadcast_address)

    off = [gw is not None and not pd.isna(gw) and outside_hosts(cidr, gw)
           for cidr, gw in zip(sub["cidr"], sub["gateway_ip"])]
    sub.loc[off, "gateway_ip"] = None
    t["allocation_pools"] = t["allocation_pools"][t["allocation_pools"]["subnet_id"].isin(sent["subnet"])]
    t["ports"] = t["ports"][t["ports"]["id"].isin(sent["port"])]
    ips = t["port_ips"]
    ips = ips[ips["port_id"].isin(sent["port"]) & ips["subnet_id"].isin(sent["subnet"])]
    ips = ips.sort_values(["port_id", "ip_index"])
    t["port_ips"] = ips.assign(ip_index=ips.groupby("port_id").cumcount())  # renumbered 0..
    sg = t["security_groups"]
    is_default = (sg["name"] == "default") & ~sg["id"].isin(sent["security_group"])  # Alcor's own
    new_id = {i: default_var(p) for i, p in zip(sg.loc[is_default, "id"], sg.loc[is_default, "project_id"])}
    t["security_groups"] = sg[sg["id"].isin(sent["security_group"]) | is_default].copy()
    sg = t["security_groups"]
    renamed = sg["id"].isin(sent["security_group"]) & (sg["name"] == "default")
    sg.loc[renamed, "name"] = export_alcor.RENAMED_DEFAULT
    sg.loc[sg["id"].isin(new_id), ["description", "stateful"]] = None
    sg["id"] = sg["id"].map(lambda v: new_id.get(v, v))
    rules = t["security_group_rules"]
    t["security_group_rules"] = rules[rules["id"].isin(sent["security_group_rule"])].copy()
    psg = t["port_security_groups"]
    psg = psg[psg["port_id"].isin(sent["port"])]
    without = [p for p in bound if p not in set(psg["port_id"])]
    psg = pd.concat([psg, pd.DataFrame({"port_id": without,
                                        "security_group_id": [default_var(bound[p]) for p in without]})],
                    ignore_index=True)
    t["port_security_groups"] = psg
    for name, cols in (("security_group_rules", ("security_group_id", "remote_group_id")),
                       ("port_security_groups", ("security_group_id",))):
        for c in cols:
            t[name][c] = t[name][c].map(lambda v: new_id.get(v, v))
    ri = t["router_interfaces"]
    ri = ri[ri["subnet_id"].isin(sent["subnet"])].copy()
    gw = dict(zip(t["subnets"]["id"], t["subnets"]["gateway_ip"]))
    net = dict(zip(t["subnets"]["id"], t["subnets"]["network_id"]))
    ri["port_id"] = GATEWAY_PORT_PREFIX + ri["subnet_id"]
    ri["ip_address"] = ri["subnet_id"].map(gw)
    ri["network_id"] = ri["subnet_id"].map(net)
    t["router_interfaces"] = ri
    # elastic IPs carry no floating network, router or status
    t["floating_ips"][["floating_network_id", "router_id", "status"]] = None
    return t


def assert_alcor_round_trip(tables: dict, lines: list[dict], back: dict) -> None:
    expected = expected_after_alcor_rules(tables, lines)
    assert_same(expected, back, [n for n in ROUND_TRIP_TABLES if n not in ("routers", "router_interfaces")])
    # routers: the exported ones come back; a router spanning VPCs comes back split, one per VPC
    routers, ri = back["routers"], back["router_interfaces"]
    assert set(tables["routers"]["id"]) <= set(routers["id"])
    assert set(ri["router_id"]) <= set(routers["id"])
    assert (ri.groupby("router_id")["network_id"].nunique() == 1).all()
    cols = ["subnet_id", "port_id", "ip_address", "network_id"]
    key = lambda df: df[cols].astype(str).sort_values(cols).reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(key(expected["router_interfaces"]), key(ri))


@pytest.mark.parametrize("source", ["small", "sample"])
def test_exported_phased_stream_with_captures_round_trips(tmp_path, source, sample_tables):  # noqa: F811
    tables = small_dc() if source == "small" else sample_tables
    if source == "small":  # make the little DC use its default groups and an NCM
        psg = tables["port_security_groups"]
        psg.loc[psg["port_id"] == "port-00001", "security_group_id"] = "sg-default-b"
        rules = tables["security_group_rules"]
        extra = rules.iloc[[0]].assign(id="r5", security_group_id="sg-default-a", remote_group_id="sg-web",
                                       remote_ip_prefix=None, protocol=None, port_range_min=None,
                                       port_range_max=None)
        tables["security_group_rules"] = pd.concat([rules, extra], ignore_index=True)
        tables["hosts"].loc[:2, "ncm_id"] = "ncm-az1"
    folder = tmp_path / "alcor"
    folder.mkdir()
    export_alcor.write(build_topology(tables, require_fabric=False), folder, {})
    lines = [json.loads(x) for x in (folder / "alcor_requests.ndjson").read_text().splitlines()]
    # the stream really uses what the round trip must undo
    text = json.dumps(lines)
    assert "{{default_sg." in text and '"/port/security_groups/0"' in text
    assert '"elasticip"' in text and '"ncm_info"' in text
    assert not any(l["resource"] == "router_interface" and "port_id" in l["body"] for l in lines)
    back, rep = dcnet_ingest(folder, tmp_path / "back")
    assert_alcor_round_trip(tables, lines, back)
    assert [u["file"] for u in rep["unknown_files"]] == ["alcor_k6.js"]
    stream = next(f for f in rep["files"] if f["file"] == "alcor_requests.ndjson")
    assert stream["format"] == "alcor-stream" and stream["unknown_objects"] == 0
    assert any(k.startswith("elasticip_range (not a table)") for k in stream["ignored_keys"])


def test_hand_stream_reads_back(tmp_path):
    folder = tmp_path / "alcor"
    write_lines(folder / "alcor_requests.ndjson", hand_stream(n_ports=6))
    back, rep = dcnet_ingest(folder, tmp_path / "back")
    assert not rep["unknown_files"] and not rep["skipped_files"]
    sg = back["security_groups"].set_index("id")
    assert sg.loc["default_sg.pa", "name"] == "default" and sg.loc["default_sg.pb", "project_id"] == "pb"
    assert sg.loc["bound_sg.pa", "name"] == "default"  # bound by Alcor to a port sent without groups
    psg = back["port_security_groups"]
    assert list(psg.loc[psg["port_id"] == "port-000", "security_group_id"]) == ["bound_sg.pa"]
    assert set(psg.loc[psg["port_id"] == "port-001", "security_group_id"]) == {"default_sg.pb", "sg-web-pb"}
    rules = back["security_group_rules"].set_index("id")
    assert rules.loc["rule-0", "security_group_id"] == rules.loc["rule-0", "remote_group_id"] == "default_sg.pa"
    ri = back["router_interfaces"].sort_values("subnet_id")
    # the router id was assigned by Alcor: the variable's name stands for it
    assert list(ri["router_id"]) == ["router.edge", "router.edge"]
    assert list(ri["subnet_id"]) == ["sub-1", "sub-2"] and list(ri["ip_address"]) == ["10.1.0.1", "10.2.0.1"]
    fip = back["floating_ips"].iloc[0]
    assert (fip["floating_ip_address"], fip["port_id"]) == ("203.0.113.20", "port-000")
    assert len(back["hosts"]) == 6


def test_a_stream_starting_with_blank_lines_is_sniffed_on_disk_as_in_memory(tmp_path):
    """is_stream_file (a file on disk, planning) and sniff (bytes) agree: both look at the
    first non-blank line, plain or gzipped; a broken gzip is not a stream (the worker reports
    it)."""
    import gzip

    from pipeline.ingest.sources.alcor_stream import is_stream_file, sniff

    line = json.dumps(hand_stream(n_ports=1)[0]).encode()
    for name, data in (("plain.ndjson", b"\n \r\n" + line + b"\n"),
                       ("packed.ndjson.gz", gzip.compress(b"\n\n" + line + b"\n", mtime=0)),
                       ("list.json", b'{"ports": [' + b'{"id": "p"},' * 1000 + b'{"id": "q"}]}')):
        (tmp_path / name).write_bytes(data)
        assert is_stream_file(tmp_path / name) == sniff(data) == (name != "list.json"), name
    (tmp_path / "broken.gz").write_bytes(b"\x1f\x8b" + b"not deflate" * 10)
    assert is_stream_file(tmp_path / "broken.gz") is False


def test_non_data_files_are_unknown_only_beside_a_stream(tmp_path):
    folder = tmp_path / "alcor"
    write_lines(folder / "alcor_requests.ndjson", hand_stream(n_ports=2))
    (folder / "alcor_k6.js").write_text(k6_script())
    (folder / "notes.txt").write_text("replayed on the lab cluster, see ticket 12\n")
    _, rep = dcnet_ingest(folder, tmp_path / "back")
    assert sorted(u["file"] for u in rep["unknown_files"]) == ["alcor_k6.js", "notes.txt"]
    assert rep["files_ingested"] == 3 and not rep["skipped_files"]
    # the same script in a plain dump folder is still a bad file (one line, exit 2)
    plain = tmp_path / "dump"
    plain.mkdir()
    (plain / "ports.json").write_text('{"ports": []}')
    (plain / "alcor_k6.js").write_text(k6_script())
    res = cli("ingest", "--input", plain, "--out", tmp_path / "out2", "--params", tmp_path / "none.yaml")
    assert res.exit_code == 2 and "alcor_k6.js" in res.output


def test_malformed_stream_line_is_one_clear_error(tmp_path):
    folder = tmp_path / "alcor"
    lines = hand_stream(n_ports=2)
    write_lines(folder / "alcor_requests.ndjson", lines)
    with open(folder / "alcor_requests.ndjson", "a") as fh:
        fh.write('{"service": "port_manager", "method": "POST", "path": \n')
    (folder / "alcor_k6.js").write_text(k6_script())
    res = cli("ingest", "--input", folder, "--out", tmp_path / "back", "--params", tmp_path / "none.yaml")
    assert res.exit_code == 2, res.output
    msg = " ".join(res.output.split())
    assert f"alcor_requests.ndjson: line {len(lines) + 1}: malformed JSON" in msg


def test_big_stream_is_read_whole_not_in_chunks(tmp_path):
    """Captures link lines far apart: a stream above the split size is still one unit."""
    folder = tmp_path / "alcor"
    write_lines(folder / "alcor_requests.ndjson", hand_stream(n_ports=400))
    from pipeline.ingest import ingest_dir

    tables, rep = ingest_dir(folder, {"split_above_bytes": 2048, "chunk_bytes": 1024})
    assert rep["files"][0]["format"] == "alcor-stream"
    rules = tables["security_group_rules"]
    assert set(rules["security_group_id"]) >= {"default_sg.pa", "default_sg.pb"}
    assert len(tables["ports"]) == 400


# whatever a stream's lines hold, ingest gives conformed tables or one InputError line
_scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6) | st.sampled_from(
    ["{{v}}", "x{{v}}y", "{{default_sg.p}}", "/port/security_groups/0", "/router/id", ""])
_values = st.recursive(_scalars, lambda c: st.lists(c, max_size=3)
                       | st.dictionaries(st.sampled_from(["port", "router", "security_groups", "id",
                                                          "subnet_id", "elasticip", "host_infos",
                                                          "routes", "x"]), c, max_size=3),
                       max_leaves=10)
_lines = st.fixed_dictionaries(
    {"service": st.sampled_from(["port_manager", "route_manager", "x"]),
     "method": st.sampled_from(["POST", "PUT", "GET"]),
     "path": st.sampled_from(["/project/p/ports", "/project/p/routers/{{v}}/add_router_interface",
                              "/project/p/routers/r/add_extraroutes", "/project/p/elasticips",
                              "/project/p/security-groups/default/p", "/ncms", "/zzz"]),
     "body": _values},
    optional={"phase": st.integers(0, 3), "resource": st.text(max_size=5),
              "capture": st.dictionaries(st.sampled_from(["v", "default_sg.p"]),
                                         st.sampled_from(["/port/security_groups/0", "/router/id",
                                                          "", "/x~1y", 3]), max_size=2)})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_lines, min_size=1, max_size=6))
def test_any_stream_gives_conformed_tables_or_input_error(lines):
    data = "".join(json.dumps(l) + "\n" for l in lines).encode()
    tables, report = ingest_or_input_error({"alcor_requests.ndjson": data})
    if report is not None:
        assert report["files"][0]["format"] == "alcor-stream"


@pytest.mark.parametrize("body", [{"subnet_id": True}, {"subnet_id": [None]}, {}, None])
def test_router_interface_without_a_subnet_id_string_is_unknown_not_a_crash(body):
    # found by the property test above: a non-string subnet_id reached the row builder
    lines = [{"service": "route_manager", "method": "PUT", "body": body,
              "path": "/project/p/routers/r1/add_router_interface"}]
    data = "".join(json.dumps(l) + "\n" for l in lines).encode()
    tables, report = ingest_or_input_error({"alcor_requests.ndjson": data})
    assert report is not None and len(tables["router_interfaces"]) == 0
    assert report["files"][0]["unknown_objects"] == 1


def test_a_router_whose_id_is_not_a_string_is_a_row_not_a_crash():
    # found by test_any_stream_gives_conformed_tables_or_input_error: a list id is unhashable
    line = {"service": "port_manager", "method": "POST", "path": "/project/p/ports",
            "body": {"router": {"port": None, "id": []}}}
    tables, report = ingest_or_input_error({"alcor_requests.ndjson": json.dumps(line).encode()})
    assert report["tables"]["routers"] == 1
    assert tables["routers"]["ingest_errors"].iloc[0].startswith("id: expected string")
