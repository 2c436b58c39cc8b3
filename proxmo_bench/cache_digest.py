"""Digests that let an on-disk cache entry show it holds what its settings build; checked at load.

An entry is one or more content files plus a *digest file* (JSON; next to them or in a folder of
its own), naming each file by its base name::

    {"format": "proxmo-bench/cache-digest/v1",
     "cache": "<which cache>",
     "settings": {...},            # what produced the content: versions, parameters, source digests
     "settings_sha256": "<hex>",   # SHA-256 of the canonical JSON of "settings"
     "files": {"<name>": "<hex SHA-256 of its bytes>", ...}}

:func:`write_digest` writes it (atomically) once the content files are complete; :func:`check_digest`
recomputes both digests at load and says why an entry cannot be used: a content file changed,
missing (a partial entry) or unexpected, the settings differ from what this process would build
with, or the digest file is missing or corrupt. The caller then rebuilds the entry from its source,
announces it with :func:`warn_rebuilt` (a :class:`CacheRebuiltWarning`), and uses the rebuilt one.

What this catches: disk corruption, truncated or partial writes, hand edits, entries copied from
another configuration, caches left by older versions. What it does not: someone who edits a file
and rewrites its digest to match (there is no key); a cache is a convenience, not a trust boundary.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

from proxmo_bench.atomic_files import file_sha256, write_atomic

#: How a digest-less entry is described (the one reason reported once per folder).
MISSING_DIGEST_MARK = "is missing (a partial or older-version entry)"

#: ``format`` of a digest file.
DIGEST_FORMAT = "proxmo-bench/cache-digest/v1"

#: A setting's value: a JSON scalar.
Setting = str | int | float | bool | None


class CacheRebuiltWarning(UserWarning):
    """An on-disk cache entry failed its digest check (see the message) and was rebuilt from source."""


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def settings_sha256(settings: Mapping[str, Setting]) -> str:
    """Hex SHA-256 of ``settings`` as canonical JSON (sorted keys, no spaces)."""
    return hashlib.sha256(_canonical(dict(settings))).hexdigest()


def _names(files: Sequence[Path]) -> list[str]:
    names = [f.name for f in files]
    if len(set(names)) != len(names):
        raise ValueError(f"cache files must have distinct names, got {names}")
    return names


def write_digest(
    digest_file: Path, cache: str, settings: Mapping[str, Setting], files: Sequence[Path]
) -> None:
    """Record the SHA-256 of each of ``files`` and of ``settings`` in ``digest_file`` (atomically).

    Call it after the content files are complete, so that an entry whose digest file is missing
    is known to be partial. ``files`` have distinct base names (the digest records those).
    """
    _names(files)
    doc = {
        "format": DIGEST_FORMAT,
        "cache": cache,
        "settings": dict(settings),
        "settings_sha256": settings_sha256(settings),
        "files": {f.name: file_sha256(f) for f in files},
    }
    write_atomic(digest_file, _canonical(doc) + b"\n")


def check_digest(
    digest_file: Path,
    cache: str,
    settings: Mapping[str, Setting],
    files: Sequence[Path],
    *,
    unverifiable: Collection[str] = (),
) -> str | None:
    """Why the entry ``files`` + ``digest_file`` cannot be used (one line), or None when it can.

    Args:
        digest_file: the entry's digest file.
        cache: the cache's name, as given to :func:`write_digest`.
        settings: the settings this process would build the entry with.
        files: the content files the entry has on disk now (those absent count as missing only
            when the digest lists them: pass every file that should be checked).
        unverifiable: keys of ``settings`` this process cannot compute (e.g. the digest of a
            source that is not installed); any recorded value is accepted for them.
    """
    # The content is hashed before the digest file is read: a concurrent builder writes content
    # first and digest second, so by the time the digest is read it is usually there too.
    present: dict[str, str] = {}
    unreadable: list[str] = []
    for name, f in zip(_names(files), files, strict=True):
        try:
            present[name] = file_sha256(f)
        except FileNotFoundError:
            continue
        except OSError as exc:
            unreadable.append(f"{name} ({exc.strerror or exc})")
    if unreadable:
        return f"cannot read {', '.join(unreadable)}"
    try:
        doc = json.loads(digest_file.read_bytes())
    except FileNotFoundError:
        return f"its digest file {digest_file.name} {MISSING_DIGEST_MARK}"
    except (OSError, ValueError) as exc:
        return f"its digest file {digest_file.name} is unreadable or not JSON ({exc})"
    recorded = doc.get("settings") if isinstance(doc, dict) else None
    hashes = doc.get("files") if isinstance(doc, dict) else None
    if (
        not isinstance(doc, dict)
        or doc.get("format") != DIGEST_FORMAT
        or not isinstance(recorded, dict)
        or not isinstance(hashes, dict)
        or doc.get("settings_sha256") != settings_sha256(recorded)
    ):
        return f"its digest file {digest_file.name} is corrupt (not a {DIGEST_FORMAT} record)"
    if doc.get("cache") != cache:
        return f"its digest file {digest_file.name} belongs to another cache ({doc.get('cache')!r})"
    differ = [
        f"{k}={recorded.get(k)!r} (this build: {settings.get(k)!r})"
        for k in sorted(set(settings) | set(recorded))
        if not (k in unverifiable and k in recorded) and recorded.get(k) != settings.get(k)
    ]
    if differ:
        return "it was built with other settings: " + ", ".join(differ)
    missing = sorted(set(hashes) - set(present))
    if missing:
        return f"it is partial: {', '.join(missing)} missing"
    changed = sorted(n for n in hashes if hashes[n] != present[n])
    if changed:
        return (
            f"{', '.join(changed)} changed after it was written (SHA-256 differs from its digest)"
        )
    extra = sorted(set(present) - set(hashes))
    if extra:
        return f"it holds files its digest does not list: {', '.join(extra)}"
    return None


#: (cache, folder) pairs whose entries without a digest file were already reported.
_REPORTED_UNDIGESTED: set[tuple[str, str]] = set()


def warn_rebuilt(cache: str, where: Path, why: str, source: str) -> None:
    """Warn (:class:`CacheRebuiltWarning`) that the entry at ``where`` is rebuilt from ``source``.

    Entries that merely lack a digest file (written before digests, or cut before theirs) are
    reported once per cache folder and process, so a cache from an older version does not print
    one warning per entry; every changed or foreign entry is reported on its own."""
    if MISSING_DIGEST_MARK in why:
        key = (cache, str(where.parent))
        if key in _REPORTED_UNDIGESTED:
            return
        _REPORTED_UNDIGESTED.add(key)
        why += " (further entries of this folder without a digest are rebuilt without a warning)"
    warnings.warn(
        CacheRebuiltWarning(f"{cache} cache at {where} is not used: {why}; rebuilding it {source}"),
        stacklevel=3,
    )
