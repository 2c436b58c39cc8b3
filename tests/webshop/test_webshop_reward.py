"""Reward cases worked out by hand from upstream's formula (web_agent_site/engine/goal.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from proxmo_bench.envs.webshop import get_reward
from proxmo_bench.envs.webshop.reward import (
    fuzzy_ratio,
    get_option_reward,
    get_type_reward,
    normalize_color,
)


def product(**overrides: Any) -> dict[str, Any]:
    p = {
        "asin": "B000000001",
        "name": "Acme Over Ear Headphones",
        "query": "headphones",
        "product_category": "Electronics › Headphones › Over-Ear Headphones",
        "Title": "Acme Over Ear Headphones",
        "Attributes": ["wireless bluetooth", "noise cancelling"],
        "BulletPoints": ["Soft ear cushions", "40 hour battery"],
        "Description": "Easy clean finish.",
    }
    p.update(overrides)
    return p


def goal(**overrides: Any) -> dict[str, Any]:
    g = {
        "asin": "B000000001",
        "query": "headphones",
        "product_category": "Electronics › Headphones › Over-Ear Headphones",
        "name": "Acme Over Ear Headphones",
        "attributes": ["wireless bluetooth"],
        "price_upper": 50.0,
        "goal_options": ["blue"],
    }
    g.update(overrides)
    return g


def test_full_match_scores_one() -> None:
    assert get_reward(product(), goal(), price=30.0, options={"color": "blue"}) == 1.0


@pytest.mark.parametrize(
    ("price", "options", "expected"),
    [
        (60.0, {"color": "blue"}, 2 / 3),  # over the price bound
        (30.0, {"color": "green"}, 2 / 3),  # wrong colour
        (30.0, {}, 2 / 3),  # no option chosen
        (60.0, {}, 1 / 3),
    ],
)
def test_partial_credit(price: float, options: dict[str, str], expected: float) -> None:
    assert get_reward(product(), goal(), price=price, options=options) == pytest.approx(expected)


def test_attribute_found_in_text_when_not_in_attribute_list() -> None:
    g = goal(attributes=["wireless bluetooth", "easy clean", "water resistant"])
    # 'easy clean' is in the description; 'water resistant' nowhere: (2 + 1 + 1) / 5
    total = get_reward(product(), g, price=30.0, options={"color": "blue"})
    assert total == pytest.approx(4 / 5)


def test_fuzzy_attribute_uses_thefuzz_processing_and_rounding() -> None:
    # thefuzz lowercases and turns '-' into a space before comparing: a match.
    assert fuzzy_ratio("Long-Lasting", "long lasting") == 100
    g = goal(attributes=["long lasting"])
    assert get_reward(product(Attributes=["Long-Lasting"]), g, 30.0, {"color": "blue"}) == 1.0
    # raw ratio 85.106 rounds to 85, which is not > 85: no match.
    near = "abc1efg2ijk3mnopqrstuvw"
    assert fuzzy_ratio("abcdefghijklmnopqrstuvwx", near) == 85
    g = goal(attributes=["abcdefghijklmnopqrstuvwx"])
    assert get_reward(product(Attributes=[near]), g, 30.0, {"color": "blue"}) == pytest.approx(
        2 / 3
    )
    # 85.71 rounds to 86 > 85: a match.
    assert fuzzy_ratio("black large", "large pack") == 86


def test_fuzzy_ratio_is_thefuzz_pure_python_difflib_not_levenshtein() -> None:
    # thefuzz 0.19.0 without python-Levenshtein (upstream's requirements) uses difflib: 50 here,
    # where the Levenshtein (indel) ratio is 87.5 and would match.
    assert fuzzy_ratio("bedabdb", "bebdabedb") == 50
    # '_' is a word character for thefuzz's \W: DUMMY_ATTR is one token "dummy_attr"
    assert fuzzy_ratio("DUMMY_ATTR", "dummy_attr") == 100
    assert fuzzy_ratio("DUMMY_ATTR", "dummy attr") == 50
    assert fuzzy_ratio("DUMMY_ATTR", "attr") == 57


def test_dummy_attr_placeholder_scores_as_upstream() -> None:
    p = product(Attributes=["DUMMY_ATTR"])
    for attr, expected in (("dummy_attr", 1.0), ("dummy attr", 0.5), ("attr", 0.5)):
        g = goal(attributes=[attr], goal_options=[])
        assert get_reward(p, g, 30.0, {}) == pytest.approx(expected), attr


def test_upstream_rule_scores_dict_goals_on_name_value_pairs() -> None:
    # upstream passes goal_options.items(): str(('size', '33.8 fl oz')) holds every token of
    # '8 fl oz', so the wrong size gets token-set ratio 100 and counts
    g = goal(goal_options={"scent": "lavender", "size": "33.8 fl oz"})
    opts = {"scent": "lavender", "size": "8 fl oz"}
    assert get_reward(product(), g, 30.0, opts, option_rule="upstream") == pytest.approx(1.0)
    # env-v1 (the env's rule, published results) matches sizes exactly on the values
    assert get_reward(product(), g, 30.0, opts, option_rule="env-v1") == pytest.approx(3 / 4)
    # a pair is colour-normalised only when a colour word equals its name or value
    assert normalize_color(("color", "blue")) == "blue"
    assert normalize_color(("color", "navy blue")) == ("color", "navy blue")
    # the option name takes part: buying a value "color" matches any colour pair
    assert get_option_reward(["color"], [("color", "navy blue")]) == (1.0, 1)
    assert get_option_reward(["green"], [("color", "navy blue")]) == (0.0, 0)


def test_upstream_rule_on_list_goals() -> None:
    g = goal(goal_options=["large"])
    p = product(Title="Acme Over Ear Headphones 40 Hour Large")
    # sizes are fuzzy too ('x large' holds 'large'), each goal option counts once, no text search
    assert get_reward(p, g, 30.0, {"size": "x-large"}, option_rule="upstream") == 1.0
    assert get_reward(p, g, 30.0, {"style": "hour"}, option_rule="upstream") == pytest.approx(2 / 3)
    both = {"size": "large", "fit": "large"}
    assert get_reward(p, g, 30.0, both, option_rule="upstream") == 1.0  # not 4/3
    assert get_option_reward([], ["large"]) == (0.0, 0)
    assert get_option_reward(["large"], []) == (None, 0)


def test_unknown_option_rule_or_tagger_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="option_rule"):
        get_reward(product(), goal(), 30.0, {}, option_rule="v2")
    with pytest.raises(ValueError, match="nouns"):
        get_reward(product(), goal(), 30.0, {}, nouns="nltk")


def test_colour_normalisation_quirks() -> None:
    assert normalize_color("light blue") == "blue"  # 'blue' comes before 'light'
    assert normalize_color("navy blue") == "blue"
    assert normalize_color("violet lavender") == "lavender"
    assert normalize_color("123alabaster") == "alabaster"
    assert normalize_color("tired") == "red"  # substring, not word, match
    assert normalize_color("webshop") == "webshop"
    # so 'light blue' bought for a 'navy blue' goal counts as the right colour
    g = goal(goal_options=["navy blue"])
    assert get_reward(product(), g, price=30.0, options={"color": "light blue"}) == 1.0


def test_env_v1_size_options_match_exactly_others_fuzzily() -> None:
    g = goal(goal_options=["large"])
    assert get_reward(
        product(), g, 30.0, {"size": "x-large"}, option_rule="env-v1"
    ) == pytest.approx(2 / 3)
    assert (
        get_reward(product(), g, 30.0, {"fit": "x-large"}, option_rule="env-v1") == 1.0
    )  # token-set ratio 100


def test_env_v1_option_found_in_title() -> None:
    g = goal(goal_options=["blue"])
    p = product(Title="Acme Over Ear Headphones 40 Hour")
    # 'hour' is no goal option but a substring of the title: it counts under env-v1.
    assert get_reward(p, g, 30.0, {"style": "hour"}, option_rule="env-v1") == 1.0


def test_goal_options_as_dict() -> None:
    g = goal(goal_options={"color": "blue", "size": "large"})
    assert get_reward(product(), g, 30.0, {"color": "blue", "size": "large"}) == 1.0
    assert get_reward(product(), g, 30.0, {"color": "blue"}) == pytest.approx(3 / 4)


def test_env_v1_buying_more_options_than_asked_overcounts() -> None:
    p = product(Title="Acme Over Ear Headphones Large")
    total = get_reward(p, goal(), 30.0, {"color": "blue", "size": "large"}, option_rule="env-v1")
    assert total == pytest.approx(4 / 3)


def test_type_score_levels() -> None:
    # r_type 0.0: no shared noun, even though query and category match (upstream quirk)
    g = goal(name="Desk Lamp")
    info = get_type_reward(product(), g)
    assert info["query_match"] and info["category_match"]
    assert info["title_score"] == 0.0 and info["r_type"] == 0.0
    assert get_reward(product(), g, 30.0, {"color": "blue"}) == 0.0
    # r_type 0.5: one of five goal nouns shared (0.2 is not > 0.2), no query/category match
    g = goal(name="Desk Lamp Shade Bulb Headphones", query="lamps", product_category="Home › Lamps")
    assert get_type_reward(product(), g)["r_type"] == 0.5
    assert get_reward(product(), g, 30.0, {"color": "blue"}) == pytest.approx(0.5)
    # r_type 0.1: one of eleven nouns shared
    g["name"] = "Desk Lamp Shade Bulb Cord Plug Switch Base Stand Clamp Headphones"
    assert get_type_reward(product(), g)["r_type"] == 0.1
    # a goal name without nouns counts 0.2: r_type 1.0 with a query match
    assert get_type_reward(product(), goal(name="the and of"))["title_score"] == 0.2
    assert get_type_reward(product(), goal(name="the and of"))["r_type"] == 1.0


def test_category_needs_two_shared_levels() -> None:
    g = goal(query="x", product_category="Electronics › Speakers", name="Acme Speaker Kit Box Case")
    assert get_type_reward(product(), g)["category_match"] is False
    g["product_category"] = "Electronics › Headphones"
    assert get_type_reward(product(), g)["category_match"] is True


def test_verbose_parts() -> None:
    total, info = get_reward(product(), goal(), 60.0, {"color": "blue"}, verbose=True)
    assert total == pytest.approx(2 / 3)
    assert info["r_type"] == 1.0 and info["r_att"] == 1.0 and info["r_option"] == 1.0
    assert info["r_price"] is False
    assert info["w_att"] == pytest.approx(1 / 3) and info["w_price"] == pytest.approx(1 / 3)
    _, info = get_reward(product(), goal(goal_options=[]), 30.0, {}, verbose=True)
    assert "r_option" not in info and info["r_price"] is True


def test_inputs_are_not_modified() -> None:
    p, g, opts = product(), goal(), {"color": "Blue"}
    before = copy.deepcopy((p, g, opts))
    get_reward(p, g, 30.0, opts)
    assert (p, g, opts) == before


@pytest.mark.parametrize(
    ("g", "price", "match"),
    [
        (goal(attributes=[]), 30.0, "attributes"),
        (goal(), None, "price"),
        (goal(price_upper=0), 30.0, "price_upper"),
        ({k: v for k, v in goal().items() if k != "query"}, 30.0, "query"),
        (goal(goal_options=[None]), 30.0, "goal_options"),
    ],
)
def test_upstream_crashes_become_value_errors(g: dict[str, Any], price: Any, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        get_reward(product(), g, price, {})


def test_non_string_option_value_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="options"):
        get_reward(product(), goal(), 30.0, {"color": None})
