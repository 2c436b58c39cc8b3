"""The saved BM25 index is checked at load: a tampered, partial or foreign one is rebuilt, with a warning."""

from __future__ import annotations

import json
import multiprocessing
import re
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bm25s
import pytest

from proxmo_bench.cache_digest import CacheRebuiltWarning, write_digest
from proxmo_bench.envs.webshop import search
from proxmo_bench.envs.webshop.catalogue import load_catalogue
from proxmo_bench.envs.webshop.products import search_document
from proxmo_bench.envs.webshop.search import (
    DIGEST_FILE,
    INDEX_CACHE,
    SearchIndex,
    check_saved_index,
    index_settings,
)

QUERIES = (
    "sulfate free shampoo",
    "x large hoodie navy blue",
    "4k hdmi cable 6 feet",
    "wireless bluetooth headphones",
    "organic green tea",
    "men running shoes size 10",
)


@pytest.fixture(scope="module")
def products() -> list[dict[str, Any]]:
    return load_catalogue("generated").products[:300]


@pytest.fixture(scope="module")
def fresh(products: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Results of an index built in memory (no cache): what every load must reproduce."""
    index = SearchIndex(products)
    results = {q: index.search(q) for q in QUERIES}
    assert sum(bool(r) for r in results.values()) >= 4
    return results


def results(index: SearchIndex) -> dict[str, list[str]]:
    return {q: index.search(q) for q in QUERIES}


def saved_folder(cache: Path) -> Path:
    (folder,) = [p for p in cache.iterdir() if p.name.startswith("bm25-")]
    return folder


def build(products: list[dict[str, Any]], cache: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheRebuiltWarning)
        index = SearchIndex(products, cache_dir=cache)
    assert not index.loaded_from_cache
    return saved_folder(cache)


def load_quietly(products: list[dict[str, Any]], cache: Path) -> SearchIndex:
    """Load the saved index; fails on a CacheRebuiltWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheRebuiltWarning)
        return SearchIndex(products, cache_dir=cache)


# ---- tampering -----------------------------------------------------------------------------------
def flip_bytes(folder: Path) -> None:
    data = folder / "data.csc.index.npy"
    raw = bytearray(data.read_bytes())
    for i in range(len(raw) - 64, len(raw) - 8, 4):  # scores of the last postings, past the header
        raw[i] ^= 0x5A
    data.write_bytes(bytes(raw))


def swap_vocabulary(folder: Path) -> None:
    """Give two frequent terms each other's ids: valid JSON, valid index, other search results."""
    vocab_file = folder / "vocab.index.json"
    vocab = json.loads(vocab_file.read_text())
    vocab["shampoo"], vocab["hoodi"] = vocab["hoodi"], vocab["shampoo"]
    vocab_file.write_text(json.dumps(vocab))


