"""``TextEnv.task_ids(split)``: every built-in family lists the task ids its resets accept back.

Evaluation draws its episodes from this list (``list_task_ids``), so each listed id must reset to
``info["task_id"]`` equal to it, a seeded reset must draw from the list, and the order is stable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import gymnasium
import pytest

import proxmo_bench
from proxmo_bench.conformance import check_task_ids
from proxmo_bench.env import TextEnv, list_task_ids

# (task, make kwargs, split, number of ids, first ids)
FAMILIES: list[tuple[str, dict[str, Any], str, int, list[str]]] = [
    ("proxmo/KeyRoom-v0", {}, "test", 200, ["test/0", "test/1", "test/2"]),
    ("proxmo/KeyRoom-v0", {}, "train", 1000, ["train/0", "train/1"]),
    ("proxmo/KeyRoom-v0", {"categories": ["in_drawer"]}, "test", 66, ["test/2", "test/5"]),
    ("proxmo/WebShop-v0", {}, "test", 500, ["test/0", "test/1"]),
    ("proxmo/WebShop-v0", {"n_products": 50}, "train", 50, ["train/0", "train/1"]),
    ("proxmo/Retail-v0", {}, "test", 100, ["test/0", "test/1"]),
    ("proxmo/Retail-v0", {}, "dev", 20, ["dev/0", "dev/1"]),
    ("proxmo/Airline-v0", {}, "test", 100, ["test/0", "test/1"]),
    # generated ALFWorld games the package ships pre-solved (no planner, no download)
    (
        "proxmo/ALFWorld-v0",
        {"difficulty": 1, "categories": ["pick", "look"]},
        "valid_unseen",
        48,
        ["valid_unseen/look/0", "valid_unseen/look/1", "valid_unseen/look/10"],
    ),
]


def _make(task: str, kwargs: dict[str, Any], tmp_path: Path) -> gymnasium.Env[str, str]:
    if task == "proxmo/ALFWorld-v0":
        kwargs = {**kwargs, "cache_dir": str(tmp_path / "alfworld")}
    return proxmo_bench.make(task, **kwargs)


@pytest.mark.parametrize(
    ("task", "kwargs", "split", "n", "first"),
    FAMILIES,
    ids=[
        f"{t.split('/')[1]}-{s}-{'-'.join(map(str, k.values())) or 'default'}"
        for t, k, s, _, _ in FAMILIES
    ],
)
def test_builtin_families_list_their_task_ids(
    tmp_path: Path, task: str, kwargs: dict[str, Any], split: str, n: int, first: list[str]
) -> None:
    env = _make(task, kwargs, tmp_path)
    try:
        ids = list_task_ids(env, split)  # through gymnasium's wrappers
        assert ids is not None and type(ids) is list
        assert len(ids) == n and ids[: len(first)] == first
        assert len(set(ids)) == n and all(isinstance(t, str) for t in ids)
        assert env.unwrapped.task_ids(split) == ids  # type: ignore[attr-defined]
        for tid in (ids[0], ids[n // 2], ids[-1]):
            _, info = env.reset(seed=5, options={"task_id": tid})
            assert info["task_id"] == tid
        drawn = {env.reset(seed=s, options={"split": split})[1]["task_id"] for s in range(5)}
        assert drawn <= set(ids)
        with pytest.raises(ValueError, match="split"):
            env.unwrapped.task_ids("no_such_split")  # type: ignore[attr-defined]
    finally:
        env.close()
    again = _make(task, kwargs, tmp_path)  # the order is the same in a fresh env
    try:
        assert list_task_ids(again, split) == ids
    finally:
        again.close()


@pytest.mark.parametrize(("task", "kwargs", "split", "n", "first"), FAMILIES[:1] + FAMILIES[-1:])
def test_conformance_checks_the_listed_ids(
    tmp_path: Path, task: str, kwargs: dict[str, Any], split: str, n: int, first: list[str]
) -> None:
    env = _make(task, {**kwargs, "split": split}, tmp_path)
    try:
        check_task_ids(env)
    finally:
        env.close()


def test_customer_service_ids_follow_the_task_file() -> None:
    env = proxmo_bench.make("proxmo/Retail-v0")
    try:
        domain = env.unwrapped.domain  # type: ignore[attr-defined]
        for split in ("train", "dev", "test"):
            expected = [f"{split}/{i}" for i in range(len(domain.tasks[split]))]
            assert list_task_ids(env, split) == expected
    finally:
        env.close()


class _Unlisted(TextEnv):
    """A family that cannot enumerate its tasks (the base class's task_ids)."""

    splits: ClassVar[tuple[str, ...]] = ("train",)

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        n = int(self.np_random.integers(1000))
        return "hi", {
            "task_id": f"train/{n}",
            "task_category": "x",
            "instruction": "say hi",
            "admissible_actions": None,
            "anchor": "hi",
        }

    def _step(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        return "ok", 0.0, True, {}


class _Lying(_Unlisted):
    """Lists ids that its seeded resets do not draw."""

    def task_ids(self, split: str) -> list[str]:
        self._check_split(split)
        return ["train/a", "train/b"]


class _Deaf(_Lying):
    """Draws from its list, but a reset with a task_id always plays the first task."""

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        obs, info = super()._reset({})
        ids = self.task_ids("train")
        tid = ids[0] if "task_id" in options else ids[int(self.np_random.integers(2))]
        return obs, {**info, "task_id": tid}


class _NeedsData(_Unlisted):
    def task_ids(self, split: str) -> list[str]:
        raise ValueError("no data folder configured")


def test_the_base_class_cannot_list() -> None:
    env = _Unlisted()
    with pytest.raises(NotImplementedError, match="_Unlisted cannot list its task ids"):
        env.task_ids("train")
    assert list_task_ids(env, "train") is None
    assert list_task_ids(gymnasium.wrappers.TimeLimit(env, 3), "train") is None
    check_task_ids(env)  # nothing to check


def test_list_task_ids_is_none_only_for_envs_that_cannot_list() -> None:
    cartpole = gymnasium.make("CartPole-v1")
    try:
        assert list_task_ids(cartpole, "train") is None  # not a TextEnv
    finally:
        cartpole.close()
    wrapped = gymnasium.wrappers.TimeLimit(_Lying(), 3)
    assert list_task_ids(wrapped, "train") == ["train/a", "train/b"]
    with pytest.raises(ValueError, match="split"):
        list_task_ids(wrapped, "test")
    with pytest.raises(ValueError, match="no data folder"):  # other errors are not swallowed
        list_task_ids(_NeedsData(), "train")


def test_conformance_catches_ids_that_do_not_reset_to_themselves() -> None:
    with pytest.raises(AssertionError, match=r"drew task_id .* which task_ids\('train'\) does not"):
        check_task_ids(_Lying())
    with pytest.raises(AssertionError, match=r"reported info\['task_id'\] = 'train/a'"):
        check_task_ids(_Deaf())
