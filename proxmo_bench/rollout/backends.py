"""Env backends: where the envs of a rollout live (this process, a subprocess pool, Ray actors).

Every backend hosts env *slots* (small integers) and answers batched requests: reset these slots,
step those. A broken env costs only its own slot (ARCHITECTURE section 3): a slot whose env raised
anything (``SystemExit`` and other ``BaseException``\\ s included), hung past the per-call timeout,
killed its worker (``os._exit``, a crash) or returned a result that cannot travel back comes back
as an :class:`EnvFailure` naming the fault. The other slots of the batch get their results; when
the fault took their worker down with it, they are rebuilt on a fresh worker by replaying their
reset and their actions so far (envs are deterministic, so the rebuilt env is the same env), and
checked against what they last answered.

A ``KeyboardInterrupt`` raised by env code is an env error like any other; the user's Ctrl-C is
not: it still stops the run (workers ignore SIGINT, the driver gets it; in-process, a SIGINT that
arrives during an env call is told apart from a ``KeyboardInterrupt`` that env code raises).
"""

from __future__ import annotations

import abc
import contextlib
import multiprocessing as mp
import multiprocessing.connection as mp_connection
import pickle
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import gymnasium

if TYPE_CHECKING:
    from proxmo_bench.tasks import TaskSpec

T = TypeVar("T")


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


EnvResult = ResetResult | StepResult | EnvFailure


@dataclass(frozen=True)
class EnvJob:
    """One env call for a worker, answered by one result.

    ``kind``: ``"reset"`` (``payload``: a :class:`ResetRequest`), ``"step"`` (``payload``: the
    action) or ``"restore"`` (``payload``: ``(ResetRequest, actions)``: rebuild an env lost with
    its worker by replaying its reset and actions; answered by the last call's result).
    """

    kind: Literal["reset", "step", "restore"]
    slot: int
    payload: Any

    def describe(self) -> str:
        if self.kind == "step":
            return f"step {self.payload!r:.80}"
        if self.kind == "restore":
            return f"replay of {len(self.payload[1])} actions"
        return "reset"


# ---- telling env faults from the user's Ctrl-C --------------------------------------------------
class _UserInterrupts:
    """Records whether a ``KeyboardInterrupt`` came from a real SIGINT (the user) while active.

    Only the main thread receives SIGINT, and only a Python-level handler turns it into an
    exception, so outside those cases every ``KeyboardInterrupt`` was raised by code. If env code
    swallowed the user's interrupt, it is raised again when the watch ends.
    """

    def __init__(self) -> None:
        self.user_interrupt = False
        self._prev: Any = None
        self._depth = 0  # re-entrant: only the outermost use installs and restores the handler

    def __enter__(self) -> _UserInterrupts:
        self._depth += 1
        if self._depth > 1:
            return self
        self.user_interrupt = False
        if threading.current_thread() is threading.main_thread():
            current = signal.getsignal(signal.SIGINT)
            if callable(current):
                self._prev = current
                signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        try:
            self._prev(signum, frame)
        except KeyboardInterrupt:
            self.user_interrupt = True
            raise

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        self._depth -= 1
        if self._depth:
            return
        if self._prev is not None:
            signal.signal(signal.SIGINT, self._prev)
            self._prev = None
        if self.user_interrupt and exc_type is None:
            raise KeyboardInterrupt  # env code swallowed the user's Ctrl-C


class _EnvTimeout(BaseException):
    """Raised into an env call that ran past its time (a ``BaseException``: ``except Exception``
    in env code does not swallow it)."""


class _CallTimer:
    """Interrupts one env call in this process after ``timeout_s`` seconds (SIGALRM).

    Usable only in the main thread on POSIX, and only when nothing else uses SIGALRM or the
    real-time interval timer; otherwise calls run without a limit. Only Python code is interrupted:
    a call stuck inside C code that holds the GIL is not.
    """

    def __init__(self, timeout_s: float | None) -> None:
        self.timeout_s = timeout_s
        self.active = False
        self._armed = False
        self._fired = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        usable = (
            self.timeout_s is not None
            and hasattr(signal, "setitimer")
            and threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
            and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        )
        if not usable:
            yield
            return
        prev = signal.signal(signal.SIGALRM, self._on_alarm)
        self.active = True
        try:
            yield
        finally:
            self.active = self._armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, prev)

    def _on_alarm(self, signum: int, frame: FrameType | None) -> None:
        if self._armed:  # an alarm that lands after the call returned is ignored
            self._fired = True
            raise _EnvTimeout

    def run(self, fn: Callable[[], T]) -> T:
        if not self.active or self.timeout_s is None:
            return fn()
        self._fired = False
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, self.timeout_s)
        try:
            result = fn()
        finally:
            self._armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
        if self._fired:  # env code caught the timeout and carried on: its state is unknown
            raise _EnvTimeout
        return result


