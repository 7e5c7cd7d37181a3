"""`dcnet check-export` for Alcor: each rule can fail (one bad example each, on a small
hand-written stream), and the real exports pass."""

from __future__ import annotations

import copy

import orjson
import pytest

from export_fixtures import sample_tables, small_dc  # noqa: F401
from pipeline.export import alcor as export_alcor
from pipeline.check_export import alcor
from pipeline.export.topology import build_topology

P = "/project/pa"
SG_DEFAULT = "{{default_sg.pa}}"


def line(phase, resource, service, method, path, body, capture=None):
    out = {"phase": phase, "resource": resource, "service": service, "method": method,
           "path": path, "body": body}
    if capture:
        out["capture"] = capture
    return out


def port(pid, ip, **extra):
    body = {"id": pid, "network_id": "net-a", "project_id": "pa", "tenant_id": "pa",
            "mac_address": f"fa:16:3e:00:00:{int(pid[-2:]):02x}", "binding:host_id": "cn00",
            "binding:vif_type": "ovs", "fixed_ips": [{"subnet_id": "sub-a", "ip_address": ip}]}
    body.update(extra)
    return body


def good_stream() -> list[dict]:
    """A small stream that follows every rule: one of each endpoint, a capture, placeholders."""
    return [
        line(1, "segment", "vpc_manager", "POST", "/segments/createDefaultTable", {}),
        line(2, "ncm", "node_manager", "POST", "/ncms",
             {"ncm_info": {"id": "ncm-1", "uri": "http://10.0.0.1:9014"}}),
        line(3, "node", "node_manager", "POST", "/nodes/bulk", {"host_infos": [
            {"node_id": "n0", "node_name": "cn00", "local_ip": "10.1.0.10", "server_port": 50001,
             "ncm_id": "ncm-1"}]}),
        line(3, "node", "node_manager", "POST", "/nodes/bulk", {"host_infos": [
            {"node_id": "n1", "node_name": "cn01", "local_ip": "10.1.0.11", "server_port": 50001}]}),
        line(4, "vpc", "vpc_manager", "POST", f"{P}/vpcs", {"network": {
            "id": "net-a", "project_id": "pa", "cidr": "10.10.0.0/16",
            "provider:network_type": "vxlan"}}),
        line(4, "vpc", "vpc_manager", "POST", f"{P}/vpcs", {"network": {
            "id": "net-b", "project_id": "pa", "provider:network_type": "flat",
            "provider:segmentation_id": 0}}),
        line(5, "subnet", "subnet_manager", "POST", f"{P}/subnets", {"subnet": {
            "id": "sub-a", "network_id": "net-a", "cidr": "10.10.1.0/24", "ip_version": 4,
            "gateway_ip": "10.10.1.1"}}),
        line(5, "subnet", "subnet_manager", "POST", f"{P}/subnets", {"subnet": {
            "id": "sub-a2", "network_id": "net-a", "cidr": "10.10.2.0/24", "ip_version": 4}}),
        line(5, "subnet", "subnet_manager", "POST", f"{P}/subnets", {"subnet": {
            "id": "sub-b", "network_id": "net-b", "cidr": "203.0.113.0/24", "ip_version": 4}}),
        line(6, "router", "route_manager", "POST", f"{P}/routers", {"router": {"id": "rtr-1"}}),
        line(7, "router_interface", "route_manager", "PUT",
             f"{P}/routers/rtr-1/add_router_interface", {"subnet_id": "sub-a"}),
        line(7, "router_interface", "route_manager", "PUT",
             f"{P}/routers/rtr-1/add_router_interface", {"subnet_id": "sub-a2"}),
        line(8, "security_group", "security_group_manager", "POST", f"{P}/security-groups",
             {"security_group": {"id": "sg-web", "name": "web", "tenant_id": "pa"}}),
        line(9, "port", "port_manager", "POST", f"{P}/ports", {"port": port("port-01", "10.10.1.5")},
             capture={"default_sg.pa": "/port/security_groups/0"}),
        line(10, "security_group_rule", "security_group_manager", "POST", f"{P}/security-group-rules",
             {"security_group_rule": {"id": "r1", "security_group_id": "sg-web",
                                      "direction": "ingress", "ethertype": "IPv4",
                                      "protocol": "tcp", "port_range_min": 80,
                                      "port_range_max": 443, "remote_group_id": SG_DEFAULT}}),
        line(10, "security_group_rule", "security_group_manager", "POST", f"{P}/security-group-rules",
             {"security_group_rule": {"id": "r2", "security_group_id": SG_DEFAULT,
                                      "direction": "egress", "ethertype": "IPv4"}}),
        line(11, "port", "port_manager", "POST", f"{P}/ports",
             {"port": port("port-02", "10.10.1.6", security_groups=["sg-web", SG_DEFAULT])}),
        line(11, "port", "port_manager", "POST", f"{P}/ports",
             {"port": port("port-03", "10.10.2.7", **{"binding:host_id": "cn01", "fixed_ips": [
                 {"subnet_id": "sub-a2", "ip_address": "10.10.2.7"}]})}),
        line(12, "elasticip_range", "elastic_ip_manager", "POST", "/elasticip-ranges",
             {"elasticip-range": {"id": "rng4", "ip_version": 4, "allocation_ranges": [
                 {"start": "198.51.100.10", "end": "198.51.100.20"}]}}),
        line(13, "elasticip", "elastic_ip_manager", "POST", f"{P}/elasticips", {"elasticip": {
            "id": "fip-1", "project_id": "pa", "elastic_ip_version": 4,
            "elastic_ip": "198.51.100.12", "port_id": "port-02", "private_ip": "10.10.1.6"}}),
    ]


