"""What the `dcnet` commands print: rich tables and one-line summaries on stderr (the runs table
and the sample summary on stdout). Nothing here computes a stage's result; every function takes
what the stage returned. rich is imported inside the functions, so that `dcnet --help` stays
fast."""

from __future__ import annotations

import sys

from pipeline.cli.console import console


def print_counts(title, counts, warnings=()):
    from rich.table import Table

    t = Table(title=title)
    t.add_column("table")
    t.add_column("rows", justify="right")
    for k, v in counts.items():
        t.add_row(k, f"{v:,}")
    c = console()
    c.print(t)
    for w in warnings:
        c.print(f"[yellow]warning[/]: {w}")


def print_validation(rep):
    from rich.table import Table

    t = Table(title="validation")
    for col in ("table", "rows in", "valid", "quarantined", "warnings"):
        t.add_column(col, justify="left" if col == "table" else "right")
    for name, r in rep["tables"].items():
        t.add_row(name, f"{r['rows_in']:,}", f"{r['rows_valid']:,}", f"{r['rows_quarantined']:,}",
                  f"{r.get('warnings', 0):,}")
    console().print(t)


def print_training(result, run_id) -> None:
    from rich.table import Table

    m = result.metrics
    ev = m.get("eval") or {}
    t = Table(title=f"train {result.task}: {result.model_name}, {result.cv_folds}-fold CV, "
                    f"{m['n_labelled']:,} labelled, {m['n_features']} features")
    t.add_column("")
    t.add_column("macro-F1", justify="right")
    t.add_column("accuracy", justify="right")
    if ev.get("n"):
        t.add_column(f"macro-F1 on {result.evaluate_on_source} ({ev['n']:,})", justify="right")
    for name in ("model", "majority", "rule", "tree_rule"):
        if name not in m:
            continue
        ci = (f" [{m[name]['macro_f1_ci_low']:.3f}, {m[name]['macro_f1_ci_high']:.3f}]"
              if "macro_f1_ci_low" in m[name] else "")
        row = [name, f"{m[name]['macro_f1']:.3f}{ci}", f"{m[name]['accuracy']:.3f}"]
        if ev.get("n"):
            row.append(f"{ev.get(f'{name}_macro_f1', float('nan')):.3f}")
        t.add_row(*row)
    c = console()
    c.print(t)
    bench = m.get("benchmark")
    for view, block in (("benchmark", bench), ("benchmark scrubbed", (bench or {}).get("scrubbed"))):
        if not block:
            continue
        tr = block["transfer"]
        c.print(f"{view} (forbidden: {', '.join(block['forbid_sources']) or 'none'}): "
                f"CV on A {block['a_cv']['model']['macro_f1']:.3f}, transfer A->B "
                f"{tr['model']['macro_f1']:.3f} [{tr['model'].get('macro_f1_ci_low', 0):.3f}, "
                f"{tr['model'].get('macro_f1_ci_high', 0):.3f}], best rule {tr['best_rule_macro_f1']:.3f}")
    for w in result.warnings:
        c.print(f"[yellow]warning[/]: {w}")
    if run_id:
        c.print(f"MLflow run {run_id}")


def print_heldout(rep) -> None:
    h = rep.get("utility_heldout")
    if not h:
        return
    line = (f"held-out TSTR {h['tstr_heldout_mean']:.3f} ± {h['tstr_heldout_sd']:.3f} vs TRTR "
            f"{h['trtr_heldout_mean']:.3f} ± {h['trtr_heldout_sd']:.3f} (gap {h['gap_heldout']:+.3f}, "
            f"max {rep['gates']['tstr_heldout']['max']})")
    if "tstr_other_mean" in h:
        line += (f"; on data center B TSTR {h['tstr_other_mean']:.3f} ± {h['tstr_other_sd']:.3f} vs "
                 f"TRTR {h['trtr_other_mean']:.3f} ± {h['trtr_other_sd']:.3f}")
    console().print(line + f"; {len(h['seeds'])} seeds")