# ---- the env host shared by every backend ---------------------------------------------------------
class EnvHost:
    """Owns the envs of some slots; runs inside whichever process or actor hosts them.

    Every call into env code is guarded: whatever it raises (any ``BaseException`` except the
    user's Ctrl-C) becomes an :class:`EnvFailure` for that slot, and the slot's env is dropped
    (it is built afresh by its next reset).
    """

    def __init__(self, tasks: Sequence[TaskSpec] = ()) -> None:
        """``tasks``: specs to register here first (tasks the driver registered at run time)."""
        from proxmo_bench.tasks import register_spec

        for spec in tasks:
            register_spec(spec)
        self.envs: dict[int, gymnasium.Env[str, str]] = {}
        self.made_with: dict[int, tuple[str, str]] = {}
        self.broken: dict[int, str] = {}  # slot -> why its env was dropped
        self._interrupts = _UserInterrupts()

    # ---- batched requests (the EnvBackend protocol) and single jobs (workers) ----------------------
    def reset_many(self, requests: Sequence[ResetRequest]) -> list[ResetResult | EnvFailure]:
        with self._guard():
            return [self._reset(req) for req in requests]

    def step_many(self, requests: Sequence[tuple[int, str]]) -> list[StepResult | EnvFailure]:
        with self._guard():
            return [self._step(slot, action) for slot, action in requests]

    def run_job(self, job: EnvJob) -> EnvResult:
        """Run one :class:`EnvJob` (how Ray actors are driven)."""
        with self._guard():
            return self._run_job(job)

    def ping(self) -> str:
        """Answers once the host is up (how a new Ray actor reports that it is ready)."""
        return _READY

    def drop(self, slot: int, reason: str) -> None:
        """Forget ``slot``'s env (closing it, best effort); its next reset builds a fresh one."""
        env = self.envs.pop(slot, None)
        self.made_with.pop(slot, None)
        self.broken[slot] = reason
        if env is not None:
            self._quietly(env.close)

    def close(self) -> None:
        with self._guard():
            for env in self.envs.values():
                self._quietly(env.close)  # a broken env must not block shutdown
        self.envs.clear()
        self.made_with.clear()

    # ---- internals ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        with self._interrupts:
            yield

    def _run_env_code(self, fn: Callable[[], T]) -> T:
        return fn()

    def _call(self, where: str, slot: int, fn: Callable[[], T]) -> T | EnvFailure:
        try:
            return self._run_env_code(fn)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt) and self._interrupts.user_interrupt:
                raise
            reason = _describe_exception(where, slot, exc, self._timeout_s())
            if isinstance(exc, _EnvTimeout):  # closing a hung env could hang again
                self.envs.pop(slot, None)
                self.made_with.pop(slot, None)
                self.broken[slot] = reason
            else:
                self.drop(slot, reason)
            return EnvFailure(reason)

    def _quietly(self, fn: Callable[[], object]) -> None:
        try:
            self._run_env_code(fn)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt) and self._interrupts.user_interrupt:
                raise

    def _timeout_s(self) -> float | None:
        return None

    def _run_job(self, job: EnvJob) -> EnvResult:
        """One job; call under :meth:`_guard`."""
        if job.kind == "reset":
            return self._reset(job.payload)
        if job.kind == "step":
            return self._step(job.slot, job.payload)
        request, actions = job.payload
        result: EnvResult = self._reset(request)
        for action in actions:
            if isinstance(result, EnvFailure):
                break
            result = self._step(job.slot, action)
        return result

    def _env_for(self, req: ResetRequest) -> gymnasium.Env[str, str]:
        from proxmo_bench.tasks import make  # late: keeps backend workers light to start

        key = (req.task, repr(sorted(req.env_kwargs.items())))
        if self.made_with.get(req.slot) != key:
            old = self.envs.pop(req.slot, None)
            self.made_with.pop(req.slot, None)
            if old is not None:
                old.close()
            self.envs[req.slot] = make(req.task, **req.env_kwargs)
            self.made_with[req.slot] = key
        return self.envs[req.slot]

    def _reset(self, req: ResetRequest) -> ResetResult | EnvFailure:
        self.broken.pop(req.slot, None)

        def call() -> ResetResult:
            env = self._env_for(req)
            obs, info = env.reset(seed=req.seed, options=dict(req.options))
            return ResetResult(obs, info, str(getattr(env.unwrapped, "env_version", "0")))

        return self._call("reset", req.slot, call)

    def _step(self, slot: int, action: str) -> StepResult | EnvFailure:
        env = self.envs.get(slot)
        if env is None:
            return EnvFailure(self.broken.get(slot, f"slot {slot} was never reset in this worker"))

        def call() -> StepResult:
            obs, reward, term, trunc, info = env.step(action)
            return StepResult(obs, float(reward), bool(term), bool(trunc), info)

        return self._call("step", slot, call)