def write(tmp_path, lines) -> None:
    (tmp_path / "alcor_requests.ndjson").write_bytes(
        b"".join(orjson.dumps(x, option=orjson.OPT_SORT_KEYS) + b"\n" for x in lines))


def violations(tmp_path, lines) -> dict:
    write(tmp_path, lines)
    return {rule: v.count for rule, v in alcor.check(tmp_path).violations.items()}


def find(lines, resource, pred=lambda x: True):
    return next(x for x in lines if x["resource"] == resource and pred(x))


def inner(x):
    body = x["body"]
    return next(iter(body.values())) if len(body) == 1 and isinstance(next(iter(body.values())), dict) else body


def test_good_stream_passes(tmp_path):
    assert violations(tmp_path, good_stream()) == {}


# --- one bad example per rule --------------------------------------------------------------

def seg_twice(s):
    s.insert(1, copy.deepcopy(s[0]))


def ncm_missing(s):
    s.remove(find(s, "ncm"))


def ncm_empty(s):
    find(s, "node")["body"]["host_infos"][0]["ncm_id"] = ""


def ncm_mixed(s):
    find(s, "node")["body"]["host_infos"].append(
        {"node_id": "n2", "node_name": "cn02", "local_ip": "10.1.0.12"})


def node_unknown(s):
    inner(find(s, "port", lambda x: "capture" not in x))["binding:host_id"] = "cn99"


def node_dup(s):
    find(s, "node")["body"]["host_infos"][0]["node_name"] = "cn01"
    for x in s:
        if x["resource"] == "port":
            inner(x)["binding:host_id"] = "cn01"


def node_url(s):
    find(s, "node")["body"]["host_infos"][0]["node_name"] = "cn 00&x"


def node_unbound(s):
    inner(find(s, "port", lambda x: "capture" not in x))["binding:host_id"] = ""


def ipv6_subnet(s):
    inner(find(s, "subnet"))["cidr"] = "fd00::/64"
    inner(find(s, "subnet"))["ip_version"] = 6


def ipv6_fixed_ip(s):
    inner(find(s, "port", lambda x: "capture" not in x))["fixed_ips"].append(
        {"subnet_id": "sub-a", "ip_address": "fd00::5"})


def gw_port(s):
    inner(find(s, "port", lambda x: "capture" not in x))["fixed_ips"][0]["ip_address"] = "10.10.1.1"


def gw_port_default(s):  # no gateway_ip: Alcor's gateway port takes the first host
    inner(find(s, "port", lambda x: "capture" not in x and inner(x)["id"] == "port-03"))[
        "fixed_ips"][0]["ip_address"] = "10.10.2.1"


def rif_port(s):
    find(s, "router_interface")["body"] = {"port_id": "port-01"}


def rif_order(s):
    rif = find(s, "router_interface")
    rif["phase"] = 5
    s.remove(rif)
    s.insert(6, rif)


