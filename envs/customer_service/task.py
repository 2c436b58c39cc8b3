"""Customer-service tasks: who the customer is, what they want, and the gold solution."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class GoldAction:
    """One tool call of a task's gold solution."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Task:
    """One task instance.

    Attributes:
        task_id: ``"<split>/<index>"``, the index in task-file order.
        user_id: the customer's id in the database.
        instruction: the hidden goal and persona given to the simulated customer (never shown to
            the agent).
        actions: the gold tool calls; replaying them on a fresh database gives the target state.
        outputs: strings the agent must say to the customer (case-insensitive, commas removed).
        category: a coarse label for per-category tables (the first writing gold tool, or
            ``"lookup"`` when the gold actions only read).
        annotator: upstream's annotator field (``"generated"`` for our own tasks).
    """

    task_id: str
    user_id: str
    instruction: str
    actions: tuple[GoldAction, ...]
    outputs: tuple[str, ...] = ()
    category: str = "lookup"
    annotator: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


def task_from_json(obj: Any, task_id: str, where: str, writing_tools: Sequence[str] = ()) -> Task:
    """Build a task from upstream's JSON form; errors name ``where`` (file and index) and the field.

    Accepts ``actions`` entries with ``kwargs`` (current files) or ``arguments`` (legacy files).
    """
    if not isinstance(obj, dict):
        raise ValueError(f"{where}: a task must be a JSON object, got {type(obj).__name__}")
    for key, typ in (("user_id", str), ("instruction", str), ("actions", list)):
        if key not in obj:
            raise ValueError(f"{where}: missing field {key!r}")
        if not isinstance(obj[key], typ):
            raise ValueError(f"{where}: field {key!r} must be {typ.__name__}")
    outputs = obj.get("outputs", [])
    if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
        raise ValueError(f"{where}: field 'outputs' must be a list of strings")
    actions: list[GoldAction] = []
    for i, a in enumerate(obj["actions"]):
        if not isinstance(a, dict) or not isinstance(a.get("name"), str):
            raise ValueError(f"{where}: actions[{i}] must be an object with a string 'name'")
        args = a.get("kwargs", a.get("arguments", {}))
        if not isinstance(args, dict):
            raise ValueError(f"{where}: actions[{i}].kwargs must be an object")
        actions.append(GoldAction(a["name"], args))
    category = next((a.name for a in actions if a.name in writing_tools), "lookup")
    return Task(
        task_id=task_id,
        user_id=obj["user_id"],
        instruction=obj["instruction"],
        actions=tuple(actions),
        outputs=tuple(outputs),
        category=category,
        annotator=str(obj.get("annotator", "")),
    )


def load_task_file(path: Path, split: str, writing_tools: Sequence[str] = ()) -> list[Task]:
    """All tasks of one upstream task file, ids ``"<split>/<index>"`` in file order."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"task file not found: {path}") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a JSON list of tasks")
    return [
        task_from_json(obj, f"{split}/{i}", f"{path} [task {i}]", writing_tools)
        for i, obj in enumerate(raw)
    ]
