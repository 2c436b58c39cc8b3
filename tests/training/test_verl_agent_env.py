"""The verl-agent environment manager on KeyRoom and the generated ALFWorld, whole episodes."""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from proxmo_bench import tasks
from proxmo_bench.training.verl_agent_env import ProxmoEnvManager, project_actions

TASKS = ["proxmo/KeyRoom-v0", "proxmo/ALFWorld-v0"]


def test_projection_takes_last_tag_and_flags_untagged() -> None:
    acts, ok = project_actions(
        ["think <action>a</action> <action> go to desk 1 </action>", "open", "<action> </action>"]
    )
    assert acts == ["go to desk 1", "open", ""]
    assert ok == [True, False, False]


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="env_num and group_n"):
        ProxmoEnvManager("proxmo/KeyRoom-v0", env_num=0)
    m = ProxmoEnvManager("proxmo/KeyRoom-v0", env_num=1, group_n=2)
    m.reset()
    with pytest.raises(ValueError, match="2 envs"):
        m.step(["x"])


def rollout(
    task: str, env_num: int, group_n: int, seed: int
) -> tuple[ProxmoEnvManager, list[tuple[Any, ...]]]:
    """Whole episodes: random admissible actions (some untagged / gibberish), until all done."""
    rng = np.random.default_rng(seed)
    m = ProxmoEnvManager(task, env_num=env_num, group_n=group_n, seed=seed)
    obs, infos = m.reset()
    steps: list[tuple[Any, ...]] = [(obs, infos, None, None, None, None)]
    for _ in range(200):
        texts = []
        for info in infos:
            adm = info["admissible_actions"]
            u = rng.random()
            if u < 0.1:
                texts.append("xyzzy plugh")  # untagged
            elif u < 0.2 or not adm:
                texts.append("<action>dance wildly</action>")
            else:
                texts.append(f"I think. <action>{adm[rng.integers(len(adm))]}</action>")
        nxt, rewards, dones, infos = m.step(texts)
        steps.append((nxt, infos, texts, rewards, dones, None))
        if dones.all():
            break
    assert dones.all()
    return m, steps


@pytest.mark.parametrize("task", TASKS)
def test_group_copies_share_a_task_and_replay_a_plain_env(task: str) -> None:
    m, steps = rollout(task, env_num=2, group_n=3, seed=11)
    obs0, infos0 = steps[0][0], steps[0][1]
    assert obs0["image"] is None and len(obs0["text"]) == 6
    assert list(m.task_seeds()) == [11, 11, 11, 12, 12, 12]
    # the G copies of a task start from the same anchor and task; tasks differ
    assert len(set(obs0["anchor"][:3])) == 1 and len(set(obs0["anchor"][3:])) == 1
    assert infos0[0]["task_id"] == infos0[2]["task_id"] != infos0[3]["task_id"]
    assert all(a in t for a, t in zip(obs0["anchor"], obs0["text"], strict=True))
    assert all(i["admissible_actions"] and not i["won"] for i in infos0)
    # env 4 equals a plain env stepped with the projected actions
    env = tasks.make(task)
    _, info = env.reset(seed=12)
    assert info["anchor"] == obs0["anchor"][4]
    done = False
    for nxt, infos, texts, rewards, dones, _ in steps[1:]:
        if done:
            assert rewards[4] == 0.0 and dones[4]
            continue
        action, ok = project_actions([texts[4]])
        _, r, term, trunc, info = env.step(action[0])
        assert nxt["anchor"][4] == info["anchor"] and rewards[4] == np.float32(r)
        assert infos[4]["won"] == info["won"]
        assert infos[4]["is_action_valid"] == (ok[0] and info["action_valid"])
        assert dones[4] == (term or trunc)
        done = term or trunc
    flags = [i["is_action_valid"] for s in steps[1:] for i in s[1]]
    assert any(flags) and not all(flags)


def test_keyroom_admissible_walk_can_win_and_success_evaluator_reads_it() -> None:
    m, steps = rollout("proxmo/KeyRoom-v0", env_num=4, group_n=2, seed=3)
    last_infos = steps[-1][1]
    n = len(m)
    winners = [i for i in range(n) if last_infos[i]["won"]]
    assert winners  # seed 3: a random admissible walk finds the key and opens the chest
    for i in winners:  # the step that wins pays the reward and ends the episode
        k = next(k for k, s in enumerate(steps[1:], 1) if s[1][i]["won"])
        assert steps[k][3][i] > 0 and steps[k][4][i]
    # verl-agent's layout: per env, a list of per-step items with active_masks
    total_infos = [[s[1][i] for s in steps[1:]] for i in range(n)]
    active = [[True] + [not bool(s[4][i]) for s in steps[1:-1]] for i in range(n)]
    total_batch = [[{"active_masks": a} for a in row] for row in active]
    rate = m.success_evaluator(total_infos=total_infos, total_batch_list=total_batch)
    np.testing.assert_array_equal(rate["success_rate"], [float(i["won"]) for i in last_infos])
    assert 0.0 < rate["success_rate"].mean() < 1.0


def test_outputs_feed_the_verl_adapter() -> None:
    torch = pytest.importorskip("torch")
    from proxmo_bench.estimators.adapters.verl import add_step_index, compute_advantage

    m, steps = rollout("proxmo/KeyRoom-v0", env_num=3, group_n=4, seed=5)
    uid, traj, rew, anc, valid = [], [], [], [], []
    for i in range(len(m)):  # trajectory-major rows, as the collector's gather_rollout_data
        active = True
        for prev, cur in itertools.pairwise(steps):
            if not active:
                break
            uid.append(f"task{i // m.group_n}")
            traj.append(f"traj{i}")
            anc.append(prev[0]["anchor"][i])
            rew.append(float(cur[3][i]))
            valid.append(cur[1][i]["is_action_valid"])
            active = not bool(cur[4][i])
    n = len(uid)
    traj_a = np.array(traj, dtype=object)
    episode = np.array(
        [sum(r for r, t in zip(rew, traj, strict=True) if t == tt) for tt in traj], dtype=np.float32
    )
    tlr = torch.zeros(n, 4)
    tlr[:, -1] = torch.tensor(episode)
    data = SimpleNamespace(
        batch={"token_level_rewards": tlr, "response_mask": torch.ones(n, 4, dtype=torch.int64)},
        non_tensor_batch={
            "uid": np.array(uid, dtype=object),
            "traj_uid": traj_a,
            "rewards": np.array(rew, dtype=np.float32),
            "anchor_obs": np.array(anc, dtype=object),
            "is_action_valid": np.array(valid),
            "episode_rewards": episode,
            "active_masks": np.ones(n, dtype=bool),
        },
    )
    add_step_index(data)
    compute_advantage(data, adv_estimator="gigpo", compat="paper", gamma=0.95)
    adv = data.batch["advantages"]
    assert adv.shape == (n, 4) and torch.isfinite(adv).all() and adv.abs().sum() > 0
