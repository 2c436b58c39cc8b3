"""Reading a customer-service action (tool call or message) and the scripted customer's keyword
tests: linear-time scans that agree with the regexes they replace, on any text."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from proxmo_bench.env import MAX_ACTION_CHARS
from proxmo_bench.envs.customer_service.multi_agent import CustomerServiceAEC
from proxmo_bench.envs.customer_service.tool_call import (
    Message,
    ToolCall,
    action_body,
    drop_think,
    format_tool_call,
    parse_action,
)
from proxmo_bench.envs.customer_service.users.scripted import asks_confirmation, asks_identity

# The regexes the scans replaced: the references.
ACTION_RE = re.compile(r"<action>(.*?)</action>", re.DOTALL)
THINK_RE = re.compile(r"<think>.*?</think>", re.DOTALL)
CONFIRMATION_RE = re.compile(
    r"\b(confirm|proceed|go ahead|yes or no|yes/no|shall i|should i|do you want me"
    r"|would you like me)\b",
    re.IGNORECASE,
)
IDENTITY_RE = re.compile(
    r"\b(your (full )?name|zip|email|user id|user ID|identify|authenticate|verify your)\b",
    re.IGNORECASE,
)

# Text built from tag pieces, so that tags (whole, broken, nested) are common.
tag_pieces = st.sampled_from(
    ["<action>", "</action>", "<think>", "</think>", "<act", "ion>", "</", "<", ">", "x", " ", "{"]
)
tagged_text = st.lists(tag_pieces, max_size=12).map("".join)
any_text = st.one_of(tagged_text, st.text(max_size=40))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(any_text)
@settings(max_examples=400)
def test_tag_scans_agree_with_the_regexes(text: str) -> None:
    m = ACTION_RE.search(text)
    assert action_body(text) == (m.group(1) if m else None)
    assert drop_think(text) == THINK_RE.sub("", text)


def _reference_call(action: str) -> dict[str, Any] | None:
    """The JSON object the regex parser took for a tool call, or None for a message."""
    m = ACTION_RE.search(action)
    text = (m.group(1) if m else THINK_RE.sub("", action)).strip()
    if text.startswith("{") and text.endswith("}"):
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            return None
        if isinstance(obj, dict) and "name" in obj:
            return obj
    return None


@given(st.one_of(any_text, st.builds(lambda a, b: a + "{" + b + "}", tagged_text, st.text())))
@settings(max_examples=300)
def test_parse_action_never_raises_and_agrees_with_the_regex_parser(text: str) -> None:
    parsed = parse_action(text)
    obj = _reference_call(text)
    if obj is None:
        m = ACTION_RE.search(text)
        assert parsed == Message((m.group(1) if m else THINK_RE.sub("", text)).strip())
    else:
        assert isinstance(parsed, ToolCall) and parsed.name == obj["name"]
        assert parsed.arguments == obj.get("arguments", obj.get("kwargs", {}))


TAGS = ("<action>", "</action>", "<think>", "</think>")


@given(
    st.text(min_size=1, max_size=20),
    st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    st.sampled_from(["{}", "<action>{}</action>", "<think>why</think><action>{}</action>"]),
)
def test_well_formed_tool_calls_round_trip(
    name: str, arguments: dict[str, Any], frame: str
) -> None:
    call = format_tool_call(name, arguments)
    assume(not any(tag in call for tag in TAGS))  # tags inside the JSON are read as tags
    assert parse_action(frame.replace("{}", call)) == ToolCall(name, arguments)


def test_surrogate_tool_name_is_a_problem_not_a_crash() -> None:
    parsed = parse_action('{"name": "\\ud800", "arguments": {}}')
    assert isinstance(parsed, ToolCall) and parsed.problem and "Unicode" in parsed.problem
    assert "\ud800" not in parsed.problem  # the message itself is valid text


def test_hostile_tags_parse_quickly_to_messages() -> None:
    # Linear scans: these took seconds with the lazy regexes (not timed here; see
    # benchmarks/bench_hostile_actions.py).
    for unit in ("<action>", "<think>", "<think><action>"):
        text = unit * (MAX_ACTION_CHARS // len(unit))
        assert parse_action(text) == Message(drop_think(text).strip())
    assert parse_action("<action>" * 1000 + "</action>") == Message("<action>" * 999)


# ---- the scripted customer's keyword tests ------------------------------------------------------

keyword_pieces = st.sampled_from(
    [
        "your name", "YOUR FULL NAME", "zip", "ZIP", "e-mail", "email", "user id", "User ID",
        "identify", "verify your", "confirm", "Proceed", "go ahead", "yes/no", "shall I",
        "Would you like me", "x", "_", " ", "1", "İ", "ı", "ſ", "K", "é", "\ud800", ".",
    ]
)  # fmt: skip
keyword_text = st.lists(keyword_pieces, max_size=8).map("".join)


@given(st.one_of(keyword_text, st.text(max_size=30)))
@settings(max_examples=400)
def test_keyword_tests_agree_with_ignorecase_regexes(message: str) -> None:
    assert asks_identity(message) == (IDENTITY_RE.search(message) is not None)
    assert asks_confirmation(message) == (CONFIRMATION_RE.search(message) is not None)


def test_exotic_case_equivalents_still_match() -> None:
    # re.IGNORECASE equates "ſ" with "s", "K" (Kelvin) with "k", "İ"/"ı" with "i".
    assert asks_confirmation("ſhall I go on?") and asks_identity("İdentify yourself")
    assert not asks_identity("zipper") and asks_identity("your ZIP, please")


# ---- the two-player view refuses what the single-agent view refuses -----------------------------


def test_pettingzoo_agent_action_over_the_bound_is_refused() -> None:
    env = CustomerServiceAEC("retail")
    env.reset(seed=0)
    env.step("Hi, I need help.")  # the customer speaks
    assert env.agent_selection == "agent"
    env.step("[" * (MAX_ACTION_CHARS + 1))
    assert env.agent_selection == "agent", "the refused action keeps the turn"
    assert env.infos["agent"]["action_valid"] is False
    assert str(MAX_ACTION_CHARS) in env.observe("agent")
    env.step("How can I help?")
    assert env.agent_selection == "user"
