"""Tools as typed methods: the signature and docstring of each method become its JSON schema.

A domain writes one :class:`ToolKit` subclass whose tool methods are marked with :func:`tool`.
Each method takes JSON-typed arguments (``str``, ``int``, ``float``, ``bool``, ``Literal[...]``,
``list[...]``, ``dict[str, Any]`` or a ``TypedDict``), documents them in a Google-style ``Args:``
section, returns the observation string, and signals a refused request by raising
:class:`ToolError`. :meth:`ToolKit.invoke` validates the arguments against the signature (and
refuses text that is not valid Unicode, such as a lone surrogate from a ``"\\ud800"`` JSON escape)
before the method runs and turns every failure into an ``"Error: ..."`` message with the database
unchanged, so no tool call can crash an episode or leave a half-applied write behind.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeVar, Union, get_args, get_origin, is_typeddict

from proxmo_bench.envs.customer_service.database import Database

F = TypeVar("F", bound=Callable[..., str])

_TOOL_ATTR = "__proxmo_tool__"


class ToolError(Exception):
    """A tool refused the request; the message goes back to the agent as ``"Error: <message>"``."""


@dataclass(frozen=True)
class ToolMeta:
    writes: bool
    terminal: bool


def tool(*, writes: bool = False, terminal: bool = False) -> Callable[[F], F]:
    """Mark a ``ToolKit`` method as a tool.

    Args:
        writes: the tool may change the database (it then runs atomically: on any error the
            database is restored to its state before the call).
        terminal: calling the tool ends the episode (``transfer_to_human_agents``).
    """

    def mark(fn: F) -> F:
        setattr(fn, _TOOL_ATTR, ToolMeta(writes=writes, terminal=terminal))
        return fn

    return mark


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its name, schema and how to validate and call it."""

    name: str
    description: str
    params: dict[str, Any]  # name -> type annotation
    required: tuple[str, ...]
    param_docs: dict[str, str]
    writes: bool
    terminal: bool

    def schema(self) -> dict[str, Any]:
        """The OpenAI-style function schema ``{"type": "function", "function": {...}}``."""
        props: dict[str, Any] = {}
        for pname, ann in self.params.items():
            prop = json_schema(ann)
            if pname in self.param_docs:
                prop = {**prop, "description": self.param_docs[pname]}
            props[pname] = prop
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": props,
                    "required": list(self.required),
                },
            },
        }


# ---- JSON schema and validation from type annotations -------------------------------------------


def json_schema(ann: Any) -> dict[str, Any]:
    """JSON schema of a parameter annotation (the subset of types tools may use)."""
    origin = get_origin(ann)
    if ann is str:
        return {"type": "string"}
    if ann is bool:
        return {"type": "boolean"}
    if ann is int:
        return {"type": "integer"}
    if ann is float:
        return {"type": "number"}
    if ann is Any:
        return {}
    if origin is Literal:
        values = list(get_args(ann))
        kind = "string" if all(isinstance(v, str) for v in values) else "integer"
        return {"type": kind, "enum": values}
    if origin is list:
        (item,) = get_args(ann) or (Any,)
        return {"type": "array", "items": json_schema(item)}
    if origin is dict or ann is dict:
        return {"type": "object"}
    if is_typeddict(ann):
        hints = typing.get_type_hints(ann)
        return {
            "type": "object",
            "properties": {k: json_schema(v) for k, v in hints.items()},
            "required": sorted(ann.__required_keys__),
        }
    if origin in (Union, types.UnionType):
        return {"anyOf": [json_schema(a) for a in get_args(ann)]}
    raise TypeError(f"tool parameters cannot use the annotation {ann!r}")


def _describe(ann: Any) -> str:
    schema = json_schema(ann)
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    kind = schema.get("type", "any value")
    if kind == "array":
        return f"a list of {_describe(get_args(ann)[0]) if get_args(ann) else 'values'}"
    return {
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "object": "an object",
    }.get(str(kind), str(kind))


