"""Group rollouts (G copies of one task from one seed), env backends and episode records."""

from proxmo_bench.batch_policy import BatchPolicy, Decision, StepContext
from proxmo_bench.rollout.backends import (
    EnvBackend,
    EnvFailure,
    InProcessBackend,
    ResetRequest,
    ResetResult,
    StepResult,
    SubprocessBackend,
)
from proxmo_bench.rollout.group import GroupSpec, RolloutBatch, StepRow, collect_groups
from proxmo_bench.rollout.records import (
    TERMINATIONS,
    EpisodeRecord,
    read_episodes,
    replay_episode,
    write_episodes,
)


def make_backend(kind: str, *, n_workers: int = 2, timeout_s: float = 60.0) -> EnvBackend:
    """An env backend by name: ``"inprocess"``, ``"subprocess"`` or ``"ray"`` (the ``[ray]`` extra).

    ``timeout_s`` bounds each env call (one reset or one step) in every backend.
    """
    if kind == "inprocess":
        return InProcessBackend(timeout_s=timeout_s)
    if kind == "subprocess":
        return SubprocessBackend(n_workers, timeout_s=timeout_s)
    if kind == "ray":
        from proxmo_bench.rollout.ray_backend import RayBackend

        return RayBackend(n_workers, timeout_s=timeout_s)
    raise ValueError(
        f"unknown env backend {kind!r}; choose one of 'inprocess', 'subprocess', 'ray'"
    )


__all__ = [
    "TERMINATIONS",
    "BatchPolicy",
    "Decision",
    "EnvBackend",
    "EnvFailure",
    "EpisodeRecord",
    "GroupSpec",
    "InProcessBackend",
    "ResetRequest",
    "ResetResult",
    "RolloutBatch",
    "StepContext",
    "StepResult",
    "StepRow",
    "SubprocessBackend",
    "collect_groups",
    "make_backend",
    "read_episodes",
    "replay_episode",
    "write_episodes",
]
