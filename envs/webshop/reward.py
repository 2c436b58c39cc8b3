"""WebShop's purchase score, as upstream ``web_agent_site/engine/goal.py`` computes it.

For a goal with attributes ``A`` (n_A of them) and options ``O`` (n_O), and a purchase::

    score = (matched_attributes + matched_options + [price <= price_upper])
            / (n_A + n_O + 1) * r_type

- ``r_type`` (type score): 1.0 when the purchased product's query equals the goal's, or at least
  two levels of their category breadcrumbs are shared, or more than 20% of the goal name's nouns
  appear among the purchased name's nouns; 0.5 when none of these hold; then 0.1 when fewer than
  10% of the goal's nouns are shared and 0.0 when none are (a goal name without nouns counts 20%).
- An attribute matches when a product attribute has fuzzy token-set ratio > 85 with it, or it is
  a substring of the lowercased title, bullet points or description.
- Each *purchased* option value (colour-normalised) matches when its name is ``size`` and it equals
  a goal option, or (other names) a goal option has token-set ratio > 85 with it, or it is a
  substring of the title, bullet points or description.

Upstream quirks kept on purpose, so scores compare case by case:
- colour normalisation replaces a value by the first colour word that is a *substring* of it
  ("tired" -> "red"), in the order of :data:`COLOR_SET`;
- the fuzzy ratio is thefuzz's: ASCII 128-255 stripped, lowercased, non-alphanumerics to spaces,
  rounded to an int before the strict ``> 85``;
- options are counted per purchased option, so buying more options than the goal names can push
  the total above 1.0 (upstream does not clip; the env clips ``info["score"]``).

Upstream crashes (a goal without attributes, a missing price, ``price_upper <= 0``, a missing
key) become ``ValueError``s that say which field is wrong.

The one deliberate difference: spaCy's noun tagging is replaced by
:func:`proxmo_bench.envs.webshop.nouns.noun_tokens` (no model download); see that module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal, overload

from rapidfuzz import fuzz
from rapidfuzz.utils import default_process

from proxmo_bench.envs.webshop.nouns import noun_tokens

#: Option names matched exactly rather than fuzzily (upstream ``EXACT_MATCH_OPTS``).
EXACT_MATCH_OPTIONS: tuple[str, ...] = ("size",)

#: Colour words, in upstream's order (the first one found as a substring wins).
_COLOR_WORDS = """
    alabaster apricot aqua ash asphalt azure banana beige black blue blush bordeaux bronze
    brown burgundy camel camo caramel champagne charcoal cheetah chestnut chocolate christmas
    coffee cognac copper coral cranberry cream crystal dark denim eggplant elephant espresso
    fuchsia gold granite grape graphite grass gray green grey heather indigo ivory ivy khaki
    lavender lemon leopard light lilac lime magenta maroon mauve merlot midnight mint mocha
    multicolor mushroom mustard natural navy nude olive orange peach pewter pink plum purple
    rainbow red rose royal rust sand sapphire seashell silver skull slate steel stone
    stonewash sunflower tan taupe teal tiger turquoise violet walnut wheat white wine yellow
"""
COLOR_SET: tuple[str, ...] = tuple(_COLOR_WORDS.split())

FUZZY_CUTOFF = 85

_LATIN1_HIGH = {i: None for i in range(128, 256)}


def normalize_color(value: str) -> str:
    """The first colour of :data:`COLOR_SET` that is a substring of ``value``, else ``value``."""
    for color in COLOR_SET:
        if color in value:
            return color
    return value


def fuzzy_ratio(a: str, b: str) -> int:
    """thefuzz's ``fuzz.token_set_ratio(a, b)`` (full processing, ``force_ascii=True``), 0..100."""
    pa = default_process(a.translate(_LATIN1_HIGH))
    pb = default_process(b.translate(_LATIN1_HIGH))
    return round(fuzz.token_set_ratio(pa, pb))


