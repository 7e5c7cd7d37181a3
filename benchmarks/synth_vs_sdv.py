"""Synthesis vs SDV: dcnet's synthesizer against SDV's GaussianCopulaSynthesizer (per table).

    make bench-sdv                                   # creates benchmarks/.sdv-venv if missing
    .venv/bin/python benchmarks/synth_vs_sdv.py --sdv-python benchmarks/.sdv-venv/bin/python \
        [--scales 1 10]

Per scale (1 = the embedded sample data/raw/sample; k = the sample generator with k times the
projects and racks), in dcnet's venv: ingest + validate + labels the real dump; export its
tables (provenance columns dropped) as parquet; run benchmarks/sdv_peer.py in the SDV venv
(fit + sample each table at its real row count); time `dcnet synthesize` at the same size
(hosts and projects of the real data); then score both outputs the same way:
- time: SDV's in-process fit+sample seconds summed over tables (imports excluded: generous to
  SDV) and its process wall time, against dcnet synthesize's whole process wall time;
- quality: pipeline.evaluate_synthetic's column shapes (KSComplement/TVComplement per column)
  and structural distributions, against the real tables;
- validity: pipeline.validate on each output, per table: rows valid under the single-table
  (pandera) checks alone, and rows valid under the full validation with cross-table checks
  (references, IP plan);
- privacy: the exact-overlap counts of the evaluation (real values reused).
SDMetrics' own KSComplement/TVComplement (in the SDV venv) on the plain columns is compared
with dcnet's re-implementation (`crosscheck`). Results: benchmarks/results/synth_vs_sdv.json.
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
PROVENANCE = ("source_file", "source_pos", "ingest_errors", "extra")


def _pd():
    import pandas as pd

    return pd


# --------------------------------------------------------------------------- real data

def real_dump(scale: int, work: Path, params: dict) -> Path:
    if scale == 1:
        return ROOT / "data" / "raw" / "sample"
    from pipeline import sample

    raw = work / "raw"
    if not raw.exists():
        sp = dict(params.get("sample") or {})
        sp["projects"] = int(sp.get("projects", 80)) * scale
        sp["racks_per_zone"] = int(sp.get("racks_per_zone", 6)) * scale
        sample.write_sample(raw, sp)
    return raw


def prepare_real(scale: int, work: Path, params: dict) -> dict:
    raw = real_dump(scale, work, params)
    val = work / "validated"
    steps = [
        [DCNET, "ingest", "--input", str(raw), "--out", str(work / "interim")],
        [DCNET, "validate", "--input", str(work / "interim"), "--out", str(val),
         "--quarantine", str(work / "quarantine"), "--report", str(work / "validation.json")],
        [DCNET, "labels", "--input", str(val), "--out", str(work / "labels"),
         "--report", str(work / "labels.json")],
        # Kinds of unlabelled projects for dcnet synthesize, as in the pipeline.
        [DCNET, "features", "--input", str(val), "--out", str(work / "features")],
        [DCNET, "train", "--task", "project_profile", "--features", str(work / "features"),
         "--labels", str(work / "labels"), "--validated", str(val), "--models", str(work / "models"),
         "--report", str(work / "train.json"), "--no-track"],
        [DCNET, "classify", "--task", "project_profile", "--features", str(work / "features"),
         "--models", str(work / "models"), "--out", str(work / "predictions")],
    ]
    for cmd in steps:
        measure(cmd, cwd=str(ROOT))
    return {"raw": str(raw.relative_to(ROOT) if raw.is_relative_to(ROOT) else raw),
            "validated": val, "labels": work / "labels", "predictions": work / "predictions"}


def export_for_sdv(tables: dict, out: Path) -> None:
    from pipeline import io

    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for name, df in tables.items():
        if not len(df):
            continue  # nothing to learn (the fabric tables of a real dump)
        io.write_table(df.drop(columns=[c for c in PROVENANCE if c in df.columns]), out / f"{name}.parquet")


# --------------------------------------------------------------------------- SDV output

def read_loose(path: Path, table: str):
    """SDV's output conformed to the model as leniently as possible: numbers rounded into
    integer columns, True/False spellings into booleans, anything else as text; provenance
    filled (source_file sdv/<table>.parquet, source_pos = row)."""
    import numpy as np

    pd = _pd()
    from schemas.model import BOOL, FLOAT, INT, TABLES

    df = pd.read_parquet(path)
    out = {}
    n = len(df)
    for c in TABLES[table].columns:
        if c.name == "source_file":
            out[c.name] = pd.array([f"sdv/{table}.parquet"] * n, dtype="string")
        elif c.name == "source_pos":
            out[c.name] = pd.array(np.arange(n), dtype="Int64")
        elif c.name not in df.columns:
            out[c.name] = pd.array([pd.NA] * n, dtype=c.dtype)
        elif c.dtype == INT:
            out[c.name] = pd.to_numeric(df[c.name], errors="coerce").round().astype("Int64")
        elif c.dtype == FLOAT:
            out[c.name] = pd.to_numeric(df[c.name], errors="coerce").astype("Float64")
        elif c.dtype == BOOL:
            m = {True: True, False: False, "True": True, "False": False, "true": True,
                 "false": False, 1: True, 0: False, 1.0: True, 0.0: False}
            out[c.name] = pd.array([m.get(v, pd.NA) if not (v is None or v != v) else pd.NA
                                    for v in df[c.name].astype(object)], dtype="boolean")
        else:
            s = df[c.name].astype(object)
            out[c.name] = pd.array([None if (v is None or v != v) else str(v) for v in s], dtype="string")
    return pd.DataFrame(out)


def read_sdv_tables(out_dir: Path) -> dict:
    from schemas.model import TABLES, empty_frame

    return {name: (read_loose(out_dir / f"{name}.parquet", name) if (out_dir / f"{name}.parquet").exists()
                   else empty_frame(name)) for name in TABLES}


# --------------------------------------------------------------------------- scoring

def validity(tables: dict) -> dict:
    """Rows valid under single-table checks alone and under full validation, per table."""
    import numpy as np

    from pipeline import validate
    from pipeline.errors import StageFailed

    prepared = validate._prepare(tables)
    full = validate.validate_tables(tables, {}).report["tables"]
    per = {}
    tot = {"rows": 0, "single_table_valid": 0, "full_valid": 0}
    for name, df in prepared.items():
        n = len(df)
        if not n:
            continue
        try:
            f = validate.single_table_failures(name, df)
            bad = int(np.unique(f["pos"].to_numpy()).size) if len(f) else 0
            note = None
        except StageFailed as e:  # a column-level failure: no row of the table is usable
            bad, note = n, str(e)
        r = {"rows": n, "single_table_valid": n - bad, "full_valid": int(full[name]["rows_valid"]),
             "single_table_share": round((n - bad) / n, 4),
             "full_share": round(full[name]["rows_valid"] / n, 4),
             "top_checks": dict(sorted(full[name]["by_check"].items(), key=lambda kv: -kv[1])[:4])}
        if note:
            r["note"] = note
        per[name] = r
        tot["rows"] += n
        tot["single_table_valid"] += n - bad
        tot["full_valid"] += int(full[name]["rows_valid"])
    tot["single_table_share"] = round(tot["single_table_valid"] / tot["rows"], 4) if tot["rows"] else None
    tot["full_share"] = round(tot["full_valid"] / tot["rows"], 4) if tot["rows"] else None
    return {"total": tot, "tables": per}


def quality(real: dict, synth: dict) -> dict:
    from pipeline import evaluate_synthetic as es

    shapes = es.column_shapes(real, synth)
    struct = es.structure(es.structural_counts(real), es.structural_counts(synth))
    return {
        "column_shapes": shapes["score"],
        "column_shapes_single_table": shapes["score_single_table"],
        "structure": struct["score"],
        "per_table": {t: v["score"] for t, v in shapes["tables"].items()},
        "per_distribution": {k: v["ks_complement"] for k, v in struct["distributions"].items()},
        "exact_overlap": {k: (v["count"] if isinstance(v, dict) else v)
                          for k, v in es.exact_overlap(real, synth).items()},
    }


def crosscheck(sdv_in: Path, sdv_out: Path, theirs: dict) -> dict:
    """dcnet's KS/TV complement on the very columns SDMetrics scored, same value spelling."""
    import pyarrow.parquet as pq

    from pipeline import evaluate_synthetic as es

    diffs = {}
    for key, v in sorted(theirs.items()):
        table, col = key.split(".", 1)
        r = pq.read_table(sdv_in / f"{table}.parquet", columns=[col]).column(0).to_pylist()
        s = pq.read_table(sdv_out / f"{table}.parquet", columns=[col]).column(0).to_pylist()
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in r if x is not None)
        if numeric:
            ours = es.ks_complement(r, [x if isinstance(x, (int, float)) else None for x in s])
        else:
            ours = es.tv_complement([str(x) for x in r if x is not None], [str(x) for x in s if x is not None])
        diffs[key] = {"sdmetrics": v, "dcnet": ours,
                      "abs_diff": None if v is None or ours is None else abs(v - ours)}
    ok = [d["abs_diff"] for d in diffs.values() if d["abs_diff"] is not None]
    return {"columns": len(ok), "max_abs_diff": max(ok) if ok else None, "detail": diffs}


