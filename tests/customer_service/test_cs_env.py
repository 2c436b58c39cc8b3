"""Agent actions on the single-agent env: tool calls, messages, bad input, transfer, infos."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import gymnasium
import pytest

import proxmo_bench
from proxmo_bench.envs.customer_service.domain import load_tables
from proxmo_bench.envs.customer_service.task import load_task_file

from .helpers_cs import episode


def _call(name: str, **arguments: object) -> str:
    return json.dumps({"name": name, "arguments": arguments})


def _env_with_task() -> tuple[gymnasium.Env[str, str], dict[str, Any]]:
    env = proxmo_bench.make("proxmo/Retail-v0")
    _, info = env.reset(options={"task_id": "train/0"})
    return env, info


def test_tool_calls_and_messages() -> None:
    env, info = _env_with_task()
    assert info["tools"] and info["noop_task"] is False and info["admissible_actions"] is None
    user_id = episode(env).task.user_id
    obs, _r, term, _, info = env.step(
        json.dumps({"name": "get_user_details", "arguments": {"user_id": user_id}})
    )
    assert obs.startswith("Tool get_user_details returned: {") and info["action_valid"] and not term
    obs, *_ = env.step(
        '<think>look</think><action>{"name": "think", "arguments": {"thought": "x"}}</action>'
    )
    assert obs == "Tool think returned: "
    obs, *_ = env.step("Hello! How can I help?")
    assert obs.startswith("Customer: ")


def test_bad_tool_calls_are_flagged_and_change_nothing() -> None:
    env, _ = _env_with_task()
    digest = episode(env).db.digest()
    for action in (
        '{"name": "drop_tables", "arguments": {}}',
        _call("cancel_pending_order", order_id=5, reason="no longer needed"),
        '{"name": "cancel_pending_order", "arguments": {"order_id": "#W0", "reason": "bored"}}',
        _call("cancel_pending_order", order_id="#W0000000", reason="no longer needed"),
        '{"name": "get_order_details"}',
        '{"name": "get_order_details", "arguments": [1]}',
        "",
    ):
        obs, reward, term, _trunc, info = env.step(action)
        assert info["action_valid"] is False, action
        assert "Error" in obs or "Empty message" in obs, obs
        assert not term and reward == 0.0
    assert episode(env).db.digest() == digest


def test_transfer_to_human_ends_the_episode() -> None:
    env, _ = _env_with_task()
    _, reward, term, _, info = env.step(_call("transfer_to_human_agents", summary="x"))
    assert term and info["termination"] == "transfer" and reward == 0.0
    assert info["reward_info"]["db_match"] is False
    _, _, term, _, info = env.step("hello?")
    assert term and info["action_valid"] is False


def test_bad_data_files_name_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "users.json").write_text(json.dumps({"u1": {"name": "x"}}))
    with pytest.raises(ValueError, match=r"users\.json: record 'u1' is missing the field 'email'"):
        load_tables(tmp_path, {"users": ("name", "email")})
    with pytest.raises(FileNotFoundError, match=r"orders\.json"):
        load_tables(tmp_path, {"orders": ("status",)})
    (tmp_path / "orders.json").write_text("{broken")
    with pytest.raises(ValueError, match=r"orders\.json: not valid JSON"):
        load_tables(tmp_path, {"orders": ("status",)})


def test_official_source_without_data_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TAU_BENCH_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match="TAU_BENCH_DATA"):
        proxmo_bench.make("proxmo/Airline-v0", source="official")


def test_bad_task_files_name_the_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "tasks_test.json"
    path.write_text(
        json.dumps([{"user_id": "u", "instruction": "x", "actions": []}, {"user_id": "u"}])
    )
    with pytest.raises(
        ValueError, match=r"tasks_test\.json \[task 1\]: missing field 'instruction'"
    ):
        load_task_file(path, "test")
    path.write_text(json.dumps([{"user_id": "u", "instruction": "x", "actions": [{"kwargs": {}}]}]))
    with pytest.raises(ValueError, match=r"\[task 0\]: actions\[0\] must be an object"):
        load_task_file(path, "test")