def _describe_exception(where: str, slot: int, exc: BaseException, timeout_s: float | None) -> str:
    if isinstance(exc, _EnvTimeout):
        return f"env hung in {where} (slot {slot}): no return within {timeout_s:g}s"
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" at {last[0].filename}:{last[0].lineno}" if last else ""
    return f"env raised in {where} (slot {slot}): {type(exc).__name__}: {exc}{at}"


# ---- in-process --------------------------------------------------------------------------------
class InProcessBackend(EnvHost):
    """Envs in this process, stepped one after another. For tests and cheap envs.

    Args:
        timeout_s: per env call (one reset or one step): a call that runs longer is interrupted
            and its slot fails as hung. Needs the main thread on POSIX and a free SIGALRM (else
            calls run unlimited), and interrupts Python code only; an env that kills the process
            (``os._exit``) takes the run with it. Use :class:`SubprocessBackend` when that matters.
    """

    def __init__(self, timeout_s: float | None = None) -> None:
        if timeout_s is not None and not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive or None, got {timeout_s}")
        super().__init__()
        self._timer = _CallTimer(timeout_s)

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        with self._interrupts, self._timer.installed():
            yield

    def _run_env_code(self, fn: Callable[[], T]) -> T:
        return self._timer.run(fn)

    def _timeout_s(self) -> float | None:
        return self._timer.timeout_s


# ---- worker pools (subprocess, Ray): the driver's side ---------------------------------------------
_READY = "ready"  # what a Ray actor's ping answers once its host is built


@dataclass(frozen=True)
class _Lost:
    """A worker that is gone, as its transport saw it (``why``: e.g. 'died (exit code 3)')."""

    why: str


@dataclass
class _SlotLog:
    """What rebuilds a slot's env on a fresh worker: its last reset, the actions since, and a
    fingerprint of its last answer (the rebuilt env must give it again)."""

    reset: ResetRequest
    actions: list[str]
    last: tuple[Any, ...]


#: Info keys a rebuilt env must reproduce: what records and policies read (ARCHITECTURE section 2).
_FINGERPRINT_INFO = ("task_id", "anchor", "admissible_actions", "action_valid", "won", "score")


def _fingerprint(result: ResetResult | StepResult) -> tuple[Any, ...]:
    info = result.info if isinstance(result.info, dict) else {}
    seen = (result.obs, *(info.get(k) for k in _FINGERPRINT_INFO))
    if isinstance(result, ResetResult):
        return seen
    return (*seen, repr(result.reward), result.terminated, result.truncated)


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    try:
        return bool(a == b)
    except Exception:  # e.g. array observations: cannot be compared this way, so not the same
        return False


_Item = tuple[int | None, EnvJob]  # (index of the request it answers, or None for a restore; job)


