"""How WebShop reads an action string: linear-time scans that agree with upstream's regex."""

from __future__ import annotations

import copy
import functools
import re

import gymnasium
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import proxmo_bench
from proxmo_bench.conformance import HOSTILE_ACTIONS_BY_FAMILY
from proxmo_bench.envs.webshop.env import NOT_AN_ACTION, WebShopEnv, bracket_action_end
from proxmo_bench.envs.webshop.site import ShopSession, page_text, parse_action

# Upstream's action pattern (web_agent_site/envs/web_agent_text_env.py, ``parse_action``): the
# reference the scans must agree with.
UPSTREAM_ACTION = re.compile(r"(.+)\[(.+)\]", re.DOTALL)

bracket_text = st.text(alphabet="[]ab \n", max_size=14)
any_text = st.one_of(bracket_text, st.text(max_size=30))


@given(any_text)
@settings(max_examples=400)
def test_bracket_action_end_agrees_with_upstreams_regex(action: str) -> None:
    m = UPSTREAM_ACTION.match(action)
    end = bracket_action_end(action)
    if m is None:
        assert end is None
    else:
        assert end == m.end()
        assert parse_action(action[:end]) == (m.group(1), m.group(2))


@given(
    st.text(min_size=1, max_size=20),
    st.text(min_size=1, max_size=20).filter(lambda x: "[" not in x),
)
def test_well_formed_actions_round_trip(name: str, arg: str) -> None:
    action = f"{name}[{arg}]"
    end = bracket_action_end(action)
    assert end == len(action)
    assert parse_action(action[:end]) == (name, arg)


def test_bracket_action_end_examples() -> None:
    assert bracket_action_end("click[Buy Now]") == len("click[Buy Now]")
    assert bracket_action_end("click[x] trailing [[[") == len("click[x]")
    assert bracket_action_end("x[]]") == 4  # upstream reads it as click "x" of "]"
    for bad in ("", "click", "click[", "click[]", "[x]", "x[]", "]", "[[[" * 1000):
        assert bracket_action_end(bad) is None, bad


@functools.lru_cache(maxsize=1)
def _env() -> gymnasium.Env[str, str]:
    return proxmo_bench.make("proxmo/WebShop-v0", split="test")


def _session(env: gymnasium.Env[str, str]) -> ShopSession:
    inner = env.unwrapped
    assert isinstance(inner, WebShopEnv) and inner.session is not None
    return inner.session


def _twin(s: ShopSession) -> ShopSession:
    """A copy of the session's state sharing its (read-only) catalogue."""
    twin = copy.copy(s)
    twin.options = dict(s.options)
    return twin


def _variants(action: str) -> list[str]:
    inner = action[action.index("[") + 1 : -1] if "[" in action else action
    return [
        action,
        action.upper(),
        f"  {action}\n",
        action + "]]",
        action + " [[",
        "[" + action,
        action.replace("[", "[["),
        f"click[{inner}] and more]",
        f"search[{inner}",
    ]


@given(st.data())
@settings(max_examples=40, deadline=None)
def test_env_steps_as_the_sites_own_parser_does(data: st.DataObject) -> None:
    """Random walks mixing admissible actions, near misses and arbitrary text: each step does
    what ``ShopSession.act`` on the whole raw action (the regex path) does."""
    env = _env()
    _, info = env.reset(options={"task_id": f"test/{data.draw(st.integers(0, 20))}"})
    for _ in range(6):
        pool = [
            a if a != "search[<query>]" else "search[red shoes]" for a in info["admissible_actions"]
        ]
        candidates = [v for a in pool for v in _variants(a)]
        action = data.draw(st.one_of(st.sampled_from(candidates), any_text))
        reference = _twin(_session(env))
        outcome = reference.act(action)
        obs, reward, terminated, _, info = env.step(action)
        assert info["action_valid"] is outcome.valid, action
        assert page_text(_session(env).page()) == page_text(reference.page()), action
        if not outcome.valid:
            assert outcome.message in obs
        assert reward == (10.0 if outcome.done and outcome.score >= 1.0 else 0.0)
        if terminated:
            assert outcome.done and info["score"] == outcome.score
            break


@pytest.mark.parametrize("page", ["search", "results", "item"])
def test_hostile_actions_on_every_page_change_nothing(page: str) -> None:
    env = _env()
    steps = {"search": [], "results": ["search[red shoes]"]}.get(page)
    for family, actions in HOSTILE_ACTIONS_BY_FAMILY.items():
        if family in ("basic", "search[ + words"):
            continue  # short cases (some valid) and a valid, long search
        for action in actions:
            _, info = env.reset(options={"task_id": "test/1"})
            for a in steps if steps is not None else ["search[red shoes]"]:
                _, _, _, _, info = env.step(a)
            if steps is None:  # the item page of the first product
                first = next(a for a in info["admissible_actions"] if a.startswith("click[b0"))
                _, _, _, _, info = env.step(first)
            before = page_text(_session(env).page())
            obs, reward, terminated, _, after = env.step(action)
            assert after["action_valid"] is False and reward == 0.0 and not terminated, family
            assert page_text(_session(env).page()) == before, family
            assert obs.startswith("Invalid action: ")


def test_unparsable_action_gets_the_sites_message() -> None:
    env = _env()
    env.reset(options={"task_id": "test/0"})
    reference = _twin(_session(env)).act("no brackets here")
    assert reference.message == NOT_AN_ACTION
    obs, _, _, _, info = env.step("[" * 5000)
    assert info["action_valid"] is False and NOT_AN_ACTION in obs
