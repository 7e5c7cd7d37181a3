"""containerlab: every `*.clab.yml` of the folder checked against containerlab's contract.

Each lab file is validated against containerlab's own JSON Schema (vendored
`containerlab.schema.json`, Draft 7), then against rules from containerlab's code: management
networks, endpoints, interface names, the addresses of `linux` nodes, `exec` commands and the
bridges that `bridge` nodes need.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import shlex
from pathlib import Path

from pipeline.check_export.core import ConsumerReport, RuleCount, interface_version, load_contract
from pipeline.check_export.fastschema import compile_gate

IFNAMSIZ = 15
SWITCH_KINDS = ("bridge", "ovs-bridge")
_C = "containerlab "
EVIDENCE = {
    "C-FILE": _C + "core/file.go:103 (a deploy reads one *.clab.yml topology file; the folder has none)",
    "C-YAML": _C + "core/file.go:103 `yaml.UnmarshalStrict` (the file must parse)",
    "C-SCHEMA": _C + "schemas/clab.schema.json (vendored as schemas/consumers/containerlab.schema.json)",
    "C-MGMT": _C + "core/config.go:35 `dockerNetIPv4Addr = \"172.20.20.0/24\"` used by core/clab.go:219-221 "
              "when the file gives no subnet: a lab needs a mgmt ipv4-subnet holding all its nodes plus "
              "network, broadcast and gateway addresses",
    "C-MGMT-DISTINCT": _C + "runtime/docker/docker.go:345 NetworkCreate, :365-383 (a subnet overlapping "
                       "another Docker network is refused)",
    "C-ENDPOINT-NODE": _C + "links/endpoint_raw.go:41 `unable to find node %s`",
    "C-INTF-UNIQUE": _C + "links/endpoint.go:263-271 `duplicate endpoint %s`",
    "C-IFNAME": _C + "utils/ethtool.go:21,62 (IFNAMSIZ 16: names of host-side interfaces and bridges "
                "at most 15 characters, unique on the host)",
    "C-ETH0": _C + "docs/manual/network.md:539 (the runtime creates eth0 on the management network); "
              "links/ownership.go:55 (eth0 is never a lab link's interface)",
    "C-LINUX-ENDPOINT-IP": _C + "core/file.go:103 `yaml.UnmarshalStrict` (releases before 0.71 refuse "
                           "endpoint ipv4/ipv6); applied only by nodes/{srl,ceos,iol,vyosnetworks_vyos}, "
                           "never by linux nodes",
    "C-EXEC": _C + "nodes/default_node.go:496-507 RunExecFromConfig, exec/exec.go:82 `shlex.Split` "
              "(no shell); `ip addr add A/N dev IF` needs a valid address and an interface of the node",
    "C-BRIDGE-SCRIPT": _C + "links/endpoint_bridge.go:69 `bridge %q referenced in topology but does not "
                       "exist` (dcnet's <lab>.bridges.sh must create every bridge node)",
}
_ADDR_CMD = re.compile(r"^ip(?: -6)? addr add \S+ dev \S+$")


@functools.lru_cache(maxsize=1)
def _gate():
    return compile_gate(load_contract("containerlab.schema.json"))


def _schema_errors(doc) -> list:
    """The schema's errors for `doc` (none without running jsonschema when the fast check passes)."""
    if _gate()(doc):
        return []
    import jsonschema

    return list(jsonschema.Draft7Validator(load_contract("containerlab.schema.json")).iter_errors(doc))


def check(folder: Path) -> ConsumerReport:
    report = ConsumerReport(consumer="containerlab", unit="lab files")
    files = sorted(Path(folder).glob("*.clab.yml"))
    if not files:
        report.violate("C-FILE", f"{folder}: no lab file", EVIDENCE["C-FILE"])
        return report
    subnets: list = []
    owners: dict[str, str] = {}
    for path, (violations, file_subnets, host_ifs) in zip(files, _map(_check_file, files)):
        report.checked += 1
        for rule, found in violations.items():  # merged in file order: first example kept
            entry = report.violations.setdefault(rule, RuleCount(example=found.example,
                                                                 evidence=found.evidence))
            entry.count += found.count
        subnets += file_subnets
        for intf, owner in host_ifs.items():  # host interfaces: unique over all lab files
            first = owners.setdefault(intf, owner)
            if first != owner:
                report.violate("C-IFNAME", f"{owner}:{intf} also used by {first}", EVIDENCE["C-IFNAME"])
    _distinct_subnets(subnets, report)
    return report


def _map(func, files: list) -> list:
    """func over the files, on every core when there are several files (YAML parsing and schema
    checks are CPU-bound; the compiled schema is built once, before forking)."""
    import multiprocessing as mp
    import os

    workers = min(len(files), os.cpu_count() or 1)
    if workers < 2 or "fork" not in mp.get_all_start_methods():
        return [func(f) for f in files]
    _gate()
    with mp.get_context("fork").Pool(workers) as pool:
        return pool.map(func, files, chunksize=1)


