"""distrinet: the Mininet/Distrinet topology module loaded and built as `mn`/`dmn` do.

The module (`mininet/dcnet_topo.py`) is exec'd from its file like `mn --custom F` (mininet
bin/mn:188-196, Distrinet mininet/bin/dmn:233-239), its `topos` dict read, and the topology
built with mininet's own `buildTopo`, then every node and link is checked against what
Distrinet does with it: its `addLink` call, LXD container names, interface names, dpids,
addresses. Needs the `mininet` package (a dev dependency of dcnet).
"""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.check_export.core import ConsumerReport, free_at_exit, interface_version

MODULE = "dcnet_topo.py"
TOPO = "dcnet"
LXD_NAME = re.compile(r"^[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
MAC = re.compile(r"^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$")
IFNAMSIZ = 15  # Linux interface names: at most 15 characters
_D = "Distrinet mininet/mininet/"
EVIDENCE = {
    "D-LOAD": "mininet bin/mn:188-196, Distrinet mininet/bin/dmn:233-239 (exec of the file, then "
              "`topos`); mininet mininet/util.py:675-682 (buildTopo)",
    "D-LINK-PARAMS": _D + "distrinet.py:377 `options = dict( params )` and :405 `cls( node1=node1, "
                     "node2=node2, params1=params1, params2=params2, **options )`: params1/params2 "
                     "in the link options raise TypeError (multiple values)",
    "D-NAME-LXD": _D + "lxc_container.py:346 `lxc init {image} {name}`: LXD names are 1-63 letters, "
                  "digits and dashes, not starting with a digit or dash, not ending with a dash "
                  "(LXD docs, instance name requirements)",
    "D-INTF-LEN": _D + "cloudlink.py:132 `node.name + '-eth' + repr( n )` and lxc_container.py:385 "
                  "`lxc network attach ... {intfName}`: Linux interface names have at most 15 "
                  "characters",
    "D-DPID": _D + "cloudswitch.py:41 `assert len( dpid ) <= self.dpidLen and int( dpid, 16 ) >= 0` "
              "(16 hex digits)",
    "D-IP": "mininet mininet/link.py:76 Intf.setIP: `ip` is 'a.b.c.d/len' (IPv4 interface address)",
    "D-MAC": "mininet mininet/link.py:90 Intf.setMAC: `mac`/`addr1`/`addr2` are xx:xx:xx:xx:xx:xx",
    "D-BW": _D + "mapper/mapper.py:231 `return d[\"bw\"]`: Distrinet's placement reads the bandwidth "
            "of every link between two switches",
}


def load_topo(path: Path, report: ConsumerReport):
    """The built Topo, or None (the failure reported as D-LOAD)."""
    try:
        from mininet.util import buildTopo
    except ImportError:
        from pipeline.errors import InputError

        raise InputError("the distrinet check builds the topology with the `mininet` package: "
                         "pip install mininet==2.3.0.dev6") from None
    customs: dict = {}
    try:
        code = compile(path.read_text(), str(path), "exec")
        exec(code, customs, customs)  # noqa: S102 - exactly how mn/dmn load a custom file
        return buildTopo(customs["topos"], TOPO)
    except Exception as e:  # noqa: BLE001 - any failure here is what mn would hit
        report.violate("D-LOAD", f"{path.name}: {type(e).__name__}: {e}", EVIDENCE["D-LOAD"])
        return None


def check(folder: Path) -> ConsumerReport:
    report = ConsumerReport(consumer="distrinet", unit="nodes and links")
    path = Path(folder) / MODULE
    if not path.is_file():
        report.violate("D-LOAD", f"{folder}: no {MODULE}", EVIDENCE["D-LOAD"])
        return report
    topo = load_topo(path, report)
    if topo is None:
        return report
    # mininet's natural sort of names takes seconds on 10^5 nodes and is not needed here
    nodes = topo.nodes(sort=False)
    switches = set(topo.switches(sort=False))
    links = list(topo.links(sort=False, withInfo=True))
    _check_nodes(topo, nodes, switches, report)
    _check_links(links, switches, report)
    report.checked = len(nodes) + len(links)
    free_at_exit(topo, nodes, switches, links)
    return report


def _ip_ok(text) -> bool:
    return interface_version(str(text)) == 4


def _check_nodes(topo, nodes: list, switches: set, report: ConsumerReport) -> None:
    for name in nodes:
        info = topo.nodeInfo(name)
        if not LXD_NAME.match(name):
            report.violate("D-NAME-LXD", f"node {name!r}", EVIDENCE["D-NAME-LXD"])
        ports = topo.ports.get(name, {})
        if ports:
            longest = f"{name}-eth{max(ports)}"
            if len(longest) > IFNAMSIZ:
                report.violate("D-INTF-LEN", f"{longest} ({len(longest)} characters)", EVIDENCE["D-INTF-LEN"])
        if name in switches and info.get("dpid") is not None:
            dpid = str(info["dpid"]).replace(":", "")
            if len(dpid) > 16 or not re.fullmatch(r"[0-9A-Fa-f]+", dpid):
                report.violate("D-DPID", f"switch {name}: dpid {info['dpid']!r}", EVIDENCE["D-DPID"])
        if info.get("ip") is not None and not _ip_ok(info["ip"]):
            report.violate("D-IP", f"host {name}: ip {info['ip']!r}", EVIDENCE["D-IP"])
        if info.get("mac") is not None and not MAC.match(str(info["mac"])):
            report.violate("D-MAC", f"host {name}: mac {info['mac']!r}", EVIDENCE["D-MAC"])


def _intf_ip(opts: dict, end: str):
    """The address a link gives interface `end` ("1"/"2"): params<end>['ip'], or the `ip`
    keyword of a cls<end> interface constructor (functools.partial)."""
    params = opts.get("params" + end)
    if isinstance(params, dict) and "ip" in params:
        return params["ip"]
    cls = opts.get("cls" + end)
    keywords = getattr(cls, "keywords", None)
    return keywords.get("ip") if isinstance(keywords, dict) else None


def _check_links(links: list, switches: set, report: ConsumerReport) -> None:
    for a, b, opts in links:
        # Distrinet's buildFromTopo calls addLink(**info): node1/node2/port1/port2 are its own
        # arguments, every other key becomes an option passed on beside params1/params2
        for key in ("params1", "params2"):
            if key in opts:
                report.violate("D-LINK-PARAMS", f"link {a}-{b}: option {key}={opts[key]!r}",
                               EVIDENCE["D-LINK-PARAMS"])
        for end in ("1", "2"):
            ip = _intf_ip(opts, end)
            if ip is not None and not _ip_ok(ip):
                report.violate("D-IP", f"link {a}-{b}: interface {end} ip {ip!r}", EVIDENCE["D-IP"])
            mac = opts.get("addr" + end)
            if mac is not None and not MAC.match(str(mac)):
                report.violate("D-MAC", f"link {a}-{b}: addr{end} {mac!r}", EVIDENCE["D-MAC"])
        if a in switches and b in switches and opts.get("bw") is None:
            report.violate("D-BW", f"link {a}-{b} between two switches has no bw", EVIDENCE["D-BW"])
