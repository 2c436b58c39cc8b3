"""The data fetch helper: licence first, SHA-256 recorded and checked (local file URLs only)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from proxmo_bench.envs.webshop.fetch import LICENSE_NOTICE, SUBSETS, fetch_webshop


def _mirror(tmp_path: Path) -> Path:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name in SUBSETS["small"]:
        (mirror / name).write_text(f"[{name!r}]".replace("'", '"'))
    return mirror


def test_refuses_without_accepting_the_licence(tmp_path: Path) -> None:
    shown: list[str] = []
    with pytest.raises(PermissionError, match="accept-license"):
        fetch_webshop(tmp_path / "d", echo=shown.append)
    assert shown[0] == LICENSE_NOTICE and not (tmp_path / "d").exists()


def test_downloads_and_records_sha256(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    dest = tmp_path / "data"
    digests = fetch_webshop(
        dest, accept_license=True, url_for=lambda n: (mirror / n).as_uri(), echo=lambda _: None
    )
    for name in SUBSETS["small"]:
        expected = hashlib.sha256((mirror / name).read_bytes()).hexdigest()
        assert digests[name] == expected and (dest / name).is_file()
    assert (dest / "SHA256SUMS").read_text().count("\n") == len(SUBSETS["small"])


def test_wrong_sha256_is_rejected_and_not_kept(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    dest = tmp_path / "data"
    name = SUBSETS["small"][0]
    with pytest.raises(ValueError, match="SHA-256"):
        fetch_webshop(
            dest,
            accept_license=True,
            url_for=lambda n: (mirror / n).as_uri(),
            expected_sha256={name: "0" * 64},
            echo=lambda _: None,
        )
    assert not (dest / name).exists() and list(dest.iterdir()) == []
