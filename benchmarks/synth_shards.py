"""Benchmark: sharded synthesis (params synthesize.shards, issue 14) on the local engine and on a
2-worker Dask LocalCluster, with the peak RSS of every process (the driver, each worker).

    python benchmarks/synth_shards.py                     # 100k hosts: shards 1, 4 local, 4 dask
    python benchmarks/synth_shards.py --runs 100000:57000:4:dask
    python benchmarks/synth_shards.py --generate-only --runs 1000000:570000:24:dask

A run is HOSTS:PROJECTS:SHARDS:ENGINE. By default each run is the whole `dcnet synthesize`
(learn, generate, validate the whole output, write one parquet file per table) as a subprocess.
`--generate-only` runs this script's driver instead: each shard is one Dask task (or, on the
local engine, one call in the driver) that generates its shard and WRITES it on the worker,
<table>/part-<shard>.parquet, returning only row counts; the driver writes the hosts and the
fabric. No whole-table validation and no concatenation: this is what measures the per-worker
memory of a data center too large for one process (the sharded tables of a 50M-port run do
not fit in one process: that is the point of running shards on workers).

Measured per process (sampled every 20 ms): peak RSS; CPU seconds (user + system, last sample
of each process); the driver is the command's process, the workers its children that ever
exceed 150 MB (a LocalCluster's nannies live in the driver, its workers are child processes).
The real input is the embedded sample, ingested and validated once into benchmarks/.work/.
Results: benchmarks/results/synth_shards.json; benchmarks/README.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

DCNET = str(Path(sys.executable).with_name("dcnet"))
WORKER_MIN_RSS = 150 * 2**20


def measure_tree(cmd: list[str], cwd: str, env: dict | None = None) -> dict:
    import psutil

    from harness import run_sampled, tree_rss

    peak_tree = 0
    per_pid: dict[int, dict] = {}

    def on_sample(root, procs):
        nonlocal peak_tree
        peak_tree = max(peak_tree, tree_rss(procs))
        for p in procs:
            try:
                rss, cpu = p.memory_info().rss, p.cpu_times()
            except psutil.Error:
                continue
            entry = per_pid.setdefault(p.pid, {"root": p.pid == root.pid, "peak": 0, "cpu": 0.0})
            entry["peak"] = max(entry["peak"], rss)
            entry["cpu"] = cpu.user + cpu.system

    wall, out = run_sampled(cmd, on_sample, env, cwd)
    driver = next((e for e in per_pid.values() if e["root"]), {"peak": 0, "cpu": 0.0})
    workers = sorted((e for e in per_pid.values() if not e["root"] and e["peak"] >= WORKER_MIN_RSS),
                     key=lambda e: -e["peak"])
    return {"wall_s": round(wall, 2),
            "cpu_s": round(sum(e["cpu"] for e in per_pid.values()), 1),
            "peak_rss_tree_mb": round(peak_tree / 2**20, 1),
            "peak_rss_driver_mb": round(driver["peak"] / 2**20, 1),
            "peak_rss_workers_mb": [round(e["peak"] / 2**20, 1) for e in workers],
            "cpu_s_workers": [round(e["cpu"], 1) for e in workers],
            # paths relative to the repo: results are committed, a user's clone has other roots
            "output_tail": out.decode(errors="replace").replace(str(ROOT) + "/", "").strip().splitlines()[-3:]}


# --- the --generate-only driver (run as a subprocess; its shard tasks import this module) -------


def write_shard(args: tuple) -> dict[str, int]:
    """One task: generate shard `shard` and write its tables under `out`; row counts back."""
    import importlib

    G = importlib.import_module("pipeline.synthesize.generate")  # the package re-exports the function
    from pipeline import io

    model, params, shard, exclude, out = args
    frames = G.generate_shard(model, params, shard, exclude)
    rows = {}
    for name in list(frames):
        df = frames.pop(name)
        io.write_table(df, Path(out) / name / f"part-{shard:05d}.parquet")
        rows[name] = len(df)
        del df
    return rows


def driver(valid: Path, out: Path, hosts: int, projects: int, shards: int, engine_kind: str) -> None:
    import importlib

    G = importlib.import_module("pipeline.synthesize.generate")  # the package re-exports the function
    from pipeline import engine as engines
    from pipeline import io
    from pipeline import synthesize as S
    from pipeline.fabric import build_fabric
    from pipeline.synthesize.placement import host_table
    from pipeline.synthesize.text import table_frame, with_provenance
    from schemas.model import conform

    t0 = time.perf_counter()
    params = io.load_params(ROOT / "params.yaml")
    params = {**params, "synthesize": {**params["synthesize"], "hosts": hosts, "projects": projects,
                                       "shards": shards}}
    tables = io.read_tables(valid)
    model = S.learn(tables, S.profiles_from(None, None, tables, params), params)
    exclude = S.Exclusions.from_tables(tables)
    del tables
    t_learn = time.perf_counter()
    shutil.rmtree(out, ignore_errors=True)
    items = [(model, params, s, exclude, str(out)) for s in range(shards)]
    rows: dict[str, int] = {}
    spec = engines.spec_from_params(params, engine_kind)
    with engines.open_engine(spec) as eng:
        results = (map(write_shard, items) if eng is None
                   else (r for _, r in eng.run_ordered(write_shard, items, per_worker=1)))
        for r in results:
            for name, n in r.items():
                rows[name] = rows.get(name, 0) + n
    t_shards = time.perf_counter()
    ctx = G._context(model, params, exclude)
    shared = G._shared(ctx)
    layout = shared.layout
    hosts_df = table_frame("hosts", host_table(ctx.step("host_table"), layout, shared.host_names,
                                               ctx.step("ids.hosts").ids.uuids(layout.n_hosts), shared.salts[0]))
    sw, links = build_fabric(hosts_df, params.get("fabric") or {})
    for name, df in (("hosts", hosts_df), ("fabric_switches", with_provenance(conform(sw, "fabric_switches"), "fabric_switches")),
                     ("fabric_links", with_provenance(conform(links, "fabric_links"), "fabric_links"))):
        io.write_table(df, out / name / "part-00000.parquet")
        rows[name] = len(df)
    t_end = time.perf_counter()
    print(json.dumps({"rows": rows, "learn_s": round(t_learn - t0, 2), "shards_s": round(t_shards - t_learn, 2),
                      "hosts_fabric_s": round(t_end - t_shards, 2)}), flush=True)


def check_shards(valid: Path, hosts: int, projects: int, shards: int, which: list[int]) -> None:
    """Validate some shards of a large sharded data center together, in this process: the shards
    `which` (shard 0 always: it holds the external network's row) with the whole hosts table,
    through pipeline.validate.validate_tables (row checks, and the cross-table ones over these
    shards: unique ids, MACs per network, addresses per subnet, references)."""
    import importlib

    import pandas as pd

    from pipeline import io
    from pipeline import synthesize as S
    from pipeline.synthesize.placement import host_table
    from pipeline.synthesize.text import table_frame
    from pipeline.validate import validate_tables
    from schemas.model import TABLES, empty_frame

    G = importlib.import_module("pipeline.synthesize.generate")  # the package re-exports the function
    t0 = time.perf_counter()
    params = io.load_params(ROOT / "params.yaml")
    params = {**params, "synthesize": {**params["synthesize"], "hosts": hosts, "projects": projects,
                                       "shards": shards}}
    tables = io.read_tables(valid)
    model = S.learn(tables, S.profiles_from(None, None, tables, params), params)
    exclude = S.Exclusions.from_tables(tables)
    which = sorted({0, *which})
    parts = [G.generate_shard(model, params, s, exclude) for s in which]
    ctx = G._context(model, params, exclude)
    shared = G._shared(ctx)
    layout = shared.layout
    syn = {name: pd.concat([p[name].iloc[1:] if (name == "networks" and i) else p[name]
                            for i, p in enumerate(parts)], ignore_index=True)
           for name in parts[0]}
    syn["hosts"] = table_frame("hosts", host_table(ctx.step("host_table"), layout, shared.host_names,
                                                   ctx.step("ids.hosts").ids.uuids(layout.n_hosts), shared.salts[0]))
    syn.update({name: empty_frame(name) for name in TABLES if name not in syn})
    t_gen = time.perf_counter()
    totals = validate_tables(syn, params.get("validate")).report["totals"]
    print(json.dumps({"shards_checked": which, "ports": len(syn["ports"]), "hosts": len(syn["hosts"]),
                      "generate_s": round(t_gen - t0, 1), "validate_s": round(time.perf_counter() - t_gen, 1),
                      **{k: totals[k] for k in ("rows_in", "rows_valid", "rows_quarantined", "by_check")}}))


def phases(valid: Path, out: Path, hosts: int, projects: int, shards: int) -> None:
    """Where a local `dcnet synthesize` spends its time: the stage's phases timed in this process
    (wall and CPU seconds each): learn, generate (per generation step), validate, write."""
    from pipeline import io
    from pipeline import synthesize as S
    from pipeline.validate import validate_tables

    params = io.load_params(ROOT / "params.yaml")
    params = {**params, "synthesize": {**params["synthesize"], "hosts": hosts, "projects": projects,
                                       "shards": shards}}
    spent: dict[str, list[float]] = {}
    mark = [time.perf_counter(), time.process_time()]

    def lap(name: str) -> None:
        now = [time.perf_counter(), time.process_time()]
        spent[name] = [round(now[0] - mark[0], 2), round(now[1] - mark[1], 2)]
        mark[:] = now

    tables = io.read_tables(valid)
    model = S.learn(tables, S.profiles_from(None, None, tables, params), params)
    exclude = S.Exclusions.from_tables(tables)
    lap("read + learn")
    previous = ["generate: start"]

    def on_step(name, _i, _n):
        lap(previous[0])
        previous[0] = f"generate: {name}"

    syn = S.generate(model, params, on_step, exclude=exclude)
    validate_tables(syn, params.get("validate"))
    lap("validate")
    io.write_tables(syn, out)
    lap("write")
    shutil.rmtree(out, ignore_errors=True)
    print(json.dumps({"hosts": hosts, "projects": projects, "shards": shards, "ports": len(syn["ports"]),
                      "phases_wall_cpu_s": spent}))


# --- the benchmark ---------------------------------------------------------------------------------


def code_env() -> dict:
    """This checkout's code (and this folder's, for the driver's tasks), on the workers too."""
    return {"PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")])}