def rif_attached(s):
    inner(find(s, "subnet"))["attached_router_id"] = "rtr-1"


def router_two_vpcs(s):
    find(s, "router_interface", lambda x: x["body"]["subnet_id"] == "sub-a2")["body"] = {
        "subnet_id": "sub-b"}


def router_routes(s):
    inner(find(s, "router"))["routes"] = [{"destination": "0.0.0.0/0", "nexthop": "10.10.1.254"}]


def sg_default(s):
    inner(find(s, "security_group"))["name"] = "default"


def sg_default_owned(s):
    sg_default(s)
    s.append(line(11, "port", "port_manager", "POST", f"{P}/ports",
                  {"port": port("port-09", "10.10.1.9", security_groups=["sg-web"])}))


def sg_auto_egress(s):
    s.insert(s.index(find(s, "security_group_rule")), line(
        10, "security_group_rule", "security_group_manager", "POST", f"{P}/security-group-rules",
        {"security_group_rule": {"id": "r3", "security_group_id": "sg-web", "direction": "egress",
                                 "ethertype": "IPv6"}}))


def sg_auto_default_ingress(s):
    inner(find(s, "security_group_rule", lambda x: inner(x)["id"] == "r2"))["direction"] = "ingress"


def sgr_unknown_group(s):
    inner(find(s, "security_group_rule"))["remote_group_id"] = "sg-nowhere"


def sgr_minmax(s):
    inner(find(s, "security_group_rule"))["port_range_min"] = 8080


def port_sg_unknown(s):
    inner(find(s, "port", lambda x: "capture" not in x))["security_groups"] = ["sg-nowhere"]


def port_sg_late(s):
    port_line = find(s, "port", lambda x: "capture" not in x)
    s.append(line(13, "security_group", "security_group_manager", "POST", f"{P}/security-groups",
                  {"security_group": {"id": "sg-late", "name": "late"}}))
    inner(port_line)["security_groups"] = ["sg-late"]


def rif_unknown_subnet(s):
    find(s, "router_interface")["body"] = {"subnet_id": "sub-nowhere"}


def port_fixedip_outside(s):
    inner(find(s, "port", lambda x: "capture" not in x))["fixed_ips"][0]["ip_address"] = "10.10.9.9"


def port_fixedip_taken(s):
    inner(find(s, "port", lambda x: "capture" not in x))["fixed_ips"][0]["ip_address"] = "10.10.1.5"


def port_vif(s):
    inner(find(s, "port", lambda x: "capture" not in x))["binding:vif_type"] = "unbound"


def vpc_flat(s):
    del inner(find(s, "vpc", lambda x: inner(x)["id"] == "net-b"))["provider:segmentation_id"]


def subnet_vpc_missing(s):
    inner(find(s, "subnet"))["network_id"] = "net-nowhere"


def subnet_vpc_project(s):
    find(s, "subnet")["path"] = "/project/pb/subnets"


def subnet_outside(s):
    inner(find(s, "subnet", lambda x: inner(x)["id"] == "sub-a2"))["cidr"] = "10.20.2.0/24"


def subnet_overlap(s):
    inner(find(s, "subnet", lambda x: inner(x)["id"] == "sub-a2"))["cidr"] = "10.10.1.128/25"


def subnet_gw_range(s):
    inner(find(s, "subnet"))["gateway_ip"] = "10.10.1.255"


def subnet_bulk(s):
    find(s, "subnet")["path"] = f"{P}/subnets/bulk"


def eip_no_range(s):
    s.remove(find(s, "elasticip_range"))


def eip_two_ranges(s):
    rng = copy.deepcopy(find(s, "elasticip_range"))
    inner(rng)["id"] = "rng4b"
    s.insert(s.index(find(s, "elasticip_range")) + 1, rng)


def eip_outside_range(s):
    inner(find(s, "elasticip"))["elastic_ip"] = "198.51.100.99"


def eip_range_order(s):
    inner(find(s, "elasticip_range"))["allocation_ranges"] = [
        {"start": "198.51.100.20", "end": "198.51.100.10"}]


def eip_project(s):
    inner(find(s, "elasticip"))["project_id"] = "pb"


def eip_port_missing(s):
    inner(find(s, "elasticip"))["port_id"] = "port-nowhere"