def validate(value: Any, ann: Any, where: str) -> str | None:
    """None when ``value`` (decoded JSON) fits ``ann``; else what is wrong, naming ``where``."""
    origin = get_origin(ann)
    ok: bool
    if ann is Any:
        return None
    if ann is str:
        ok = isinstance(value, str)
    elif ann is bool:
        ok = isinstance(value, bool)
    elif ann is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif ann is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif origin is Literal:
        ok = any(value == v and type(value) is type(v) for v in get_args(ann))
    elif origin is list:
        if not isinstance(value, list):
            ok = False
        else:
            (item,) = get_args(ann) or (Any,)
            for i, v in enumerate(value):
                err = validate(v, item, f"{where}[{i}]")
                if err:
                    return err
            return None
    elif origin is dict or ann is dict:
        ok = isinstance(value, dict)
    elif is_typeddict(ann):
        if not isinstance(value, dict):
            ok = False
        else:
            hints = typing.get_type_hints(ann)
            missing = sorted(ann.__required_keys__ - set(value))
            if missing:
                return f"{where} is missing the key {missing[0]!r}"
            unknown = sorted(set(value) - set(hints))
            if unknown:
                return f"{where} has the unknown key {unknown[0]!r} (keys: {sorted(hints)})"
            for k, v in value.items():
                err = validate(v, hints[k], f"{where}.{k}")
                if err:
                    return err
            return None
    elif origin in (Union, types.UnionType):
        ok = any(validate(value, a, where) is None for a in get_args(ann))
    else:
        raise TypeError(f"tool parameters cannot use the annotation {ann!r}")
    if ok:
        return None
    return f"{where} must be {_describe(ann)}, got {type(value).__name__} {_short(value)}"


