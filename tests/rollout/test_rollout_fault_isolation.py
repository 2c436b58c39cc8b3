"""A broken env costs its own episode only, in every backend (issue 16).

Faults are injected by action: ``fault:<kind>`` makes the env hang, raise ``SystemExit``, call
``os._exit``, raise a ``BaseException`` subclass or a ``KeyboardInterrupt``, or return an info
that cannot be pickled, cannot be unpickled, or kills or blocks the process that pickles it
(faults at reset come from the env's kwargs). The policy is a pure function of (slot, step,
observation), so every other env plays exactly what it plays in an unfaulted run, and its record
must equal that run's, also when it shared a worker with the faulty env and had to be rebuilt on
a fresh one by replay. The user's Ctrl-C, unlike a ``KeyboardInterrupt`` from env code, must
still stop the run.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import time
import zlib
from collections.abc import Sequence
from typing import Any

import pytest

from proxmo_bench import register_task
from proxmo_bench.envs.keyroom.env import KeyRoomEnv
from proxmo_bench.rollout import (
    Decision,
    EpisodeRecord,
    InProcessBackend,
    StepContext,
    SubprocessBackend,
    make_backend,
)
from proxmo_bench.rollout.group import GroupSpec, RolloutBatch, collect_groups

TASK = "test/FaultInjectedKeyRoom-v0"
KWARGS: dict[str, Any] = {"max_episode_steps": 5}
GROUPS = [GroupSpec(21, task_id="train/4"), GroupSpec(22)]  # one named task, one probed
HANG_TIMEOUT_S = 1.0  # per env call; generous enough for a loaded machine, short for a test
IN_PROCESS_TIMEOUT_S = 0.5  # the same, where the timer also counts time the process is not run
SAFE_TIMEOUT_S = 30.0  # for faults that do not hang: no test should wait on it


class EnvFault(BaseException):
    """Neither an ``Exception`` nor ``SystemExit`` nor ``KeyboardInterrupt``."""


class Unpicklable:
    """Copies (as infos are copied) but cannot be pickled by pickle or cloudpickle."""

    def __reduce__(self) -> Any:
        raise TypeError("Unpicklable refuses to be pickled")

    def __deepcopy__(self, memo: dict[int, Any]) -> Unpicklable:
        return self


def _refuse_to_load() -> None:
    raise ValueError("refuses to be unpickled")


class Unloadable:
    """Pickles, but its pickle cannot be loaded (here: anywhere; in life: not in the driver)."""

    def __reduce__(self) -> Any:
        return (_refuse_to_load, ())

    def __deepcopy__(self, memo: dict[int, Any]) -> Unloadable:
        return self


class DeadlyToPickle:
    """Pickling it kills (``"exit"``) or blocks (``"hang"``) the process that pickles it."""

    def __init__(self, how: str) -> None:
        self.how = how

    def __reduce__(self) -> Any:
        _inject("os_exit" if self.how == "exit" else "hang")
        raise AssertionError("unreachable")

    def __deepcopy__(self, memo: dict[int, Any]) -> DeadlyToPickle:
        return self


PICKLING_FAULTS = {
    "unpicklable": Unpicklable,
    "unloadable": Unloadable,
    "exit_in_pickle": lambda: DeadlyToPickle("exit"),
    "hang_in_pickle": lambda: DeadlyToPickle("hang"),
}


def _inject(kind: str) -> None:
    if kind == "hang":
        time.sleep(120)
    elif kind == "exit":
        raise SystemExit(7)
    elif kind == "os_exit":
        os._exit(3)
    elif kind == "base":
        raise EnvFault("injected BaseException")
    elif kind == "keyboard":
        raise KeyboardInterrupt("raised by env code")
    elif kind == "user_ctrl_c":  # the user's Ctrl-C arriving while this process runs env code
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    elif kind == "user_ctrl_c_swallowed":  # ... and env code that swallows it
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except BaseException:
            pass
    elif kind == "driver_ctrl_c":  # the user's Ctrl-C reaching the driver while a worker steps
        os.kill(os.getppid(), signal.SIGINT)
        time.sleep(2)


class FaultInjectedKeyRoom(KeyRoomEnv):
    """KeyRoom where ``fault:<kind>`` injects a fault; optionally faulty at the reset of one task
    (``reset_fault`` at ``reset_fault_task``), slow (``step_delay_s``) or not deterministic across
    processes (``pid_in_obs``)."""

    def __init__(
        self,
        *,
        reset_fault: str = "",
        reset_fault_task: str = "",
        step_delay_s: float = 0.0,
        pid_in_obs: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.reset_fault, self.reset_fault_task = reset_fault, reset_fault_task
        self.step_delay_s, self.pid_in_obs = step_delay_s, pid_in_obs

    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if self.reset_fault and options.get("task_id") == self.reset_fault_task:
            _inject(self.reset_fault)
        return super()._reset(options)

    def _step(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        time.sleep(self.step_delay_s)
        obs, reward, done, info = super()._step(action)
        if action.startswith("fault:"):
            kind = action.removeprefix("fault:")
            if kind in PICKLING_FAULTS:
                info = {**info, "debug": PICKLING_FAULTS[kind]()}
            else:
                _inject(kind)
        if self.pid_in_obs:
            obs += f" (pid {os.getpid()})"
        return obs, reward, done, info


register_task(TASK, FaultInjectedKeyRoom, max_episode_steps=5, splits=["train", "test"])


class SlotPolicy:
    """Each slot's action is a hash of (slot, step, observation) over the admissible actions.

    ``faults``: slot -> (step, kind): that slot looks around, then sends ``fault:<kind>`` at
    ``step`` (kind ``"none"`` is an ordinary invalid action: the unfaulted run).
    """

    name = "slot-hash"

    def __init__(self, faults: dict[int, tuple[int, str]]) -> None:
        self.faults = faults

    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        out = []
        for c in contexts:
            fault = self.faults.get(c.slot)
            if fault is not None:
                out.append(Decision(f"fault:{fault[1]}" if c.step == fault[0] else "look"))
                continue
            adm = c.admissible_actions or ["look"]
            out.append(Decision(adm[zlib.crc32(f"{c.slot}|{c.step}|{c.obs}".encode()) % len(adm)]))
        return out


def _run(
    backend: Any,
    G: int,
    faults: dict[int, tuple[int, str]],
    env_kwargs: dict[str, Any] | None = None,
) -> RolloutBatch:
    return collect_groups(
        backend, SlotPolicy(faults), TASK, GROUPS, G, env_kwargs=env_kwargs or KWARGS
    )


def _unfaulted(G: int, faults: dict[int, tuple[int, str]]) -> RolloutBatch:
    clean = {slot: (step, "none") for slot, (step, _) in faults.items()}
    return _run(InProcessBackend(), G, clean)


def _one_per_worker(G: int) -> dict[int, tuple[int, str]]:
    """With 2 workers (even slots in worker 0, odd in worker 1): worker 0's first slot fails at
    step 2 (the other envs of the worker have not run that step yet), worker 1's last slot at
    step 1 (the others have run it already; if the worker is lost, they run it again)."""
    return {0: (2, ""), len(GROUPS) * G - 1: (1, "")}


def _with_kind(faults: dict[int, tuple[int, str]], kind: str) -> dict[int, tuple[int, str]]:
    return {slot: (step, kind) for slot, (step, _) in faults.items()}


def _dumps(records: Sequence[EpisodeRecord], env_kwargs: dict[str, Any] | None = None) -> list[Any]:
    """Records as dicts; ``env_kwargs`` replaces theirs (a run of the same envs without faults)."""
    out = [r.model_dump() for r in records]
    return out if env_kwargs is None else [{**r, "env_kwargs": env_kwargs} for r in out]


def _assert_isolated(
    batch: RolloutBatch,
    ref: RolloutBatch,
    faults: dict[int, tuple[int, str]],
    reason_has: dict[int, str] | str,
) -> None:
    assert len(batch.records) == len(ref.records)
    for slot, (rec, want) in enumerate(zip(batch.records, ref.records, strict=True)):
        if slot not in faults:
            assert rec.model_dump() == want.model_dump(), (slot, rec.reason)
            continue
        k = faults[slot][0]
        expected = reason_has if isinstance(reason_has, str) else reason_has[slot]
        assert rec.termination == "env_error", (slot, rec)
        assert expected in rec.reason, (slot, rec.reason)
        # what was played before the fault is kept, exactly as the unfaulted run played it
        assert (rec.actions, rec.rewards) == (want.actions[:k], want.rewards[:k])
    faulty_rows = {r.traj for r in batch.training_rows()} & set(faults)
    assert not faulty_rows


# ---- in-process -------------------------------------------------------------------------------
IN_PROCESS_REASONS = {
    "hang": f"env hung in step (slot {{slot}}): no return within {IN_PROCESS_TIMEOUT_S:g}s",
    "exit": "SystemExit: 7",
    "base": "EnvFault: injected BaseException",
    "keyboard": "KeyboardInterrupt: raised by env code",
}


@pytest.mark.parametrize("G", [2, 3, 4])
@pytest.mark.parametrize("kind", sorted(IN_PROCESS_REASONS))
def test_in_process_fault_costs_its_episode_only(kind: str, G: int) -> None:
    faults = _with_kind(_one_per_worker(G), kind)
    t0 = time.monotonic()
    batch = _run(InProcessBackend(timeout_s=IN_PROCESS_TIMEOUT_S), G, faults)
    assert time.monotonic() - t0 < 10
    reasons = {s: IN_PROCESS_REASONS[kind].format(slot=s) for s in faults}
    _assert_isolated(batch, _unfaulted(G, faults), faults, reasons)


@pytest.mark.parametrize("kind", sorted(PICKLING_FAULTS))
def test_in_process_unpicklable_info_is_no_fault(kind: str) -> None:
    faults = _with_kind(_one_per_worker(2), kind)
    batch = _run(InProcessBackend(), 2, faults)
    assert "env_error" not in {r.termination for r in batch.records}


def test_in_process_reset_fault() -> None:
    kwargs = {**KWARGS, "reset_fault": "exit", "reset_fault_task": "train/4"}
    batch = _run(InProcessBackend(), 2, {}, kwargs)
    assert [r.termination for r in batch.records[:2]] == ["env_error"] * 2
    assert all("SystemExit: 7" in r.reason for r in batch.records[:2])
    assert _dumps(batch.records[2:]) == _dumps(_run(InProcessBackend(), 2, {}).records[2:], kwargs)


def test_make_backend_in_process_bounds_each_call() -> None:
    faults = _with_kind(_one_per_worker(2), "hang")
    batch = _run(make_backend("inprocess", timeout_s=IN_PROCESS_TIMEOUT_S), 2, faults)
    _assert_isolated(batch, _unfaulted(2, faults), faults, "env hung in step")


@pytest.mark.parametrize("kind", ["user_ctrl_c", "user_ctrl_c_swallowed"])
def test_users_ctrl_c_still_stops_an_in_process_run(kind: str) -> None:
    """A SIGINT during env code is the user's: it stops the run even if the env swallows it."""
    t0 = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        _run(InProcessBackend(), 2, {0: (1, kind)})
    assert time.monotonic() - t0 < 4  # not after the env's sleep: the interrupt cut it short


