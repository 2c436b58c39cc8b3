"""PPO with a critic (``estimator=ppo_gae``): the light and relational agents' value heads trained
in the update loop."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from proxmo_bench.agents.episode_relations import (
    N_PAGE_RELATIONS,
    N_PAGE_STATE,
    N_RELATIONS,
    N_STATE,
)
from proxmo_bench.agents.light_agent import LightAgent
from proxmo_bench.agents.relational_agent import RelationalAgent, RelationalSample
from proxmo_bench.training import TrainConfig, Trainer, load_config
from proxmo_bench.training.ppo_loss import clipped_value_loss

from .test_training_checkpoint import TINY
from .test_training_resume import _comparable, _interrupted


def _cfg(out: Path, **kw: Any) -> TrainConfig:
    return TrainConfig(**{**TINY, "estimator": "ppo_gae", "out_dir": str(out), **kw})


def test_clipped_value_loss_by_hand() -> None:
    v = torch.tensor([1.0, 3.0, -1.0])
    old = torch.tensor([0.0, 0.0, 0.0])
    ret = torch.tensor([2.0, 0.0, 0.0])
    # row 0: unclipped (1-2)^2=1, clipped (0.5-2)^2=2.25 -> 2.25; row 1: 9 vs (0.5-0)^2 -> 9;
    # row 2: 1 vs 0.25 -> 1; sum of halves = (2.25 + 9 + 1) / 2
    assert float(clipped_value_loss(v, old, ret, 0.5)) == pytest.approx(6.125)


def test_value_head_leaves_the_policy_network_as_without_it() -> None:
    plain = LightAgent(n_features=64, hidden=8, seed=4)
    critic = LightAgent(n_features=64, hidden=8, seed=4, value_head=True)
    for k, w in plain.module.state_dict().items():
        assert torch.equal(w, critic.module.state_dict()[k])
    assert plain.value_net is None and critic.value_net is not None
    assert "value" not in plain.state_dict() and "value" in critic.state_dict()
    assert plain.describe() == {
        k: v for k, v in critic.describe().items() if k != "value_head_params"
    }


def test_a_run_logs_the_critic_and_moves_it(tmp_path: Path) -> None:
    trainer = Trainer(_cfg(tmp_path / "run", updates=3))
    assert trainer.policy.value_net is not None  # type: ignore[attr-defined]
    before = {k: v.clone() for k, v in trainer.policy.value_net.state_dict().items()}  # type: ignore[attr-defined]
    res = trainer.run()
    last = res.metrics[-1]
    assert last["loss/value"] > 0 and "value/explained_variance" in last
    after = trainer.policy.value_net.state_dict()  # type: ignore[attr-defined]
    assert any(not torch.equal(before[k], after[k]) for k in before)


def test_interrupted_then_resumed_equals_uninterrupted_with_the_critic(tmp_path: Path) -> None:
    reference = Trainer(_cfg(tmp_path / "ref", updates=4))
    ref = reference.run()
    run = tmp_path / "run"
    _interrupted(run, updates=4, stop_at=2, estimator="ppo_gae")
    resumed = Trainer(_cfg(run, updates=4))
    got = resumed.run(resume=True)
    assert _comparable(got.metrics) == _comparable(ref.metrics)
    a, b = reference.policy.state_dict(), resumed.policy.state_dict()
    assert "value" in a
    for part in a:
        for k in a[part]:
            assert torch.equal(a[part][k], b[part][k]), f"{part}.{k}"


def test_a_policy_without_a_value_head_is_refused_before_any_compute(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, agent="relational")
    with pytest.raises(ValueError, match="needs an agent with a value head"):
        Trainer(cfg, policy=RelationalAgent(seed=0))


def test_every_built_in_agent_kind_can_train_ppo_gae(tmp_path: Path) -> None:
    for agent in ("light", "relational", "llm"):
        assert _cfg(tmp_path, agent=agent).uses_value_head


def test_relational_value_head_leaves_the_policy_network_as_without_it() -> None:
    plain = RelationalAgent(hidden=8, seed=3)
    critic = RelationalAgent(hidden=8, seed=3, value_head=True)
    for k, w in plain.module.state_dict().items():
        assert torch.equal(w, critic.module.state_dict()[k])
    assert "value" not in plain.state_dict() and "value" in critic.state_dict()
    assert plain.describe() == {
        k: v for k, v in critic.describe().items() if k != "value_head_params"
    }


def test_relational_state_values_equal_a_loop_over_states() -> None:
    agent = RelationalAgent(hidden=8, seed=1, pages=True, value_head=True)
    assert agent.value_net is not None
    rng = np.random.default_rng(0)
    n_rel, n_state = N_RELATIONS + N_PAGE_RELATIONS, N_STATE + N_PAGE_STATE
    samples = [
        RelationalSample(
            rng.normal(size=(k, n_rel)).astype(np.float32),
            rng.normal(size=n_state).astype(np.float32),
            rng.integers(0, 3, size=k),
            0,
            0.0,
        )
        for k in (1, 5, 2, 9)
    ]
    with torch.no_grad():
        got = agent.state_values(samples)
        want = [
            agent.value_net.net(
                torch.from_numpy(np.concatenate([s.state, s.relations.mean(0), s.relations.max(0)]))
            ).item()
            for s in samples
        ]
    assert got.shape == (4,)
    assert torch.allclose(got, torch.tensor(want), atol=1e-6)
    # the candidates' order does not change a state's value
    shuffled = dataclasses.replace(samples[1], relations=samples[1].relations[::-1].copy())
    with torch.no_grad():
        assert torch.allclose(agent.state_values([shuffled]), got[1:2], atol=1e-6)


def test_a_relational_run_trains_its_critic(tmp_path: Path) -> None:
    trainer = Trainer(_cfg(tmp_path / "run", agent="relational", updates=2))
    critic = trainer.policy.value_net  # type: ignore[attr-defined]
    before = {k: v.clone() for k, v in critic.state_dict().items()}
    last = trainer.run().metrics[-1]
    assert last["loss/value"] > 0 and "value/explained_variance" in last
    assert any(not torch.equal(before[k], v) for k, v in critic.state_dict().items())


@pytest.mark.slow
def test_ppo_gae_learns_keyroom_and_its_critic_explains_returns(tmp_path: Path) -> None:
    cfg = load_config(
        "keyroom_light",
        [
            "estimator=ppo_gae",
            "updates=12",
            "eval_every=0",
            "eval_episodes=16",
            "checkpoint_every=0",
            "progress=false",
            "tensorboard=false",
            f"out_dir={tmp_path / 'run'}",
        ],
    )
    res = Trainer(cfg).run()
    assert res.final_eval is not None and res.initial_eval is not None
    assert res.final_eval["eval/success_rate"] > res.initial_eval["eval/success_rate"]
    ev = [m["value/explained_variance"] for m in res.metrics if "value/explained_variance" in m]
    assert ev[0] < 0.05 < max(ev[-4:])  # from no better than a constant to explaining some


def test_the_llm_agent_trains_a_value_head_and_checkpoints_it(tmp_path: Path) -> None:
    cfg = _cfg(
        tmp_path / "llm",
        agent="llm",
        model="tiny-random",
        updates=2,
        group_size=2,
        groups_per_update=2,
        max_steps=2,
        max_new_tokens=8,
        eval_every=0,
        eval_episodes=1,
        micro_batch_size=4,
        lr=1e-2,
    )
    trainer = Trainer(cfg)
    head = trainer.policy.value_net  # type: ignore[attr-defined]
    assert (
        head is not None and float(head.linear.weight.detach().abs().sum()) == 0.0
    )  # starts at V = 0
    res = trainer.run()
    assert "loss/value" in res.metrics[-1]
    assert float(head.linear.weight.detach().abs().sum()) > 0  # the critic moved
    state = trainer.policy.state_dict()
    assert any(k.startswith("value_head.") for k in state)
    assert not any(k.startswith("value_head.") for k in trainer.policy.weights())
    resumed = Trainer(cfg)
    resumed.run(resume=True)  # already finished: loads the checkpoint, value head included
    torch.testing.assert_close(resumed.policy.value_net.linear.weight, head.linear.weight)  # type: ignore[attr-defined]