def unencodable_text(value: Any, where: str) -> str | None:
    """None when every string in ``value`` (decoded JSON; dict keys included) encodes as UTF-8;
    else what is wrong with the first one that does not (a lone surrogate such as ``"\\ud800"``,
    which a JSON escape can produce and no database record may hold), naming ``where``.

    Iterative (any nesting depth) and linear in the size of ``value``.
    """
    # (value, path): path is None or (parent path, key or index), rendered only on failure.
    stack: list[tuple[Any, Any]] = [(value, None)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                bad = item[exc.start : exc.end]
                return (
                    f"{where}{_render_path(path)} holds text that is not valid Unicode "
                    f"({bad!r:.20} at character {exc.start}); send UTF-8 text, without lone "
                    "surrogates"
                )
        elif isinstance(item, Mapping):
            children = list(item.items())
            for key, child in reversed(children):
                stack.append((child, (path, key)))
                stack.append((key, (path, key)))  # the key itself, checked before its value
        elif isinstance(item, list | tuple):
            stack.extend((child, (path, i)) for i, child in reversed(list(enumerate(item))))
    return None


def _render_path(path: Any) -> str:
    parts: list[str] = []
    while path is not None:
        path, key = path
        parts.append(f"[{key}]" if isinstance(key, int) else f"[{key!r:.40}]")
    return "".join(reversed(parts))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---- docstrings ----------------------------------------------------------------------------------

_SECTION = re.compile(r"^\s*(Args|Arguments|Returns|Raises|Example|Examples|Note):\s*$")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into (description, {argument: description})."""
    lines = inspect.cleandoc(doc).splitlines()
    desc: list[str] = []
    args: dict[str, str] = {}
    section = ""
    current = ""
    for line in lines:
        m = _SECTION.match(line)
        if m:
            section = m.group(1)
            continue
        if section in ("", "Note"):
            desc.append(line)
        elif section in ("Args", "Arguments"):
            m2 = re.match(r"^\s{0,4}(\w+)(?:\s*\(.*?\))?:\s*(.*)$", line)
            if m2 and not line.startswith(" " * 5):
                current = m2.group(1)
                args[current] = m2.group(2).strip()
            elif current and line.strip():
                args[current] = (args[current] + " " + line.strip()).strip()
    description = " ".join(" ".join(desc).split())
    return description, args


# ---- the toolkit ---------------------------------------------------------------------------------


class ToolKit:
    """A domain's tools acting on one episode's :class:`Database`.

    Subclasses define tool methods marked with :func:`tool`. The tool specs are computed once per
    subclass (signature + docstring); ``invoke`` runs one call with validation and atomicity.
    """

    _specs_cache: ClassVar[dict[type, dict[str, ToolSpec]]] = {}

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    def specs(cls) -> dict[str, ToolSpec]:
        """Tool name -> spec, in alphabetical order (upstream lists its tools alphabetically)."""
        cached = ToolKit._specs_cache.get(cls)
        if cached is not None:
            return cached
        specs: dict[str, ToolSpec] = {}
        for name in sorted(dir(cls)):
            fn = getattr(cls, name)
            meta = getattr(fn, _TOOL_ATTR, None)
            if not isinstance(meta, ToolMeta):
                continue
            hints = typing.get_type_hints(fn)
            sig = inspect.signature(fn)
            params: dict[str, Any] = {}
            required: list[str] = []
            for pname, p in list(sig.parameters.items())[1:]:  # skip self
                params[pname] = hints[pname]
                json_schema(hints[pname])  # fail at class definition time on unsupported types
                if p.default is inspect.Parameter.empty:
                    required.append(pname)
            description, param_docs = parse_docstring(fn.__doc__ or "")
            missing_docs = [p for p in params if p not in param_docs]
            if not description or missing_docs:
                raise TypeError(
                    f"{cls.__name__}.{name}: tool docstrings need a description and an Args "
                    f"entry for every parameter; missing: {missing_docs or ['description']}"
                )
            specs[name] = ToolSpec(
                name, description, params, tuple(required), param_docs, meta.writes, meta.terminal
            )
        ToolKit._specs_cache[cls] = specs
        return specs

    @classmethod
    def schemas(cls) -> list[dict[str, Any]]:
        """The schemas of all tools (what ``info["tools"]`` carries)."""
        return [spec.schema() for spec in cls.specs().values()]

    def check_arguments(self, name: str, arguments: Any) -> str | None:
        """None when ``name`` is a tool and ``arguments`` fit its signature (every string of them
        UTF-8 text); else the problem."""
        spec = self.specs().get(name)
        if spec is None:
            return f"unknown tool {name!r}; tools: {', '.join(self.specs())}"
        if not isinstance(arguments, Mapping):
            return f"{name}: 'arguments' must be an object, got {type(arguments).__name__}"
        unknown = sorted(set(arguments) - set(spec.params))
        if unknown:
            return f"{name}: unknown argument {unknown[0]!r}; arguments: {list(spec.params)}"
        missing = [p for p in spec.required if p not in arguments]
        if missing:
            return f"{name}: missing required argument {missing[0]!r}"
        for pname, value in arguments.items():
            err = unencodable_text(value, f"{name}: argument {pname!r}")
            if err:
                return err
        for pname, value in arguments.items():
            err = validate(value, spec.params[pname], f"{name}: argument {pname!r}")
            if err:
                return err
        return None

    def invoke(self, name: str, arguments: Any) -> tuple[str, bool]:
        """Run one tool call. Returns ``(observation, ok)``; ``ok`` is False for any error.

        Never raises: unknown tools, bad arguments and refused requests give ``"Error: ..."``
        and leave the database as it was before the call.
        """
        problem = self.check_arguments(name, arguments)
        if problem:
            return f"Error: {problem}", False
        spec = self.specs()[name]
        # A write that fails half-way must not leave partial changes: keep the state to restore.
        saved = {k: t.fork() for k, t in self.db.tables.items()} if spec.writes else None
        try:
            result = getattr(self, name)(**dict(arguments))
        except ToolError as exc:
            ok, result = False, f"Error: {exc}"
        except Exception as exc:  # a tool bug must not end the episode with a crash
            ok, result = False, f"Error: {type(exc).__name__}: {exc}"
        else:
            ok = True
        if not ok and saved is not None:
            self.db.tables = saved
        return str(result), ok