# ---- subprocess pool --------------------------------------------------------------------------
SUBPROCESS_REASONS = {
    "hang": f"hung: no answer within {HANG_TIMEOUT_S:g}s during step 'fault:hang' of slot",
    "exit": "SystemExit: 7",
    "os_exit": "died (exit code 3) during step 'fault:os_exit' of slot",
    "unpicklable": "cannot be pickled to the driver: TypeError: Unpicklable refuses",
    "base": "EnvFault: injected BaseException",
    "keyboard": "KeyboardInterrupt: raised by env code",
}


@pytest.mark.parametrize("G", [2, 4])
@pytest.mark.parametrize("kind", sorted(SUBPROCESS_REASONS))
def test_subprocess_fault_costs_its_episode_only(kind: str, G: int) -> None:
    faults = _with_kind(_one_per_worker(G), kind)
    timeout = HANG_TIMEOUT_S if kind == "hang" else SAFE_TIMEOUT_S
    backend = SubprocessBackend(2, timeout_s=timeout)
    try:
        batch = _run(backend, G, faults)
        _assert_isolated(batch, _unfaulted(G, faults), faults, SUBPROCESS_REASONS[kind])
        # the pool serves the next batch as if nothing happened
        again = _run(backend, G, {})
        assert _dumps(again.records) == _dumps(_run(InProcessBackend(), G, {}).records)
    finally:
        backend.close()


