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
- Options, ``option_rule="upstream"`` (upstream ``master``): each *goal* option counts once when
  some purchased option value has fuzzy token-set ratio > 85 with it (both colour-normalised).
  Nothing else counts: no exact match for sizes, no search of the product text (those are on
  upstream's unmerged ``v2`` branch, not in ``master``).
- Options, ``option_rule="env-v1"`` (what WebShop env_version 1 uses, with which the published
  results were made; it mixes ``v2`` and ``master``): each *purchased* option value
  (colour-normalised) counts when its name is ``size`` and it equals a goal option *value*, or
  (other names) a goal value has token-set ratio > 85 with it, or it is a substring of the title,
  bullet points or description; buying more options than the goal names can push the total
  above 1.0 (the env clips ``info["score"]``). :func:`get_reward` defaults to ``"upstream"``;
  the env passes its own ``option_rule`` (``"env-v1"`` unless made with
  ``option_rule="upstream"``), so published episodes keep their scores.

Upstream quirks kept on purpose, so scores compare case by case:
- (``option_rule="upstream"``) a goal whose ``goal_options`` is a dict (synthetic goals) is scored on its ``(name, value)``
  *pairs*: upstream passes ``goal_options.items()``, not ``.values()``. Colour normalisation of a
  pair tests whether a colour word *equals* the name or the value (``in`` on a tuple), and the
  fuzzy ratio compares against the pair's ``str()`` (``"('color', 'navy blue')"``), so the option
  name takes part: a purchased ``"color"`` matches any colour pair, ``"navy"`` matches
  ``("color", "navy blue")`` and size ``"8 fl oz"`` matches ``("size", "33.8 fl oz")`` (all
  tokens of the purchased value are among the pair's: token-set ratio 100);
- colour normalisation replaces a string by the first colour word that is a *substring* of it
  ("tired" -> "red"), in the order of :data:`COLOR_SET`;
- the fuzzy ratio is thefuzz 0.19.0's pure-Python one (upstream installs no python-Levenshtein):
  characters 128-255 deleted, every non-word character (``\\W``; ``_`` is a word character, so
  ``DUMMY_ATTR`` stays one token) to a space, lowercased, then :class:`difflib.SequenceMatcher`'s
  ratio, which can be lower than the Levenshtein one, rounded half to even before the strict
  ``> 85``.

Upstream crashes (a goal without attributes, a missing price, ``price_upper <= 0``, a missing
key) become ``ValueError``s that say which field is wrong.

The one deliberate difference: by default spaCy's noun tagging is replaced by
:func:`proxmo_bench.envs.webshop.nouns.noun_tokens` (no model download; it agrees with spaCy on
most, not all, names); ``nouns="spacy"`` uses upstream's own tagger (``en_core_web_sm``, the
``[webshop-spacy]`` extra) and then every score is upstream's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from difflib import SequenceMatcher
from typing import Any, Literal, overload

from proxmo_bench.envs.webshop.nouns import noun_tokens, spacy_noun_tokens

#: Option scoring: upstream ``master``'s, or the one of WebShop env_version 1 (see the module doc).
OptionRule = Literal["upstream", "env-v1"]
#: Option names matched exactly by the env-v1 rule (upstream ``v2``'s ``EXACT_MATCH_OPTS``).
EXACT_MATCH_OPTIONS: tuple[str, ...] = ("size",)

#: A noun tagger: a product name -> its lowercased noun tokens, in order, duplicates kept.
NounTagger = Callable[[str], list[str]]
#: ``"heuristic"`` (offline, the default), ``"spacy"`` (upstream's tagger) or any tagger.
Nouns = Literal["heuristic", "spacy"] | NounTagger

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


_NON_WORD = re.compile(r"\W", re.UNICODE)


def normalize_color(value: str | tuple[str, ...]) -> str | tuple[str, ...]:
    """The first colour of :data:`COLOR_SET` found in ``value``, else ``value`` unchanged.

    For a string "found" means a substring; for a ``(name, value)`` pair of a dict goal (upstream
    passes ``dict.items()``), Python's ``in`` on a tuple means *equal to* the name or the value.
    """
    for color in COLOR_SET:
        if color in value:
            return color
    return value


def _fuzz_process(value: object) -> str:
    # thefuzz turns a non-string into str() first; a goal option pair becomes "('color', 'red')".
    text = value if isinstance(value, str) else str(value)
    return _NON_WORD.sub(" ", text.translate(_LATIN1_HIGH)).lower().strip()


def _ratio(a: str, b: str) -> int:
    if a == b:
        return 100
    if not a or not b:
        return 0
    return round(100 * SequenceMatcher(None, a, b).ratio())


def fuzzy_ratio(a: object, b: object) -> int:
    """thefuzz 0.19.0's ``fuzz.token_set_ratio(a, b)`` without python-Levenshtein, 0..100.

    Both sides are processed (see the module doc) and split into token sets; with ``common`` the
    sorted shared tokens and ``common_a``/``common_b`` that followed by each side's own sorted
    tokens, the result is the best of ``ratio(common, common_a)``, ``ratio(common, common_b)``
    and ``ratio(common_a, common_b)``, where ``ratio`` is difflib's, times 100, rounded.
    """
    pa, pb = _fuzz_process(a), _fuzz_process(b)
    if not pa or not pb:
        return 0
    ta, tb = set(pa.split()), set(pb.split())
    common = " ".join(sorted(ta & tb))
    common_a = f"{common} {' '.join(sorted(ta - tb))}".strip()
    common_b = f"{common} {' '.join(sorted(tb - ta))}".strip()
    return max(_ratio(common, common_a), _ratio(common, common_b), _ratio(common_a, common_b))


def _product_text(product: Mapping[str, Any]) -> tuple[str, str, str]:
    bullets = product["BulletPoints"]
    bullet_text = " ".join(bullets) if isinstance(bullets, (list, tuple)) else str(bullets)
    return product["Title"].lower(), bullet_text.lower(), product["Description"].lower()


def _in_text(needle: str, texts: tuple[str, str, str]) -> bool:
    return any(needle in t for t in texts)


def _tagger(nouns: Nouns) -> NounTagger:
    if nouns == "heuristic":
        return noun_tokens
    if nouns == "spacy":
        return spacy_noun_tokens
    if callable(nouns):
        return nouns
    raise ValueError(f"nouns must be 'heuristic', 'spacy' or a callable, got {nouns!r}")


def get_type_reward(
    purchased_product: Mapping[str, Any], goal: Mapping[str, Any], nouns: Nouns = "heuristic"
) -> dict[str, Any]:
    """Type score and parts: ``r_type``, ``query_match``, ``category_match``, ``title_score``.

    ``nouns`` picks the noun tagger of the title score (see the module doc).
    """
    tag = _tagger(nouns)
    query_match = purchased_product["query"] == goal["query"]
    bought_levels = {x.strip() for x in purchased_product["product_category"].split("›")}
    goal_levels = {x.strip() for x in goal["product_category"].split("›")}
    category_match = len(bought_levels & goal_levels) >= 2

    bought_nouns = tag(purchased_product["name"])
    goal_nouns = tag(goal["name"])
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
    purchased_options: Sequence[str], goal_options: Sequence[str | tuple[str, str]]
) -> tuple[float | None, int]:
    """``(matched / len(goal_options) or None without goal options, number matched)``.

    Upstream's arguments: the purchased option *values*, and the goal options as ``get_reward``
    passes them: a list of values, or for a dict goal its ``(name, value)`` pairs (the quirk in
    the module doc). A goal option is matched, once, when some purchased value has token-set
    ratio > 85 with it after colour normalisation of both.
    """
    bought = [normalize_color(o) for o in purchased_options]
    wanted = [normalize_color(o) for o in goal_options]
    n_matched = sum(1 for g in wanted if any(fuzzy_ratio(p, g) > FUZZY_CUTOFF for p in bought))
    r_option = n_matched / len(wanted) if wanted else None
    return r_option, n_matched


