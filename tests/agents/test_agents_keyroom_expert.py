"""KeyRoom expert: wins every task in the fewest steps, in both variants."""

from __future__ import annotations

import pytest

import proxmo_bench
from proxmo_bench.agents.base import Agent
from proxmo_bench.agents.experts.keyroom import KeyRoomExpert, winning_plan


@pytest.mark.parametrize("easy", [False, True])
def test_expert_wins_every_test_task_in_the_fewest_steps(easy: bool) -> None:
    env = proxmo_bench.make("proxmo/KeyRoom-v0", start_in_chest_room=easy)
    expert = KeyRoomExpert.for_env(env)
    assert isinstance(expert, Agent)
    for index in range(200):
        obs, info = env.reset(options={"task_id": f"test/{index}"})
        expert.reset(obs, info)
        steps, term, trunc = 0, False, False
        while not (term or trunc):
            obs, reward, term, trunc, info = env.step(expert.act(obs, info))
            steps += 1
            assert info["action_valid"]
        assert info["won"] and reward == 10.0
        # fewest steps: 1 go-to when start != key room, +1 drawer, take, +1 go-to, open
        task = env.unwrapped.task
        minimum = (
            2
            + (task.start != task.key_room)
            + task.key_in_drawer
            + (task.key_room != task.chest_room)
        )
        assert steps == minimum, (index, steps)


def test_plan_and_wrong_env() -> None:
    assert winning_plan("hall", "hall", False, "hall") == ["take key", "open chest"]
    assert winning_plan("hall", "attic", True, "study") == [
        "go to attic", "open drawer", "take key", "go to study", "open chest"
    ]  # fmt: skip
    with pytest.raises(TypeError, match="KeyRoomEnv"):
        KeyRoomExpert(proxmo_bench.make("proxmo/WebShop-v0"))