def _check_file(path: Path) -> tuple[dict, list, dict]:
    """(violations, [(file, mgmt network, subnet)], {host interface: owner}) of one lab file."""
    part = ConsumerReport(consumer="containerlab", unit="lab files")
    subnets: list = []
    host_ifs: dict[str, str] = {}
    try:
        doc = load_lab(path.read_bytes())
    except ValueError as e:
        part.violate("C-YAML", f"{path.name}: {str(e)[:200]}", EVIDENCE["C-YAML"])
        return part.violations, subnets, host_ifs
    for error in _schema_errors(doc):
        where = "/".join(str(p) for p in error.absolute_path)
        part.violate("C-SCHEMA", f"{path.name}: {where}: {error.message[:200]}", EVIDENCE["C-SCHEMA"])
    if isinstance(doc, dict) and isinstance(doc.get("topology"), dict):
        check_lab(path, doc, part, subnets, host_ifs)
    return part.violations, subnets, host_ifs


def load_lab(data: bytes):
    """A lab file's document. YAML in JSON form (what dcnet writes) is read by the JSON parser,
    about 50x faster than PyYAML, refusing duplicate keys as `yaml.UnmarshalStrict` does; any
    other YAML by PyYAML. ValueError: the file does not parse."""
    import json

    import yaml

    text = data.decode("utf-8", errors="strict") if isinstance(data, bytes) else data
    body = _JSON_START.sub("", text, count=1)
    if body.startswith("{"):
        doc = _fast_json(body)
        if doc is not None:
            return doc
        try:
            return json.loads(body, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError:
            pass  # YAML flow style that is not strict JSON: the YAML parser decides
    try:
        return yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as e:
        raise ValueError(str(e)) from None


# Leading comment lines and blank lines (YAML comments), before a document in JSON form.
_JSON_START = re.compile(r"\A(?:[ \t]*(?:#[^\n]*)?\r?\n)*[ \t]*")


def _fast_json(body: str):
    """The document parsed by orjson when it provably has no duplicate key, else None (the
    exact, ~3x slower path decides). Proof by counting `":`: in orjson's re-encoding it occurs
    once per key plus once per `":` inside a string; in the text the same, plus once per
    duplicate key, as long as every key's colon follows its quote directly and no quote or
    colon inside a string is written as a \\u escape (checked, else None)."""
    import orjson

    if _KEY_SPACE.search(body) or _QUOTE_ESCAPE.search(body):
        return None
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return doc if body.count('":') == orjson.dumps(doc).count(b'":') else None


_KEY_SPACE = re.compile(r'"[ \t\r\n]+:')
_QUOTE_ESCAPE = re.compile(r"\\u00(?:22|3[aA])")


def _unique_keys(pairs: list) -> dict:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        seen: set = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"mapping key {key!r} already defined")
    return doc


def _nodes_links(doc: dict) -> tuple[dict, list]:
    topo = doc["topology"]
    nodes = topo.get("nodes") if isinstance(topo.get("nodes"), dict) else {}
    links = topo.get("links") if isinstance(topo.get("links"), list) else []
    return nodes, links


def _endpoints(link) -> list[tuple[str, str, dict]]:
    """(node, interface, endpoint mapping or {}) for both ends of a link, either form."""
    out = []
    for e in link.get("endpoints") or [] if isinstance(link, dict) else []:
        if isinstance(e, str) and ":" in e:
            node, intf = e.split(":", 1)
            out.append((node, intf, {}))
        elif isinstance(e, dict):
            out.append((str(e.get("node")), str(e.get("interface")), e))
    return out


def check_lab(path: Path, doc: dict, report: ConsumerReport, subnets: list, host_ifs: dict) -> None:
    nodes, links = _nodes_links(doc)
    kind = {n: (v or {}).get("kind") or _default_kind(doc) for n, v in nodes.items()}
    _mgmt(path, doc, len(nodes), report, subnets)
    used: set = set()
    intfs_of: dict[str, set] = {}
    for link in links:
        for node, intf, ep in _endpoints(link):
            if node not in nodes:
                report.violate("C-ENDPOINT-NODE", f"{path.name}: {node}:{intf}", EVIDENCE["C-ENDPOINT-NODE"])
                continue
            if (node, intf) in used:
                report.violate("C-INTF-UNIQUE", f"{path.name}: {node}:{intf}", EVIDENCE["C-INTF-UNIQUE"])
            used.add((node, intf))
            intfs_of.setdefault(node, set()).add(intf)
            if kind[node] in SWITCH_KINDS:
                _host_interface(path, node, intf, report, host_ifs)
            elif kind[node] == "linux":
                if intf == "eth0":
                    report.violate("C-ETH0", f"{path.name}: {node}:eth0", EVIDENCE["C-ETH0"])
                if "ipv4" in ep or "ipv6" in ep:
                    report.violate("C-LINUX-ENDPOINT-IP", f"{path.name}: {node}:{intf}",
                                   EVIDENCE["C-LINUX-ENDPOINT-IP"])
    for name, spec in nodes.items():
        if kind[name] in SWITCH_KINDS and len(name) > IFNAMSIZ:
            report.violate("C-IFNAME", f"{path.name}: bridge {name}", EVIDENCE["C-IFNAME"])
        for cmd in (spec or {}).get("exec") or []:
            _exec(path, name, cmd, intfs_of.get(name, set()), report)
    _bridges_script(path, [n for n in nodes if kind[n] in SWITCH_KINDS], report)


