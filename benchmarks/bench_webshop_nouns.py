"""Agreement of WebShop's offline noun heuristic with a spaCy tagger (upstream's type score).

Upstream's type score keeps the NOUN/PROPN tokens that spaCy tags in product names. This script
measures, on product names, how often :func:`proxmo_bench.envs.webshop.nouns.is_noun` agrees
with a spaCy pipeline token by token (on spaCy's tokens), and how often the type score ``r_type``
of :func:`get_type_reward` is the same under both taggers, over all ordered pairs of products.

spaCy models are not a dependency of proxmo-bench; pass the folder of an installed or unpacked
pipeline (e.g. ``en_core_web_sm`` 3.8) with ``--spacy-model``. Names come from the generated
catalogue and, with ``--data-dir`` (or ``WEBSHOP_DATA``), from upstream's product file.

    python benchmarks/bench_webshop_nouns.py --spacy-model PATH [--data-dir DIR] [--n 300]
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any
from unittest import mock

from proxmo_bench.envs.webshop import reward
from proxmo_bench.envs.webshop.catalogue import load_catalogue
from proxmo_bench.envs.webshop.nouns import is_noun

NOUN_TAGS = ("NOUN", "PROPN")


def token_agreement(nlp: Any, names: list[str]) -> tuple[float, int]:
    """Fraction of spaCy tokens whose noun/not-noun call the heuristic shares, and the count."""
    agree = total = 0
    for doc in nlp.pipe(names):
        for tok in doc:
            total += 1
            agree += (tok.pos_ in NOUN_TAGS) == is_noun(tok.text)
    return agree / max(1, total), total


def r_type_agreement(nlp: Any, products: list[dict[str, Any]]) -> tuple[float, int]:
    """Fraction of ordered product pairs whose ``r_type`` is the same under both taggers."""
    cache = {
        d.text: [t.text.lower() for t in d if t.pos_ in NOUN_TAGS]
        for d in nlp.pipe(sorted({p["name"] for p in products}))
    }
    heuristic = [reward.get_type_reward(a, b)["r_type"] for a in products for b in products]
    with mock.patch.object(reward, "noun_tokens", lambda text: cache[text]):
        spacy_based = [reward.get_type_reward(a, b)["r_type"] for a in products for b in products]
    same = sum(x == y for x, y in zip(heuristic, spacy_based, strict=True))
    return same / len(heuristic), len(heuristic)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spacy-model", default=os.environ.get("SPACY_MODEL_PATH"))
    parser.add_argument("--data-dir", default=os.environ.get("WEBSHOP_DATA"))
    parser.add_argument("--n", type=int, default=300, help="generated products to use")
    args = parser.parse_args(argv)
    if not args.spacy_model:
        print("no spaCy pipeline given (--spacy-model or SPACY_MODEL_PATH); nothing measured")
        return 0
    import spacy

    nlp = spacy.load(args.spacy_model)
    sets: dict[str, list[dict[str, Any]]] = {
        "generated": load_catalogue("generated").products[: args.n]
    }
    if args.data_dir:
        sets["official"] = load_catalogue(
            "official", data_dir=args.data_dir, goals="attributes"
        ).products
    print(f"spaCy pipeline: {nlp.meta.get('name')} {nlp.meta.get('version')}")
    for label, products in sets.items():
        tok, n_tok = token_agreement(nlp, [p["name"] for p in products])
        pair, n_pair = r_type_agreement(nlp, products)
        print(
            f"{label:10s} names={len(products):4d}  token agreement {tok:.3f} ({n_tok} tokens)"
            f"  r_type agreement {pair:.3f} ({n_pair} pairs)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
