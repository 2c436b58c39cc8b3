"""A WebShop catalogue: products, their prices, the split goals and the search index.

:func:`load_catalogue` builds one per distinct configuration and caches it in the process, so
every env (and every reset) of a rollout group shares the products and the BM25 index.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Any

from proxmo_bench.envs.webshop.generator import generate_goals, generate_products
from proxmo_bench.envs.webshop.goals import TEST_SIZE, split_goals
from proxmo_bench.envs.webshop.official import load_official, resolve_data_dir
from proxmo_bench.envs.webshop.products import product_prices
from proxmo_bench.envs.webshop.search import SearchIndex

SOURCES = ("generated", "official")


@dataclass
class Catalogue:
    """Products (upstream internal format), prices paid, goals per split, and search."""

    products: list[dict[str, Any]]
    prices: dict[str, float]
    goals: dict[str, list[dict[str, Any]]]
    description: str
    index_cache_dir: str | None = None
    by_asin: dict[str, dict[str, Any]] = field(init=False)
    _index: SearchIndex | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_asin = {p["asin"]: p for p in self.products}

    @property
    def index(self) -> SearchIndex:
        """The BM25 index, built on first use."""
        if self._index is None:
            self._index = SearchIndex(self.products, self.index_cache_dir)
        return self._index

    def search(self, query: str) -> list[dict[str, Any]]:
        """The top-50 products for ``query``, best first."""
        return [self.by_asin[a] for a in self.index.search(query)]


@functools.lru_cache(maxsize=8)
def _cached(
    source: str,
    data_dir: str | None,
    goals: str,
    num_products: int | None,
    n_products: int,
    seed: int,
    test_size: int,
    index_cache_dir: str | None,
) -> Catalogue:
    if source == "generated":
        products = generate_products(n_products, seed)
        prices = product_prices(products)
        goal_list = generate_goals(products, prices, seed=seed)
        description = f"generated:seed={seed}:n={n_products}"
    else:
        products, prices, goal_list, description = load_official(
            data_dir, goals=goals, num_products=num_products
        )
    split = split_goals(goal_list, test_size)
    return Catalogue(products, prices, split, description, index_cache_dir)


def load_catalogue(
    source: str = "generated",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    goals: str = "auto",
    num_products: int | None = None,
    n_products: int = 1000,
    seed: int = 0,
    test_size: int = TEST_SIZE,
    index_cache_dir: str | os.PathLike[str] | None = None,
) -> Catalogue:
    """The catalogue for a configuration (cached per process).

    Args:
        source: ``"generated"`` (our catalogue, no download) or ``"official"`` (upstream files).
        data_dir: folder of the official files (default ``$WEBSHOP_DATA``).
        goals: official goal mode (see :mod:`proxmo_bench.envs.webshop.official`).
        num_products: official: use only the first N products of the file (upstream's option).
        n_products: generated: how many products.
        seed: generated: the catalogue's seed.
        test_size: goals in the test split (upstream: 500).
        index_cache_dir: folder to save/load the BM25 index (default ``$WEBSHOP_INDEX_CACHE``).
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {list(SOURCES)}, got {source!r}")
    resolved = str(resolve_data_dir(data_dir).resolve()) if source == "official" else None
    cache = str(index_cache_dir) if index_cache_dir is not None else None
    return _cached(source, resolved, goals, num_products, n_products, seed, test_size, cache)
