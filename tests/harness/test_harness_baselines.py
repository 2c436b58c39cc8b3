"""Baseline submissions: made with the same evaluation and checks as trained agents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import proxmo_bench
from proxmo_bench.harness.baselines import (
    PUBLISHED_BASELINES,
    BaselineSpec,
    baseline_agent,
    baseline_specs,
    publish_baselines,
    run_baseline,
)
from proxmo_bench.leaderboard.provenance import official_data_dir
from proxmo_bench.leaderboard.schema import Manifest
from proxmo_bench.leaderboard.verify import verify_submission

TAU_BENCH = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "tau_bench"


def test_random_baseline_submission_verifies(tmp_path: Path) -> None:
    sub = run_baseline(
        suite="keyroom",
        task="proxmo/KeyRoom-v0",
        kind="random",
        split="test",
        out_dir=tmp_path,
        n_episodes=8,
        run_seeds=(0, 1),
        created=dt.date(2026, 3, 4),
    )
    assert sub.name == "2026-03-04_keyroom-generated-test-random"
    m = Manifest.model_validate_json((sub / "manifest.json").read_text())
    assert m.training is None and m.agent.kind == "random" and m.agent.revision
    assert [r.seed for r in m.runs] == [0, 1] and m.metrics.ci.unit == "run"
    assert m.data.source == "generated" and m.data.files_sha256 is None
    assert verify_submission(sub).ok


def test_unknown_baselines_are_refused() -> None:
    with pytest.raises(KeyError, match="myorg/MyTask-v0"):
        baseline_agent("expert", "myorg/MyTask-v0", 0)
    with pytest.raises(ValueError, match="'random' or 'expert'"):
        baseline_agent("oracle", "proxmo/KeyRoom-v0", 0)


def test_every_builtin_task_registers_its_baselines() -> None:
    """The families' registrations carry what the harness tables used to (same model ids)."""
    experts = {
        "proxmo/ALFWorld-v0": "proxmo_bench.agents.experts.alfworld",
        "proxmo/KeyRoom-v0": "proxmo_bench.agents.experts.keyroom",
        "proxmo/WebShop-v0": "proxmo_bench.agents.experts.webshop",
        "proxmo/Retail-v0": "proxmo_bench.agents.experts.customer_service",
        "proxmo/Airline-v0": "proxmo_bench.agents.experts.customer_service",
    }
    data_vars = {
        "proxmo/ALFWorld-v0": "ALFWORLD_DATA",
        "proxmo/KeyRoom-v0": None,
        "proxmo/WebShop-v0": "WEBSHOP_DATA",
        "proxmo/Retail-v0": "TAU_BENCH_DATA",
        "proxmo/Airline-v0": "TAU_BENCH_DATA",
    }
    for task, module in experts.items():
        assert baseline_agent("expert", task, 0)[1].model_id == module
        assert proxmo_bench.get_task_spec(task).data_env_var == data_vars[task]
        random_id = baseline_agent("random", task, 0)[1].model_id
        tool_agent = task in ("proxmo/Retail-v0", "proxmo/Airline-v0")
        assert random_id == (
            "proxmo_bench.agents.random_tool_agent:RandomToolAgent"
            if tool_agent
            else "proxmo_bench.agents.random_agent:RandomAgent"
        )


def test_webshop_expert_builds_from_the_env() -> None:
    from proxmo_bench.agents.experts.webshop import WebShopExpert

    factory, _ = baseline_agent("expert", "proxmo/WebShop-v0", 0)
    env = proxmo_bench.make("proxmo/WebShop-v0", n_products=50)
    try:
        assert isinstance(factory(env), WebShopExpert)
    finally:
        env.close()


def test_baseline_specs_of_a_builtin_task() -> None:
    specs = baseline_specs("proxmo/KeyRoom-v0", suite="keyroom", split="test", n_episodes=5)
    assert [(s.kind, s.run_seeds, s.name) for s in specs] == [
        ("expert", (0,), "keyroom-generated-test-expert"),
        ("random", (0, 1, 2), "keyroom-generated-test-random"),
    ]
    with pytest.raises(ValueError, match="splits"):
        baseline_specs("proxmo/KeyRoom-v0", suite="keyroom", split="valid", n_episodes=5)
    with pytest.raises(ValueError, match="positive"):
        baseline_specs("proxmo/KeyRoom-v0", suite="keyroom", split="test", n_episodes=0)


def test_official_data_dir_follows_the_family_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALFWORLD_DATA", "/data/alf")
    assert official_data_dir("proxmo/ALFWorld-v0", {"source": "official"}) == Path("/data/alf")
    assert official_data_dir("proxmo/ALFWorld-v0", {"source": "generated"}) is None
    explicit = {"source": "official", "data_dir": "/x"}
    assert official_data_dir("proxmo/ALFWorld-v0", explicit) == Path("/x")


