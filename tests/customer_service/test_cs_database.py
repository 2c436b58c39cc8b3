from __future__ import annotations

from typing import Any

import pytest

from proxmo_bench.envs.customer_service.database import Database, record_digest


def _db() -> Database:
    base: dict[str, dict[str, Any]] = {
        "users": {"u1": {"name": "A", "tags": [1, 2]}, "u2": {"name": "B", "tags": []}},
        "orders": {"o1": {"status": "pending", "amount": 1.0}},
    }
    return Database(base, "test-base")


def test_fresh_copies_are_independent_and_share_the_base() -> None:
    db = _db()
    a, b = db.fresh(), db.fresh()
    a["users"].edit("u1")["tags"].append(3)
    assert a["users"]["u1"]["tags"] == [1, 2, 3]
    assert b["users"]["u1"]["tags"] == [1, 2]
    assert db["users"]["u1"]["tags"] == [1, 2]  # the base is never written


def test_copy_keeps_writes_but_is_independent() -> None:
    a = _db().fresh()
    a["orders"].edit("o1")["status"] = "cancelled"
    c = a.copy()
    c["orders"].edit("o1")["status"] = "delivered"
    assert a["orders"]["o1"]["status"] == "cancelled"
    assert c["orders"]["o1"]["status"] == "delivered"


def test_digest_tracks_content_not_history() -> None:
    db = _db()
    base = db.fresh().digest()
    a = db.fresh()
    a["orders"].edit("o1")["status"] = "cancelled"
    assert a.digest() != base
    a["orders"].edit("o1")["status"] = "pending"  # edited back: same content as the base
    assert a.digest() == base
    b = db.fresh()
    b["orders"].edit("o1")["status"] = "cancelled"
    assert a.digest() != b.digest()
    a["orders"].edit("o1")["status"] = "cancelled"
    assert a.digest() == b.digest()


def test_digest_sees_inserts_deletes_and_number_types() -> None:
    db = _db()
    base = db.fresh().digest()
    a = db.fresh()
    a["users"].insert("u3", {"name": "C", "tags": []})
    assert "u3" in a["users"] and len(a["users"]) == 3
    assert a.digest() != base
    a["users"].delete("u3")
    assert a.digest() == base
    a["users"].delete("u2")
    assert "u2" not in a["users"] and a["users"].get("u2") is None
    assert a.digest() != base
    assert record_digest({"x": 1}) != record_digest({"x": 1.0})
    assert record_digest({"a": 1, "b": 2}) == record_digest({"b": 2, "a": 1})


def test_missing_records_raise_key_error() -> None:
    a = _db().fresh()
    with pytest.raises(KeyError):
        a["users"].edit("nobody")
    with pytest.raises(KeyError):
        a["users"].delete("nobody")


def test_materialize_matches_base_plus_writes() -> None:
    a = _db().fresh()
    a["users"].edit("u2")["name"] = "Z"
    data = a.materialize()
    assert data["users"]["u2"]["name"] == "Z" and data["users"]["u1"]["name"] == "A"
