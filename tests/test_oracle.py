"""proxmo_bench.oracle: true advantages by Monte Carlo, checked by enumeration and by the env API."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import numpy as np
import pytest

from proxmo_bench import TextEnv, make, register_task
from proxmo_bench.agents.random_agent import RandomAgent
from proxmo_bench.estimators import StepBatch
from proxmo_bench.oracle import (
    diagnostics,
    effective_neighbours,
    identical_return_share,
    oracle_values,
    score_advantages,
    singleton_step_group_rate,
    true_advantages,
)
from proxmo_bench.rollout import EpisodeRecord, GroupSpec, InProcessBackend, collect_groups

CORRIDOR = "test/Corridor-v0"
LIMIT = 3


class CorridorEnv(TextEnv):
    """Positions 0..2, start at 0; "right" moves on, "left" moves back (not below 0); reaching 2
    pays 1 and ends. Step limit 3. Small enough to enumerate every action sequence."""

    splits: ClassVar[tuple[str, ...]] = ("train", "test")

    def __init__(self, *, admissible: bool = True, **kw: Any) -> None:
        super().__init__(**kw)
        self.admissible = admissible
        self.pos = 0

    def _info(self) -> dict[str, Any]:
        return {
            "task_id": "train/0",
            "task_category": "corridor",
            "instruction": "reach the end",
            "admissible_actions": ["left", "right"] if self.admissible else None,
            "anchor": f"at {self.pos}",
        }

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.pos = 0
        return "at 0", self._info()

    def _step(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        if action not in ("left", "right"):
            return "Nothing happens.", 0.0, False, {**self._info(), "action_valid": False}
        self.pos = min(2, self.pos + 1) if action == "right" else max(0, self.pos - 1)
        won = self.pos == 2
        info = {**self._info(), "won": won, "score": float(won)}
        return f"at {self.pos}", float(won), won, info

    def task_ids(self, split: str) -> list[str]:
        return ["train/0"]


register_task(CORRIDOR, CorridorEnv, max_episode_steps=LIMIT, splits=("train", "test"))


def exact_value(pos: int, steps_left: int, gamma: float, p_right: float = 0.5) -> float:
    """V under the policy that goes right with probability ``p_right``, by enumeration."""
    if steps_left == 0 or pos == 2:
        return 0.0
    return p_right * exact_q(pos, "right", steps_left, gamma, p_right) + (1 - p_right) * exact_q(
        pos, "left", steps_left, gamma, p_right
    )


def exact_q(pos: int, action: str, steps_left: int, gamma: float, p_right: float = 0.5) -> float:
    nxt = min(2, pos + 1) if action == "right" else max(0, pos - 1)
    r = 1.0 if nxt == 2 else 0.0
    return r + (0.0 if nxt == 2 else gamma * exact_value(nxt, steps_left - 1, gamma, p_right))


class MostlyRight:
    """Right with probability 0.85: with 6 rollouts, "left" (6 * 0.15 < 1) is a rare action
    and goes to the pooled stratum."""

    name = "mostly-right"

    def action_probabilities(self, contexts: Any) -> list[tuple[list[str], np.ndarray]]:
        return [(["left", "right"], np.array([0.15, 0.85])) for _ in contexts]


def corridor_record(actions: list[str]) -> EpisodeRecord:
    env = make(CORRIDOR)
    env.reset(seed=0)
    rewards, won, term = [], False, "step_limit"
    for a in actions:
        _, r, te, _tr, info = env.step(a)
        rewards.append(r)
        won = bool(info["won"])
        if te:
            term = "success" if won else "failure"
    return EpisodeRecord(
        task=CORRIDOR,
        task_id="train/0",
        task_category="corridor",
        split="train",
        seed=0,
        actions=actions,
        rewards=rewards,
        won=won,
        score=float(won),
        steps=len(actions),
        termination=term,  # type: ignore[arg-type]
        env_version="0",
    )


def test_corridor_matches_enumeration() -> None:
    # Worked example, gamma = 0.5, uniform policy, 3 steps:
    # V(pos 1, 1 left) = 0.5 * 1 = 0.5; V(pos 0, 1 left) = 0;
    # V(pos 1, 2 left) = 0.5 * 1 + 0.5 * 0.5 * V(0, 1 left) = 0.5;
    # V(pos 0, 2 left) = 0.5 * 0.5 * V(0, 1) + 0.5 * 0.5 * V(1, 1) = 0.125;
    # V(pos 0, 3 left) = 0.5 * 0.5 * V(0, 2) + 0.5 * 0.5 * V(1, 2) = 0.15625.
    gamma = 0.5
    assert exact_value(0, 3, gamma) == pytest.approx(0.15625)
    records = [corridor_record(a) for a in (["right", "right"], ["left", "right", "left"])]
    res = oracle_values(records, gamma=gamma, rollouts=400, seed=1)
    truth = []
    for rec in records:
        pos = 0
        for t, a in enumerate(rec.actions):
            truth.append(exact_q(pos, a, LIMIT - t, gamma) - exact_value(pos, LIMIT - t, gamma))
            pos = min(2, pos + 1) if a == "right" else max(0, pos - 1)
    truth_arr = np.array(truth)
    assert res.advantage.shape == res.se.shape == (5,)
    assert np.all(np.abs(res.advantage - truth_arr) <= 4 * res.se + 1e-12)
    # The last step before the limit is exact: Q is its reward, V the mean of the two one-step
    # rewards, both enumerated with no continuation.
    assert res.se[-1] == 0.0 and res.advantage[-1] == pytest.approx(truth_arr[-1])
    # The winning step of the first record: Q = 1 exactly, V(pos 1, 2 left) = 0.5 up to noise.
    assert res.q[1] == 1.0


def test_sampled_first_action_agrees_with_enumeration() -> None:
    gamma = 0.9
    records = [corridor_record(["left", "right", "right"])]
    res = oracle_values(records, gamma=gamma, rollouts=300, seed=2, expectation="sample")
    truth = []
    pos = 0
    for t, a in enumerate(records[0].actions):
        truth.append(exact_q(pos, a, LIMIT - t, gamma) - exact_value(pos, LIMIT - t, gamma))
        pos = min(2, pos + 1) if a == "right" else max(0, pos - 1)
    assert np.all(np.abs(res.advantage - np.array(truth)) <= 4 * res.se + 1e-12)
    assert np.all(res.se > 0)


def test_rare_actions_are_pooled_and_stay_unbiased() -> None:
    # Unbiased on average over seeds: a few continuations of a rare stratum often agree by chance
    # (se 0 on one seed), so one seed alone is not a fair test of the pooled estimate.
    gamma = 0.8
    records = [corridor_record(["left", "left", "right"]), corridor_record(["right", "right"])]
    runs = [
        oracle_values(records, policy=MostlyRight(), gamma=gamma, rollouts=6, seed=s)
        for s in range(40)
    ]
    assert runs[0].expectation == "exact"
    truth = []
    for rec in records:
        pos = 0
        for t, a in enumerate(rec.actions):
            q = exact_q(pos, a, LIMIT - t, gamma, 0.85)
            truth.append(q - exact_value(pos, LIMIT - t, gamma, 0.85))
            pos = min(2, pos + 1) if a == "right" else max(0, pos - 1)
    A = np.array([r.advantage for r in runs])
    spread = A.std(axis=0, ddof=1) / np.sqrt(len(runs))
    assert np.all(np.abs(A.mean(axis=0) - np.array(truth)) <= 4 * spread + 1e-9)
    # The first state's V pools "left": the estimate varies across seeds, the truth is fixed.
    assert spread[0] > 0


@pytest.fixture(scope="module")
def keyroom_batch() -> Any:
    policy = RandomAgent(seed=3)
    specs = [GroupSpec(seed=s) for s in (5, 6)]
    return collect_groups(
        InProcessBackend(),
        policy,
        "proxmo/KeyRoom-v0",
        specs,
        3,
        env_kwargs={"start_in_chest_room": True, "max_episode_steps": 8},
    )


def _independent_mc(
    rec: EpisodeRecord, t: int, gamma: float, n: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Q - V at step t of ``rec`` with the plain env API: replay, then random continuations."""

    def rollout(first: str | None) -> float:
        env = make(rec.task, **rec.env_kwargs)
        _, info = env.reset(seed=rec.seed, options=rec.reset_options())
        for a in rec.actions[:t]:
            _, _, _, _, info = env.step(a)
        ret, disc, action = 0.0, 1.0, first
        while True:
            if action is None:
                adm = info["admissible_actions"]
                action = adm[int(rng.integers(len(adm)))]
            _, r, te, tr, info = env.step(action)
            ret += disc * r
            disc *= gamma
            action = None
            if te or tr:
                return ret

    q = np.array([rollout(rec.actions[t]) for _ in range(n)])
    v = np.array([rollout(None) for _ in range(n)])
    return float(q.mean() - v.mean()), float(np.sqrt(q.var(ddof=1) / n + v.var(ddof=1) / n))


