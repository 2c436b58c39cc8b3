"""The ALFRED domain's dynamics, written out by hand: state, applicable commands, effects, texts.

This reproduces what TextWorld's PDDL engine does with the official ``alfred.pddl`` domain and
``alfred.twl2`` grammar, including the behaviours that come from fast-downward's translation
rather than from the PDDL text alone (each is checked by the equivalence harness):

- ``go to R`` is offered only for receptacles at another location than the agent's: going to the
  agent's own location has no effect, and fast-downward drops effect-less operators. Receptacles
  sharing a location are therefore "reached" together ("You are facing the drawer 7, and drawer 6").
- ``examine O`` is offered only for the object in hand: the other branch of ``examineObject``'s
  precondition (an object inside a visible receptacle) never becomes applicable in the reference.
- ``use O`` (toggle) needs the object in a receptacle at the agent's location, open or not.
- State changes follow PDDL add/delete effects literally, so ALFRED's data quirks stay: an object
  listed in two receptacles stays in the second after being taken from the first.

Texts follow the grammar's rules. Lists are ordered by the objects' PDDL ids (the order of
TextWorld's sorted facts), joined with ``", "`` and a last ``", and "``; an empty list is
``"nothing"``. ``look`` lists "next to it" the objects lying at the agent's location that were once
taken out of a receptacle there (TextWorld keeps the negated fact ``not_inreceptacle`` after a
delete effect and the grammar asks for it); this engine keeps that set too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from proxmo_bench.envs.alfworld.fast.goal import FactSource, compile_goal
from proxmo_bench.envs.alfworld.fast.naming import display_names
from proxmo_bench.envs.alfworld.fast.problem import GameProblem

NOTHING_HAPPENS = "Nothing happens."
INTRO_BANNER = "-= Welcome to TextWorld, ALFRED! =-"
HELP_TEXT = (
    "Available commands:\n"
    "  look:                             look around your current location\n"
    "  inventory:                        check your current inventory\n"
    "  go to (receptacle):               move to a receptacle\n"
    "  open (receptacle):                open a receptacle\n"
    "  close (receptacle):               close a receptacle\n"
    "  take (object) from (receptacle):  take an object from a receptacle\n"
    "  move (object) to (receptacle):  place an object in or on a receptacle\n"
    "  examine (something):              examine a receptacle or an object\n"
    "  use (object):                     use an object\n"
    "  heat (object) with (receptacle):  heat an object using a receptacle\n"
    "  clean (object) with (receptacle): clean an object using a receptacle\n"
    "  cool (object) with (receptacle):  cool an object using a receptacle\n"
    "  slice (object) with (object):     slice an object using a sharp object\n"
)

# Receptacle types each appliance action accepts (the domain's ``receptacleType ?r ...`` tests;
# cleaning's depend on the domain text, see ``GameProblem.clean_types``).
_HEAT_TYPES = frozenset({"microwavetype"})
_COOL_TYPES = frozenset({"fridgetype"})
_KNIFE_TYPES = frozenset({"knifetype", "butterknifetype"})

# Predicates that actions change; every other initial fact is static.
_DYNAMIC = frozenset(
    {
        "atlocation",
        "objectatlocation",
        "opened",
        "inreceptacle",
        "holds",
        "holdsany",
        "isclean",
        "ishot",
        "iscool",
        "ison",
        "istoggled",
        "issliced",
        "checked",
    }
)


def say_list(items: list[str]) -> str:
    """The grammar's list: ``"nothing"``, ``"x"``, or ``"x, y, and z"``."""
    if not items:
        return "nothing"
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + ", and " + items[-1]


