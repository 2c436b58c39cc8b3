"""``leaderboard validate``: is a submission folder well-formed and are its claims true?

Checks, in order, each failing with a message that names the problem: the folder holds exactly
``manifest.json`` and ``episodes.jsonl.gz`` as regular files within size bounds; the manifest parses
(no NaN/Infinity) and matches the schema (safe names, consistent runs and seeds); the task is
registered and the splits exist; the episodes file is a complete gzip stream within the
decompressed-size bound; each run holds exactly the evaluation episodes, in order, once each, with
the manifest's task, split, env version and make() kwargs; and every metric recomputed from the
episodes equals the claimed one. Validation reads only; it never writes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from proxmo_bench.atomic_files import file_sha256
from proxmo_bench.leaderboard.metrics import compute_metrics
from proxmo_bench.leaderboard.schema import Interval, Manifest, Metrics, load_manifest_json
from proxmo_bench.rollout.records import EpisodeRecord, read_episodes

MANIFEST = "manifest.json"
EPISODES = "episodes.jsonl.gz"
SUBMISSION_FILES = (MANIFEST, EPISODES)
#: Optional: a trained agent's final weights per run (``<seed>/<tensor name>``, safetensors), which
#: ``verify`` re-runs on the recorded episodes.
WEIGHTS = "weights.safetensors"
OPTIONAL_FILES = (WEIGHTS,)
MAX_WEIGHTS_BYTES = 16 * 1024 * 1024

MAX_MANIFEST_BYTES = 8 * 1024 * 1024
MAX_EPISODES_BYTES = 64 * 1024 * 1024
MAX_EPISODES_DECOMPRESSED = 256 * 1024 * 1024
#: Claimed and recomputed metrics must agree to this (they come from the same code).
METRIC_TOLERANCE = 1e-9
_FOLDER = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}_.+", re.DOTALL)
_MAX_PROBLEMS = 20


class SubmissionError(ValueError):
    """A submission failed a check; ``problems`` lists every problem found (at least one)."""

    def __init__(self, where: str | Path, problems: Sequence[str]) -> None:
        self.where = str(where)
        self.problems = list(problems) or ["unknown problem"]
        shown = self.problems[:_MAX_PROBLEMS]
        more = len(self.problems) - len(shown)
        text = "\n  - ".join(shown) + (f"\n  ... and {more} more" if more > 0 else "")
        super().__init__(f"{self.where}: invalid submission:\n  - {text}")


@dataclass(frozen=True)
class Submission:
    """A validated submission: its manifest and its episodes split into runs."""

    path: Path
    manifest: Manifest
    runs: list[list[EpisodeRecord]]

    @property
    def episodes(self) -> list[EpisodeRecord]:
        """All episodes, run after run."""
        return [r for run in self.runs for r in run]


def _fail(path: Path, *problems: str) -> SubmissionError:
    return SubmissionError(path, problems)


def check_files(path: Path) -> None:
    """The folder holds exactly the submission files, as regular files within the size bounds.

    Raises:
        SubmissionError: naming each missing, unexpected, linked or oversized entry.
    """
    if path.is_symlink() or not path.is_dir():
        raise _fail(
            path, "not a folder (a submission is a folder with manifest.json and episodes.jsonl.gz)"
        )
    entries = {p.name: p for p in path.iterdir()}
    problems = []
    for name in sorted(set(entries) - set(SUBMISSION_FILES) - set(OPTIONAL_FILES)):
        problems.append(
            f"unexpected entry {name!r}; a submission holds only {list(SUBMISSION_FILES)} "
            f"(and optionally {list(OPTIONAL_FILES)})"
        )
    for name in OPTIONAL_FILES:
        p = entries.get(name)
        if p is not None and (p.is_symlink() or not p.is_file()):
            problems.append(f"{name} must be a regular file (not a link or folder)")
    for name in SUBMISSION_FILES:
        p = entries.get(name)
        if p is None:
            problems.append(f"{name} is missing")
        elif p.is_symlink() or not p.is_file():
            problems.append(f"{name} must be a regular file (not a link or folder)")
    if problems:
        raise _fail(path, *problems)
    limits = {
        MANIFEST: MAX_MANIFEST_BYTES,
        EPISODES: MAX_EPISODES_BYTES,
        WEIGHTS: MAX_WEIGHTS_BYTES,
    }
    for name, limit in limits.items():
        if name not in entries:
            continue
        size = (path / name).stat().st_size
        if size > limit:
            raise _fail(path, f"{name} is {size} bytes; the limit is {limit} bytes")


def _format_validation_error(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = ".".join(str(x) for x in err["loc"]) or "(manifest)"
        out.append(f"manifest.json: {loc}: {err['msg']}")
    return out


def read_manifest_object(path: str | Path) -> dict[str, Any]:
    """The JSON object of ``manifest.json`` in a submission folder (or the file itself), unchecked
    against the schema.

    Raises:
        SubmissionError: missing, not a regular file, too large, not JSON, or NaN/Infinity.
    """
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    file = path / MANIFEST if path.is_dir() else path
    if file.is_symlink() or not file.is_file():
        raise _fail(folder, f"{MANIFEST} is missing or not a regular file")
    size = file.stat().st_size
    if size > MAX_MANIFEST_BYTES:
        raise _fail(folder, f"{MANIFEST} is {size} bytes; the limit is {MAX_MANIFEST_BYTES} bytes")
    try:
        return load_manifest_json(file.read_bytes())
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise _fail(folder, f"{MANIFEST}: not valid JSON ({exc})") from None
    except RecursionError:  # deeply nested arrays: a cheap way to crash a naive parser
        raise _fail(folder, f"{MANIFEST}: JSON nested too deeply") from None


def manifest_from_object(folder: str | Path, obj: dict[str, Any]) -> Manifest:
    """``obj`` checked against the manifest schema.

    Raises:
        SubmissionError: one message per schema violation, naming the field.
    """
    try:
        return Manifest.model_validate(obj)
    except ValidationError as exc:
        raise SubmissionError(folder, _format_validation_error(exc)) from None


def load_manifest(path: str | Path) -> Manifest:
    """Read and schema-check ``manifest.json`` from a submission folder (or the file itself).

    Raises:
        SubmissionError: too large, not JSON, NaN/Infinity, or not matching the schema (which
            includes naming an interval method that is unknown or retired).
    """
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    return manifest_from_object(folder, read_manifest_object(path))


def _check_task(path: Path, m: Manifest) -> None:
    from proxmo_bench.tasks import get_task_spec

    try:
        spec = get_task_spec(m.task.id)
    except KeyError as exc:
        raise _fail(path, f"unknown task id: {exc.args[0]}") from None
    problems = []
    if m.evaluation.split not in spec.splits:
        problems.append(
            f"evaluation split {m.evaluation.split!r} is not a split of {m.task.id} "
            f"({list(spec.splits)})"
        )
    if m.training is not None and m.training.split not in spec.splits:
        problems.append(
            f"training split {m.training.split!r} is not a split of {m.task.id} "
            f"({list(spec.splits)})"
        )
    source = m.task.env_kwargs.get("source")
    if source is not None and source != m.data.source:
        problems.append(f"data.source={m.data.source!r} but task.env_kwargs.source={source!r}")
    if problems:
        raise _fail(path, *problems)


def _check_records(
    path: Path, m: Manifest, records: list[EpisodeRecord]
) -> list[list[EpisodeRecord]]:
    n_eval = len(m.evaluation.episodes)
    expected = n_eval * len(m.runs)
    if len(records) != expected:
        raise _fail(
            path,
            f"{EPISODES} holds {len(records)} episodes but the manifest declares "
            f"{len(m.runs)} runs "
            f"x {n_eval} evaluation episodes = {expected}",
        )
    known_categories = set(m.task.categories)
    problems: list[str] = []
    runs: list[list[EpisodeRecord]] = []
    for k, run in enumerate(m.runs):
        chunk = records[k * n_eval : (k + 1) * n_eval]
        seen: dict[tuple[str, int | None], int] = {}
        for j, (rec, ep) in enumerate(zip(chunk, m.evaluation.episodes, strict=True)):
            where = f"episode {k * n_eval + j + 1} (run seed {run.seed}, #{j})"
            key = (rec.task_id, rec.seed)
            if key in seen:
                problems.append(
                    f"{where}: duplicated episode task_id={rec.task_id!r} seed={rec.seed} "
                    f"(already episode #{seen[key]} of this run)"
                )
                continue
            seen[key] = j
            if rec.task != m.task.id:
                problems.append(
                    f"{where}: task {rec.task!r} is not the manifest's task {m.task.id!r}"
                )
            if (rec.task_id, rec.seed) != (ep.task_id, ep.seed):
                problems.append(
                    f"{where}: plays task_id={rec.task_id!r} seed={rec.seed}, "
                    "but evaluation episode "
                    f"#{j} is task_id={ep.task_id!r} seed={ep.seed}"
                )
            if rec.split != m.evaluation.split:
                problems.append(
                    f"{where}: split {rec.split!r} != evaluation split {m.evaluation.split!r}"
                )
            if rec.env_version != m.task.env_version:
                problems.append(
                    f"{where}: env_version {rec.env_version!r} != manifest {m.task.env_version!r}"
                )
            if rec.env_kwargs != m.task.env_kwargs:
                problems.append(
                    f"{where}: env_kwargs {rec.env_kwargs} != manifest {m.task.env_kwargs}"
                )
            if known_categories and rec.task_category not in known_categories:
                problems.append(
                    f"{where}: category {rec.task_category!r} is not among "
                    f"{sorted(known_categories)}"
                )
            if not all(math.isfinite(r) for r in rec.rewards):  # records check too; belt and braces
                problems.append(f"{where}: non-finite reward")
            if len(problems) >= _MAX_PROBLEMS:
                raise SubmissionError(path, problems)
        runs.append(chunk)
    if problems:
        raise SubmissionError(path, problems)
    return runs


def _compare_interval(name: str, claimed: Interval, actual: Interval) -> list[str]:
    out = []
    for field in ("mean", "low", "high"):
        c, a = getattr(claimed, field), getattr(actual, field)
        if abs(c - a) > METRIC_TOLERANCE:
            out.append(f"metrics.{name}.{field} claims {c!r} but the episodes give {a!r}")
    if len(claimed.per_run) != len(actual.per_run) or any(
        abs(c - a) > METRIC_TOLERANCE for c, a in zip(claimed.per_run, actual.per_run, strict=False)
    ):
        out.append(
            f"metrics.{name}.per_run claims {claimed.per_run} "
            f"but the episodes give {actual.per_run}"
        )
    return out


def compare_metrics(claimed: Metrics, actual: Metrics) -> list[str]:
    """Every difference between claimed and recomputed metrics, one message each."""
    out: list[str] = []
    if claimed.n_episodes != actual.n_episodes:
        out.append(
            f"metrics.n_episodes claims {claimed.n_episodes} but there are {actual.n_episodes}"
        )
    for name in ("success", "score", "mean_return", "mean_steps"):
        out += _compare_interval(name, getattr(claimed, name), getattr(actual, name))
    if set(claimed.per_category) != set(actual.per_category):
        out.append(
            f"metrics.per_category has categories {sorted(claimed.per_category)} but the episodes "
            f"have {sorted(actual.per_category)}"
        )
    for cat in sorted(set(claimed.per_category) & set(actual.per_category)):
        out += _compare_interval(
            f"per_category.{cat}", claimed.per_category[cat], actual.per_category[cat]
        )
    return out


def check_episodes(
    path: str | Path, m: Manifest, *, published: bool = False
) -> list[list[EpisodeRecord]]:
    """Every check of a submission folder after its manifest's schema, except the metric values:
    folder naming, task and splits, the episodes file, and that each run holds exactly the
    evaluation episodes with the manifest's task settings. Returns the episodes split into runs.

    Args:
        path: the submission folder (its files already checked by :func:`check_files`).
        m: its manifest.
        published: see :func:`validate_submission`.

    Raises:
        SubmissionError: listing what is wrong.
    """
    path = Path(path)
    if published:
        problems = []
        if path.name != m.folder_name():
            problems.append(
                f"folder name {path.name!r} should be {m.folder_name()!r} (<date>_<name>)"
            )
        if path.parent.name != "submissions" or path.parent.parent.name != m.suite:
            problems.append(
                f"a published submission of suite {m.suite!r} belongs in {m.suite}/submissions/"
            )
        if problems:
            raise _fail(path, *problems)
    elif _FOLDER.fullmatch(path.name) and path.name != m.folder_name():
        raise _fail(
            path, f"folder name {path.name!r} disagrees with the manifest ({m.folder_name()!r})"
        )
    _check_task(path, m)
    try:
        records = read_episodes(path / EPISODES, max_bytes=MAX_EPISODES_DECOMPRESSED)
    except ValueError as exc:
        raise _fail(path, f"{EPISODES}: {exc}") from None
    except RecursionError:
        raise _fail(path, f"{EPISODES}: a line holds JSON nested too deeply") from None
    runs = _check_records(path, m, records)
    # last, so that a broken or inconsistent file is named by what is wrong with it
    if m.episodes_sha256 is not None:
        digest = file_sha256(path / EPISODES)
        if digest != m.episodes_sha256:
            raise _fail(
                path,
                f"{EPISODES} has SHA-256 {digest}, the manifest records {m.episodes_sha256}: "
                "the episodes were changed after the manifest was written",
            )
    return runs


def recompute_metrics(path: str | Path, m: Manifest, runs: list[list[EpisodeRecord]]) -> Metrics:
    """The metrics of ``runs`` computed as ``m.metrics.ci`` says (method, level, resamples, seed).

    Raises:
        SubmissionError: they cannot be computed (e.g. the interval unit does not fit the runs).
    """
    try:
        return compute_metrics(runs, m.task.categories, m.metrics.ci)
    except ValueError as exc:
        raise _fail(Path(path), f"metrics cannot be recomputed: {exc}") from None


def validate_submission(path: str | Path, *, published: bool = False) -> Submission:
    """Validate a submission folder; returns its manifest and episodes when every check passes.

    Args:
        path: the submission folder.
        published: the folder sits in ``leaderboards/<suite>/submissions/``: its name must be
            ``<date>_<name>`` from the manifest and the suite folder must match ``manifest.suite``.

    Raises:
        SubmissionError: listing what is wrong. Nothing is written either way.
    """
    path = Path(path)
    check_files(path)
    m = load_manifest(path)
    runs = check_episodes(path, m, published=published)
    problems = compare_metrics(m.metrics, recompute_metrics(path, m, runs))
    if problems:
        raise SubmissionError(path, problems)
    return Submission(path=path, manifest=m, runs=runs)


def find_submissions(root: str | Path) -> list[Path]:
    """Every ``<suite>/submissions/<folder>`` under a leaderboards root, sorted."""
    root = Path(root)
    return sorted(p for p in root.glob("*/submissions/*") if not p.name.startswith("."))


def validate_all(root: str | Path) -> dict[Path, Submission | SubmissionError]:
    """Validate every published submission under ``root`` (CI runs this on ``leaderboards/``)."""
    results: dict[Path, Any] = {}
    for sub in find_submissions(root):
        try:
            results[sub] = validate_submission(sub, published=True)
        except SubmissionError as exc:
            results[sub] = exc
    return results
