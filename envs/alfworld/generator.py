"""Procedural ALFWorld games: a room, its receptacles and objects, and one of the six task types,
written as a ``game.tw-pddl`` file for ALFWorld's shipped ``alfred.pddl`` domain and ``alfred.twl2``
grammar.

``generate_game(seed, category, difficulty)`` is a pure function of its arguments (and of
:data:`GENERATOR_VERSION`): the same inputs give byte-identical game files on every machine. A layout
is kept only when fast-downward (through TextWorld) finds a plan for it and replaying that plan in
the engine wins; the plan is stored as the game's ``walkthrough``. A layout that fails is redrawn
from the next attempt's RNG stream (deterministically).

Names follow the official games so TextWorld's ALFRED demangler shows them as people read them:
object ids carry fake coordinates in the ``_bar_`` form (``Apple_bar__plus_01_dot_20_bar_...`` shows
as "apple 1"), sink and bathtub basins use the ``Sink_bar_..._bar_SinkBasin`` form (shown as
"sinkbasin 1"), and every problem declares the type constants the domain's actions name.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from proxmo_bench.envs.alfworld.engine import COMPACT_GAME_FORMAT, EngineUnavailableError
from proxmo_bench.envs.alfworld.fast.problem import PACKAGE_DOMAIN_FINGERPRINT
from proxmo_bench.envs.alfworld.presolved import Solution, presolved, problem_sha256
from proxmo_bench.envs.alfworld.scenes import (
    CLEANABLE,
    COOLABLE,
    DOMAIN_CONSTANTS,
    HEATABLE,
    LAMP_PLACES,
    OBJECT_PLACES,
    OPENABLE,
    RECEPTACLE_OBJECTS,
    ROOMS,
    Room,
)
from proxmo_bench.envs.alfworld.task_types import CATEGORIES, CATEGORY_TO_TASK_TYPE

#: Bump on any change that alters generated files; it is part of every cache key.
GENERATOR_VERSION = "1"

#: Difficulty levels: 1 (small rooms, few distractors) .. 3 (full rooms, many distractors).
DIFFICULTIES: tuple[int, ...] = (1, 2, 3)

#: Goal sentences of the official games (ALFWorld's templated task descriptions), per category.
GOAL_TEMPLATES: dict[str, tuple[str, ...]] = {
    "pick": ("put a {obj} in {recep}", "put some {obj} on {recep}"),
    "look": ("look at {obj} under the {toggle}", "examine the {obj} with the {toggle}"),
    "clean": ("put a clean {obj} in {recep}", "clean some {obj} and put it in {recep}"),
    "heat": ("put a hot {obj} in {recep}", "heat some {obj} and put it in {recep}"),
    "cool": ("put a cool {obj} in {recep}", "cool some {obj} and put it in {recep}"),
    "pick2": ("put two {obj} in {recep}", "find two {obj} and put them in {recep}"),
}

#: The appliance each transforming task needs (and which is never its goal receptacle).
_APPLIANCE = {"clean": "SinkBasin", "heat": "Microwave", "cool": "Fridge"}
_PROPERTY = {"clean": CLEANABLE, "heat": HEATABLE, "cool": COOLABLE}
_DISTRACTORS = {1: (2, 4), 2: (5, 9), 3: (10, 16)}
_MAX_ATTEMPTS = 8


class GenerationError(RuntimeError):
    """No solvable layout was found for a (seed, category, difficulty)."""


# ---- logic files ---------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def logic_files() -> tuple[str, str]:
    """``(alfred.pddl, alfred.twl2)`` as shipped inside the ``alfworld`` package.

    Located without importing ``alfworld`` (whose import creates ``$ALFWORLD_DATA`` on disk).

    Raises:
        EngineUnavailableError: the ``[alfworld]`` extra is not installed.
    """
    spec = importlib.util.find_spec("alfworld")
    if spec is None or not spec.submodule_search_locations:
        raise EngineUnavailableError(
            "generating ALFWorld games needs the logic files of the `alfworld` package: "
            "`pip install 'proxmo-bench[alfworld]'`"
        )
    data = Path(next(iter(spec.submodule_search_locations))) / "data"
    return (data / "alfred.pddl").read_text(), (data / "alfred.twl2").read_text()


# ---- layout --------------------------------------------------------------------------------------
@dataclass
class Layout:
    """A drawn scene and task, before it is written as PDDL."""

    room: str
    category: str
    target: str
    goal_recep: str | None
    goal_text: str
    receptacles: list[tuple[str, str]] = field(default_factory=list)  # (id, rtype)
    objects: list[tuple[str, str, str]] = field(default_factory=list)  # (id, otype, receptacle id)
    locations: dict[str, str] = field(default_factory=dict)  # receptacle id -> location id
    start: str = ""


def _signed(value: float) -> str:
    sign = "_plus_" if value >= 0 else "_minus_"
    return sign + f"{abs(value):05.2f}".replace(".", "_dot_")


def _signed_int(value: int) -> str:
    return f"_minus_{-value}" if value < 0 else str(value)


class _Namer:
    """Unique ALFRED-style ids with coordinates drawn from the layout's RNG."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def _coords(self) -> str:
        x, y, z = (
            self.rng.uniform(-3.5, 3.5),
            self.rng.uniform(0.0, 2.2),
            self.rng.uniform(-3.5, 3.5),
        )
        return f"{_signed(x)}_bar_{_signed(y)}_bar_{_signed(z)}"

    def thing(self, kind: str) -> str:
        while True:
            coords = self._coords()
            if kind == "SinkBasin":
                name = f"Sink_bar_{coords}_bar_SinkBasin"
            elif kind == "BathtubBasin":
                name = f"Bathtub_bar_{coords}_bar_BathtubBasin"
            else:
                name = f"{kind}_bar_{coords}"
            if name not in self.used:
                self.used.add(name)
                return name

    def location(self) -> str:
        while True:
            x, z = (int(v) for v in self.rng.integers(-9, 10, size=2))
            rot = int(self.rng.integers(0, 4))
            horizon = int(self.rng.choice([0, 15, 30, 45, 60]))
            name = f"loc_bar_{_signed_int(x)}_bar_{_signed_int(z)}_bar_{rot}_bar_{horizon}"
            if name not in self.used:
                self.used.add(name)
                return name


