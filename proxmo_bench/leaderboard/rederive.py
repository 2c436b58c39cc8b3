"""``leaderboard rederive``: recompute a submission's metrics with the current interval method
(and record the episodes' SHA-256 where the manifest predates it).

Maintenance for published results when the interval definition changes (e.g. the move away from
NumPy ``Generator`` resampling, :data:`~proxmo_bench.leaderboard.intervals.RETIRED_METHODS`). The
episodes are the evidence and are never touched: the manifest is checked in full except for its
metric values and its interval method, the episodes are checked against it exactly as ``validate``
does, and only then are the metrics recomputed from them with
:data:`~proxmo_bench.leaderboard.intervals.DEFAULT_METHOD` (same level, resamples, seed and unit)
and ``manifest.json`` replaced atomically. The result must pass ``validate``, else the original
manifest is put back. A submission whose episodes do not validate is refused, nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proxmo_bench.atomic_files import file_sha256, write_atomic
from proxmo_bench.leaderboard.intervals import DEFAULT_METHOD
from proxmo_bench.leaderboard.schema import dump_manifest
from proxmo_bench.leaderboard.validate import (
    EPISODES,
    MANIFEST,
    SubmissionError,
    check_episodes,
    check_files,
    compare_metrics,
    manifest_from_object,
    read_manifest_object,
    recompute_metrics,
    validate_submission,
)


@dataclass(frozen=True)
class RederiveResult:
    """What :func:`rederive_submission` did to one submission."""

    path: Path
    old_method: str
    changed: bool
    #: Differences between the old and the new metrics (empty when unchanged).
    differences: tuple[str, ...]


def _with_method(folder: Path, obj: dict[str, Any], method: str) -> tuple[dict[str, Any], str]:
    """A copy of the manifest object naming ``method``, and the method it named."""
    metrics = obj.get("metrics")
    ci = metrics.get("ci") if isinstance(metrics, dict) else None
    if not isinstance(metrics, dict) or not isinstance(ci, dict):
        raise SubmissionError(folder, [f"{MANIFEST}: metrics.ci is missing or not an object"])
    old = ci.get("method")
    if not isinstance(old, str):
        raise SubmissionError(folder, [f"{MANIFEST}: metrics.ci.method is missing or not a string"])
    new_obj = {**obj, "metrics": {**metrics, "ci": {**ci, "method": method}}}
    return new_obj, old


def is_published_folder(path: Path) -> bool:
    """Whether ``path`` sits at ``<suite>/submissions/<folder>`` (checked as published)."""
    return path.parent.name == "submissions"


def rederive_submission(path: str | Path, *, published: bool | None = None) -> RederiveResult:
    """Recompute the metrics of the submission folder ``path`` and rewrite its ``manifest.json``.

    Args:
        path: the submission folder.
        published: check it as a published submission (see ``validate_submission``); by default,
            when it sits in a ``submissions/`` folder.

    Raises:
        SubmissionError: the files, the manifest (apart from metric values and interval method)
            or the episodes do not validate; nothing is written then.
    """
    path = Path(path)
    if published is None:
        published = is_published_folder(path)
    check_files(path)
    original = (path / MANIFEST).read_bytes()
    obj, old_method = _with_method(path, read_manifest_object(path), DEFAULT_METHOD)
    m = manifest_from_object(path, obj)
    runs = check_episodes(path, m, published=published)
    metrics = recompute_metrics(path, m, runs)
    # Validating the whole object again re-runs the manifest's cross-field rules.
    # A manifest written before the episodes' digest was recorded gets it now, after the episodes
    # were checked against it in full: from then on a changed file is refused.
    new = manifest_from_object(
        path,
        {
            **m.model_dump(mode="json"),
            "metrics": metrics.model_dump(),
            "episodes_sha256": m.episodes_sha256 or file_sha256(path / EPISODES),
        },
    )
    text = dump_manifest(new).encode("utf-8")
    if text == original:
        return RederiveResult(path, old_method, False, ())
    differences = tuple(compare_metrics(m.metrics, metrics))
    write_atomic(path / MANIFEST, text)
    try:
        validate_submission(path, published=published)
    except SubmissionError:
        write_atomic(path / MANIFEST, original)
        raise
    return RederiveResult(path, old_method, True, differences)


def submission_folders(path: str | Path) -> list[Path]:
    """The submission folders ``path`` names: itself (it holds ``manifest.json``), or every
    folder under ``path/submissions/`` (a suite folder), sorted.

    Raises:
        SubmissionError: ``path`` is neither.
    """
    path = Path(path)
    if (path / MANIFEST).exists():
        return [path]
    sub_dir = path / "submissions"
    if sub_dir.is_dir():
        return sorted(p for p in sub_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    raise SubmissionError(
        path,
        ["neither a submission folder (with manifest.json) nor a suite folder (with submissions/)"],
    )
