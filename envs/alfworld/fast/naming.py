"""ALFWorld's display names: PDDL id ``alarmclock_bar__plus_02_dot_04_bar_...`` -> "alarmclock 2".

The reference engine names entities with ALFWorld's demangler (``AlfredDemangler``, no shuffling):

- the kind is the part of the id before the first ``_bar_``; ids containing ``basin`` get ``basin``
  appended (``sink_bar_..._bar_sinkbasin`` is a ``sinkbasin``);
- the ids of one kind are taken in sorted order and numbered from the count down to 1, so the
  smallest id of a kind gets the largest number;
- ids without ``_bar_`` (the agent, type constants) keep their text plus a trailing space; they are
  never printed.

The entities named are those that occur in at least one initial fact, which is what TextWorld's
entity table holds.
"""

from __future__ import annotations

from collections.abc import Iterable

_UNESCAPES = (("_bar_", "|"), ("_minus_", "-"), ("_plus_", "+"), ("_dot_", "."), ("_comma_", ","))


def _kind(entity_id: str) -> str | None:
    head, sep, _ = entity_id.partition("_bar_")
    if not sep:
        return None
    return head + "basin" if "basin" in entity_id else head


def display_names(entity_ids: Iterable[str]) -> dict[str, str]:
    """Map every id to the name ALFWorld shows for it (ids lower-cased, as the engine sees them)."""
    ids = sorted(set(entity_ids))
    remaining: dict[str, int] = {}
    for entity_id in ids:
        kind = _kind(entity_id)
        if kind is not None:
            remaining[kind] = remaining.get(kind, 0) + 1
    names: dict[str, str] = {}
    for entity_id in ids:
        kind = _kind(entity_id)
        if kind is None:
            text = entity_id
            for old, new in _UNESCAPES:
                text = text.replace(old, new)
            names[entity_id] = f"{text} "
            continue
        names[entity_id] = f"{kind} {remaining[kind]}"
        remaining[kind] -= 1
    return names