def _room_supports(room: Room, category: str) -> bool:
    rtypes = {s.rtype for s in room.receptacles}
    if category == "look":
        return room.has_lamp
    if category in _APPLIANCE:
        return _APPLIANCE[category] in rtypes
    return True


def _draw_receptacle_types(room: Room, difficulty: int, rng: np.random.Generator) -> list[str]:
    types: list[str] = []
    for spec in room.receptacles:
        hi = spec.lo + math.ceil((spec.hi - spec.lo) * difficulty / len(DIFFICULTIES))
        types += [spec.rtype] * int(rng.integers(spec.lo, hi + 1))
    return types


def _task_choices(room: Room, category: str, present: set[str]) -> list[tuple[str, str | None]]:
    """(target object type, goal receptacle type) pairs this room can host for ``category``."""
    choices: list[tuple[str, str | None]] = []
    for otype in room.objects:
        if category in _PROPERTY and otype not in _PROPERTY[category]:
            continue
        places = [r for r in OBJECT_PLACES[otype] if r in present]
        if category == "look":
            if places:
                choices.append((otype, None))
            continue
        for goal in places:
            if goal == _APPLIANCE.get(category):
                continue
            if any(r != goal for r in places):  # somewhere else to start from
                choices.append((otype, goal))
    return choices