def prepare(work: Path) -> Path:
    interim, valid = work / "interim", work / "validated"
    if not valid.exists():
        env = {**os.environ, **code_env()}
        subprocess.run([DCNET, "ingest", "--input", str(ROOT / "data/raw/sample"), "--out", str(interim)],
                       cwd=ROOT, check=True, capture_output=True, env=env)
        subprocess.run([DCNET, "validate", "--input", str(interim), "--out", str(valid), "--quarantine",
                        str(work / "quarantine"), "--report", str(work / "validation.json")],
                       cwd=ROOT, check=True, capture_output=True, env=env)
    return valid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", nargs="+", default=["100000:57000:1:local", "100000:57000:4:local",
                                                  "100000:57000:4:dask"],
                    help="HOSTS:PROJECTS:SHARDS:ENGINE")
    ap.add_argument("--generate-only", action="store_true",
                    help="shards write their own parts on the workers; no validation (see above)")
    ap.add_argument("--work", type=Path, default=HERE / ".work" / "synth")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "synth_shards.json")
    ap.add_argument("--driver", nargs=5, metavar=("VALID", "OUT", "HOSTS", "PROJECTS", "SHARDS_ENGINE"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--check", nargs="+", metavar="HOSTS:PROJECTS:SHARDS SHARD",
                    help="validate these shards of a sharded data center together (with shard 0 and the "
                         "hosts), in this process, e.g. --check 1000000:570000:40 39")
    ap.add_argument("--phases", metavar="HOSTS:PROJECTS:SHARDS",
                    help="time the phases of a local synthesize in this process (learn, each generation "
                         "step, validate, write)")
    a = ap.parse_args()
    if a.phases:
        hosts, projects, shards = (int(x) for x in a.phases.split(":"))
        phases(prepare(a.work), a.work / "phases", hosts, projects, shards)
        return
    if a.check:
        hosts, projects, shards = (int(x) for x in a.check[0].split(":"))
        check_shards(prepare(a.work), hosts, projects, shards, [int(x) for x in a.check[1:]])
        return
    if a.driver:
        valid, out, hosts, projects, shards_engine = a.driver
        shards, engine_kind = shards_engine.split(":")
        driver(Path(valid), Path(out), int(hosts), int(projects), int(shards), engine_kind)
        return
    valid = prepare(a.work)
    previous = json.loads(a.out.read_text())["results"] if a.out.exists() else []
    results = []
    for run in a.runs:
        hosts, projects, shards, engine_kind = run.split(":")
        out = a.work / f"shards_{hosts}_{shards}_{engine_kind}"
        if a.generate_only:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--driver", str(valid), str(out), hosts, projects,
                   f"{shards}:{engine_kind}"]
        else:
            cmd = [DCNET, "synthesize", "--input", str(valid), "--out", str(out), "--hosts", hosts,
                   "--projects", projects, "--shards", shards, "--engine", engine_kind,
                   "--labels", str(a.work / "none"), "--predictions", str(a.work / "none"),
                   "--model-out", str(a.work / f"model_shards_{hosts}.json")]
        load_before = os.getloadavg()[0]
        m = measure_tree(cmd, cwd=str(ROOT), env=code_env())
        # the machine is shared: the load says how much of the wall time was waiting for a core
        m["load_1m_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        import pyarrow.parquet as pq

        ports = sum(pq.ParquetFile(p).metadata.num_rows for p in
                    (sorted((out / "ports").glob("*.parquet")) if a.generate_only else [out / "ports.parquet"]))
        r = {"hosts": int(hosts), "projects": int(projects), "shards": int(shards), "engine": engine_kind,
             "mode": "generate-only" if a.generate_only else "dcnet synthesize", "ports": ports, **m,
             "command": " ".join([Path(cmd[0]).name] + [c.replace(str(ROOT) + "/", "") for c in cmd[1:]])}
        print(json.dumps(r), flush=True)
        results.append(r)
        shutil.rmtree(out, ignore_errors=True)
    keep = [p for p in previous if (p["hosts"], p["shards"], p["engine"], p["mode"]) not in
            {(r["hosts"], r["shards"], r["engine"], r["mode"]) for r in results}]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                                 "results": keep + results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
