"""``leaderboard submit``: validate + verify a submission, then publish it atomically.

The files are first copied to a private staging folder, and the staged copy is what gets validated
and verified (so a file changed after the check cannot slip in). Only then is the copy moved under
``<root>/<suite>/submissions/<date>_<name>/`` with one ``rename``: readers see the whole submission
or none of it, and an existing submission is never overwritten.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from proxmo_bench.leaderboard.schema import check_folder_name, check_safe_name
from proxmo_bench.leaderboard.validate import (
    OPTIONAL_FILES,
    SUBMISSION_FILES,
    Submission,
    SubmissionError,
    validate_submission,
)
from proxmo_bench.leaderboard.verify import ProgressFn, verify_submission


def submit_submission(
    src: str | Path,
    *,
    root: str | Path = "leaderboards",
    sample: int | None = None,
    seed: int = 0,
    progress: ProgressFn | None = None,
    policy_check: Callable[[Submission], Sequence[str]] | None = None,
) -> Path:
    """Publish the submission folder ``src`` under ``root``; returns the published folder.

    Args:
        src: a folder with ``manifest.json`` and ``episodes.jsonl.gz``.
        root: the leaderboards root (``leaderboards/`` of the repository).
        sample: replay only this many episodes (seeded by ``seed``); ``None`` replays all.
        policy_check: run on the staged copy after replay; the problems it returns refuse the
            submission (the CLI re-runs the policy here: the leaderboard cannot train or act).

    Raises:
        SubmissionError: validation or verification failed, or the destination exists; nothing
            is written under ``root`` in that case.
    """
    src = Path(src)
    root = Path(root)
    # Check the source before copying anything, so hostile input (links, huge files) is never read
    # into the staging area.
    validate_submission(src)
    with tempfile.TemporaryDirectory(prefix="proxmo-submit-") as tmp:
        staged = Path(tmp) / src.name
        staged.mkdir()
        for name in SUBMISSION_FILES + tuple(n for n in OPTIONAL_FILES if (src / n).exists()):
            shutil.copyfile(src / name, staged / name, follow_symlinks=False)
        sub = validate_submission(staged)
        verify_submission(staged, sample=sample, seed=seed, submission=sub, progress=progress)
        if policy_check is not None:
            problems = list(policy_check(sub))
            if problems:
                raise SubmissionError(src, problems)
        m = sub.manifest
        suite = check_safe_name(m.suite, "suite")
        folder = check_folder_name(m.folder_name())
        dest_parent = root / suite / "submissions"
        dest = dest_parent / folder
        # Belt and braces: the resolved destination must stay inside the root.
        root_resolved = root.resolve()
        if root_resolved not in dest.resolve().parents:
            raise SubmissionError(src, [f"destination {dest} escapes the leaderboards root {root}"])
        if dest.exists():
            raise SubmissionError(
                src, [f"{dest} already exists; submissions are never overwritten"]
            )
        dest_parent.mkdir(parents=True, exist_ok=True)
        partial = dest_parent / f".{folder}.partial-{os.getpid()}"
        shutil.copytree(staged, partial)
        try:
            # os.rename onto a non-empty folder fails, so a race cannot overwrite either.
            os.rename(partial, dest)
        except OSError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise SubmissionError(src, [f"could not publish to {dest}: {exc}"]) from None
    return dest