def draw_layout(seed: int, category: str, difficulty: int, attempt: int) -> Layout:
    """The layout of attempt ``attempt`` for ``(seed, category, difficulty)`` (pure function)."""
    rng = np.random.default_rng([seed, CATEGORIES.index(category), difficulty, attempt])
    rooms = [r for r in ROOMS.values() if _room_supports(r, category)]
    room = rooms[int(rng.integers(len(rooms)))]
    rtypes = _draw_receptacle_types(room, difficulty, rng)
    present = set(rtypes)
    choices = _task_choices(room, category, present)
    if not choices:
        raise GenerationError(f"room {room.name} cannot host a {category} task")
    target, goal_recep = choices[int(rng.integers(len(choices)))]
    template = GOAL_TEMPLATES[category][int(rng.integers(len(GOAL_TEMPLATES[category])))]
    goal_text = template.format(
        obj=target.lower(), recep=(goal_recep or "").lower(), toggle="desklamp"
    )
    namer = _Namer(rng)
    layout = Layout(room.name, category, target, goal_recep, goal_text)
    layout.receptacles = [(namer.thing(t), t) for t in rtypes]
    for rid, _ in layout.receptacles:
        layout.locations[rid] = namer.location()
    layout.start = namer.location()

    def place(otype: str, exclude: str | None) -> None:
        spots = [
            rid for rid, rt in layout.receptacles if rt in OBJECT_PLACES[otype] and rt != exclude
        ]
        if spots:
            rid = spots[int(rng.integers(len(spots)))]
            layout.objects.append((namer.thing(otype), otype, rid))

    n_target = (2 if category == "pick2" else 1) + int(rng.integers(0, difficulty))
    for _ in range(n_target):
        place(target, goal_recep)
    lamp_spots = [rid for rid, rt in layout.receptacles if rt in LAMP_PLACES]
    if room.has_lamp and lamp_spots and (category == "look" or rng.random() < 0.5):
        rid = lamp_spots[int(rng.integers(len(lamp_spots)))]
        layout.objects.append((namer.thing("DeskLamp"), "DeskLamp", rid))
    lo, hi = _DISTRACTORS[difficulty]
    others = [o for o in room.objects if o != target]
    for _ in range(int(rng.integers(lo, hi + 1))):
        place(others[int(rng.integers(len(others)))], None)
    return layout


# ---- PDDL ----------------------------------------------------------------------------------------
def _goal_pddl(layout: Layout) -> str:
    ot = f"{layout.target}Type"
    rt = f"{layout.goal_recep}Type"
    if layout.category == "look":
        return (
            "(and (exists (?ot - object ?r - receptacle ?a - agent ?l - location)"
            " (and (objectType ?ot DeskLampType) (toggleable ?ot) (isToggled ?ot)"
            " (receptacleAtLocation ?r ?l) (atLocation ?a ?l) (inReceptacle ?ot ?r)))"
            f" (exists (?o - object ?a - agent) (and (objectType ?o {ot}) (holds ?a ?o))))"
        )
    if layout.category == "pick2":
        return (
            "(and (exists (?r - receptacle) (exists (?o1 - object) (and"
            f" (objectType ?o1 {ot}) (receptacleType ?r {rt}) (inReceptacle ?o1 ?r)"
            " (exists (?o2 - object) (and (not (= ?o1 ?o2))"
            f" (objectType ?o2 {ot}) (receptacleType ?r {rt}) (inReceptacle ?o2 ?r)))))))"
        )
    state = {"clean": ("cleanable", "isClean"), "heat": ("heatable", "isHot"),
             "cool": ("coolable", "isCool")}.get(layout.category)  # fmt: skip
    extra = f" ({state[0]} ?o) ({state[1]} ?o)" if state else ""
    return (
        "(and (exists (?r - receptacle) (exists (?o - object) (and"
        f" (inReceptacle ?o ?r) (objectType ?o {ot}) (receptacleType ?r {rt}){extra}))))"
    )


