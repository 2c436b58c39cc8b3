"""Evaluate a PDDL goal (``and``, ``or``, ``not``, ``exists``, ``forall``, ``=``, atoms) on a state.

A goal is compiled once per game into closures. An ``exists`` is solved by a fixed join plan over
its conjuncts: nested ``exists`` in a conjunction are lifted into the outer one, atoms bind the
quantified variables from the matching facts (most-bound atom first), and every other conjunct is a
test run as soon as its variables are bound. A variable that no atom binds is enumerated over the
objects of its type. The official goals (up to four quantified variables) take microseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

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

Binding = dict[str, str]


class FactSource(Protocol):
    """What goal evaluation reads from a state."""

    def facts_of(self, predicate: str) -> Iterable[tuple[str, ...]]:
        """The argument tuples of the true facts of ``predicate`` (empty when there are none)."""
        ...

    def has_fact(self, predicate: str, args: tuple[str, ...]) -> bool:
        """Whether ``predicate(args)`` is true."""
        ...

    def facts_with(self, predicate: str, position: int, value: str) -> Iterable[tuple[str, ...]]:
        """The true facts of ``predicate`` whose argument ``position`` is ``value`` (a superset is
        allowed: callers check every argument)."""
        ...

    def objects_of_type(self, kind: str) -> Iterable[str]:
        """The objects declared with PDDL type ``kind`` (all objects for ``object``)."""
        ...


Test = Callable[[FactSource, Binding], bool]


def _is_var(term: str) -> bool:
    return term.startswith("?")


def free_vars(formula: Formula) -> frozenset[str]:
    """The variables ``formula`` uses without quantifying them."""
    if isinstance(formula, Atom):
        return frozenset(t for t in formula.args if _is_var(t))
    if isinstance(formula, Equal):
        return frozenset(t for t in (formula.left, formula.right) if _is_var(t))
    if isinstance(formula, Not):
        return free_vars(formula.body)
    if isinstance(formula, (Exists, ForAll)):
        return free_vars(formula.body) - {name for name, _ in formula.variables}
    out: frozenset[str] = frozenset()
    for part in formula.parts:
        out |= free_vars(part)
    return out


def compile_goal(formula: Formula) -> Callable[[FactSource], bool]:
    """A function telling whether ``formula`` (with no free variables) holds in a state."""
    test = _compile(formula)

    def goal(state: FactSource) -> bool:
        return test(state, {})

    return goal


def _compile(formula: Formula) -> Test:
    if isinstance(formula, Atom):
        pred, terms = formula.predicate, formula.args

        def atom(state: FactSource, b: Binding) -> bool:
            return state.has_fact(pred, tuple(b[t] if t[0] == "?" else t for t in terms))

        return atom
    if isinstance(formula, Equal):
        left, right = formula.left, formula.right

        def equal(state: FactSource, b: Binding) -> bool:
            return b.get(left, left) == b.get(right, right)

        return equal
    if isinstance(formula, Not):
        inner = _compile(formula.body)
        return lambda state, b: not inner(state, b)
    if isinstance(formula, And):
        all_parts = [_compile(p) for p in formula.parts]
        return lambda state, b: all(p(state, b) for p in all_parts)
    if isinstance(formula, Or):
        any_parts = [_compile(p) for p in formula.parts]
        return lambda state, b: any(p(state, b) for p in any_parts)
    if isinstance(formula, Exists):
        return _compile_exists(formula.variables, formula.body)
    # forall x: f  ==  not exists x: not f
    negated = _compile_exists(formula.variables, Not(formula.body))
    return lambda state, b: not negated(state, b)


def _lift(variables: list[tuple[str, str]], body: Formula) -> list[Formula]:
    """The conjuncts of ``body``, with nested ``exists`` merged into ``variables`` when safe."""
    if isinstance(body, And):
        out: list[Formula] = []
        for part in body.parts:
            out.extend(_lift(variables, part))
        return out
    if isinstance(body, Exists):
        names = {name for name, _ in variables}
        if not names & {name for name, _ in body.variables}:  # no shadowing: lifting is exact
            variables.extend(body.variables)
            return _lift(variables, body.body)
    return [body]


@dataclass(frozen=True)
class _Bind:
    """Plan step: enumerate the facts of ``predicate`` matching ``terms`` (binding variables)."""

    predicate: str
    terms: tuple[str, ...]
    key: tuple[int, str] | None  # a constant argument narrowing the facts to scan


@dataclass(frozen=True)
class _Enumerate:
    """Plan step: try every object of ``kind`` for ``variable``."""

    variable: str
    kind: str


_Step = Test | _Bind | _Enumerate


def _compile_exists(quantified: tuple[tuple[str, str], ...], body: Formula) -> Test:
    variables = list(quantified)
    remaining = _lift(variables, body)
    local = {name for name, _ in variables}
    types = dict(variables)
    bound: set[str] = set()
    steps: list[_Step] = []

    def flush_tests() -> None:
        for c in list(remaining):
            if not (free_vars(c) & local) - bound:
                steps.append(_compile(c))
                remaining.remove(c)

    flush_tests()
    while remaining:
        atoms = [c for c in remaining if isinstance(c, Atom)]
        if atoms:
            best = max(atoms, key=lambda c: len(free_vars(c) & bound) - len(free_vars(c) - bound))
            remaining.remove(best)
            key = next(((i, t) for i, t in enumerate(best.args) if not _is_var(t)), None)
            steps.append(_Bind(best.predicate, best.args, key))
            bound |= free_vars(best) & local
        else:
            name = min((free_vars(remaining[0]) & local) - bound)
            steps.append(_Enumerate(name, types[name]))
            bound.add(name)
        flush_tests()
    for name in sorted(local - bound):  # quantified but unused: any object of the type will do
        steps.append(_Enumerate(name, types[name]))

    def run(state: FactSource, b: Binding, i: int) -> bool:
        if i == len(steps):
            return True
        step = steps[i]
        if isinstance(step, _Enumerate):
            for value in state.objects_of_type(step.kind):
                b[step.variable] = value
                if run(state, b, i + 1):
                    del b[step.variable]
                    return True
            b.pop(step.variable, None)
            return False
        if isinstance(step, _Bind):
            return _bind(step, state, b, run, i)
        return step(state, b) and run(state, b, i + 1)

    return lambda state, b: run(state, b, 0)


def _bind(
    step: _Bind,
    state: FactSource,
    b: Binding,
    run: Callable[[FactSource, Binding, int], bool],
    i: int,
) -> bool:
    facts = (
        state.facts_of(step.predicate)
        if step.key is None
        else state.facts_with(step.predicate, *step.key)
    )
    terms = step.terms
    for fact in facts:
        if len(fact) != len(terms):
            continue
        added: list[str] = []
        ok = True
        for term, value in zip(terms, fact, strict=True):
            if term[0] == "?":
                have = b.get(term)
                if have is None:
                    b[term] = value
                    added.append(term)
                elif have != value:
                    ok = False
                    break
            elif term != value:
                ok = False
                break
        found = ok and run(state, b, i + 1)
        for term in added:
            del b[term]
        if found:
            return True
    return False
