"""A training run's learning curve, drawn from its ``metrics.jsonl``: ``learning_curve.png``.

Two panels over updates: success rate (the training batch's, every update, and the held-out
evaluation's, at each evaluation) and the training batch's mean return with its mean episode length
on a second axis. ``proxmo-bench train`` writes it into the run folder when the run ends (and again
when a resumed run ends); :func:`plot_learning_curve` redraws it from any run folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from proxmo_bench.training.metrics_log import METRICS_NAME, read_metrics

#: File the plot is written to, inside the run folder.
PLOT_NAME = "learning_curve.png"


def _series(records: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    xs, ys = [], []
    for r in records:
        v = r.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            xs.append(int(r["update"]))
            ys.append(float(v))
    return xs, ys


def plot_learning_curve(run_dir: str | Path, *, title: str | None = None) -> Path:
    """Draw ``<run_dir>/learning_curve.png`` from ``<run_dir>/metrics.jsonl``; returns its path.

    Raises:
        FileNotFoundError: the run folder holds no metrics file.
        MetricsError: the metrics file is corrupt (names the line).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    run = Path(run_dir)
    metrics = run / METRICS_NAME
    if not metrics.is_file():
        raise FileNotFoundError(f"{metrics} does not exist: no training metrics to plot")
    records = read_metrics(metrics)
    fig, (ax_s, ax_r) = plt.subplots(1, 2, figsize=(11, 4))
    x, y = _series(records, "train/success_rate")
    if x:
        ax_s.plot(x, y, color="tab:blue", alpha=0.6, lw=1, label="training batch")
    x, y = _series(records, "eval/success_rate")
    if x:
        ax_s.plot(x, y, color="tab:orange", marker="o", ms=4, label="held-out evaluation")
    ax_s.set_ylim(-0.02, 1.02)
    ax_s.set_ylabel("success rate")
    ax_s.legend(loc="best")
    x, y = _series(records, "train/mean_return")
    if x:
        ax_r.plot(x, y, color="tab:green", label="mean return")
    ax_r.set_ylabel("training mean return", color="tab:green")
    x, y = _series(records, "train/mean_length")
    if x:
        ax_len = ax_r.twinx()
        ax_len.plot(x, y, color="tab:gray", ls="--", lw=1)
        ax_len.set_ylabel("mean episode length (steps, dashed)", color="tab:gray")
    for ax in (ax_s, ax_r):
        ax.set_xlabel("update")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.suptitle(title or run.name)
    fig.tight_layout()
    out = run / PLOT_NAME
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