# Six faults in 8 slots over 2 workers; slots 6 and 7 share their workers with them and play on.
MIXED = {
    0: (1, "hang"),
    1: (2, "os_exit"),
    2: (2, "exit"),
    3: (1, "unpicklable"),
    4: (3, "base"),
    5: (2, "keyboard"),
}


def test_subprocess_many_faults_in_one_worker() -> None:
    backend = SubprocessBackend(2, timeout_s=HANG_TIMEOUT_S)
    try:
        batch = _run(backend, 4, MIXED)
    finally:
        backend.close()
    reasons = {s: SUBPROCESS_REASONS[kind] for s, (_, kind) in MIXED.items()}
    _assert_isolated(batch, _unfaulted(4, MIXED), MIXED, reasons)


# Results that break while travelling: slot 0's loads fail in the driver, slot 4's pickling hangs
# (both in worker 0, at the same step), slot 3's pickling kills worker 1.
PICKLING = {0: (1, "unloadable"), 3: (2, "exit_in_pickle"), 4: (1, "hang_in_pickle")}
PICKLING_REASONS = {
    0: "the driver cannot unpickle an env's result: ValueError: refuses to be unpickled",
    3: "worker 1 died (exit code 3) during step 'fault:exit_in_pickle' of slot 3",
    4: f"worker 0 hung: no answer within {HANG_TIMEOUT_S:g}s during step 'fault:hang_in_pickle'",
}


