"""A random agent for tool-calling tasks (the floor of the customer-service leaderboards).

Tool-calling envs such as ``proxmo/Retail-v0`` list no admissible actions; instead ``info["tools"]``
holds the OpenAI-style function schemas of the tools the agent may call. On each turn this agent
either writes a short message to the customer (probability ``message_prob``) or calls a tool drawn
uniformly from that list, with every required argument filled with a random value of the schema's
type. Strings are drawn from the values that appeared in the conversation so far (ids, names, codes,
JSON string values of tool results) when there are any, so the calls can reach real records; else
they are random identifier-like strings.

All randomness comes from the agent's own generator, seeded once: the actions are a function of
the seed and the observations seen, which is what lets a recorded run be replayed.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from proxmo_bench.envs.customer_service.tool_call import format_tool_call

#: What the agent may say to the customer (some ask for identity or confirmation on purpose, so a
#: scripted customer has something to answer).
MESSAGES: tuple[str, ...] = (
    "How can I help you today?",
    "Could you please tell me your user id or email?",
    "Could you give me the order or reservation id?",
    "Let me look into that for you.",
    "Would you like me to proceed?",
    "Is there anything else I can help you with?",
)

# Identifier-like tokens of free text: ids ("mia_li_3668", "#W2890441"), emails, codes, dates,
# numbers and capitalised words (names, cities).
_TOKEN = re.compile(r"#?[A-Za-z0-9][\w.@+-]*[A-Za-z0-9]|[A-Za-z0-9]")
# The env's framing of an observation, not part of what was said.
_PREFIX = re.compile(r"^(?:Tool \S+ returned|Customer): ")
_MAX_VALUE_CHARS = 64


def _is_id_like(token: str) -> bool:
    return (
        any(c.isdigit() for c in token)
        or any(c in "_@#" for c in token)
        or (token[0].isupper() and len(token) > 1)
    )


def conversation_values(text: str) -> list[str]:
    """The candidate argument strings in one observation, in order of appearance.

    A tool result whose body is JSON contributes every string value and every key holding a digit
    (records keyed by id, e.g. payment methods); free text contributes its identifier-like tokens.
    """
    found: list[str] = []
    body = _PREFIX.sub("", text, count=1)
    try:
        decoded = json.loads(body)
    except (ValueError, RecursionError):
        decoded = None
    if isinstance(decoded, dict | list):
        _walk_json(decoded, found)
    else:
        found += [t for t in _TOKEN.findall(body) if _is_id_like(t)]
    return [v for v in found if 0 < len(v) <= _MAX_VALUE_CHARS]


def _walk_json(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            if any(c.isdigit() for c in str(key)):
                out.append(str(key))
            _walk_json(item, out)
    elif isinstance(value, list):
        for item in value:
            _walk_json(item, out)


def tool_functions(tools: object) -> list[dict[str, Any]]:
    """The ``{"name", "parameters"}`` function entries of a tool list.

    Accepts OpenAI-style entries (``{"type": "function", "function": {...}}``) and bare function
    entries; entries without a string name are skipped.
    """
    out: list[dict[str, Any]] = []
    if not isinstance(tools, Sequence) or isinstance(tools, str):
        return out
    for entry in tools:
        if not isinstance(entry, Mapping):
            continue
        fn = entry.get("function", entry)
        if isinstance(fn, Mapping) and isinstance(fn.get("name"), str):
            out.append(dict(fn))
    return out


class RandomToolAgent:
    """Implements ``proxmo_bench.agents.base.Agent`` for envs that expose ``info["tools"]``.

    Args:
        seed: seed of the agent's generator (the only source of randomness).
        message_prob: probability of writing to the customer instead of calling a tool (always
            a message when the env lists no tools).
        messages: the messages drawn from.
    """

    name = "random_tool"

    def __init__(
        self,
        seed: int | None = None,
        *,
        message_prob: float = 0.25,
        messages: Sequence[str] = MESSAGES,
    ) -> None:
        if not 0.0 <= message_prob <= 1.0:
            raise ValueError(f"message_prob must be in [0, 1], got {message_prob}")
        if not messages:
            raise ValueError("messages must not be empty")
        self.rng = np.random.default_rng(seed)
        self.message_prob = message_prob
        self.messages = tuple(messages)
        #: Strings seen in this episode's observations, deduplicated, oldest first.
        self.seen: dict[str, None] = {}

    def reset(self, obs: str, info: dict[str, Any]) -> None:
        """Forget the previous episode's values and remember the first observation's."""
        self.seen = {}
        self._observe(obs)

    def act(self, obs: str, info: dict[str, Any]) -> str:
        self._observe(obs)
        tools = tool_functions(info.get("tools"))
        if not tools or self.rng.random() < self.message_prob:
            return self.messages[int(self.rng.integers(len(self.messages)))]
        fn = tools[int(self.rng.integers(len(tools)))]
        params = fn.get("parameters")
        arguments = self._value(params) if isinstance(params, Mapping) else {}
        return format_tool_call(str(fn["name"]), arguments if isinstance(arguments, dict) else {})

    # ---- drawing values --------------------------------------------------------------------
    def _observe(self, obs: str) -> None:
        for value in conversation_values(obs):
            self.seen.setdefault(value, None)

    def _value(self, schema: Mapping[str, Any]) -> Any:
        """A random value fitting ``schema`` (the JSON-schema subset tool signatures use)."""
        if schema.get("enum"):
            options = list(schema["enum"])
            return options[int(self.rng.integers(len(options)))]
        if schema.get("anyOf"):
            branches = [b for b in schema["anyOf"] if isinstance(b, Mapping)]
            if branches:
                return self._value(branches[int(self.rng.integers(len(branches)))])
        kind = schema.get("type")
        if kind == "object":
            props = schema.get("properties")
            props = props if isinstance(props, Mapping) else {}
            required = schema.get("required")
            # Only required keys: an optional argument left out is always valid.
            keys = (
                [k for k in required if k in props] if isinstance(required, list) else list(props)
            )
            out: dict[str, Any] = {}
            for key in keys:
                sub = props[key]
                out[str(key)] = self._value(sub if isinstance(sub, Mapping) else {})
            return out
        if kind == "array":
            items = schema.get("items")
            n = int(self.rng.integers(1, 3))
            return [self._value(items if isinstance(items, Mapping) else {}) for _ in range(n)]
        if kind == "integer":
            return int(self.rng.integers(0, 6))
        if kind == "number":
            return round(float(self.rng.uniform(0.0, 500.0)), 2)
        if kind == "boolean":
            return bool(self.rng.random() < 0.5)
        return self._string()

    def _string(self) -> str:
        if self.seen:
            values = list(self.seen)
            return values[int(self.rng.integers(len(values)))]
        letters = "".join(string.ascii_lowercase[int(i)] for i in self.rng.integers(26, size=6))
        return f"{letters}_{int(self.rng.integers(1000, 10000))}"