class WorkerPool(abc.ABC):
    """Slots spread over ``n_workers`` workers (slot ``s`` lives in worker ``s % n_workers``), each
    running the jobs it is given in order.

    Each env call may take ``timeout_s`` (a replay of ``n`` actions ``(n + 1) * timeout_s``),
    counted from when the worker began it (a new worker's start-up has ``start_timeout_s``). A
    worker that dies or overruns is killed; the job it was on fails (that env is the culprit),
    the envs it hosted are rebuilt on a fresh worker before they are next stepped, and its other
    unanswered jobs run again there (see the module docstring). Subclasses provide the transport.
    """

    #: How often to look at which job a worker is on, when answers alone do not tell (seconds).
    _poll_s: float | None = None
    #: Whether a worker's death is always seen on the job that caused it.
    _exact_deaths = True

    def __init__(self, n_workers: int, timeout_s: float, start_timeout_s: float) -> None:
        if n_workers < 1:
            raise ValueError(f"n_workers must be >= 1, got {n_workers}")
        if not timeout_s > 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        if not start_timeout_s > 0:
            raise ValueError(f"start_timeout_s must be positive, got {start_timeout_s}")
        self._n = n_workers
        self.timeout_s = float(timeout_s)
        self.start_timeout_s = float(start_timeout_s)
        self._ready = [False] * n_workers  # has run (or answered) something since it started
        self._logs: dict[int, _SlotLog] = {}  # slots with a live (or rebuildable) env
        self._broken: dict[int, str] = {}  # slot -> why its env is gone until its next reset
        self._detached: dict[int, str] = {}  # slots to rebuild before their next step -> why

    # ---- transport (subclasses) ------------------------------------------------------------------
    @abc.abstractmethod
    def _name(self, w: int) -> str:
        """How reasons call worker ``w`` (e.g. 'worker 0')."""

    @abc.abstractmethod
    def _started(self, w: int) -> bool: ...

    @abc.abstractmethod
    def _alive(self, w: int) -> tuple[bool, str]:
        """Whether started worker ``w`` still runs (as far as is cheap to tell), and if not, why."""

    @abc.abstractmethod
    def _start(self, w: int) -> None:
        """Start worker ``w`` with no envs."""

    @abc.abstractmethod
    def _submit(self, w: int, jobs: Sequence[EnvJob]) -> None:
        """Give ``jobs`` to worker ``w`` (it has answered all earlier ones); raises ``OSError``
        when it cannot be reached."""

    @abc.abstractmethod
    def _running(self, w: int) -> int:
        """Position, among worker ``w``'s unanswered jobs, of the one it is running; -1 when it
        has not begun them."""

    @abc.abstractmethod
    def _wait(self, workers: Sequence[int], timeout: float) -> list[tuple[int, object]]:
        """What came in, at most one event per worker: a list of results (answering that many of
        its unanswered jobs, in order), ``_READY`` (it is up) or a :class:`_Lost`. Waits up to
        ``timeout`` seconds for the first event."""

    @abc.abstractmethod
    def _kill(self, w: int) -> None:
        """Stop worker ``w`` now (its unanswered jobs are dropped)."""

    @abc.abstractmethod
    def _shutdown(self, w: int) -> None:
        """Stop worker ``w`` cleanly (closing its envs), or kill it."""

    # ---- the EnvBackend protocol -------------------------------------------------------------------
    def reset_many(self, requests: Sequence[ResetRequest]) -> list[ResetResult | EnvFailure]:
        return self._dispatch([EnvJob("reset", r.slot, r) for r in requests])

    def step_many(self, requests: Sequence[tuple[int, str]]) -> list[StepResult | EnvFailure]:
        return self._dispatch([EnvJob("step", slot, action) for slot, action in requests])

    def close(self) -> None:
        for w in range(self._n):
            if self._started(w):
                self._shutdown(w)
        self._logs.clear()
        self._detached.clear()
        self._broken.clear()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self.close()

    # ---- one batched request -------------------------------------------------------------------
    def _dispatch(self, jobs: Sequence[EnvJob]) -> list[Any]:
        results: list[Any] = [None] * len(jobs)
        for w in sorted({job.slot % self._n for job in jobs}):
            if self._started(w):
                alive, why = self._alive(w)
                if not alive:  # died between requests: no env of this request is to blame
                    self._abandon(w, f"{self._name(w)} {why} between requests")
        run = _Run(self._plan(list(enumerate(jobs)), results), results)
        try:
            for w in list(run.queues):
                self._launch(w, run)
            while True:
                active = [w for w, q in run.queues.items() if q]
                if not active:
                    break
                now = time.monotonic()
                wait_s = min(self._deadline(w, run, now) for w in active) - now
                if self._poll_s is not None:
                    wait_s = min(wait_s, self._poll_s)
                heard = set()
                for w, event in self._wait(active, max(0.0, wait_s)):
                    heard.add(w)
                    if isinstance(event, _Lost):
                        self._lose(w, event.why, run, died=True)
                    elif isinstance(event, list):
                        self._ready[w] = True
                        for answer in event:
                            index, job = run.queues[w].popleft()
                            self._settle(index, job, answer, results)
                        run.in_flight[w] -= len(event)
                        if run.in_flight[w] == 0 and run.queues[w]:  # careful: one at a time
                            self._launch(w, run)
                    else:  # _READY
                        self._ready[w] = True
                now = time.monotonic()
                for w in active:
                    if w not in heard and run.queues[w] and now >= self._deadline(w, run, now):
                        self._lose(w, self._hung(w, run), run, died=False)
        except BaseException:
            # Interrupted (Ctrl-C) or a driver-side error: workers still busy with this request
            # would answer into the next one; stop them (their envs are rebuilt when needed).
            for w, queue in run.queues.items():
                if queue:
                    self._abandon(w, f"{self._name(w)} was stopped mid-request")
            raise
        return results

    def _deadline(self, w: int, run: _Run, now: float) -> float:
        """When worker ``w``'s current job (or phase) overruns; notes when that began."""
        queue = run.queues[w]
        pos = self._running(w)
        # what it is on: a job, or -1 (nothing begun since the submit) or len(queue) (answering)
        on: _Item | int = queue[pos] if 0 <= pos < len(queue) else (-1 if pos < 0 else len(queue))
        if not isinstance(on, int) or on >= 0:
            self._ready[w] = True
        seen = run.since.get(w)
        if seen is None or seen[0] != on:
            run.since[w] = seen = (on, now)
        if isinstance(on, int) and on < 0:
            allowance = self.timeout_s if self._ready[w] else self.start_timeout_s
            return run.submitted[w] + allowance
        return seen[1] + (self.timeout_s if isinstance(on, int) else self._allowance(on[1]))

    def _hung(self, w: int, run: _Run) -> str:
        on, _ = run.since[w]
        if not isinstance(on, int):
            return f"hung: no answer within {self._allowance(on[1]):g}s"
        if on >= 0:
            return f"hung while sending its answers (over {self.timeout_s:g}s)"
        if self._ready[w]:
            return f"hung: did not take up its jobs within {self.timeout_s:g}s"
        return f"did not start within {self.start_timeout_s:g}s"

    def _plan(self, items: Iterable[_Item], results: list[Any]) -> dict[int, deque[_Item]]:
        """Jobs per worker, a restore before the first step of each slot to rebuild; requests
        that cannot run (broken or never reset slots) are answered here."""
        queues: dict[int, deque[_Item]] = {}
        restoring: set[int] = set()
        for index, job in items:
            slot = job.slot
            if job.kind == "restore" or index is None:
                continue  # re-derived below from the slot's state
            queue = queues.setdefault(slot % self._n, deque())
            if job.kind == "reset":
                self._logs.pop(slot, None)
                self._broken.pop(slot, None)
                self._detached.pop(slot, None)
            elif slot in self._broken:
                results[index] = EnvFailure(self._broken[slot])
                continue
            elif slot not in self._logs:
                results[index] = EnvFailure(f"slot {slot} was never reset")
                continue
            elif slot in self._detached and slot not in restoring:
                log = self._logs[slot]
                payload = (log.reset, tuple(log.actions))
                queue.append((None, EnvJob("restore", slot, payload)))
                restoring.add(slot)
            queue.append((index, job))
        return {w: q for w, q in queues.items() if q}

    def _launch(self, w: int, run: _Run) -> None:
        for attempt in range(2):
            if not self._started(w):
                self._start(w)
                self._ready[w] = False
            run.since.pop(w, None)
            run.submitted[w] = time.monotonic()
            queue = run.queues[w]
            jobs = [queue[0][1]] if w in run.careful else [job for _, job in queue]
            try:
                self._submit(w, jobs)
                run.in_flight[w] = len(jobs)
                return
            except OSError as exc:
                # Unreachable before it ran anything of ours: start a fresh one, once.
                note = f"{self._name(w)} unreachable ({type(exc).__name__}: {exc})"
                self._abandon(w, note)
                if attempt == 1:
                    self._fail_all(run.queues[w], note, run.results)
                    return
                run.queues[w] = self._plan(list(run.queues[w]), run.results).get(w, deque())
                if not run.queues[w]:
                    return

    def _lose(self, w: int, why: str, run: _Run, *, died: bool) -> None:
        """Worker ``w`` died or overran (``why``): fail the job it was on, run the rest again."""
        queue = run.queues[w]
        pos = self._running(w)
        blame = 0 <= pos < len(queue)
        # Where a death may be seen on an earlier job than the one that caused it (Ray: answers
        # already sent can be lost with the process), run the jobs again one at a time instead.
        unsure = blame and died and not self._exact_deaths and run.in_flight.get(w, 0) > 1
        if not blame or unsure:
            note = f"{self._name(w)} {why}"
            was_up = self._ready[w]
            self._abandon(w, note)
            if unsure:
                run.careful.add(w)
            else:
                run.culpritless[w] = run.culpritless.get(w, 0) + 1
                if not was_up or run.culpritless[w] > 1:
                    # it never came up (or keeps dying before it runs anything): nothing can run
                    self._fail_all(queue, note, run.results)
                    return
        else:
            index, job = queue[pos]
            del queue[pos]
            reason = f"{self._name(w)} {why} during {job.describe()} of slot {job.slot}"
            self._fail(index, job, reason, run.results)
            self._abandon(w, f"{self._name(w)} was lost ({reason})")
        run.queues[w] = self._plan(list(queue), run.results).get(w, deque())
        if run.queues[w]:
            self._launch(w, run)

    def _abandon(self, w: int, note: str) -> None:
        """Kill worker ``w``; the envs it hosted are to be rebuilt before their next step."""
        self._kill(w)
        self._ready[w] = False
        for slot in [s for s in self._logs if s % self._n == w]:
            log = self._logs[slot]
            if log.reset.seed is None and "task_id" not in log.reset.options:
                self._broken[slot] = f"{note}; its env cannot be rebuilt (reset without a seed)"
                del self._logs[slot]
                self._detached.pop(slot, None)
            else:
                self._detached.setdefault(slot, note)

    def _settle(self, index: int | None, job: EnvJob, result: object, results: list[Any]) -> None:
        slot = job.slot
        if not isinstance(result, ResetResult | StepResult | EnvFailure):
            result = EnvFailure(f"worker answered {type(result).__name__} for slot {slot}")
        if job.kind == "restore":
            log = self._logs.get(slot)
            if isinstance(result, EnvFailure):
                self._fail(None, job, result.reason, results)
            elif log is not None and not _same(_fingerprint(result), log.last):
                why = "gave a different answer than before (is the env deterministic?)"
                self._fail(None, job, why, results)
            else:
                self._detached.pop(slot, None)
            return
        if job.kind == "step" and slot in self._broken:  # its rebuild failed just before
            result = EnvFailure(self._broken[slot])
        elif isinstance(result, EnvFailure):
            self._fail(None, job, result.reason, results)
        elif isinstance(result, ResetResult):
            self._logs[slot] = _SlotLog(job.payload, [], _fingerprint(result))
        elif isinstance(result, StepResult) and slot in self._logs:
            log = self._logs[slot]
            log.actions.append(job.payload)
            log.last = _fingerprint(result)
        assert index is not None
        results[index] = result

    def _fail(self, index: int | None, job: EnvJob, reason: str, results: list[Any]) -> None:
        if job.kind == "restore":
            n = len(job.payload[1])
            lost = self._detached.get(job.slot, "its worker was lost")
            reason = f"{lost}; rebuilding its env by replaying {n} actions failed: {reason}"
        self._broken[job.slot] = reason
        self._logs.pop(job.slot, None)
        self._detached.pop(job.slot, None)
        if index is not None:
            results[index] = EnvFailure(reason)

    def _fail_all(self, queue: deque[_Item], reason: str, results: list[Any]) -> None:
        while queue:
            index, job = queue.popleft()
            self._fail(index, job, reason, results)

    def _allowance(self, job: EnvJob) -> float:
        if job.kind == "restore":
            return self.timeout_s * (1 + len(job.payload[1]))
        return self.timeout_s