def print_synthetic(rep, run_id, notes) -> None:
    print_heldout(rep)
    from rich.table import Table

    def f(x):
        return "n/a" if x is None else f"{x:.3f}"

    fid, util, priv = rep["fidelity"], rep["utility"], rep["privacy"]
    t = Table(title="synthetic data vs real")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("fidelity (overall)", f(fid["overall"]))
    for k, v in fid["parts"].items():
        t.add_row(f"  {k.replace('_', ' ')}", f(v))
    base = fid.get("real_baseline") or {}
    t.add_row("fidelity: real half vs real half (baseline)", f(base.get("overall")))
    t.add_row("fidelity: profile mix (apart)", f(fid["profile_mix"]["tv_complement"]))
    const = fid["column_shapes"].get("constant_columns") or {}
    t.add_row(f"fidelity: {const.get('n', 0)} columns constant in real (apart)", f(const.get("score")))
    for k, v in fid["structure"]["distributions"].items():
        t.add_row(f"    {k.replace('_', ' ')}", f(v["ks_complement"]))
    t.add_row("utility: TSTR macro-F1", f(util.get("tstr_macro_f1")))
    t.add_row("utility: TRTR macro-F1 (CV)", f(util.get("trtr_macro_f1")))
    t.add_row("privacy: real values reused", str(priv["exact_overlap"]["total"]))
    d = priv["dcr"]
    t.add_row("privacy: DCR median synthetic / holdout",
              f"{f(d.get('median_synthetic'))} / {f(d.get('median_holdout'))}")
    t.add_row("privacy: synthetic below holdout p5", f(d.get("share_synthetic_below_holdout_p5")))
    c = console()
    c.print(t)
    for n in notes:
        c.print(f"[yellow]note[/]: {n}")
    for k in ("tstr_error", "trtr_error", "error"):
        if util.get(k):
            c.print(f"[yellow]warning[/]: utility: {util[k]}")
    if d.get("error"):
        c.print(f"[yellow]warning[/]: DCR: {d['error']}")
    if run_id:
        c.print(f"MLflow run {run_id}")


def print_export(rep, timings, out) -> None:
    from rich.table import Table

    s = rep["topology"]
    fabric = "no" if s['fabric'] in (None, "none") else s['fabric']
    t = Table(title=f"export to {out}: {fabric} fabric{' (derived)' if s['fabric_derived'] else ''}, "
                    f"{s['fabric_switches']:,} switches, {s['compute_hosts']:,} hosts, {s['vms']:,} VMs")
    t.add_column("format")
    t.add_column("files")
    t.add_column("details")
    t.add_column("seconds", justify="right")
    for fmt, r in rep["formats"].items():
        details = ", ".join(f"{k}={v}" for k, v in r.items()
                            if k not in ("files", "by_endpoint") and not isinstance(v, (dict, list)))
        t.add_row(fmt, ", ".join(r["files"][:4]) + (" ..." if len(r["files"]) > 4 else ""),
                  details, f"{timings.get(fmt, 0):.1f}")
    c = console()
    c.print(t)
    for fmt, r in rep["formats"].items():  # what a consumer cannot take, per reason
        for key, label in (("left_out", "left out"), ("changed", "changed"),
                           ("not_used_by_merak", "not used by Merak")):
            for reason, n in (r.get(key) or {}).items():
                c.print(f"{fmt}: {label}: {n:,} {reason}")
    if s.get("compute_ports_unplaced"):
        c.print(f"[yellow]warning[/]: {s['compute_ports_unplaced']:,} compute ports bound to no "
                f"known host are not in the topology")


def print_check(reports, export_dir) -> None:
    from rich.table import Table

    t = Table(title=f"check-export {export_dir}")
    for col in ("consumer", "checked", "rule", "violations", "first example"):
        t.add_column(col)
    for r in reports:
        checked = f"{r.checked:,} {r.unit}" if r.present else "absent"
        if r.ok:
            t.add_row(r.consumer, checked, "", "0" if r.present else "", "")
        for i, (rule, v) in enumerate(sorted(r.violations.items())):
            t.add_row(r.consumer if i == 0 else "", checked if i == 0 else "", rule,
                      f"{v.count:,}", v.example[:120])
    console().print(t)


def print_emulation(rep, report, markdown) -> None:
    from rich.table import Table

    t = Table(title=f"emulation: {rep['probes_total']} probes, {rep['mismatches_total']} mismatches")
    for col in ("class", "probes", "expected reachable", "observed reachable", "mismatches"):
        t.add_column(col, justify="left" if col == "class" else "right")
    for cls, v in rep["classes"].items():
        t.add_row(cls, str(v["probes"]), str(v["expected_reachable"]), str(v["observed_reachable"]),
                  str(v["mismatches"]))
    c = console()
    c.print(t)
    tm = rep["timings"]
    c.print(f"start {tm.get('start_s')} s ({tm.get('start_nodes_per_s')} nodes/s), converge "
            f"{tm.get('converge_s')} s, probes {tm.get('probe_s')} s ({tm.get('probes_per_s')}/s), "
            f"stop {tm.get('stop_s')} s; wrote {report} and {markdown}")


def print_sample(summary, out) -> None:
    import typer

    typer.echo(f"wrote sample dataset to {out}: " + ", ".join(f"{k}={v}" for k, v in summary.items()))


