"""What the fast engine reads from a ``game.tw-pddl`` file: objects, initial facts, goal, task text.

Names are lower-cased, as fast-downward (and so TextWorld) sees them: PDDL is case-insensitive and
the reference engine's object ids, fact arguments and ordering all use the lower-cased spelling.

Only the ALFRED domain and grammar of the official game files (every file of ALFWorld 2.1.1
carries the same two texts, apart from the task sentence) and those shipped in the alfworld package
are supported: the fast engine implements that domain's actions by hand, so a game file with
another domain is refused with a clear error instead of being simulated wrongly.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from proxmo_bench.envs.alfworld.engine import GameFileError

Variables = tuple[tuple[str, str], ...]  # ((name, type), ...); names start with "?"


@dataclass(frozen=True)
class Atom:
    """``(predicate arg ...)``; an argument starting with ``?`` is a variable."""

    predicate: str
    args: tuple[str, ...]


@dataclass(frozen=True)
class Equal:
    """``(= left right)``."""

    left: str
    right: str


@dataclass(frozen=True)
class Not:
    """``(not body)``."""

    body: Formula


@dataclass(frozen=True)
class And:
    """``(and part ...)``."""

    parts: tuple[Formula, ...]


@dataclass(frozen=True)
class Or:
    """``(or part ...)``."""

    parts: tuple[Formula, ...]


@dataclass(frozen=True)
class Exists:
    """``(exists (?v - type ...) body)``."""

    variables: Variables
    body: Formula


@dataclass(frozen=True)
class ForAll:
    """``(forall (?v - type ...) body)``."""

    variables: Variables
    body: Formula


#: A goal formula of PDDL's goal language as the official games use it.
Formula = Atom | Equal | Not | And | Or | Exists | ForAll

# SHA-256 of the supported domain texts (comments and blank space removed, see
# ``_domain_fingerprint``) -> the receptacle types ``CleanObject`` accepts. The two texts differ
# only there: the official game files accept ``SinkType`` and ``SinkBasinType``, the ``alfred.pddl``
# shipped in the alfworld package (used by our generated games) has ``SinkType`` commented out.
#: Fingerprint of the ``alfred.pddl`` shipped in the alfworld package (the generated games' domain).
PACKAGE_DOMAIN_FINGERPRINT = "68c0c8ed4392a559a1ad2c107dc77efc940461cfb6153136190f81d312aaebe9"
_KNOWN_DOMAINS: dict[str, frozenset[str]] = {
    "9549a55d7ecd967fcbd3f32645c16b56b27a823bc72f2ab7c7e43660f794a063": frozenset(
        {"sinktype", "sinkbasintype"}
    ),
    PACKAGE_DOMAIN_FINGERPRINT: frozenset({"sinkbasintype"}),
}
# SHA-256 of the supported grammar texts with the task sentence blanked out: the official game
# files' grammar and the package's ``alfred.twl2`` (whose only difference, the ``help`` rule, prints
# the same text).
_KNOWN_GRAMMARS = frozenset(
    {
        "eb762ad6711b981cceda18d8aed32c15f8e93338c455e304fa7808c77a76baa8",
        "b1c65d69fda850234f67bc6f6e6258adf3465998ac0cde3281dba195552733a7",
    }
)

_TASK_RE = re.compile(r'"task":\s*\[\s*\{\s*"rhs":\s*("(?:[^"\\]|\\.)*")\s*\}\s*\]')
_ATOM_RE = re.compile(r"\(\s*([A-Za-z][\w-]*)((?:\s+[^\s()]+)*)\s*\)")
_TOKEN_RE = re.compile(r"[()]|[^\s()]+")
_PAREN_RE = re.compile(r"[()]")


@dataclass(frozen=True)
class GameProblem:
    """One game's static description, parsed from its ``game.tw-pddl``.

    Attributes:
        path: the game file.
        objects: object name -> PDDL type (``agent``, ``location``, ``receptacle``, ``object``,
            ``otype``, ``rtype``), lower-cased.
        init: the initial facts as ``(predicate, args)``, lower-cased, in file order.
        goal: the goal formula (see :data:`Formula`).
        task: the task sentence of the intro, e.g. ``"Your task is to: put a mug in desk."``.
        walkthrough: the file's solving commands (empty when the file has none).
        clean_types: the receptacle types ``clean X with R`` accepts (lower-cased), per domain text.
    """

    path: Path
    objects: Mapping[str, str]
    init: tuple[tuple[str, tuple[str, ...]], ...]
    goal: Formula
    task: str
    walkthrough: tuple[str, ...]
    clean_types: frozenset[str]


def _domain_fingerprint(text: str) -> str:
    no_comments = re.sub(r";[^\n]*", "", text)
    return hashlib.sha256(" ".join(no_comments.split()).encode()).hexdigest()


def _grammar_fingerprint(text: str) -> str:
    blanked = _TASK_RE.sub('"task": TASK', text)
    return hashlib.sha256(" ".join(blanked.split()).encode()).hexdigest()


def _section(problem: str, keyword: str, path: Path) -> str:
    """The text of the balanced ``(:keyword ...)`` block of ``problem``."""
    match = re.search(rf"\(:{keyword}\b", problem, flags=re.IGNORECASE)
    if match is None:
        raise GameFileError(
            f"ALFWorld game file {path}: field 'pddl_problem' has no (:{keyword} ...)"
        )
    depth = 0
    for paren in _PAREN_RE.finditer(problem, match.start()):
        depth += 1 if paren.group() == "(" else -1
        if depth == 0:
            return problem[match.end() : paren.start()]
    raise GameFileError(
        f"ALFWorld game file {path}: field 'pddl_problem' has an unclosed (:{keyword}"
    )


def _parse_objects(text: str, path: Path) -> dict[str, str]:
    objects: dict[str, str] = {}
    pending: list[str] = []
    tokens = text.lower().split()
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token == "-":
            if i + 1 >= len(tokens):
                raise GameFileError(f"ALFWorld game file {path}: (:objects ends with '-'")
            kind = tokens[i + 1]
            for name in pending:
                objects[name] = kind
            pending = []
            i += 2
            continue
        pending.append(token)
        i += 1
    for name in pending:  # untyped names are PDDL's "object"
        objects[name] = "object"
    return objects


def _parse_sexpr(text: str, path: Path) -> list[object]:
    stack: list[list[object]] = [[]]
    for token in _TOKEN_RE.findall(text):
        if token == "(":
            stack.append([])
        elif token == ")":
            if len(stack) == 1:
                raise GameFileError(f"ALFWorld game file {path}: unbalanced ')' in the goal")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token.lower())
    if len(stack) != 1:
        raise GameFileError(f"ALFWorld game file {path}: unbalanced '(' in the goal")
    return stack[0]


def _typed_vars(items: list[object], path: Path) -> Variables:
    out: list[tuple[str, str]] = []
    pending: list[str] = []
    i = 0
    while i < len(items):
        item = items[i]
        if not isinstance(item, str):
            raise GameFileError(f"ALFWorld game file {path}: bad variable list in the goal")
        if item == "-":
            kind = items[i + 1] if i + 1 < len(items) else None
            if not isinstance(kind, str):
                raise GameFileError(f"ALFWorld game file {path}: bad variable type in the goal")
            out.extend((name.rstrip(","), kind) for name in pending)
            pending = []
            i += 2
            continue
        pending.append(item)
        i += 1
    out.extend((name.rstrip(","), "object") for name in pending)
    return tuple(out)


def _formula(node: object, path: Path) -> Formula:
    if not isinstance(node, list) or not node or not isinstance(node[0], str):
        raise GameFileError(f"ALFWorld game file {path}: cannot read goal expression {node!r:.80}")
    head, rest = node[0], node[1:]
    if head == "and":
        return And(tuple(_formula(child, path) for child in rest))
    if head == "or":
        return Or(tuple(_formula(child, path) for child in rest))
    if head == "not" and len(rest) == 1:
        return Not(_formula(rest[0], path))
    if head in ("exists", "forall") and len(rest) == 2 and isinstance(rest[0], list):
        variables = _typed_vars(rest[0], path)
        body = _formula(rest[1], path)
        return Exists(variables, body) if head == "exists" else ForAll(variables, body)
    if not all(isinstance(arg, str) for arg in rest):
        raise GameFileError(f"ALFWorld game file {path}: unsupported goal expression {head!r}")
    args = tuple(str(arg) for arg in rest)
    if head == "=" and len(args) == 2:
        return Equal(args[0], args[1])
    return Atom(head, args)


def parse_game(data: Mapping[str, object], path: Path) -> GameProblem:
    """Parse a game file's JSON content (keys already checked by ``read_game_file``).

    Raises:
        GameFileError: the domain or grammar is not the official ALFRED one, or the problem cannot
            be read; the message names the file and the field.
    """
    problem = str(data["pddl_problem"])
    if "format" in data:  # a compact generated game: domain by fingerprint, task sentence given
        clean_types = _KNOWN_DOMAINS.get(str(data["pddl_domain_sha256"]))
        if clean_types is None:
            raise GameFileError(
                f"ALFWorld game file {path}: field 'pddl_domain_sha256' names no ALFRED domain "
                "that the fast engine implements"
            )
        task = str(data["task"])
    else:
        domain, grammar = str(data["pddl_domain"]), str(data["grammar"])
        clean_types = _KNOWN_DOMAINS.get(_domain_fingerprint(domain))
        if clean_types is None:
            raise GameFileError(
                f"ALFWorld game file {path}: field 'pddl_domain' is not the official ALFRED "
                "domain that the fast engine implements; play this file with engine='textworld'"
            )
        if _grammar_fingerprint(grammar) not in _KNOWN_GRAMMARS:
            raise GameFileError(
                f"ALFWorld game file {path}: field 'grammar' is not the official ALFRED grammar "
                "whose texts the fast engine writes; play this file with engine='textworld'"
            )
        task_match = _TASK_RE.search(grammar)
        if task_match is None:
            raise GameFileError(f"ALFWorld game file {path}: field 'grammar' has no 'task' rule")
        task = str(json.loads(task_match.group(1)))

    objects = _parse_objects(_section(problem, "objects", path), path)
    # Lower-case the whole section once (PDDL names are case-insensitive).
    init = [
        (name, tuple(args.split()))
        for name, args in _ATOM_RE.findall(_section(problem, "init", path).lower())
    ]
    undeclared = {arg for _, args in init for arg in args} - objects.keys()
    if undeclared:
        raise GameFileError(
            f"ALFWorld game file {path}: field 'pddl_problem' uses undeclared objects "
            f"{sorted(undeclared)[:5]}"
        )
    goal_nodes = _parse_sexpr(_section(problem, "goal", path), path)
    if len(goal_nodes) != 1:
        raise GameFileError(f"ALFWorld game file {path}: the goal must be one expression")
    goal = _formula(goal_nodes[0], path)

    walkthrough_data = data.get("walkthrough") or []
    walkthrough = (
        tuple(str(c) for c in walkthrough_data) if isinstance(walkthrough_data, list) else ()
    )
    return GameProblem(path, objects, tuple(init), goal, task, walkthrough, clean_types)
