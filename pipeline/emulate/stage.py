"""The emulate stage's entry point: read the tables, plan and sample probes, run the emulation
(or only write the plan), write the reports. The CLI checks the options and root first."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

from pipeline import io
from pipeline.emulate.live import EmulationError
from pipeline.emulate.report import markdown as to_markdown
from pipeline.emulate.run import Options, emulate as run_emulation, plan_document, prepare
from pipeline.errors import InputError, StageFailed


def run(input: Path, opts: Options, report: Path, markdown: Path, plan_out: Optional[Path],
        say: Callable[[str], None]) -> Optional[dict[str, Any]]:
    """Emulate the tables of `input`; `say` prints a progress line (rich markup). The report,
    written to `report` and `markdown`; None with `plan_out` (only the plan is written)."""
    tables = io.read_tables(input)
    try:
        cfg, plan, sampled, expected = prepare(tables, opts)
    except InputError as e:
        raise InputError(f"{input}: {e}" if not str(e).startswith("--") else str(e)) from e
    if not cfg.vms:
        raise InputError(f"{input}: no VM (compute port bound to a known host) to emulate")
    if cfg.slice.get("compute_ports_unplaced"):
        say(f"[yellow]warning[/]: {cfg.slice['compute_ports_unplaced']:,} compute ports bound to "
            f"no known host or network are not emulated")
    if plan_out:
        io.write_json(plan_document(plan, sampled, expected), plan_out)
        say(f"wrote {plan_out}: {plan.counts()}, {len(sampled)} probes")
        return None
    counts = plan.counts()
    say(f"emulating {counts['vms']} VMs, {counts['routers']} routers, {counts['segments']} "
        f"segments on {cfg.slice['hosts']} hosts ({opts.switch}); {len(sampled)} probes")
    try:
        rep = run_emulation(cfg, plan, sampled, expected, opts,
                            on_phase=lambda name: say(f"[dim]{name}[/]"))
    except EmulationError as e:  # already torn down
        raise StageFailed(str(e)) from e
    io.write_json(rep, report)
    markdown.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text(to_markdown(rep))
    return rep