# --------------------------------------------------------------------------- dcnet synthesize

def size_of(real: dict) -> tuple[int, int]:
    """(compute hosts, tenant projects) of the real data: what `dcnet synthesize --hosts/--projects`
    count (network nodes, which carry no VM port, and the admin project owning the external
    network come on top)."""
    from pipeline.features import project_ids

    ports, nets = real["ports"], real["networks"]
    owner = ports["device_owner"].astype("string").fillna("")
    compute = set(ports.loc[owner.str.startswith("compute:"), "binding_host_id"].dropna())
    hosts = real["hosts"]["node_name"].astype("string")
    n_hosts = int(hosts.isin(compute).sum()) or len(hosts)
    admin = set(nets.loc[nets["router_external"].fillna(False).astype(bool), "project_id"].dropna())
    return n_hosts, len(set(project_ids(real)) - admin)


def run_dcnet(real: dict, work: Path, n_hosts: int, n_projects: int, seed: int) -> dict:
    out = work / "dcnet_out"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [DCNET, "synthesize", "--input", str(real["validated"]), "--labels", str(real["labels"]),
           "--predictions", str(real["predictions"]), "--out", str(out),
           "--model-out", str(work / "synth_model.json"), "--hosts", str(n_hosts),
           "--projects", str(n_projects), "--seed", str(seed)]
    m = measure(cmd, cwd=str(ROOT))
    return {"cmd": " ".join(_rel(x) for x in cmd), "wall_s": m["wall_s"],
            "peak_rss_mb": m["peak_rss_mb"], "out": out}


