"""Real Mininet: the hand-made data center must behave exactly as its configuration says.

Needs root (network namespaces) and Mininet (`.ci/run` installs it). The tests share one
xdist group so two live emulations never run at once.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest

from pipeline.emulate.config import load_config
from pipeline.emulate.expected import expect
from pipeline.emulate.live import Emulation, leftovers, preflight
from pipeline.emulate.plan import build_plan
from tests import emulate_fixtures as fx

pytestmark = [pytest.mark.xdist_group("mininet"), pytest.mark.mininet]

needs_mininet = pytest.mark.skipif(
    os.geteuid() != 0 or preflight("lxbr") is not None,
    reason=f"live emulation needs root and Mininet ({preflight('lxbr')})")


def _tag(suffix: str) -> str:
    # test runs get their own tags (never another run's objects, nor a parallel session's)
    return "t" + suffix + "0123456789abcdefghijklmnopqrstuvwxyz"[os.getpid() % 36]


def _run(plan, cfg, probes, switch="lxbr"):
    with Emulation(plan, switch) as emu:
        emu.wait_converged()
        observed = emu.run_probes(probes, cfg)
    assert leftovers(plan.tag) == []
    assert all(not os.path.exists(f"/proc/{pid}") or _zombie(pid) for pid in emu.pids)
    return observed


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] == "Z"
    except FileNotFoundError:
        return True


def _probes():
    return [fx.probe(*key) for key in fx.EXPECTED]


@needs_mininet
@pytest.mark.parametrize("switch", ["lxbr", "ovs-user"])
def test_hand_made_dc_matches_expected_reachability(switch):
    if preflight(switch):
        pytest.skip(preflight(switch))
    cfg = load_config(fx.tables())
    plan = build_plan(cfg, _tag("a" if switch == "lxbr" else "o"))
    probes = _probes()
    observed = _run(plan, cfg, probes, switch)
    mismatches = [(p, expect(cfg, p), o) for p, o in zip(probes, observed)
                  if expect(cfg, p).reachable != o.reachable]
    assert mismatches == []
    # and the configuration's answers are the ones written down by hand
    assert [o.reachable for o in observed] == [v[0] for v in fx.EXPECTED.values()]


@needs_mininet
def test_planted_wrong_gateway_shows_up_as_mismatch():
    cfg = load_config(fx.tables())
    plan = build_plan(cfg, _tag("b"))
    a3 = plan.node(plan.names[("vm", "vm-a3")])
    a3.setup = [c.replace("via 10.0.1.1", "via 10.0.1.99") for c in a3.setup]
    probes = _probes()
    observed = _run(plan, cfg, probes)
    broken = {key for key, o, p in zip(fx.EXPECTED, observed, probes)
              if expect(cfg, p).reachable != o.reachable}
    # everything that needs a3's way back through its router now fails; nothing else changes
    assert broken == {("a1", "a3", "icmp", None), ("a3", "a1", "tcp", 22),
                      ("ext", "203.0.113.50", "icmp", None), ("b2", "203.0.113.50", "icmp", None)}


@needs_mininet
def test_cli_writes_report_and_cleans_up(tmp_path):
    from pipeline import io

    data = tmp_path / "dc"
    io.write_tables(fx.tables(), data)
    report, md = tmp_path / "emulation.json", tmp_path / "emulation.md"
    p = subprocess.run([sys.executable, "-m", "pipeline.cli", "emulate", "--input", str(data),
                        "--probes", "30", "--seed", "1", "--report", str(report),
                        "--markdown", str(md)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    import json

    rep = json.loads(report.read_text())
    assert rep["mismatches_total"] == 0 and rep["probes_total"] == 30
    assert set(rep["classes"]) == {"same_subnet", "cross_router", "cross_project", "floating_ip",
                                   "sg_blocked"}
    assert rep["classes"]["floating_ip"]["probes"] > 0
    assert "| same_subnet |" in md.read_text()
    # no run tag left; the kernel removes a dead namespace's veth ends in deferred work, so
    # allow it a few seconds (a leak stays)
    left = None
    for _ in range(50):
        links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
        left = re.findall(r"^\d+: (d[0-9a-z]{2}[vrxn]\d+\S*)", links, re.M)
        if not left:
            break
        time.sleep(0.2)
    assert not left


# the repo root: tests/emulate/ is two levels below it
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNPRIVILEGED = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _unprivileged_can_run() -> bool:
    """As root: can user `nobody` run this checkout's CLI (setpriv present, files readable)?"""
    import shutil

    if not shutil.which("setpriv"):
        return False
    p = subprocess.run(UNPRIVILEGED + [sys.executable, "-c", "import pipeline.cli"], cwd=ROOT,
                       capture_output=True, env={**os.environ, "PYTHONPATH": ROOT})
    return p.returncode == 0


def test_not_root_gets_one_line_and_exit_2(tmp_path):
    """Run as an unprivileged user when we are root; as ourselves otherwise."""
    cmd = [sys.executable, "-m", "pipeline.cli", "emulate", "--input", str(tmp_path)]
    if os.geteuid() == 0:
        if not _unprivileged_can_run():
            pytest.skip("cannot run this checkout as user nobody (setpriv missing or files "
                        "unreadable), so the not-root message cannot be tested here")
        cmd = UNPRIVILEGED + cmd
    root = ROOT
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=root, timeout=60,
                       env={**os.environ, "PYTHONPATH": root})
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "root" in lines[0] and "apt-get install -y mininet" in lines[0]


@needs_mininet
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_run_leaves_nothing_behind(tmp_path, sig):
    """Stop `dcnet emulate` while it probes: its namespaces, links and shells must be gone."""
    from pipeline import io

    data = tmp_path / "dc"
    io.write_tables(fx.tables(), data)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "emulate", "--input", str(data),
                             "--probes", "2000", "--report", str(tmp_path / "r.json"),
                             "--markdown", str(tmp_path / "r.md")],
                            stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stderr:  # phases are printed as they start
        lines.append(line)
        if line.strip() == "probe":
            break
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(lines) + err
    assert "interrupted" in err
    tag = "d" + _base36(proc.pid % 1296)
    assert leftovers(tag) == []
    shells = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert f"mininet:{tag}" not in shells
    assert not (tmp_path / "r.json").exists()


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    return digits[n // 36] + digits[n % 36]


def test_plan_out_needs_no_root_and_starts_nothing():
    import json
    import shutil
    import tempfile

    from pipeline import io

    work = tempfile.mkdtemp(prefix="dcnet-plan-")  # readable by an unprivileged user
    try:
        os.chmod(work, 0o777)
        data = os.path.join(work, "dc")
        io.write_tables(fx.tables(), data)
        os.chmod(data, 0o755)
        out = os.path.join(work, "plan.json")
        cmd = [sys.executable, "-m", "pipeline.cli", "emulate", "--input", data, "--probes", "10",
               "--plan-out", out]
        if os.geteuid() == 0 and _unprivileged_can_run():
            cmd = UNPRIVILEGED + cmd
        root = ROOT
        p = subprocess.run(cmd, capture_output=True, text=True, cwd=root, timeout=60,
                           env={**os.environ, "PYTHONPATH": root})
        assert p.returncode == 0, p.stderr
        with open(out) as fh:
            doc = json.load(fh)
    finally:
        shutil.rmtree(work)
    assert doc["counts"]["vms"] == 5 and doc["counts"]["segments"] == 4
    assert len(doc["probes"]) == 10 and all("expected" in pr for pr in doc["probes"])
    assert leftovers(doc["tag"]) == []
