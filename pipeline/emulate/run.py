"""One `dcnet emulate` run: slice, plan, sample, build, converge, probe, report, clean up."""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass

from pipeline.emulate.config import Config, load_config
from pipeline.emulate.plan import Plan, build_plan
from pipeline.emulate.sampling import sample_probes


@dataclass
class Options:
    switch: str = "lxbr"
    probes: int = 200
    seed: int = 0
    max_hosts: int | None = None
    projects: list | None = None
    security_groups: bool = True
    egress: bool = False
    tag: str | None = None


def run_tag() -> str:
    """Three characters naming this run's objects: 'd' + the process id in base 36 (2 digits)."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    pid = os.getpid() % (36 * 36)
    return "d" + digits[pid // 36] + digits[pid % 36]


@contextmanager
def interrupts_as_keyboard_interrupt():
    """SIGTERM/SIGHUP behave like Ctrl-C, so `finally` blocks clean up on them too."""
    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    old = {s: signal.signal(s, raise_interrupt) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def prepare(tables: dict, opts: Options) -> tuple[Config, Plan, list, list]:
    cfg = load_config(tables, max_hosts=opts.max_hosts, projects=opts.projects)
    plan = build_plan(cfg, opts.tag or run_tag(), opts.security_groups, opts.egress)
    sampled = sample_probes(cfg, opts.probes, opts.seed, opts.security_groups, opts.egress)
    return cfg, plan, [p for p, _ in sampled], [e for _, e in sampled]


def emulate(cfg: Config, plan: Plan, probes: list, expected: list, opts: Options,
            on_phase=lambda name: None) -> dict:
    """Build `plan` live, probe, tear down (always), and return the report."""
    from pipeline.emulate.live import Emulation
    from pipeline.emulate.report import build_report

    with interrupts_as_keyboard_interrupt():
        t0 = time.monotonic()
        on_phase("start")
        emu = Emulation(plan, opts.switch)
        with emu:
            on_phase("converge")
            emu.wait_converged()
            on_phase("probe")
            observed = emu.run_probes(probes, cfg)
            on_phase("stop")
        total = time.monotonic() - t0
    t = emu.timings
    nodes = len(plan.nodes) + len(plan.bridges)
    timings = {**{k: round(v, 2) for k, v in t.items()}, "total_s": round(total, 2),
               "start_nodes_per_s": round(nodes / t["start_s"], 1) if t.get("start_s") else None,
               "probes_per_s": round(len(probes) / t["probe_s"], 1) if t.get("probe_s") else None}
    meta = {"switch": opts.switch, "security_groups": opts.security_groups,
            "egress_filtering": opts.egress, "seed": opts.seed,
            "slice": cfg.slice, "skipped_rules": cfg.skipped_rules, "timings": timings}
    return build_report(cfg, plan, probes, expected, observed, meta)


def plan_document(plan: Plan, probes: list, expected: list) -> dict:
    """The plan and the probes as plain JSON-able data (`dcnet emulate --plan-out`)."""
    from dataclasses import asdict

    return {"tag": plan.tag, "security_groups": plan.security_groups, "egress": plan.egress,
            "counts": plan.counts(), "bridges": plan.bridges,
            "nodes": [asdict(n) for n in plan.nodes],
            "probes": [{**asdict(p), "expected": e.reachable, "expected_code": e.code,
                        "reason": e.reason} for p, e in zip(probes, expected)]}
