"""`dcnet check-export DIR`: an export folder checked against its consumers' own contracts.

One module per consumer, each with `check(folder: Path) -> ConsumerReport` where `folder` is
`DIR/<format>/`. The contracts are the vendored JSON Schemas in `schemas/consumers/` and the
cross-request rules stated in code beside them, each with the consumer's file and line.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from pipeline.check_export.core import ConsumerReport

# consumer -> (module, export folder it reads)
CHECKERS = {
    "alcor": ("pipeline.check_export.alcor", "alcor"),
    "merak": ("pipeline.check_export.merak", "merak"),
    "distrinet": ("pipeline.check_export.distrinet", "mininet"),
    "containerlab": ("pipeline.check_export.containerlab", "containerlab"),
}
# The order they start in (10k-host benchmark): the two longest first, then the short Merak
# check, then containerlab, which spreads its lab files over every core itself and so fills
# both as the others end (the check 8.2-8.8 s in 3 runs, against 8.2-9.0 s with it third).
START_ORDER = ("alcor", "distrinet", "merak", "containerlab")


def check_export(export_dir: Path, consumers: list[str] | None = None,
                 on_done=None) -> list[ConsumerReport]:
    """Check each consumer's folder under `export_dir`; a missing folder is reported as absent.
    Consumers run side by side, one forked process each, on every core: they share nothing, and
    each is CPU-bound Python (the reports come back in the order asked). `on_done(consumer,
    done, total)` is called as each finishes (a progress bar)."""
    export_dir = Path(export_dir)
    names = consumers or list(CHECKERS)
    present = sorted({n for n in names if (export_dir / CHECKERS[n][1]).is_dir()}, key=START_ORDER.index)
    workers = min(len(present), os.cpu_count() or 1)
    done: dict = {}

    def finished(name: str, report: ConsumerReport) -> None:
        done[name] = report
        if on_done:
            on_done(name, len(done), len(present))

    targets = [export_dir / CHECKERS[n][1] for n in present]
    if workers > 1 and "fork" in mp.get_all_start_methods():
        # not mp.Pool: its daemonic workers may not fork, and two checkers fork helpers themselves
        with ProcessPoolExecutor(workers, mp_context=mp.get_context("fork")) as pool:
            futures = {pool.submit(_check_forked, t, n): n for t, n in zip(targets, present)}
            for future in as_completed(futures):
                finished(futures[future], future.result())
    else:
        from pipeline.util import no_gc

        for target, name in zip(targets, present):
            with no_gc():  # as in the forked children: `-c distrinet` on 10k hosts 14.2 -> 8.4 CPU-s
                report = _check_one(target, name)
            finished(name, report)
    return [done.get(n) or ConsumerReport(consumer=n, unit="files", present=False) for n in names]


def _check_forked(target: Path, name: str) -> ConsumerReport:
    """_check_one in a forked child, with the cyclic collector off for good and the check's big
    structures parked until the child ends (core.PARKED): its objects die with it, and a
    collection over a checker's millions of decoded objects (when its no_gc block ends) cost
    1.3-1.8 s of the Alcor check on the 10k-host export (measured)."""
    import gc

    from pipeline.check_export import core

    gc.disable()
    if core.PARKED is None:
        core.PARKED = []
    return _check_one(target, name)


def _check_one(target: Path, name: str) -> ConsumerReport:
    return importlib.import_module(CHECKERS[name][0]).check(target)
