"""``proxmo-bench play`` driven as a person would, through typer's CliRunner with typed input."""

from __future__ import annotations

import re

import pytest
from rich.console import Console
from typer.testing import CliRunner

from proxmo_bench import cli
from proxmo_bench.cli import app
from proxmo_bench.harness.play import split_policy, tool_call_problem
from proxmo_bench.tasks import make

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "console", Console(width=200))


def _play(args: list[str], typed: list[str]) -> str:
    result = runner.invoke(app, ["play", *args], input="".join(f"{line}\n" for line in typed))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def _last_status(output: str) -> str:
    return re.findall(r"step \d+ of \d+ \(\d+ left\)", output)[-1]


def test_step_counter_and_inputs_that_use_no_step() -> None:
    out = _play(
        ["proxmo/KeyRoom-v0", "--task-id", "train/0"],
        ["", "   ", "99", "0", ":nope", "look", "not an action", ":q"],
    )
    assert "step 1 of 20 (20 left)" in out
    assert "nothing sent: type an action" in out
    assert out.count("(nothing sent: choose a number from 1 to 5)") == 2
    assert "unknown command :nope" in out
    # two actions reached the env: the counter says the third step is next
    assert _last_status(out) == "step 3 of 20 (18 left)"
    assert "(invalid action)" in out


def test_win_is_explained() -> None:
    out = _play(
        [
            "proxmo/KeyRoom-v0",
            "--seed",
            "0",
            "--kw",
            "categories=[same_room]",
            "--kw",
            "start_in_chest_room=true",
        ],
        ["take key", "open chest"],
    )
    assert "Episode over. Won: the task is solved (score 1.00, return 10, 2 steps)." in out


def test_step_limit_is_explained() -> None:
    out = _play(["proxmo/KeyRoom-v0", "--task-id", "train/1"], ["zzz"] * 20)
    assert "Step limit: all 20 steps used without solving the task (score 0.00" in out


def test_failure_with_score_and_markup_printed_literally() -> None:
    env = make("proxmo/WebShop-v0")
    env.reset(seed=0)
    _, _, _, _, info = env.step("search[shampoo]")
    first_product = info["admissible_actions"][2]  # after back to search, next >
    assert re.fullmatch(r"click\[b0[a-z0-9]+\]", first_product)
    out = _play(["proxmo/WebShop-v0", "--seed", "0"], ["search[shampoo]", "3", "click[buy now]"])
    # rich would take "[b0...]" for a style tag: it must be shown as it is
    assert first_product in out and "click[buy now]" in out
    assert "Not solved: the episode ended without success (score 0.00, return 0, 3 steps)." in out


def test_webshop_search_template_asks_for_the_query() -> None:
    out = _play(["proxmo/WebShop-v0", "--seed", "0"], ["1", "", "1", "salon shampoo", ":q"])
    assert "search[<query>]" in out  # listed as the env lists it
    assert "(nothing sent: a search needs words)" in out
    assert "Total results" in out  # the search ran with the typed query
    assert _last_status(out) == "step 2 of 15 (14 left)"


def test_customer_service_policy_once_and_tool_calls_checked() -> None:
    env = make("proxmo/Retail-v0")
    _, info = env.reset(seed=0)
    task, policy = split_policy(info["instruction"])
    assert policy is not None and task.startswith("You are a customer-service agent")
    policy_line = policy.splitlines()[0]
    out = _play(
        ["proxmo/Retail-v0", "--seed", "0"],
        [
            '{"name": "nope", "arguments": {}}',
            "{bad json",
            '<action>{"name": 3}</action>',
            '{"name": "calculate", "arguments": "1+1"}',
            '{"name": "calculate", "arguments": {"expression": "1+1"}}',
            "Hello, can I have your email?",
            ":policy",
            ":q",
        ],
    )
    # once at the start, once more for :policy; not on every turn
    assert out.count(policy_line) == 2
    assert "there is no tool 'nope'" in out
    assert "it is not valid JSON" in out
    assert 'a tool call is a JSON object with a string "name"' in out
    assert '"arguments" must be a JSON object' in out
    # the four malformed calls used no step; the good call and the message did
    assert _last_status(out) == "step 3 of 30 (28 left)"


def test_send_forces_text_through() -> None:
    out = _play(["proxmo/Retail-v0", "--seed", "0"], [":send {not a call", ":q"])
    assert _last_status(out) == "step 2 of 30 (29 left)"


def test_restart_resets_the_counter() -> None:
    out = _play(["proxmo/KeyRoom-v0", "--task-id", "train/0"], ["look", ":r", ":q"])
    assert _last_status(out) == "step 1 of 20 (20 left)"
    assert out.count("Task: Find the key") == 2


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("hello there", None),
        ('{"name": "think", "arguments": {"thought": "x"}}', None),
        ('<think>hm</think><action>{"name": "think", "arguments": {}}</action>', None),
        ("{oops", "not valid JSON"),
        ('{"name": "think", "arguments": {}, "extra": 1}', "only"),
        ('{"name": "fly"}', "no tool 'fly'"),
    ],
)
def test_tool_call_problem(text: str, problem: str | None) -> None:
    found = tool_call_problem(text, ["think"])
    assert found is None if problem is None else (found is not None and problem in found)
