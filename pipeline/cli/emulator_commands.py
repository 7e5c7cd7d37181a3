"""The emulator commands: export, check-export, emulate."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from pipeline.cli.apps import ENGINE_OPT, PARAMS_OPT, SCHEDULER_OPT, app, open_engine
from pipeline.cli.console import fail, friendly, progress


@app.command()
@friendly
def export(
    fmt: Optional[str] = typer.Option(None, "--format", "-f",
                                      help="mininet, merak, alcor, containerlab, graphml, all, or a "
                                           "comma list (default: params export.formats, else all)."),
    input: Path = typer.Option(Path("data/synthetic"), "--input", "-i",
                               help="Canonical tables (validated or synthetic)."),
    out: Path = typer.Option(Path("data/export"), "--out", "-o", help="Writes OUT/<format>/."),
    derive_fabric: bool = typer.Option(False, "--derive-fabric",
                                       help="Build the physical fabric from hosts (params `fabric:`) "
                                            "instead of reading fabric_switches/fabric_links."),
    report: Optional[Path] = typer.Option(None, help="Export report JSON (default OUT/_export_report.json)."),
    params_file: Path = PARAMS_OPT,
    engine: Optional[str] = ENGINE_OPT,
    scheduler: Optional[str] = SCHEDULER_OPT,
):
    """Export the topology for emulators: Mininet/Distrinet, Merak, Alcor (+K6), containerlab, GraphML."""
    from pipeline import io
    import pipeline.cli.render as render
    from pipeline.export import stage

    params = io.load_params(params_file)
    timings = {}
    with open_engine(params, engine, scheduler) as runner, progress() as prog:
        task = prog.add_task("export", total=None)
        written: list = []

        def on_written(name: str) -> None:
            written.append(name)
            prog.update(task, completed=len(written), description=f"export: {name} written")

        rep = stage.run(params, input, out, fmt, derive_fabric, report,
                        on_format=lambda f, s: timings.__setitem__(f, s), on_written=on_written,
                        engine=runner)
    render.print_export(rep, timings, out)


@app.command("check-export")
@friendly
def check_export(
    export_dir: Path = typer.Argument(Path("data/export"), help="Export folder (holds alcor/, merak/, ...)."),
    consumer: Optional[list[str]] = typer.Option(None, "--consumer", "-c",
                                                 help="Only this consumer (repeatable): alcor, merak, "
                                                      "distrinet, containerlab."),
    report: Optional[Path] = typer.Option(None, help="Write the findings as JSON here "
                                                     "(default DIR/_check_report.json)."),
):
    """Check an export folder against the consumers' contracts; exit 1 on any violation."""
    import pipeline.cli.render as render
    from pipeline.check_export import stage

    with progress() as prog:
        task = prog.add_task("check-export", total=None)
        reports = stage.run(export_dir, consumer, report, on_done=lambda name, i, n: prog.update(
            task, total=n, completed=i, description=f"check-export: {name} done"))
    render.print_check(reports, export_dir)
    if any(not r.ok for r in reports):
        raise typer.Exit(1)


@app.command()
@friendly
def emulate(
    input: Path = typer.Option(Path("data/synthetic"), "--input", "-i",
                               help="Canonical tables (synthetic or validated)."),
    switch: str = typer.Option("lxbr", "--switch",
                               help="lxbr (Linux bridges, no kernel module needed) or ovs-user "
                                    "(Open vSwitch user-space datapath)."),
    probes: int = typer.Option(200, "--probes", "-n", help="Probes, stratified over the classes."),
    seed: int = typer.Option(0, "--seed", help="Probe sampling seed."),
    max_hosts: Optional[int] = typer.Option(None, "--max-hosts",
                                            help="Emulate all VMs of the first N compute hosts "
                                                 "(by name) that carry the chosen projects."),
    projects: Optional[str] = typer.Option(None, "--projects",
                                           help="Comma list of project ids to emulate (default all)."),
    security_groups: bool = typer.Option(True, "--security-groups/--no-security-groups",
                                         help="Enforce security-group ingress rules in the VMs."),
    egress: bool = typer.Option(False, "--egress/--no-egress",
                                help="Also enforce egress rules (groups without egress rules then "
                                     "block all outgoing traffic)."),
    report: Path = typer.Option(Path("reports/emulation.json"), "--report", help="JSON report."),
    markdown: Path = typer.Option(Path("reports/emulation.md"), "--markdown", help="Readable report."),
    plan_out: Optional[Path] = typer.Option(None, "--plan-out",
                                            help="Only write the plan (nodes, links, addresses, "
                                                 "routes, iptables rules) and the sampled probes "
                                                 "with their expected outcome as JSON; no root "
                                                 "needed, nothing is started."),
):
    """Run the data center in real Mininet (root) and check reachability against the config."""
    from pipeline.emulate.live import SWITCHES, preflight
    from pipeline.errors import InputError

    if switch not in SWITCHES:
        raise InputError(f"--switch {switch}: choose from {', '.join(SWITCHES)}")
    if probes < 1 or (max_hosts is not None and max_hosts < 1):
        raise InputError("--probes and --max-hosts must be at least 1")
    problem = None if plan_out else preflight(switch)
    if problem:
        fail(problem, 2)
    import pipeline.cli.render as render
    from pipeline.cli.console import console
    from pipeline.emulate import stage
    from pipeline.emulate.run import Options

    opts = Options(switch=switch, probes=probes, seed=seed, max_hosts=max_hosts,
                   projects=[p for p in (projects or "").split(",") if p] or None,
                   security_groups=security_groups, egress=egress)
    rep = stage.run(input, opts, report, markdown, plan_out, say=console().print)
    if rep is None:  # --plan-out: the plan is written, nothing ran
        return
    render.print_emulation(rep, report, markdown)
    if rep["mismatches_total"]:
        raise typer.Exit(1)