def dcnet_inprocess(real: dict, real_paths: dict, params: dict, n_hosts: int, n_projects: int,
                    seed: int) -> dict:
    """learn and generate timed in-process (imports excluded): like for like with SDV's
    fit and sample. The CLI figure above adds start-up, validation and writing."""
    pd = _pd()
    from pipeline import synthesize as st

    p = json.loads(json.dumps(params))
    p["synthesize"] = {**(p.get("synthesize") or {}), "hosts": n_hosts, "projects": n_projects,
                       "seed": seed}
    lab = pd.read_parquet(real_paths["labels"] / "project_profile.parquet")
    pred_path = real_paths["predictions"] / "project_profile.parquet"
    pred = pd.read_parquet(pred_path) if pred_path.exists() else None
    try:
        t = time.perf_counter()
        profiles = st.profiles_from(lab, pred)
        model = st.learn(real, profiles, p)
        learn_s = time.perf_counter() - t
        t = time.perf_counter()
        st.generate(model, p, exclude=st.Exclusions.from_tables(real))
        gen_s = time.perf_counter() - t
    except Exception as e:  # the synthesizer's API moved: the CLI figure still stands
        return {"error": f"{type(e).__name__}: {e}"}
    return {"learn_s": round(learn_s, 3), "generate_s": round(gen_s, 3),
            "learn_generate_s": round(learn_s + gen_s, 3)}


def _rel(x: str) -> str:
    try:
        return str(Path(x).resolve().relative_to(ROOT))
    except ValueError:
        return x


# --------------------------------------------------------------------------- main

