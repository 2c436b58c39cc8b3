"""Generated games as a game source: task ids per split, seeds, and the on-disk cache.

Task ids are ``"<split>/<category>/<index>"`` (e.g. ``"train/heat/17"``). Each id maps to a seed
(a hash of the split, category and index), and the game is ``generate_game(seed, category,
difficulty)``, written on first use to::

    <cache_dir>/generator-v<GENERATOR_VERSION>/<category>-d<difficulty>-<seed>.tw-pddl

so a cached file is keyed by (generator version, seed) plus the two other generator inputs. The
cache directory is ``cache_dir`` if given, else ``$PROXMO_ALFWORLD_CACHE``, else
``$XDG_CACHE_HOME/proxmo-bench/alfworld`` (``~/.cache/proxmo-bench/alfworld``). Files are written
atomically, so pool workers generating the same game at once do not corrupt it.

Splits draw disjoint seeds from the same generator; valid_unseen is therefore not a distribution
shift in the sense of the official split (new rooms), only unseen layouts.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from proxmo_bench.envs.alfworld.engine import EngineUnavailableError
from proxmo_bench.envs.alfworld.generator import (
    DIFFICULTIES,
    GENERATOR_VERSION,
    compact_game,
    draw_problem,
    generate_game,
)
from proxmo_bench.envs.alfworld.task_types import CATEGORIES

#: Tasks per category in each split.
TASKS_PER_CATEGORY: dict[str, int] = {"train": 600, "valid_seen": 24, "valid_unseen": 24}

CACHE_ENV_VAR = "PROXMO_ALFWORLD_CACHE"


def default_cache_dir() -> Path:
    """Where generated games are cached when no ``cache_dir`` is given."""
    override = os.environ.get(CACHE_ENV_VAR)
    if override:
        return Path(override).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "proxmo-bench" / "alfworld"


def task_seed(split: str, category: str, index: int) -> int:
    """The generator seed of task ``split/category/index`` (stable across machines; 63 bits)."""
    digest = hashlib.sha256(f"alfworld-generated:{split}:{category}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class GeneratedGames:
    """Generated games, produced on first use and cached on disk.

    Args:
        cache_dir: cache folder (see the module docstring for the default).
        difficulty: generator difficulty, 1..3.
    """

    source = "generated"

    def __init__(
        self, cache_dir: str | os.PathLike[str] | None = None, difficulty: int = 2
    ) -> None:
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be one of {list(DIFFICULTIES)}, got {difficulty!r}")
        self.difficulty = difficulty
        self.cache_dir = (
            Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        )
        self._ids: dict[str, tuple[str, ...]] = {}

    def task_ids(self, split: str) -> tuple[str, ...]:
        """Task ids of ``split``, sorted."""
        if split not in TASKS_PER_CATEGORY:
            raise ValueError(
                f"ALFWorld split must be one of {list(TASKS_PER_CATEGORY)}, got {split!r}"
            )
        ids = self._ids.get(split)
        if ids is None:
            n = TASKS_PER_CATEGORY[split]
            ids = self._ids[split] = tuple(
                sorted(f"{split}/{c}/{i}" for c in CATEGORIES for i in range(n))
            )
        return ids

    def parse_task_id(self, task_id: str) -> tuple[str, str]:
        """``(split, category)`` of a generated task id.

        Raises:
            ValueError: the id is not ``"<split>/<category>/<index>"`` within the split's range.
        """
        parts = task_id.split("/")
        ok = (
            len(parts) == 3
            and parts[0] in TASKS_PER_CATEGORY
            and parts[1] in CATEGORIES
            and parts[2].isdigit()
            and int(parts[2]) < TASKS_PER_CATEGORY[parts[0]]
        )
        if not ok:
            raise ValueError(
                f"generated ALFWorld task ids look like '<split>/<category>/<index>' with split in "
                f"{list(TASKS_PER_CATEGORY)}, category in {list(CATEGORIES)} and index below "
                f"{TASKS_PER_CATEGORY}; got {task_id!r}"
            )
        return parts[0], parts[1]

    def game_file(self, task_id: str) -> Path:
        """The cached game file of ``task_id``, generated and written first if absent."""
        split, category = self.parse_task_id(task_id)
        seed = task_seed(split, category, int(task_id.rsplit("/", 1)[1]))
        return self.game_file_for_seed(seed, category)

    def game_file_for_seed(self, seed: int, category: str) -> Path:
        """The cached game file of ``generate_game(seed, category, self.difficulty)``.

        Without the ``[alfworld]`` extra, a pre-solved input (:mod:`.presolved`) gets a compact
        game file instead (``<stem>.compact.json``), which the fast engine plays.

        Raises:
            EngineUnavailableError: the game is not cached, not pre-solved, and the ``[alfworld]``
                extra that generates it is not installed.
        """
        folder = self.cache_dir / f"generator-v{GENERATOR_VERSION}"
        stem = f"{category}-d{self.difficulty}-{seed}"
        path = folder / f"{stem}.tw-pddl"
        if path.is_file() and _is_current(path):
            return path
        try:
            game = generate_game(seed, category, self.difficulty)
        except EngineUnavailableError as missing:
            compact_path = folder / f"{stem}.compact.json"
            if compact_path.is_file() and _is_current(compact_path):
                return compact_path
            compact = compact_game(seed, category, self.difficulty)
            if compact is None:
                raise EngineUnavailableError(
                    f"generated ALFWorld game {stem} is not among the pre-solved games shipped "
                    f"with proxmo-bench, and generating it needs the planner: {missing}"
                ) from missing
            _write_atomic(compact_path, compact)
            _CHECKED[compact_path] = True
            return compact_path
        _write_atomic(path, game)
        _CHECKED[path] = True
        return path


#: Cached files checked by this process (path -> current).
_CHECKED: dict[Path, bool] = {}


def _is_current(path: Path) -> bool:
    """Whether a cached game is what this generator draws for its inputs (checked once a process).

    A file written by an older generator of the same version number (a bump forgotten) or
    corrupted on disk is not current; the caller then regenerates and overwrites it, so a cache
    can never silently hold games that a fresh machine would not produce.
    """
    known = _CHECKED.get(path)
    if known is not None:
        return known
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        meta = doc["generator"]
        _, problem = draw_problem(
            int(meta["seed"]), str(meta["category"]), int(meta["difficulty"]), int(meta["attempt"])
        )
        current = problem == doc["pddl_problem"] and meta.get("version") == GENERATOR_VERSION
    except (OSError, ValueError, KeyError, TypeError):
        current = False
    _CHECKED[path] = current
    return current


def _write_atomic(path: Path, document: dict[str, object]) -> None:
    """Write ``document`` as JSON to ``path`` so concurrent writers never leave a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