def problem_text(layout: Layout, name: str) -> str:
    """The PDDL problem of ``layout`` for the ``alfred`` domain."""
    otypes = sorted(
        {o[1] for o in layout.objects} | {layout.target} | set(DOMAIN_CONSTANTS["otype"])
    )
    rtypes = sorted({r[1] for r in layout.receptacles} | set(DOMAIN_CONSTANTS["rtype"]))
    locs = sorted({*layout.locations.values(), layout.start})
    objects = ["agent1 - agent"]
    objects += [f"{t}Type - otype" for t in otypes]
    objects += [f"{t}Type - rtype" for t in rtypes]
    objects += [f"{oid} - object" for oid, _, _ in layout.objects]
    objects += [f"{rid} - receptacle" for rid, _ in layout.receptacles]
    objects += [f"{loc} - location" for loc in locs]
    present_r = {r[1] for r in layout.receptacles}
    present_o = {o[1] for o in layout.objects}
    init: list[str] = [f"(atLocation agent1 {layout.start})"]
    for rid, rt in layout.receptacles:
        init.append(f"(receptacleType {rid} {rt}Type)")
        init.append(f"(receptacleAtLocation {rid} {layout.locations[rid]})")
        if rt in OPENABLE:
            init.append(f"(openable {rid})")
    for ot in sorted(present_o):
        for rt in OBJECT_PLACES.get(ot, ()):
            if rt in present_r:
                init.append(f"(canContain {rt}Type {ot}Type)")
    for oid, ot, rid in layout.objects:
        init.append(f"(objectType {oid} {ot}Type)")
        init.append(f"(inReceptacle {oid} {rid})")
        init.append(f"(objectAtLocation {oid} {layout.locations[rid]})")
        if ot == "DeskLamp":
            init.append(f"(toggleable {oid})")
            continue
        init.append(f"(pickupable {oid})")
        for prop, members in (("cleanable", CLEANABLE), ("heatable", HEATABLE),
                              ("coolable", COOLABLE), ("isReceptacleObject", RECEPTACLE_OBJECTS)):  # fmt: skip
            if ot in members:
                init.append(f"({prop} {oid})")
    lines = [f"(define (problem {name})", "(:domain alfred)", "(:objects"]
    lines += [f"    {o}" for o in objects]
    lines += ["    )", "(:init"]
    lines += [f"    {fact}" for fact in init]
    lines += ["    )", f"(:goal {_goal_pddl(layout)})", ")", ""]
    return "\n".join(lines)


# ---- planner check -------------------------------------------------------------------------------
class _Planner:
    """A TextWorld PDDL env asked for the planner's policy; one per process (lazily built)."""

    _instance: _Planner | None = None

    def __init__(self) -> None:
        from proxmo_bench.envs.alfworld.textworld_engine import import_engine_modules

        mods = import_engine_modules()
        infos = mods["textworld"].EnvInfos(won=True, admissible_commands=True, policy_commands=True)
        self.env: Any = mods["AlfredDemangler"](mods["PddlEnv"](infos))

    @classmethod
    def get(cls) -> _Planner:
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def solve(self, game: dict[str, Any]) -> list[str] | None:
        """The planner's plan if replaying it in the engine wins the game, else ``None``."""
        from proxmo_bench.envs.alfworld.textworld_engine import translation_cache

        with translation_cache():
            self.env.load(game)
            state = self.env.reset()
        plan = [str(c) for c in (state["policy_commands"] or [])]
        if not plan or state["won"]:
            return None
        for command in plan:
            if command not in state["admissible_commands"]:
                return None
            state, _, _ = self.env.step(command)
        return plan if state["won"] else None


def _check_inputs(seed: int, category: str, difficulty: int) -> None:
    if category not in CATEGORIES:
        raise ValueError(f"category must be one of {list(CATEGORIES)}, got {category!r}")
    if difficulty not in DIFFICULTIES:
        raise ValueError(f"difficulty must be one of {list(DIFFICULTIES)}, got {difficulty!r}")
    if seed < 0:
        raise ValueError(f"seed must be non-negative, got {seed}")


def draw_problem(seed: int, category: str, difficulty: int, attempt: int) -> tuple[Layout, str]:
    """The layout and PDDL problem text of one attempt (pure; no planner)."""
    layout = draw_layout(seed, category, difficulty, attempt)
    name = f"gen_{CATEGORY_TO_TASK_TYPE[category]}_{seed}_{difficulty}_{attempt}"
    return layout, problem_text(layout, name)


def _meta(
    seed: int, category: str, difficulty: int, layout: Layout, attempt: int
) -> dict[str, Any]:
    return {
        "version": GENERATOR_VERSION,
        "seed": seed,
        "category": category,
        "difficulty": difficulty,
        "room": layout.room,
        "attempt": attempt,
    }


