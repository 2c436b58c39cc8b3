"""Task registry, gymnasium registration and the entry-point plugin group."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium
import pytest

import proxmo_bench
from proxmo_bench.env import TextEnv
from proxmo_bench.tasks import get_task_spec, list_tasks, make, register_task


def test_builtin_tasks_registered_with_gymnasium() -> None:
    ids = {spec.id for spec in list_tasks()}
    assert "proxmo/KeyRoom-v0" in ids
    env = gymnasium.make("proxmo/KeyRoom-v0")
    obs, info = env.reset(seed=0)
    assert isinstance(obs, str) and info["task_id"].startswith("train/")
    assert env.spec is not None and env.spec.max_episode_steps == 20
    env.close()


def test_make_passes_kwargs_and_checks_split() -> None:
    env = make("proxmo/KeyRoom-v0", split="test")
    _, info = env.reset(seed=0)
    assert info["task_id"].startswith("test/")
    with pytest.raises(ValueError, match="splits"):
        make("proxmo/KeyRoom-v0", split="valid")


def test_unknown_task_message_lists_registered_and_entry_point_group() -> None:
    with pytest.raises(KeyError, match=r"proxmo/KeyRoom-v0.*proxmo_bench.tasks"):
        make("proxmo/Nope-v0")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"id": "no-namespace"}, "namespace/Name-vN"),
        ({"max_episode_steps": 0}, "max_episode_steps"),
        ({"splits": []}, "at least one split"),
        ({"reward_scale": float("nan")}, "reward_scale"),
    ],
)
def test_register_task_validates(kwargs: dict, message: str) -> None:
    args = {"id": "test/Bad-v0", "entry_point": "x:y", "max_episode_steps": 5, "splits": ["train"]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        register_task(args.pop("id"), args.pop("entry_point"), **args)


class EchoEnv(TextEnv):
    """A two-step task defined in a test: say 'done' to win."""

    def _reset(self, options: dict) -> tuple[str, dict]:
        return "Say done.", self._info(False)

    def _info(self, won: bool, valid: bool = True) -> dict:
        return {
            "task_id": "train/0",
            "task_category": "echo",
            "instruction": "Say done.",
            "admissible_actions": ["done"],
            "anchor": "Say done.",
            "won": won,
            "score": float(won),
            "action_valid": valid,
        }

    def _step(self, action: str) -> tuple[str, float, bool, dict]:
        won = action == "done"
        return ("Well done." if won else "Nothing happens."), float(won), won, self._info(won, won)


def test_register_callable_entry_point_in_python() -> None:
    spec = register_task("test/Echo-v0", EchoEnv, max_episode_steps=3, splits=["train", "test"])
    assert get_task_spec("test/Echo-v0") is spec and spec.source == "python"
    env = make("test/Echo-v0")
    env.reset(seed=0)
    assert env.step("done")[1:3] == (1.0, True)
    from proxmo_bench.conformance import check_task

    check_task("test/Echo-v0")


def test_third_party_entry_point_group(tmp_path: Path) -> None:
    """A package that declares a 'proxmo_bench.tasks' entry point shows up after import."""
    pkg = tmp_path / "thirdparty_tasks"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        textwrap.dedent("""
        from proxmo_bench import register_task

        def register():
            register_task("thirdparty/Hello-v1", "proxmo_bench.envs.keyroom.env:KeyRoomEnv",
                          max_episode_steps=4, splits=["train"], description="from a plugin")

        def broken():
            raise RuntimeError("plugin bug")
    """)
    )
    dist = tmp_path / "thirdparty_tasks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-tasks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[proxmo_bench.tasks]\nhello = thirdparty_tasks:register\nbroken = thirdparty_tasks:broken\n"
    )
    code = (
        "import warnings, gymnasium; warnings.simplefilter('always');"
        "import proxmo_bench;"
        "spec = proxmo_bench.get_task_spec('thirdparty/Hello-v1');"
        "print(spec.source, spec.max_episode_steps);"
        "gymnasium.make('thirdparty/Hello-v1').reset(seed=0)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert out.returncode == 0, out.stderr
    assert "thirdparty-tasks:hello 4" in out.stdout
    assert "plugin 'broken'" in out.stderr and "plugin bug" in out.stderr  # warned, not fatal


def test_version_is_set() -> None:
    assert proxmo_bench.__version__ != "0.0.0+unknown"
