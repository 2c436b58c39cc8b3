"""A subprocess pool for a group of envs: G copies of a task stepped in lock-step over W processes.

TextWorld steps cost tens of milliseconds of pure Python, so a group of 8 envs in one process runs
at one core's speed; spreading the group over worker processes runs it at W cores' speed. The pool
is generic (any task registered with proxmo-bench; the envs are built in the workers with
``proxmo_bench.make``) but lives with the ALFWorld family, its main user; the rollout package may
wrap it as its subprocess backend.

A worker that dies or fails turns each of its envs' results into a truncated step whose info carries
``env_error`` (the reason) and whose observation says so; the other workers' envs go on.
"""

from __future__ import annotations

import contextlib
import copy
import multiprocessing as mp
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

StepResult = tuple[str, float, bool, bool, dict[str, Any]]


def _worker(conn: Connection, task_id: str, make_kwargs: dict[str, Any], n_envs: int) -> None:
    """Worker loop: build ``n_envs`` envs, then serve ``reset``/``step``/``close`` messages."""
    import proxmo_bench

    try:
        envs = [proxmo_bench.make(task_id, **copy.deepcopy(make_kwargs)) for _ in range(n_envs)]
        conn.send(("ok", None))
    except Exception:
        conn.send(("error", traceback.format_exc()))
        return
    try:
        while True:
            cmd, payload = conn.recv()
            try:
                if cmd == "reset":
                    out: Any = [envs[i].reset(seed=s, options=o) for i, s, o in payload]
                elif cmd == "step":
                    out = [envs[i].step(a) for i, a in payload]
                elif cmd == "close":
                    break
                else:
                    raise ValueError(f"unknown pool command {cmd!r}")
                conn.send(("ok", out))
            except Exception:
                conn.send(("error", traceback.format_exc()))
    except (EOFError, KeyboardInterrupt):
        pass
    finally:
        for env in envs:
            env.close()
        conn.close()


