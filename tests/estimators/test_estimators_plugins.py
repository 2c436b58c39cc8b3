"""Estimators from third-party packages (entry-point group ``proxmo_bench.estimators``)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from proxmo_bench.estimators import StepBatch, get_estimator, list_estimators, registry

PLUGIN = '''
import numpy as np


def sign_of_reward(scale=1.0):
    """Sign of each step's reward times a scale (a toy plug-in estimator)."""
    return lambda batch: np.sign(batch.reward) * scale


sign_of_reward.requires = ("group_id", "traj_id", "step", "reward")


def register():
    from proxmo_bench.estimators import register_estimator

    register_estimator("toy_sign", sign_of_reward)


def register_builtin_name():
    from proxmo_bench.estimators import register_estimator

    register_estimator("grpo", sign_of_reward)


def register_failing():
    raise RuntimeError("the plug-in's own bug")
'''

ENTRY_POINTS = """
[proxmo_bench.estimators]
toy = toy_estimator_plugin:register
missing_module = toy_estimator_plugin_absent:register
missing_attr = toy_estimator_plugin:no_such_function
steals_builtin = toy_estimator_plugin:register_builtin_name
fails = toy_estimator_plugin:register_failing
"""


def make_plugin(root: Path, entry_points: str = ENTRY_POINTS) -> None:
    """A distribution ``toy-estimator-plugin`` installed into ``root`` (module + dist-info)."""
    pkg = root / "toy_estimator_plugin"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    info = root / "toy_estimator_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: toy-estimator-plugin\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture
def fresh_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The registry as before any entry point was loaded; restored afterwards."""
    monkeypatch.setattr(registry, "_ESTIMATORS", dict(registry._ESTIMATORS))
    monkeypatch.setattr(registry, "_DESCRIPTIONS", dict(registry._DESCRIPTIONS))
    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    yield


def small_batch() -> StepBatch:
    return StepBatch(
        group_id=np.array([0, 0]),
        traj_id=np.array([0, 1]),
        step=np.array([0, 0]),
        reward=np.array([2.0, -3.0]),
        anchor=np.array(["a", "b"], dtype=object),
        won=np.array([True, False]),
    )


def test_plugin_estimator_is_in_the_registry_and_broken_ones_warn(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    make_plugin(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(RuntimeWarning) as caught:
        names = list_estimators()
    assert names["toy_sign"].startswith("Sign of each step's reward")
    assert {"grpo", "drgrpo", "reinforce_pp", "rebn"} <= set(names)
    messages = [str(w.message) for w in caught]
    for broken in ("missing_module", "missing_attr", "steals_builtin", "fails"):
        [msg] = [m for m in messages if f"estimator plugin {broken!r}" in m]
        assert "toy-estimator-plugin" in msg and "proxmo_bench.estimators" in msg
    assert any("the plug-in's own bug" in m for m in messages)
    assert any("built-in" in m for m in messages if "steals_builtin" in m)
    assert len(messages) == 4  # the working plug-in does not warn
    # the built-in survived the plug-in that tried to take its name
    assert get_estimator("grpo").__class__.__name__ == "GRPO"
    np.testing.assert_array_equal(get_estimator("toy_sign", scale=2.0)(small_batch()), [2, -2])
    assert registry.required_fields("toy_sign") == ("group_id", "traj_id", "step", "reward")
    # loaded once: reading the registry again neither reloads nor warns again
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert "toy_sign" in list_estimators()


def test_plugin_is_seen_by_get_estimator_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    """``train``/``bench`` may build an estimator before anything lists them."""
    make_plugin(tmp_path, "[proxmo_bench.estimators]\ntoy = toy_estimator_plugin:register\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert registry.estimator_params("toy_sign") == {"scale": 1.0}
    np.testing.assert_array_equal(get_estimator("toy_sign")(small_batch()), [1, -1])


def test_cli_list_and_training_config_see_the_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_registry: None
) -> None:
    make_plugin(tmp_path, "[proxmo_bench.estimators]\ntoy = toy_estimator_plugin:register\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from typer.testing import CliRunner

    from proxmo_bench.cli import app

    result = CliRunner().invoke(app, ["estimators", "list"])
    assert result.exit_code == 0, result.output
    assert "toy_sign" in result.output and "rebn" in result.output

    from proxmo_bench.training.config import EstimatorConfig, build_estimator

    est = build_estimator(EstimatorConfig.model_validate({"name": "toy_sign", "scale": 3.0}), 0.0)
    np.testing.assert_array_equal(est(small_batch()), [3, -3])


def test_unknown_name_mentions_the_entry_point_group(fresh_registry: None) -> None:
    with pytest.raises(ValueError, match=r"proxmo_bench\.estimators"):
        get_estimator("not_an_estimator")