def test_subprocess_results_that_break_in_transit() -> None:
    backend = SubprocessBackend(2, timeout_s=HANG_TIMEOUT_S)
    try:
        batch = _run(backend, 4, PICKLING)
    finally:
        backend.close()
    _assert_isolated(batch, _unfaulted(4, PICKLING), PICKLING, PICKLING_REASONS)


def test_subprocess_reset_fault_kills_the_worker_of_one_group_only() -> None:
    kwargs = {**KWARGS, "reset_fault": "os_exit", "reset_fault_task": "train/4"}
    backend = SubprocessBackend(2, timeout_s=SAFE_TIMEOUT_S)
    try:
        batch = _run(backend, 2, {}, kwargs)
    finally:
        backend.close()
    # group 0 (slots 0 and 1, one in each worker) crashes both workers at reset; group 1 plays on
    assert [r.termination for r in batch.records[:2]] == ["env_error"] * 2
    assert all("died (exit code 3) during reset" in r.reason for r in batch.records[:2])
    assert _dumps(batch.records[2:]) == _dumps(_run(InProcessBackend(), 2, {}).records[2:], kwargs)


def test_subprocess_timeout_is_per_env_call_not_per_batch() -> None:
    """Four slow envs in one worker: each call is under the timeout, the batch is not."""
    kwargs = {**KWARGS, "max_episode_steps": 2, "step_delay_s": 0.25}
    backend = SubprocessBackend(1, timeout_s=0.6)
    try:
        batch = collect_groups(
            backend, SlotPolicy({}), TASK, [GroupSpec(3, task_id="train/1")], 4, env_kwargs=kwargs
        )
    finally:
        backend.close()
    assert [r.termination for r in batch.records] == ["step_limit"] * 4, [
        r.reason for r in batch.records
    ]


def test_rebuilt_env_that_differs_is_an_env_error() -> None:
    """An env that is not deterministic across processes cannot be rebuilt by replay: refused."""
    kwargs = {**KWARGS, "pid_in_obs": True}
    backend = SubprocessBackend(2, timeout_s=SAFE_TIMEOUT_S)
    try:
        batch = collect_groups(
            backend,
            SlotPolicy({0: (1, "os_exit")}),
            TASK,
            [GroupSpec(3, task_id="train/1")],
            4,
            env_kwargs=kwargs,
        )
    finally:
        backend.close()
    recs = batch.records
    assert recs[0].termination == "env_error" and "died" in recs[0].reason
    # slot 2 shared worker 0: its replay answers with another pid
    assert recs[2].termination == "env_error"
    assert "gave a different answer than before" in recs[2].reason
    assert "worker 0 was lost" in recs[2].reason
    assert recs[2].steps == 1  # what it played before the loss is kept
    assert {recs[1].termination, recs[3].termination} <= {"success", "failure", "step_limit"}


def test_users_ctrl_c_stops_a_subprocess_run_and_the_pool_recovers() -> None:
    backend = SubprocessBackend(2, timeout_s=SAFE_TIMEOUT_S)
    try:
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            _run(backend, 2, {0: (1, "driver_ctrl_c")})
        assert time.monotonic() - t0 < 10
        again = _run(backend, 2, {})
        assert _dumps(again.records) == _dumps(_run(InProcessBackend(), 2, {}).records)
    finally:
        backend.close()


# ---- Ray --------------------------------------------------------------------------------------
RAY_REASONS = {
    **SUBPROCESS_REASONS,
    "os_exit": "ray actor 1 died (",
    "unpicklable": "cannot come back from Ray",
}


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the [ray] extra is missing")
def test_ray_many_faults_in_one_actor() -> None:
    # actor start-up is not counted in timeout_s (RayBackend's start_timeout_s is generous)
    backend = make_backend("ray", n_workers=2, timeout_s=HANG_TIMEOUT_S)
    try:
        batch = _run(backend, 4, MIXED)
        reasons = {s: RAY_REASONS[kind] for s, (_, kind) in MIXED.items()}
        _assert_isolated(batch, _unfaulted(4, MIXED), MIXED, reasons)
        # results that break while travelling back (Ray serialises with cloudpickle)
        batch = _run(backend, 4, PICKLING)
        reasons = {
            0: "cannot come back from Ray",
            3: "ray actor 1 died (",
            4: f"ray actor 0 hung: no answer within {HANG_TIMEOUT_S:g}s during step",
        }
        _assert_isolated(batch, _unfaulted(4, PICKLING), PICKLING, reasons)
    finally:
        backend.close()
