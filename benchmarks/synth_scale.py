"""Benchmark: `dcnet synthesize` at data-center scale (generate + validate + write).

    python benchmarks/synth_scale.py                       # 10k hosts / 5.7k projects, 100k / 57k
    python benchmarks/synth_scale.py --scales 10000:5700

The real input is the embedded sample, ingested and validated once into benchmarks/.work/.
Each scale runs `dcnet synthesize --hosts H --projects P` as a subprocess measured by
harness.measure() (wall time, peak RSS of the process tree); the command itself validates its
output and fails on a single quarantined row. Projects are chosen so ports come out at about
50 per project (the sample's ratio): ~500k ports at 10k hosts, ~5M at 100k.
Target (issue 4): 5M ports generated, validated and written in under 2 minutes, under 8 GB.
Results: benchmarks/results/synth_scale.json; benchmarks/README.md quotes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path


HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from harness import measure  # noqa: E402

DCNET = str(Path(sys.executable).with_name("dcnet"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scales", nargs="+", default=["10000:5700", "100000:57000"],
                    help="HOSTS:PROJECTS pairs")
    ap.add_argument("--work", type=Path, default=HERE / ".work" / "synth")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--params", type=Path, default=None, help="params file (default: params.yaml)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "synth_scale.json")
    a = ap.parse_args()
    interim, valid = a.work / "interim", a.work / "validated"
    if not valid.exists():
        subprocess.run([DCNET, "ingest", "--input", str(ROOT / "data/raw/sample"), "--out", str(interim)],
                       cwd=ROOT, check=True, capture_output=True)
        subprocess.run([DCNET, "validate", "--input", str(interim), "--out", str(valid), "--quarantine",
                        str(a.work / "quarantine"), "--report", str(a.work / "validation.json")],
                       cwd=ROOT, check=True, capture_output=True)
    results = []
    for scale in a.scales:
        hosts, projects = (int(x) for x in scale.split(":"))
        out = a.work / f"syn_{hosts}"
        m = measure([DCNET, "synthesize", "--input", str(valid), "--out", str(out), "--hosts", str(hosts),
                     "--projects", str(projects), "--labels", str(a.work / "none"),
                     "--predictions", str(a.work / "none"), "--model-out", str(a.work / f"model_{hosts}.json"),
                     *(["--params", str(a.params)] if a.params else [])],
                    cwd=str(ROOT))
        # from the manifest: a table above engine.partition_rows is a folder of parts
        rows = {name: entry["rows"] for name, entry in
                json.loads((out / "_manifest.json").read_text())["tables"].items()}
        r = {"hosts": hosts, "projects": projects, "ports": rows.get("ports"),
             "rows_total": sum(rows.values()), **m}
        print(json.dumps(r), flush=True)
        results.append(r)
        if not a.keep:
            shutil.rmtree(out, ignore_errors=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps({"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                                 "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
