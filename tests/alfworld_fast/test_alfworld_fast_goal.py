"""The PDDL goal evaluator on a hand-made fact set."""

from __future__ import annotations

from collections.abc import Iterable

from proxmo_bench.envs.alfworld.fast.goal import compile_goal
from proxmo_bench.envs.alfworld.fast.problem import (
    And,
    Atom,
    Equal,
    Exists,
    ForAll,
    Formula,
    Not,
    Or,
)


class Facts:
    def __init__(self, facts: set[tuple[str, tuple[str, ...]]], objects: dict[str, str]) -> None:
        self.facts, self.objects = facts, objects

    def facts_of(self, predicate: str) -> Iterable[tuple[str, ...]]:
        return sorted(args for p, args in self.facts if p == predicate)

    def has_fact(self, predicate: str, args: tuple[str, ...]) -> bool:
        return (predicate, args) in self.facts

    def facts_with(self, predicate: str, position: int, value: str) -> Iterable[tuple[str, ...]]:
        return [a for a in self.facts_of(predicate) if a[position] == value]

    def objects_of_type(self, kind: str) -> Iterable[str]:
        return sorted(o for o, t in self.objects.items() if t == kind or kind == "object")


OBJECTS = {"mug1": "object", "mug2": "object", "desk": "receptacle", "shelf": "receptacle"}
TYPES = {
    ("objecttype", ("mug1", "mugtype")),
    ("objecttype", ("mug2", "mugtype")),
    ("receptacletype", ("desk", "desktype")),
    ("receptacletype", ("shelf", "shelftype")),
}


def atom(pred: str, *args: str) -> Formula:
    return Atom(pred, args)


# Two distinct mugs in the same desk (the pick_two goal's shape, nested exists and not =).
PICK_TWO: Formula = Exists(
    (("?r", "receptacle"),),
    Exists(
        (("?o1", "object"),),
        And(
            (
                atom("objecttype", "?o1", "mugtype"),
                atom("receptacletype", "?r", "desktype"),
                atom("inreceptacle", "?o1", "?r"),
                Exists(
                    (("?o2", "object"),),
                    And(
                        (
                            Not(Equal("?o1", "?o2")),
                            atom("objecttype", "?o2", "mugtype"),
                            atom("inreceptacle", "?o2", "?r"),
                        )
                    ),
                ),
            )
        ),
    ),
)


def test_pick_two_needs_two_distinct_objects() -> None:
    goal = compile_goal(PICK_TWO)
    one = Facts(TYPES | {("inreceptacle", ("mug1", "desk"))}, OBJECTS)
    split = Facts(
        TYPES | {("inreceptacle", ("mug1", "desk")), ("inreceptacle", ("mug2", "shelf"))}, OBJECTS
    )
    both = Facts(
        TYPES | {("inreceptacle", ("mug1", "desk")), ("inreceptacle", ("mug2", "desk"))}, OBJECTS
    )
    assert not goal(one)
    assert not goal(split)
    assert goal(both)


def test_forall_or_and_unbound_quantifier() -> None:
    every_mug_placed: Formula = ForAll(
        (("?o", "object"),),
        Or(
            (
                Not(atom("objecttype", "?o", "mugtype")),
                Exists((("?r", "receptacle"),), atom("inreceptacle", "?o", "?r")),
            )
        ),
    )
    goal = compile_goal(every_mug_placed)
    assert not goal(Facts(TYPES | {("inreceptacle", ("mug1", "desk"))}, OBJECTS))
    assert goal(
        Facts(
            TYPES | {("inreceptacle", ("mug1", "desk")), ("inreceptacle", ("mug2", "shelf"))},
            OBJECTS,
        )
    )
    # A quantified variable no atom binds is enumerated over its type.
    some_receptacle: Formula = Exists((("?r", "receptacle"),), Not(atom("opened", "?r")))
    assert compile_goal(some_receptacle)(Facts(set(), OBJECTS))
    assert not compile_goal(some_receptacle)(
        Facts({("opened", ("desk",)), ("opened", ("shelf",))}, OBJECTS)
    )
