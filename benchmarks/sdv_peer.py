"""SDV peer: GaussianCopulaSynthesizer per table. Runs INSIDE benchmarks/.sdv-venv only.

SDV (BSL 1.1) needs pandas<3 and torch, so it never shares dcnet's environment; this script
only reads the parquet tables that benchmarks/synth_vs_sdv.py exported from dcnet's venv and
writes parquet back, plus a JSON of timings. Driven by `make bench-sdv`; by hand:

    benchmarks/.sdv-venv/bin/python benchmarks/sdv_peer.py --input IN --output OUT --report R.json

Per table: Metadata.detect_from_dataframes (SDV's own type detection), fit, sample as many rows
as the real table has. Timings are in-process wall times of fit and sample (imports excluded).
With --crosscheck, SDMetrics' own KSComplement/TVComplement are computed on plain columns of
real vs SDV output, so the driver can check dcnet's re-implementation against them.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

# Plain (not derived) columns of dcnet's comparison, by table: (column, numeric?).
CROSSCHECK = {
    "networks": [("status", False), ("admin_state_up", False), ("shared", False),
                 ("router_external", False), ("port_security_enabled", False), ("mtu", True)],
    "subnets": [("ip_version", False), ("enable_dhcp", False)],
    "ports": [("status", False), ("admin_state_up", False), ("port_security_enabled", False),
              ("binding_vif_type", False), ("binding_vnic_type", False)],
    "security_groups": [("stateful", False)],
    "security_group_rules": [("direction", False), ("ethertype", False),
                             ("port_range_min", True), ("port_range_max", True)],
    "routers": [("admin_state_up", False), ("status", False), ("distributed", False),
                ("ha", False), ("enable_snat", False)],
    "floating_ips": [("status", False)],
}


def read(path: Path) -> pd.DataFrame:
    # ignore_metadata: dcnet writes pandas-3 dtypes; plain numpy/object columns are what SDV
    # expects (nullable ints become float with NaN, strings object).
    return pq.read_table(path).to_pandas(ignore_metadata=True)


def write(df: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path, compression="zstd")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, required=True)
    ap.add_argument("--output", type=Path, required=True)
    ap.add_argument("--report", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--crosscheck", action="store_true")
    a = ap.parse_args()

    t0 = time.perf_counter()
    import sdv
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer
    import_s = time.perf_counter() - t0

    out = {"sdv_version": sdv.__version__, "pandas_version": pd.__version__,
           "import_s": round(import_s, 3), "tables": {}}
    for path in sorted(a.input.glob("*.parquet")):
        name = path.stem
        df = read(path)
        rec = {"rows": int(len(df)), "columns": int(df.shape[1])}
        try:
            np.random.seed(a.seed)  # GaussianCopula samples from numpy's global generator
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = time.perf_counter()
                md = Metadata.detect_from_dataframes({name: df})
                rec["detect_s"] = round(time.perf_counter() - t, 3)
                synth = GaussianCopulaSynthesizer(md)
                t = time.perf_counter()
                synth.fit({name: df})  # SDV 2: single-table synthesizers take {name: df}
                rec["fit_s"] = round(time.perf_counter() - t, 3)
                t = time.perf_counter()
                fake = synth.sample(num_rows=len(df))
                rec["sample_s"] = round(time.perf_counter() - t, 3)
            if isinstance(fake, dict):  # ... and return {name: df}
                fake = fake[name]
            cols = md.to_dict()["tables"][name]["columns"]
            rec["sdtypes"] = {c: v.get("sdtype") for c, v in cols.items()}
            write(fake, a.output / f"{name}.parquet")
        except Exception as e:  # report and go on: one table SDV cannot model is a result too
            rec["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
        out["tables"][name] = rec

    if a.crosscheck:
        from sdmetrics.single_column import KSComplement, TVComplement

        cc = {}
        for name, cols in CROSSCHECK.items():
            rp, sp = a.input / f"{name}.parquet", a.output / f"{name}.parquet"
            if not (rp.exists() and sp.exists()):
                continue
            real, fake = read(rp), read(sp)
            for col, numeric in cols:
                if col not in real or col not in fake or real[col].dropna().empty or fake[col].dropna().empty:
                    continue
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    if numeric:
                        v = KSComplement.compute(pd.to_numeric(real[col], errors="coerce"),
                                                 pd.to_numeric(fake[col], errors="coerce"))
                    else:
                        # Same value spelling on both sides (True vs "True").
                        v = TVComplement.compute(real[col].dropna().astype(str), fake[col].dropna().astype(str))
                cc[f"{name}.{col}"] = None if v is None or v != v else float(v)
        out["sdmetrics_crosscheck"] = cc
    a.report.parent.mkdir(parents=True, exist_ok=True)
    a.report.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