@dataclass
class _Run:
    """The state of one batched request across the workers it uses."""

    queues: dict[int, deque[_Item]]  # per worker: its unanswered jobs, in order
    results: list[Any]
    submitted: dict[int, float] = field(default_factory=dict)  # when its jobs were handed over
    since: dict[int, tuple[_Item | int, float]] = field(default_factory=dict)  # on what, since when
    culpritless: dict[int, int] = field(default_factory=dict)  # losses no job could be blamed for
    in_flight: dict[int, int] = field(default_factory=dict)  # jobs handed over, not answered yet
    careful: set[int] = field(default_factory=set)  # workers given one job at a time


# ---- subprocess pool ---------------------------------------------------------------------------
_JOB_BITS = 32  # progress value: (submission number << _JOB_BITS) | position of the job running


def _worker_main(
    conn: mp_connection.Connection, progress: Any, tasks: Sequence[TaskSpec] = ()
) -> None:
    # The user's Ctrl-C reaches the whole process group: the driver handles it, so here any
    # KeyboardInterrupt is raised by env code (an env error).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    host = EnvHost(tasks)
    jobs: list[EnvJob] = []
    results: list[EnvResult] = []
    try:
        while True:
            try:
                cmd, number, payload = pickle.loads(conn.recv_bytes())
            except EOFError:
                return
            if cmd == "close":
                return
            if cmd == "resend_each":  # the driver could not unpickle the last answer as a whole
                conn.send_bytes(pickle.dumps([_pickled_alone(r) for r in results]))
                continue
            jobs, careful = payload
            results = []
            with host._guard():
                for i, job in enumerate(jobs):
                    # Shared memory, no message: the driver reads from it which job runs, so a
                    # hang or a crash is pinned on its env while answers go back in one piece.
                    progress.value = (number << _JOB_BITS) | i
                    results.append(host._run_job(job))
                progress.value = (number << _JOB_BITS) | len(jobs)  # answering
                data = None if careful else _pickled_or_none(results)
                if data is None:  # find the results that cannot travel, one by one
                    for i, job in enumerate(jobs):
                        progress.value = (number << _JOB_BITS) | i
                        results[i] = _picklable(host, job, results[i])
                    progress.value = (number << _JOB_BITS) | len(jobs)
                    data = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
            conn.send_bytes(data)
    finally:
        host.close()


