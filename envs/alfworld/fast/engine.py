"""``FastEngine``: the pure-Python ALFWorld engine behind ``engine="fast"``.

It keeps the contract of :class:`proxmo_bench.envs.alfworld.engine.Engine` and plays the official
game files with the same texts, admissible commands and ``won`` flags as the TextWorld engine
(``equivalence.py`` measures the agreement), without fast-downward: a load parses the game file
(a few milliseconds) and a step is a few dictionary updates.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from proxmo_bench.envs.alfworld.engine import EngineState, GameFileError, read_game_file
from proxmo_bench.envs.alfworld.fast.problem import parse_game
from proxmo_bench.envs.alfworld.fast.world import StaticWorld, World


class _StaticCache:
    """Process-wide LRU of parsed games, keyed by path, size and modification time."""

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, int, int], StaticWorld] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, path: Path) -> StaticWorld:
        try:
            stat = path.stat()
        except OSError as exc:
            raise GameFileError(f"ALFWorld game file not found: {path}") from exc
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                self._entries.move_to_end(key)
                return hit
        static = load_static(path)
        with self._lock:
            self._entries[key] = static
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return static

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def load_static(path: Path) -> StaticWorld:
    """Read and index one game file, with no caching.

    Raises:
        GameFileError: the file is missing, not JSON, lacks a key, or is not an ALFRED game.
    """
    data = read_game_file(path)
    problem = parse_game(data, path)
    try:
        return StaticWorld.build(problem)
    except ValueError as exc:
        raise GameFileError(f"ALFWorld game file {path}: field 'pddl_problem': {exc}") from exc


GAME_CACHE = _StaticCache()


class FastEngine:
    """Pure-Python ALFWorld engine (see :class:`proxmo_bench.envs.alfworld.engine.Engine`)."""

    name = "fast"

    def __init__(self) -> None:
        self._static: StaticWorld | None = None
        self._world: World | None = None
        self._loaded: Path | None = None

    @property
    def loaded(self) -> Path | None:
        """The game file currently loaded, if any."""
        return self._loaded

    @property
    def walkthrough(self) -> tuple[str, ...]:
        """The loaded game's solving commands, as stored in its file."""
        if self._static is None:
            raise RuntimeError("FastEngine.walkthrough: load a game file first")
        return self._static.problem.walkthrough

    def load(self, game_file: Path) -> None:
        path = Path(game_file).resolve()
        if path == self._loaded:
            return
        self._loaded = None
        self._static = GAME_CACHE.get(path)
        self._world = None
        self._loaded = path

    def reset(self) -> EngineState:
        if self._static is None:
            raise RuntimeError("FastEngine.reset: load a game file first")
        self._world = World(self._static)
        return self._state(self._world.intro())

    def step(self, command: str) -> EngineState:
        if self._world is None:
            raise RuntimeError("FastEngine.step: reset the game first")
        return self._state(self._world.apply(str(command).strip()))

    def _state(self, obs: str) -> EngineState:
        world = self._world
        assert world is not None
        won = world.won
        return EngineState(obs=obs, won=won, done=won, admissible=world.admissible())

    def __deepcopy__(self, memo: dict[int, object]) -> FastEngine:
        """A copy that plays on independently: the parsed game is shared, the play-through is
        cloned (:meth:`World.clone`), so ``deepcopy`` is exact and costs a few set copies."""
        new = FastEngine()
        new._static, new._loaded = self._static, self._loaded
        new._world = None if self._world is None else self._world.clone()
        memo[id(self)] = new
        return new

    def close(self) -> None:
        self._static = None
        self._world = None
        self._loaded = None
