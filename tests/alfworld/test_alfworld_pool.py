"""The subprocess pool gives the same results as in-process envs, and survives a dead worker."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

import proxmo_bench
from proxmo_bench.envs.alfworld.pool import EnvPool


@pytest.mark.alfworld
@pytest.mark.usefixtures("engine_installed")
def test_pool_matches_in_process_envs(gen_cache: Path) -> None:
    kwargs = {"split": "valid_seen", "difficulty": 1, "cache_dir": str(gen_cache),
              "task_ids": ["valid_seen/pick/0"]}  # fmt: skip
    local = [proxmo_bench.make("proxmo/ALFWorld-v0", **kwargs) for _ in range(3)]
    with EnvPool("proxmo/ALFWorld-v0", 3, n_workers=2, make_kwargs=kwargs) as pool:
        got = pool.reset(seeds=[0, 1, 2])
        want = [env.reset(seed=s) for env, s in zip(local, (0, 1, 2), strict=True)]
        assert got == want
        for step in range(3):
            actions = [info["admissible_actions"][step % len(info["admissible_actions"])]
                       for _, info in want]  # fmt: skip
            actions[1] = "not an action"
            got_steps = pool.step(actions)
            want_steps = [env.step(a) for env, a in zip(local, actions, strict=True)]
            assert got_steps == want_steps
            want = [(o, i) for o, _, _, _, i in want_steps]
    for env in local:
        env.close()


def test_dead_worker_truncates_its_envs_only() -> None:
    with EnvPool("proxmo/KeyRoom-v0", 4, n_workers=2) as pool:
        first = pool.reset(seeds=[0, 1, 2, 3])
        os.kill(pool._procs[1].pid, signal.SIGKILL)
        pool._procs[1].join(timeout=10)
        results = pool.step(["look"] * 4)
        for i, (obs, reward, term, trunc, info) in enumerate(results):
            if i % 2 == 1:  # envs 1 and 3 lived in the killed worker
                assert trunc and not term and reward == 0.0
                assert "env_error" in info and info["task_id"] == first[i][1]["task_id"]
                assert obs.startswith("The environment failed")
            else:
                assert not trunc and "env_error" not in info and info["action_valid"]
        with pytest.raises(RuntimeError, match="reset failed"):
            pool.reset()


def test_pool_resets_a_subset() -> None:
    with EnvPool("proxmo/KeyRoom-v0", 3, n_workers=2) as pool:
        pool.reset(seeds=[0, 0, 0])
        pool.step(["look", "look", "look"])
        again = pool.reset(seeds=[5, 6], indices=[2, 0])
        fresh = proxmo_bench.make("proxmo/KeyRoom-v0")
        assert again == [fresh.reset(seed=5), fresh.reset(seed=6)]
        with pytest.raises(ValueError, match="distinct env indices"):
            pool.reset(indices=[0, 0])


def test_pool_rejects_wrong_batch_sizes() -> None:
    with EnvPool("proxmo/KeyRoom-v0", 2, n_workers=1) as pool:
        with pytest.raises(ValueError, match="need 2 actions"):
            pool.step(["look"])
        with pytest.raises(ValueError, match="need 2 seeds"):
            pool.reset(seeds=[1])
