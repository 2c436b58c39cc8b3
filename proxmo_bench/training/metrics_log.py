"""Metrics of a run: one JSON line per update in ``metrics.jsonl`` (+ TensorBoard when installed).

On resume the file is cut back to the updates the checkpoint covers, so lines written after the
last checkpoint (and lost with the process) are produced again exactly once: no gap, no duplicate.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

METRICS_NAME = "metrics.jsonl"


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
            except ImportError:  # tensorboard is optional
                self._tb = None

    def truncate_after(self, update: int) -> int:
        """Keep only records with ``update <= update``; returns how many were kept."""
        if not self.path.exists():
            return 0
        kept = [r for r in read_metrics(self.path) if r["update"] <= update]
        tmp = self.path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in kept))
        tmp.replace(self.path)
        return len(kept)

    def write(self, record: dict[str, Any]) -> None:
        """Append one record (flushed at once, so a killed run loses at most the line being written)."""
        clean = {k: _jsonable(v) for k, v in record.items()}
        with open(self.path, "a") as f:
            f.write(json.dumps(clean, sort_keys=True) + "\n")
            f.flush()
        if self._tb is not None:
            for k, v in clean.items():
                if isinstance(v, int | float) and k != "update":
                    self._tb.add_scalar(k, v, clean["update"])
            self._tb.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """All complete records of a metrics file (a half-written last line is dropped)."""
    out = []
    for line in Path(path).read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # the line a killed process was writing
    return out
