"""Fetch the official ALFWorld game files (the TextWorld ``game.tw-pddl`` release) into a data folder.

This is what ``proxmo-bench data fetch alfworld`` runs. It downloads the same archive as ALFWorld's
``alfworld-download`` (release 0.4.0, ``json_2.1.2_tw-pddl.zip``), prints and optionally checks its
SHA-256, and extracts only the ``game.tw-pddl`` files, into ``<data_dir>/json_2.1.1/<split>/
<task_dir>/<trial_dir>/`` (the layout :mod:`.official` reads). ALFWorld's data is MIT-licensed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path, PurePosixPath

from proxmo_bench.envs.alfworld.official import GAME_FILE_NAME, JSON_DIR, SPLITS

TW_PDDL_URL = "https://github.com/alfworld/alfworld/releases/download/0.4.0/json_2.1.2_tw-pddl.zip"


class FetchError(RuntimeError):
    """The download failed, its checksum did not match, or the archive had no games."""


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _game_member_target(name: str) -> PurePosixPath | None:
    """Where an archive member goes under ``json_2.1.1`` (None: not a game file of a known split).

    Members are matched by their last four path parts, ``<split>/<task_dir>/<trial>/game.tw-pddl``,
    so the archive's top folder name does not matter; anything with ``..`` is refused.
    """
    parts = PurePosixPath(name).parts
    if len(parts) < 4 or parts[-1] != GAME_FILE_NAME or ".." in parts:
        return None
    split, task_dir, trial = parts[-4], parts[-3], parts[-2]
    if split not in SPLITS:
        return None
    return PurePosixPath(split, task_dir, trial, GAME_FILE_NAME)


def extract_games(archive: Path, data_dir: Path) -> int:
    """Extract the ``game.tw-pddl`` files of ``archive`` under ``data_dir/json_2.1.1``; returns
    how many were written.

    Raises:
        FetchError: the archive is not a zip file or holds no game file of a known split.
    """
    root = Path(data_dir) / JSON_DIR
    count = 0
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                target = _game_member_target(info.filename)
                if target is None or info.is_dir():
                    continue
                dest = root.joinpath(*target.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out)
                count += 1
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{archive} is not a zip archive: {exc}") from exc
    if count == 0:
        raise FetchError(
            f"{archive} holds no <split>/<task_dir>/<trial>/{GAME_FILE_NAME} files "
            f"(splits {list(SPLITS)})"
        )
    return count


def fetch_official(
    data_dir: str | os.PathLike[str],
    *,
    url: str = TW_PDDL_URL,
    expected_sha256: str | None = None,
) -> tuple[int, str]:
    """Download the official games from ``url`` and extract them into ``data_dir``.

    Returns ``(number of game files, SHA-256 of the archive)``. With ``expected_sha256`` the
    archive must match it (nothing is extracted otherwise). Set ``ALFWORLD_DATA=data_dir``
    afterwards, or pass ``data_dir=`` to the env.

    Raises:
        FetchError: the download failed, the checksum did not match, or there were no games.
    """
    data_dir = Path(data_dir).expanduser()
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=data_dir) as tmp:
        archive = Path(tmp) / "games.zip"
        try:
            with urllib.request.urlopen(url, timeout=60) as resp, open(archive, "wb") as out:
                shutil.copyfileobj(resp, out)
        except OSError as exc:
            raise FetchError(f"could not download {url}: {exc}") from exc
        digest = sha256_of(archive)
        if expected_sha256 is not None and digest != expected_sha256.lower():
            raise FetchError(
                f"{url}: SHA-256 {digest} does not match the expected {expected_sha256}"
            )
        return extract_games(archive, data_dir), digest
