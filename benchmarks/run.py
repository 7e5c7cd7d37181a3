"""Benchmarks: ingest + validate on generated dumps of 100k and 1M ports.

    make bench                      # both sizes
    python benchmarks/run.py --sizes 100000

Results go to benchmarks/results/ingest_validate.json; benchmarks/README.md quotes them.
Targets (issue 2): 1M ports ingested and validated in under 60 s, peak RSS under 6 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from gen_dump import generate  # noqa: E402
from harness import measure  # noqa: E402

DCNET = str(Path(sys.executable).with_name("dcnet"))


def to_single_ndjson(pages: Path, raw: Path) -> None:
    """Every object of the generated dump as one line of one NDJSON file (bare objects)."""
    import orjson

    raw.mkdir(parents=True, exist_ok=True)
    with open(raw / "all.ndjson", "wb") as fh:
        for f in sorted(pages.iterdir()):
            for k, v in orjson.loads(f.read_bytes()).items():
                if isinstance(v, list) and not k.endswith("_links"):
                    for o in v:
                        fh.write(orjson.dumps(o) + b"\n")
    shutil.rmtree(pages)


def bench_size(n: int, work: Path, keep: bool, ndjson: bool = False) -> dict:
    raw = work / f"{n}" / ("raw-ndjson" if ndjson else "raw")
    if not raw.exists():
        if ndjson:
            generate(n, work / f"{n}" / "pages")
            to_single_ndjson(work / f"{n}" / "pages", raw)
        else:
            generate(n, raw)
    info = {"ports": n, "bytes": sum(p.stat().st_size for p in raw.iterdir())}
    interim, valid, quar = (work / f"{n}" / d for d in ("interim", "validated", "quarantine"))
    ing = measure([DCNET, "ingest", "--input", str(raw), "--out", str(interim)], cwd=str(ROOT))
    val = measure([DCNET, "validate", "--input", str(interim), "--out", str(valid),
                   "--quarantine", str(quar), "--report", str(work / f"{n}" / "validation.json")],
                  cwd=str(ROOT))
    rep = json.loads((work / f"{n}" / "validation.json").read_text())
    res = {"ports": n, "dump_mb": round(info["bytes"] / 2**20, 1), "ingest": ing, "validate": val,
           "total_wall_s": round(ing["wall_s"] + val["wall_s"], 2),
           "peak_rss_mb": max(ing["peak_rss_mb"], val["peak_rss_mb"]),
           "peak_pss_mb": max(ing["peak_pss_mb"], val["peak_pss_mb"]),
           "rows_quarantined": rep["totals"]["rows_quarantined"] if "totals" in rep else None}
    if not keep:
        shutil.rmtree(work / f"{n}", ignore_errors=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--work", type=Path, default=HERE / ".work")
    ap.add_argument("--keep", action="store_true", help="keep generated dumps and outputs")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "ingest_validate.json")
    ap.add_argument("--single-ndjson", action="store_true",
                    help="the same dump as one NDJSON file of bare objects (no pagination)")
    a = ap.parse_args()
    results = []
    for n in a.sizes:
        r = bench_size(n, a.work, a.keep, a.single_ndjson)
        print(json.dumps(r), flush=True)
        results.append(r)
    meta = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                        "platform": platform.platform()}, "results": results}
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(meta, indent=2) + "\n")


if __name__ == "__main__":
    main()
