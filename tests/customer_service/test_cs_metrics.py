from __future__ import annotations

import pytest

from proxmo_bench.envs.customer_service.metrics import pass_hat_k, success_summary
from proxmo_bench.envs.customer_service.reward import outputs_said


def test_pass_hat_k_matches_hand_computation() -> None:
    trials = {"a": [True, True, False, True], "b": [False, False, True, False]}
    # a: c=3, n=4 -> k=1: 3/4, k=2: 3/6; b: c=1 -> k=1: 1/4, k=2: 0
    assert pass_hat_k(trials, 1) == pytest.approx((0.75 + 0.25) / 2)
    assert pass_hat_k(trials, 2) == pytest.approx((0.5 + 0.0) / 2)
    assert pass_hat_k(trials, 4) == 0.0
    with pytest.raises(ValueError, match="fewer than k"):
        pass_hat_k(trials, 5)


def test_success_summary_reports_noop_tasks_apart() -> None:
    trials = {"t1": [True, True], "t2": [False, False], "t3": [True, True]}
    summary = success_summary(trials, {"t1": True, "t2": False, "t3": False})
    assert summary["success"] == pytest.approx(2 / 3)
    assert summary["success_non_noop"] == pytest.approx(0.5)
    assert summary["success_noop"] == 1.0 and summary["n_noop"] == 1
    assert summary["pass_hat_k"] == {1: pytest.approx(2 / 3), 2: pytest.approx(2 / 3)}


def test_outputs_are_matched_case_insensitively_without_commas() -> None:
    said = outputs_said(["1093.34", "Blue"], ["Your total is 1,093.34 dollars", "the BLUE one"])
    assert said == {"1093.34": True, "Blue": True}
    assert outputs_said(["1093.34"], ["It is 1093.3"]) == {"1093.34": False}