def eip_private_ip(s):
    inner(find(s, "elasticip"))["private_ip"] = "10.10.1.99"


def neutron(s):
    s.append(line(13, "elasticip", "api_gateway", "POST", "/v2.0/floatingips",
                  {"floatingip": {"floating_ip_address": "198.51.100.13"}}))


def same_phase_reference(s):
    inner(find(s, "port", lambda x: "capture" not in x))["network_id"] = "net-late"
    s.append(line(13, "vpc", "vpc_manager", "POST", f"{P}/vpcs", {"network": {"id": "net-late"}}))


def capture_undefined(s):
    inner(find(s, "security_group_rule"))["remote_group_id"] = "{{default_sg.nowhere}}"


def capture_same_phase(s):
    find(s, "port", lambda x: "capture" in x)["phase"] = 10
    # keep lines sorted by phase: the capture port moves among the rules


def phase_unsorted(s):
    s[0], s[1] = s[1], s[0]


def no_phase(s):
    del s[0]["phase"]


def wrong_resource(s):
    find(s, "vpc")["resource"] = "network"


def schema_vif_enum(s):
    inner(find(s, "port", lambda x: "capture" not in x))["binding:vif_type"] = "bridge"


def schema_unknown_endpoint(s):
    s.append(line(13, "router", "route_manager", "PUT", f"{P}/routers/rtr-1/add_extraroutes",
                  {"router": {"routes": []}}))


CASES = [
    ("R-SEG-ONCE", seg_twice), ("R-NCM-FIRST", ncm_missing), ("R-NCM-NONE", ncm_empty),
    ("R-NCM-ONE-PER-BULK", ncm_mixed), ("R-NODE-NAME", node_unknown), ("R-NODE-NAME", node_dup),
    ("R-NODE-NAME-URL", node_url), ("R-NODE-UNBOUND", node_unbound), ("R-IPV6", ipv6_subnet),
    ("R-IPV6", ipv6_fixed_ip), ("R-GW-PORT", gw_port), ("R-GW-PORT", gw_port_default),
    ("R-RIF-BY-SUBNET", rif_port), ("R-PHASE-ORDER", rif_order),
    ("R-RIF-ATTACHED", rif_attached), ("R-ROUTER-ONE-VPC", router_two_vpcs),
    ("R-ROUTER-ROUTES", router_routes), ("R-SG-DEFAULT-EXPORT", sg_default),
    ("R-SG-DEFAULT-OWNED", sg_default_owned), ("R-SG-AUTO-RULES", sg_auto_egress),
    ("R-SG-AUTO-RULES", sg_auto_default_ingress), ("R-SGR-ORDER", sgr_unknown_group),
    ("R-SGR-MINMAX", sgr_minmax), ("R-PORT-SG", port_sg_unknown),
    ("R-PHASE-ORDER", port_sg_late), ("R-RIF-ORDER", rif_unknown_subnet), ("R-PORT-FIXEDIP", port_fixedip_outside),
    ("R-PORT-FIXEDIP", port_fixedip_taken), ("R-PORT-VIF", port_vif), ("R-VPC-FLAT", vpc_flat),
    ("R-SUBNET-VPC", subnet_vpc_missing), ("R-SUBNET-VPC", subnet_vpc_project),
    ("R-SUBNET-INSIDE", subnet_outside), ("R-SUBNET-INSIDE", subnet_overlap),
    ("R-SUBNET-GW-RANGE", subnet_gw_range), ("R-SUBNET-BULK", subnet_bulk),
    ("R-EIP-RANGE-FIRST", eip_no_range), ("R-EIP-ONE-RANGE", eip_two_ranges),
    ("R-EIP-ONE-RANGE", eip_outside_range), ("R-EIP-RANGE-ORDER", eip_range_order),
    ("R-EIP-PROJECT", eip_project), ("R-EIP-PORT", eip_port_missing),
    ("R-EIP-PORT", eip_private_ip), ("R-SVC-NEUTRON", neutron),
    ("R-PHASE-ORDER", same_phase_reference), ("STREAM-CAPTURE", capture_undefined),
    ("R-PHASE-ORDER", capture_same_phase), ("STREAM-FORMAT", phase_unsorted),
    ("STREAM-FORMAT", no_phase), ("STREAM-FORMAT", wrong_resource),
    ("A-PORT-VIF", schema_vif_enum), ("A-ENDPOINT", schema_unknown_endpoint),
    ("A-SG-DEFAULT", sg_default), ("A-VPC-FLAT", vpc_flat), ("A-SUBNET-CIDR", ipv6_subnet),
    ("A-PORT-HOST", node_unbound),
]


