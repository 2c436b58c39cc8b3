"""Reading the action out of an LLM answer: linear-time tag scans that agree with the regexes they
replace (``findall`` of ``<action>(.*?)</action>``, ``search`` of ``<think>.*?</think>``, any case)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from proxmo_bench.agents.action_parsing import (
    MAX_FALLBACK_CHARS,
    ParsedAction,
    has_think_block,
    last_action_block,
    parse_action,
)
from proxmo_bench.conformance import HOSTILE_ACTIONS

ACTION_RE = re.compile(r"<action>(.*?)</action>", re.IGNORECASE | re.DOTALL)
THINK_RE = re.compile(r"<think>.*?</think>", re.IGNORECASE | re.DOTALL)

pieces = st.sampled_from(
    [
        "<action>", "</action>", "<ACTION>", "</Action>", "<think>", "</THINK>", "<thınk>",
        "<actıon>", "<act", "ion>", "</", "<", ">", "look", " ", "\n", "İ", "ſ", "\ud800",
    ]
)  # fmt: skip
answers = st.one_of(st.lists(pieces, max_size=12).map("".join), st.text(max_size=40))
admissible = st.one_of(
    st.none(), st.lists(st.sampled_from(["look", "take key", "Go To X"]), max_size=3)
)


def _reference(text: str, adm: Sequence[str] | None, require_think: bool) -> ParsedAction:
    """The parser as it was, with the regexes."""
    matches = ACTION_RE.findall(text)
    if not matches or (require_think and not THINK_RE.search(text)):
        return ParsedAction(text.strip()[:MAX_FALLBACK_CHARS], False)
    action = matches[-1].strip()
    if not action:
        return ParsedAction("", False)
    if adm:
        by_norm = {" ".join(a.strip().lower().split()): a for a in adm}
        action = by_norm.get(" ".join(action.strip().lower().split()), action)
    return ParsedAction(action, True)


@given(answers)
@settings(max_examples=400)
def test_tag_scans_agree_with_the_regexes(text: str) -> None:
    found = ACTION_RE.findall(text)
    assert last_action_block(text) == (found[-1] if found else None)
    assert has_think_block(text) == (THINK_RE.search(text) is not None)


@given(answers, admissible, st.booleans())
@settings(max_examples=300)
def test_parse_action_never_raises_and_agrees_with_the_regex_parser(
    text: str, adm: list[str] | None, require_think: bool
) -> None:
    assert parse_action(text, adm, require_think=require_think) == _reference(
        text, adm, require_think
    )


@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=30))
def test_well_formed_answers_round_trip(think: str, action: str, tail: str) -> None:
    for part in (think, action, tail):
        assume("<" not in part)  # no tags inside the parts
    assume(action.strip())
    parsed = parse_action(
        f"<think>{think}</think><action>{action}</action>{tail}", require_think=True
    )
    assert parsed == ParsedAction(action.strip(), True)


def test_hostile_answers_parse() -> None:
    # Linear scans: "<action>" * 8192 took seconds with the lazy regex (not timed here; see
    # benchmarks/bench_hostile_actions.py).
    for text in HOSTILE_ACTIONS:
        parsed = parse_action(text, ["look"], require_think=True)
        assert isinstance(parsed.action, str) and len(parsed.action) <= max(len(text), 1)
    assert parse_action("<action>" * 8192 + "look</action>").action == "<action>" * 8191 + "look"
