"""The env's purchase score rules: ``option_rule`` and ``nouns`` as env settings."""

from __future__ import annotations

import importlib.util

import pytest

from proxmo_bench.envs.webshop import WebShopEnv, get_reward


def _env(**kw: object) -> WebShopEnv:
    return WebShopEnv(n_products=60, **kw)  # type: ignore[arg-type]


def _buy_with_goal_options(env: WebShopEnv) -> tuple[float, dict[str, str], object]:
    """Reset, then buy the goal's own product with options that differ from the goal's: the
    score the session gives, the options, and the session."""
    env.reset(seed=3)
    session = env.session
    assert session is not None
    goal = dict(session.goal)
    goal["goal_options"] = {"size": "33.8 fl oz", "color": "navy blue"}
    session.goal = goal
    session.asin = goal["asin"]
    session.options = {"size": "8 fl oz", "color": "navy"}
    outcome = session._buy()
    return outcome.raw_score, dict(session.options), session


@pytest.mark.parametrize("rule", ["env-v1", "upstream"])
def test_the_env_scores_purchases_with_its_option_rule(rule: str) -> None:
    env = _env(option_rule=rule)
    raw, options, session = _buy_with_goal_options(env)
    expected = get_reward(
        session._product(),  # type: ignore[attr-defined]
        session.goal,  # type: ignore[attr-defined]
        price=env.catalogue.prices[session.asin],  # type: ignore[attr-defined]
        options=options,
        option_rule=rule,  # type: ignore[arg-type]
    )
    assert raw == pytest.approx(expected)


def test_the_rules_differ_on_such_a_purchase_and_the_default_is_env_v1() -> None:
    default, _, _ = _buy_with_goal_options(_env())
    v1, _, _ = _buy_with_goal_options(_env(option_rule="env-v1"))
    up, _, _ = _buy_with_goal_options(_env(option_rule="upstream"))
    assert default == v1
    assert up != v1  # upstream matches str(('size', '33.8 fl oz')) against '8 fl oz'


def test_unknown_rules_are_one_line_errors() -> None:
    with pytest.raises(ValueError, match="option_rule must be"):
        _env(option_rule="v2")
    with pytest.raises(ValueError, match="nouns must be"):
        _env(nouns="nltk")


@pytest.mark.skipif(
    importlib.util.find_spec("spacy") is not None
    and importlib.util.find_spec("en_core_web_sm") is not None,
    reason="spaCy and en_core_web_sm are installed",
)
def test_spacy_nouns_without_spacy_fail_at_construction_naming_the_extra() -> None:
    with pytest.raises(ImportError, match="webshop-spacy"):
        _env(nouns="spacy")


def _to_item_page(env: WebShopEnv) -> None:
    env.reset(seed=5)
    session = env.session
    assert session is not None
    _, _, _, _, info = env.step(f"search[{session.goal['instruction_text'][:40]}]")
    buttons = {"click[back to search]", "click[next >]", "click[< prev]"}
    first = next(a for a in info["admissible_actions"] if a not in buttons)  # a product
    env.step(first)
    assert session.page_name == "item"


def test_search_off_the_search_page_follows_the_setting() -> None:
    strict = _env()
    _to_item_page(strict)
    _, _, _, _, info = strict.step("search[red shoes]")
    assert not info["action_valid"] and strict.session.page_name == "item"  # type: ignore[union-attr]
    anywhere = _env(search_anywhere=True)
    _to_item_page(anywhere)
    _, _, _, _, info = anywhere.step("search[red shoes]")
    assert info["action_valid"] and anywhere.session.page_name == "results"  # type: ignore[union-attr]
    assert anywhere.session.keywords == ["red", "shoes"]  # type: ignore[union-attr]
