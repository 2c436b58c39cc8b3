"""Replaying recorded random episodes reproduces them exactly (rewards, won, observations).

The episodes in ``data/alfworld_random_episodes.json`` were recorded with :func:`record` (run this
file as a script with ``--record`` to re-record after a deliberate change of the dynamics or the
generator; bump ``env_version`` / ``GENERATOR_VERSION`` then).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import proxmo_bench

TASK = "proxmo/ALFWorld-v0"
RECORDS = Path(__file__).resolve().parent / "data" / "alfworld_random_episodes.json"
DATA_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "alfworld"

pytestmark = [pytest.mark.alfworld, pytest.mark.usefixtures("engine_installed")]


def _make(source: str, split: str, cache_dir: str | None) -> Any:
    if source == "official":
        return proxmo_bench.make(TASK, source="official", split=split, data_dir=str(DATA_DIR))
    return proxmo_bench.make(TASK, split=split, difficulty=1, cache_dir=cache_dir)


def _digest(texts: list[str]) -> str:
    return hashlib.sha256("\x1e".join(texts).encode()).hexdigest()


def replay(env: Any, seed: int, actions: list[str]) -> dict[str, Any]:
    """Play ``actions`` from ``reset(seed=seed)``; the outcome in episode-record form."""
    obs, info = env.reset(seed=seed)
    observations, rewards = [obs], []
    trunc = False
    for action in actions:
        obs, reward, _, trunc, info = env.step(action)
        observations.append(obs)
        rewards.append(reward)
    return {
        "task_id": info["task_id"],
        "task_category": info["task_category"],
        "rewards": rewards,
        "won": info["won"],
        "score": info["score"],
        "termination": "success" if info["won"] else ("step_limit" if trunc else "failure"),
        "obs_sha256": _digest(observations),
    }


def record(env: Any, seed: int, max_steps: int = 50) -> dict[str, Any]:
    """A random episode: admissible actions drawn uniformly, one in ten an invalid string."""
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    actions: list[str] = []
    for _ in range(max_steps):
        adm = info["admissible_actions"]
        action = "dance wildly" if rng.random() < 0.1 else adm[int(rng.integers(len(adm)))]
        actions.append(action)
        _, _, term, trunc, info = env.step(action)
        if term or trunc:
            break
    return {"seed": seed, "actions": actions, **replay(env, seed, actions)}


def _episodes() -> list[dict[str, Any]]:
    return list(json.loads(RECORDS.read_text())) if RECORDS.is_file() else []


@pytest.mark.parametrize("episode", _episodes(), ids=lambda e: f"{e['source']}-{e['seed']}")
def test_replay_reproduces_recorded_episode(episode: dict[str, Any], gen_cache: Path) -> None:
    if episode["source"] == "official" and not (DATA_DIR / "json_2.1.1").is_dir():
        pytest.skip(f"official ALFWorld games not found at {DATA_DIR}")
    env = _make(episode["source"], episode["split"], str(gen_cache))
    assert env.unwrapped.env_version == episode["env_version"]
    got = replay(env, episode["seed"], episode["actions"])
    env.close()
    for key in ("task_id", "task_category", "rewards", "won", "score", "termination", "obs_sha256"):
        assert got[key] == episode[key], key


def test_recorded_episodes_cover_wins_and_both_sources() -> None:
    episodes = _episodes()
    assert {e["source"] for e in episodes} == {"official", "generated"}
    assert any(e["won"] and e["rewards"][-1] == 10.0 for e in episodes)  # the noisy expert wins
    assert any(not e["won"] for e in episodes)
    assert any("dance wildly" in e["actions"] for e in episodes)


def record_noisy_expert(env: Any, seed: int) -> dict[str, Any]:
    """The walkthrough with an invalid string after every second command (an episode that wins)."""
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    actions: list[str] = []
    for k, command in enumerate(env.unwrapped.walkthrough()):
        actions.append(command)
        if k % 2 == 0:
            actions.append(str(rng.choice(["dance wildly", "GO TO DESK 1", ""])))
    return {"seed": seed, "actions": actions, **replay(env, seed, actions)}


if __name__ == "__main__" and "--record" in sys.argv:
    import tempfile

    out = []
    with tempfile.TemporaryDirectory() as cache:
        env = _make("official", "valid_unseen", None)
        for s in (0, 1):
            out.append({"source": "official", "split": "valid_unseen",
                        "env_version": env.unwrapped.env_version, **record(env, s, max_steps=20)})  # fmt: skip
        env = _make("generated", "valid_seen", cache)
        for s in range(40):
            ep = record(env, s)
            if ep["won"] or s < 2:
                out.append({"source": "generated", "split": "valid_seen",
                            "env_version": env.unwrapped.env_version, **ep})  # fmt: skip
            if ep["won"]:
                break
        out.append({"source": "generated", "split": "valid_seen",
                    "env_version": env.unwrapped.env_version, **record_noisy_expert(env, 7)})  # fmt: skip
    RECORDS.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {len(out)} episodes to {RECORDS}")
