"""Env backends: where the envs of a rollout live (this process, a subprocess pool, Ray actors).

Every backend hosts env *slots* (small integers) and answers batched requests: reset these slots,
step those. A slot whose env raised, whose worker died or whose worker did not answer in time comes
back as an :class:`EnvFailure` carrying the reason; the other slots of the batch are unaffected, so
one broken env never stops a rollout (ARCHITECTURE section 3).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import gymnasium

if TYPE_CHECKING:
    from proxmo_bench.tasks import TaskSpec


@dataclass(frozen=True)
class ResetRequest:
    """Reset env ``slot`` (building it from ``task`` + ``env_kwargs`` first if needed)."""

    slot: int
    task: str
    env_kwargs: dict[str, Any]
    seed: int | None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResetResult:
    obs: str
    info: dict[str, Any]
    env_version: str


@dataclass(frozen=True)
class StepResult:
    obs: str
    reward: float
    terminated: bool
    truncated: bool
    info: dict[str, Any]


@dataclass(frozen=True)
class EnvFailure:
    """A slot that produced no result; ``reason`` says why (exception text, worker death, timeout)."""

    reason: str


class EnvBackend(Protocol):
    """Hosts env slots; results come back in the order of the requests."""

    def reset_many(self, requests: Sequence[ResetRequest]) -> list[ResetResult | EnvFailure]: ...

    def step_many(self, requests: Sequence[tuple[int, str]]) -> list[StepResult | EnvFailure]: ...

    def close(self) -> None: ...


# ---- the env host shared by every backend ---------------------------------------------------------
class EnvHost:
    """Owns the envs of some slots; runs inside whichever process or actor hosts them."""

    def __init__(self, tasks: Sequence[TaskSpec] = ()) -> None:
        """``tasks``: specs to register here first (tasks the driver registered at run time)."""
        from proxmo_bench.tasks import register_spec

        for spec in tasks:
            register_spec(spec)
        self.envs: dict[int, gymnasium.Env[str, str]] = {}
        self.made_with: dict[int, tuple[str, str]] = {}

    def _env_for(self, req: ResetRequest) -> gymnasium.Env[str, str]:
        from proxmo_bench.tasks import make  # late: keeps backend workers light to start

        key = (req.task, repr(sorted(req.env_kwargs.items())))
        if self.made_with.get(req.slot) != key:
            old = self.envs.pop(req.slot, None)
            if old is not None:
                old.close()
            self.envs[req.slot] = make(req.task, **req.env_kwargs)
            self.made_with[req.slot] = key
        return self.envs[req.slot]

    def reset_many(self, requests: Sequence[ResetRequest]) -> list[ResetResult | EnvFailure]:
        out: list[ResetResult | EnvFailure] = []
        for req in requests:
            try:
                env = self._env_for(req)
                obs, info = env.reset(seed=req.seed, options=dict(req.options))
                version = str(getattr(env.unwrapped, "env_version", "0"))
                out.append(ResetResult(obs, info, version))
            except Exception as exc:
                out.append(EnvFailure(_describe_exception("reset", req.slot, exc)))
        return out

    def step_many(self, requests: Sequence[tuple[int, str]]) -> list[StepResult | EnvFailure]:
        out: list[StepResult | EnvFailure] = []
        for slot, action in requests:
            env = self.envs.get(slot)
            if env is None:
                out.append(EnvFailure(f"slot {slot} was never reset in this worker"))
                continue
            try:
                obs, reward, term, trunc, info = env.step(action)
                out.append(StepResult(obs, float(reward), bool(term), bool(trunc), info))
            except Exception as exc:
                out.append(EnvFailure(_describe_exception("step", slot, exc)))
        return out

    def close(self) -> None:
        for env in self.envs.values():
            # closing is best effort; a broken env must not block shutdown
            with contextlib.suppress(Exception):
                env.close()
        self.envs.clear()
        self.made_with.clear()


def _describe_exception(where: str, slot: int, exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" at {last[0].filename}:{last[0].lineno}" if last else ""
    return f"env raised in {where} (slot {slot}): {type(exc).__name__}: {exc}{at}"


# ---- in-process --------------------------------------------------------------------------------
class InProcessBackend(EnvHost):
    """Envs in this process, stepped one after another. For tests and cheap envs.

    A hung env cannot be interrupted here; use :class:`SubprocessBackend` when that matters.
    """


# ---- subprocess pool ---------------------------------------------------------------------------
def _worker_main(conn: mp_connection.Connection, tasks: Sequence[TaskSpec] = ()) -> None:
    host = EnvHost(tasks)
    try:
        while True:
            try:
                cmd, payload = conn.recv()
            except EOFError:
                return
            if cmd == "reset_many":
                conn.send(host.reset_many(payload))
            elif cmd == "step_many":
                conn.send(host.step_many(payload))
            elif cmd == "close":
                return
    finally:
        host.close()


@dataclass
class _Worker:
    process: mp.process.BaseProcess
    conn: mp_connection.Connection


class SubprocessBackend:
    """Envs spread over ``n_workers`` worker processes (slot ``s`` lives in worker ``s % n_workers``).

    Requests to different workers run in parallel. A worker that dies or does not answer within
    ``timeout_s`` seconds is killed; its slots in that request come back as :class:`EnvFailure`
    and it is restarted (with fresh envs) the next time one of its slots is reset.

    Args:
        n_workers: worker processes.
        timeout_s: how long one batched request may take in a worker before it counts as hung.
        start_method: multiprocessing start method (default: the platform's). Under any method,
            tasks registered at run time in the parent are registered in each worker too (their
            entry points must be importable or picklable).
    """

    def __init__(
        self, n_workers: int = 2, *, timeout_s: float = 60.0, start_method: str | None = None
    ):
        if n_workers < 1:
            raise ValueError(f"n_workers must be >= 1, got {n_workers}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self.n_workers = n_workers
        self.timeout_s = float(timeout_s)
        self._ctx: Any = mp.get_context(start_method)
        self._workers: list[_Worker | None] = [None] * n_workers
        self._broken: dict[int, str] = {}  # slot -> why its env is gone until the next reset
        self._hosted: list[set[int]] = [set() for _ in range(n_workers)]  # slots reset per worker

    def _worker(self, w: int) -> _Worker:
        worker = self._workers[w]
        if worker is None or not worker.process.is_alive():
            parent, child = self._ctx.Pipe()
            from proxmo_bench.tasks import runtime_tasks

            # Under "spawn"/"forkserver" a worker does not inherit tasks registered at run time.
            proc = self._ctx.Process(
                target=_worker_main, args=(child, runtime_tasks()), daemon=True
            )
            proc.start()
            child.close()
            worker = _Worker(proc, parent)
            self._workers[w] = worker
        return worker

    def _kill(self, w: int) -> None:
        worker = self._workers[w]
        self._workers[w] = None
        if worker is None:
            return
        worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()

    def _dispatch(self, cmd: str, requests: Sequence[Any], slot_of: Any, fresh: bool) -> list[Any]:
        by_worker: dict[int, list[int]] = {}
        for i, req in enumerate(requests):
            by_worker.setdefault(slot_of(req) % self.n_workers, []).append(i)
        results: list[Any] = [None] * len(requests)
        pending: dict[int, list[int]] = {}
        for w, idxs in by_worker.items():
            live = [i for i in idxs if fresh or slot_of(requests[i]) not in self._broken]
            for i in idxs:
                if i not in live:
                    results[i] = EnvFailure(self._broken[slot_of(requests[i])])
            if not live:
                continue
            if fresh:
                for i in live:
                    self._broken.pop(slot_of(requests[i]), None)
                    self._hosted[w].add(slot_of(requests[i]))
            try:
                self._worker(w).conn.send((cmd, [requests[i] for i in live]))
                pending[w] = live
            except (BrokenPipeError, OSError) as exc:
                self._fail_worker(
                    w, live, requests, results, slot_of, f"worker {w} unreachable: {exc}"
                )
        deadline = time.monotonic() + self.timeout_s
        for w, live in pending.items():
            worker = self._workers[w]
            assert worker is not None
            try:
                if not worker.conn.poll(max(0.0, deadline - time.monotonic())):
                    reason = f"worker {w} hung: no reply within {self.timeout_s:g}s"
                    self._fail_worker(w, live, requests, results, slot_of, reason)
                    continue
                answers = worker.conn.recv()
            except (EOFError, ConnectionResetError, OSError):
                worker.process.join(timeout=1)
                code = worker.process.exitcode
                reason = f"worker {w} died (exit code {code})"
                self._fail_worker(w, live, requests, results, slot_of, reason)
                continue
            for i, ans in zip(live, answers, strict=True):
                results[i] = ans
        return results

    def _fail_worker(
        self,
        w: int,
        live: list[int],
        requests: Sequence[Any],
        results: list[Any],
        slot_of: Any,
        reason: str,
    ) -> None:
        self._kill(w)
        for i in live:
            results[i] = EnvFailure(reason)
        # Every other env of this worker is gone too; say so when they are next stepped.
        for slot in self._hosted[w]:
            self._broken[slot] = reason
        self._hosted[w] = set()

    def reset_many(self, requests: Sequence[ResetRequest]) -> list[ResetResult | EnvFailure]:
        return self._dispatch("reset_many", requests, lambda r: r.slot, fresh=True)

    def step_many(self, requests: Sequence[tuple[int, str]]) -> list[StepResult | EnvFailure]:
        return self._dispatch("step_many", requests, lambda r: r[0], fresh=False)

    def close(self) -> None:
        for w, worker in enumerate(self._workers):
            if worker is None:
                continue
            try:
                worker.conn.send(("close", None))
                worker.process.join(timeout=5)
            except (BrokenPipeError, OSError):
                pass
            if worker.process.is_alive():
                self._kill(w)
            else:
                worker.conn.close()
                self._workers[w] = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()