@pytest.mark.parametrize("rule,mutate", CASES, ids=[f"{r}-{m.__name__}" for r, m in CASES])
def test_each_rule_can_fail(tmp_path, rule, mutate):
    lines = good_stream()
    mutate(lines)
    found = violations(tmp_path, lines)
    assert rule in found, found
    assert alcor.EVIDENCE.get(rule) or rule.startswith("A-")


def test_every_rule_of_the_contract_has_a_failing_example():
    """The rules stated in code (R-...) are all exercised above."""
    stated = {r for r in alcor.EVIDENCE if r.startswith("R-") and r not in alcor.INFORMATIONAL}
    assert stated <= {rule for rule, _ in CASES}, stated - {rule for rule, _ in CASES}


def test_schema_tag_and_placeholder_substitution(tmp_path):
    """A placeholder validates as a UUID; a broken value reports the schema's own tag."""
    lines = good_stream()
    inner(find(lines, "port", lambda x: "capture" not in x))["mac_address"] = "zz"
    write(tmp_path, lines)
    report = alcor.check(tmp_path)
    assert set(report.violations) == {"A-PORT-MAC"}
    assert "line 17" in report.violations["A-PORT-MAC"].example
    assert report.checked == len(lines)


def test_missing_stream_is_a_violation(tmp_path):
    assert "STREAM-FORMAT" in alcor.check(tmp_path).violations


# --- the real exports pass ---------------------------------------------------------------

def export(tables, out, params=None):
    out.mkdir(parents=True, exist_ok=True)
    return export_alcor.write(build_topology(tables, require_fabric=False), out, params or {})


def test_small_dc_export_passes(tmp_path):
    export(small_dc(), tmp_path)
    report = alcor.check(tmp_path)
    assert report.ok, report.to_dict()
    assert report.checked > 20


def test_sample_export_passes(tmp_path, sample_tables):  # noqa: F811
    summary = export(sample_tables, tmp_path)
    report = alcor.check(tmp_path)
    assert report.ok, report.to_dict()["violations"]
    assert report.checked == summary["requests"] > 5000


def test_schema_checked_in_the_reading_pass_equals_the_separate_pass(tmp_path):
    """The schema findings gathered while reading the stream (one parse per line) equal a
    separate schema pass over the file, placeholders included."""
    lines = good_stream()
    port_vif(lines)
    write(tmp_path, lines)
    found: list = []
    alcor.read_stream(tmp_path / alcor.STREAM, alcor.ConsumerReport("alcor", "requests"), found)
    assert found and found == alcor.schema_violations(tmp_path / alcor.STREAM)
    assert any(b"{{" in raw for raw in (tmp_path / alcor.STREAM).read_bytes().splitlines())


