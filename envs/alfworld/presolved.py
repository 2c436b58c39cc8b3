"""Pre-solved generated games: the planner's answer for a fixed set of generator inputs, shipped.

``generate_game`` asks fast-downward (through TextWorld, the ``[alfworld]`` extra) for a plan of each
drawn layout, about 2 s a game. For the games the built-in settings use (the quickstart and the
published generated baselines) the outcome of that search is shipped in
``presolved_games.json.gz``: per ``(category, difficulty, seed)`` the first solvable attempt, the
checked walkthrough and the SHA-256 of the problem text it was found for. With it a game is rebuilt
without the planner (byte-identical, see ``tests/alfworld/test_alfworld_presolved.py``), and on a
machine without the ``[alfworld]`` extra the fast engine plays a *compact* game document built from
it (problem, task sentence, walkthrough; the domain and grammar named by fingerprint instead of
carried as text).

The file is written by ``scripts/presolve_alfworld.py`` from games the planner generated; an entry
whose problem hash does not match the layout drawn here (a changed generator) is ignored.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

#: The shipped index (package data).
PRESOLVED_FILE = Path(__file__).with_name("presolved_games.json.gz")
#: Format tag of the index file.
INDEX_FORMAT = "proxmo-bench/alfworld-presolved/v1"


@dataclass(frozen=True)
class Solution:
    """The planner's outcome for one ``(category, difficulty, seed)``.

    Attributes:
        attempt: the first layout attempt that was solvable.
        walkthrough: the plan that wins it (checked in the engine when it was found).
        problem_sha256: SHA-256 of that attempt's ``pddl_problem`` text.
    """

    attempt: int
    walkthrough: tuple[str, ...]
    problem_sha256: str


def solution_key(seed: int, category: str, difficulty: int) -> str:
    """The index key of a generator input, e.g. ``"pick-d1-123"`` (the cache file stem too)."""
    return f"{category}-d{difficulty}-{seed}"


def problem_sha256(problem: str) -> str:
    """SHA-256 (hex) of a problem text as the index records it."""
    return hashlib.sha256(problem.encode("utf-8")).hexdigest()


def read_index(path: Path, generator_version: str) -> dict[str, Solution]:
    """The solutions of an index file written for ``generator_version`` ({} for another version).

    Raises:
        ValueError: the file is not an index of this format (the message names the file).
    """
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            doc = json.load(fh)
    except (OSError, EOFError, json.JSONDecodeError) as exc:
        raise ValueError(f"pre-solved ALFWorld index {path} is unreadable: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != INDEX_FORMAT:
        raise ValueError(f"pre-solved ALFWorld index {path}: 'format' is not {INDEX_FORMAT!r}")
    if doc.get("generator_version") != generator_version:
        return {}
    out: dict[str, Solution] = {}
    for key, entry in dict(doc.get("games", {})).items():
        try:
            attempt, walkthrough, sha = entry
            out[str(key)] = Solution(int(attempt), tuple(str(c) for c in walkthrough), str(sha))
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"pre-solved ALFWorld index {path}: entry {key!r} is malformed"
            ) from exc
    return out


def write_index(path: Path, solutions: Mapping[str, Solution], generator_version: str) -> None:
    """Write ``solutions`` as an index file (sorted keys, so the bytes depend only on the content)."""
    doc: dict[str, Any] = {
        "format": INDEX_FORMAT,
        "generator_version": generator_version,
        "games": {
            k: [s.attempt, list(s.walkthrough), s.problem_sha256]
            for k, s in sorted(solutions.items())
        },
    }
    data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("utf-8")
    with path.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fh:
        fh.write(data)


def solutions_from_games(games: Iterable[Mapping[str, Any]]) -> dict[str, Solution]:
    """Index entries for full generated game documents (as ``generate_game`` returns them)."""
    out: dict[str, Solution] = {}
    for game in games:
        meta = game["generator"]
        key = solution_key(int(meta["seed"]), str(meta["category"]), int(meta["difficulty"]))
        out[key] = Solution(
            int(meta["attempt"]),
            tuple(str(c) for c in game["walkthrough"]),
            problem_sha256(str(game["pddl_problem"])),
        )
    return out


@lru_cache(maxsize=1)
def _shipped(generator_version: str) -> dict[str, Solution]:
    if not PRESOLVED_FILE.is_file():
        return {}
    return read_index(PRESOLVED_FILE, generator_version)


def presolved(seed: int, category: str, difficulty: int, generator_version: str) -> Solution | None:
    """The shipped solution for this generator input, or ``None`` when it is not shipped."""
    return _shipped(generator_version).get(solution_key(seed, category, difficulty))
