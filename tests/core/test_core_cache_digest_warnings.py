"""Digest-less cache entries are reported once per folder; changed entries every time."""

from __future__ import annotations

import warnings
from pathlib import Path

from proxmo_bench.cache_digest import MISSING_DIGEST_MARK, CacheRebuiltWarning, warn_rebuilt


def test_digestless_entries_warn_once_per_folder(tmp_path: Path) -> None:
    missing = f"its digest file x.json {MISSING_DIGEST_MARK}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for name in ("a", "b", "c"):
            warn_rebuilt("test", tmp_path / name, missing, "from the generator")
        (tmp_path / "other").mkdir()
        warn_rebuilt("test", tmp_path / "other" / "a", missing, "from the generator")
        for name in ("a", "b"):
            warn_rebuilt("test", tmp_path / name, "file a changed", "from the generator")
    texts = [str(w.message) for w in caught if issubclass(w.category, CacheRebuiltWarning)]
    assert len(texts) == 4  # one per folder for the missing digests, each changed entry
    assert "further entries of this folder" in texts[0]
