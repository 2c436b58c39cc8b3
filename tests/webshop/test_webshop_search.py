"""BM25 search settings: Lucene variant, stopwords, stemming, 1-char tokens, top 50, ties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from proxmo_bench.envs.webshop.catalogue import load_catalogue
from proxmo_bench.envs.webshop.search import SEARCH_RETURN_N, SearchIndex


def item(asin: str, title: str, options: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {
        "asin": asin,
        "Title": title,
        "Description": "",
        "BulletPoints": [],
        "options": options or {},
    }


def test_stemming_stopwords_and_one_char_tokens() -> None:
    index = SearchIndex(
        [
            item("A1", "running shoes for men"),
            item("A2", "t shirt x large"),
            item("A3", "coffee beans"),
        ]
    )
    assert index.search("run shoe") == ["A1"]  # Porter stems: running -> run, shoes -> shoe
    assert index.search("x") == ["A2"]  # one-character tokens are kept
    assert index.search("for the and") == []  # stopwords only: nothing matches
    assert index.search("") == []


def test_options_are_indexed_and_ties_follow_catalogue_order() -> None:
    index = SearchIndex(
        [
            item("A1", "mug"),
            item("A2", "mug"),
            item("A3", "plate", {"color": ["navy"]}),
        ]
    )
    assert index.search("mug") == ["A1", "A2"]
    assert index.search("navy") == ["A3"]


def test_top_fifty_and_cached_index() -> None:
    cat = load_catalogue("generated")
    hits = cat.search("shampoo sulfate free")
    assert len(hits) == SEARCH_RETURN_N
    assert all("shampoo" in p["Title"].lower() for p in hits[:10])
    assert cat.index is cat.index
    assert load_catalogue("generated") is cat  # one catalogue (and index) per configuration


def test_index_saved_and_loaded_from_disk(tmp_path: Path) -> None:
    products = load_catalogue("generated").products[:200]
    built = SearchIndex(products, cache_dir=tmp_path)
    assert not built.loaded_from_cache and len(list(tmp_path.iterdir())) == 1
    loaded = SearchIndex(products, cache_dir=tmp_path)
    assert loaded.loaded_from_cache
    for query in ("sulfate free shampoo", "x large hoodie navy blue", "4k hdmi cable 6 feet"):
        assert loaded.search(query) == built.search(query) != []
    changed = SearchIndex(products[:100], cache_dir=tmp_path)  # other documents: other key
    assert not changed.loaded_from_cache and len(list(tmp_path.iterdir())) == 2


def test_query_terms_beyond_the_clause_bound_are_not_scored() -> None:
    from proxmo_bench.envs.webshop.search import MAX_QUERY_TERMS

    index = SearchIndex([item("A1", "mug"), item("A2", "plate"), item("A3", "mug plate")])
    head = "mug " * MAX_QUERY_TERMS
    assert index.search(head + "plate " * 50) == index.search(head) == ["A1", "A3"]
    assert "A2" in index.search("plate " + head)  # a term within the bound is scored
