"""The emulation report: JSON (every probe, per-class counts, mismatches) and Markdown."""

from __future__ import annotations

from pipeline.emulate.config import Config
from pipeline.emulate.expected import Expected, Probe
from pipeline.emulate.live import Observed
from pipeline.emulate.plan import Plan
from pipeline.emulate.sampling import CLASSES


def endpoint(cfg: Config, plan: Plan, ref: tuple) -> dict:
    if ref[0] == "vm":
        port = cfg.ports[ref[1]]
        return {"node": plan.names[("vm", port.vm_id)], "vm_id": port.vm_id, "port_id": port.id,
                "ip": port.addrs[0].ip if port.addrs else None, "project_id": port.project_id,
                "network_id": port.network_id, "subnet_id": port.addrs[0].subnet_id if port.addrs else None}
    if ref[0] == "ext":
        ext = cfg.externals[ref[1]]
        return {"node": plan.names[("ext", ref[1])], "outside_of_network": ref[1], "ip": ext.ip}
    fip = cfg.fips[ref[1]]
    return {"floating_ip": fip.address, "fixed_ip": fip.fixed_ip, "port_id": fip.port_id,
            "router_id": fip.router_id, "node": plan.names[("vm", cfg.ports[fip.port_id].vm_id)]}


def build_report(cfg: Config, plan: Plan, probes: list[Probe], expected: list[Expected],
                 observed: list[Observed], meta: dict) -> dict:
    rows = []
    for probe, exp, obs in zip(probes, expected, observed):
        rows.append({"class": probe.cls, "protocol": probe.proto if probe.proto == "icmp" else f"tcp/{probe.port}",
                     "src": endpoint(cfg, plan, probe.src), "dst": endpoint(cfg, plan, probe.dst),
                     "dst_ip": probe.dst_ip, "expected": exp.reachable, "expected_code": exp.code,
                     "reason": exp.reason, "observed": obs.reachable, "observed_detail": obs.detail,
                     "match": exp.reachable == obs.reachable})
    classes = {}
    for cls in CLASSES:
        mine = [r for r in rows if r["class"] == cls]
        classes[cls] = {"probes": len(mine),
                        "expected_reachable": sum(r["expected"] for r in mine),
                        "observed_reachable": sum(r["observed"] for r in mine),
                        "mismatches": sum(not r["match"] for r in mine)}
    reasons: dict = {}
    for r in rows:
        reasons[r["expected_code"]] = reasons.get(r["expected_code"], 0) + 1
    mismatches = [r for r in rows if not r["match"]]
    return {**meta, "counts": plan.counts(), "probes_total": len(rows),
            "mismatches_total": len(mismatches), "classes": classes,
            "expected_codes": dict(sorted(reasons.items())), "mismatches": mismatches, "probes": rows}


def markdown(report: dict, max_rows: int = 50) -> str:
    c, t = report["counts"], report.get("timings", {})
    lines = [f"# Emulation report ({report['switch']}, security groups "
             f"{'on' if report['security_groups'] else 'off'})", "",
             f"{c['vms']} VMs, {c['routers']} routers, {c['outside_clients']} outside clients, "
             f"{c['segments']} network segments, {c['links']} links; "
             f"{report['probes_total']} probes, **{report['mismatches_total']} mismatches**.", ""]
    if t:
        lines += ["Timings: " + ", ".join(f"{k} {v}" for k, v in t.items() if v is not None), ""]
    lines += ["| class | probes | expected reachable | observed reachable | mismatches |",
              "|---|---:|---:|---:|---:|"]
    for cls, v in report["classes"].items():
        lines.append(f"| {cls} | {v['probes']} | {v['expected_reachable']} | "
                     f"{v['observed_reachable']} | {v['mismatches']} |")
    lines += ["", "Expected outcomes by reason: " +
              ", ".join(f"{k} {v}" for k, v in report["expected_codes"].items()), ""]
    if report["mismatches"]:
        lines += ["## Mismatches", "", "| class | protocol | source | destination | expected | "
                  "observed | expected because |", "|---|---|---|---|---|---|---|"]
        for r in report["mismatches"][:max_rows]:
            lines.append(f"| {r['class']} | {r['protocol']} | {_ep(r['src'])} | {_ep(r['dst'])} | "
                         f"{_yes(r['expected'])} | {_yes(r['observed'])} ({r['observed_detail']}) | "
                         f"{r['reason']} |")
        if len(report["mismatches"]) > max_rows:
            lines.append(f"\n... {len(report['mismatches']) - max_rows} more in the JSON report")
    return "\n".join(lines) + "\n"


def _ep(e: dict) -> str:
    if "floating_ip" in e:
        return f"floating IP {e['floating_ip']} ({e['node']})"
    return f"{e['node']} {e.get('ip') or ''}".strip()


def _yes(v: bool) -> str:
    return "reachable" if v else "unreachable"
