"""proxmo/WebShop-v0 on the generated catalogue: contract, pages, actions, baselines."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import gymnasium
import numpy as np
import pytest

import proxmo_bench
from proxmo_bench.agents.base import Agent
from proxmo_bench.agents.experts.webshop import WebShopExpert
from proxmo_bench.conformance import check_task
from proxmo_bench.envs.webshop.generator import generate_goals, generate_products
from proxmo_bench.envs.webshop.products import product_prices

TASK = "proxmo/WebShop-v0"


@pytest.fixture
def env() -> gymnasium.Env[str, str]:
    return proxmo_bench.make(TASK, split="test")


def test_conformance_generated() -> None:
    check_task(TASK)


def test_registration() -> None:
    spec = proxmo_bench.get_task_spec(TASK)
    assert spec.max_episode_steps == 15
    assert spec.splits == ("train", "test")
    assert spec.reward_scale == 10.0
    assert gymnasium.spec(TASK).max_episode_steps == 15


def test_generated_catalogue_is_deterministic() -> None:
    a, b = generate_products(50, seed=3), generate_products(50, seed=3)
    assert a == b and a != generate_products(50, seed=4)
    prices = product_prices(a)
    assert generate_goals(a, prices, seed=3) == generate_goals(b, product_prices(b), seed=3)


def test_search_page(env: gymnasium.Env[str, str]) -> None:
    obs, info = env.reset(options={"task_id": "test/0"})
    assert obs.startswith("WebShop [SEP] Instruction: [SEP] ")
    assert obs.endswith(" [SEP] Search")
    assert info["instruction"] in obs and info["instruction"] not in info["anchor"]
    assert info["admissible_actions"] == ["search[<query>]"]
    assert info["task_category"] in proxmo_bench.get_task_spec(TASK).categories


def _goal(env: gymnasium.Env[str, str]) -> dict[str, Any]:
    goal: dict[str, Any] = env.unwrapped.session.goal  # type: ignore[attr-defined]
    return goal


def test_results_pagination_and_navigation(env: gymnasium.Env[str, str]) -> None:
    env.reset(options={"task_id": "test/0"})
    obs, _, _, _, info = env.step("search[shampoo]")
    assert "Page 1 (Total results: 50)" in obs and "Next >" in obs and "< Prev" not in obs
    assert "click[next >]" in info["admissible_actions"]
    assert "search[<query>]" not in info["admissible_actions"]
    products = [a for a in info["admissible_actions"] if a.startswith("click[b0")]
    assert len(products) == 10
    obs2, _, _, _, info2 = env.step("click[next >]")
    assert "Page 2 (Total results: 50)" in obs2 and "click[< prev]" in info2["admissible_actions"]
    assert set(info2["admissible_actions"]).isdisjoint(products)
    obs3, _, _, _, _ = env.step("CLICK[< Prev]")  # case-insensitive, as upstream lowercases
    assert obs3 == obs
    obs4, _, _, _, info4 = env.step("click[back to search]")
    assert info4["admissible_actions"] == ["search[<query>]"] and obs4.startswith("WebShop")


def test_item_page_options_subpages_and_buy(env: gymnasium.Env[str, str]) -> None:
    # the first test goal whose product the instruction's search lists on page 1
    for index in range(50):
        env.reset(options={"task_id": f"test/{index}"})
        goal = _goal(env)
        _, _, _, _, info = env.step(f"search[{goal['instruction_text']}]")
        if f"click[{goal['asin'].lower()}]" in info["admissible_actions"]:
            break
    else:
        raise AssertionError("no goal product on page 1 of its instruction's search")
    obs, _, _, _, info = env.step(f"click[{goal['asin'].lower()}]")
    assert "Buy Now" in obs and "click[buy now]" in info["admissible_actions"]
    for sub in ("description", "features", "reviews"):
        sub_obs, _, _, _, sub_info = env.step(f"click[{sub}]")
        assert sub_info["action_valid"] and "click[< prev]" in sub_info["admissible_actions"]
        assert "Buy Now" not in sub_obs
        back, _, _, _, _ = env.step("click[< prev]")
        assert back == obs
    for value in goal["goal_options"].values():
        _, _, _, _, info = env.step(f"click[{value}]")
        assert info["action_valid"]
    obs, reward, terminated, truncated, info = env.step("click[buy now]")
    assert terminated and not truncated
    assert info["score"] == 1.0 and info["won"] is True and reward == 10.0
    assert obs.startswith("Thank you for shopping with us!")
    assert info["reward_info"]["r_type"] == 1.0


def test_wrong_purchase_gets_partial_score_and_no_reward(env: gymnasium.Env[str, str]) -> None:
    env.reset(options={"task_id": "test/2"})
    goal = _goal(env)
    _, _, _, _, info = env.step("search[desk lamp coffee beans]")
    other = next(
        a
        for a in info["admissible_actions"]
        if a.startswith("click[b0") and a != f"click[{goal['asin'].lower()}]"
    )
    env.step(other)
    _, reward, terminated, _, info = env.step("click[buy now]")
    assert terminated and reward == 0.0 and info["won"] is False
    assert 0.0 <= info["score"] < 1.0


@pytest.mark.parametrize(
    "action",
    [
        "click[nonexistent]",
        "click[",
        "search[]",
        "search[ ]",
        "buy",
        "click[search]",
        "x" * 10_000,
        "☃ 日本語",
        "click[buy now]",
        "click[next >]",
    ],
)
def test_bad_actions_are_flagged_and_leave_the_page(
    env: gymnasium.Env[str, str], action: str
) -> None:
    obs0, _ = env.reset(options={"task_id": "test/3"})
    obs, reward, terminated, _, info = env.step(action)
    assert info["action_valid"] is False and reward == 0.0 and not terminated
    assert obs.startswith("Invalid action") and obs.endswith(obs0)
    assert len(obs) < len(obs0) + 200  # the action is not echoed back


def test_search_only_from_the_search_page(env: gymnasium.Env[str, str]) -> None:
    env.reset(options={"task_id": "test/3"})
    env.step("search[coffee]")
    _, _, _, _, info = env.step("search[tea]")
    assert info["action_valid"] is False


def test_step_limit_is_fifteen(env: gymnasium.Env[str, str]) -> None:
    env.reset(options={"task_id": "test/4"})
    for i in range(15):
        _, _, terminated, truncated, _ = env.step("click[nothing]")
        assert not terminated and truncated == (i == 14)


def test_task_ids_cover_both_splits(env: gymnasium.Env[str, str]) -> None:
    _, info = env.reset(options={"task_id": "train/7"})
    assert info["task_id"] == "train/7"
    with pytest.raises(ValueError, match="task_id"):
        env.reset(options={"task_id": "test/100000"})
    with pytest.raises(ValueError, match="task_id"):
        env.reset(options={"task_id": "valid/1"})


def play_episode(env: gymnasium.Env[str, str], agent: Agent, task_id: str) -> dict[str, Any]:
    obs, info = env.reset(options={"task_id": task_id})
    agent.reset(obs, info)
    while True:
        obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
        if terminated or truncated:
            return info


class RandomAgent:
    """Uniform over the admissible actions (searching the instruction on the search page)."""

    name = "random"

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.instruction = ""

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        self.instruction = info["instruction"]

    def act(self, obs: str, info: dict[str, Any]) -> str:
        actions = info["admissible_actions"]
        action = str(actions[int(self.rng.integers(len(actions)))])
        return f"search[{self.instruction}]" if action == "search[<query>]" else action


def test_expert_beats_random_on_generated_test_split(env: gymnasium.Env[str, str]) -> None:
    task_ids = [f"test/{i}" for i in range(60)]
    expert = WebShopExpert()
    assert isinstance(expert, Agent)
    expert_infos = [play_episode(env, expert, t) for t in task_ids]
    random_infos = [play_episode(env, RandomAgent(0), t) for t in task_ids]
    expert_score = np.mean([i["score"] for i in expert_infos])
    expert_success = np.mean([i["won"] for i in expert_infos])
    random_score = np.mean([i["score"] for i in random_infos])
    assert expert_score > 0.85 and expert_success > 0.6
    assert random_score < expert_score - 0.3


def test_same_catalogue_and_episode_in_another_process() -> None:
    """Replay determinism across processes: nothing depends on Python's hash seed."""
    script = (
        "import hashlib, json, warnings; warnings.simplefilter('ignore'); import proxmo_bench\n"
        "env = proxmo_bench.make('proxmo/WebShop-v0', split='test')\n"
        "cat = env.unwrapped.catalogue\n"
        "obs, info = env.reset(seed=5)\n"
        "steps = [env.step(a) for a in ['search[' + info['instruction'] + ']']]\n"
        "steps.append(env.step(steps[-1][4]['admissible_actions'][2]))\n"
        "steps.append(env.step('click[buy now]'))\n"
        "blob = json.dumps([cat.products, cat.goals, cat.prices, obs, info, steps],"
        " sort_keys=True, default=str)\n"
        "print(hashlib.sha256(blob.encode()).hexdigest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        digests.add(out.stdout.strip().splitlines()[-1])
    assert len(digests) == 1
