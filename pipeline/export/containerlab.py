"""containerlab topology (`containerlab deploy -t dcnet.clab.yml`).

Output (folder `containerlab/`):
- dcnet.clab.yml: YAML in its JSON form (JSON is YAML's flow style; containerlab's YAML parser
  reads it, and a JSON parser loads a 2,500-node part in milliseconds), one node or link per
  line, with `linux` nodes for VMs (image `containerlab_image`), `bridge` (or
  `ovs-bridge`, param `containerlab_switch_kind`) nodes for compute-host switches and fabric
  switches, and links. VM links are typed veth links whose VM endpoint carries the port's MAC;
  switch-switch links use the short `endpoints` form. A VM's addresses are set by its node's
  `exec` commands (`ip addr add A/N dev ethK`, `ip -6 addr add ...`), which containerlab runs in
  every container after the links are up: endpoint `ipv4`/`ipv6` keys are applied by a few
  vendor kinds only, never by `linux` nodes, and containerlab releases before 0.71 refuse them.
  Every lab file has its own `mgmt` network (`<lab>-mgmt`) with an IPv4 subnet sized to its node
  count, taken in order from `containerlab_mgmt_ipv4_base` (default 100.64.0.0/10), skipping
  blocks that overlap the VMs' own subnets or containerlab's default 172.20.20.0/24: without it
  every lab shares containerlab's default /24, far too small for thousands of containers.
- dcnet.bridges.sh: creates the Linux/OVS bridges the lab expects (containerlab does not create
  bridge nodes itself), with STP on because the fabric has loops.
- names.csv: node name -> label, kind, role, id, real name (also in each node's labels).

Names: nodes use the generated short names of pipeline/export/topology (a bridge node is a Linux
interface, so its name must stay short). Bridge-side interface names must be unique on the host
and at most 15 characters: `<node>e<n>`, n counted per node over the whole topology. VM-side
interfaces are eth1, eth2, ... (eth0 is containerlab's management interface).

Size limit: one lab holds at most `containerlab_max_nodes` nodes (every node is a container or
a bridge on one machine). Above it the topology is split, never truncated
(pipeline.export.topology.partitions): dcnet-partNNN.clab.yml files, each holding whole racks/pods
(or, for very large racks, whole compute hosts) plus the upper fabric switches they link to,
repeated under the same names in every part that needs them. Every other node and every link is
in exactly one part; parts.json lists the parts. Deployed on one machine, the repeated bridges
are the same Linux bridge, so the parts join into one fabric; on several machines each part is
a self-contained slice.
"""

from __future__ import annotations

import ipaddress
import json
import re
from bisect import bisect_right
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipeline.export.wire import dumps_pretty
from pipeline.export.topology import Topology, partitions, pylist
from pipeline.params import default

LAB = "dcnet"
SAFE = re.compile(r"^[a-z][a-z0-9-]*$")
DEFAULT_MAX_NODES = default("export.containerlab_max_nodes")
DEFAULT_IMAGE = default("export.containerlab_image")
SWITCH_KINDS = ("bridge", "ovs-bridge")
DEFAULT_SWITCH_KIND = default("export.containerlab_switch_kind")
DEFAULT_MGMT_BASE = default("export.containerlab_mgmt_ipv4_base")  # RFC 6598, see params.py
CLAB_DEFAULT_MGMT = ipaddress.ip_network("172.20.20.0/24")  # containerlab core/config.go:35


# Raw characters YAML does not allow in a stream (c-printable, YAML 1.2 section 5.1), and the
# ones libyaml-derived parsers (go-yaml, PyYAML) read as line breaks (NEL, LS, PS): escaped.
_NOT_YAML_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return "\\uFFFD" if 0xD800 <= code <= 0xDFFF else "\\u%04X" % code  # a lone surrogate cannot be encoded


def jq(value) -> str:
    """A string that is the same scalar in JSON and in YAML: a JSON string with non-ASCII kept
    raw (go-yaml refuses `\\uD83D`-style surrogate escapes, so astral characters stay UTF-8),
    and the characters YAML forbids raw escaped as `\\uXXXX` (valid in both)."""
    text = str(value)
    if _PLAIN.fullmatch(text):  # most names: nothing to escape
        return '"' + text + '"'
    return _NOT_YAML_PRINTABLE.sub(_escape, json.dumps(text, ensure_ascii=False))


