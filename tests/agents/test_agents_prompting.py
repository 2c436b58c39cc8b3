"""Action parsing and per-family prompts of the LLM agent."""

from __future__ import annotations

from proxmo_bench.agents.action_parsing import MAX_FALLBACK_CHARS, parse_action
from proxmo_bench.agents.prompts import family_of, family_prompt, render_prompt
from proxmo_bench.rollout import StepContext

ADM = ["go to kitchen", "take key", "look"]


def test_parse_takes_last_action_and_canonical_spelling() -> None:
    p = parse_action(
        "<think>hm</think><action>look</action> then <action> Take  KEY </action>", ADM
    )
    assert p == parse_action("<action>take key</action>", ADM)
    assert p.action == "take key" and p.ok


def test_unparsable_answers() -> None:
    assert not parse_action("go to kitchen", ADM).ok
    assert parse_action("go to kitchen", ADM).action == "go to kitchen"
    assert not parse_action("<action>look", ADM).ok
    assert not parse_action("<action>  </action>", ADM).ok
    long = "x" * 1000
    assert len(parse_action(long).action) == MAX_FALLBACK_CHARS
    assert not parse_action("<action>look</action>", require_think=True).ok
    assert parse_action("<think>a</think><action>look</action>", require_think=True).ok


def test_non_admissible_action_kept_verbatim() -> None:
    p = parse_action("<action>dance</action>", ADM)
    assert p.ok and p.action == "dance"  # the env decides it is invalid
    tool = '<action>{"name": "get_user", "arguments": {}}</action>'
    assert parse_action(tool, None).action == '{"name": "get_user", "arguments": {}}'


def test_family_prompts() -> None:
    assert family_of("proxmo/ALFWorld-v0") == "alfworld"
    assert family_of("proxmo/Retail-v0") == "retail"
    assert "ALFRED" in family_prompt("proxmo/ALFWorld-v0").intro
    assert family_prompt("someone/Unknown-v3").intro.startswith("You are an agent")


def test_prompt_has_task_history_observation_actions_and_format() -> None:
    info = {"instruction": "Find the key.", "admissible_actions": ADM}
    history = (("obs A", "look"), ("obs B", "go to kitchen"), ("obs C", "look"))
    ctx = StepContext("proxmo/KeyRoom-v0", "You are in the kitchen.", info, history, 3)
    text = render_prompt(ctx, history_length=2)
    assert "Find the key." in text
    assert "obs A" not in text and "obs B" in text and "obs C" in text  # last 2 pairs only
    assert "[Observation 2: obs B]" in text and "[Action 3: look]" in text
    assert "Current observation: You are in the kitchen." in text
    assert "'take key'" in text
    assert "<think>" in text and "<action>" in text
    first = render_prompt(StepContext("proxmo/KeyRoom-v0", "start", info), history_length=2)
    assert "first step" in first