def _shipped_solution(
    seed: int, category: str, difficulty: int
) -> tuple[Layout, str, Solution] | None:
    """The pre-solved attempt of this input with its layout and problem, when shipped and current."""
    solution = presolved(seed, category, difficulty, GENERATOR_VERSION)
    if solution is None:
        return None
    layout, problem = draw_problem(seed, category, difficulty, solution.attempt)
    if problem_sha256(problem) != solution.problem_sha256:
        return None  # the index was written by another generator: ask the planner
    return layout, problem, solution


def generate_game(
    seed: int, category: str, difficulty: int = 2, *, use_presolved: bool = True
) -> dict[str, Any]:
    """A solvable ``game.tw-pddl`` document (a JSON-ready dict) for the given inputs.

    Keys: ``pddl_domain``, ``grammar`` (with the goal sentence filled in), ``pddl_problem``,
    ``solvable`` (True), ``walkthrough`` (the checked plan), ``generator`` (version, seed, category,
    difficulty, room, attempt). Inputs whose planner outcome ships in :mod:`.presolved` are built
    without running the planner (``use_presolved=False`` runs it anyway); the result is the same.

    Raises:
        ValueError: unknown category or difficulty, or a negative seed.
        GenerationError: no attempt produced a solvable layout.
        EngineUnavailableError: the ``[alfworld]`` extra (logic files, planner) is not installed.
    """
    _check_inputs(seed, category, difficulty)
    domain, grammar = logic_files()

    def document(layout: Layout, problem: str, plan: Sequence[str], attempt: int) -> dict[str, Any]:
        return {
            "pddl_domain": domain,
            "grammar": grammar.replace("UNKNOWN GOAL", layout.goal_text),
            "pddl_problem": problem,
            "solvable": True,
            "walkthrough": list(plan),
            "generator": _meta(seed, category, difficulty, layout, attempt),
        }

    shipped = _shipped_solution(seed, category, difficulty) if use_presolved else None
    if shipped is not None:
        layout, problem, solution = shipped
        return document(layout, problem, solution.walkthrough, solution.attempt)
    planner = _Planner.get()
    for attempt in range(_MAX_ATTEMPTS):
        layout, problem = draw_problem(seed, category, difficulty, attempt)
        game = document(layout, problem, [], attempt)
        plan = planner.solve({k: game[k] for k in ("pddl_domain", "grammar", "pddl_problem")})
        if plan is None:
            continue
        game["walkthrough"] = plan
        return game
    raise GenerationError(
        f"no solvable ALFWorld layout for seed={seed}, category={category!r}, "
        f"difficulty={difficulty} in {_MAX_ATTEMPTS} attempts"
    )


#: The task sentence that ``alfred.twl2``'s ``task`` rule prints for a goal.
TASK_SENTENCE = "Your task is to: {goal}."


def compact_game(seed: int, category: str, difficulty: int) -> dict[str, Any] | None:
    """A compact game document for a pre-solved input, or ``None`` when it is not shipped.

    It carries what the fast engine reads from a full file, with no ``alfworld`` files needed: the
    problem, the task sentence, the walkthrough, the generator metadata, and the fingerprint of the
    ``alfred.pddl`` domain the full file would carry (``pddl_domain_sha256``). Only the fast engine
    plays it; :func:`generate_game` builds the full file from the same inputs where ``alfworld`` is
    installed.
    """
    _check_inputs(seed, category, difficulty)
    shipped = _shipped_solution(seed, category, difficulty)
    if shipped is None:
        return None
    layout, problem, solution = shipped
    return {
        "format": COMPACT_GAME_FORMAT,
        "pddl_domain_sha256": PACKAGE_DOMAIN_FINGERPRINT,
        "task": TASK_SENTENCE.format(goal=layout.goal_text),
        "pddl_problem": problem,
        "solvable": True,
        "walkthrough": list(solution.walkthrough),
        "generator": _meta(seed, category, difficulty, layout, solution.attempt),
    }
