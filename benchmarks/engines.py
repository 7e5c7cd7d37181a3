"""Benchmark: `dcnet ingest` or `dcnet validate` of the generated dump on the local engine vs a
Dask LocalCluster.

    .venv/bin/python benchmarks/engines.py                     # 1M ports, 2 workers, 2 rounds
    .venv/bin/python benchmarks/engines.py --ports 100000 --rounds 1
    .venv/bin/python benchmarks/engines.py --stage validate    # validate of the ingested dump

For validate, the dump is ingested once (local engine, not measured) and validated on each
engine: the local engine runs the checks in the main process, dask on the cluster's workers.

Both engines get 2 worker processes (local: ingest.workers 2; dask: engine.workers 2, a
LocalCluster dcnet starts and stops, so its start-up is in the wall time). Runs alternate
(local, dask, local, dask, ...) so a change in machine load hits both. Per run: wall time, peak
RSS of the whole process tree and of each process (every 20 ms), CPU seconds (user + system) of
the tree and of the workers (as last sampled), the machine's 1-minute load
average before and after, and whether both engines wrote the same bytes. Results go to
benchmarks/results/engines.json (validate: engines_validate.json); benchmarks/README.md quotes
them.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import sys
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from gen_dump import generate  # noqa: E402
from harness import run_sampled  # noqa: E402

DCNET = str(Path(sys.executable).with_name("dcnet"))


def _role(proc: psutil.Process, root_pid: int, forkserver_pids: set[int]) -> str:
    """main | forkserver | resource_tracker | worker (a process that parses units)."""
    if proc.pid == root_pid:
        return "main"
    try:
        cmd = " ".join(proc.cmdline())
        parent = proc.ppid()
    except psutil.Error:
        return "gone"
    if "resource_tracker" in cmd:
        return "resource_tracker"
    if "forkserver" in cmd and parent == root_pid:
        forkserver_pids.add(proc.pid)
        return "forkserver"
    # local: children of the forkserver (forked: same command line); dask: spawned workers
    return "worker"


def measure_tree(cmd: list[str], cwd: Path) -> dict:
    """Wall time, peak RSS of the process tree, and peak RSS per process (role, MB)."""
    peaks: dict[int, list] = {}  # pid -> [role, peak bytes, CPU seconds at the last sample]
    tree_peak = 0
    forkservers: set[int] = set()

    def on_sample(root, procs):
        nonlocal tree_peak
        total = 0
        for p in procs:
            try:
                rss = p.memory_info().rss
                cpu = sum(p.cpu_times()[:2])
            except psutil.Error:
                continue
            total += rss
            if p.pid not in peaks:
                peaks[p.pid] = [_role(p, root.pid, forkservers), 0, 0.0]
            peaks[p.pid][1] = max(peaks[p.pid][1], rss)
            peaks[p.pid][2] = cpu
        tree_peak = max(tree_peak, total)

    wall, out = run_sampled(cmd, on_sample, cwd=cwd)
    mb = lambda b: round(b / 2**20, 1)  # noqa: E731
    # CPU seconds (user + system) as last sampled: less sensitive to other jobs than wall time
    return {"wall_s": round(wall, 2),
            "cpu_s_tree": round(sum(c for _, _, c in peaks.values()), 1),
            "cpu_s_workers": round(sum(c for r, _, c in peaks.values() if r == "worker"), 1),
            "peak_rss_tree_mb": mb(tree_peak),
            "peak_rss_main_mb": mb(max(v for r, v, _ in peaks.values() if r == "main")),
            # a process seen under 20 MB is a helper caught mid-start, not a parsing worker
            "peak_rss_workers_mb": sorted((mb(v) for r, v, _ in peaks.values()
                                           if r == "worker" and v >= 20 << 20), reverse=True),
            "announce": [ln for ln in out.decode().splitlines() if ln.startswith("dask:")]}


def run(engine: str, raw: Path, out: Path, params: Path) -> dict:
    load_before = os.getloadavg()[0]
    res = measure_tree([DCNET, "ingest", "--input", str(raw), "--out", str(out),
                        "--params", str(params), "--engine", engine], ROOT)
    return {"engine": engine, **res, "load1_before": round(load_before, 2),
            "load1_after": round(os.getloadavg()[0], 2)}


def run_validate(engine: str, interim: Path, out: Path, params: Path) -> dict:
    load_before = os.getloadavg()[0]
    res = measure_tree([DCNET, "validate", "--input", str(interim), "--out", str(out / "valid"),
                        "--quarantine", str(out / "quarantine"),
                        "--report", str(out / "validation.json"),
                        "--params", str(params), "--engine", engine], ROOT)
    return {"engine": engine, **res, "load1_before": round(load_before, 2),
            "load1_after": round(os.getloadavg()[0], 2)}


def same_bytes(a: Path, b: Path) -> bool:
    """Both folders hold the same files with the same bytes (folders of parts included)."""
    names = sorted(str(p.relative_to(a)) for p in a.rglob("*") if p.is_file())
    return names == sorted(str(p.relative_to(b)) for p in b.rglob("*") if p.is_file()) and all(
        filecmp.cmp(a / n, b / n, shallow=False) for n in names)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ports", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--work", type=Path, default=HERE / ".work")
    ap.add_argument("--stage", choices=("ingest", "validate"), default="ingest")
    ap.add_argument("--memory-limit", default="",
                    help="engine.memory_limit of the LocalCluster's workers, e.g. 4GB (a worker "
                    "spills to disk past 60%% of it); default: Dask's (memory / workers)")
    ap.add_argument("--engines", default="local,dask",
                    help="the engines to run, in this order each round (default local,dask)")
    ap.add_argument("--out", type=Path, default=None,
                    help="results file (default results/engines.json, validate: "
                    "results/engines_validate.json)")
    a = ap.parse_args()
    a.out = a.out or HERE / "results" / ("engines.json" if a.stage == "ingest"
                                         else "engines_validate.json")
    work = a.work / f"engines-{a.ports}"
    raw = work / "raw"
    if not raw.exists():
        generate(a.ports, raw)
    params = work / "params.yaml"
    params.write_text(json.dumps({  # JSON is YAML
        "ingest": {"workers": a.workers},
        "engine": {"kind": "local", "workers": a.workers, "memory_limit": a.memory_limit}}))
    runs = []
    if a.stage == "validate" and not (work / "interim-local" / "_manifest.json").exists():
        run("local", raw, work / "interim-local", params)  # the input, not measured
    for k in range(a.rounds):
        for engine in a.engines.split(","):
            if a.stage == "ingest":
                r = run(engine, raw, work / f"interim-{engine}", params)
            else:
                r = run_validate(engine, work / "interim-local", work / f"validated-{engine}",
                                 params)
            r["round"] = k + 1
            print(json.dumps(r), flush=True)
            runs.append(r)
    if a.engines.split(",") != ["local", "dask"]:
        identical = None  # one engine run: nothing to compare
    elif a.stage == "ingest":
        identical = same_bytes(work / "interim-local", work / "interim-dask")
    else:
        left, right = work / "validated-local", work / "validated-dask"
        identical = (same_bytes(left / "valid", right / "valid")
                     and same_bytes(left / "quarantine", right / "quarantine")
                     and filecmp.cmp(left / "validation.json", right / "validation.json",
                                     shallow=False))
    print(f"same bytes on both engines: {identical}")
    meta = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform(),
                        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
            "ports": a.ports, "dump_mb": round(sum(p.stat().st_size for p in raw.iterdir()) / 2**20, 1),
            "stage": a.stage, "workers": a.workers, "memory_limit": a.memory_limit,
            "same_bytes": identical, "runs": runs}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
