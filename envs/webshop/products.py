"""Products in upstream WebShop's internal format, built from the scraped product dicts.

Upstream's ``engine.load_products`` turns each raw dict of ``items_shuffle*.json`` into the form the
pages and the reward read: ``Title`` (= ``name``), ``Description`` (= ``full_description``),
``BulletPoints`` (= ``small_description`` as a list), ``pricing`` (list of floats) and ``Price``
(its tag), ``options`` (lowercased option name -> lowercased values with ``/`` written `` | ``),
``Attributes`` (from ``items_ins_v2``; ``["DUMMY_ATTR"]`` without an annotation), ``Reviews`` and
``Rating`` (from the reviews file, absent here: ``[]`` and ``"N.A."``), ``MainImage`` and a
lowercased ``query``. Duplicate ASINs and ASINs that are ``"nan"`` or longer than 10 characters
are skipped, as upstream does.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

#: Raw product fields the conversion reads; a missing one is a data error naming the file.
REQUIRED_FIELDS: tuple[str, ...] = (
    "asin",
    "name",
    "query",
    "category",
    "product_category",
    "full_description",
    "small_description",
    "pricing",
    "customization_options",
    "images",
)

DUMMY_ATTRIBUTE = "DUMMY_ATTR"
DEFAULT_PRICE = 100.0


class DataError(ValueError):
    """A data file is malformed; the message names the file and the field."""


def stable_rng(*key: object) -> np.random.Generator:
    """A generator seeded from a hash of ``key``: the same on every machine and Python run."""
    digest = hashlib.sha256(repr(key).encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def parse_pricing(text: str, where: str) -> tuple[list[float], str]:
    """Upstream's price parsing: ``"$19.99$27.99"`` -> ``([19.99, 27.99], "$19.99 to $27.99")``."""
    if not text:
        return [DEFAULT_PRICE], f"${DEFAULT_PRICE}"
    prices: list[float] = []
    for part in text.split("$")[1:]:
        digits = re.sub(r"[^\d.]", "", part)
        try:
            prices.append(float(Decimal(digits)))
        except InvalidOperation:
            raise DataError(f"{where}: field 'pricing' has an unreadable price {text!r}") from None
    if not prices:
        raise DataError(f"{where}: field 'pricing' has no '$' price in {text!r}")
    if len(prices) == 1:
        return prices, f"${prices[0]}"
    return prices[:2], f"${prices[0]} to ${prices[1]}"


def parse_options(raw: Any, where: str) -> dict[str, list[str]]:
    """Option groups from ``customization_options`` (``""`` or name -> list of option dicts)."""
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise DataError(f"{where}: field 'customization_options' must be a dict or \"\"")
    options: dict[str, list[str]] = {}
    for name, contents in raw.items():
        if contents is None:
            continue
        if not isinstance(contents, list):
            raise DataError(f"{where}: customization_options[{name!r}] must be a list")
        values: list[str] = []
        for item in contents:
            if not isinstance(item, dict) or "value" not in item:
                raise DataError(f"{where}: customization_options[{name!r}] entries need a 'value'")
            if item["value"] is None:
                continue
            values.append(str(item["value"]).strip().replace("/", " | ").lower())
        options[str(name).lower()] = values
    return options


def convert_products(
    raw_products: list[Any],
    *,
    source_file: str,
    annotations: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Raw scraped product dicts -> upstream's internal product dicts, in file order.

    Args:
        raw_products: the list read from ``items_shuffle*.json``.
        source_file: the file name, for error messages.
        annotations: ``items_ins_v2*.json`` content (asin -> ``attributes``, ``instruction``,
            ``instruction_attributes``), or None.

    Raises:
        DataError: a product misses a required field or has one of the wrong type.
    """
    products: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_products):
        where = f"{source_file}: product #{i}"
        if not isinstance(raw, dict):
            raise DataError(f"{where} must be a JSON object, got {type(raw).__name__}")
        for key in REQUIRED_FIELDS:
            if key not in raw:
                raise DataError(f"{where} (asin {raw.get('asin', '?')!r}) has no field {key!r}")
        asin = raw["asin"]
        if not isinstance(asin, str):
            raise DataError(f"{where}: field 'asin' must be a string")
        if asin == "nan" or len(asin) > 10 or asin in seen:
            continue
        seen.add(asin)
        where = f"{source_file}: product {asin}"
        for key in ("name", "query", "category", "product_category", "full_description"):
            if not isinstance(raw[key], str):
                raise DataError(f"{where}: field {key!r} must be a string")
        bullets = raw["small_description"]
        if isinstance(bullets, str):
            bullets = [bullets]
        if not isinstance(bullets, list) or not all(isinstance(b, str) for b in bullets):
            raise DataError(f"{where}: field 'small_description' must be a list of strings")
        if not isinstance(raw["pricing"], str):
            raise DataError(f"{where}: field 'pricing' must be a string like '$12.99'")
        pricing, price_tag = parse_pricing(raw["pricing"], where)
        images = raw["images"]
        if not isinstance(images, list) or not images:
            raise DataError(f"{where}: field 'images' must be a non-empty list")
        note = (annotations or {}).get(asin)
        attributes = note.get("attributes") if isinstance(note, dict) else None
        product: dict[str, Any] = {
            "asin": asin,
            "name": raw["name"],
            "category": raw["category"],
            "query": raw["query"].lower().strip(),
            "product_category": raw["product_category"],
            "Title": raw["name"],
            "Description": raw["full_description"],
            "BulletPoints": list(bullets),
            "Reviews": [],
            "Rating": "N.A.",
            "pricing": pricing,
            "Price": price_tag,
            "options": parse_options(raw["customization_options"], where),
            "Attributes": list(attributes) if attributes else [DUMMY_ATTRIBUTE],
            "MainImage": images[0],
        }
        if isinstance(note, dict):
            product["instruction_text"] = note.get("instruction")
            product["instruction_attributes"] = note.get("instruction_attributes")
        products.append(product)
    return products


def product_prices(products: list[dict[str, Any]]) -> dict[str, float]:
    """The price paid for each product: its single price, or a draw between its low and high.

    Upstream draws the range price with the global ``random`` at start-up; here the draw is seeded
    by the ASIN, so a product's price is the same on every run.
    """
    prices: dict[str, float] = {}
    for p in products:
        pricing = p["pricing"]
        if not pricing:
            prices[p["asin"]] = DEFAULT_PRICE
        elif len(pricing) == 1:
            prices[p["asin"]] = float(pricing[0])
        else:
            low, high = float(pricing[0]), float(pricing[1])
            prices[p["asin"]] = float(stable_rng("price", p["asin"]).uniform(low, high))
    return prices


def search_document(product: dict[str, Any]) -> str:
    """The text upstream indexes for a product: title, description, first bullet, options."""
    option_text = ", and ".join(
        f"{name}: {', '.join(values)}" for name, values in product["options"].items()
    )
    bullets = product["BulletPoints"]
    return " ".join(
        [product["Title"], product["Description"], bullets[0] if bullets else "", option_text]
    ).lower()
