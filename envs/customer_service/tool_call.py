"""Reading an agent action: a tool call or a message to the customer.

A tool call is a JSON object with a ``"name"`` key (and usually ``"arguments"``), alone or inside
``<action>...</action>`` (surrounding ``<think>...</think>`` text is allowed). Anything else is a
message to the customer: the content of ``<action>...</action>`` when present, else the whole text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_ACTION = re.compile(r"<action>(.*?)</action>", re.DOTALL)
_THINK = re.compile(r"<think>.*?</think>", re.DOTALL)


@dataclass(frozen=True)
class ToolCall:
    """A decoded tool call; ``problem`` is set when the object is not a well-formed call."""

    name: Any
    arguments: Any = field(default_factory=dict)
    problem: str | None = None


@dataclass(frozen=True)
class Message:
    """A message to the customer."""

    content: str


def parse_action(action: str) -> ToolCall | Message:
    """Classify one action string (never raises)."""
    m = _ACTION.search(action)
    body = m.group(1) if m else _THINK.sub("", action)
    text = body.strip()
    if text.startswith("{") and text.endswith("}"):
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, dict) and "name" in obj:
            return _to_call(obj)
    return Message(text)


def _to_call(obj: dict[str, Any]) -> ToolCall:
    name = obj["name"]
    arguments = obj.get("arguments", obj.get("kwargs", {}))
    extra = sorted(set(obj) - {"name", "arguments", "kwargs"})
    if not isinstance(name, str):
        return ToolCall(name, arguments, f"the tool 'name' must be a string, got {name!r:.40}")
    if extra:
        return ToolCall(
            name, arguments, f"a tool call has only 'name' and 'arguments'; got also {extra}"
        )
    if not isinstance(arguments, dict):
        return ToolCall(
            name, arguments, f"'arguments' must be a JSON object, got {type(arguments).__name__}"
        )
    return ToolCall(name, arguments)


def format_tool_call(name: str, arguments: dict[str, Any]) -> str:
    """The canonical action string for a tool call (what the gold-action agent sends)."""
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