_PLAIN_CHAR = r'[ !#-\[\]-~]'  # printable ASCII except " and backslash (Python re and RE2)
_PLAIN = re.compile(_PLAIN_CHAR + "*")
_JQ_NONE = '"None"'  # jq(None)


class _Cols:
    """The topology's columns as Python lists, and every node's and link's JSON text, computed
    once for every lab file (whole columns at a time: per-row formatting was most of the time)."""

    def __init__(self, topo: Topology, sw_kind: str = DEFAULT_SWITCH_KIND):
        n, l = topo.nodes, topo.links
        self.short, self.kind, self.role = pylist(n["short"]), pylist(n["kind"]), pylist(n["role"])
        self.ref, self.name = pylist(n["ref_id"]), pylist(n["name"])
        idx = dict(zip(pylist(n["key"]), range(len(n))))
        self.src = [idx[k] for k in pylist(l["src"])]
        self.dst = [idx[k] for k in pylist(l["dst"])]
        self.lkind = pylist(l["kind"])
        none = [None] * len(l)
        self.mac = pylist(l["mac"]) if "mac" in l else none
        self.ip4 = pylist(l["ip"]) if "ip" in l else none
        self.ip6 = pylist(l["ip6"]) if "ip6" in l else none
        for s_ in self.short:
            if not SAFE.match(s_):  # generated names only; a failure here is a bug, not bad data
                raise ValueError(f"unsafe node name {s_!r}")
        self.a_if, self.b_if = self._interfaces()
        self.node_head = self._node_heads(sw_kind)
        self.link_json = self._link_texts()
        self.addr_cmds = self._address_cmds()

    def _interfaces(self) -> tuple[list[str], list[str]]:
        """Interface names (see the module doc): the k-th link end of a node is eth<k> in a VM,
        <node>e<k> on a bridge, k counted over the links in order, a link's src end first."""
        ends = np.empty(2 * len(self.src), dtype=np.int64)
        ends[0::2], ends[1::2] = self.src, self.dst
        order = np.argsort(ends, kind="stable")
        ranked = ends[order]
        first = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]]) if len(ends) else ends
        sizes = np.diff(np.r_[first, len(ends)])
        nth = np.empty(len(ends), dtype=np.int64)
        nth[order] = np.arange(len(ends)) - np.repeat(first, sizes) + 1
        names = [f"eth{k}" if self.kind[node] == "vm" else f"{self.short[node]}e{k}"
                 for node, k in zip(ends.tolist(), nth.tolist())]
        return names[0::2], names[1::2]

    def _node_heads(self, sw_kind: str) -> list[str]:
        """Each node's mapping entry up to its labels' closing brace (the `exec` and the final
        brace are added per lab file)."""
        roles, refs, names = _jq_all(self.role), _jq_all(self.ref), _jq_all(self.name)
        return [f'"{short}": {{"kind": "{"linux" if k == "vm" else sw_kind}", "labels": '
                f'{{"dcnet.kind": "{k}", "dcnet.role": {role}'
                + (f', "dcnet.id": {ref_q}' if ref else "")
                + (f', "dcnet.name": {name_q}' if name else "") + "}"
                for short, k, role, ref, ref_q, name, name_q
                in zip(self.short, self.kind, roles, self.ref, refs, self.name, names)]

    def _link_texts(self) -> list[str]:
        macs = _jq_all(self.mac)
        out = []
        for src, dst, kind, a_if, b_if, mac, mac_q in zip(self.src, self.dst, self.lkind, self.a_if,
                                                          self.b_if, self.mac, macs):
            a, b = self.short[src], self.short[dst]
            if kind != "nic":
                out.append(f'{{"endpoints": ["{a}:{a_if}", "{b}:{b_if}"]}}')
                continue
            mac_part = f', "mac": {mac_q}' if mac is not None else ""
            out.append(f'{{"type": "veth", "endpoints": [{{"node": "{a}", "interface": "{a_if}"'
                       f'{mac_part}}}, {{"node": "{b}", "interface": "{b_if}"}}]}}')
        return out

    def _address_cmds(self) -> list[str]:
        """The `exec` entries (JSON text) of each NIC link's addresses, "" for other links."""
        nic = [kind == "nic" for kind in self.lkind]
        v4 = [f"ip addr add {ip} dev {intf}" if is_nic and ip is not None else None
              for is_nic, ip, intf in zip(nic, self.ip4, self.a_if)]
        v6 = [f"ip -6 addr add {ip} dev {intf}" if is_nic and ip is not None else None
              for is_nic, ip, intf in zip(nic, self.ip6, self.a_if)]
        return [q4 + ", " + q6 if c4 is not None and c6 is not None
                else q4 if c4 is not None else q6 if c6 is not None else ""
                for c4, q4, c6, q6 in zip(v4, _jq_all(v4), v6, _jq_all(v6))]