def test_customer_service_baselines_use_the_tool_agents() -> None:
    from proxmo_bench.agents.experts.customer_service import GoldActionAgent
    from proxmo_bench.agents.random_agent import RandomAgent
    from proxmo_bench.agents.random_tool_agent import RandomToolAgent

    agent, info = baseline_agent("random", "proxmo/Airline-v0", 4)
    assert isinstance(agent, RandomToolAgent) and info.params == {"seed": 4}
    assert info.model_id == "proxmo_bench.agents.random_tool_agent:RandomToolAgent"
    assert isinstance(baseline_agent("random", "proxmo/KeyRoom-v0", 4)[0], RandomAgent)
    factory, info = baseline_agent("expert", "proxmo/Retail-v0", 0)
    assert isinstance(factory(proxmo_bench.make("proxmo/Retail-v0")), GoldActionAgent)
    assert info.model_id == "proxmo_bench.agents.experts.customer_service"


@pytest.mark.parametrize("kind", ["expert", "random"])
def test_customer_service_baseline_submission_verifies(tmp_path: Path, kind: str) -> None:
    sub = run_baseline(
        suite="retail",
        task="proxmo/Retail-v0",
        kind=kind,
        split="test",
        out_dir=tmp_path,
        n_episodes=6,
        run_seeds=(0,) if kind == "expert" else (0, 1),
        env_kwargs={"source": "generated"},
        created=dt.date(2026, 3, 4),
    )
    assert sub.name == f"2026-03-04_retail-generated-test-{kind}"
    assert sorted(p.name for p in sub.iterdir()) == ["episodes.jsonl.gz", "manifest.json"]
    m = Manifest.model_validate_json((sub / "manifest.json").read_text())
    assert m.agent.kind == kind and m.data.source == "generated"
    if kind == "expert":  # the gold replay solves every generated task
        assert m.metrics.success.mean == 1.0
    else:  # generated tasks all need writes that random calls almost never get right
        assert m.metrics.success.mean < 0.5
    assert verify_submission(sub).ok


@pytest.mark.data
def test_official_customer_service_baseline_pins_the_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not TAU_BENCH.is_dir():
        pytest.skip(f"tau-bench data not found at {TAU_BENCH} (set TAU_BENCH_DATA)")
    monkeypatch.setenv("TAU_BENCH_DATA", str(TAU_BENCH.resolve()))
    sub = run_baseline(
        suite="airline",
        task="proxmo/Airline-v0",
        kind="random",
        split="test",
        out_dir=tmp_path,
        n_episodes=4,
        run_seeds=(0,),
        env_kwargs={"source": "official"},
    )
    m = Manifest.model_validate_json((sub / "manifest.json").read_text())
    assert m.data.source == "official" and m.data.files_name == "tau_bench"
    assert m.data.files_sha256 is not None and "data_dir" not in m.task.env_kwargs
    assert verify_submission(sub).ok


def test_every_suite_publishes_expert_and_random_on_each_source() -> None:
    for suite in ("retail", "airline"):
        got = {
            (s.kind, s.env_kwargs["source"], s.split)
            for s in PUBLISHED_BASELINES
            if s.suite == suite
        }
        assert got == {
            (kind, source, "test")
            for kind in ("expert", "random")
            for source in ("generated", "official")
        }
    assert {s.suite for s in PUBLISHED_BASELINES if s.kind == "random"} >= {
        "keyroom",
        "alfworld",
        "webshop",
        "retail",
        "airline",
    }


def test_publishing_without_tau_bench_data_skips_the_official_entries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TAU_BENCH_DATA", raising=False)
    # the published airline specs, shrunk to 3 episodes and one run
    specs = [
        BaselineSpec(s.suite, s.task, s.kind, s.split, 3, (0,), s.env_kwargs, s.name)
        for s in PUBLISHED_BASELINES
        if s.suite == "airline"
    ]
    said: list[str] = []
    published = publish_baselines(
        tmp_path, specs=specs, created=dt.date(2026, 3, 4), log=said.append
    )
    assert sorted(p.name for p in published) == [
        "2026-03-04_airline-generated-test-expert",
        "2026-03-04_airline-generated-test-random",
    ]
    skipped = [line for line in said if line.startswith("skip")]
    assert len(skipped) == 2 and all("set TAU_BENCH_DATA" in line for line in skipped)
    assert (tmp_path / "airline" / "LEADERBOARD.md").is_file()


def test_cli_publishes_missing_baselines_once(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from proxmo_bench.cli import app

    runner = CliRunner()
    args = ["leaderboard", "baselines", "--root", str(tmp_path), "--suite", "keyroom"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    subs = list((tmp_path / "keyroom" / "submissions").iterdir())
    assert sorted(p.name.split("_", 1)[1] for p in subs) == [
        "keyroom-15-steps-expert", "keyroom-15-steps-random", "keyroom-expert", "keyroom-random"
    ]  # fmt: skip
    assert (tmp_path / "keyroom" / "LEADERBOARD.md").exists()
    second = runner.invoke(app, args)
    assert second.exit_code == 0 and "0 baseline submission(s) published" in second.output
    for sub in subs:
        assert verify_submission(sub).ok
