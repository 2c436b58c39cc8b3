"""Bad input raises ValueError naming the problem; the registry works for user estimators."""

from __future__ import annotations

import numpy as np
import pytest

from proxmo_bench.estimators import (
    StepBatch,
    estimator_params,
    get_estimator,
    list_estimators,
    register_estimator,
)


def make(**over: object) -> StepBatch:
    fields: dict[str, object] = dict(
        group_id=np.array([0, 0, 0]),
        traj_id=np.array([0, 0, 1]),
        step=np.array([0, 1, 0]),
        reward=np.array([0.0, 1.0, 0.0]),
        anchor=np.array(["a", "b", "a"], dtype=object),
        won=np.array([True, True, False]),
    )
    fields.update(over)
    return StepBatch(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"reward": np.array([0.0, 1.0])}, "reward has 2 rows"),
        ({"reward": np.array([0.0, np.nan, 0.0])}, r"reward\[1\] is nan"),
        ({"reward": np.array([0.0, np.inf, 0.0])}, r"reward\[1\] is inf"),
        ({"won": np.array([True, False, False])}, "two different `won` values"),
        ({"step": np.array([0, 0, 0])}, "duplicate"),
        ({"step": np.array([0, 2, 0])}, "steps must be 0..L-1"),
        ({"step": np.array([0, -1, 0])}, "step must be >= 0"),
        ({"step": np.array([0.0, 1.5, 0.0])}, "step must hold integers"),
        ({"won": np.array([2, 2, 0])}, "won must hold booleans"),
        ({"action_valid": np.array([True, False])}, "action_valid has 2 rows"),
    ],
)
def test_bad_batches(over: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(**over)


def test_non_string_anchor_is_rejected_when_used() -> None:
    b = make(anchor=np.array(["a", None, "a"], dtype=object))
    with pytest.raises(ValueError, match="anchor must hold strings"):
        get_estimator("gigpo")(b)


def test_unknown_estimator_and_parameters() -> None:
    with pytest.raises(ValueError, match=r"unknown estimator 'ppo'.*registered"):
        get_estimator("ppo")
    with pytest.raises(ValueError, match="no parameter"):
        get_estimator("grpo", gamma=0.9)
    with pytest.raises(ValueError, match="compat"):
        get_estimator("proxmo", compat="official")
    with pytest.raises(ValueError, match="gamma"):
        get_estimator("gigpo", gamma=1.5)
    with pytest.raises(ValueError, match="similarity"):
        get_estimator("gigpo", similarity=1.0)
    with pytest.raises(ValueError, match="temperature"):
        get_estimator("proxmo", temperature=0.0)
    with pytest.raises(ValueError, match="invalid_penalty"):
        get_estimator("rloo", invalid_penalty=-1.0)
    with pytest.raises(TypeError, match="StepBatch"):
        get_estimator("grpo")({"reward": [1.0]})  # type: ignore[arg-type]


def test_documented_parameters_and_defaults() -> None:
    assert estimator_params("proxmo") | {} == {
        "compat": "paper",
        "invalid_penalty": 0.0,
        "gamma": 0.95,
        "step_weight": 1.0,
        "psc": True,
        "psc_alpha": 4.0,
        "psc_target_range": 0.05,
        "temperature": 0.1,
        "norm": "mean",
    }
    gigpo = estimator_params("gigpo")
    assert gigpo["norm"] == "mean_std" and gigpo["similarity"] is None and gigpo["gamma"] == 0.95
    assert set(list_estimators()) >= {"grpo", "rloo", "gigpo", "proxmo"}


def test_register_user_estimator() -> None:
    def factory(scale: float = 1.0):  # type: ignore[no-untyped-def]
        return lambda batch: batch.reward * scale

    register_estimator("scaled_reward", factory, description="reward times a scale")
    assert list_estimators()["scaled_reward"] == "reward times a scale"
    np.testing.assert_allclose(get_estimator("scaled_reward", scale=2.0)(make()), [0.0, 2.0, 0.0])
    with pytest.raises(ValueError, match="built-in"):
        register_estimator("grpo", factory)


def test_empty_batch() -> None:
    empty = StepBatch(
        group_id=np.array([]),
        traj_id=np.array([]),
        step=np.array([], dtype=int),
        reward=np.array([]),
        anchor=np.array([], dtype=object),
        won=np.array([], dtype=bool),
    )
    for name in ("grpo", "rloo", "gigpo", "proxmo"):
        assert get_estimator(name)(empty).shape == (0,)
