"""Resuming a run with the config it was trained with, or with a change that is recorded.

A resumed run continues the checkpoint's run, so its config (after presets and ``--set``) must be
the checkpoint's: :func:`config_changes` lists every field that differs (dotted for nested ones,
``estimator.gamma``, ``env_kwargs.difficulty``), and the trainer refuses them with a
:class:`ConfigDriftError` unless the change is deliberate (``allow_config_change=True``,
``train --resume --allow-config-change``). An allowed change is appended to the run folder's
``config_changes.jsonl``: the old and new value of every changed field and the update it applies
from. Only :data:`FREE_FIELDS` may differ without either: they change neither what is computed
nor what the run records.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proxmo_bench.atomic_files import write_atomic

CHANGES_NAME = "config_changes.jsonl"
#: Fields a resumed run may set freely: where the run folder is, the progress bar, TensorBoard.
FREE_FIELDS = frozenset({"out_dir", "progress", "tensorboard"})


@dataclass(frozen=True)
class ConfigChange:
    """One field (dotted) whose value differs between the checkpoint and the requested config."""

    field: str
    old: Any
    new: Any

    def __str__(self) -> str:
        return f"{self.field}: {_short(self.old)} -> {_short(self.new)}"


class ConfigDriftError(ValueError):
    """Resuming with a config that differs from the checkpoint's, without allowing it."""

    def __init__(self, run_dir: Path, update: int, changes: Sequence[ConfigChange]) -> None:
        listed = "; ".join(map(str, changes))
        super().__init__(
            f"cannot resume {run_dir}: the requested config differs from the checkpoint's "
            f"(update {update}) in {listed}; resume with the run's own config, or pass "
            "--allow-config-change (allow_config_change=True) to apply the change from update "
            f"{update + 1} (it is recorded in {CHANGES_NAME})"
        )
        self.changes = list(changes)


def saved_config_data(data: Mapping[str, Any]) -> dict[str, Any]:
    """A checkpoint's config in today's layout with every field (legacy layouts migrated, fields
    added since filled with their defaults, which is what the older code did); the data as
    stored when it no longer validates."""
    from proxmo_bench.training.config import ConfigError, config_from_dict, migrate_legacy

    try:
        return config_from_dict(migrate_legacy(data)).to_dict()
    except ConfigError:
        return dict(data)


def config_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[ConfigChange]:
    """Every field whose value differs between the configs ``old`` and ``new`` (plain data),
    nested sections compared field by field, :data:`FREE_FIELDS` left out; sorted by field."""
    out: list[ConfigChange] = []
    _compare(saved_config_data(old), dict(new), "", out)
    return sorted((c for c in out if c.field.split(".")[0] not in FREE_FIELDS), key=_by_field)


def _by_field(change: ConfigChange) -> str:
    return change.field


_MISSING = "<unset>"


def _compare(old: Any, new: Any, prefix: str, out: list[ConfigChange]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new), key=str):
            field = f"{prefix}.{key}" if prefix else str(key)
            _compare(old.get(key, _MISSING), new.get(key, _MISSING), field, out)
    elif old != new or type(old) is not type(new):
        out.append(ConfigChange(prefix, old, new))


def record_config_changes(
    run_dir: str | Path, changes: Sequence[ConfigChange], *, checkpoint_update: int
) -> Path:
    """Append one line to ``run_dir/config_changes.jsonl`` (rewritten atomically): the changes and
    the update they apply from (``checkpoint_update + 1``). Returns the file's path."""
    path = Path(run_dir) / CHANGES_NAME
    line = {
        "applies_from_update": checkpoint_update + 1,
        "checkpoint_update": checkpoint_update,
        "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in changes],
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    before = path.read_text(encoding="utf-8") if path.is_file() else ""
    if before and not before.endswith("\n"):
        before += "\n"
    return write_atomic(path, before + json.dumps(line, sort_keys=True) + "\n")


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str) if value != _MISSING else value
    return text if len(text) <= 60 else text[:57] + "..."
