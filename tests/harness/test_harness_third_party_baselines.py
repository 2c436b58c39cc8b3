"""A third-party task gets published baselines from its registration alone (no harness tables)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import gymnasium
import pytest

import proxmo_bench
from proxmo_bench import tasks
from proxmo_bench.conformance import check_task
from proxmo_bench.harness.baselines import baseline_agent, baseline_specs, publish_baselines
from proxmo_bench.leaderboard.provenance import official_data_dir
from proxmo_bench.leaderboard.validate import load_manifest
from proxmo_bench.leaderboard.verify import verify_submission
from proxmo_bench.tasks import register_task, resolve_reference

from . import thirdparty_task as tp


def test_the_third_party_task_is_conformant() -> None:
    check_task(tp.TASK, make_kwargs={"split": "test"})


def test_third_party_baselines_publish_validated_and_verified(tmp_path: Path) -> None:
    specs = baseline_specs(tp.TASK, suite="thirdparty", split="test", n_episodes=None)
    assert [(s.kind, s.name, s.run_seeds) for s in specs] == [
        ("expert", "saynumber-generated-test-expert", (0,)),
        ("random", "saynumber-generated-test-random", (0, 1, 2)),
    ]
    said: list[str] = []
    published = publish_baselines(
        tmp_path, specs=specs, created=dt.date(2026, 3, 4), log=said.append
    )
    assert sorted(p.name for p in published) == [
        "2026-03-04_saynumber-generated-test-expert",
        "2026-03-04_saynumber-generated-test-random",
    ]
    by_kind = {load_manifest(p).agent.kind: (p, load_manifest(p)) for p in published}
    expert_dir, expert = by_kind["expert"]
    random_dir, random = by_kind["random"]
    # every task of the listed split, once
    assert [e.task_id for e in expert.evaluation.episodes] == [f"test/{i}" for i in range(8)]
    assert expert.agent.model_id == "tests.harness.thirdparty_task"
    assert expert.metrics.success.mean == 1.0
    assert random.agent.model_id == "tests.harness.thirdparty_task:GuessingAgent"
    assert [r.seed for r in random.runs] == [0, 1, 2] and random.metrics.success.mean < 1.0
    for sub in (expert_dir, random_dir):
        assert verify_submission(sub).ok
    assert (tmp_path / "thirdparty" / "LEADERBOARD.md").is_file()
    # a second call keeps what is there
    again = publish_baselines(tmp_path, specs=specs, created=dt.date(2026, 3, 4), log=said.append)
    assert again == [] and sum(line.startswith("keep") for line in said) == 2


def test_a_task_without_an_expert_says_so() -> None:
    with pytest.raises(
        ValueError, match=r"no expert agent for thirdparty/NoExpert-v0.*registers none"
    ):
        baseline_agent("expert", tp.NO_EXPERT_TASK, 0)
    with pytest.raises(ValueError, match="registers no expert"):
        proxmo_bench.get_task_spec(tp.NO_EXPERT_TASK).make_expert(proxmo_bench.make(tp.TASK))
    with pytest.raises(ValueError, match="registers none"):
        baseline_specs(
            tp.NO_EXPERT_TASK, suite="x", split="test", n_episodes=2, kinds=["expert", "random"]
        )
    # by default such a task gets its random baseline only: the uniform RandomAgent
    specs = baseline_specs(tp.NO_EXPERT_TASK, suite="x", split="test", n_episodes=2)
    assert [s.kind for s in specs] == ["random"]
    agent, info = baseline_agent("random", tp.NO_EXPERT_TASK, 3)
    assert info.model_id == "proxmo_bench.agents.random_agent:RandomAgent"
    assert type(agent).__name__ == "RandomAgent"


def test_official_data_follows_the_registered_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SAYNUMBER_DATA", "/data/say")
    assert official_data_dir(tp.TASK, {"source": "official"}) == Path("/data/say")
    assert official_data_dir(tp.TASK, {}) is None
    assert official_data_dir(tp.NO_EXPERT_TASK, {"source": "official"}) is None


def test_official_specs_without_the_data_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SAYNUMBER_DATA", raising=False)
    specs = baseline_specs(
        tp.TASK, suite="thirdparty", split="test", n_episodes=2, env_kwargs={"source": "official"}
    )
    said: list[str] = []
    assert publish_baselines(tmp_path, specs=specs, log=said.append) == []
    assert said and all("set SAYNUMBER_DATA" in line for line in said if line.startswith("skip"))


def test_a_reference_that_does_not_resolve_names_task_and_reference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _scratch_registry(monkeypatch, "thirdparty/Broken-v0")
    register_task(
        "thirdparty/Broken-v0",
        tp.SayNumberEnv,
        max_episode_steps=3,
        splits=["train", "test"],
        expert="tests.harness.thirdparty_task:NoSuchExpert.for_env",
        random_agent="tests.harness.no_such_module:Agent",
    )
    with pytest.raises(ValueError, match=r"thirdparty/Broken-v0.*NoSuchExpert\.for_env"):
        baseline_agent("expert", "thirdparty/Broken-v0", 0)
    with pytest.raises(ValueError, match=r"thirdparty/Broken-v0.*cannot import.*no_such_module"):
        baseline_agent("random", "thirdparty/Broken-v0", 0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("expert", "no_colon_here", "expert must be a callable or a 'package.module:attr'"),
        ("expert", "pkg.mod:", "expert must be"),
        ("expert", 42, "expert must be"),
        ("random_agent", "pkg mod:Agent", "random_agent must be"),
        ("data_env_var", "MY-DATA", "data_env_var must be an environment variable name"),
        ("data_env_var", "", "data_env_var must be"),
    ],
)
def test_registration_checks_the_baseline_fields(
    monkeypatch: pytest.MonkeyPatch, field: str, value: object, message: str
) -> None:
    _scratch_registry(monkeypatch, "thirdparty/Bad-v0")
    with pytest.raises(ValueError, match=message) as err:
        register_task(
            "thirdparty/Bad-v0",
            tp.SayNumberEnv,
            max_episode_steps=3,
            splits=["test"],
            **{field: value},  # type: ignore[arg-type]
        )
    assert "\n" not in str(err.value) and "thirdparty/Bad-v0" in str(err.value)


def test_register_spec_carries_the_baseline_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = proxmo_bench.get_task_spec(tp.TASK)
    _scratch_registry(monkeypatch, tp.TASK)
    tasks.register_spec(spec)
    again = proxmo_bench.get_task_spec(tp.TASK)
    assert (again.expert, again.random_agent, again.data_env_var) == (
        spec.expert,
        spec.random_agent,
        spec.data_env_var,
    )
    assert again.kwargs == spec.kwargs == {}


def test_resolve_reference_follows_dotted_attributes() -> None:
    assert resolve_reference("tests.harness.thirdparty_task:SayNumberExpert.for_env") == (
        tp.SayNumberExpert.for_env
    )
    assert resolve_reference(tp.GuessingAgent) is tp.GuessingAgent
    with pytest.raises(ValueError, match="must look like"):
        resolve_reference("not a reference", task="x/Y-v0")


def _scratch_registry(monkeypatch: pytest.MonkeyPatch, task_id: str) -> None:
    """Registrations in the test stay in the test (proxmo-bench's and gymnasium's registries)."""
    monkeypatch.setattr(tasks, "_REGISTRY", dict(tasks._REGISTRY))
    if task_id in gymnasium.registry:
        monkeypatch.setitem(gymnasium.registry, task_id, gymnasium.registry[task_id])
    else:
        monkeypatch.setitem(gymnasium.registry, task_id, None)  # type: ignore[arg-type]


def test_cli_publishes_a_third_party_tasks_baselines(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from proxmo_bench.cli import app

    args = ["leaderboard", "baselines", "--root", str(tmp_path), "--task", tp.TASK]
    res = CliRunner().invoke(app, [*args, "--suite", "thirdparty", "--split", "test"])
    assert res.exit_code == 0, res.output
    subs = sorted(
        p.name.split("_", 1)[1] for p in (tmp_path / "thirdparty" / "submissions").iterdir()
    )
    assert subs == ["saynumber-generated-test-expert", "saynumber-generated-test-random"]
    res = CliRunner().invoke(app, [*args, "--suite", "thirdparty", "--split", "nope"])
    assert res.exit_code == 2 and "nope" in res.output
