"""BM25 product search with ``bm25s``, standing in for upstream's Lucene (pyserini) index.

Settings: Lucene's BM25 variant, k1=0.9 and b=0.4 (pyserini's defaults), English stopwords and
Porter stemming (PyStemmer), one-character tokens kept (Lucene's analyzer keeps "x", "3", "s"),
top 50 results. Documents are upstream's: title, description, first bullet point and the option
text, lowercased (:func:`products.search_document`). Only documents with a positive score are
returned, ties broken by catalogue order as Lucene breaks them by document id.

With a ``cache_dir`` the index is also saved to disk, so other processes (rollout workers) and later
runs load it instead of rebuilding: ``<cache_dir>/bm25-<key>/`` holds bm25s' files and
``cache-digest.json`` (:mod:`proxmo_bench.envs.cache_digest`) with each file's SHA-256 and the
settings that built it (:func:`index_settings`: index layout version, bm25s and PyStemmer versions,
BM25 parameters, tokenizer, the documents' SHA-256); ``<key>`` is the SHA-256 of those settings, so
other settings or documents never meet this folder. A folder is published by renaming a complete
one into place, so readers never see half an index. At load both digests are recomputed (about a
millisecond for the 1000-product catalogue); a folder that fails (a changed, truncated, missing or
extra file, a missing or corrupt digest, other settings) is rebuilt from the products with one
:class:`~proxmo_bench.envs.cache_digest.CacheRebuiltWarning`, and the rebuilt index is used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import Stemmer

from proxmo_bench.cache_digest import (
    Setting,
    check_digest,
    settings_sha256,
    warn_rebuilt,
    write_digest,
)
from proxmo_bench.envs.webshop.products import search_document

SEARCH_RETURN_N = 50
K1 = 0.9
B = 0.4
TOKEN_PATTERN = r"(?u)\b\w+\b"
INDEX_CACHE_ENV_VAR = "WEBSHOP_INDEX_CACHE"
#: Bump when the saved index's layout or meaning changes; part of every index's settings.
INDEX_VERSION = "2"
#: The cache's name in digest files and warnings.
INDEX_CACHE = "WebShop BM25 index"
#: The digest file inside a saved index's folder.
DIGEST_FILE = "cache-digest.json"


@functools.lru_cache(maxsize=1)
def _library_versions() -> tuple[str, str]:
    return str(bm25s.__version__), importlib.metadata.version("PyStemmer")


def documents_sha256(documents: list[str]) -> str:
    """SHA-256 over the indexed documents, in order (NUL-separated UTF-8)."""
    h = hashlib.sha256()
    for doc in documents:
        h.update(b"\x00" + doc.encode("utf-8"))
    return h.hexdigest()


def index_settings(documents: list[str]) -> dict[str, Setting]:
    """Everything a saved index depends on: what its digest file records and its key hashes."""
    bm25s_version, stemmer_version = _library_versions()
    return {
        "index_version": INDEX_VERSION,
        "bm25s": bm25s_version,
        "pystemmer": stemmer_version,
        "method": "lucene",
        "k1": K1,
        "b": B,
        "token_pattern": TOKEN_PATTERN,
        "stopwords": "en",
        "stemmer": "english",
        "documents": len(documents),
        "documents_sha256": documents_sha256(documents),
    }


def index_key(documents: list[str]) -> str:
    """SHA-256 of :func:`index_settings`, naming a saved index (its first 32 hex digits)."""
    return settings_sha256(index_settings(documents))


def _saved_files(folder: Path) -> list[Path]:
    """The content files of a saved index folder (everything but the digest), sorted."""
    return sorted(p for p in folder.iterdir() if p.name != DIGEST_FILE)


def check_saved_index(folder: Path, settings: dict[str, Setting]) -> str | None:
    """Why the saved index in ``folder`` cannot be used (one line), or None when it can."""
    try:
        files = _saved_files(folder)
    except OSError as exc:
        return f"its folder cannot be listed ({exc.strerror or exc})"
    return check_digest(folder / DIGEST_FILE, INDEX_CACHE, settings, files)


#: Query terms scored at most (the first ones, after tokenising and dropping unknown words):
#: Lucene's default ``maxClauseCount``, the bound of upstream's pyserini search. Real queries are
#: far shorter; it keeps a hostile 64 KiB query's step in milliseconds (scoring is per term).
MAX_QUERY_TERMS = 1024


class SearchIndex:
    """A BM25 index over a list of products; built once per catalogue.

    Args:
        products: products in upstream's internal format, in catalogue order.
        cache_dir: folder for saved indexes (default ``$WEBSHOP_INDEX_CACHE``; None: no disk).

    Warns:
        CacheRebuiltWarning: the saved index failed its check and was rebuilt (and re-saved).
    """

    def __init__(
        self, products: list[dict[str, Any]], cache_dir: str | os.PathLike[str] | None = None
    ) -> None:
        self._asins = [p["asin"] for p in products]
        self._stemmer = Stemmer.Stemmer("english")
        documents = [search_document(p) for p in products]
        folder = cache_dir if cache_dir is not None else os.environ.get(INDEX_CACHE_ENV_VAR)
        settings = index_settings(documents)
        saved = Path(folder) / f"bm25-{settings_sha256(settings)[:32]}" if folder else None
        #: True when the index was read from ``cache_dir`` instead of built.
        self.loaded_from_cache = False
        retriever = self._load(saved, settings) if saved is not None else None
        if retriever is None:
            retriever = bm25s.BM25(method="lucene", k1=K1, b=B)
            retriever.index(self._tokenize(documents), show_progress=False)
            self._retriever = retriever
            if saved is not None:
                self._save(saved, settings)
        else:
            self._retriever = retriever
            self.loaded_from_cache = True
        self._vocab: set[str] = set(self._retriever.vocab_dict)

    @staticmethod
    def _load(saved: Path, settings: dict[str, Setting]) -> bm25s.BM25 | None:
        """The saved index when it passes its check; None (with a warning if one was there)."""
        if not saved.exists():
            return None
        why = check_saved_index(saved, settings)
        if why is None:
            # a cache that bm25s cannot read is rebuilt, whatever its error
            try:
                return bm25s.BM25.load(str(saved), show_progress=False)
            except Exception as exc:
                why = f"bm25s cannot load it ({type(exc).__name__}: {exc})"
        warn_rebuilt(INDEX_CACHE, saved, why, "from the products")
        return None

    def _save(self, target: Path, settings: dict[str, Setting]) -> None:
        """Publish the index at ``target``: content, then digest, in a sibling folder renamed in.

        Concurrent builders each write their own folder; the first rename wins, and a later one
        finding a valid index there drops its own (the content is identical). A failing index at
        ``target`` (the one being rebuilt) is moved aside and removed.
        """
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
        try:
            self._retriever.save(str(tmp), show_progress=False)
            write_digest(tmp / DIGEST_FILE, INDEX_CACHE, settings, _saved_files(tmp))
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's 0700 would hide a shared cache
            try:
                os.rename(tmp, target)  # atomic; fails when target exists (and is not empty)
                return
            except OSError:
                pass
            if check_saved_index(target, settings) is None:
                return  # a concurrent builder published the same index first
            aside = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
            with contextlib.suppress(FileNotFoundError):
                os.rename(target, aside)
            with contextlib.suppress(OSError):  # lost a race to another rebuild: same content
                os.rename(tmp, target)
            if aside.is_dir():
                shutil.rmtree(aside, ignore_errors=True)
            else:
                aside.unlink(missing_ok=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)  # gone already when it was renamed into place

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
        terms = [t for t in self._tokenize([query])[0] if t in self._vocab][:MAX_QUERY_TERMS]
        if not terms:
            return []
        scores = np.asarray(self._retriever.get_scores(terms), dtype=np.float64)
        order = np.lexsort((np.arange(len(scores)), -scores))  # score desc, then catalogue order
        return [self._asins[int(i)] for i in order[:k] if scores[int(i)] > 0]
