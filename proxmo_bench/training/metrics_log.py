"""Metrics of a run: one JSON line per update in ``metrics.jsonl`` (+ TensorBoard when installed).

Every line is a JSON object with at least ``update`` and ``env_steps`` (non-negative integers);
updates strictly increase, from ``0`` (the evaluation before training). The file is only appended
to while a run trains, one whole line per write, so the one thing a crash can leave behind is an
unterminated last line (the process died while writing it): :func:`read_metrics` drops that line
with a warning. Anything else (a line that is not JSON, not an object, lacks a required key, or
repeats an update) is a :class:`MetricsError` naming the file and line, never repaired silently.

On resume the file is cut back to the updates the checkpoint covers (rewritten atomically), so
lines written after the last checkpoint (and lost with the process) are produced again exactly
once: no gap, no duplicate. A file that does not cover every update up to the checkpoint's is an
error too.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from proxmo_bench.atomic_files import write_atomic

METRICS_NAME = "metrics.jsonl"
#: Keys every record carries.
REQUIRED_KEYS = ("update", "env_steps")


class MetricsError(ValueError):
    """A metrics file with a corrupt, incomplete, duplicated or missing record (names the line)."""


class MetricsLog:
    """Appends metric records (each with an ``update`` key) to ``<out_dir>/metrics.jsonl``."""

    def __init__(self, out_dir: str | Path, *, tensorboard: bool = True) -> None:
        self.path = Path(out_dir) / METRICS_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tb: Any = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(str(Path(out_dir) / "tensorboard"))
            except ImportError:  # tensorboard is optional: say once that it is off
                self._tb = None
                _tensorboard_missing_notice()

    def replace_records(self, records: Sequence[dict[str, Any]]) -> None:
        """Make the file hold exactly ``records`` (atomically): ``[]`` for a fresh run, the
        checked records up to the checkpoint (:func:`records_until`) for a resumed one."""
        write_atomic(self.path, "".join(_line(r) for r in records))

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (flushed at once, so a killed run loses at most the line being written)."""
        clean = {k: _jsonable(v) for k, v in record.items()}
        with open(self.path, "a") as f:
            f.write(_line(clean))
            f.flush()
        if self._tb is not None:
            for k, v in clean.items():
                if isinstance(v, int | float) and k != "update":
                    self._tb.add_scalar(k, v, clean["update"])
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


_notified = False


def _tensorboard_missing_notice() -> None:
    """One line on stderr per process: ``tensorboard: true`` was asked for but is not installed."""
    global _notified
    if not _notified:
        _notified = True
        print(
            "notice: TensorBoard is not installed, so metrics go to metrics.jsonl only "
            "(pip install tensorboard to log there too; tensorboard=false silences this)",
            file=sys.stderr,
        )


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, sort_keys=True) + "\n"


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """The records of a metrics file, checked (module docstring); an unterminated last line is
    dropped with a warning.

    Raises:
        MetricsError: ``path:line: what is wrong`` for the first bad line.
    """
    path = Path(path)
    lines = path.read_bytes().split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline
    out: list[dict[str, Any]] = []
    first_line: dict[int, int] = {}
    for number, raw in enumerate(lines, start=1):
        where = f"{path}:{number}"
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MetricsError(f"{where}: not a JSON line ({exc}); the file is corrupt") from None
        if not isinstance(record, dict):
            raise MetricsError(f"{where}: a record must be a JSON object, got {raw[:40]!r}")
        for key in REQUIRED_KEYS:
            value = record.get(key)
            if key not in record:
                raise MetricsError(f"{where}: record lacks required key {key!r}")
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise MetricsError(
                    f"{where}: {key!r} must be a non-negative integer, got {value!r}"
                )
        update = record["update"]
        if update in first_line:
            raise MetricsError(
                f"{where}: update {update} is recorded twice (first on line {first_line[update]})"
            )
        if out and update < out[-1]["update"]:
            raise MetricsError(
                f"{where}: update {update} comes after update {out[-1]['update']} (out of order)"
            )
        first_line[update] = number
        out.append(record)
    if tail:
        warnings.warn(
            f"{path}:{len(lines) + 1}: dropped an unterminated last line (a run killed while "
            "writing it)",
            stacklevel=2,
        )
    return out


def records_until(path: str | Path, update: int) -> list[dict[str, Any]]:
    """The checked records of ``path`` for updates ``0..update`` (what a run resumed after
    ``update`` keeps); the later ones were written after its last checkpoint.

    Raises:
        MetricsError: the file is missing, a line is bad (:func:`read_metrics`), or it does not
            hold exactly one record for every update up to ``update``.
    """
    path = Path(path)
    if not path.is_file():
        raise MetricsError(f"{path} is missing; the checkpoint is at update {update}")
    kept = [r for r in read_metrics(path) if r["update"] <= update]
    have = [r["update"] for r in kept]
    if have != list(range(update + 1)):
        lacking = sorted(set(range(update + 1)) - set(have))
        raise MetricsError(
            f"{path}: the checkpoint is at update {update} but the file has no record of "
            f"update(s) {_ranges(lacking)}"
        )
    return kept


def _ranges(values: list[int]) -> str:
    if len(values) > 6:
        return f"{values[0]}..{values[-1]} ({len(values)} missing)"
    return ", ".join(map(str, values))
