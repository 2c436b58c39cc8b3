"""Helpers that tamper with copies of a submission, as a cheater would."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from proxmo_bench.atomic_files import file_sha256
from proxmo_bench.leaderboard.metrics import compute_metrics
from proxmo_bench.leaderboard.schema import Manifest, dump_manifest
from proxmo_bench.rollout.records import EpisodeRecord, read_episodes, write_episodes


def rewrite(
    folder: Path,
    edit_records: Callable[[list[EpisodeRecord]], list[EpisodeRecord]] | None = None,
    *,
    recompute: bool = True,
    redigest: bool = True,
) -> None:
    """Edit a submission's episodes; with ``recompute`` also rewrite the manifest's metrics to
    match (the careful cheater whom only replay catches); with ``redigest`` the manifest's
    ``episodes_sha256`` is made to match the new file (the cheater edits both)."""
    records = read_episodes(folder / "episodes.jsonl.gz")
    if edit_records is not None:
        records = edit_records(records)
        write_episodes(folder / "episodes.jsonl.gz", records)
        if redigest:
            digest = file_sha256(folder / "episodes.jsonl.gz")
            edit_manifest(folder, lambda obj: obj.update(episodes_sha256=digest))
    if recompute:
        m = Manifest.model_validate_json((folder / "manifest.json").read_text())
        n = len(m.evaluation.episodes)
        runs = [records[k * n : (k + 1) * n] for k in range(len(m.runs))]
        metrics = compute_metrics(runs, m.task.categories, m.metrics.ci)
        (folder / "manifest.json").write_text(
            dump_manifest(m.model_copy(update={"metrics": metrics}))
        )


def edit_manifest(folder: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``edit`` to the manifest's JSON object and write it back."""
    obj = json.loads((folder / "manifest.json").read_text())
    edit(obj)
    (folder / "manifest.json").write_text(json.dumps(obj))
