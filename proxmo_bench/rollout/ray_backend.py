"""Ray actors as an env backend (``pip install 'proxmo-bench[ray]'``), for envs spread over machines.

Slot ``s`` lives in actor ``s % n_actors``; each env call is one actor call, and an actor runs its
calls in the order they were made. A broken env fails its own slot only, as in the subprocess pool
(:class:`~proxmo_bench.rollout.backends.WorkerPool`): an actor that dies or overruns ``timeout_s``
on one call is killed, that call's slot fails, and the other envs it hosted are rebuilt on a new
actor by replay when they are next stepped.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Sequence
from typing import Any

from proxmo_bench.rollout.backends import EnvFailure, EnvHost, EnvJob, WorkerPool, _Lost


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise ImportError(
            "the Ray env backend needs the 'ray' extra: pip install 'proxmo-bench[ray]'"
        ) from exc
    return ray


def _one_line(exc: BaseException, limit: int) -> str:
    """Ray's error texts span many lines; a record's reason is one."""
    return " ".join(str(exc).split())[:limit]


class RayBackend(WorkerPool):
    """Envs hosted in ``n_actors`` Ray actors; starts a local Ray when none is running.

    An actor that dies may take with it answers it had already given, so the death shows on an
    earlier call than the one that caused it; the calls are then run again one at a time, and
    the next death names its env.

    Args:
        n_actors: actors (each hosts several env slots).
        timeout_s: how long one env call (one reset or one step) may take before it counts as hung.
        ray_init_kwargs: passed to ``ray.init`` when Ray is not initialised yet.
        start_timeout_s: how long a new actor may take to come up (not counted in ``timeout_s``).
    """

    def __init__(
        self,
        n_actors: int = 2,
        *,
        timeout_s: float = 60.0,
        ray_init_kwargs: dict[str, Any] | None = None,
        start_timeout_s: float = 300.0,
    ):
        if n_actors < 1:
            raise ValueError(f"n_actors must be >= 1, got {n_actors}")
        super().__init__(n_actors, timeout_s, start_timeout_s)
        self._ray = _import_ray()
        if not self._ray.is_initialized():
            self._ray.init(**{"include_dashboard": False, **(ray_init_kwargs or {})})
        self._actor_cls = self._ray.remote(EnvHost)
        self.n_actors = n_actors
        self._actors: list[Any] = [None] * n_actors
        self._calls: list[deque[Any]] = [deque() for _ in range(n_actors)]  # unanswered, in order
        self._exact_deaths = False

    def _name(self, w: int) -> str:
        return f"ray actor {w}"

    def _started(self, w: int) -> bool:
        return self._actors[w] is not None

    def _alive(self, w: int) -> tuple[bool, str]:
        return True, ""  # asking Ray costs a round trip; a dead actor fails its next call

    def _start(self, w: int) -> None:
        # Actors do not share the driver's memory: tasks it registered at run time (not via
        # entry points) are sent along, their env classes pickled by reference or by value.
        from proxmo_bench.tasks import runtime_tasks

        actor = self._actor_cls.remote(runtime_tasks())
        self._actors[w] = actor
        self._calls[w] = deque([actor.ping.remote()])

    def _running(self, w: int) -> int:
        # calls are answered one by one, in order: once the actor is up, it runs the first one
        return 0 if self._ready[w] else -1

    def _submit(self, w: int, jobs: Sequence[EnvJob]) -> None:
        actor = self._actors[w]
        self._calls[w].extend(actor.run_job.remote(job) for job in jobs)

    def _wait(self, workers: Sequence[int], timeout: float) -> list[tuple[int, object]]:
        ray = self._ray
        heads = {self._calls[w][0]: w for w in workers if self._calls[w]}
        if not heads:
            return []
        ready, _ = ray.wait(list(heads), num_returns=1, timeout=timeout)
        if ready:  # every answer that is in, not only the first
            ready, _ = ray.wait(list(heads), num_returns=len(heads), timeout=0)
        events: list[tuple[int, object]] = []
        for ref in ready:
            w = heads[ref]
            self._calls[w].popleft()
            try:
                answer = ray.get(ref)
                events.append((w, answer if isinstance(answer, str) else [answer]))
            except ray.exceptions.RayActorError as exc:
                events.append((w, _Lost(f"died ({type(exc).__name__}: {_one_line(exc, 200)})")))
            except Exception as exc:  # the result could not travel back (serialisation)
                why = f"{type(exc).__name__}: {_one_line(exc, 400)}"
                events.append(
                    (w, [EnvFailure(f"an env's result cannot come back from Ray: {why}")])
                )
        return events

    def _kill(self, w: int) -> None:
        actor, self._actors[w] = self._actors[w], None
        self._calls[w] = deque()
        if actor is not None:
            with contextlib.suppress(Exception):  # already gone
                self._ray.kill(actor)

    def _shutdown(self, w: int) -> None:
        self._kill(w)
