"""Official ALFWorld game files: locating ``$ALFWORLD_DATA`` and indexing its games per split.

Layout (as ``alfworld-download`` writes it)::

    $ALFWORLD_DATA/json_2.1.1/<split>/<task_dir>/<trial_dir>/game.tw-pddl

A task id is the game's folder relative to ``json_2.1.1``: ``"<split>/<task_dir>/<trial_dir>"``.
Only ``game.tw-pddl`` is read; the PDDL domain and grammar are inside each game file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from proxmo_bench.envs.alfworld.task_types import category_of_task_dir

GAME_FILE_NAME = "game.tw-pddl"
JSON_DIR = "json_2.1.1"
SPLITS: tuple[str, ...] = ("train", "valid_seen", "valid_unseen")

_HOW_TO_GET = (
    "get the official games with `proxmo-bench data fetch alfworld` (or ALFWorld's own "
    "`alfworld-download`), then set ALFWORLD_DATA to the folder holding json_2.1.1/, or pass "
    "data_dir=...; or use source='generated', which needs no download"
)


class AlfWorldDataError(FileNotFoundError):
    """The official data folder is missing or does not have the expected layout."""


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """The folder holding ``json_2.1.1/``: ``data_dir`` if given, else ``$ALFWORLD_DATA``.

    Raises:
        AlfWorldDataError: neither is set, or the folder has no ``json_2.1.1/`` (the message says
            how to get the data).
    """
    if data_dir is None:
        env_value = os.environ.get("ALFWORLD_DATA")
        if not env_value:
            raise AlfWorldDataError(
                f"ALFWORLD_DATA is not set and no data_dir was given; {_HOW_TO_GET}"
            )
        root = Path(env_value).expanduser()
        origin = f"ALFWORLD_DATA={env_value!r}"
    else:
        root = Path(data_dir).expanduser()
        origin = f"data_dir={str(data_dir)!r}"
    if not (root / JSON_DIR).is_dir():
        raise AlfWorldDataError(f"{origin}: no folder {root / JSON_DIR}; {_HOW_TO_GET}")
    return root.resolve()


@lru_cache(maxsize=32)
def _index_split(json_root: Path, split: str) -> tuple[str, ...]:
    split_dir = json_root / split
    if not split_dir.is_dir():
        return ()
    ids = []
    for game in split_dir.glob(f"*/*/{GAME_FILE_NAME}"):
        trial = game.parent
        ids.append(f"{split}/{trial.parent.name}/{trial.name}")
    return tuple(sorted(ids))


class OfficialGames:
    """The official games under one data folder, indexed per split (sorted task ids)."""

    source = "official"

    def __init__(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        self.root = resolve_data_dir(data_dir)
        self.json_root = self.root / JSON_DIR

    def task_ids(self, split: str) -> tuple[str, ...]:
        """Task ids of ``split`` in sorted order.

        Raises:
            AlfWorldDataError: the split has no game files under this data folder.
        """
        if split not in SPLITS:
            raise ValueError(f"ALFWorld split must be one of {list(SPLITS)}, got {split!r}")
        ids = _index_split(self.json_root, split)
        if not ids:
            raise AlfWorldDataError(
                f"no {GAME_FILE_NAME} files under {self.json_root / split}/<task_dir>/<trial_dir>/; "
                f"{_HOW_TO_GET}"
            )
        return ids

    def parse_task_id(self, task_id: str) -> tuple[str, str]:
        """``(split, category)`` of an official task id.

        Raises:
            ValueError: the id is not ``"<split>/<task_dir>/<trial_dir>"`` with a known split and
                task type.
        """
        parts = task_id.split("/")
        if len(parts) != 3 or parts[0] not in SPLITS or not all(parts) or ".." in parts:
            raise ValueError(
                f"official ALFWorld task ids look like '<split>/<task_dir>/<trial_dir>' with split "
                f"in {list(SPLITS)}, e.g. 'valid_unseen/pick_and_place_simple-Mug-None-Desk-308/"
                f"trial_T20190908_...'; got {task_id!r}"
            )
        return parts[0], category_of_task_dir(parts[1])

    def game_file(self, task_id: str) -> Path:
        """Path of the game file of ``task_id`` (it may not exist; the engine reports that)."""
        self.parse_task_id(task_id)
        return self.json_root / task_id / GAME_FILE_NAME