def truncate(folder: Path) -> None:
    indices = folder / "indices.csc.index.npy"
    indices.write_bytes(indices.read_bytes()[: indices.stat().st_size // 2])


def delete_a_file(folder: Path) -> None:
    (folder / "indptr.csc.index.npy").unlink()


def add_a_file(folder: Path) -> None:
    (folder / "corpus.jsonl").write_text('{"id": 0, "text": "shampoo"}\n')


def delete_digest(folder: Path) -> None:
    (folder / DIGEST_FILE).unlink()


def corrupt_digest(folder: Path) -> None:
    digest = folder / DIGEST_FILE
    digest.write_bytes(digest.read_bytes()[:-20])


def edit_digest_hash(folder: Path) -> None:
    """A digest whose content hash was edited without its settings hash being redone."""
    digest = folder / DIGEST_FILE
    doc = json.loads(digest.read_text())
    doc["settings"]["k1"] = 1.2
    digest.write_text(json.dumps(doc))


TAMPERS: dict[str, tuple[Callable[[Path], None], str]] = {
    "flip bytes": (flip_bytes, r"data\.csc\.index\.npy changed after it was written"),
    "swap vocabulary": (swap_vocabulary, r"vocab\.index\.json changed after it was written"),
    "truncate": (truncate, r"indices\.csc\.index\.npy changed after it was written"),
    "delete a file": (delete_a_file, r"partial: indptr\.csc\.index\.npy missing"),
    "add a file": (add_a_file, r"files its digest does not list: corpus\.jsonl"),
    "delete digest": (delete_digest, r"digest file cache-digest\.json is missing"),
    "corrupt digest": (corrupt_digest, r"digest file cache-digest\.json is unreadable"),
    "edit digest": (edit_digest_hash, r"digest file cache-digest\.json is corrupt"),
}


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_tampered_index_is_rebuilt_with_a_warning(
    tamper: str, products: list[dict[str, Any]], fresh: dict[str, list[str]], tmp_path: Path
) -> None:
    folder = build(products, tmp_path)
    change, why = TAMPERS[tamper]
    change(folder)
    with pytest.warns(CacheRebuiltWarning) as caught:
        index = SearchIndex(products, cache_dir=tmp_path)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert message.startswith(f"{INDEX_CACHE} cache at {folder} is not used: ")
    assert re.search(why, message) and message.endswith("rebuilding it from the products")
    assert not index.loaded_from_cache
    assert results(index) == fresh
    # the rebuilt index replaced the tampered one: the next load takes it, silently
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]
    assert check_saved_index(folder, index_settings(docs(products))) is None
    again = load_quietly(products, tmp_path)
    assert again.loaded_from_cache and results(again) == fresh


def test_a_swapped_vocabulary_would_change_the_results(
    products: list[dict[str, Any]], fresh: dict[str, list[str]], tmp_path: Path
) -> None:
    """The vocabulary tamper above matters: loaded unchecked, that index answers differently."""
    folder = build(products, tmp_path)
    swap_vocabulary(folder)
    unchecked = bm25s.BM25.load(str(folder), show_progress=False)
    index = SearchIndex(products)
    index._retriever = unchecked
    assert index.search("sulfate free shampoo") != fresh["sulfate free shampoo"]


def docs(products: list[dict[str, Any]]) -> list[str]:
    return [search_document(p) for p in products]


def test_untampered_index_loads_without_warning(
    products: list[dict[str, Any]], fresh: dict[str, list[str]], tmp_path: Path
) -> None:
    folder = build(products, tmp_path)
    names = sorted(p.name for p in folder.iterdir())
    assert DIGEST_FILE in names and "params.index.json" in names
    digest = json.loads((folder / DIGEST_FILE).read_text())
    assert set(digest["files"]) == set(names) - {DIGEST_FILE}
    assert digest["settings"] == index_settings(docs(products))
    loaded = load_quietly(products, tmp_path)
    assert loaded.loaded_from_cache and results(loaded) == fresh


def test_index_of_other_documents_is_rebuilt(
    products: list[dict[str, Any]], fresh: dict[str, list[str]], tmp_path: Path
) -> None:
    """A complete, self-consistent index of changed documents put under this index's name."""
    changed = [dict(p) for p in products]
    changed[0]["Title"] = "sulfate free shampoo " * 5
    folder = build(products, tmp_path / "mine")
    other = build(changed, tmp_path / "other")
    shutil.rmtree(folder)
    shutil.copytree(other, folder)
    with pytest.warns(CacheRebuiltWarning, match="built with other settings: documents_sha256="):
        index = SearchIndex(products, cache_dir=tmp_path / "mine")
    assert results(index) == fresh


def test_index_written_with_other_settings_is_not_reused(
    products: list[dict[str, Any]],
    fresh: dict[str, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = build(products, tmp_path)
    # other parameters: another key, so another folder; built anew (a miss, not a tamper)
    with monkeypatch.context() as m:
        m.setattr(search, "K1", 1.2)
        other = load_quietly(products, tmp_path)
        assert not other.loaded_from_cache
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("bm25-")]) == 2
    # a folder under this key whose (self-consistent) digest records other settings
    settings = index_settings(docs(products))
    files = sorted(p for p in folder.iterdir() if p.name != DIGEST_FILE)
    write_digest(folder / DIGEST_FILE, INDEX_CACHE, {**settings, "bm25s": "0.0.1"}, files)
    with pytest.warns(CacheRebuiltWarning, match=r"other settings: bm25s='0\.0\.1'"):
        index = SearchIndex(products, cache_dir=tmp_path)
    assert not index.loaded_from_cache and results(index) == fresh
    assert load_quietly(products, tmp_path).loaded_from_cache


# ---- publishing ----------------------------------------------------------------------------------
def test_save_keeps_a_valid_index_and_replaces_a_failing_one(
    products: list[dict[str, Any]], fresh: dict[str, list[str]], tmp_path: Path
) -> None:
    folder = build(products, tmp_path)
    inode = folder.stat().st_ino
    index = SearchIndex(products)
    settings = index_settings(docs(products))
    index._save(folder, settings)  # as a builder that lost the race to a valid index
    assert folder.stat().st_ino == inode
    flip_bytes(folder)
    index._save(folder, settings)  # as a rebuild of a failing index
    assert folder.stat().st_ino != inode and check_saved_index(folder, settings) is None
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no temp or old folders left
    assert results(load_quietly(products, tmp_path)) == fresh


def _build_in_child(
    products: list[dict[str, Any]], cache: str, barrier: Any, out: Any, i: int
) -> None:
    barrier.wait()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheRebuiltWarning)
        index = SearchIndex(products, cache_dir=cache)
    out.put((i, results(index), [str(w.message) for w in caught]))


@pytest.mark.parametrize("start", ["empty", "tampered"])
def test_concurrent_builders_leave_one_valid_index(
    start: str, products: list[dict[str, Any]], fresh: dict[str, list[str]], tmp_path: Path
) -> None:
    if start == "tampered":
        truncate(build(products, tmp_path))
    ctx = multiprocessing.get_context("fork")
    n = 4
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [
        ctx.Process(target=_build_in_child, args=(products, str(tmp_path), barrier, out, i))
        for i in range(n)
    ]
    for p in procs:
        p.start()
    got = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert all(r == fresh for _, r, _ in got)
    warned = [m for _, _, ms in got for m in ms]
    if start == "empty":  # a folder appears complete or not at all: nobody sees half an index
        assert warned == []
    else:
        # whoever checked first saw the tamper (others may have seen a rebuild being swapped in)
        assert any("indices.csc.index.npy changed" in m for m in warned)
    folder = saved_folder(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]
    assert check_saved_index(folder, index_settings(docs(products))) is None
    loaded = load_quietly(products, tmp_path)
    assert loaded.loaded_from_cache and results(loaded) == fresh
