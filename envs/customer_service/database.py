"""Copy-on-write in-memory databases with an incremental content digest.

A domain's database is a few named tables (``users``, ``orders``, ...), each a mapping from a record
id to a JSON-like record. Every episode works on its own :class:`Database`, but copying the loaded
data for each rollout (upstream deep-copies ~2-5 MB of JSON per episode) is the expensive part of a
simulation, so a :class:`Database` shares one immutable *base* between all its copies and keeps, per
table, an *overlay* of the records this episode has written. A copy costs O(number of tables).

The digest follows from the same structure: two databases over the same base hold equal content iff
their overlays differ from the base in the same records with the same content, so the digest hashes
only the records that differ from the base (each record hashed once, as canonical JSON). Tools must
write through :meth:`Table.edit` / :meth:`Table.insert` / :meth:`Table.delete`; records returned by
:meth:`Table.get` belong to the shared base and must be treated as read-only.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator, Mapping
from typing import Any, Generic, TypeVar

R = TypeVar("R")

_DELETED: Any = object()


def record_digest(record: Any) -> str:
    """SHA-256 of a record as canonical JSON (sorted keys; ``1`` and ``1.0`` stay distinct).

    Never raises on text: tools refuse arguments that are not valid Unicode, and should a lone
    surrogate reach a record anyway it is hashed by its code point (``surrogatepass``), which
    leaves the digest of every valid text unchanged.
    """
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Table(Generic[R]):
    """One table: a shared read-only base plus this episode's written records."""

    def __init__(self, name: str, base: Mapping[str, R]) -> None:
        self.name = name
        self._base = base
        self._overlay: dict[str, R] = {}

    def __contains__(self, key: object) -> bool:
        if key in self._overlay:
            return self._overlay[key] is not _DELETED
        return key in self._base

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())

    def get(self, key: str) -> R | None:
        """The record ``key`` (read-only), or None when absent."""
        if key in self._overlay:
            rec = self._overlay[key]
            return None if rec is _DELETED else rec
        return self._base.get(key)

    def __getitem__(self, key: str) -> R:
        rec = self.get(key)
        if rec is None:
            raise KeyError(f"{self.name}: no record {key!r}")
        return rec

    def keys(self) -> Iterator[str]:
        """Record ids in base order, then ids inserted this episode in insertion order."""
        for key in self._base:
            if key not in self._overlay or self._overlay[key] is not _DELETED:
                yield key
        for key, rec in self._overlay.items():
            if key not in self._base and rec is not _DELETED:
                yield key

    def values(self) -> Iterator[R]:
        for key in self.keys():
            yield self[key]

    def items(self) -> Iterator[tuple[str, R]]:
        for key in self.keys():
            yield key, self[key]

    def edit(self, key: str) -> R:
        """A private, mutable copy of record ``key`` (made on the first edit this episode)."""
        if key in self._overlay:
            rec = self._overlay[key]
            if rec is _DELETED:
                raise KeyError(f"{self.name}: no record {key!r}")
            return rec
        if key not in self._base:
            raise KeyError(f"{self.name}: no record {key!r}")
        rec = copy.deepcopy(self._base[key])
        self._overlay[key] = rec
        return rec

    def insert(self, key: str, record: R) -> None:
        """Add (or replace) record ``key``; the table owns ``record`` from now on."""
        self._overlay[key] = record

    def delete(self, key: str) -> None:
        if key not in self:
            raise KeyError(f"{self.name}: no record {key!r}")
        self._overlay[key] = _DELETED

    def changed_digests(self) -> list[tuple[str, str]]:
        """``(key, digest)`` of every record whose content differs from the base (sorted by key).

        A deleted record has digest ``"-"``. Records edited back to their base content do not count.
        """
        out: list[tuple[str, str]] = []
        for key, rec in self._overlay.items():
            base = self._base.get(key, _DELETED)
            if rec is _DELETED:
                if base is not _DELETED:
                    out.append((key, "-"))
                continue
            digest = record_digest(rec)
            if base is _DELETED or digest != record_digest(base):
                out.append((key, digest))
        out.sort()
        return out

    def fork(self) -> Table[R]:
        """An independent copy: same base, deep copy of this episode's writes."""
        t: Table[R] = Table(self.name, self._base)
        t._overlay = {
            k: (v if v is _DELETED else copy.deepcopy(v)) for k, v in self._overlay.items()
        }
        return t

    def materialize(self) -> dict[str, R]:
        """The full table as a plain dict (deep copy; for export and reference hashing)."""
        return {k: copy.deepcopy(v) for k, v in self.items()}


class Database:
    """Named tables over one shared base. ``copy()`` is cheap; ``digest()`` hashes only changes.

    Args:
        base: table name -> record id -> record. Not copied and never modified: callers hand
            over ownership (the loaders build it once per process).
        base_id: a name for the base's content (e.g. the SHA-256 of its files); part of the digest,
            so databases over different bases never compare equal by accident.
    """

    def __init__(self, base: Mapping[str, Mapping[str, Any]], base_id: str) -> None:
        self._base = base
        self.base_id = base_id
        self.tables: dict[str, Table[Any]] = {
            name: Table(name, recs) for name, recs in base.items()
        }

    def __getitem__(self, name: str) -> Table[Any]:
        return self.tables[name]

    def fresh(self) -> Database:
        """A copy of the base with no writes (what an episode starts from)."""
        return Database(self._base, self.base_id)

    def copy(self) -> Database:
        """An independent copy of the current content (base shared, writes deep-copied)."""
        db = Database.__new__(Database)
        db._base, db.base_id = self._base, self.base_id
        db.tables = {name: t.fork() for name, t in self.tables.items()}
        return db

    def digest(self) -> str:
        """SHA-256 over the base id and every record that differs from the base.

        Equal digests <=> equal content (for databases over the same base, up to SHA-256
        collisions). Cost grows with the number of records written, not with the database size.
        """
        h = hashlib.sha256(self.base_id.encode("utf-8"))
        for name in sorted(self.tables):
            for key, digest in self.tables[name].changed_digests():
                h.update(f"\x00{name}\x00{key}\x00{digest}".encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def materialize(self) -> dict[str, dict[str, Any]]:
        """The full content as plain nested dicts (a deep copy)."""
        return {name: t.materialize() for name, t in self.tables.items()}
