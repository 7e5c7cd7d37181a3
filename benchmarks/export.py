"""Benchmark: `dcnet export` of a synthetic data center in every format.

    python benchmarks/export.py                 # 10,000 hosts
    python benchmarks/export.py --hosts 2000

The synthetic data center is learned from the embedded sample and generated with the
synthesizer (params.yaml `synthesize:` with `hosts`/`projects` overridden), written as canonical
tables, then `dcnet export --format all` runs as a subprocess measured by harness.measure()
(wall time, peak RSS of the process tree), once per `export.workers` setting, then
`dcnet check-export` of the last export (every consumer), with a fixed pure-Python loop timed
before and after (`calibration_loop`: this VM's speed drifts). Results: benchmarks/results/export.json;
benchmarks/README.md ("Export") quotes them. Targets: 10k hosts exported in under 30 s (issue 5),
export + check under 30 s (issue 8).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from harness import measure  # noqa: E402

DCNET = str(Path(sys.executable).with_name("dcnet"))


def make_synthetic(hosts: int, projects: int, out: Path) -> dict:
    from pipeline import io
    from pipeline import synthesize as synth
    from pipeline.ingest import ingest_dir
    from pipeline.validate import validate_tables

    tables, _ = ingest_dir(ROOT / "data" / "raw" / "sample", {})
    valid = validate_tables(tables, {}).valid
    params = io.load_params(ROOT / "params.yaml")
    params["synthesize"] = {**(params.get("synthesize") or {}), "hosts": hosts, "projects": projects}
    syn = synth.generate(synth.learn(valid), params)
    io.write_tables(syn, out)
    return {t: len(df) for t, df in syn.items()}


def calibrate(rounds: int = 3) -> float:
    """Seconds of a fixed pure-Python loop (best of `rounds`): this VM's speed drifts by a
    quarter or more within minutes, so each result carries it (compare runs by it)."""
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        sum(i * i for i in range(3_000_000))
        best = min(best, time.perf_counter() - t0)
    return round(best, 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=10_000)
    ap.add_argument("--projects", type=int, default=None, help="default: hosts / 3 (the sample's ratio)")
    ap.add_argument("--work", type=Path, default=HERE / ".work" / "export")
    ap.add_argument("--keep", action="store_true", help="keep the generated tables and exports")
    ap.add_argument("--workers", type=int, nargs="+", default=[2, 1],
                    help="export.workers values to measure (peak RSS sums the forked workers, "
                         "whose copy-on-write pages are counted once per process)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "export.json")
    a = ap.parse_args()
    projects = a.projects or max(1, a.hosts // 3)
    syn, out = a.work / f"synthetic_{a.hosts}", a.work / f"export_{a.hosts}"
    t0 = time.perf_counter()
    rows = make_synthetic(a.hosts, projects, syn)
    gen_s = round(time.perf_counter() - t0, 2)
    import yaml

    runs = {}
    speed_before = calibrate()
    for w in a.workers:
        params = yaml.safe_load((ROOT / "params.yaml").read_text())
        params.setdefault("export", {})["workers"] = w
        pfile = a.work / f"params_workers{w}.yaml"
        pfile.write_text(yaml.safe_dump(params))
        runs[f"workers_{w}"] = measure([DCNET, "export", "--format", "all", "--input", str(syn),
                                        "--out", str(out), "--params", str(pfile)], cwd=str(ROOT))
        print(f"workers={w}: {runs[f'workers_{w}']}", flush=True)
    check = measure([DCNET, "check-export", str(out)], cwd=str(ROOT))
    print(f"check-export: {check}", flush=True)
    speed = {"before_s": speed_before, "after_s": calibrate()}
    print(f"calibration loop (lower = faster machine): {speed}", flush=True)
    rep = json.loads((out / "_export_report.json").read_text())
    sizes = {d.name: round(sum(f.stat().st_size for f in d.rglob("*") if f.is_file()) / 2**20, 1)
             for d in sorted(out.iterdir()) if d.is_dir()}
    result = {
        "hosts": rep["topology"]["compute_hosts"], "vms": rep["topology"]["vms"],
        "ports": rows["ports"], "fabric": rep["topology"]["fabric"],
        "fabric_switches": rep["topology"]["fabric_switches"],
        "alcor_requests": rep["formats"]["alcor"]["requests"],
        "containerlab_parts": rep["formats"]["containerlab"]["parts"],
        "export": runs, "check_export": check, "calibration_loop": speed, "output_mb": sizes,
        "generate_s": gen_s,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result), flush=True)
    meta = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()}, "results": [result]}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(meta, indent=2) + "\n")
    if not a.keep:
        shutil.rmtree(a.work, ignore_errors=True)


if __name__ == "__main__":
    main()
