"""quickstart: which task it picks, and that its budget is identical for the three estimators."""

from __future__ import annotations

from pathlib import Path

import pytest

from proxmo_bench.harness import quickstart as qs


def test_falls_back_to_keyroom_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qs, "alfworld_unavailable", lambda: "ImportError: no textworld")
    setting = qs.choose_setting()
    assert setting.task == "proxmo/KeyRoom-v0"
    assert "no textworld" in setting.note and "KeyRoom" in setting.note
    with pytest.raises(RuntimeError, match="no textworld"):
        qs.choose_setting("alfworld")


def test_prefers_alfworld_when_it_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qs, "alfworld_unavailable", lambda: None)
    setting = qs.choose_setting()
    assert setting.task == "proxmo/ALFWorld-v0" and setting.env_kwargs["source"] == "generated"
    assert setting.note == ""
    with pytest.raises(ValueError, match="'alfworld' or 'keyroom'"):
        qs.choose_setting("chess")


@pytest.mark.parametrize("setting", [qs.ALFWORLD, qs.KEYROOM], ids=["alfworld", "keyroom"])
def test_settings_are_valid_bench_configs(setting: qs.QuickstartSetting, tmp_path: Path) -> None:
    from proxmo_bench.harness.bench import BenchConfig

    cfg = BenchConfig(
        suite=setting.suite,
        tasks=[setting.task],
        estimators=list(qs.ESTIMATORS),
        seeds=[0, 1, 2],
        out_dir=str(tmp_path),
        env_kwargs=dict(setting.env_kwargs),
        train=dict(setting.train),
    )
    cfg.validate()
    configs = [cfg.train_config(setting.task, e, 0).to_dict() for e in qs.ESTIMATORS]
    for c in configs:  # only the estimator differs between the runs of one seed
        c.pop("estimator"), c.pop("out_dir")
    assert configs[0] == configs[1] == configs[2]


def test_alfworld_setting_evaluates_on_existing_tasks() -> None:
    """The held-out split must hold at least the requested evaluation episodes."""
    from proxmo_bench.envs.alfworld.env import AlfWorldEnv

    kwargs = {k: v for k, v in qs.ALFWORLD.env_kwargs.items() if k != "difficulty"}
    env = AlfWorldEnv(**kwargs)  # listing task ids generates no game
    ids = env.task_ids(qs.ALFWORLD.train["eval_split"])
    assert qs.ALFWORLD.eval_episodes <= len(ids)
