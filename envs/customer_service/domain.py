"""A customer-service domain: database, tools, policy and tasks, composed in one object.

Adding a domain means writing a :class:`ToolKit` subclass, a policy text, a database (tables of
JSON records) and tasks with gold tool calls, then building a :class:`Domain` from them; the env
(:mod:`proxmo_bench.envs.customer_service.env`) works with any domain.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from proxmo_bench.envs.customer_service.database import Database
from proxmo_bench.envs.customer_service.task import GoldAction, Task, load_task_file
from proxmo_bench.envs.customer_service.toolkit import ToolKit

DATA_ENV_VAR = "TAU_BENCH_DATA"


@dataclass
class Domain:
    """Everything one domain needs to run episodes.

    Attributes:
        name: ``"retail"`` or ``"airline"`` (or a user's own domain).
        toolkit: the ToolKit subclass whose methods are the domain's tools.
        db: the database every episode starts from (``db.fresh()`` gives an episode's copy).
        policy: the policy text the agent must follow.
        tasks: split -> tasks in file order (``tasks[split][i].task_id == f"{split}/{i}"``).
        source: ``"official"`` or ``"generated"`` (with its parameters), recorded in infos.
    """

    name: str
    toolkit: type[ToolKit]
    db: Database
    policy: str
    tasks: Mapping[str, Sequence[Task]]
    source: str
    _gold: dict[str, str] = field(default_factory=dict, repr=False)

    def task(self, task_id: str) -> Task:
        """The task with id ``"<split>/<index>"``.

        Raises:
            ValueError: no such task; the message gives the valid id ranges.
        """
        split, _, idx = str(task_id).partition("/")
        tasks = self.tasks.get(split)
        if tasks is None or not idx.isdigit() or int(idx) >= len(tasks):
            ranges = ", ".join(f"{s}/0..{len(t) - 1}" for s, t in self.tasks.items())
            raise ValueError(
                f"{self.name} ({self.source}): unknown task_id {task_id!r}; valid: {ranges}"
            )
        return tasks[int(idx)]

    def replay(self, actions: Sequence[GoldAction], db: Database | None = None) -> Database:
        """Apply tool calls in order (terminal tools skipped) on ``db`` or a fresh copy."""
        db = db if db is not None else self.db.fresh()
        kit = self.toolkit(db)
        specs = kit.specs()
        for action in actions:
            spec = specs.get(action.name)
            if spec is not None and spec.terminal:
                continue
            kit.invoke(action.name, action.arguments)
        return db

    def gold_digest(self, task: Task) -> str:
        """Digest of the database after the task's gold actions (computed once, then cached)."""
        digest = self._gold.get(task.task_id)
        if digest is None:
            digest = self.replay(task.actions).digest()
            self._gold[task.task_id] = digest
        return digest

    def precompute_gold_digests(self) -> dict[str, str]:
        """Gold digests of every task (task id -> digest), e.g. before forking rollout workers."""
        return {t.task_id: self.gold_digest(t) for ts in self.tasks.values() for t in ts}

    def is_noop(self, task: Task) -> bool:
        """True when doing nothing already succeeds: the gold actions leave the database as it
        was and the task requires no output."""
        return not task.outputs and self.gold_digest(task) == self.db.fresh().digest()


def resolve_data_dir(data_dir: str | os.PathLike[str] | None, domain: str) -> Path:
    """The tau-bench data folder (holding ``retail/`` and ``airline/``).

    Order: the explicit ``data_dir``, then the ``TAU_BENCH_DATA`` environment variable.
    """
    raw = data_dir if data_dir is not None else os.environ.get(DATA_ENV_VAR)
    if not raw:
        raise FileNotFoundError(
            f"source='official' needs the tau-bench data: pass data_dir=... or set {DATA_ENV_VAR} "
            "to the folder that holds retail/ and airline/ (or use source='generated')"
        )
    path = Path(raw).expanduser().resolve()
    if not (path / domain).is_dir():
        raise FileNotFoundError(f"{path}: no {domain}/ folder; is this the tau-bench data folder?")
    return path


def load_tables(
    folder: Path, required_fields: Mapping[str, Sequence[str]]
) -> tuple[dict[str, dict[str, Any]], str]:
    """Read ``<folder>/<table>.json`` for each table and check every record's required fields.

    Returns ``(tables, base_id)`` where ``base_id`` is the SHA-256 of the files' bytes.

    Raises:
        FileNotFoundError / ValueError: naming the file, the record and the field at fault.
    """
    tables: dict[str, dict[str, Any]] = {}
    h = hashlib.sha256()
    for name, fields in required_fields.items():
        path = folder / f"{name}.json"
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise FileNotFoundError(f"database file not found: {path}") from None
        h.update(name.encode() + b"\x00" + raw)
        try:
            table = json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"{path}: not valid JSON ({exc})") from None
        if not isinstance(table, dict):
            raise ValueError(f"{path}: expected a JSON object mapping ids to records")
        for key, rec in table.items():
            if not isinstance(rec, dict):
                raise ValueError(f"{path}: record {key!r} must be a JSON object")
            for f in fields:
                if f not in rec:
                    raise ValueError(f"{path}: record {key!r} is missing the field {f!r}")
        tables[name] = table
    return tables, h.hexdigest()


def read_policy(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileNotFoundError(f"policy file not found: {path}") from None


def load_official_domain(
    data_dir: str | os.PathLike[str] | None,
    name: str,
    toolkit: type[ToolKit],
    record_types: Mapping[str, Any],
    splits: Sequence[str],
) -> Domain:
    """tau-bench's official data of domain ``name`` from ``<data_dir>/<name>``.

    Reads ``db/<table>.json`` for each table of ``record_types`` (every record must have the
    type's required keys), ``policy.md`` and ``tasks_<split>.json`` per split; a task's category
    is its first writing tool. Loaded once per folder and process.

    Raises:
        FileNotFoundError / ValueError: the data folder, a file, a record or a field is missing or
            malformed (the message names it).
    """
    required = tuple(
        (table, tuple(sorted(rec.__required_keys__))) for table, rec in record_types.items()
    )
    root = resolve_data_dir(data_dir, name)
    # classes are hashable; typeshed's lru_cache signature does not say so for type[...]
    return _load_official(root, name, toolkit, required, tuple(splits))  # type: ignore[arg-type]


@functools.lru_cache(maxsize=8)
def _load_official(
    root: Path,
    name: str,
    toolkit: type[ToolKit],
    required: tuple[tuple[str, tuple[str, ...]], ...],
    splits: tuple[str, ...],
) -> Domain:
    folder = root / name
    tables, base_id = load_tables(folder / "db", dict(required))
    writing = tuple(n for n, spec in toolkit.specs().items() if spec.writes)
    return Domain(
        name=name,
        toolkit=toolkit,
        db=Database(tables, base_id),
        policy=read_policy(folder / "policy.md"),
        tasks={s: load_task_file(folder / f"tasks_{s}.json", s, writing) for s in splits},
        source="official",
    )
