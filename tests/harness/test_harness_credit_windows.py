"""A run's credit diagnostics as manifest windows (``harness.bench.credit_windows``)."""

from __future__ import annotations

from typing import Any

import pytest

from proxmo_bench.harness.bench import credit_windows
from proxmo_bench.leaderboard.schema import CREDIT_FIELDS
from proxmo_bench.training.trainer import CREDIT_METRICS


def _update(u: int, share: float, std: float, **extra: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"update": u, "env_steps": 10 * u}
    rec.update({k: 0.5 for k in CREDIT_METRICS})
    rec["credit/identical_return_groups"] = share
    rec["adv/std"] = std
    rec.update(extra)
    return rec


def test_every_trainer_diagnostic_has_a_manifest_field() -> None:
    names = {k.removeprefix("credit/") for k in CREDIT_METRICS}
    assert names == {f if f != "adv_std" else "adv/std" for f in CREDIT_FIELDS}


def test_windows_average_the_updates_since_the_previous_end() -> None:
    metrics = [
        {"update": 0, "env_steps": 0, "eval/success_rate": 0.1},  # the pre-training evaluation
        _update(1, 0.25, 1.0),
        _update(2, 0.75, 3.0, **{"eval/success_rate": 0.4}),
        _update(3, 0.5, 2.0),
        _update(4, 0.0, 0.5),
        _update(5, 1.0, 0.25),
    ]
    got = credit_windows(metrics, [0, 2, 4])
    assert [(p.update, p.updates) for p in got] == [(2, 2), (4, 2), (5, 1)]
    assert [p.identical_return_groups for p in got] == [0.5, 0.25, 1.0]
    assert [p.adv_std for p in got] == [2.0, 1.25, 0.25]


def test_undefined_values_are_left_out_of_the_mean_and_none_when_never_defined() -> None:
    metrics = [
        _update(1, 0.5, 1.0, **{"credit/adv_abs_first_third": None}),
        _update(2, 0.5, 1.0, **{"credit/adv_abs_first_third": 0.3}),
        _update(3, 0.5, 1.0, **{"credit/adv_abs_first_third": None}),
    ]
    first, second = credit_windows(metrics, [2])
    assert first.adv_abs_first_third == pytest.approx(0.3)
    assert second.adv_abs_first_third is None


def test_values_keep_six_significant_digits_and_runs_without_diagnostics_give_none() -> None:
    (point,) = credit_windows([_update(1, 1 / 3, 2 / 3)], [])
    assert point.identical_return_groups == 0.333333 and point.adv_std == 0.666667
    assert credit_windows([{"update": 1, "env_steps": 4}], [1]) == []
