"""Every estimator declares the StepBatch fields it reads; missing ones are named before compute."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pytest

from proxmo_bench.estimators import (
    MissingFieldsError,
    StepBatch,
    check_fields,
    get_estimator,
    list_estimators,
    missing_fields,
    register_estimator,
    required_fields,
)
from proxmo_bench.estimators.registry import available_fields, estimator_factory

ALL_FIELDS = {f.name for f in dataclasses.fields(StepBatch)}


def batch(with_valid: bool) -> StepBatch:
    return StepBatch(
        group_id=np.array([0, 0, 0]),
        traj_id=np.array([0, 0, 1]),
        step=np.array([0, 1, 0]),
        reward=np.array([0.0, 1.0, 0.0]),
        anchor=np.array(["a", "b", "a"], dtype=object),
        won=np.array([True, True, False]),
        action_valid=np.array([True, False, True]) if with_valid else None,
    )


def test_builtin_declarations() -> None:
    skeleton = ("group_id", "traj_id", "step", "reward")
    assert required_fields("grpo") == skeleton
    assert required_fields("rloo") == skeleton
    assert required_fields("drgrpo") == skeleton
    assert required_fields("reinforce_pp") == skeleton
    assert required_fields("rebn") == skeleton
    assert required_fields("gigpo") == (*skeleton, "anchor")
    assert required_fields("proxmo") == (*skeleton, "anchor", "won")
    for name in list_estimators():
        factory = estimator_factory(name)
        if isinstance(factory, type):  # every built-in declares a class attribute
            assert set(factory.requires) <= ALL_FIELDS, name  # type: ignore[attr-defined]


def test_invalid_penalty_needs_action_validity() -> None:
    est = get_estimator("grpo", invalid_penalty=0.1)
    assert required_fields(est)[-1] == "action_valid"
    assert "action_valid" not in required_fields(get_estimator("grpo"))
    assert missing_fields(est, batch(with_valid=False)) == ["action_valid"]
    assert missing_fields(est, batch(with_valid=True)) == []
    with pytest.raises(MissingFieldsError, match=r"'grpo' needs .*action_valid \(whether the env"):
        check_fields(est, batch(with_valid=False))
    check_fields(est, batch(with_valid=True))


def test_available_fields_from_names_or_a_mapping() -> None:
    assert missing_fields("proxmo", ["group_id", "traj_id", "step", "reward"]) == ["anchor", "won"]
    assert missing_fields("gigpo", {"group_id": 1, "traj_id": 1, "step": 1, "reward": 1}) == [
        "anchor"
    ]
    assert missing_fields("gigpo", {**dict.fromkeys(ALL_FIELDS, 1), "anchor": None}) == ["anchor"]
    assert missing_fields("proxmo", ALL_FIELDS) == []
    assert available_fields(batch(with_valid=False)) == ALL_FIELDS - {"action_valid", "value"}
    with pytest.raises(TypeError, match="one string"):
        missing_fields("grpo", "reward")
    with pytest.raises(ValueError, match="unknown estimator"):
        missing_fields("nope", ALL_FIELDS)


def test_error_names_every_missing_field_and_the_estimator() -> None:
    with pytest.raises(MissingFieldsError) as info:
        check_fields("proxmo", ["group_id", "traj_id", "step", "reward"])
    err = info.value
    assert err.estimator == "proxmo" and err.fields == ["anchor", "won"]
    assert "info['anchor']" in str(err) and "won (each trajectory's success)" in str(err)
    assert isinstance(err, ValueError)


def test_plugin_declares_fields_outside_the_step_batch() -> None:
    """A plug-in reading a field StepBatch does not have (history contexts) is caught by name."""

    @dataclasses.dataclass(frozen=True, eq=False)
    class HistoryBatch(StepBatch):
        history: np.ndarray | None = None

    def factory() -> Callable[[StepBatch], np.ndarray]:
        def estimate(b: StepBatch) -> np.ndarray:
            return np.asarray([len(h) for h in b.history], dtype=float)  # type: ignore[attr-defined]

        return estimate

    factory.requires = ("group_id", "traj_id", "step", "history")  # type: ignore[attr-defined]
    register_estimator("history_len_test", factory)
    plain = batch(with_valid=True)
    assert missing_fields("history_len_test", plain) == ["history"]
    with pytest.raises(MissingFieldsError, match=r"'history_len_test' needs .*: history"):
        check_fields("history_len_test", plain)
    fields = {f.name: getattr(plain, f.name) for f in dataclasses.fields(StepBatch)}
    rich = HistoryBatch(**fields, history=np.array(["", "x", "xy"], dtype=object))
    assert missing_fields("history_len_test", rich) == []
    np.testing.assert_array_equal(get_estimator("history_len_test")(rich), [0, 1, 2])


def test_undeclared_plugin_gets_the_skeleton() -> None:
    register_estimator("undeclared_test", lambda: lambda b: b.reward)
    assert required_fields("undeclared_test") == ("group_id", "traj_id", "step", "reward")
    with pytest.raises(MissingFieldsError, match=r"'undeclared_test' needs .*reward"):
        check_fields("undeclared_test", ["group_id", "traj_id", "step"])
