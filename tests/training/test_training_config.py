"""TrainConfig: recipe defaults, validation naming the field, YAML presets, overrides, CLI errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxmo_bench.tasks import get_task_spec
from proxmo_bench.training.cli import PRESET_DIR, main
from proxmo_bench.training.config import (
    ConfigError,
    TrainConfig,
    apply_overrides,
    load_config,
)


def test_defaults_follow_the_published_recipe() -> None:
    cfg = TrainConfig()
    assert (cfg.group_size, cfg.groups_per_update, cfg.gamma) == (8, 16, 0.95)
    assert (cfg.lr, cfg.kl_coef, cfg.kl_type, cfg.invalid_penalty) == (
        1e-6,
        0.01,
        "low_var_kl",
        0.1,
    )
    assert cfg.max_steps == 50
    assert load_config(PRESET_DIR / "webshop.yaml").max_steps == 15


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        (["estimator=nope"], "estimator"),
        (["estimator=grpo", "group_size=1"], "group_size"),
        (["estimator=proxmo", "group_size=1"], "group_size"),
        (["lr=-0.001"], "lr"),
        (["task=proxmo/DoesNotExist-v0"], "task"),
        (["agent=oracle"], "agent"),
        (["clip_ratio=1.5"], "clip_ratio"),
        (["gamma=0"], "gamma"),
        (["estimator_params={step_weight: -1, unknown_knob: 3}"], "estimator_params"),
        (["mini_batch_size=0"], "mini_batch_size"),
    ],
)
def test_invalid_configs_name_the_field(overrides: list[str], field: str) -> None:
    cfg = apply_overrides(TrainConfig(), overrides)
    with pytest.raises(ConfigError) as err:
        cfg.validate()
    assert err.value.field == field
    assert f"TrainConfig.{field}" in str(err.value)


def test_unknown_task_message_lists_registered_tasks() -> None:
    with pytest.raises(ConfigError, match="KeyRoom"):
        TrainConfig(task="proxmo/Nope-v0").validate()


def test_overrides_parse_yaml_values() -> None:
    cfg = apply_overrides(
        TrainConfig(), ["lr=1e-3", "model=null", "env_kwargs={source: generated}"]
    )
    assert cfg.lr == 1e-3 and isinstance(cfg.lr, float)
    assert cfg.model is None and cfg.env_kwargs == {"source": "generated"}
    with pytest.raises(ConfigError, match="no_such_field"):
        apply_overrides(cfg, ["no_such_field=1"])
    with pytest.raises(ValueError, match="field=value"):
        apply_overrides(cfg, ["lr"])


def test_yaml_round_trip_and_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("lr: 1e-4\ngroup_size: 4\n")
    cfg = load_config(path)
    assert cfg.lr == 1e-4 and cfg.group_size == 4
    path.write_text("lr: 1e-4\nlearning_rate: 3\n")
    with pytest.raises(ConfigError, match="learning_rate"):
        load_config(path)


@pytest.mark.parametrize("preset", sorted(p.stem for p in PRESET_DIR.glob("*.yaml")))
def test_presets_are_valid(preset: str) -> None:
    cfg = load_config(PRESET_DIR / f"{preset}.yaml")
    try:
        get_task_spec(cfg.task)
    except KeyError:
        pytest.skip(f"{cfg.task} is not registered in this checkout")
    cfg.validate()


def test_cli_rejects_bad_config_before_compute(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out = tmp_path / "run"
    assert (
        main(
            ["--agent", "light", "--estimator", "grpo", "--set", "group_size=1", "--out", str(out)]
        )
        == 2
    )
    assert "TrainConfig.group_size" in capsys.readouterr().err
    assert not out.exists()
    assert main(["--preset", "nope"]) == 2
    assert main(["--preset", "keyroom_light", "--lr", "3e-4", "--print-config"]) == 0
    assert '"lr": 0.0003' in capsys.readouterr().out
