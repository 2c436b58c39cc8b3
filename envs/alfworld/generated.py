"""Generated games as a game source: task ids per split, seeds, and the on-disk cache.

Task ids are ``"<split>/<category>/<index>"`` (e.g. ``"train/heat/17"``). Each id maps to a seed
(a hash of the split, category and index), and the game is ``generate_game(seed, category,
difficulty)``, written on first use to::

    <cache_dir>/generator-v<GENERATOR_VERSION>/<category>-d<difficulty>-<seed>.tw-pddl
    <cache_dir>/digests/generator-v<GENERATOR_VERSION>/<category>-d<difficulty>-<seed>.tw-pddl.json

(``.compact.json`` instead of ``.tw-pddl`` for a compact game, see :meth:`game_file_for_seed`), so a
cached file is keyed by (generator version, seed) plus the two other generator inputs. The
cache directory is ``cache_dir`` if given, else ``$PROXMO_ALFWORLD_CACHE``, else
``$XDG_CACHE_HOME/proxmo-bench/alfworld`` (``~/.cache/proxmo-bench/alfworld``).

Each game file is written atomically, then its digest file (:mod:`proxmo_bench.envs.cache_digest`;
kept apart, so the game folder holds games only): the file's SHA-256 and the settings that produced
it (:func:`entry_settings`: cache layout and generator versions, the generator inputs, and the
digest of the source: ALFWorld's logic files for a full game, the shipped pre-solved entry for a
compact one). Pool workers generating the same game at once write identical bytes, so the last
writer wins with the same content. At an entry's first use in a process (and again when either
file changes on disk) both digests are recomputed and the problem is redrawn; an entry that fails
(a changed or missing file, a missing or corrupt digest, other settings, a problem this generator
no longer draws) is regenerated with one
:class:`~proxmo_bench.envs.cache_digest.CacheRebuiltWarning`, and the regenerated game is used.

Splits draw disjoint seeds from the same generator; valid_unseen is therefore not a distribution
shift in the sense of the official split (new rooms), only unseen layouts.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

from proxmo_bench.atomic_files import write_atomic
from proxmo_bench.cache_digest import Setting, check_digest, warn_rebuilt, write_digest
from proxmo_bench.envs.alfworld import generator
from proxmo_bench.envs.alfworld.engine import EngineUnavailableError
from proxmo_bench.envs.alfworld.fast.problem import PACKAGE_DOMAIN_FINGERPRINT
from proxmo_bench.envs.alfworld.generator import (
    DIFFICULTIES,
    GENERATOR_VERSION,
    compact_game,
    draw_problem,
    generate_game,
)
from proxmo_bench.envs.alfworld.presolved import Solution, presolved
from proxmo_bench.envs.alfworld.task_types import CATEGORIES

#: Tasks per category in each split.
TASKS_PER_CATEGORY: dict[str, int] = {"train": 600, "valid_seen": 24, "valid_unseen": 24}

CACHE_ENV_VAR = "PROXMO_ALFWORLD_CACHE"
#: The cache's name in digest files and warnings.
GAME_CACHE = "ALFWorld generated-game"
#: Bump when the cache's layout (game file + digest file) changes; part of every entry's settings.
CACHE_VERSION = "2"
#: The folder, under the cache directory, of the games' digest files.
DIGESTS_DIR = "digests"


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
        usable = None
        if path.exists() or _digest_path(path).exists():
            full = entry_settings(seed, category, self.difficulty, "full")
            # Without the [alfworld] extra the logic files' digest is unknown: any recorded is taken.
            unknown = ("logic_files_sha256",) if full["logic_files_sha256"] is None else ()
            usable = _usable(path, seed, category, self.difficulty, full, unknown)
            if usable:
                return path
        try:
            game = generate_game(seed, category, self.difficulty)
        except EngineUnavailableError as missing:
            if usable is False:  # a failing full file that cannot be regenerated here: drop it
                path.unlink(missing_ok=True)
                _digest_path(path).unlink(missing_ok=True)
            compact_path = folder / f"{stem}.compact.json"
            compact_settings = entry_settings(seed, category, self.difficulty, "compact")
            if _usable(compact_path, seed, category, self.difficulty, compact_settings):
                return compact_path
            compact = compact_game(seed, category, self.difficulty)
            if compact is None:
                raise EngineUnavailableError(
                    f"generated ALFWorld game {stem} is not among the pre-solved games shipped "
                    f"with proxmo-bench, and generating it needs the planner: {missing}"
                ) from missing
            _store(compact_path, compact, compact_settings)
            return compact_path
        _store(path, game, entry_settings(seed, category, self.difficulty, "full"))
        return path


@functools.lru_cache(maxsize=4)
def _texts_sha256(*texts: str) -> str:
    h = hashlib.sha256()
    for text in texts:
        h.update(text.encode("utf-8") + b"\x00")
    return h.hexdigest()


@functools.lru_cache(maxsize=4096)
def _solution_sha256(solution: Solution | None) -> str | None:
    if solution is None:
        return None
    record = [solution.attempt, list(solution.walkthrough), solution.problem_sha256]
    return hashlib.sha256(json.dumps(record, separators=(",", ":")).encode()).hexdigest()


def entry_settings(seed: int, category: str, difficulty: int, kind: str) -> dict[str, Setting]:
    """The settings a cached game of ``kind`` (``"full"`` or ``"compact"``) is built with.

    Besides the versions and the generator inputs, the digest of the source it is built from: a
    full game embeds ALFWorld's ``alfred.pddl`` and ``alfred.twl2`` (``logic_files_sha256``, None
    when the ``[alfworld]`` extra is not installed), a compact game the shipped pre-solved entry
    (``presolved_sha256``, None when the input is not shipped) and names the domain by fingerprint.
    """
    settings: dict[str, Setting] = {
        "cache_version": CACHE_VERSION,
        "generator_version": GENERATOR_VERSION,
        "kind": kind,
        "seed": seed,
        "category": category,
        "difficulty": difficulty,
    }
    if kind == "full":
        try:
            settings["logic_files_sha256"] = _texts_sha256(*generator.logic_files())
        except EngineUnavailableError:
            settings["logic_files_sha256"] = None
    elif kind == "compact":
        settings["pddl_domain_sha256"] = PACKAGE_DOMAIN_FINGERPRINT
        found = presolved(seed, category, difficulty, GENERATOR_VERSION)
        settings["presolved_sha256"] = _solution_sha256(found)
    else:
        raise ValueError(f"kind must be 'full' or 'compact', got {kind!r}")
    return settings


def _digest_path(path: Path) -> Path:
    """``<cache_dir>/digests/generator-vN/<name>.json`` for ``<cache_dir>/generator-vN/<name>``."""
    folder = path.parent
    return folder.parent.joinpath(DIGESTS_DIR, folder.name, path.name + ".json")


#: Entries that passed their check in this process: path -> (both files' stat signature, settings).
_CHECKED: dict[Path, tuple[tuple[int, ...], dict[str, Setting]]] = {}


def _signature(path: Path, digest: Path) -> tuple[int, ...] | None:
    """Inode, size and times of a game file and its digest file (None if either is absent)."""
    try:
        stats = (os.stat(path), os.stat(digest))
    except OSError:
        return None
    return tuple(v for st in stats for v in (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns))


def _usable(
    path: Path,
    seed: int,
    category: str,
    difficulty: int,
    settings: dict[str, Setting],
    unverifiable: tuple[str, ...] = (),
) -> bool | None:
    """Whether the cached game at ``path`` may be used: True, None (no entry there) or False.

    False: the entry failed its check; a :class:`CacheRebuiltWarning` says why, and the caller
    regenerates it. The check (hashes, settings, the problem redrawn) runs at an entry's first use
    in a process and again whenever either file's stat (inode, size, modification or change time)
    or the settings differ from when it passed; other calls cost two ``stat``s.
    """
    digest = _digest_path(path)
    signature = _signature(path, digest)
    if signature is not None and _CHECKED.get(path) == (signature, settings):
        return True
    if signature is None and not path.exists() and not digest.exists():
        return None
    why = check_digest(digest, GAME_CACHE, settings, [path], unverifiable=unverifiable)
    if why is None:
        why = _problem_mismatch(path, seed, category, difficulty)
    if why is None and signature is not None:
        _CHECKED[path] = (signature, settings)
        return True
    _CHECKED.pop(path, None)
    warn_rebuilt(GAME_CACHE, path, why or "it changed while it was checked", "from the generator")
    return False


def _problem_mismatch(path: Path, seed: int, category: str, difficulty: int) -> str | None:
    """Why the game at ``path`` is not what this generator draws for its inputs, or None.

    A file that passed its digest check was written by this generator version; this catches a
    generator changed without a :data:`GENERATOR_VERSION` bump, so a cache can never silently hold
    games that a fresh machine would not produce.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        meta = doc["generator"]
        _, problem = draw_problem(seed, category, difficulty, int(meta["attempt"]))
        current = problem == doc["pddl_problem"] and meta.get("version") == GENERATOR_VERSION
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return f"it cannot be read as a generated game ({type(exc).__name__}: {exc})"
    if not current:
        return (
            "its problem is not what this generator draws for its inputs (the generator changed "
            f"without a GENERATOR_VERSION bump, now {GENERATOR_VERSION!r}?)"
        )
    return None


def _store(path: Path, document: dict[str, object], settings: dict[str, Setting]) -> None:
    """Write ``document`` as JSON to ``path``, then its digest file, each atomically.

    Concurrent writers of one game write identical bytes, so whichever rename lands last leaves the
    same entry; a reader never sees part of a file.
    """
    write_atomic(path, json.dumps(document))
    digest = _digest_path(path)
    write_digest(digest, GAME_CACHE, settings, [path])
    signature = _signature(path, digest)
    if signature is not None:
        _CHECKED[path] = (signature, settings)
