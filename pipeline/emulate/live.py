"""Build a plan in real Mininet, wait for it to converge, run probes, tear it all down.

Needs root, Mininet (`mnexec`), iproute2 and iptables. Switches: `lxbr` (a Linux bridge per
network, made with iproute2, no kernel module beyond the bridge) or `ovs-user` (an Open vSwitch
bridge per network on OVS's user-space datapath, no openvswitch kernel module; the OVS daemons
are started for the run when they are not running, and stopped after; TX checksum offload is
turned off on the veths with ethtool, since the user-space datapath forwards partial checksums).

Teardown never uses Mininet's global cleanup (`mn -c` removes every Mininet object on the
machine): it kills the shells of this run's nodes (their namespaces and veth pairs go with
them), deletes this run's bridges, then looks for any link or process left with the run's tag
and removes it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from pipeline.emulate.expected import Probe
from pipeline.emulate.plan import Plan

LEFTOVER_WAIT_S = 10.0  # how long teardown waits for this run's links to be gone
INSTALL_HINT = "apt-get install -y mininet openvswitch-switch iputils-ping iptables ethtool"
SWITCHES = ("lxbr", "ovs-user")
BATCH = 64                    # probes (processes) running at once
PING_WAIT_S = 1
OVS_CTL = "/usr/share/openvswitch/scripts/ovs-ctl"


class EmulationError(Exception):
    """The emulation could not be built (a command failed in a node)."""


def preflight(switch: str) -> str | None:
    """None when this machine can run the emulation, else one line saying why and what to do."""
    if os.geteuid() != 0:
        return f"dcnet emulate must run as root (network namespaces); install: {INSTALL_HINT}"
    missing = [tool for tool in ("mnexec", "ip", "iptables-restore", "ping")
               if shutil.which(tool) is None]
    if switch == "ovs-user":
        missing += [t for t in ("ovs-vsctl", "ovs-vswitchd", "ovsdb-server", "ethtool")
                    if shutil.which(t) is None]
    try:
        import mininet.net  # noqa: F401
    except ImportError:
        missing.append("mininet (python package)")
    if missing:
        return f"Mininet is missing ({', '.join(missing)}): {INSTALL_HINT}"
    return None


def _run(cmd: list[str], check: bool = True) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise EmulationError(f"{' '.join(cmd)}: {(p.stderr or p.stdout).strip()[:300]}")
    return p.stdout


def _switch_classes():
    from mininet.node import OVSSwitch, Switch

    class IpBridge(Switch):
        """A Linux bridge made with iproute2 (Mininet's LinuxBridge needs brctl)."""

        def start(self, controllers):
            self.cmd(f"ip link add name {self.name} type bridge stp_state 0")
            for intf in self.intfList():
                if self.name in intf.name:
                    self.cmd(f"ip link set dev {intf.name} master {self.name} up")
            self.cmd(f"ip link set dev {self.name} up")

        def stop(self, deleteIntfs=True):
            self.cmd(f"ip link del dev {self.name}")
            super().stop(deleteIntfs)

    return {"lxbr": IpBridge, "ovs-user": OVSSwitch}


@dataclass
class Observed:
    reachable: bool
    detail: str


class Emulation:
    """`with Emulation(plan, switch) as emu:` builds and starts; leaving the block tears down."""

    def __init__(self, plan: Plan, switch: str = "lxbr"):
        if switch not in SWITCHES:
            raise ValueError(f"switch must be one of {SWITCHES}")
        self.plan, self.switch = plan, switch
        self.net = None
        self.nodes: dict = {}
        self.switches: dict = {}
        self.pids: list[int] = []
        self.started_ovs = False
        self.timings: dict = {}

    # lifecycle -----------------------------------------------------------------------------
    def __enter__(self):
        try:
            self.start()
        except EmulationError:
            self.stop()
            raise
        except Exception as e:  # Mininet raises bare Exceptions: name the step, keep one line
            self.stop()
            raise EmulationError(f"building the emulation failed: {str(e).strip()[:300]}") from e
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self) -> None:
        from mininet.link import Link
        from mininet.log import setLogLevel
        from mininet.net import Mininet
        from mininet.node import Host

        setLogLevel("error")
        t0 = time.monotonic()
        if self.switch == "ovs-user":
            self._ensure_ovs()
        self.net = Mininet(topo=None, controller=None, switch=_switch_classes()[self.switch],
                           host=Host, link=Link, build=False, autoSetMacs=False,
                           autoStaticArp=False, waitConnected=False)
        sw_opts = {"failMode": "standalone", "datapath": "user"} if self.switch == "ovs-user" else {}
        for i, bridge in enumerate(self.plan.bridges.values(), 1):
            self.switches[bridge] = self.net.addSwitch(bridge, dpid="%016x" % i, **sw_opts)
            self.pids.append(self.switches[bridge].pid)
        for node in self.plan.nodes:
            self.nodes[node.name] = self.net.addHost(node.name, ip=None)
            self.pids.append(self.nodes[node.name].pid)
        for node in self.plan.nodes:
            for intf, bridge, mac in node.links:
                self.net.addLink(node.name, bridge, intfName1=intf, **({"addr1": mac} if mac else {}))
        self.net.build()
        self.net.start()
        self._configure()
        self.timings["start_s"] = time.monotonic() - t0

    def _configure(self) -> None:
        """Addresses, routes, sysctls and iptables rules of every node: one shell per node,
        BATCH nodes at a time (a round trip per command through Mininet's shells is slower)."""
        for start in range(0, len(self.plan.nodes), BATCH):
            procs = []
            for node in self.plan.nodes[start:start + BATCH]:
                script = list(node.setup)
                if self.switch == "ovs-user":  # the user-space datapath passes partial checksums on
                    script += [f"ethtool -K {intf} tx off >/dev/null" for intf, _, _ in node.links]
                rules = (node.filter_rules or "") + (node.nat_rules or "")
                if rules:
                    script.append("iptables-restore -w")
                proc = self.nodes[node.name].popen(["bash", "-ec", "\n".join(script)],
                                                   stdin=subprocess.PIPE, text=True)
                procs.append((node, rules, proc))
            for node, rules, proc in procs:
                _, err = proc.communicate(rules)
                if proc.returncode != 0:
                    raise EmulationError(f"{node.name} ({node.kind} {node.ref}): setup failed: "
                                         f"{err.strip()[-300:]}")

    def wait_converged(self, timeout_s: float = 60.0) -> float:
        """Seconds until every bridge port forwards (no STP: no loops, one bridge per network;
        OVS: every port attached)."""
        t0 = time.monotonic()
        expected = sum(len(n.links) for n in self.plan.nodes)
        while True:
            ready = self._ports_forwarding()
            if ready >= expected:
                break
            if time.monotonic() - t0 > timeout_s:
                raise EmulationError(f"only {ready} of {expected} switch ports forward after "
                                     f"{timeout_s:.0f} s")
            time.sleep(0.5)
        self.timings["converge_s"] = time.monotonic() - t0
        return self.timings["converge_s"]

    def _ports_forwarding(self) -> int:
        if self.switch == "lxbr":
            out = _run(["bridge", "-o", "link", "show"], check=False)
            return sum(1 for line in out.splitlines()
                       if f"master {self.plan.tag}" in line and "state forwarding" in line)
        count = 0
        for bridge in self.plan.bridges.values():
            count += len(_run(["ovs-vsctl", "list-ports", bridge], check=False).split())
        return count

    def stop(self) -> None:
        """Tear down; Ctrl-C and SIGTERM wait until it is done (a half cleanup leaks objects)."""
        t0 = time.monotonic()
        held = {}
        if threading.current_thread() is threading.main_thread():
            held = {s: signal.signal(s, signal.SIG_IGN)
                    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        try:
            self._teardown()
        finally:
            for s, handler in held.items():
                signal.signal(s, handler)
        self.timings["stop_s"] = time.monotonic() - t0

    def _teardown(self) -> None:
        try:
            shells = [n.shell for n in list(self.nodes.values()) + list(self.switches.values())
                      if n.shell is not None]
            for shell in shells:
                if shell.poll() is None:
                    shell.kill()
            for shell in shells:
                shell.wait()
            for bridge in self.plan.bridges.values():
                if self.switch == "ovs-user":
                    _run(["ovs-vsctl", "--if-exists", "del-br", bridge], check=False)
                else:
                    _run(["ip", "link", "del", "dev", bridge], check=False)
        finally:
            remove_leftovers(self.plan.tag, self.pids)
            if self.started_ovs:
                _run([OVS_CTL, "stop"], check=False)
                self.started_ovs = False

    def _ensure_ovs(self) -> None:
        if subprocess.run(["ovs-vsctl", "--timeout=2", "show"], capture_output=True).returncode == 0:
            return
        _run([OVS_CTL, "--no-ovs-vswitchd", "--system-id=random", "start"])
        self.started_ovs = True
        _run(["ovs-vswitchd", "--disable-system", "--pidfile", "--detach", "--log-file"])

    # probes --------------------------------------------------------------------------------
    def node_of(self, probe_src: tuple, names: dict, cfg) -> str:
        if probe_src[0] == "vm":
            return names[("vm", cfg.ports[probe_src[1]].vm_id)]
        return names[("ext", probe_src[1])]

    def run_probes(self, probes: list[Probe], cfg, retries: int = 1) -> list[Observed]:
        """Observe each probe; a failed one is tried again `retries` times (first packets can
        be lost while ARP settles), so only a consistent failure counts as unreachable."""
        t0 = time.monotonic()
        results: list[Observed | None] = [None] * len(probes)
        todo = list(range(len(probes)))
        for _ in range(retries + 1):
            for start in range(0, len(todo), BATCH):
                batch = todo[start:start + BATCH]
                procs = [(i, self.nodes[self.node_of(probes[i].src, self.plan.names, cfg)]
                          .popen(probe_command(probes[i]), text=True)) for i in batch]
                for i, p in procs:
                    out, err = p.communicate()
                    results[i] = Observed(*interpret(probes[i], p.returncode, out + err))
            todo = [i for i in todo if not results[i].reachable]
        self.timings["probe_s"] = time.monotonic() - t0
        return results


def probe_command(probe: Probe, wait_s: int = PING_WAIT_S) -> list[str]:
    if probe.proto == "icmp":
        return ["ping", "-n", "-q", "-c", "1", "-W", str(wait_s), probe.dst_ip]
    return ["timeout", str(wait_s + 1), "bash", "-c", f"exec 3<>/dev/tcp/{probe.dst_ip}/{probe.port}"]


def interpret(probe: Probe, returncode: int, output: str) -> tuple[bool, str]:
    if probe.proto == "icmp":
        return returncode == 0, "echo reply" if returncode == 0 else "no echo reply"
    if returncode == 0:
        return True, "connected"
    if "refused" in output.lower():  # the host answered with a reset: reached, port closed
        return True, "connection refused (host reached)"
    if returncode == 124:
        return False, "timeout"
    return False, (output.strip().splitlines() or ["failed"])[-1][-120:]


def remove_leftovers(tag: str, pids: list[int]) -> dict:
    """Kill this run's node processes and delete this run's links, whatever state it is in."""
    killed = 0
    for pid in pids:
        if _is_our_shell(pid, tag):  # a reaped pid may belong to someone else by now
            try:
                os.kill(pid, 9)
                killed += 1
            except ProcessLookupError:
                pass
    # The kernel destroys a dead namespace's veth pairs in deferred work, so links can still be
    # listed for a moment after the shells died (seen under load): delete what is there and
    # look again until none is left, or give up after LEFTOVER_WAIT_S.
    deleted = 0
    deadline = time.monotonic() + LEFTOVER_WAIT_S
    while (names := leftovers(tag)) and time.monotonic() < deadline:
        for name in names:
            _run(["ip", "link", "del", "dev", name], check=False)
            deleted += 1
        time.sleep(0.2)
    return {"processes_killed": killed, "links_deleted": deleted}


def _is_our_shell(pid: int, tag: str) -> bool:
    """Mininet names each node's shell `mininet:<node>` on its command line."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return f"mininet:{tag}".encode() in fh.read()
    except OSError:
        return False


def leftovers(tag: str) -> list[str]:
    """Links of this run still present (for tests and the report)."""
    pattern = re.compile(rf"^\d+: ({re.escape(tag)}[a-z]\d+(?:-eth\d+)?)[@:]")
    return [m.group(1) for line in _run(["ip", "-o", "link", "show"], check=False).splitlines()
            if (m := pattern.match(line))]