def _product_text(product: Mapping[str, Any]) -> tuple[str, str, str]:
    bullets = product["BulletPoints"]
    bullet_text = " ".join(bullets) if isinstance(bullets, (list, tuple)) else str(bullets)
    return product["Title"].lower(), bullet_text.lower(), product["Description"].lower()


def _in_text(needle: str, texts: tuple[str, str, str]) -> bool:
    return any(needle in t for t in texts)


def get_type_reward(
    purchased_product: Mapping[str, Any], goal: Mapping[str, Any]
) -> dict[str, Any]:
    """Type score and parts: ``r_type``, ``query_match``, ``category_match``, ``title_score``."""
    query_match = purchased_product["query"] == goal["query"]
    bought_levels = {x.strip() for x in purchased_product["product_category"].split("›")}
    goal_levels = {x.strip() for x in goal["product_category"].split("›")}
    category_match = len(bought_levels & goal_levels) >= 2

    bought_nouns = noun_tokens(purchased_product["name"])
    goal_nouns = noun_tokens(goal["name"])
    shared = len(set(bought_nouns) & set(goal_nouns))
    # Upstream divides by the token count (duplicates included), not the distinct count.
    title_score = 0.2 if not goal_nouns else shared / len(goal_nouns)

    r_type = 1.0
    if not (query_match or category_match or title_score > 0.2):
        r_type = 0.5
    if title_score < 0.1:
        r_type = 0.1
    if title_score == 0.0:
        r_type = 0.0
    return {
        "r_type": r_type,
        "query_match": query_match,
        "category_match": category_match,
        "title_score": title_score,
    }


def get_attribute_reward(
    purchased_product: Mapping[str, Any], goal: Mapping[str, Any]
) -> tuple[float, int]:
    """``(fraction of goal attributes matched, number matched)``."""
    goal_attrs: Sequence[str] = goal["attributes"]
    texts = _product_text(purchased_product)
    n_matched = 0
    for g_attr in goal_attrs:
        if any(
            fuzzy_ratio(p, g_attr) > FUZZY_CUTOFF for p in purchased_product["Attributes"]
        ) or _in_text(g_attr, texts):
            n_matched += 1
    return n_matched / len(goal_attrs), n_matched


def get_option_reward(
    purchased_product: Mapping[str, Any],
    goal_options: Sequence[str],
    purchased_options: Mapping[str, str],
) -> tuple[float | None, int]:
    """``(matched / len(goal_options) or None without goal options, number matched)``."""
    chosen = {k: normalize_color(v) for k, v in purchased_options.items()}
    wanted = [normalize_color(o) for o in goal_options]
    texts = _product_text(purchased_product)
    n_matched = 0
    for name, value in chosen.items():
        if name.lower() in EXACT_MATCH_OPTIONS:
            matched = value in wanted
        else:
            matched = any(fuzzy_ratio(g, value) > FUZZY_CUTOFF for g in wanted)
        if matched or _in_text(value, texts):
            n_matched += 1
    r_option = n_matched / len(wanted) if wanted else None
    return r_option, n_matched