def _default_kind(doc: dict):
    defaults = doc["topology"].get("defaults")
    return defaults.get("kind") if isinstance(defaults, dict) else None


def _mgmt(path: Path, doc: dict, n_nodes: int, report: ConsumerReport, subnets: list) -> None:
    mgmt = doc.get("mgmt") if isinstance(doc.get("mgmt"), dict) else {}
    text = mgmt.get("ipv4-subnet")
    try:
        net = ipaddress.IPv4Network(str(text)) if text else None
    except ValueError:
        net = None
    if net is None:
        report.violate("C-MGMT", f"{path.name}: mgmt ipv4-subnet {text!r} (default /24 holds 253 "
                       f"containers; the file has {n_nodes} nodes)", EVIDENCE["C-MGMT"])
        return
    if net.num_addresses - 3 < n_nodes:
        report.violate("C-MGMT", f"{path.name}: mgmt {net} holds {max(net.num_addresses - 3, 0)} "
                       f"nodes, the file has {n_nodes}", EVIDENCE["C-MGMT"])
    subnets.append((path.name, str(mgmt.get("network") or "clab"), net))


def _distinct_subnets(subnets: list, report: ConsumerReport) -> None:
    ordered = sorted(subnets, key=lambda s: (s[2].network_address, s[0]))
    for (f1, n1, a), (f2, n2, b) in zip(ordered, ordered[1:]):
        if a.overlaps(b) and n1 != n2:
            report.violate("C-MGMT-DISTINCT", f"{f1} ({n1}, {a}) and {f2} ({n2}, {b}) overlap",
                           EVIDENCE["C-MGMT-DISTINCT"])


def _host_interface(path: Path, node: str, intf: str, report: ConsumerReport, host_ifs: dict) -> None:
    """A bridge node's interfaces live on the host: short, and unique over all lab files."""
    if len(intf) > IFNAMSIZ:
        report.violate("C-IFNAME", f"{path.name}: {node}:{intf} ({len(intf)} characters)", EVIDENCE["C-IFNAME"])
    owner = host_ifs.setdefault(intf, f"{path.name}:{node}")
    if owner != f"{path.name}:{node}":
        report.violate("C-IFNAME", f"{path.name}: {node}:{intf} also used by {owner}", EVIDENCE["C-IFNAME"])


def _exec(path: Path, node: str, cmd, intfs: set, report: ConsumerReport) -> None:
    example = f"{path.name}: {node}: {cmd!r}"
    try:
        words = _split(str(cmd))
    except ValueError:
        report.violate("C-EXEC", example, EVIDENCE["C-EXEC"])
        return
    if not words:
        report.violate("C-EXEC", example, EVIDENCE["C-EXEC"])
        return
    if words[0] != "ip" or "addr" not in words:
        return  # other commands: only their shell syntax is checkable here
    text = " ".join(words)
    if not _ADDR_CMD.match(text):
        report.violate("C-EXEC", example, EVIDENCE["C-EXEC"])
        return
    v6 = words[1] == "-6"
    addr, dev = words[-3], words[-1]
    if interface_version(addr) != (6 if v6 else 4) or dev not in intfs:
        report.violate("C-EXEC", example, EVIDENCE["C-EXEC"])


# Words with no quote, backslash or non-ASCII: shlex.split gives what str.split gives (~50x faster).
_PLAIN_WORDS = re.compile(r"[ \t\r\n!#-&(-\[\]-~]*")
def _split(cmd: str) -> list[str]:
    return cmd.split() if _PLAIN_WORDS.fullmatch(cmd) else shlex.split(cmd)


def _bridges_script(path: Path, bridges: list, report: ConsumerReport) -> None:
    if not bridges:
        return
    script = path.with_name(path.name[: -len(".clab.yml")] + ".bridges.sh")
    text = script.read_text() if script.is_file() else ""
    created = set(re.findall(r"ip link add name (\S+) type bridge", text))
    created |= set(re.findall(r"ovs-vsctl --may-exist add-br (\S+)", text))
    missing = [b for b in bridges if b not in created]
    if missing:
        report.violate("C-BRIDGE-SCRIPT", f"{script.name}: does not create {missing[0]} "
                       f"({len(missing)} bridges missing)", EVIDENCE["C-BRIDGE-SCRIPT"])
