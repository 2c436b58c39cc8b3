r"""The credit diagnostics of trained submissions, as the leaderboard pages show them.

A run's manifest entry carries its diagnostics during training as :class:`CreditPoint` windows
(:attr:`Run.credit`; see :mod:`proxmo_bench.estimators.diagnostics` for what each one measures).
For a submission this module summarises each diagnostic :math:`d` as

.. math::

    \bar d_r = \frac{\sum_w n_w d_{r,w}}{\sum_w n_w}, \qquad
    \bar d = \frac{1}{|R|} \sum_{r \in R} \bar d_r,

the run's update-weighted mean over its windows :math:`w` (of :math:`n_w` updates, where
:math:`d` is defined), then the mean over the runs :math:`R` that define it, shown with the
runs' minimum and maximum. The curves give, at each window's last update, the mean over runs and
their min-max band. Pure formatting: nothing here reads episodes or trains.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from proxmo_bench.leaderboard.schema import CREDIT_FIELDS, Manifest, Run

#: Column heads of the credit table, by :data:`CREDIT_FIELDS` name (PSC min and max share one).
CREDIT_HEADS = {
    "identical_return_groups": "equal-return groups %",
    "gigpo_singleton_rate": "GiGPO singleton steps %",
    "proxmo_effective_neighbours": "ProxMO n_eff",
    "psc_weight_min": "PSC weight min-max",
    "adv_abs_first_third": "|A| first third",
    "adv_abs_middle_third": "|A| middle third",
    "adv_abs_last_third": "|A| last third",
    "adv_std": "A std",
}
#: Diagnostics that are shares, shown in percent (the rest with 3 significant digits).
_SHARES = frozenset({"identical_return_groups", "gigpo_singleton_rate"})
#: The shares the pages chart against updates.
CHARTED = ("identical_return_groups", "gigpo_singleton_rate")

CREDIT_NOTE = (
    "Credit diagnostics during training, computed on every update's training batch whatever "
    "estimator trains: the share of task groups whose returns are all equal (group-relative "
    "episode advantages are 0 there), the share of steps alone in their GiGPO step group (step "
    "advantage 0), ProxMO's effective number of soft-baseline neighbours, the range of ProxMO's "
    "PSC episode weights, the mean |advantage| in the first, middle and last third of the turns, "
    "and the advantages' std. Each cell: the mean over runs of each run's mean over its updates, "
    "[min, max] over runs. Only submissions trained since these were recorded have them."
)


@dataclass(frozen=True)
class Spread:
    """A diagnostic over a submission's runs: mean, minimum and maximum of the runs' values."""

    mean: float
    low: float
    high: float


def run_means(run: Run) -> dict[str, float | None]:
    """Each diagnostic's update-weighted mean over the run's windows (``None``: never defined)."""
    out: dict[str, float | None] = {}
    for name in CREDIT_FIELDS:
        pairs = [(p.updates, v) for p in run.credit if (v := getattr(p, name)) is not None]
        weight = sum(n for n, _ in pairs)
        out[name] = sum(n * v for n, v in pairs) / weight if weight else None
    return out


def credit_summary(m: Manifest) -> dict[str, Spread | None]:
    """Each diagnostic's :class:`Spread` over the runs that define it (``None`` where none does)."""
    per_run = [run_means(r) for r in m.runs if r.credit]
    out: dict[str, Spread | None] = {}
    for name in CREDIT_FIELDS:
        vals = [v for d in per_run if (v := d[name]) is not None]
        out[name] = Spread(sum(vals) / len(vals), min(vals), max(vals)) if vals else None
    return out


def has_credit(m: Manifest) -> bool:
    """Whether any run of ``m`` carries credit diagnostics."""
    return any(r.credit for r in m.runs)


def _value(name: str, x: float) -> str:
    return f"{100 * x:.1f}" if name in _SHARES else f"{x:.3g}"


def fmt_spread(name: str, s: Spread | None) -> str:
    """``mean [min, max]`` in the diagnostic's unit; one run (or equal runs): the value alone."""
    if s is None:
        return "-"
    if s.low == s.high:
        return _value(name, s.mean)
    return f"{_value(name, s.mean)} [{_value(name, s.low)}, {_value(name, s.high)}]"


def credit_header() -> list[str]:
    """Heads of the credit table (plain text)."""
    return ["Estimator", "Agent", "Runs", *CREDIT_HEADS.values()]


def credit_cells(estimator: str, agent: str, m: Manifest) -> list[str]:
    """One row of the credit table: ``m``'s diagnostics under :func:`credit_header`."""
    summary = credit_summary(m)
    cells = [estimator, agent, str(sum(1 for r in m.runs if r.credit))]
    for name in CREDIT_HEADS:
        if name == "psc_weight_min":
            lo, hi = summary["psc_weight_min"], summary["psc_weight_max"]
            cells.append("-" if lo is None or hi is None else f"{lo.mean:.3g}-{hi.mean:.3g}")
        else:
            cells.append(fmt_spread(name, summary[name]))
    return cells


def credit_band(m: Manifest, name: str) -> list[tuple[int, float, float, float]]:
    """``(update, mean, min, max)`` of diagnostic ``name`` over the runs that have a window ending
    at ``update`` with it defined: the line and band of the page's credit charts."""
    by_update: dict[int, list[float]] = defaultdict(list)
    for run in m.runs:
        for p in run.credit:
            if (v := getattr(p, name)) is not None:
                by_update[p.update].append(v)
    return [(u, sum(v) / len(v), min(v), max(v)) for u, v in sorted(by_update.items())]