def _check_inputs(
    purchased_product: Mapping[str, Any], goal: Mapping[str, Any], price: Any, options: Any
) -> None:
    for key in (
        "query",
        "product_category",
        "name",
        "Title",
        "Attributes",
        "BulletPoints",
        "Description",
    ):
        if key not in purchased_product:
            raise ValueError(f"get_reward: purchased_product has no {key!r} field")
    for key in ("query", "product_category", "name", "attributes", "price_upper", "goal_options"):
        if key not in goal:
            raise ValueError(f"get_reward: goal has no {key!r} field")
    if not goal["attributes"]:
        raise ValueError(
            "get_reward: goal['attributes'] is empty; upstream divides by the attribute count "
            "(human goals without instruction_attributes are skipped when goals are built)"
        )
    if price is None or isinstance(price, bool) or not isinstance(price, (int, float)):
        raise ValueError(f"get_reward: price must be a number (the product's price), got {price!r}")
    upper = goal["price_upper"]
    if isinstance(upper, bool) or not isinstance(upper, (int, float)) or upper <= 0:
        raise ValueError(
            f"get_reward: goal['price_upper'] must be a positive number, got {upper!r}"
        )
    if not isinstance(options, Mapping):
        raise ValueError(
            f"get_reward: options must be a dict of option name -> value, got {options!r}"
        )
    goal_options = goal["goal_options"]
    if not isinstance(goal_options, (Mapping, list, tuple)):
        raise ValueError("get_reward: goal['goal_options'] must be a list or a dict")
    values = goal_options.values() if isinstance(goal_options, Mapping) else goal_options
    if not all(isinstance(v, str) for v in values):
        raise ValueError(f"get_reward: goal['goal_options'] values must be strings: {goal_options}")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in options.items()):
        raise ValueError(f"get_reward: options must map option names to strings: {options!r}")


@overload
def get_reward(
    purchased_product: Mapping[str, Any],
    goal: Mapping[str, Any],
    price: float,
    options: Mapping[str, str],
    verbose: Literal[False] = False,
) -> float: ...


@overload
def get_reward(
    purchased_product: Mapping[str, Any],
    goal: Mapping[str, Any],
    price: float,
    options: Mapping[str, str],
    verbose: Literal[True],
) -> tuple[float, dict[str, Any]]: ...


def get_reward(
    purchased_product: Mapping[str, Any],
    goal: Mapping[str, Any],
    price: float,
    options: Mapping[str, str],
    verbose: bool = False,
) -> float | tuple[float, dict[str, Any]]:
    """Upstream WebShop's total score for buying ``purchased_product`` with ``options``.

    Args:
        purchased_product: a product in upstream's internal format (``name``, ``query``,
            ``product_category``, ``Title``, ``Attributes``, ``BulletPoints``, ``Description``).
        goal: ``query``, ``product_category``, ``name``, ``attributes`` (non-empty list),
            ``price_upper`` (> 0), ``goal_options`` (a list of values, or a dict name -> value).
        price: the price paid (a float).
        options: chosen option name -> value.
        verbose: also return the parts.

    Returns:
        The total in [0, 1] (above 1 only in upstream's over-counting case, see the module doc),
        or ``(total, info)`` with ``r_type``, ``r_att``, ``w_att``, ``query_match``,
        ``category_match``, ``title_score``, ``r_option``/``w_option`` (only when the goal has
        options) and ``r_price``/``w_price``.

    Raises:
        ValueError: where upstream would crash (see :func:`_check_inputs`).
    """
    _check_inputs(purchased_product, goal, price, options)
    type_info = get_type_reward(purchased_product, goal)
    r_price = price <= goal["price_upper"]
    r_att, n_att = get_attribute_reward(purchased_product, goal)
    goal_options = goal["goal_options"]
    wanted = (
        list(goal_options.values()) if isinstance(goal_options, Mapping) else list(goal_options)
    )
    r_option, n_opt = get_option_reward(purchased_product, wanted, options)

    denominator = len(goal["attributes"]) + len(goal_options) + 1
    total = (n_att + n_opt + int(r_price)) / denominator * type_info["r_type"]
    if not verbose:
        return total
    info: dict[str, Any] = {
        "r_type": type_info["r_type"],
        "r_att": r_att,
        "w_att": len(goal["attributes"]) / denominator,
        "query_match": type_info["query_match"],
        "category_match": type_info["category_match"],
        "title_score": type_info["title_score"],
    }
    if r_option is not None:
        info["r_option"] = r_option
        info["w_option"] = len(goal_options) / denominator
    info["r_price"] = r_price
    info["w_price"] = 1 / denominator
    return total, info
