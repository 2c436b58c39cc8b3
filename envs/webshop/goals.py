"""Goals (what the shopper is asked to buy) and the fixed train/test split.

A goal is upstream's dict: ``asin``, ``category``, ``query``, ``name``, ``product_category``,
``instruction_text``, ``attributes``, ``price_upper``, ``goal_options`` and ``weight``. Three ways
to build them, all deterministic:

- :func:`human_goals`: upstream ``get_human_goals``: one goal per crowd-sourced instruction of a
  product in the catalogue, skipping instructions without ``instruction_attributes``.
- :func:`synthetic_goals`: upstream ``get_synthetic_goals``: per product with an ``items_ins_v2``
  instruction, one goal per combination of its option values.
- :func:`attribute_goals`: ours, for catalogues with neither: attributes are phrases of a given
  vocabulary found in the product's text, one option value per option group; the instruction
  is written from the product's query in the synthetic goals' style.

The price bound follows upstream: of the multiples of 10 above the product's price, take the first
four; with at least two, the larger of two drawn ones is the bound (and the instruction says
"and price lower than X dollars"); otherwise the bound is 1,000,000 and nothing is said. The draw
is seeded by the goal's identity instead of the global ``random``.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from typing import Any

from proxmo_bench.envs.webshop.products import stable_rng

PRICE_RANGE: tuple[float, ...] = tuple(10.0 * i for i in range(1, 100))
NO_PRICE_LIMIT = 1_000_000
#: Upstream shuffles the goal list with ``random.seed(233)`` before taking the test split.
SPLIT_SHUFFLE_SEED = 233
TEST_SIZE = 500


def price_bound(price: float, *key: object) -> tuple[float, str]:
    """``(price_upper, instruction suffix)`` for a product of ``price``; ``key`` seeds the draw."""
    candidates = [p for p in PRICE_RANGE if p > price][:4]
    if len(candidates) < 2:
        return NO_PRICE_LIMIT, ""
    rng = stable_rng("price_upper", *key)
    picked = rng.choice(len(candidates), size=2, replace=False)
    upper = max(candidates[int(i)] for i in picked)
    return upper, f", and price lower than {upper:.2f} dollars"


def _base(product: dict[str, Any]) -> dict[str, Any]:
    return {
        "asin": product["asin"],
        "category": product["category"],
        "query": product["query"],
        "name": product["name"],
        "product_category": product["product_category"],
    }


def human_goals(
    products: list[dict[str, Any]], prices: dict[str, float], instructions: dict[str, Any]
) -> list[dict[str, Any]]:
    """One goal per human instruction (``instructions``: asin -> list of instruction dicts)."""
    goals: list[dict[str, Any]] = []
    for product in products:
        for j, ins in enumerate(instructions.get(product["asin"], [])):
            attributes = ins["instruction_attributes"]
            if not attributes:
                continue
            upper, price_text = price_bound(prices[product["asin"]], product["asin"], "human", j)
            goals.append(
                {
                    **_base(product),
                    "instruction_text": ins["instruction"].strip(".") + price_text,
                    "attributes": list(attributes),
                    "price_upper": upper,
                    "goal_options": list(ins["instruction_options"]),
                    "weight": 1,
                }
            )
    return goals


def _option_goals(
    product: dict[str, Any],
    prices: dict[str, float],
    instruction: str,
    attributes: list[str],
    combinations: list[dict[str, str]],
    kind: str,
) -> list[dict[str, Any]]:
    upper, price_text = price_bound(prices[product["asin"]], product["asin"], kind)
    goals = []
    for goal_options in combinations:
        option_text = ", and ".join(f"{k}: {v}" for k, v in goal_options.items())
        option_text = f" with {option_text}" if option_text else ""
        goals.append(
            {
                **_base(product),
                "name": product["Title"],
                "instruction_text": f"{instruction}{option_text}{price_text}",
                "attributes": list(attributes),
                "price_upper": upper,
                "goal_options": dict(goal_options),
            }
        )
    return goals


def _weigh_by_attribute_rarity(goals: list[dict[str, Any]]) -> None:
    count: dict[str, int] = defaultdict(int)
    for goal in goals:
        for att in goal["attributes"]:
            count[att] += 1
    for goal in goals:
        goal["weight"] = sum(1.0 / count[a] for a in goal["attributes"]) / len(goal["attributes"])


def synthetic_goals(
    products: list[dict[str, Any]], prices: dict[str, float]
) -> list[dict[str, Any]]:
    """Upstream's synthetic goals: every option combination of every annotated product."""
    goals: list[dict[str, Any]] = []
    for product in products:
        instruction = product.get("instruction_text")
        attributes = product.get("instruction_attributes")
        if not instruction or not attributes:
            continue
        names = sorted(product["options"])
        combos = [
            dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(product["options"][n] for n in names))
        ]
        goals += _option_goals(product, prices, instruction, list(attributes), combos, "synthetic")
    _weigh_by_attribute_rarity(goals)
    return goals


def attribute_goals(
    products: list[dict[str, Any]],
    prices: dict[str, float],
    vocabulary: list[str],
    *,
    max_attributes: int = 3,
) -> list[dict[str, Any]]:
    """Goals from attribute phrases found in each product's text (see the module doc).

    Products whose title, bullet points and description contain no phrase of ``vocabulary`` get
    no goal. The chosen attributes and option values are drawn with a generator seeded by the
    ASIN, so the goals are the same on every run.
    """
    phrases = sorted({v.strip().lower() for v in vocabulary if v and v.strip()})
    goals: list[dict[str, Any]] = []
    for product in products:
        text = " ".join(
            [product["Title"], " ".join(product["BulletPoints"]), product["Description"]]
        ).lower()
        found = [p for p in phrases if p in text]
        if not found:
            continue
        rng = stable_rng("attribute_goal", product["asin"])
        k = int(rng.integers(1, min(max_attributes, len(found)) + 1))
        attributes = [found[int(i)] for i in sorted(rng.choice(len(found), size=k, replace=False))]
        chosen = {
            name: values[int(rng.integers(len(values)))]
            for name, values in sorted(product["options"].items())
            if values
        }
        instruction = f"i am looking for {product['query']} that is {' and '.join(attributes)}"
        goals += _option_goals(product, prices, instruction, attributes, [chosen], "attribute")
    _weigh_by_attribute_rarity(goals)
    return goals


def split_goals(
    goals: list[dict[str, Any]], test_size: int = TEST_SIZE
) -> dict[str, list[dict[str, Any]]]:
    """Upstream's fixed split: shuffle with seed 233; test = the first ``test_size`` goals.

    The shuffle uses a private ``random.Random(233)``, which orders a list exactly as upstream's
    ``random.seed(233); random.shuffle(goals)`` does. When fewer than ``2 * test_size`` goals
    exist (sample data), the test split takes the first half so that train is never empty.
    """
    shuffled = list(goals)
    random.Random(SPLIT_SHUFFLE_SEED).shuffle(shuffled)
    n_test = min(test_size, len(shuffled) // 2) if len(shuffled) < 2 * test_size else test_size
    return {"test": shuffled[:n_test], "train": shuffled[n_test:]}