_QUOTE, _EMPTY = pa.scalar('"', pa.large_string()), pa.scalar("", pa.large_string())


def _jq_all(values: list) -> list[str]:
    """[jq(v) for v in values], the strings that need no escaping quoted in one Arrow pass."""
    try:
        arr = pa.array(values, pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all strings: one by one
        return [jq(v) for v in values]
    plain = pc.fill_null(pc.match_substring_regex(arr, "^" + _PLAIN_CHAR + "*$"), False)
    quoted = pc.if_else(plain, pc.binary_join_element_wise(_QUOTE, arr, _QUOTE, _EMPTY), None).to_pylist()
    return [q if q is not None else jq(v) if v is not None else _JQ_NONE
            for q, v in zip(quoted, values)]


def address_commands(c: _Cols, link_rows) -> dict[int, list[str]]:
    """{VM node row: its `exec` commands as JSON strings}: one `ip addr add` per NIC address,
    in link order."""
    cmds: dict[int, list[str]] = {}
    for r in link_rows:
        if c.addr_cmds[r]:
            cmds.setdefault(c.src[r], []).append(c.addr_cmds[r])
    return cmds


def _node_json(c: _Cols, i: int, commands: list[str] | None) -> str:
    return c.node_head[i] + (f', "exec": [{", ".join(commands)}]}}' if commands else "}")


def lab_text(c: _Cols, name: str, node_rows, link_rows, params: dict, mgmt_subnet,
             note: str = "") -> str:
    """The lab file: YAML in its JSON form (JSON is YAML 1.2 flow style, which containerlab's
    YAML parser reads), one node or link per line. Checkers and tools load it with a JSON parser
    in milliseconds where a YAML parser in Python takes seconds per 2,500 nodes."""
    image = str(params.get("containerlab_image", DEFAULT_IMAGE))
    exec_of = address_commands(c, link_rows)
    nodes = ",\n".join(f"   {_node_json(c, i, exec_of.get(i))}" for i in node_rows)
    links = ",\n".join(f"   {c.link_json[r]}" for r in link_rows)
    return (f"# dcnet data center for containerlab (generated by `dcnet export`).{note}\n"
            f"# Create the bridges first: sudo sh {name}.bridges.sh\n"
            f"# YAML in JSON form: one node or link per line.\n"
            f'{{"name": "{name}",\n'
            f' "mgmt": {{"network": "{name}-mgmt", "ipv4-subnet": "{mgmt_subnet}"}},\n'
            f' "topology": {{\n'
            f'  "kinds": {{"linux": {{"image": {jq(image)}}}}},\n'
            f'  "nodes": {{\n{nodes}\n  }}' + (f',\n  "links": [\n{links}\n  ]' if link_rows else "")
            + "\n }\n}\n")


def _data_ranges(c: _Cols) -> tuple[list[int], list[int]]:
    """The VMs' own IPv4 networks (and containerlab's default mgmt /24) as sorted, merged
    [start, end] ranges: a management subnet overlapping them would clash inside the VMs."""
    found = {(int(CLAB_DEFAULT_MGMT.network_address), int(CLAB_DEFAULT_MGMT.broadcast_address))}
    found.update(_ipv4_network_ranges([ip for ip in c.ip4 if ip is not None]))
    ranges = sorted(r for r in found if r is not None)
    starts, ends = [], []
    for lo, hi in ranges:
        if starts and lo <= ends[-1] + 1:
            ends[-1] = max(ends[-1], hi)
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


# a.b.c.d/len without leading zeros: the common case, computed for a whole column at once
_IPV4_CIDR_RE2 = (r"^(?P<a>0|[1-9]\d{0,2})\.(?P<b>0|[1-9]\d{0,2})\.(?P<c>0|[1-9]\d{0,2})\."
                  r"(?P<d>0|[1-9]\d{0,2})/(?P<len>0|[1-9]\d?)$")


def _ipv4_network_ranges(texts: list[str]) -> list[tuple[int, int] | None]:
    """[_ipv4_network_range(t) for t in texts], the plain a.b.c.d/len ones in one Arrow/numpy
    pass (10^5-10^6 addresses per export), any other text through _ipv4_network_range."""
    try:
        arr = pa.array(texts, pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return [_ipv4_network_range(t) for t in texts]
    parts = pc.extract_regex(arr, _IPV4_CIDR_RE2)
    matched = pc.is_valid(parts).to_numpy(zero_copy_only=False)
    fields = {name: pc.cast(pc.fill_null(pc.struct_field(parts, name), "0"), pa.int64()).to_numpy()
              for name in ("a", "b", "c", "d", "len")}
    octets = np.stack([fields[k] for k in "abcd"])
    plain = matched & (octets.max(axis=0) <= 255) & (fields["len"] <= 32)
    address = (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]
    size = np.left_shift(1, 32 - np.minimum(fields["len"], 32))
    first = address - address % size
    out = list(zip(first.tolist(), (first + size - 1).tolist()))
    for i in np.flatnonzero(~plain).tolist():
        out[i] = _ipv4_network_range(texts[i])
    return out


_IPV4_CIDR = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})")


