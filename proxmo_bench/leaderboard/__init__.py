"""Submissions: manifest schema, validation, replay verification, publishing and rendering.

Entry points (wired as ``proxmo-bench leaderboard validate|verify|submit|render|rederive``):
:func:`validate_submission`, :func:`verify_submission`, :func:`submit_submission`,
:func:`render_suite`, :func:`rederive_submission` (maintenance: metrics recomputed with the current
interval method).
"""

from proxmo_bench.leaderboard.rederive import RederiveResult, rederive_submission
from proxmo_bench.leaderboard.render import render_all, render_suite
from proxmo_bench.leaderboard.schema import Manifest, export_json_schema
from proxmo_bench.leaderboard.submit import submit_submission
from proxmo_bench.leaderboard.validate import (
    Submission,
    SubmissionError,
    validate_all,
    validate_submission,
)
from proxmo_bench.leaderboard.verify import VerifyReport, verify_submission

__all__ = [
    "Manifest",
    "RederiveResult",
    "Submission",
    "SubmissionError",
    "VerifyReport",
    "export_json_schema",
    "rederive_submission",
    "render_all",
    "render_suite",
    "submit_submission",
    "validate_all",
    "validate_submission",
    "verify_submission",
]
