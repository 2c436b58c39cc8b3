"""proxmo_bench.atomic_files: all-or-nothing writes and file digests."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from proxmo_bench import atomic_files
from proxmo_bench.atomic_files import file_sha256, write_atomic


def test_write_replace_and_digest(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "config.yaml"
    write_atomic(target, "a: 1\n")
    assert target.read_text() == "a: 1\n"
    write_atomic(target, b"b: 2\n")
    assert target.read_bytes() == b"b: 2\n"
    assert file_sha256(target) == hashlib.sha256(b"b: 2\n").hexdigest()
    assert sorted(p.name for p in target.parent.iterdir()) == ["config.yaml"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_failed_write_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    write_atomic(target, "old")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(atomic_files.os, "replace", crash)
    with pytest.raises(OSError, match="disk gone"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temp file left
