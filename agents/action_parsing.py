"""Reading the env action out of an LLM answer in the ``<think>...</think><action>...</action>`` format.

An answer without a closed ``<action>`` tag (or, when required, without a ``<think>`` block) is
*unparsable*: the rollout counts it as an invalid action, whatever the env makes of it.

Tags are matched case-insensitively and found one at a time (a literal pattern's ``search`` from a
position), so parsing takes time linear in the answer's length; the lazy regexes
``<action>(.*?)</action>`` / ``<think>.*?</think>`` (``findall``) they replace, with the same
results, are quadratic on answers such as ``"<action>" * n``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_ACTION_OPEN = re.compile(re.escape("<action>"), re.IGNORECASE)
_ACTION_CLOSE = re.compile(re.escape("</action>"), re.IGNORECASE)
_THINK_OPEN = re.compile(re.escape("<think>"), re.IGNORECASE)
_THINK_CLOSE = re.compile(re.escape("</think>"), re.IGNORECASE)
#: Longest raw text sent to the env for an unparsable answer (the env then marks it invalid).
MAX_FALLBACK_CHARS = 200


@dataclass(frozen=True)
class ParsedAction:
    """``action``: the string to send to the env; ``ok``: whether the answer followed the format."""

    action: str
    ok: bool


def _normalise(text: str) -> str:
    return " ".join(text.strip().lower().split())


def last_action_block(text: str) -> str | None:
    """The content of the last ``<action>...</action>`` of ``text`` (None when there is none).

    Blocks are read left to right, each from an ``<action>`` to the first ``</action>`` after it,
    as ``re.findall(r"<action>(.*?)</action>", text, re.IGNORECASE | re.DOTALL)[-1]``.
    """
    last: str | None = None
    pos = 0
    while (start := _ACTION_OPEN.search(text, pos)) is not None:
        end = _ACTION_CLOSE.search(text, start.end())
        if end is None:  # no later <action> is closed either
            break
        last = text[start.end() : end.start()]
        pos = end.end()
    return last


def has_think_block(text: str) -> bool:
    """Whether ``text`` holds a ``<think>`` closed by a later ``</think>`` (any case)."""
    start = _THINK_OPEN.search(text)
    return start is not None and _THINK_CLOSE.search(text, start.end()) is not None


def parse_action(
    text: str, admissible: Sequence[str] | None = None, *, require_think: bool = False
) -> ParsedAction:
    """The action inside the last ``<action>...</action>`` of ``text``.

    When ``admissible`` is given, an action that matches one of them up to case and spacing is
    returned in the env's own spelling. Unparsable answers return ``ok=False`` and the stripped
    text (at most :data:`MAX_FALLBACK_CHARS` characters) as the action.
    """
    block = last_action_block(text)
    if block is None or (require_think and not has_think_block(text)):
        return ParsedAction(text.strip()[:MAX_FALLBACK_CHARS], False)
    action = block.strip()
    if not action:
        return ParsedAction("", False)
    if admissible:
        by_norm = {_normalise(a): a for a in admissible}
        action = by_norm.get(_normalise(action), action)
    return ParsedAction(action, True)
