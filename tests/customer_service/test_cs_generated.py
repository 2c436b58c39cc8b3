"""The default, generated source: conformance, gold replay, determinism, configurable size."""

from __future__ import annotations

import json

import pytest

import proxmo_bench
from proxmo_bench.agents.experts.customer_service import GoldActionAgent
from proxmo_bench.conformance import check_task
from proxmo_bench.envs.customer_service.domains.airline.generator import generate as gen_airline
from proxmo_bench.envs.customer_service.domains.retail.generator import generate as gen_retail

from .helpers_cs import DoNothingAgent, run_episode, unwrapped

IDS = ("proxmo/Airline-v0", "proxmo/Retail-v0")


@pytest.mark.parametrize("task_id", IDS)
def test_check_task_generated(task_id: str) -> None:
    check_task(task_id)


@pytest.mark.parametrize("task_id", IDS)
def test_gold_and_do_nothing_on_generated_tasks(task_id: str) -> None:
    env = proxmo_bench.make(task_id, generator={"n_users": 60, "seed": 3})
    gold = GoldActionAgent.for_env(env)
    lazy = DoNothingAgent()
    domain = unwrapped(env).domain
    assert domain.source.startswith("generated")
    for split, tasks in domain.tasks.items():
        assert tasks, split
        for task in tasks:
            assert run_episode(env, gold, task.task_id)["won"], task.task_id
            info = run_episode(env, lazy, task.task_id)
            # Every generated task changes the database or asks for an output.
            assert info["noop_task"] is False and info["won"] is False, task.task_id


def test_episodes_never_write_the_shared_base() -> None:
    env = proxmo_bench.make("proxmo/Retail-v0", generator={"n_users": 40, "seed": 9})
    domain = unwrapped(env).domain
    snapshot = json.dumps(domain.db.materialize(), sort_keys=True)
    gold = GoldActionAgent.for_env(env)
    for task in domain.tasks["train"]:
        run_episode(env, gold, task.task_id)
    assert json.dumps(domain.db.fresh().materialize(), sort_keys=True) == snapshot
    digests = domain.precompute_gold_digests()
    assert len(digests) == sum(len(t) for t in domain.tasks.values())
    base = domain.db.fresh().digest()
    writing = [t for ts in domain.tasks.values() for t in ts if not t.outputs]
    assert writing and all(digests[t.task_id] != base for t in writing)


def test_generator_is_deterministic_and_configurable() -> None:
    a = gen_retail((("seed", 5), ("n_users", 30), ("n_tasks", {"train": 7, "test": 3})))
    b = gen_retail((("seed", 5), ("n_users", 30), ("n_tasks", {"train": 7, "test": 3})))
    c = gen_retail((("seed", 6), ("n_users", 30), ("n_tasks", {"train": 7, "test": 3})))
    assert len(a.db["users"]) == 30 and {s: len(t) for s, t in a.tasks.items()} == {
        "test": 3,
        "train": 7,
    }
    assert a.db.base_id == b.db.base_id and a.tasks == b.tasks
    assert c.db.base_id != a.db.base_id
    air = gen_airline((("n_users", 20), ("n_flights", 40), ("n_tasks", {"test": 5})))
    assert len(air.db["flights"]) == 40 and len(air.tasks["test"]) == 5
    with pytest.raises(ValueError, match="unknown retail generator parameters"):
        gen_retail((("n_orders", 3),))


def test_generated_instructions_follow_the_scripted_template() -> None:
    domain = gen_retail()
    for task in domain.tasks["train"][:50]:
        assert task.instruction.startswith("Your name is ")
        assert task.annotator == "generated" and task.actions


def test_make_rejects_mixed_source_arguments() -> None:
    with pytest.raises(ValueError, match="data_dir"):
        proxmo_bench.make("proxmo/Retail-v0", data_dir="/nowhere")
    with pytest.raises(ValueError, match="source must be"):
        proxmo_bench.make("proxmo/Retail-v0", source="web")