def _option_reward_env_v1(
    purchased_product: Mapping[str, Any],
    goal_options: Sequence[str],
    purchased_options: Mapping[str, str],
) -> tuple[float | None, int]:
    # WebShop env_version 1's rule (module doc), kept so published episodes replay unchanged.
    chosen = {k: str(normalize_color(v)) for k, v in purchased_options.items()}
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
    *,
    nouns: Nouns = "heuristic",
    option_rule: OptionRule = "upstream",
) -> float: ...


@overload
def get_reward(
    purchased_product: Mapping[str, Any],
    goal: Mapping[str, Any],
    price: float,
    options: Mapping[str, str],
    verbose: Literal[True],
    *,
    nouns: Nouns = "heuristic",
    option_rule: OptionRule = "upstream",
) -> tuple[float, dict[str, Any]]: ...


def get_reward(
    purchased_product: Mapping[str, Any],
    goal: Mapping[str, Any],
    price: float,
    options: Mapping[str, str],
    verbose: bool = False,
    *,
    nouns: Nouns = "heuristic",
    option_rule: OptionRule = "upstream",
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
        nouns: the type score's noun tagger: ``"heuristic"`` (offline default), ``"spacy"``
            (upstream's ``en_core_web_sm``; needs the ``[webshop-spacy]`` extra) or a callable.
        option_rule: ``"upstream"`` (default: upstream ``master``, quirks included) or
            ``"env-v1"`` (what WebShop env_version 1 and its published results use).

    Returns:
        The total in [0, 1] (above 1 only in env-v1's over-counting case), or ``(total, info)`` with ``r_type``, ``r_att``, ``w_att``, ``query_match``,
        ``category_match``, ``title_score``, ``r_option``/``w_option`` (only when the goal has
        options) and ``r_price``/``w_price``.

    Raises:
        ValueError: where upstream would crash (see :func:`_check_inputs`).
        ImportError: ``nouns="spacy"`` without spaCy or ``en_core_web_sm`` (names the extra).
    """
    _check_inputs(purchased_product, goal, price, options)
    type_info = get_type_reward(purchased_product, goal, nouns)
    r_price = price <= goal["price_upper"]
    r_att, n_att = get_attribute_reward(purchased_product, goal)
    goal_options = goal["goal_options"]
    if option_rule == "upstream":
        # Upstream passes a dict's items(), not its values(): the pairs are what gets matched.
        pairs = list(goal_options.items()) if isinstance(goal_options, Mapping) else goal_options
        r_option, n_opt = get_option_reward(list(options.values()), list(pairs))
    elif option_rule == "env-v1":
        values = goal_options.values() if isinstance(goal_options, Mapping) else goal_options
        r_option, n_opt = _option_reward_env_v1(purchased_product, list(values), options)
    else:
        raise ValueError(f"option_rule must be 'upstream' or 'env-v1', got {option_rule!r}")

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
