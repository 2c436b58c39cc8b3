"""Our own deterministic WebShop catalogue: products and goals with no download.

Products are drawn per product type (a category, an Amazon-like breadcrumb, a search query, a noun,
a pool of attribute phrases, option groups and a price range) with invented brand names. Each
product gets a few attributes of its type's pool (written into its title or bullet points and
listed in ``Attributes``), a subset of each option group's values and a price; several products of
one type differ only in those, so the attributes and options a goal names are what tell them apart.

Goals are built as upstream's synthetic goals are (attributes, one value per option group, the
upstream price bound), a few per product. Everything is a function of ``seed`` alone (numpy
generators seeded from hashes), so every machine gets the same catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from proxmo_bench.envs.webshop.goals import price_bound
from proxmo_bench.envs.webshop.products import stable_rng

COLORS = (
    "black",
    "white",
    "navy blue",
    "red",
    "grey",
    "pink",
    "green",
    "beige",
    "brown",
    "purple",
    "yellow",
    "light blue",
)
CLOTHING_SIZES = ("x-small", "small", "medium", "large", "x-large", "xx-large")
SHOE_SIZES = ("6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "11", "12")


@dataclass(frozen=True)
class ProductType:
    """One kind of product: where it sits, how it is searched, what can differ between items."""

    category: str
    breadcrumb: str
    query: str
    noun: str
    attributes: tuple[str, ...]
    options: tuple[tuple[str, tuple[str, ...]], ...]
    price: tuple[float, float]
    descriptors: tuple[str, ...]


def _t(
    category: str,
    breadcrumb: str,
    query: str,
    noun: str,
    attributes: str,
    options: dict[str, tuple[str, ...]],
    price: tuple[float, float],
    descriptors: str,
) -> ProductType:
    return ProductType(
        category,
        breadcrumb,
        query,
        noun,
        tuple(attributes.split(";")),
        tuple(options.items()),
        price,
        tuple(descriptors.split(";")),
    )


PRODUCT_TYPES: tuple[ProductType, ...] = (
    _t(
        "beauty",
        "Beauty & Personal Care › Hair Care › Shampoo & Conditioner › Shampoos",
        "shampoo & conditioner",
        "shampoo",
        "sulfate free;paraben free;damaged hair;dry hair;natural ingredients;long lasting;"
        "color safe;cruelty free",
        {
            "size": ("8 fl oz", "13.5 fl oz", "16 fl oz", "33.8 fl oz"),
            "scent": ("coconut", "lavender", "argan oil", "tea tree"),
        },
        (6, 45),
        "for women and men;daily moisturizing;salon formula",
    ),
    _t(
        "beauty",
        "Beauty & Personal Care › Skin Care › Face › Creams & Moisturizers",
        "face moisturizer",
        "face moisturizer",
        "fine lines;sensitive skin;hyaluronic acid;oil free;fragrance free;dark spots;"
        "cruelty free;long lasting",
        {"size": ("1 fl oz", "1.7 fl oz", "2.5 fl oz")},
        (9, 70),
        "day and night cream;anti aging;lightweight gel",
    ),
    _t(
        "beauty",
        "Beauty & Personal Care › Makeup › Lips › Lipstick",
        "lips makeup",
        "lipstick",
        "long lasting;highly pigmented;cruelty free;paraben free;easy apply;vegan formula",
        {"color": ("ruby red", "nude pink", "berry", "coral", "mauve", "plum")},
        (5, 35),
        "matte finish;satin finish;liquid velvet",
    ),
    _t(
        "beauty",
        "Beauty & Personal Care › Personal Care › Deodorants & Antiperspirants",
        "deodorant",
        "deodorant",
        "aluminum free;sensitive skin;long lasting;natural ingredients;travel size;"
        "baking soda free",
        {
            "scent": ("bright citrus", "lavender", "unscented", "cedarwood"),
            "size": ("2.65 ounce", "3 pack", "travel set"),
        },
        (6, 30),
        "stick for women;clear gel;all day protection",
    ),
    _t(
        "fashion",
        "Clothing, Shoes & Jewelry › Women › Clothing › Dresses › Casual",
        "women's dresses",
        "dress",
        "machine wash;hand wash;short sleeve;long sleeve;polyester spandex;relaxed fit;"
        "elastic waist;button closure",
        {"color": COLORS, "size": CLOTHING_SIZES},
        (18, 60),
        "summer floral;casual swing;v neck midi",
    ),
    _t(
        "fashion",
        "Clothing, Shoes & Jewelry › Men › Clothing › Shirts › T-Shirts",
        "men's t-shirts",
        "t-shirt",
        "machine wash;cotton spandex;classic fit;short sleeve;moisture wicking;quick drying;"
        "tumble dry;slim fit",
        {"color": COLORS, "size": CLOTHING_SIZES},
        (9, 35),
        "crew neck;athletic workout;graphic tee",
    ),
    _t(
        "fashion",
        "Clothing, Shoes & Jewelry › Women › Shoes › Fashion Sneakers",
        "women's sneakers",
        "sneaker",
        "non slip;rubber sole;memory foam;lace closure;arch support;breathable mesh;lightweight",
        {"color": COLORS, "size": SHOE_SIZES},
        (25, 90),
        "walking shoes;running trainers;slip on",
    ),
    _t(
        "fashion",
        "Clothing, Shoes & Jewelry › Men › Clothing › Fashion Hoodies & Sweatshirts",
        "men's hoodies",
        "hoodie",
        "machine wash;drawstring closure;long sleeve;fleece lined;zip up;polyester cotton;"
        "regular fit",
        {"color": COLORS, "size": CLOTHING_SIZES},
        (20, 65),
        "pullover sweatshirt;heavyweight;athletic",
    ),
    _t(
        "electronics",
        "Electronics › Headphones, Earbuds & Accessories › Headphones",
        "headphones",
        "headphones",
        "noise cancelling;wireless bluetooth;long battery life;hands free;fast charging;"
        "high fidelity;easy carry",
        {"color": ("black", "white", "silver", "rose gold", "navy blue")},
        (20, 180),
        "over ear;on ear;foldable",
    ),
    _t(
        "electronics",
        "Electronics › Accessories & Supplies › Audio & Video Accessories › "
        "Cables & Interconnects › HDMI Cables",
        "hdmi cables",
        "hdmi cable",
        "high speed;gold plated;4k ultra hd;ethernet;easy install;braided nylon",
        {"size": ("3 feet", "6 feet", "10 feet", "15 feet", "25 feet")},
        (6, 40),
        "2.0 cord;8k ready;for tv and monitor",
    ),
    _t(
        "electronics",
        "Cell Phones & Accessories › Cases, Holsters & Sleeves › Basic Cases",
        "phone cases",
        "phone case",
        "shock absorbing;wireless charging;slim fit;easy install;heavy duty;scratch resistant",
        {
            "color": ("clear", "black", "blue", "pink", "purple", "green"),
            "size": ("iphone 13", "iphone 14", "iphone 15", "galaxy s23"),
        },
        (7, 30),
        "protective cover;tpu bumper;with card holder",
    ),
    _t(
        "electronics",
        "Electronics › Portable Audio & Video › Portable Speakers & Docks",
        "bluetooth speakers",
        "bluetooth speaker",
        "wireless bluetooth;water resistant;long battery life;easy carry;stereo sound;"
        "built in microphone",
        {"color": ("black", "blue", "red", "grey", "teal")},
        (18, 120),
        "portable outdoor;mini;party",
    ),
    _t(
        "grocery",
        "Grocery & Gourmet Food › Beverages › Coffee, Tea & Cocoa › Coffee",
        "coffee",
        "coffee",
        "gluten free;non gmo;usda organic;fair trade;medium roast;dark roast;low acid",
        {
            "size": ("12 ounce", "2 pound", "pack of 2", "pack of 6"),
            "flavor name": ("original", "vanilla", "hazelnut", "french roast"),
        },
        (8, 45),
        "whole bean;ground;single origin",
    ),
    _t(
        "grocery",
        "Grocery & Gourmet Food › Snacks & Sweets › Snack Foods › Bars",
        "protein bars",
        "protein bar",
        "gluten free;low sugar;high protein;non gmo;keto friendly;plant based;individually wrapped",
        {
            "flavor name": ("chocolate chip", "peanut butter", "almond", "cookie dough"),
            "size": ("pack of 12", "pack of 24"),
        },
        (12, 40),
        "snack bars;meal replacement;crispy",
    ),
    _t(
        "grocery",
        "Grocery & Gourmet Food › Pantry Staples › Sauces, Gravies & Marinades",
        "pasta sauce",
        "pasta sauce",
        "gluten free;non gmo;no sugar added;low sodium;usda organic;vegan;ready to eat",
        {
            "flavor name": ("marinara", "basil pesto", "tomato basil", "arrabbiata"),
            "size": ("24 ounce", "pack of 3"),
        },
        (5, 30),
        "italian style;jarred;slow simmered",
    ),
    _t(
        "garden",
        "Home & Kitchen › Furniture › Living Room Furniture › Tables › Console Tables",
        "console tables",
        "console table",
        "easy assembly;solid wood;storage space;living room;metal frame;space saving;"
        "engineered wood",
        {"color": ("rustic brown", "black", "white", "walnut", "grey wash")},
        (60, 350),
        "entryway sofa table;narrow hallway;farmhouse",
    ),
    _t(
        "garden",
        "Home & Kitchen › Furniture › Home Office Furniture › Chairs",
        "office chairs",
        "office chair",
        "lumbar support;height adjustable;easy assembly;high back;pu leather;heavy duty;mesh back",
        {"color": ("black", "white", "grey", "blue", "pink")},
        (50, 300),
        "ergonomic desk chair;swivel task chair;executive",
    ),
    _t(
        "garden",
        "Home & Kitchen › Bedding › Decorative Pillows, Inserts & Covers",
        "decorative pillows",
        "pillow covers",
        "machine wash;zipper closure;living room;double sided;soft velvet;farmhouse style",
        {"color": COLORS, "size": ("16 x 16 inch", "18 x 18 inch", "20 x 20 inch")},
        (8, 35),
        "throw pillow cases;set of 2;cushion covers",
    ),
    _t(
        "garden",
        "Tools & Home Improvement › Lighting & Ceiling Fans › Ceiling Lights › Pendant Lights",
        "pendant lights",
        "pendant light",
        "easy install;dining room;living room;glass shade;adjustable height;dimmable led",
        {"color": ("black", "gold", "brushed nickel", "bronze")},
        (25, 200),
        "hanging light fixture;farmhouse chandelier;modern",
    ),
)

_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ren",
    "tas",
    "vo",
    "zen",
    "bri",
    "cor",
    "dal",
    "fen",
    "gri",
    "hol",
    "jun",
    "kev",
    "lum",
    "nor",
    "pax",
    "quin",
    "sol",
    "tor",
    "vel",
    "wyn",
    "xan",
)
_REVIEW_TITLES = (
    "Great value",
    "Works as described",
    "Not what I expected",
    "Love it",
    "Decent for the price",
    "Would buy again",
)


def _brand(rng: np.random.Generator) -> str:
    n = int(rng.integers(2, 4))
    return "".join(str(s) for s in rng.choice(_SYLLABLES, size=n)).upper()


def _asin(index: int, seed: int) -> str:
    digest = stable_rng("asin", seed, index).integers(0, 36, size=8)
    chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "B0" + "".join(chars[int(d)] for d in digest)


def _product(index: int, seed: int) -> dict[str, Any]:
    rng = stable_rng("product", seed, index)
    kind = PRODUCT_TYPES[int(rng.integers(len(PRODUCT_TYPES)))]
    brand = _brand(rng)
    n_attr = int(rng.integers(2, 5))
    attrs = [
        kind.attributes[int(i)]
        for i in sorted(
            rng.choice(len(kind.attributes), size=min(n_attr, len(kind.attributes)), replace=False)
        )
    ]
    in_title = attrs[: max(1, len(attrs) // 2)]
    descriptor = kind.descriptors[int(rng.integers(len(kind.descriptors)))]
    title = f"{brand} {descriptor.title()} {kind.noun.title()}, " + ", ".join(
        a.title() for a in in_title
    )
    options: dict[str, list[str]] = {}
    for name, pool in kind.options:
        k = int(rng.integers(2, min(6, len(pool)) + 1))
        options[name] = [pool[int(i)] for i in sorted(rng.choice(len(pool), size=k, replace=False))]
    low, high = kind.price
    price = round(float(rng.uniform(low, high)), 2)
    bullets = [f"{a.upper()}: this {kind.noun} is {a}, made for everyday use." for a in attrs]
    bullets.append(f"WHAT YOU GET: one {brand} {kind.noun} ({descriptor}) and a 30-day guarantee.")
    rng.shuffle(bullets)
    n_reviews = int(rng.integers(0, 4))
    scores = [int(rng.integers(2, 6)) for _ in range(n_reviews)]
    reviews = [
        {
            "title": _REVIEW_TITLES[int(rng.integers(len(_REVIEW_TITLES)))],
            "score": score,
            "body": f"The {kind.noun} arrived quickly; {attrs[0]} as promised.",
        }
        for score in scores
    ]
    rating: float | str = round(sum(scores) / len(scores), 1) if scores else "N.A."
    return {
        "asin": _asin(index, seed),
        "name": title,
        "category": kind.category,
        "query": kind.query,
        "product_category": kind.breadcrumb,
        "Title": title,
        "Description": f"{brand} {kind.noun}: {descriptor}. "
        + " ".join(f"It is {a}." for a in attrs[len(in_title) :]),
        "BulletPoints": bullets,
        "Reviews": reviews,
        "Rating": rating,
        "pricing": [price],
        "Price": f"${price}",
        "options": options,
        "Attributes": attrs,
        "MainImage": "",
    }


def generate_products(n_products: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """``n_products`` products in upstream's internal format; a function of ``seed`` alone."""
    if n_products <= 0:
        raise ValueError(f"n_products must be positive, got {n_products}")
    products = [_product(i, seed) for i in range(n_products)]
    seen: set[str] = set()
    for i, p in enumerate(products):
        while p["asin"] in seen:  # astronomically rare; keeps ASINs unique regardless
            p["asin"] = _asin(i + 7919 * (len(seen) + 1), seed)
        seen.add(p["asin"])
    return products