class EnvPool:
    """``n_envs`` envs of ``task_id`` in ``n_workers`` processes, reset and stepped as a batch.

    Env ``i`` lives in worker ``i % n_workers``. Results come back in env order.

    Args:
        task_id: a registered task (e.g. ``"proxmo/ALFWorld-v0"``).
        n_envs: group size G.
        n_workers: processes (default ``min(n_envs, os.cpu_count())``).
        make_kwargs: keyword arguments for ``proxmo_bench.make`` (e.g. ``source``, ``split``).
        start_method: multiprocessing start method (``"spawn"`` by default: TextWorld's planner
            library must not be shared with a forked parent).
    """

    def __init__(
        self,
        task_id: str,
        n_envs: int,
        *,
        n_workers: int | None = None,
        make_kwargs: dict[str, Any] | None = None,
        start_method: str = "spawn",
    ) -> None:
        if n_envs <= 0:
            raise ValueError(f"n_envs must be positive, got {n_envs}")
        cpus = mp.cpu_count()
        self.n_envs = n_envs
        self.n_workers = max(1, min(n_envs, n_workers if n_workers is not None else cpus))
        ctx: Any = mp.get_context(start_method)
        self._owner = [i % self.n_workers for i in range(n_envs)]
        self._local = [self._owner[:i].count(self._owner[i]) for i in range(n_envs)]
        self._conns: list[Connection | None] = []
        self._procs: list[Any] = []
        self._errors: list[str | None] = [None] * self.n_workers
        self._last: list[tuple[str, dict[str, Any]] | None] = [None] * n_envs
        for w in range(self.n_workers):
            parent, child = ctx.Pipe()
            count = self._owner.count(w)
            proc = ctx.Process(
                target=_worker, args=(child, task_id, dict(make_kwargs or {}), count), daemon=True
            )
            proc.start()
            child.close()
            self._conns.append(parent)
            self._procs.append(proc)
        for w in range(self.n_workers):
            status, detail = self._recv(w)
            if status != "ok":
                self.close()
                raise RuntimeError(f"EnvPool worker {w} failed to build its envs:\n{detail}")

    # ---- messaging ---------------------------------------------------------------------------
    def _recv(self, w: int) -> tuple[str, Any]:
        conn = self._conns[w]
        if conn is None:
            return "error", self._errors[w] or "worker is gone"
        try:
            msg: tuple[str, Any] = conn.recv()
            return msg
        except (EOFError, OSError) as exc:
            self._mark_dead(w, f"worker process died ({exc!r})")
            return "error", self._errors[w]

    def _mark_dead(self, w: int, reason: str) -> None:
        self._errors[w] = reason
        conn = self._conns[w]
        if conn is not None:
            conn.close()
        self._conns[w] = None

    def _broadcast(self, cmd: str, per_env: dict[int, tuple[Any, ...]]) -> dict[int, Any]:
        """Send each worker its envs' payloads (env index -> payload), gather the replies by env
        index; ``None`` for the envs of a worker that failed."""
        batches: list[list[Any]] = [[] for _ in range(self.n_workers)]
        order: list[list[int]] = [[] for _ in range(self.n_workers)]
        for i in sorted(per_env):
            batches[self._owner[i]].append((self._local[i], *per_env[i]))
            order[self._owner[i]].append(i)
        for w, batch in enumerate(batches):
            conn = self._conns[w]
            if conn is None or not batch:
                continue
            try:
                conn.send((cmd, batch))
            except (BrokenPipeError, OSError) as exc:
                self._mark_dead(w, f"worker process died ({exc!r})")
        results: dict[int, Any] = {}
        for w in range(self.n_workers):
            if not order[w]:
                continue
            reply: list[Any] | None = None
            if self._conns[w] is not None:
                status, out = self._recv(w)
                if status == "ok":
                    reply = list(out)
                else:
                    self._errors[w] = str(out)
            for k, i in enumerate(order[w]):
                results[i] = None if reply is None else reply[k]
        return results

    # ---- API ---------------------------------------------------------------------------------
    def reset(
        self,
        seeds: Sequence[int | None] | None = None,
        options: Sequence[dict[str, Any] | None] | None = None,
        *,
        indices: Sequence[int] | None = None,
    ) -> list[tuple[str, dict[str, Any]]]:
        """Reset the envs ``indices`` (default: all), env ``indices[k]`` with ``seeds[k]`` and
        ``options[k]``; returns their ``(obs, info)`` in the order of ``indices``.

        Raises:
            RuntimeError: a worker failed; the message carries its traceback.
        """
        idx = list(indices) if indices is not None else list(range(self.n_envs))
        if len(set(idx)) != len(idx) or not all(0 <= i < self.n_envs for i in idx):
            raise ValueError(f"indices must be distinct env indices below {self.n_envs}, got {idx}")
        seeds_l = list(seeds) if seeds is not None else [None] * len(idx)
        opts_l = list(options) if options is not None else [None] * len(idx)
        if len(seeds_l) != len(idx) or len(opts_l) != len(idx):
            raise ValueError(f"need {len(idx)} seeds/options, got {len(seeds_l)}/{len(opts_l)}")
        results = self._broadcast(
            "reset", {i: (s, o) for i, s, o in zip(idx, seeds_l, opts_l, strict=True)}
        )
        out = []
        for i in idx:
            res = results[i]
            if res is None:
                raise RuntimeError(f"EnvPool env {i}: reset failed: {self._errors[self._owner[i]]}")
            self._last[i] = res
            out.append(res)
        return out

    def step(self, actions: Sequence[str]) -> list[StepResult]:
        """Step every env with its action; a failed worker's envs come back truncated with
        ``info["env_error"]``."""
        if len(actions) != self.n_envs:
            raise ValueError(f"need {self.n_envs} actions, got {len(actions)}")
        results = self._broadcast("step", {i: (a,) for i, a in enumerate(actions)})
        out: list[StepResult] = []
        for i in range(self.n_envs):
            res = results[i]
            if res is None:
                last = self._last[i]
                info = dict(last[1]) if last is not None else {}
                reason = self._errors[self._owner[i]] or "unknown worker failure"
                info.update(action_valid=False, env_error=reason)
                out.append(
                    (f"The environment failed: {reason.splitlines()[-1]}", 0.0, False, True, info)
                )
            else:
                out.append(res)
        return out

    def close(self) -> None:
        """Stop the workers (politely, then by force after a short wait)."""
        for w, conn in enumerate(self._conns):
            if conn is not None:
                with contextlib.suppress(BrokenPipeError, OSError):
                    conn.send(("close", None))
                conn.close()
                self._conns[w] = None
        for proc in self._procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)

    def __enter__(self) -> EnvPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
