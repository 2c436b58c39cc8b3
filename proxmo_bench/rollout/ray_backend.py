"""Ray actors as an env backend (``pip install 'proxmo-bench[ray]'``), for envs spread over machines.

Slot ``s`` lives in actor ``s % n_actors``. An actor that dies or does not answer within
``timeout_s`` is killed; its slots come back as :class:`EnvFailure` and it is recreated on the
next reset of one of its slots.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from proxmo_bench.rollout.backends import (
    EnvFailure,
    EnvHost,
    ResetRequest,
    ResetResult,
    StepResult,
)


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ImportError(
            "the Ray env backend needs the 'ray' extra: pip install 'proxmo-bench[ray]'"
        ) from exc
    return ray


class RayBackend:
    """Envs hosted in ``n_actors`` Ray actors; starts a local Ray when none is running.

    Args:
        n_actors: actors (each hosts several env slots).
        timeout_s: how long one batched request may take in an actor before it counts as hung.
        ray_init_kwargs: passed to ``ray.init`` when Ray is not initialised yet.
    """

    def __init__(
        self,
        n_actors: int = 2,
        *,
        timeout_s: float = 60.0,
        ray_init_kwargs: dict[str, Any] | None = None,
    ):
        if n_actors < 1:
            raise ValueError(f"n_actors must be >= 1, got {n_actors}")
        self._ray = _import_ray()
        if not self._ray.is_initialized():
            self._ray.init(**{"include_dashboard": False, **(ray_init_kwargs or {})})
        self._actor_cls = self._ray.remote(EnvHost)
        self.n_actors = n_actors
        self.timeout_s = float(timeout_s)
        self._actors: list[Any] = [None] * n_actors
        self._broken: dict[int, str] = {}
        self._hosted: list[set[int]] = [set() for _ in range(n_actors)]

    def _actor(self, a: int) -> Any:
        if self._actors[a] is None:
            # Actors do not share the driver's memory: tasks it registered at run time (not via
            # entry points) are sent along, their env classes pickled by reference or by value.
            from proxmo_bench.tasks import runtime_tasks

            self._actors[a] = self._actor_cls.remote(runtime_tasks())
        return self._actors[a]

    def _fail(self, a: int, reason: str) -> None:
        actor, self._actors[a] = self._actors[a], None
        if actor is not None:
            with contextlib.suppress(Exception):  # already gone
                self._ray.kill(actor)
        for slot in self._hosted[a]:
            self._broken[slot] = reason
        self._hosted[a] = set()

    def _dispatch(
        self, method: str, requests: Sequence[Any], slot_of: Any, fresh: bool
    ) -> list[Any]:
        ray = self._ray
        results: list[Any] = [None] * len(requests)
        by_actor: dict[int, list[int]] = {}
        for i, req in enumerate(requests):
            slot = slot_of(req)
            if not fresh and slot in self._broken:
                results[i] = EnvFailure(self._broken[slot])
                continue
            by_actor.setdefault(slot % self.n_actors, []).append(i)
        refs = {}
        for a, idxs in by_actor.items():
            if fresh:
                for i in idxs:
                    self._broken.pop(slot_of(requests[i]), None)
                    self._hosted[a].add(slot_of(requests[i]))
            refs[a] = getattr(self._actor(a), method).remote([requests[i] for i in idxs])
        ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=self.timeout_s)
        ready_set = set(ready)
        for a, ref in refs.items():
            idxs = by_actor[a]
            if ref not in ready_set:
                reason = f"ray actor {a} hung: no reply within {self.timeout_s:g}s"
            else:
                try:
                    for i, ans in zip(idxs, ray.get(ref), strict=True):
                        results[i] = ans
                    continue
                except Exception as exc:  # RayActorError and friends: the actor died
                    reason = f"ray actor {a} died: {type(exc).__name__}: {str(exc)[:200]}"
            self._fail(a, reason)
            for i in idxs:
                results[i] = EnvFailure(reason)
        return results

    def reset_many(self, requests: Sequence[ResetRequest]) -> list[ResetResult | EnvFailure]:
        return self._dispatch("reset_many", requests, lambda r: r.slot, fresh=True)

    def step_many(self, requests: Sequence[tuple[int, str]]) -> list[StepResult | EnvFailure]:
        return self._dispatch("step_many", requests, lambda r: r[0], fresh=False)

    def close(self) -> None:
        for a in range(self.n_actors):
            if self._actors[a] is not None:
                self._fail(a, "backend closed")
