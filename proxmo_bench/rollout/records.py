"""Episode records (ARCHITECTURE section 3): one JSON object per line in ``episodes.jsonl.gz``.

A record holds what is needed to replay the episode exactly: the task, the seed, the make-kwargs of
the env (data source, engine, user simulator, ...) and the exact action strings. Replaying ``actions``
from ``seed`` must reproduce ``rewards``, ``won`` and ``score``.
"""

from __future__ import annotations

import gzip
import io
import json
import math
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TERMINATIONS = ("success", "failure", "step_limit", "env_error", "parse_error")
Termination = Literal["success", "failure", "step_limit", "env_error", "parse_error"]

#: Upper bounds that keep a hostile file from exhausting memory.
MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024
MAX_LINE_BYTES = 16 * 1024 * 1024


class EpisodeRecord(BaseModel):
    """One finished episode, replayable from ``seed`` (or ``task_id``) and ``actions``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task: str = Field(description="registered task id, e.g. 'proxmo/ALFWorld-v0'")
    task_id: str = Field(description="task instance id (info['task_id'])")
    task_category: str
    split: str
    seed: int | None = Field(description="seed passed to reset(); None when reset by task_id only")
    env_kwargs: dict[str, Any] = Field(default_factory=dict, description="make() kwargs")
    actions: list[str]
    rewards: list[float]
    won: bool
    score: float
    steps: int
    termination: Termination
    env_version: str
    reason: str = Field(default="", description="why an env_error/parse_error happened")

    @field_validator("rewards")
    @classmethod
    def _finite_rewards(cls, v: list[float]) -> list[float]:
        for i, r in enumerate(v):
            if not math.isfinite(r):
                raise ValueError(f"rewards[{i}] is {r}; rewards must be finite")
        return v

    @field_validator("score")
    @classmethod
    def _score_range(cls, v: float) -> float:
        if not (0.0 <= v <= 1.0):
            raise ValueError(f"score must be in [0, 1], got {v}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> EpisodeRecord:
        if len(self.actions) != len(self.rewards):
            raise ValueError(
                f"{len(self.actions)} actions but {len(self.rewards)} rewards; they must pair up"
            )
        if self.steps != len(self.actions):
            raise ValueError(f"steps={self.steps} but {len(self.actions)} actions were recorded")
        if self.won != (self.termination == "success"):
            raise ValueError(f"won={self.won} disagrees with termination={self.termination!r}")
        return self

    def reset_options(self) -> dict[str, Any]:
        """Options for ``reset`` that reproduce the initial state."""
        return {"task_id": self.task_id}


def write_episodes(path: str | Path, records: Iterable[EpisodeRecord]) -> int:
    """Write records as gzip-compressed JSON lines (deterministic bytes: mtime 0). Returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for rec in records:
            gz.write(json.dumps(rec.model_dump(mode="json"), sort_keys=True).encode() + b"\n")
            n += 1
    tmp.replace(path)  # never leave a half-written file under the final name
    return n


def iter_episodes(
    path: str | Path, *, max_bytes: int = MAX_DECOMPRESSED_BYTES
) -> Iterator[EpisodeRecord]:
    """Stream and validate records; raises ``ValueError`` naming the line for any bad input.

    Rejects truncated or corrupt gzip streams and files whose decompressed size exceeds
    ``max_bytes`` (a gzip bomb) before reading further.
    """
    path = Path(path)
    total = 0
    try:
        with gzip.open(path, "rb") as gz:
            reader = io.BufferedReader(gz)
            for lineno, line in enumerate(
                iter(lambda: reader.readline(MAX_LINE_BYTES + 1), b""), 1
            ):
                total += len(line)
                if total > max_bytes:
                    raise ValueError(f"{path}: decompressed size exceeds {max_bytes} bytes")
                if len(line) > MAX_LINE_BYTES:
                    raise ValueError(f"{path}:{lineno}: line longer than {MAX_LINE_BYTES} bytes")
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line, parse_constant=_reject_constant)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise ValueError(f"{path}:{lineno}: not valid JSON ({exc})") from None
                try:
                    yield EpisodeRecord.model_validate(obj)
                except Exception as exc:
                    raise ValueError(f"{path}:{lineno}: invalid episode record: {exc}") from None
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise ValueError(f"{path}: truncated or corrupt gzip stream ({exc})") from None


def read_episodes(
    path: str | Path, *, max_bytes: int = MAX_DECOMPRESSED_BYTES
) -> list[EpisodeRecord]:
    """All records of an ``episodes.jsonl.gz`` file (see :func:`iter_episodes`)."""
    return list(iter_episodes(path, max_bytes=max_bytes))


def _reject_constant(name: str) -> float:
    raise ValueError(f"non-finite number {name} is not allowed")


def replay_episode(record: EpisodeRecord) -> str | None:
    """Replay ``record`` through a fresh env; ``None`` when it reproduces exactly, else what differs."""
    from proxmo_bench.tasks import make  # late import: records are readable without building envs

    env = make(record.task, **record.env_kwargs)
    try:
        _, info = env.reset(seed=record.seed, options=record.reset_options())
        if info["task_id"] != record.task_id:
            return f"reset gave task_id {info['task_id']!r}, record says {record.task_id!r}"
        won, score = bool(info["won"]), float(info["score"])
        term = trunc = False
        for i, (action, reward) in enumerate(zip(record.actions, record.rewards, strict=True)):
            _, r, term, trunc, info = env.step(action)
            if r != reward:
                return f"step {i}: reward {r} != recorded {reward} (action {action!r:.80})"
            won, score = bool(info["won"]), float(info["score"])
            if (term or trunc) and i != len(record.actions) - 1:
                return f"episode ended at step {i} but the record has {len(record.actions)} actions"
        # an episode that ended normally must end exactly at its last recorded step, as recorded
        # (an env_error cut it short: the env died, the record keeps what was played)
        if record.termination not in ("env_error", "parse_error"):
            if not (term or trunc):
                return (
                    f"the record stops after {len(record.actions)} actions but the episode "
                    f"goes on (recorded termination {record.termination!r})"
                )
            ended = (
                ("success" if won else "failure") if term else ("success" if won else "step_limit")
            )
            if ended != record.termination:
                return f"the episode ends as {ended!r}, the record says {record.termination!r}"
        if won != record.won:
            return f"won={won} != recorded {record.won}"
        if score != record.score:
            return f"score={score} != recorded {record.score}"
        return None
    finally:
        env.close()
