"""Reading the env action out of an LLM answer in the ``<think>...</think><action>...</action>`` format.

An answer without a closed ``<action>`` tag (or, when required, without a ``<think>`` block) is
*unparsable*: the rollout counts it as an invalid action, whatever the env makes of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

_ACTION = re.compile(r"<action>(.*?)</action>", re.IGNORECASE | re.DOTALL)
_THINK = re.compile(r"<think>.*?</think>", re.IGNORECASE | re.DOTALL)
#: Longest raw text sent to the env for an unparsable answer (the env then marks it invalid).
MAX_FALLBACK_CHARS = 200


@dataclass(frozen=True)
class ParsedAction:
    """``action``: the string to send to the env; ``ok``: whether the answer followed the format."""

    action: str
    ok: bool


def _normalise(text: str) -> str:
    return " ".join(text.strip().lower().split())


def parse_action(
    text: str, admissible: Sequence[str] | None = None, *, require_think: bool = False
) -> ParsedAction:
    """The action inside the last ``<action>...</action>`` of ``text``.

    When ``admissible`` is given, an action that matches one of them up to case and spacing is
    returned in the env's own spelling. Unparsable answers return ``ok=False`` and the stripped
    text (at most :data:`MAX_FALLBACK_CHARS` characters) as the action.
    """
    matches = _ACTION.findall(text)
    if not matches or (require_think and not _THINK.search(text)):
        return ParsedAction(text.strip()[:MAX_FALLBACK_CHARS], False)
    action = matches[-1].strip()
    if not action:
        return ParsedAction("", False)
    if admissible:
        by_norm = {_normalise(a): a for a in admissible}
        action = by_norm.get(_normalise(action), action)
    return ParsedAction(action, True)