def _pickled_or_none(results: list[EnvResult]) -> bytes | None:
    try:
        return pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:  # SIGINT is ignored in workers: this came from an env's objects
        return None


def _picklable(host: EnvHost, job: EnvJob, result: EnvResult) -> EnvResult:
    """``result``, or an :class:`EnvFailure` for its slot when it cannot be pickled."""
    try:
        pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        return result
    except BaseException as exc:  # SIGINT is ignored in workers: this came from the env's objects
        reason = (
            f"env's {job.describe()} result (slot {job.slot}) cannot be pickled to the driver: "
            f"{type(exc).__name__}: {exc}"
        )
        host.drop(job.slot, reason)
        return EnvFailure(reason)


def _pickled_alone(result: EnvResult) -> bytes:
    return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)


def _unpickled_result(data: bytes) -> object:
    try:
        return pickle.loads(data)
    except KeyboardInterrupt:  # in the driver: the user's
        raise
    except BaseException as exc:  # an env's object whose loading fails (or exits)
        return EnvFailure(
            f"the driver cannot unpickle an env's result: {type(exc).__name__}: {exc}"
        )


@dataclass
class _Worker:
    process: mp.process.BaseProcess
    conn: mp_connection.Connection
    progress: Any  # multiprocessing.Value("q"), written by the worker
    number: int = 0  # of the last submission
    n_jobs: int = 0  # in the last submission