@dataclass(frozen=True)
class StaticWorld:
    """What never changes in a game: names, types, locations of receptacles, abilities.

    Built once per game file and shared by every :class:`World` played on it.
    """

    problem: GameProblem
    names: dict[str, str]
    agent: str
    receptacles: tuple[str, ...]  # sorted ids
    rec_locations: dict[str, tuple[str, ...]]
    loc_receptacles: dict[str, tuple[str, ...]]  # location -> sorted receptacle ids
    object_type: dict[str, str]
    receptacle_type: dict[str, str]
    can_contain: frozenset[tuple[str, str]]
    openable: frozenset[str]
    pickupable: frozenset[str]
    cleanable: frozenset[str]
    heatable: frozenset[str]
    coolable: frozenset[str]
    toggleable: frozenset[str]
    sliceable: frozenset[str]
    receptacle_objects: frozenset[str]
    inner_objects: dict[str, tuple[str, ...]]  # outer object -> sorted inner objects
    static_facts: dict[str, frozenset[tuple[str, ...]]]
    initial_facts: dict[str, frozenset[tuple[str, ...]]]  # dynamic predicates, at reset
    goal: Callable[[FactSource], bool]
    # Caches filled on first use (derived data, not part of the game's description).
    index_cache: dict[tuple[str, int, str], tuple[tuple[str, ...], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    type_cache: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)
    # location -> the "go to" commands offered there; filled lazily (a cache, not game data).
    go_to_cache: dict[str, tuple[tuple[str, str, str], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def static_facts_with(
        self, pred: str, position: int, value: str
    ) -> tuple[tuple[str, ...], ...]:
        """The static facts of ``pred`` whose argument ``position`` is ``value``."""
        key = (pred, position, value)
        hit = self.index_cache.get(key)
        if hit is None:
            hit = self.index_cache[key] = tuple(
                sorted(a for a in self.static_facts.get(pred, ()) if a[position] == value)
            )
        return hit

    def objects_of_type(self, kind: str) -> tuple[str, ...]:
        """The objects declared with ``kind`` (every object for PDDL's root type ``object``)."""
        hit = self.type_cache.get(kind)
        if hit is None:
            objects = self.problem.objects
            hit = self.type_cache[kind] = tuple(
                sorted(o for o, t in objects.items() if kind == "object" or t == kind)
            )
        return hit

    def go_to_commands(self, loc: str) -> tuple[tuple[str, str, str], ...]:
        """``(command, receptacle, its location)`` of every receptacle away from ``loc``."""
        cached = self.go_to_cache.get(loc)
        if cached is None:
            found = []
            for r in self.receptacles:
                for end in self.rec_locations[r]:
                    if end != loc:
                        found.append((f"go to {self.names[r]}", r, end))
                        break
            cached = self.go_to_cache[loc] = tuple(found)
        return cached

    @classmethod
    def build(cls, problem: GameProblem) -> StaticWorld:
        """Index ``problem``'s static facts (raises ``ValueError`` on an unsupported layout)."""
        by_pred: dict[str, set[tuple[str, ...]]] = {}
        for pred, args in problem.init:
            by_pred.setdefault(pred, set()).add(args)

        def unary(pred: str) -> frozenset[str]:
            return frozenset(args[0] for args in by_pred.get(pred, ()))

        starts = sorted(by_pred.get("atlocation", ()))
        if len(starts) != 1:
            raise ValueError(f"expected one (atLocation agent location) fact, found {starts}")
        agents = [starts[0][0]]
        rec_locations: dict[str, list[str]] = {}
        loc_receptacles: dict[str, list[str]] = {}
        for r, loc in sorted(by_pred.get("receptacleatlocation", ())):
            rec_locations.setdefault(r, []).append(loc)
            loc_receptacles.setdefault(loc, []).append(r)
        inner: dict[str, list[str]] = {}
        for o2, o in sorted(by_pred.get("inreceptacleobject", ())):
            inner.setdefault(o, []).append(o2)
        entities = {arg for _, args in problem.init for arg in args}
        return cls(
            problem=problem,
            names=display_names(entities),
            agent=agents[0],
            receptacles=tuple(sorted(rec_locations)),
            rec_locations={r: tuple(v) for r, v in rec_locations.items()},
            loc_receptacles={loc: tuple(v) for loc, v in loc_receptacles.items()},
            object_type={o: t for o, t in by_pred.get("objecttype", ())},
            receptacle_type={r: t for r, t in by_pred.get("receptacletype", ())},
            can_contain=frozenset((rt, ot) for rt, ot in by_pred.get("cancontain", ())),
            openable=unary("openable"),
            pickupable=unary("pickupable"),
            cleanable=unary("cleanable"),
            heatable=unary("heatable"),
            coolable=unary("coolable"),
            toggleable=unary("toggleable"),
            sliceable=unary("sliceable"),
            receptacle_objects=unary("isreceptacleobject"),
            inner_objects={o: tuple(v) for o, v in inner.items()},
            static_facts={p: frozenset(v) for p, v in by_pred.items() if p not in _DYNAMIC},
            initial_facts={p: frozenset(by_pred.get(p, ())) for p in _DYNAMIC},
            goal=compile_goal(problem.goal),
        )


#: An applicable command: the function applying it and its arguments after the world.
_Command = tuple[Callable[..., str], tuple[str, ...]]


class World:
    """One play-through of a game: the dynamic facts, the applicable commands and their effects."""

    def __init__(self, static: StaticWorld) -> None:
        self.static = static
        self.facts: dict[str, set[tuple[str, ...]]] = {
            p: set(v) for p, v in static.initial_facts.items()
        }
        self.agent_loc: str = next(iter(self.facts["atlocation"]))[1]
        # Indexes over ``facts`` for the texts and the command list.
        self.contents: dict[str, set[str]] = {r: set() for r in static.receptacles}
        for o, r in self.facts["inreceptacle"]:
            self.contents.setdefault(r, set()).add(o)
        self.objects_at: dict[str, set[str]] = {}
        for o, loc in self.facts["objectatlocation"]:
            self.objects_at.setdefault(loc, set()).add(o)
        # TextWorld's leftover ``not_inreceptacle`` facts (see module doc).
        self.taken_from: set[tuple[str, str]] = set()
        self._commands: dict[str, _Command] | None = None
        self._admissible: tuple[str, ...] | None = None
        self._won: bool | None = None

    def clone(self) -> World:
        """An independent copy of this play-through: the static world is shared (it is never
        changed), the dynamic facts and their indexes are copied; the command list is shared
        (it is never changed in place, only replaced when the state changes)."""
        new = object.__new__(World)
        new.static = self.static
        new.facts = {p: set(v) for p, v in self.facts.items()}
        new.agent_loc = self.agent_loc
        new.contents = {r: set(v) for r, v in self.contents.items()}
        new.objects_at = {loc: set(v) for loc, v in self.objects_at.items()}
        new.taken_from = set(self.taken_from)
        new._commands = self._commands
        new._admissible = self._admissible
        new._won = self._won
        return new

    def __deepcopy__(self, memo: dict[int, object]) -> World:
        return self.clone()

    # ---- facts seen by the goal ----------------------------------------------------------------
    def facts_of(self, predicate: str) -> Iterable[tuple[str, ...]]:
        if predicate in self.facts:
            return self.facts[predicate]
        return self.static.static_facts.get(predicate, ())

    def has_fact(self, predicate: str, args: tuple[str, ...]) -> bool:
        if predicate in self.facts:
            return args in self.facts[predicate]
        return args in self.static.static_facts.get(predicate, ())

    def facts_with(self, predicate: str, position: int, value: str) -> Iterable[tuple[str, ...]]:
        if predicate in self.facts:
            return self.facts[predicate]
        return self.static.static_facts_with(predicate, position, value)

    def objects_of_type(self, kind: str) -> Iterable[str]:
        return self.static.objects_of_type(kind)

    @property
    def won(self) -> bool:
        """Whether the goal holds now (cached until the state changes)."""
        if self._won is None:
            self._won = self.static.goal(self)
        return self._won

    # ---- texts ----------------------------------------------------------------------------------
    def _name(self, entity: str) -> str:
        return self.static.names[entity]

    def _a_list(self, ids: Iterable[str]) -> str:
        names = self.static.names
        return say_list([f"a {names[i]}" for i in sorted(ids)])

    def describe_receptacle(self, r: str) -> str:
        """``examineReceptacle.feedback``: what is in or on ``r`` (nothing listed when closed)."""
        name = self._name(r)
        if r in self.static.openable:
            if ("opened" in self.facts) and (r,) in self.facts["opened"]:
                return f"The {name} is open. In it, you see {self._a_list(self.contents[r])}."
            return f"The {name} is closed."
        return f"On the {name}, you see {self._a_list(self.contents.get(r, ()))}."

    def describe_object(self, o: str) -> str:
        """``examineObject.feedback``: the first grammar rule whose condition holds for ``o``."""
        static, name = self.static, self._name(o)
        if o in static.receptacle_objects:
            inside = self._a_list(static.inner_objects.get(o, ()))
            return f"This is a normal {name}. In it, you see {inside}."
        key = (o,)
        clean, hot = key in self.facts["isclean"], key in self.facts["ishot"]
        cool, sliced = key in self.facts["iscool"], key in self.facts["issliced"]
        if sliced:
            if clean and hot:
                return f"This is a hot and clean sliced {name}."
            if clean and cool:
                return f"This is a cool and clean sliced {name}."
            if clean:
                return f"This is a clean sliced {name}."
            if hot:
                return f"This is a hot sliced {name}."
            if cool:
                return f"This is a cool sliced {name}."
        if clean and hot:
            return f"This is a hot and clean {name}."
        if clean and cool:
            return f"This is a cool and clean {name}."
        if hot:
            return f"This is a hot {name}."
        if clean:
            return f"This is a clean {name}."
        if cool:
            return f"This is a cold {name}."
        if o in static.toggleable and key in self.facts["istoggled"]:
            return f"This {name} is on."
        # The grammar's "This X is off." asks for a ``not_istoggled`` fact, which no effect of the
        # domain ever creates, so it can never be chosen.
        if o in static.sliceable and sliced:
            return f"This is a sliced {name}."
        return f"There's nothing special about {name}."

    def look(self, intro: bool = False) -> str:
        """``look.feedback``; ``intro=True`` derives it with no bound location, as the intro."""
        here = self.static.loc_receptacles.get(self.agent_loc, ())
        if here:
            facing = say_list([self._name(r) for r in here])
            floor = [
                f"a {self._name(o)}"
                for o in sorted(self.objects_at.get(self.agent_loc, ()))
                for r in here
                if (o, r) in self.taken_from
            ]
            return f"You are facing the {facing}. Next to it, you see {say_list(floor)}."
        # Without a receptacle here, the grammar lists the receptacles "at l": in the intro ``l`` is
        # unbound (all receptacles); for the ``look`` command it is the agent's location (none).
        appliances = self.static.receptacles if intro else ()
        return (
            "You are in the middle of a room. Looking quickly around you, you see "
            f"{self._a_list(appliances)}."
        )

    def intro(self) -> str:
        """The text TextWorld prints on reset."""
        return f"{INTRO_BANNER}\n\n{self.look(intro=True)}\n\n{self.static.problem.task}"

    def inventory(self) -> str:
        held = [o for (_, o) in self.facts["holds"]]
        if self.facts["holdsany"]:
            return f"You are carrying: {self._a_list(held)}."
        return "You are not carrying anything."

    # ---- commands -------------------------------------------------------------------------------
    def commands(self) -> dict[str, _Command]:
        """Every applicable command -> ``(function, arguments)``: ``function(world, *arguments)``
        applies it and returns its feedback. Plain functions rather than closures over the world,
        so a world is freed as soon as it is dropped (no reference cycle for the collector)."""
        if self._commands is not None:
            return self._commands
        static, facts, names = self.static, self.facts, self.static.names
        loc = self.agent_loc
        cmds: dict[str, _Command] = {
            "look": (World.look, ()),
            "inventory": (World.inventory, ()),
            "help": (_help, ()),
        }
        for command, r, end in static.go_to_commands(loc):
            cmds.setdefault(command, (World._go, (r, end)))
        held = [o for (_, o) in facts["holds"]]
        hands_free = not facts["holdsany"]
        opened = facts["opened"]
        here = static.loc_receptacles.get(loc, ())
        for r in here:
            rname = names[r]
            cmds[f"examine {rname}"] = (World.describe_receptacle, (r,))
            accessible = True
            if r in static.openable:
                if (r,) in opened:
                    cmds[f"close {rname}"] = (World._close, (r,))
                else:
                    cmds[f"open {rname}"] = (World._open, (r,))
                    accessible = False
            for o in self.contents[r]:
                if accessible and hands_free and o in static.pickupable:
                    cmds[f"take {names[o]} from {rname}"] = (World._take, (o, r))
                if o in static.toggleable:
                    cmds.setdefault(f"use {names[o]}", (World._toggle, (o,)))
            rtype = static.receptacle_type.get(r)
            for o in held:
                oname = names[o]
                if accessible and (rtype, static.object_type.get(o)) in static.can_contain:
                    cmds[f"move {oname} to {rname}"] = (World._put, (o, r))
                if rtype in static.problem.clean_types and o in static.cleanable:
                    cmds[f"clean {oname} with {rname}"] = (World._clean, (o, r))
                if rtype in _HEAT_TYPES and o in static.heatable:
                    cmds[f"heat {oname} with {rname}"] = (World._heat, (o, r))
                if rtype in _COOL_TYPES and o in static.coolable:
                    cmds[f"cool {oname} with {rname}"] = (World._cool, (o, r))
        for o in held:
            cmds[f"examine {names[o]}"] = (World.describe_object, (o,))
            if static.object_type.get(o) in _KNIFE_TYPES:
                for co in self.objects_at.get(loc, ()):
                    if co in static.sliceable:
                        cmds[f"slice {names[co]} with {names[o]}"] = (World._slice, (co, o))
        self._commands = cmds
        return cmds

    def admissible(self) -> tuple[str, ...]:
        """The applicable commands as the reference lists them (sorted, without ``help``)."""
        if self._admissible is None:
            self._admissible = tuple(sorted(c for c in self.commands() if c != "help"))
        return self._admissible

    def apply(self, command: str) -> str:
        """Apply ``command`` (already stripped) and return its feedback; unknown -> no change."""
        entry = self.commands().get(command)
        if entry is None:
            return NOTHING_HAPPENS
        fn, args = entry
        return fn(self, *args)

    # ---- effects --------------------------------------------------------------------------------
    def _changed(self) -> None:
        self._commands = None
        self._admissible = None
        self._won = None

    def _go(self, r: str, end: str) -> str:
        agent = self.static.agent
        self.facts["atlocation"].discard((agent, self.agent_loc))
        self.facts["atlocation"].add((agent, end))
        self.agent_loc = end
        self._changed()
        return f"You arrive at {self._name(r)}. {self.describe_receptacle(r)}"

    def _open(self, r: str) -> str:
        self.facts["opened"].add((r,))
        self.facts["checked"].add((r,))
        self._changed()
        return f"You open the {self._name(r)}. {self.describe_receptacle(r)}"

    def _close(self, r: str) -> str:
        self.facts["opened"].discard((r,))
        self._changed()
        return f"You close the {self._name(r)}."

    def _take(self, o: str, r: str) -> str:
        agent, loc = self.static.agent, self.agent_loc
        self.facts["inreceptacle"].discard((o, r))
        self.contents[r].discard(o)
        self.taken_from.add((o, r))
        self.facts["holds"].add((agent, o))
        self.facts["holdsany"].add((agent,))
        self.facts["objectatlocation"].discard((o, loc))
        self.objects_at.get(loc, set()).discard(o)
        self._changed()
        return f"You pick up the {self._name(o)} from the {self._name(r)}."

    def _put(self, o: str, r: str) -> str:
        agent, loc = self.static.agent, self.agent_loc
        self.facts["inreceptacle"].add((o, r))
        self.contents[r].add(o)
        self.taken_from.discard((o, r))
        self.facts["objectatlocation"].add((o, loc))
        self.objects_at.setdefault(loc, set()).add(o)
        self.facts["holds"].discard((agent, o))
        self.facts["holdsany"].discard((agent,))
        self._changed()
        return f"You move the {self._name(o)} to the {self._name(r)}."

    def _clean(self, o: str, r: str) -> str:
        self.facts["isclean"].add((o,))
        self._changed()
        return f"You clean the {self._name(o)} using the {self._name(r)}."

    def _heat(self, o: str, r: str) -> str:
        self.facts["ishot"].add((o,))
        self.facts["iscool"].discard((o,))
        self._changed()
        return f"You heat the {self._name(o)} using the {self._name(r)}."

    def _cool(self, o: str, r: str) -> str:
        self.facts["iscool"].add((o,))
        self.facts["ishot"].discard((o,))
        self._changed()
        return f"You cool the {self._name(o)} using the {self._name(r)}."

    def _toggle(self, o: str) -> str:
        # Conditional effects read the state before the action: on -> off, off -> on.
        if (o,) in self.facts["ison"]:
            self.facts["ison"].discard((o,))
        else:
            self.facts["ison"].add((o,))
        self.facts["istoggled"].add((o,))
        self._changed()
        # Always "turn on": the grammar's first rule only asks for ``istoggled``, now true.
        return f"You turn on the {self._name(o)}."

    def _slice(self, co: str, ko: str) -> str:
        self.facts["issliced"].add((co,))
        self._changed()
        return f"You sliced the {self._name(co)} with the {self._name(ko)}."


def _help(world: World) -> str:
    return HELP_TEXT
