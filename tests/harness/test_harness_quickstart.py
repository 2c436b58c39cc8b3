"""quickstart: which task it picks, that it runs its preset unchanged, and that its budget is
identical for the three estimators."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from proxmo_bench.harness import quickstart as qs
from proxmo_bench.training.config import load_config

SETTINGS = pytest.mark.parametrize(
    "setting", [qs.ALFWORLD, qs.KEYROOM], ids=["alfworld", "keyroom"]
)


def test_falls_back_to_keyroom_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qs, "alfworld_unavailable", lambda: "ImportError: no textworld")
    setting = qs.choose_setting()
    assert dataclasses.replace(setting, note="") == qs.KEYROOM
    assert load_config(setting.preset).task == "proxmo/KeyRoom-v0"
    assert "no textworld" in setting.note and "KeyRoom" in setting.note
    with pytest.raises(RuntimeError, match="no textworld"):
        qs.choose_setting("alfworld")
    assert qs.choose_setting("keyroom") == qs.KEYROOM


def test_prefers_alfworld_when_it_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qs, "alfworld_unavailable", lambda: None)
    setting = qs.choose_setting()
    assert setting == qs.ALFWORLD and setting.note == ""
    train = load_config(setting.preset)
    assert train.task == "proxmo/ALFWorld-v0"
    assert train.env_kwargs.get("source", "generated") == "generated"  # the generated games
    with pytest.raises(ValueError, match="'alfworld' or 'keyroom'"):
        qs.choose_setting("chess")


@SETTINGS
def test_quickstart_trains_its_preset_unchanged(
    setting: qs.QuickstartSetting, tmp_path: Path
) -> None:
    """The quickstart and its preset cannot disagree: its training config is the preset's, field
    for field (the quickstart only turns TensorBoard off)."""
    cfg = qs.quickstart_config(setting, tmp_path)
    preset = load_config(setting.preset, ["tensorboard=false"])
    assert cfg.train.to_dict() == preset.to_dict()
    assert cfg.train == preset
    assert cfg.preset == setting.preset and cfg.suite == setting.suite
    assert cfg.task_ids == [preset.task]
    assert cfg.out_dir == str(tmp_path) and cfg.seeds == list(qs.SEEDS) == list(range(10))
    assert not any(tmp_path.iterdir())  # building the config writes nothing


@SETTINGS
def test_runs_differ_only_in_the_estimator(setting: qs.QuickstartSetting, tmp_path: Path) -> None:
    cfg = qs.quickstart_config(setting, tmp_path, seeds=[0, 1])
    assert list(cfg.estimators) == list(qs.ESTIMATORS)
    task = cfg.task_ids[0]
    configs = [cfg.train_config(task, e, 0).to_dict() for e in qs.ESTIMATORS]
    for est, c in zip(qs.ESTIMATORS, configs, strict=True):
        assert c.pop("estimator") == {"name": est}  # the estimator's own defaults
        assert c.pop("out_dir") == str(cfg.run_dir(task, est, 0) / "train")
    assert configs[0] == configs[1] == configs[2]
    # ... and from the shared training config only in what the bench sets per run.
    shared = cfg.train.to_dict()
    for key in ("estimator", "out_dir", "progress", "seed"):
        shared.pop(key)
    # every evaluation plays the bench's held-out episodes, and the run records their number
    assert configs[0] == {
        **shared,
        "progress": False,
        "seed": 0,
        "eval_episodes": cfg.eval_episodes,
    }


def test_user_overrides_come_after_the_quickstart_settings(tmp_path: Path) -> None:
    cfg = qs.quickstart_config(
        qs.KEYROOM, tmp_path, overrides=["train.updates=2", "estimators.proxmo.psc_alpha=2"]
    )
    assert cfg.train == load_config(qs.KEYROOM.preset, ["tensorboard=false", "updates=2"])
    assert cfg.estimators == {"grpo": {}, "gigpo": {}, "proxmo": {"psc_alpha": 2}}


def test_alfworld_setting_evaluates_on_existing_tasks(tmp_path: Path) -> None:
    """The held-out split must hold at least the requested evaluation episodes."""
    from proxmo_bench.env import list_task_ids
    from proxmo_bench.tasks import make

    cfg = qs.quickstart_config(qs.ALFWORLD, tmp_path)
    env = make(cfg.train.task, **cfg.train.make_kwargs())  # listing task ids generates no game
    try:
        ids = list_task_ids(env, cfg.train.resolved_eval_split())
    finally:
        env.close()
    assert ids is not None and cfg.eval_episodes is not None
    assert cfg.train.resolved_eval_split() == "valid_unseen"
    assert cfg.eval_episodes <= len(ids)