def bench_scale(scale: int, a, params: dict) -> dict:
    from pipeline import io

    work = a.work / f"x{scale}"
    work.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    real_paths = prepare_real(scale, work, params)
    prep_s = time.perf_counter() - t
    real = io.read_tables(real_paths["validated"])
    sizes = {k: len(v) for k, v in real.items() if len(v)}
    n_hosts, n_projects = size_of(real)

    # SDV in its own venv.
    sdv_in, sdv_out = work / "sdv_in", work / "sdv_out"
    export_for_sdv(real, sdv_in)
    shutil.rmtree(sdv_out, ignore_errors=True)
    sdv_cmd = [str(a.sdv_python), str(HERE / "sdv_peer.py"), "--input", str(sdv_in), "--output",
               str(sdv_out), "--report", str(work / "sdv_report.json"), "--seed", str(a.seed)]
    if a.crosscheck:
        sdv_cmd.append("--crosscheck")
    sdv_m = measure(sdv_cmd, cwd=str(ROOT))
    sdv_rep = json.loads((work / "sdv_report.json").read_text())
    per_table = {}
    fit_sample = 0.0
    for name, r in sorted(sdv_rep["tables"].items()):
        fs = (r.get("fit_s") or 0) + (r.get("sample_s") or 0)
        fit_sample += fs
        per_table[name] = {k: r.get(k) for k in ("rows", "columns", "fit_s", "sample_s", "error")
                           if r.get(k) is not None} | {"fit_sample_s": round(fs, 3)}
    sdv_tables = read_sdv_tables(sdv_out)

    # dcnet at the same size.
    dc = run_dcnet(real_paths, work, n_hosts, n_projects, a.seed)
    dc_tables = io.read_tables(dc["out"])
    dc_inproc = dcnet_inprocess(real, real_paths, params, n_hosts, n_projects, a.seed)

    res = {
        "scale": scale, "real_source": real_paths["raw"], "real_rows": sizes,
        "real_hosts": n_hosts, "real_projects": n_projects, "prepare_s": round(prep_s, 2),
        "sdv": {
            "version": sdv_rep.get("sdv_version"), "pandas": sdv_rep.get("pandas_version"),
            "import_s": sdv_rep.get("import_s"),
            "fit_sample_s": round(fit_sample, 2), "process_wall_s": sdv_m["wall_s"],
            "peak_rss_mb": sdv_m["peak_rss_mb"], "per_table": per_table,
            "rows": {k: len(v) for k, v in sdv_tables.items() if len(v)},
            "quality": quality(real, sdv_tables), "validity": validity(sdv_tables),
        },
        "dcnet": {
            "cmd": dc["cmd"], "wall_s": dc["wall_s"], "peak_rss_mb": dc["peak_rss_mb"],
            "in_process": dc_inproc,
            "rows": {k: len(v) for k, v in dc_tables.items() if len(v)},
            "quality": quality(real, dc_tables), "validity": validity(dc_tables),
        },
    }
    res["speedup_fit_sample_vs_dcnet_wall"] = round(fit_sample / dc["wall_s"], 1) if dc["wall_s"] else None
    lg = dc_inproc.get("learn_generate_s")
    res["speedup_fit_sample_vs_learn_generate"] = round(fit_sample / lg, 1) if lg else None
    res["speedup_process_wall"] = round(sdv_m["wall_s"] / dc["wall_s"], 1) if dc["wall_s"] else None
    if a.crosscheck and "sdmetrics_crosscheck" in sdv_rep:
        res["crosscheck"] = crosscheck(sdv_in, sdv_out, sdv_rep["sdmetrics_crosscheck"])
    if not a.keep:
        for d in ("interim", "quarantine", "features", "sdv_in", "sdv_out", "dcnet_out"):
            shutil.rmtree(work / d, ignore_errors=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sdv-python", type=Path, default=HERE / ".sdv-venv" / "bin" / "python")
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=HERE / ".work" / "sdv")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "synth_vs_sdv.json")
    ap.add_argument("--no-crosscheck", dest="crosscheck", action="store_false")
    ap.add_argument("--keep", action="store_true", help="keep generated tables")
    a = ap.parse_args()
    if not a.sdv_python.exists():
        sys.exit(f"{a.sdv_python} missing: run `make bench-sdv` (creates benchmarks/.sdv-venv)")
    from pipeline import io

    params = io.load_params(ROOT / "params.yaml")
    results = []
    for s in a.scales:
        r = bench_scale(s, a, params)
        results.append(r)
        print(json.dumps({k: r[k] for k in ("scale", "speedup_fit_sample_vs_dcnet_wall",
                                            "speedup_fit_sample_vs_learn_generate")}
                         | {"sdv_s": r["sdv"]["fit_sample_s"], "dcnet_s": r["dcnet"]["wall_s"],
                            "sdv_shapes": r["sdv"]["quality"]["column_shapes"],
                            "dcnet_shapes": r["dcnet"]["quality"]["column_shapes"],
                            "sdv_full_valid": r["sdv"]["validity"]["total"]["full_share"],
                            "dcnet_full_valid": r["dcnet"]["validity"]["total"]["full_share"]}),
              flush=True)
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "platform": platform.platform()},
           "command": "make bench-sdv", "results": results}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(out, indent=2, sort_keys=True, default=str) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
