"""Run a command and measure wall time and peak RSS of its whole process tree.

Peak RSS is sampled (every 20 ms) as the sum over the process and all its children, because
ingest parses files in worker processes: the largest single process would under-report. A
forked child's RSS also counts the pages it shares with its parent, so the sum over-reports
forked workers; peak PSS (every 200 ms: each page's share split among the processes mapping
it, from /proc/PID/smaps_rollup) is the memory the tree really holds.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable

import psutil


def run_sampled(cmd: list[str], on_sample: Callable[[psutil.Process, list], None],
                env: dict | None = None, cwd=None) -> tuple[float, bytes]:
    """Run `cmd` to its end, calling `on_sample(root, processes of the tree)` every 20 ms.
    Returns (wall seconds, combined output); a failing command raises with its output's tail."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    done = threading.Event()

    def sample():
        try:
            root = psutil.Process(proc.pid)
        except psutil.NoSuchProcess:
            return
        while not done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            on_sample(root, procs)
            time.sleep(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    out, _ = proc.communicate()
    done.set()
    t.join()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out.decode()[-2000:]}")
    return wall, out


def tree_rss(procs: list) -> int:
    """Summed RSS of the processes still alive."""
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def tree_pss(procs: list) -> int:
    """Summed PSS of the processes still alive (0 where the kernel has no smaps_rollup)."""
    total = 0
    for p in procs:
        try:
            with open(f"/proc/{p.pid}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            pass
    return total


def measure(cmd: list[str], env: dict | None = None, cwd: str | None = None) -> dict:
    """wall_s, cpu_s (user + system of the command and every descendant it waited for: steadier
    than wall time on a shared machine), peak_rss_mb and peak_pss_mb of the process tree."""
    import resource

    peak = peak_pss = samples = 0
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    def on_sample(_root, procs):
        nonlocal peak, peak_pss, samples
        peak = max(peak, tree_rss(procs))
        if samples % 10 == 0:  # reading smaps_rollup walks the page tables: not every 20 ms
            peak_pss = max(peak_pss, tree_pss(procs))
        samples += 1

    wall, _ = run_sampled(cmd, on_sample, env, cwd)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": round(peak / 2**20, 1),
            "peak_pss_mb": round(peak_pss / 2**20, 1)}