def _ipv4_network_range(text: str) -> tuple[int, int] | None:
    """[first, last] address of an IPv4 interface's network; None for anything else. The usual
    a.b.c.d/len is computed without ipaddress objects (10^5-10^6 addresses per export)."""
    m = _IPV4_CIDR.fullmatch(text)
    if m and not any(len(g) > 1 and g[0] == "0" for g in m.groups()):
        *octets, prefix = map(int, m.groups())
        if max(octets) <= 255 and prefix <= 32:
            address = (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]
            size = 1 << (32 - prefix)
            first = address - address % size
            return first, first + size - 1
    try:
        net = ipaddress.ip_interface(text).network
    except ValueError:
        return None
    return (int(net.network_address), int(net.broadcast_address)) if net.version == 4 else None


def mgmt_subnets(c: _Cols, part_sizes: list[int], params: dict) -> list[ipaddress.IPv4Network]:
    """One management subnet per lab file, in order from the base, each holding the file's
    nodes plus network, broadcast and gateway addresses; distinct, never overlapping the data."""
    from pipeline.errors import InputError

    base_text = params.get("containerlab_mgmt_ipv4_base") or DEFAULT_MGMT_BASE
    try:
        base = ipaddress.ip_network(str(base_text))
    except ValueError:
        base = None
    if base is None or base.version != 4:
        raise InputError(f"params export.containerlab_mgmt_ipv4_base {base_text!r}: need an IPv4 "
                         f"network such as {DEFAULT_MGMT_BASE}")
    starts, ends = _data_ranges(c)
    out, cursor, top = [], int(base.network_address), int(base.broadcast_address)
    for nodes in part_sizes:
        size = 1 << max(2, (nodes + 3 - 1).bit_length())  # + network, broadcast, gateway
        cursor = -(-cursor // size) * size  # align
        while cursor + size - 1 <= top:
            k = bisect_right(starts, cursor + size - 1) - 1
            if k < 0 or ends[k] < cursor:
                break
            cursor = -(-(ends[k] + 1) // size) * size  # skip past the overlapping data range
        if cursor + size - 1 > top:
            raise InputError(f"params export.containerlab_mgmt_ipv4_base {base}: too small for "
                             f"{len(part_sizes)} lab management networks ({sum(part_sizes):,} nodes) "
                             f"beside the data's own subnets; give a larger base")
        out.append(ipaddress.ip_network((cursor, 32 - (size.bit_length() - 1))))
        cursor += size
    return out


def bridges_script(c: _Cols, node_rows, sw_kind: str) -> str:
    lines = ["#!/bin/sh", "# Bridges for the dcnet lab (generated by `dcnet export`); STP on: the "
             "fabric has loops.", "set -e"]
    for i in node_rows:
        if c.kind[i] == "vm":
            continue
        n = c.short[i]
        if sw_kind == "ovs-bridge":
            lines.append(f"ovs-vsctl --may-exist add-br {n} -- set bridge {n} stp_enable=true")
        else:
            lines.append(f"ip link show {n} >/dev/null 2>&1 || ip link add name {n} type bridge stp_state 1")
            lines.append(f"ip link set {n} up")
    return "\n".join(lines) + "\n"


def write(topo: Topology, out: Path, params: dict) -> dict:
    return finish(out, [write_group(topo, out, params, 0, 1)])


def write_group(topo: Topology, out: Path, params: dict, group: int, groups: int) -> dict:
    """The lab files of parts group, group + groups, ... (one of `groups` tasks that write the
    parts side by side; group 0 also writes names.csv). Returns what `finish` needs of them."""
    from pipeline.errors import InputError

    sw_kind = params.get("containerlab_switch_kind", DEFAULT_SWITCH_KIND)
    if sw_kind not in SWITCH_KINDS:
        raise InputError(f"params export.containerlab_switch_kind must be one of "
                         f"{', '.join(SWITCH_KINDS)}, got {sw_kind!r}")
    max_nodes = int(params.get("containerlab_max_nodes", DEFAULT_MAX_NODES))
    if groups > 1:  # the groups of one export that a worker runs share the columns and parts
        cols, parts = topo.cached(("containerlab", sw_kind, max_nodes),
                                  lambda: (_Cols(topo, sw_kind), partitions(topo, max_nodes)))
    else:
        cols, parts = _Cols(topo, sw_kind), partitions(topo, max_nodes)
    if group == 0:
        (out / "names.csv").write_text(topo.names_csv())
    addresses = {"VM addresses set by node exec (ip addr add), not endpoint ipv4/ipv6 keys":
                 sum(x is not None for x in cols.ip4) + sum(x is not None for x in cols.ip6)}
    result = {"max_nodes": max_nodes, "nodes": len(topo.nodes), "links": len(topo.links),
              "changed": _nonzero(addresses), "parts": {}}
    if parts is None:
        result["single"] = True
        rows = list(range(len(topo.nodes)))
        links = list(range(len(topo.links)))
        (subnet,) = mgmt_subnets(cols, [len(rows)], params)
        result["mgmt_ipv4_subnets"] = [str(subnet)]
        if group == 0:
            (out / f"{LAB}.clab.yml").write_text(lab_text(cols, LAB, rows, links, params, subnet))
            (out / f"{LAB}.bridges.sh").write_text(bridges_script(cols, rows, sw_kind))
        return result
    subnets = mgmt_subnets(cols, [len(rows) for rows, _ in parts], params)
    result["mgmt_ipv4_subnets"] = [str(s_) for s_ in subnets]
    for p in range(group + 1, len(parts) + 1, groups):
        (rows, links), subnet = parts[p - 1], subnets[p - 1]
        name = f"{LAB}-part{p:03d}"
        note = (f" Part {p} of {len(parts)}: the topology has {len(topo.nodes)} nodes, above "
                f"containerlab_max_nodes={max_nodes}; see parts.json.")
        (out / f"{name}.clab.yml").write_text(lab_text(cols, name, rows, links, params, subnet, note))
        (out / f"{name}.bridges.sh").write_text(bridges_script(cols, rows, sw_kind))
        result["parts"][p] = ({"file": f"{name}.clab.yml", "nodes": len(rows), "links": len(links),
                               "mgmt_network": f"{name}-mgmt", "mgmt_ipv4_subnet": str(subnet)},
                              [cols.short[i] for i in rows])
    return result


def finish(out: Path, results: list[dict]) -> dict:
    """parts.json and the format's summary from every group's result (any order)."""
    head = results[0]
    if head.get("single"):
        return {"files": [f"{LAB}.bridges.sh", f"{LAB}.clab.yml", "names.csv"],
                "nodes": head["nodes"], "links": head["links"], "parts": 1,
                "mgmt_ipv4_subnets": head["mgmt_ipv4_subnets"], "changed": head["changed"]}
    parts = {p: entry for r in results for p, entry in r["parts"].items()}
    index = [parts[p][0] for p in sorted(parts)]
    files = ["names.csv", "parts.json"]
    for entry in index:
        files += [entry["file"][: -len(".clab.yml")] + ".bridges.sh", entry["file"]]
    # a node named in more than one part: the upper fabric switches each part repeats
    repeated = set()
    seen = set()
    for p in sorted(parts):
        keys = parts[p][1]
        repeated |= seen & set(keys)
        seen |= set(keys)
    (out / "parts.json").write_bytes(dumps_pretty({
        "max_nodes": head["max_nodes"], "total_nodes": head["nodes"], "total_links": head["links"],
        "parts": index, "repeated_switches": sorted(repeated)}))
    return {"files": sorted(files), "nodes": head["nodes"], "links": head["links"],
            "parts": len(index), "repeated_switches": len(repeated),
            "mgmt_ipv4_subnets": head["mgmt_ipv4_subnets"], "changed": head["changed"]}


def _nonzero(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if v}
