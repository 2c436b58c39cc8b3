"""The reference engine: TextWorld's PDDL engine with ALFWorld's name demangling (``[alfworld]`` extra).

Costs measured on this project's machines: loading a game ~0.5 s, a reset ~0.3-0.6 s, a step
~60-80 ms. Most of a load or reset is fast-downward's PDDL-to-SAS translation of the problem, which
TextWorld redoes on every reset; this engine memoises that translation per process (keyed by a hash
of domain + problem), so the second and later resets of a game, in any engine of the process, skip it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from proxmo_bench.envs.alfworld.engine import (
    EngineState,
    EngineUnavailableError,
    GameFileError,
    read_game_file,
)

_EXTRA_HINT = (
    "the ALFWorld family needs the TextWorld engine: install the extra with "
    "`pip install 'proxmo-bench[alfworld]'` (alfworld==0.4.2, textworld, fast-downward-textworld)"
)

_import_lock = threading.Lock()
_modules: dict[str, Any] = {}


def import_engine_modules() -> dict[str, Any]:
    """Import textworld, fast_downward and ALFWorld's demangler once, without side effects on disk.

    ``alfworld.info`` creates ``$ALFWORLD_DATA`` (default ``~/.cache/alfworld``) at import time and
    writes the variable into ``os.environ``. Nothing of ALFWorld's data is needed here, so the import
    runs with ``ALFWORLD_DATA`` pointed at a scratch directory and the variable is restored after.

    Raises:
        EngineUnavailableError: the ``[alfworld]`` extra is not installed.
    """
    with _import_lock:
        if _modules:
            return _modules
        previous = os.environ.get("ALFWORLD_DATA")
        scratch = Path(tempfile.gettempdir()) / "proxmo_bench_alfworld_import"
        os.environ["ALFWORLD_DATA"] = str(scratch)
        try:
            import fast_downward
            import textworld
            import textworld.envs.pddl.logic as pddl_logic
            from alfworld.agents.environment.alfred_tw_env import AlfredDemangler
            from textworld.envs.pddl.pddl import PddlEnv
        except ImportError as exc:
            raise EngineUnavailableError(f"{_EXTRA_HINT} ({exc})") from exc
        finally:
            if previous is None:
                os.environ.pop("ALFWORLD_DATA", None)
            else:
                os.environ["ALFWORLD_DATA"] = previous
        _modules.update(
            textworld=textworld,
            fast_downward=fast_downward,
            pddl_logic=pddl_logic,
            PddlEnv=PddlEnv,
            AlfredDemangler=AlfredDemangler,
        )
        return _modules


class _TranslationCache:
    """Process-wide LRU memo of ``fast_downward.pddl2sas`` results.

    TextWorld's ``PddlState`` only reads the translated task (types, actions, objects, init) and
    hands the SAS text to its own copy of the planner library, so one translation can serve every
    state built from the same domain and problem.
    """

    def __init__(self, max_entries: int = 64) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def installed(self, fast_downward: Any) -> Iterator[None]:
        """Route ``fast_downward.pddl2sas`` through this cache while the block runs."""
        original = fast_downward.pddl2sas

        def pddl2sas(
            domain: str, problem: str, verbose: bool = False, optimize: bool = False
        ) -> Any:
            key = hashlib.sha256(f"{optimize}\0{domain}\0{problem}".encode()).hexdigest()
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None:
                    self._entries.move_to_end(key)
                    return hit
            result = original(domain, problem, verbose=verbose, optimize=optimize)
            with self._lock:
                self._entries[key] = result
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
            return result

        with self._lock:
            fast_downward.pddl2sas = pddl2sas
        try:
            yield
        finally:
            fast_downward.pddl2sas = original


_TRANSLATIONS = _TranslationCache()


def translation_cache() -> contextlib.AbstractContextManager[None]:
    """Context in which TextWorld's PDDL translations go through the process-wide memo."""
    return _TRANSLATIONS.installed(import_engine_modules()["fast_downward"])


class TextWorldEngine:
    """TextWorld's ``PddlEnv`` wrapped with ALFWorld's ``AlfredDemangler`` (see ``engine.Engine``).

    One ``PddlEnv`` (and so one private copy of the planner library) lives as long as this engine;
    loading another game reuses it.
    """

    name = "textworld"

    def __init__(self) -> None:
        mods = import_engine_modules()
        self._fast_downward = mods["fast_downward"]
        infos = mods["textworld"].EnvInfos(won=True, admissible_commands=True)
        self._env: Any = mods["AlfredDemangler"](mods["PddlEnv"](infos))
        self._pddl_logic = mods["pddl_logic"]
        self._loaded: Path | None = None
        self._initial: Any = None  # the GameState after the first reset of the loaded game

    def load(self, game_file: Path) -> None:
        path = Path(game_file).resolve()
        if path == self._loaded:
            return
        data = read_game_file(path)
        if "format" in data:
            raise GameFileError(
                f"ALFWorld game file {path} is a compact generated game (no domain and grammar "
                "texts), which only engine='fast' plays; with the [alfworld] extra installed the "
                "generated-games source writes full files instead"
            )
        self._loaded = None
        self._initial = None
        try:
            with _TRANSLATIONS.installed(self._fast_downward):
                self._env.load(data)
        except Exception as exc:  # the engine's parse errors are of many kinds
            raise GameFileError(
                f"ALFWorld game file {path} could not be loaded by TextWorld: {exc!r:.500}"
            ) from exc
        self._loaded = path

    @property
    def loaded(self) -> Path | None:
        """The game file currently loaded, if any."""
        return self._loaded

    def reset(self) -> EngineState:
        if self._loaded is None:
            raise RuntimeError("TextWorldEngine.reset: load a game file first")
        if self._initial is not None and self._restore_initial():
            return self._convert(self._initial, done=False)
        with _TRANSLATIONS.installed(self._fast_downward):
            state = self._env.reset()
        self._initial = state
        return self._convert(state, done=False)

    def _restore_initial(self) -> bool:
        """Put the game back in its initial state without re-deriving the initial text.

        ``PddlEnv.reset`` rebuilds the planner state and then derives the intro and every
        admissible command through the grammar, which costs as much as the rest together. The
        derived initial ``GameState`` does not change between resets of a game, so it is kept from
        the first reset; only the planner state is rebuilt (with the memoised translation) and
        asked for its applicable operators, which ``step`` looks actions up in. Returns False (the
        caller then does a full reset) if this TextWorld lacks the attributes this relies on.
        """
        base = self._env.unwrapped
        needed = ("_pddl_state", "_game_data", "_logic", "downward_lib", "prev_state")
        if not all(hasattr(base, a) for a in needed):
            return False
        with _TRANSLATIONS.installed(self._fast_downward):
            pddl_state = self._pddl_logic.PddlState(
                base.downward_lib, base._game_data["pddl_problem"], base._logic
            )
        pddl_state.all_applicable_actions()
        base._pddl_state = pddl_state
        base.prev_state = None
        base._last_action = None
        base._moves = 0
        base.state = self._initial
        return True

    def step(self, command: str) -> EngineState:
        if self._loaded is None:
            raise RuntimeError("TextWorldEngine.step: load a game file first")
        state, _, done = self._env.step(str(command))
        return self._convert(state, done=bool(done))

    @staticmethod
    def _convert(state: Any, done: bool) -> EngineState:
        won = bool(state["won"])
        admissible = tuple(c for c in state["admissible_commands"] if c != "help")
        return EngineState(
            obs=str(state["feedback"]), won=won, done=done or won, admissible=admissible
        )

    def close(self) -> None:
        self._env = None
        self._loaded = None
