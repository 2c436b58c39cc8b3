"""BM25 product search with ``bm25s``, standing in for upstream's Lucene (pyserini) index.

Settings: Lucene's BM25 variant, k1=0.9 and b=0.4 (pyserini's defaults), English stopwords and
Porter stemming (PyStemmer), one-character tokens kept (Lucene's analyzer keeps "x", "3", "s"),
top 50 results. Documents are upstream's: title, description, first bullet point and the option
text, lowercased (:func:`products.search_document`). Only documents with a positive score are
returned, ties broken by catalogue order as Lucene breaks them by document id.

With a ``cache_dir`` the index is also saved to disk, keyed by a SHA-256 of the settings and the
documents, so other processes (rollout workers) and later runs load it instead of rebuilding.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer

from proxmo_bench.envs.webshop.products import search_document

SEARCH_RETURN_N = 50
K1 = 0.9
B = 0.4
TOKEN_PATTERN = r"(?u)\b\w+\b"
INDEX_CACHE_ENV_VAR = "WEBSHOP_INDEX_CACHE"


def index_key(documents: list[str]) -> str:
    """SHA-256 over the search settings and the documents, naming a saved index."""
    h = hashlib.sha256(f"bm25s-lucene k1={K1} b={B} {TOKEN_PATTERN} en porter".encode())
    for doc in documents:
        h.update(b"\x00" + doc.encode("utf-8"))
    return h.hexdigest()


class SearchIndex:
    """A BM25 index over a list of products; built once per catalogue.

    Args:
        products: products in upstream's internal format, in catalogue order.
        cache_dir: folder for saved indexes (default ``$WEBSHOP_INDEX_CACHE``; None: no disk).
    """

    def __init__(
        self, products: list[dict[str, Any]], cache_dir: str | os.PathLike[str] | None = None
    ) -> None:
        self._asins = [p["asin"] for p in products]
        self._stemmer = Stemmer.Stemmer("english")
        documents = [search_document(p) for p in products]
        folder = cache_dir if cache_dir is not None else os.environ.get(INDEX_CACHE_ENV_VAR)
        saved = Path(folder) / f"bm25-{index_key(documents)[:32]}" if folder else None
        #: True when the index was read from ``cache_dir`` instead of built.
        self.loaded_from_cache = saved is not None and (saved / "params.index.json").is_file()
        if self.loaded_from_cache:
            assert saved is not None
            self._retriever = bm25s.BM25.load(str(saved), show_progress=False)
        else:
            self._retriever = bm25s.BM25(method="lucene", k1=K1, b=B)
            self._retriever.index(self._tokenize(documents), show_progress=False)
            if saved is not None:
                self._save(saved)
        self._vocab: set[str] = set(self._retriever.vocab_dict)

    def _save(self, target: Path) -> None:
        # Save to a sibling temp folder and rename, so a concurrent reader never sees half an index.
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
        self._retriever.save(str(tmp), show_progress=False)
        try:
            tmp.rename(target)
        except OSError:  # another process saved it first; theirs is identical
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()

    def _tokenize(self, texts: list[str]) -> list[list[str]]:
        tokens = bm25s.tokenize(
            texts,
            lower=True,
            token_pattern=TOKEN_PATTERN,
            stopwords="en",
            stemmer=self._stemmer.stemWords,
            return_ids=False,
            show_progress=False,
        )
        return [list(t) for t in tokens]

    def search(self, query: str, k: int = SEARCH_RETURN_N) -> list[str]:
        """ASINs of the top ``k`` products for ``query``, best first (empty if nothing matches)."""
        terms = [t for t in self._tokenize([query])[0] if t in self._vocab]
        if not terms:
            return []
        scores = np.asarray(self._retriever.get_scores(terms), dtype=np.float64)
        order = np.lexsort((np.arange(len(scores)), -scores))  # score desc, then catalogue order
        return [self._asins[int(i)] for i in order[:k] if scores[int(i)] > 0]
