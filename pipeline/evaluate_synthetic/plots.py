"""The evaluation's plots: real against synthetic count distributions and the profile mix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.evaluate_synthetic.evaluate import Evaluation
from pipeline.evaluate_synthetic.structure import STRUCTURES

PLOT_PREFIX = "synthetic_"


def distribution_figure(name: str, real: np.ndarray, synthetic: np.ndarray, score: float | None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    real = np.asarray(real, dtype="float64")
    synthetic = np.asarray(synthetic, dtype="float64")
    both = np.concatenate([real, synthetic]) if len(real) + len(synthetic) else np.zeros(1)
    hi = float(both.max()) if len(both) else 1.0
    fig, ax = plt.subplots(figsize=(6.0, 3.8), dpi=100)
    if hi <= 40:
        bins = np.arange(-0.5, hi + 1.5, 1.0)  # one bar per count
        log = False
    else:  # heavy tail: log-spaced bins, zeros in their own bin
        bins = np.concatenate([[-0.5, 0.5], np.geomspace(0.5, hi + 1, 30)[1:]])
        log = True
    for data, label, color in ((real, f"real (n={len(real)})", "#1f77b4"),
                               (synthetic, f"synthetic (n={len(synthetic)})", "#ff7f0e")):
        if len(data):
            w = np.full(len(data), 1.0 / len(data))
            ax.hist(data, bins=bins, weights=w, alpha=0.55, label=label, color=color,
                    edgecolor="white", linewidth=0.4)
    if log:
        ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xlabel(name.replace("_", " "))
    ax.set_ylabel("share")
    s = "n/a" if score is None else f"{score:.3f}"
    ax.set_title(f"{name}: KS complement {s}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def mix_figure(mix: dict[str, Any]):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pipeline.util import plot_text

    kinds = sorted(set(mix["real"]) | set(mix["synthetic"]))
    x = np.arange(len(kinds))
    fig, ax = plt.subplots(figsize=(6.0, 3.8), dpi=100)
    ax.bar(x - 0.2, [mix["real"].get(k, 0) or 0 for k in kinds], 0.4, label="real", color="#1f77b4")
    ax.bar(x + 0.2, [mix["synthetic"].get(k, 0) or 0 for k in kinds], 0.4, label="synthetic",
           color="#ff7f0e")
    ax.set_xticks(x, [plot_text(k) for k in kinds], rotation=30, ha="right")
    ax.set_ylabel("share of projects")
    tv = mix.get("tv_complement")
    ax.set_title(f"profile mix: TV complement {'n/a' if tv is None else f'{tv:.3f}'}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_names() -> list[str]:
    """File names of the plots, in a fixed order (dvc.yaml declares the same)."""
    return [f"{PLOT_PREFIX}{n}.png" for n in STRUCTURES] + [f"{PLOT_PREFIX}profile_mix.png"]


def write_plots(ev: Evaluation, out_dir: Path) -> list[Path]:
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dists = ev.report["fidelity"]["structure"]["distributions"]
    written = []
    for name in STRUCTURES:
        r = ev.real_counts.get(name, np.array([]))
        s = ev.synth_counts.get(name, np.array([]))
        fig = distribution_figure(name, r, s, (dists.get(name) or {}).get("ks_complement"))
        path = out_dir / f"{PLOT_PREFIX}{name}.png"
        fig.savefig(path, metadata={"Software": None})  # bytes depend only on the numbers
        plt.close(fig)
        written.append(path)
    fig = mix_figure(ev.report["fidelity"]["profile_mix"])
    path = out_dir / f"{PLOT_PREFIX}profile_mix.png"
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
    written.append(path)
    return written