def print_ingest(rows: dict, rep) -> None:
    """rows: {table: row count}."""
    # Skipped (unreadable) and unknown files are both shown: neither may pass unnoticed.
    print_counts("ingested", dict(rows),
                 [f"{f['file']}: skipped, {f['reason']}" for f in rep.get("skipped_files", [])]
                 + [f"{f['file']}: {f['reason']}" for f in rep.get("unknown_files", [])]
                 + [f"{f['file']}: passed over, {f['reason']}" for f in rep.get("passed_over", [])]
                 + ([f"{rep['redacted_values']:,} values of secret-like keys redacted "
                     f"({', '.join(rep['redacted_keys'])})"] if rep.get("redacted_values") else []))


def print_labels(written, rep) -> None:
    outside = [f"tasks.{t}: labels outside labels.classes (typo?): "
               + ", ".join(f"{k} ({v})" for k, v in r["classes_outside_vocabulary"].items())
               for t, r in rep.items() if r.get("classes_outside_vocabulary")]
    print_counts("labels", {k: len(v) for k, v in written.items()}, outside)


def print_demand(rep, targets, bench, run_id) -> None:
    from rich.table import Table

    t = Table(title=f"config prediction: MAE (MAPE), model vs per-profile median, {rep['cv']['n']} projects")
    t.add_column("")
    for name in targets:
        t.add_column(name, justify="right")
    blocks = [("CV", rep["cv"])] + ([("bench A CV", rep["benchmark"]["a_cv"]),
                                     ("bench A->B", rep["benchmark"]["transfer"])] if bench else [])
    for label, b in blocks:
        for who in ("model", "baseline"):
            t.add_row(f"{label} {who}", *[f"{b['targets'][n][who]['mae']:.2f} ({b['targets'][n][who]['mape']:.2f})"
                                          for n in targets])
    c = console()
    c.print(t)
    for label, b in blocks:
        c.print(f"{label}: MAE reduction vs per-profile median {b['mae_reduction']:+.3f}")
    if run_id:
        c.print(f"MLflow run {run_id}")


def print_synthesis(summary, out, model_out) -> None:
    kinds = ", ".join(f"{k} {v}" for k, v in summary["kinds"].items())
    print_counts("synthetic data center (0 rows quarantined)", summary["rows"])
    console().print(f"project kinds: {kinds or 'none (no labels, predictions or naming matches)'}")
    if summary.get("replaced_values"):
        console().print("values outside the known vocabularies, learned as a neutral value: "
                        + ", ".join(f"{k} {v:,}" for k, v in summary["replaced_values"].items()))
    console().print(f"wrote {out} and {model_out}")


def print_runs(df, task, tracking_uri) -> None:
    """The MLflow runs table (`dcnet runs`), on stdout; `df` None when there is no store."""
    from rich.console import Console
    from rich.table import Table

    # A wide table even when piped (rich would wrap it at 80 columns).
    out = Console(width=None if sys.stdout.isatty() else 200)
    if df is None:
        out.print(f"no MLflow runs yet: {tracking_uri} does not exist (run dcnet train)")
        return
    if not len(df):
        out.print(f"no finished training runs{f' for task {task}' if task else ''} in "
                  f"{tracking_uri}")
        return

    def num(row, col):
        v = row.get(f"metrics.{col}")
        return "" if v is None or v != v else f"{v:.3f}"

    def text(row, col):
        v = row.get(col)
        return "" if v is None or v != v else str(v)  # v != v: NaN for a missing tag

    t = Table(title=f"training runs ({tracking_uri}), ranked by CV macro-F1 "
                    "(config_demand: by CV MAE reduction against the per-profile median)")
    for col, just in (("task", "left"), ("#", "right"), ("run", "left"), ("run id", "left"),
                      ("model", "left"), ("DVC exp", "left"), ("macro-F1", "right"),
                      ("majority", "right"), ("rule", "right"), ("eval macro-F1", "right"),
                      ("accuracy", "right"), ("started", "left")):
        t.add_column(col, justify=just)
    rank = {}
    for _, row in df.iterrows():
        rank[row["task"]] = rank.get(row["task"], 0) + 1
        started = row.get("start_time")
        t.add_row(row["task"], str(rank[row["task"]]), text(row, "tags.mlflow.runName"),
                  str(row["run_id"])[:8], text(row, "params.model"),
                  text(row, "tags.dvc_exp_name"),
                  num(row, "model_macro_f1") or num(row, "model_mae_reduction"),
                  num(row, "majority_macro_f1"), num(row, "rule_macro_f1"),
                  num(row, "eval_model_macro_f1"), num(row, "model_accuracy"),
                  started.strftime("%Y-%m-%d %H:%M:%S") if hasattr(started, "strftime") else str(started))
    out.print(t)
