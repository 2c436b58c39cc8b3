"""TrainConfig: recipe defaults, validation naming the field, presets, the one loader, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from proxmo_bench.cli import app
from proxmo_bench.tasks import get_task_spec
from proxmo_bench.training.config import (
    PRESET_DIR,
    ConfigError,
    EstimatorConfig,
    TrainConfig,
    apply_overrides,
    list_presets,
    load_config,
    migrate_legacy,
    parse_override,
)

runner = CliRunner()


def test_defaults_follow_the_published_recipe() -> None:
    cfg = TrainConfig()
    assert (cfg.group_size, cfg.groups_per_update) == (8, 16)
    assert (cfg.lr, cfg.kl_coef, cfg.kl_type, cfg.invalid_penalty) == (
        1e-6,
        0.01,
        "low_var_kl",
        0.1,
    )
    assert cfg.built_estimator.gamma == 0.95  # the estimator class is the one home of its default
    assert cfg.max_steps is None
    assert load_config("webshop").step_limit() == 15
    assert load_config("alfworld").step_limit() == 50


def test_every_field_has_a_description() -> None:
    for model in (TrainConfig, EstimatorConfig):
        missing = [n for n, f in model.model_fields.items() if not (f.description or "").strip()]
        assert not missing, f"{model.__name__} fields without a description: {missing}"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (["estimator=nope"], "estimator.name"),
        (["estimator=grpo", "group_size=1"], "group_size"),
        (["estimator=proxmo", "group_size=1"], "group_size"),
        (["lr=-0.001"], "lr"),
        (["task=proxmo/DoesNotExist-v0"], "task"),
        (["agent=oracle"], "agent"),
        (["clip_ratio=1.5"], "clip_ratio"),
        (["estimator.gamma=1.5"], "estimator.gamma"),
        (["estimator.step_weight=x"], "estimator.step_weight"),
        (["estimator.unknown_knob=3"], "estimator.unknown_knob"),
        (["estimator=rloo", "estimator.gamma=0.5"], "estimator.gamma"),
        (["estimator.invalid_penalty=0.5"], "estimator.invalid_penalty"),
        (["mini_batch_size=0"], "mini_batch_size"),
        (["updates=2.5"], "updates"),
        (["updates=true"], "updates"),
        (["max_steps=0"], "max_steps"),
        (["gamma=0.9"], "gamma"),
        (["temperature=0.7"], "temperature"),
        (["no_such_field=1"], "no_such_field"),
    ],
)
def test_invalid_configs_name_the_field(overrides: list[str], field: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(None, overrides)
    assert err.value.field == field
    assert f"TrainConfig.{field}" in str(err.value)
    assert "\n" not in str(err.value)


def test_estimator_parameter_the_estimator_does_not_take_lists_what_it_takes() -> None:
    with pytest.raises(ConfigError, match=r"'rloo' takes no parameter 'gamma'; it takes: compat"):
        load_config(None, ["estimator=rloo", "estimator.gamma=0.5"])


def test_estimator_is_resolved_once_into_its_frozen_fields() -> None:
    cfg = load_config("keyroom_light", ["estimator=proxmo", "estimator.temperature=0.3"])
    est = cfg.built_estimator
    assert type(est).__name__ == "ProxMO" and est.temperature == 0.3
    rec = cfg.estimator_record()
    assert rec["name"] == "proxmo"
    assert rec["params"]["temperature"] == 0.3 and rec["params"]["gamma"] == 0.95
    assert (
        rec["params"]["invalid_penalty"] == cfg.invalid_penalty
    )  # what the estimator computes with
    assert cfg.sampling_temperature == 1.0  # the policy's temperature is another field
    # a bare name replaces the section: the other estimator's parameters do not carry over
    assert load_config(None, ["estimator.temperature=0.3", "estimator=grpo"]).estimator.params == {}


def test_overrides_parse_yaml_values_and_dotted_keys() -> None:
    cfg = load_config(
        None, ["lr=1e-3", "model=null", "env_kwargs={source: generated}", "env_kwargs.difficulty=1"]
    )
    assert cfg.lr == 1e-3 and isinstance(cfg.lr, float)
    assert cfg.model is None and cfg.env_kwargs == {"source": "generated", "difficulty": 1}
    assert parse_override("a.b=[1, 2]") == (["a", "b"], [1, 2])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override("lr")
    with pytest.raises(ConfigError, match="not a section"):
        apply_overrides({"lr": 1.0}, ["lr.x=1"])


def test_yaml_files_and_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("lr: 1e-4\ngroup_size: 4\nestimator: {name: proxmo, psc_alpha: 2}\n")
    cfg = load_config(path)
    assert cfg.lr == 1e-4 and cfg.group_size == 4 and cfg.built_estimator.psc_alpha == 2.0
    path.write_text("lr: 1e-4\nlearning_rate: 3\n")
    with pytest.raises(ConfigError, match="learning_rate"):
        load_config(path)
    with pytest.raises(ConfigError, match="no preset or file"):
        load_config("nope")


def test_round_trip_and_replace() -> None:
    cfg = load_config("keyroom_light", ["estimator={name: proxmo, psc: false}"])
    again = TrainConfig.model_validate(cfg.to_dict())
    assert again.to_dict() == cfg.to_dict()
    assert cfg.replace(seed=4).seed == 4 and cfg.seed == 0
    with pytest.raises(ConfigError, match="updates"):
        cfg.replace(updates=0)


def test_legacy_run_config_migrates_with_its_meaning() -> None:
    old = {
        "task": "proxmo/KeyRoom-v0",
        "estimator": "grpo",
        "estimator_params": {"norm": "mean"},
        "gamma": 0.9,  # grpo takes no gamma: old code did not pass it
        "temperature": 0.5,
        "max_steps": 50,
    }
    cfg = TrainConfig.model_validate(migrate_legacy(old))
    assert cfg.estimator.name == "grpo" and cfg.estimator.params == {"norm": "mean"}
    assert cfg.sampling_temperature == 0.5 and cfg.max_steps == 50
    old["estimator"] = "proxmo"
    old["estimator_params"] = {}
    assert TrainConfig.model_validate(migrate_legacy(old)).built_estimator.gamma == 0.9


def test_registered_step_limit_applies_unless_set() -> None:
    """A KeyRoom run without max_steps truncates at KeyRoom's registered 20 steps."""
    from proxmo_bench.batch_policy import Decision
    from proxmo_bench.rollout.backends import InProcessBackend
    from proxmo_bench.rollout.group import GroupSpec, collect_groups

    class Idle:
        name = "idle"

        def act_batch(self, contexts: list, *, greedy: bool = False) -> list[Decision]:
            return [Decision("look") for _ in contexts]

    cfg = TrainConfig(task="proxmo/KeyRoom-v0", agent="light")
    assert "max_episode_steps" not in cfg.make_kwargs() and cfg.step_limit() == 20
    assert get_task_spec(cfg.task).max_episode_steps == 20
    batch = collect_groups(
        InProcessBackend(), Idle(), cfg.task, [GroupSpec(0)], 2, env_kwargs=cfg.make_kwargs()
    )
    assert [(r.steps, r.termination) for r in batch.records] == [(20, "step_limit")] * 2
    set_cfg = cfg.replace(max_steps=7)
    assert set_cfg.make_kwargs()["max_episode_steps"] == 7 and set_cfg.step_limit() == 7
    with pytest.raises(ConfigError, match="max_steps"):
        cfg.replace(max_steps=7, env_kwargs={"max_episode_steps": 9})