def test_cli_validated_sample_with_derived_fabric_then_planted_violation(tmp_path, sample_tables):  # noqa: F811
    """`dcnet export --input <validated> --derive-fabric` then `dcnet check-export -c alcor`:
    0 violations, exit 0; one planted violation: exit 1, the rule printed and reported."""
    import json

    from typer.testing import CliRunner

    from pipeline import io
    from pipeline.cli import app

    io.write_tables(sample_tables, tmp_path / "validated")
    out = tmp_path / "export"
    res = CliRunner().invoke(app, ["export", "-f", "alcor", "--input", str(tmp_path / "validated"),
                                   "--derive-fabric", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "alcor: left out:" in res.output  # the reasons are printed
    res = CliRunner().invoke(app, ["check-export", str(out), "-c", "alcor"])
    assert res.exit_code == 0, res.output
    stream = out / "alcor" / "alcor_requests.ndjson"
    lines = stream.read_bytes().splitlines()
    bad = orjson.loads(lines[-1])
    bad["path"] = "/v2.0/floatingips"
    stream.write_bytes(b"\n".join(lines[:-1] + [orjson.dumps(bad)]) + b"\n")
    res = CliRunner().invoke(app, ["check-export", str(out), "-c", "alcor"])
    assert res.exit_code == 1
    assert "R-SVC-NEUTRON" in res.output
    found = json.loads((out / "_check_report.json").read_text())["consumers"][0]["violations"]
    assert found["R-SVC-NEUTRON"]["count"] == 1 and "A-ENDPOINT" in found


def test_synthetic_data_center_export_passes(tmp_path, sample_tables):  # noqa: F811
    synth = pytest.importorskip("pipeline.synthesize")
    tables = synth.generate(synth.learn(sample_tables), {"synthesize": {"seed": 5, "hosts": 60,
                                                                        "projects": 20}})
    summary = export(tables, tmp_path)
    report = alcor.check(tmp_path)
    assert report.ok, report.to_dict()["violations"]
    assert report.checked == summary["requests"] > 500


def test_malformed_values_never_crash_the_checker(tmp_path):
    """Every key of every line (the line, its body, the object in it) set to a value of another
    JSON type: the checker reports, it never raises."""
    base = good_stream()
    runs = 0
    for i, ln in enumerate(base):
        places = [("line", k) for k in ln] + [("body", k) for k in ln["body"]]
        if inner(ln) is not ln["body"]:
            places += [("inner", k) for k in inner(ln)]
        for where, key in places:
            for value in ([[1]], None, 5, {}):
                lines = copy.deepcopy(base)
                target = {"line": lines[i], "body": lines[i]["body"]}.get(where) or inner(lines[i])
                target[key] = value
                write(tmp_path, lines)
                alcor.check(tmp_path)
                runs += 1
    assert runs > 500


def test_stream_without_phases_is_checked_in_order(tmp_path):
    """An older stream without `phase`/`resource`: a format violation per line, and the rules
    still run, each line being its own phase."""
    lines = good_stream()
    rif_port(lines)
    for x in lines:
        del x["phase"], x["resource"]
    found = violations(tmp_path, lines)
    assert found["STREAM-FORMAT"] == len(lines)
    assert found["R-RIF-BY-SUBNET"] == 1
    assert "R-PHASE-ORDER" not in found  # stream order is a valid order here


def test_unusual_data_is_adapted_counted_and_passes(tmp_path):
    """Values Alcor cannot take, each adapted or left out with a counted reason, and the
    stream still passes every rule."""
    tables = small_dc()
    nets, subnets, hosts = tables["networks"], tables["subnets"], tables["hosts"]
    nets.loc[nets["id"] == "net-b", "network_type"] = "geneve"
    nets.loc[nets["id"] == "net-a", "cidr"] = "10.99.0.0/16"  # its subnet lies outside
    subnets.loc[subnets["id"] == "sub-ext", "cidr"] = "203.0.113.0/30"  # prefix Alcor refuses
    hosts.loc[hosts["node_name"] == "cn05", "node_name"] = "cn 05&x"
    hosts["ncm_id"] = ""
    rules = tables["security_group_rules"]
    rules.loc[rules["id"] == "r1", "protocol"] = "6"
    rules.loc[rules["id"] == "r3", "protocol"] = "sctp"
    summary = export(tables, tmp_path)
    report = alcor.check(tmp_path)
    assert report.ok, report.to_dict()["violations"]
    changed, left = summary["changed"], summary["left_out"]
    assert changed["network type 'geneve' not an Alcor type: provider fields left out"] == 1
    assert changed["VPC cidr left out: a subnet lies outside it (R-SUBNET-INSIDE)"] == 1
    assert left["subnet cidr not IPv4 /16../28"] == 1
    assert left["host whose node_name has URL-unsafe characters (R-NODE-NAME-URL)"] == 1
    assert changed["binding:host_id naming no registered node omitted (R-NODE-NAME)"] == 2
    assert left["rule protocol 'sctp' not mapped by Alcor's data plane (A-SGR-PROTO)"] == 1
    reqs = [orjson.loads(x) for x in (tmp_path / "alcor_requests.ndjson").read_bytes().splitlines()]
    assert not [r for r in reqs if r["resource"] == "ncm"]
    r1 = next(r["body"]["security_group_rule"] for r in reqs if r["resource"] == "security_group_rule"
              and r["body"]["security_group_rule"]["id"] == "r1")
    assert r1["protocol"] == "tcp"