def test_against_an_independent_monte_carlo(keyroom_batch: Any) -> None:
    records = keyroom_batch.records[:3]
    gamma = 0.9
    A, se = true_advantages(records, gamma=gamma, rollouts=64, seed=0)
    rng = np.random.default_rng(123)
    offsets = np.cumsum([0] + [r.steps for r in records])
    checked = 0
    for ri, rec in enumerate(records):
        for t in sorted({0, rec.steps // 2}):
            a_ind, se_ind = _independent_mc(rec, t, gamma, 150, rng)
            k = offsets[ri] + t
            assert abs(A[k] - a_ind) <= 4 * np.hypot(se[k], se_ind) + 1e-9, (ri, t, A[k], a_ind)
            checked += 1
    assert checked >= 3


def test_deterministic_for_a_seed(keyroom_batch: Any) -> None:
    recs = keyroom_batch.records[:2]
    a1, s1 = true_advantages(recs, rollouts=8, seed=4)
    a2, s2 = true_advantages(recs, rollouts=8, seed=4)
    a3, _ = true_advantages(recs, rollouts=8, seed=5)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(s1, s2)
    assert not np.array_equal(a1, a3)
    assert len(a1) == sum(r.steps for r in recs)


def test_batching_and_copying_do_not_change_the_result(keyroom_batch: Any) -> None:
    recs = keyroom_batch.records[:2]
    base = oracle_values(recs, rollouts=6, seed=7, fork="replay")
    assert base.fork == "replay"
    for kw in ({"batch_size": 5}, {"fork": "copy"}, {"fork": "auto"}):
        other = oracle_values(recs, rollouts=6, seed=7, **kw)  # type: ignore[arg-type]
        np.testing.assert_array_equal(base.advantage, other.advantage)
        np.testing.assert_array_equal(base.se, other.se)
        assert base.env_steps == other.env_steps
    assert oracle_values(recs, rollouts=2, seed=7).fork == "copy"  # auto: KeyRoom copies exactly


def test_fast_alfworld_copies_equal_replays() -> None:
    kwargs = {"engine": "fast", "difficulty": 1, "categories": ["pick", "look"]}
    batch = collect_groups(
        InProcessBackend(),
        RandomAgent(seed=3),
        "proxmo/ALFWorld-v0",
        [GroupSpec(seed=11)],
        2,
        env_kwargs=kwargs,
    )
    recs = batch.records
    replayed = oracle_values(recs, rollouts=3, seed=2, fork="replay")
    copied = oracle_values(recs, rollouts=3, seed=2, fork="copy")
    assert copied.fork == "copy" and replayed.fork == "replay"
    np.testing.assert_array_equal(replayed.advantage, copied.advantage)
    np.testing.assert_array_equal(replayed.se, copied.se)
    assert replayed.env_steps == copied.env_steps > 0


def test_copy_is_refused_where_the_env_does_not_declare_it() -> None:
    rec = corridor_record(["right", "right"])
    assert oracle_values([rec], rollouts=2).fork == "replay"  # auto falls back to replay
    with pytest.raises(ValueError, match="does not declare exact copies"):
        oracle_values([rec], rollouts=2, fork="copy")


def test_clear_errors(keyroom_batch: Any) -> None:
    recs = keyroom_batch.records[:1]
    with pytest.raises(ValueError, match="rollouts must be an integer >= 2"):
        true_advantages(recs, rollouts=1)
    bad = recs[0].model_copy(update={"rewards": [5.0] * recs[0].steps})
    with pytest.raises(ValueError, match=r"record 0 .* does not replay"):
        true_advantages([bad], rollouts=2)
    rec = corridor_record(["right", "right"])
    no_adm = rec.model_copy(update={"env_kwargs": {"admissible": False}})
    with pytest.raises(ValueError, match="lists none"):
        true_advantages([no_adm], rollouts=2)
    with pytest.raises(ValueError, match="policy must be 'random'"):
        true_advantages(recs, policy="expert", rollouts=2)
    with pytest.raises(ValueError, match="expectation='exact' needs"):
        oracle_values(recs, policy=RandomAgent(seed=0), rollouts=2, expectation="exact")


def test_an_opaque_batch_policy_is_sampled(keyroom_batch: Any) -> None:
    recs = keyroom_batch.records[:1]
    res = oracle_values(recs, policy=RandomAgent(seed=0), rollouts=4, seed=0)
    assert res.expectation == "sample" and len(res.advantage) == recs[0].steps


def _hand_batch() -> StepBatch:
    # Two groups of two trajectories. Group 0: returns 1 and 0 (different); group 1: both 0.
    return StepBatch(
        group_id=np.array([0, 0, 0, 1, 1, 1]),
        traj_id=np.array([0, 0, 1, 2, 2, 3]),
        step=np.array([0, 1, 0, 0, 1, 0]),
        reward=np.array([0.0, 1.0, 0.0, 0.0, 0.0, 0.0]),
        anchor=np.array(["a", "b", "a", "a", "c", "d"], dtype=object),
        won=np.array([True, True, False, False, False, False]),
    )


def test_scores_of_a_perfect_and_a_reversed_estimate() -> None:
    batch = _hand_batch()
    A = np.array([0.5, 1.0, -0.5, 0.2, -0.1, -0.3])
    se = np.full(6, 0.01)
    perfect = score_advantages(batch, 2 * A + 1, A, se, n_boot=200)
    assert perfect["spearman"]["value"] == pytest.approx(1.0)
    assert perfect["pearson"]["value"] == pytest.approx(1.0)
    assert perfect["affine_rmse"]["value"] == pytest.approx(0.0, abs=1e-9)
    assert perfect["pearson_within"]["value"] == pytest.approx(1.0)
    rev = score_advantages(batch, -A, A, se, n_boot=200)
    assert rev["sign_agreement"]["value"] == 0.0 and rev["spearman"]["value"] == pytest.approx(-1)
    # Half the rows have a clear sign (|A| > 2 se = 0.02): all six; an estimate of 0 disagrees.
    zero = score_advantages(batch, np.zeros(6), A, se, n_boot=50)
    assert zero["sign_agreement"]["value"] == 0.0
    assert zero["affine_rmse"]["value"] == pytest.approx(A.std())
    lo, hi = perfect["pearson"]["low"], perfect["pearson"]["high"]
    assert lo == pytest.approx(1.0) and hi == pytest.approx(1.0)


def test_diagnostics_by_hand() -> None:
    batch = _hand_batch()
    # Step groups (group, anchor): (0,a) x2, (0,b), (1,a), (1,c), (1,d): 4 of 6 rows alone.
    assert singleton_step_group_rate(batch) == pytest.approx(4 / 6)
    # Group 1's trajectories both return 0; group 0's do not.
    assert identical_return_share(batch) == 0.5
    n_eff = effective_neighbours(batch, temperature=0.1)
    # Distinct anchors share no token: a row's weight on itself is e^10 / (e^10 * m_own + others)
    # ~ 1 / m_own, so n_eff ~ m_own (2 for the two "a" rows of group 0, 1 for the rest).
    np.testing.assert_allclose(n_eff, [2, 1, 2, 1, 1, 1], atol=1e-3)
    # At a high temperature every row is a neighbour: n_eff -> the group's row count (3).
    np.testing.assert_allclose(effective_neighbours(batch, temperature=1e6), 3.0, rtol=1e-4)
    d = diagnostics(batch)
    assert d["rows"] == 6 and d["groups"] == 2


def test_cli_smoke(tmp_path: Any) -> None:
    from typer.testing import CliRunner

    from proxmo_bench.cli import app

    out = tmp_path / "o"
    suite = tmp_path / "credit"
    args = [
        "oracle", "--task", "proxmo/KeyRoom-v0", "--env", "start_in_chest_room=true",
        "--env", "max_episode_steps=6", "--groups", "2", "--group-size", "2", "--rollouts", "2",
        "--estimator", "grpo", "--estimator", "proxmo", "--out", str(out),
        "--publish", str(suite), "--name", "tiny",
    ]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    result = json.loads((out / "result.json").read_text())
    assert set(result["scores"]) == {"grpo", "proxmo"}
    assert (out / "plots" / "proxmo.png").stat().st_size > 1000
    md = (suite / "LEADERBOARD.md").read_text()
    assert "proxmo/KeyRoom-v0" in md and "| proxmo |" in md
    bad = CliRunner().invoke(app, ["oracle", "--rollouts", "1", "--out", str(out)])
    assert bad.exit_code == 2 and "rollouts" in bad.output
    bad = CliRunner().invoke(app, ["oracle", "--task", "nope/Nope-v0", "--out", str(out)])
    assert bad.exit_code == 2 and "not registered" in bad.output


def test_published_credit_tables_are_up_to_date() -> None:
    from pathlib import Path

    from proxmo_bench.harness.credit import CREDIT_MD, load_credit_results, render_credit_markdown

    suite = Path(__file__).resolve().parents[1] / "leaderboards" / "credit"
    if not (suite / "results").is_dir():
        pytest.skip("no published credit results")
    assert (suite / CREDIT_MD).read_text() == render_credit_markdown(load_credit_results(suite))


def test_choice_policy_probabilities_are_what_it_samples() -> None:
    torch = pytest.importorskip("torch")
    from proxmo_bench.agents.light_agent import LightAgent
    from proxmo_bench.oracle import as_oracle_policy

    agent = LightAgent(n_features=64, hidden=8, seed=1)
    with torch.no_grad():
        for p in agent.module.parameters():
            p.add_(torch.randn_like(p))
    env = make("proxmo/KeyRoom-v0")
    obs, info = env.reset(seed=0)
    from proxmo_bench.batch_policy import StepContext

    ctx = StepContext("proxmo/KeyRoom-v0", obs, info)
    cands, p = as_oracle_policy(agent).action_probabilities([ctx])[0]  # type: ignore[union-attr]
    assert cands == info["admissible_actions"] and p.sum() == pytest.approx(1.0)
    torch.manual_seed(0)
    draws = [agent.act_batch([ctx])[0].action for _ in range(600)]
    freq = np.array([draws.count(c) / 600 for c in cands])
    assert np.all(np.abs(freq - p) < 0.08)
    assert not np.allclose(p, 1 / len(p))  # a non-uniform policy, so the check means something


def test_uniform_policy_fills_templates_and_the_sampler_draws_from_it() -> None:
    from proxmo_bench.batch_policy import StepContext
    from proxmo_bench.oracle import ProbabilitySampler, UniformPolicy

    info = {"admissible_actions": ["search[<query>]"], "instruction": "a red shoe, size 9"}
    ctx = StepContext("proxmo/WebShop-v0", "page", info)
    [(cands, p)] = UniformPolicy().action_probabilities([ctx])
    assert cands == ["search[a red shoe, size 9]", "search[a red shoe]"]
    np.testing.assert_allclose(p, [0.5, 0.5])
    plain = StepContext("t", "o", {"admissible_actions": ["a", "b", "c"], "instruction": ""})
    assert UniformPolicy().action_probabilities([plain])[0][0] == ["a", "b", "c"]
    draws = [d.action for d in ProbabilitySampler(UniformPolicy(), seed=1).act_batch([ctx] * 40)]
    again = [d.action for d in ProbabilitySampler(UniformPolicy(), seed=1).act_batch([ctx] * 40)]
    assert draws == again and set(draws) == set(cands)