@pytest.mark.parametrize("preset", list_presets())
def test_presets_are_valid(preset: str) -> None:
    data = (PRESET_DIR / f"{preset}.yaml").read_text()
    assert "temperature:" not in data.replace("sampling_temperature:", "")
    load_config(preset)


def test_cli_rejects_bad_config_before_compute(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = runner.invoke(
        app,
        [
            "train",
            "--agent",
            "light",
            "--estimator",
            "grpo",
            "--set",
            "group_size=1",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 2 and "TrainConfig.group_size" in res.output
    assert not out.exists()
    res = runner.invoke(app, ["train", "--estimator", "rloo", "--set", "estimator.gamma=0.5"])
    assert res.exit_code == 2 and "estimator.gamma" in res.output and "gamma" in res.output
    assert runner.invoke(app, ["train", "--preset", "nope"]).exit_code == 2
    res = runner.invoke(
        app, ["train", "--preset", "keyroom_light", "--lr", "3e-4", "--print-config"]
    )
    assert res.exit_code == 0, res.output
    printed = json.loads(res.output)
    assert printed["lr"] == 0.0003 and printed["estimator"] == {"name": "gigpo"}


def test_cli_help_comes_from_the_field_descriptions() -> None:
    res = runner.invoke(app, ["train", "--help"])
    assert res.exit_code == 0
    flat = " ".join(res.output.split())
    assert "Registered task id to train on" in flat
    fields = runner.invoke(app, ["config", "fields"])
    assert fields.exit_code == 0 and "sampling_temperature" in fields.output
    presets = runner.invoke(app, ["config", "presets"])
    assert presets.exit_code == 0 and "keyroom_light" in presets.output


def test_integer_for_a_float_estimator_parameter_is_recorded_as_float() -> None:
    rec = load_config(None, ["estimator=proxmo", "estimator.psc_alpha=2"]).estimator_record()
    assert rec["params"]["psc_alpha"] == 2.0 and isinstance(rec["params"]["psc_alpha"], float)
    assert load_config(None, ["estimator=proxmo", "estimator.psc=true"]).built_estimator.psc is True


def test_an_estimator_reading_a_field_the_rollouts_lack_is_refused_before_training() -> None:
    from collections.abc import Callable

    import numpy as np

    from proxmo_bench.estimators import StepBatch, register_estimator

    def factory() -> Callable[[StepBatch], np.ndarray]:
        return lambda b: np.zeros(len(b))

    factory.requires = ("group_id", "traj_id", "step", "history")  # type: ignore[attr-defined]
    register_estimator("needs_history_cfg_test", factory)
    with pytest.raises(ConfigError, match=r"needs_history_cfg_test.*history") as err:
        load_config(None, ["estimator=needs_history_cfg_test", "invalid_penalty=0"])
    assert err.value.field == "estimator.name"


def test_loss_aggregation_is_a_config_choice() -> None:
    cfg = load_config("keyroom_light", ["loss_agg_mode=seq-mean-token-sum-norm"])
    assert cfg.loss_agg_mode == "seq-mean-token-sum-norm" and cfg.loss_norm_constant is None
    with pytest.raises(ConfigError) as err:
        load_config(None, ["loss_agg_mode=token-sum"])
    assert err.value.field == "loss_agg_mode"


def test_flat_configs_of_the_first_manifests_migrate() -> None:
    from proxmo_bench.training.config import migrate_legacy

    old = {"estimator": "gigpo", "gamma": 0.9, "temperature": 0.7, "updates": 3}
    new = migrate_legacy(old)
    assert new["estimator"] == {"name": "gigpo", "gamma": 0.9}
    assert new["sampling_temperature"] == 0.7 and "gamma" not in new and "temperature" not in new
    assert migrate_legacy({"estimator": "grpo", "gamma": 0.95})["estimator"] == {"name": "grpo"}
    assert migrate_legacy({"updates": 3}) == {"updates": 3}