class SubprocessBackend(WorkerPool):
    """Envs spread over ``n_workers`` worker processes (slot ``s`` lives in worker ``s % n_workers``).

    Workers run in parallel, each its envs one after another, and answer a request in one message.
    A broken env fails its own slot only (see :class:`WorkerPool`); a worker it killed or hung is
    replaced, and the other envs it hosted are rebuilt there by replay.

    Args:
        n_workers: worker processes.
        timeout_s: how long one env call (one reset or one step) may take before it counts as hung.
        start_method: multiprocessing start method (default: the platform's). Under any method,
            tasks registered at run time in the parent are registered in each worker too (their
            entry points must be importable or picklable).
        start_timeout_s: how long a new worker may take to start (not counted in ``timeout_s``).
    """

    def __init__(
        self,
        n_workers: int = 2,
        *,
        timeout_s: float = 60.0,
        start_method: str | None = None,
        start_timeout_s: float = 120.0,
    ):
        super().__init__(n_workers, timeout_s, start_timeout_s)
        self.n_workers = n_workers
        # progress is polled while waiting: a hang is seen at most this late
        self._poll_s = min(0.05, self.timeout_s / 4)
        self._ctx: Any = mp.get_context(start_method)
        self._workers: list[_Worker | None] = [None] * n_workers
        # workers lost while pickling their answer as a whole: the next one pickles result by
        # result, so the env whose result kills or hangs the pickling is the one to blame
        self._careful = [False] * n_workers

    def _name(self, w: int) -> str:
        return f"worker {w}"

    def _started(self, w: int) -> bool:
        return self._workers[w] is not None

    def _alive(self, w: int) -> tuple[bool, str]:
        worker = self._workers[w]
        if worker is None or worker.process.is_alive():
            return True, ""
        return False, f"died (exit code {worker.process.exitcode})"

    def _start(self, w: int) -> None:
        from proxmo_bench.tasks import runtime_tasks

        parent, child = self._ctx.Pipe()
        progress = self._ctx.Value("q", 0, lock=False)
        # Under "spawn"/"forkserver" a worker does not inherit tasks registered at run time.
        proc = self._ctx.Process(
            target=_worker_main, args=(child, progress, runtime_tasks()), daemon=True
        )
        proc.start()
        child.close()
        self._workers[w] = _Worker(proc, parent, progress)

    def _submit(self, w: int, jobs: Sequence[EnvJob]) -> None:
        worker = self._workers[w]
        assert worker is not None
        worker.number += 1
        worker.n_jobs = len(jobs)
        message = ("run", worker.number, (list(jobs), self._careful[w]))
        worker.conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        self._careful[w] = False

    def _running(self, w: int) -> int:
        worker = self._workers[w]
        return -1 if worker is None else self._running_in(worker)

    @staticmethod
    def _running_in(worker: _Worker) -> int:
        value = int(worker.progress.value)
        if value >> _JOB_BITS != worker.number:
            return -1
        return value & ((1 << _JOB_BITS) - 1)

    def _wait(self, workers: Sequence[int], timeout: float) -> list[tuple[int, object]]:
        by_conn: dict[Any, int] = {}
        for w in workers:
            worker = self._workers[w]
            assert worker is not None
            by_conn[worker.conn] = w
        events: list[tuple[int, object]] = []
        for conn in mp_connection.wait(list(by_conn), timeout):
            w = by_conn[conn]
            worker = self._workers[w]
            assert worker is not None
            try:
                data = worker.conn.recv_bytes()
            except (EOFError, OSError):
                worker.process.join(timeout=2)
                events.append((w, _Lost(f"died (exit code {worker.process.exitcode})")))
                continue
            try:
                events.append((w, pickle.loads(data)))
            except KeyboardInterrupt:  # in the driver: the user's
                raise
            except BaseException:  # an env's object in it fails to load: find it
                events.append((w, self._resend_each(w)))
        return events

    def _resend_each(self, w: int) -> object:
        """The last answer of worker ``w`` again, result by result (so that a result the driver
        cannot unpickle fails its own slot only)."""
        worker = self._workers[w]
        assert worker is not None
        try:
            worker.conn.send_bytes(pickle.dumps(("resend_each", worker.number, None)))
            if not worker.conn.poll(self.timeout_s):
                return _Lost(f"hung: resent no answer within {self.timeout_s:g}s")
            items = pickle.loads(worker.conn.recv_bytes())
        except Exception as exc:  # EOFError, OSError, garbled bytes
            return _Lost(f"could not resend its answer ({type(exc).__name__}: {exc})")
        return [_unpickled_result(item) for item in items]

    def _kill(self, w: int) -> None:
        worker, self._workers[w] = self._workers[w], None
        if worker is None:
            return
        self._careful[w] = self._running_in(worker) == worker.n_jobs > 0
        worker.process.kill()
        worker.process.join(timeout=5)
        worker.conn.close()

    def _shutdown(self, w: int) -> None:
        worker = self._workers[w]
        if worker is None:
            return
        try:
            worker.conn.send_bytes(pickle.dumps(("close", 0, None)))
            worker.process.join(timeout=5)
        except (BrokenPipeError, OSError):
            pass
        if worker.process.is_alive():
            self._kill(w)
        else:
            worker.conn.close()
            self._workers[w] = None