def generate_goals(
    products: list[dict[str, Any]],
    prices: dict[str, float],
    goals_per_product: int = 2,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """Synthetic-style goals: 1-3 of a product's attributes and one value per option group."""
    goals: list[dict[str, Any]] = []
    for product in products:
        seen_texts: set[str] = set()
        for j in range(goals_per_product):
            rng = stable_rng("goal", seed, product["asin"], j)
            attrs = product["Attributes"]
            k = int(rng.integers(1, min(3, len(attrs)) + 1))
            chosen_attrs = [
                attrs[int(i)] for i in sorted(rng.choice(len(attrs), size=k, replace=False))
            ]
            goal_options = {
                name: values[int(rng.integers(len(values)))]
                for name, values in sorted(product["options"].items())
            }
            upper, price_text = price_bound(prices[product["asin"]], product["asin"], "gen", j)
            option_text = ", and ".join(f"{k2}: {v}" for k2, v in goal_options.items())
            noun = product["name"].split(",")[0].split(" ", 1)[1].lower()
            instruction = (
                f"i am looking for a {noun} that is {' and '.join(chosen_attrs)}"
                + (f" with {option_text}" if option_text else "")
                + price_text
            )
            if instruction in seen_texts:
                continue
            seen_texts.add(instruction)
            goals.append(
                {
                    "asin": product["asin"],
                    "category": product["category"],
                    "query": product["query"],
                    "name": product["Title"],
                    "product_category": product["product_category"],
                    "instruction_text": instruction,
                    "attributes": chosen_attrs,
                    "price_upper": upper,
                    "goal_options": goal_options,
                    "weight": 1,
                }
            )
    return goals
