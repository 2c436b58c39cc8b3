"""Reading an agent action: a tool call or a message to the customer.

A tool call is a JSON object with a ``"name"`` key (and usually ``"arguments"``), alone or inside
``<action>...</action>`` (surrounding ``<think>...</think>`` text is allowed). Anything else is a
message to the customer: the content of ``<action>...</action>`` when present, else the whole text.

The tags are found by ``str.find`` scans, so reading an action takes time linear in its length (the
lazy regexes ``<action>(.*?)</action>`` and ``<think>.*?</think>`` they replace are quadratic on
``"<action>" * n``: 12 s for 16 000 copies). The result is the same: the first ``<action>`` that
has a ``</action>`` after it, up to the first such ``</action>``; every complete
``<think>...</think>`` block removed, left to right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

ACTION_OPEN, ACTION_CLOSE = "<action>", "</action>"
THINK_OPEN, THINK_CLOSE = "<think>", "</think>"


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


def action_body(action: str) -> str | None:
    """The text inside the first ``<action>...</action>`` of ``action``, or None when there is none.

    As ``re.search(r"<action>(.*?)</action>", action, re.DOTALL)``, in linear time.
    """
    start = action.find(ACTION_OPEN)
    if start < 0:
        return None
    start += len(ACTION_OPEN)
    end = action.find(ACTION_CLOSE, start)
    return None if end < 0 else action[start:end]


def drop_think(text: str) -> str:
    """``text`` without its ``<think>...</think>`` blocks (an unclosed ``<think>`` stays).

    As ``re.sub(r"<think>.*?</think>", "", text, flags=re.DOTALL)``, in linear time.
    """
    parts: list[str] = []
    pos = 0
    while True:
        start = text.find(THINK_OPEN, pos)
        if start < 0:
            break
        end = text.find(THINK_CLOSE, start + len(THINK_OPEN))
        if end < 0:  # no later <think> can be closed either
            break
        parts.append(text[pos:start])
        pos = end + len(THINK_CLOSE)
    parts.append(text[pos:])
    return "".join(parts)


def parse_action(action: str) -> ToolCall | Message:
    """Classify one action string (never raises; time linear in its length)."""
    body = action_body(action)
    text = (drop_think(action) if body is None else body).strip()
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
    if not _encodes(name):
        return ToolCall(
            name, arguments, f"the tool 'name' {name!r:.40} is not valid Unicode (lone surrogate)"
        )
    if extra:
        return ToolCall(
            name, arguments, f"a tool call has only 'name' and 'arguments'; got also {extra}"
        )
    if not isinstance(arguments, dict):
        return ToolCall(
            name, arguments, f"'arguments' must be a JSON object, got {type(arguments).__name__}"
        )
    return ToolCall(name, arguments)


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def format_tool_call(name: str, arguments: dict[str, Any]) -> str:
    """The canonical action string for a tool call (what the gold-action agent sends)."""
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)
