"""Conformance checks every task must pass; each function checks one property.

Family tests (and third-party task authors) call :func:`check_task`; each check raises
``AssertionError`` with a message that says what is wrong and what to fix.
"""

from __future__ import annotations

import contextlib
import copy
import time
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, SupportsFloat

import gymnasium
import numpy as np
from gymnasium.utils.env_checker import check_env

from proxmo_bench.env import MAX_ACTION_CHARS, check_info, list_task_ids
from proxmo_bench.tasks import get_task_spec, make

#: Hand-written action strings no env may crash on: empty, whitespace, long, unicode, control
#: characters, unbalanced brackets, JSON that is not a tool call, markup, lone surrogates.
_BASIC_HOSTILE_ACTIONS: tuple[str, ...] = (
    "",
    " ",
    "\n\t",
    "x" * 10_000,
    "go to " + "y" * 5_000,
    "☃ 日本語 émoji 🤖",
    "\x00\x01\x7f",
    "click[",
    "click[]]",
    "search[]",
    "search[" + "a" * 2_000 + "]",
    "click[nonexistent item]",
    '{"name": 1}',
    '{"name": "no_such_tool", "arguments": {}}',
    '{"name": "get_user_details", "arguments": "not a dict"}',
    "{not json",
    "<action></action>",
    "<action>look</action>" * 3,
    "<think>hmm</think>",
    "take -1 from 99999999999999999999",
    "None",
    "%s %d {0}",
    "\ud800",
    '{"name": "get_user_details", "arguments": {"user_id": "\\ud800"}}',
    '{"name": "think", "arguments": {"thought": "\udfff"}}',
)

#: The fuzz families: ``(family, prefix, unit, suffix)``; an action of the family is ``prefix``,
#: then ``unit`` repeated (the last copy cut short), then ``suffix``. Each one is the worst case of
#: some parser when it backtracks: regexes such as ``(.+)\[(.+)\]`` or ``<action>(.*?)</action>``
#: take time quadratic in the length on them, which a linear parser does not.
HOSTILE_FAMILIES: tuple[tuple[str, str, str, str], ...] = (
    ("open brackets", "", "[", ""),
    ("close brackets", "", "]", ""),
    ("click[ + open brackets", "click[", "[", ""),
    ("click[x] + open brackets", "click[x]", "[", ""),
    ("search[ + words", "search[", "red shoe ", "]"),
    ("<action> tags", "", "<action>", ""),
    ("</action> tags", "<action>", "</action>", ""),
    ("<think> tags", "", "<think>", ""),
    ("<think><action> tags", "", "<think><action>", ""),
    ("quotes", '{"name": "', '"', '"}'),
    ("open braces", "", "{", "}"),
    ("nested JSON objects", '{"name": "think", "arguments": ', '{"a": ', "}"),
    ("nested JSON lists", '{"name": "think", "arguments": {"thought": ', "[", "}}"),
    ("lone surrogates", "", "\ud800", ""),
    (
        "surrogate tool argument",
        '{"name": "get_user_details", "arguments": {"user_id": "',
        "\ud800",
        '"}}',
    ),
    (
        "escaped surrogate argument",
        '<action>{"name": "get_user_details", "arguments": {"user_id": "',
        "\\ud800",
        '"}}</action>',
    ),
)

#: Lengths of the fuzz actions: at the bound (the parsers' worst case) and just over it (refused
#: by ``TextEnv.step`` before the family sees it).
HOSTILE_SIZES: tuple[int, ...] = (MAX_ACTION_CHARS, MAX_ACTION_CHARS + 1)


def hostile_action(prefix: str, unit: str, suffix: str, length: int) -> str:
    """``prefix + unit * k + suffix`` cut to exactly ``length`` characters (the last unit cut)."""
    body = max(0, length - len(prefix) - len(suffix))
    return prefix + (unit * (body // len(unit) + 1))[:body] + suffix


#: Action family -> its action strings: ``"basic"`` (the hand-written cases) and the fuzz families
#: at every size of :data:`HOSTILE_SIZES`.
HOSTILE_ACTIONS_BY_FAMILY: dict[str, tuple[str, ...]] = {
    "basic": _BASIC_HOSTILE_ACTIONS,
    **{
        family: tuple(hostile_action(prefix, unit, suffix, n) for n in HOSTILE_SIZES)
        for family, prefix, unit, suffix in HOSTILE_FAMILIES
    },
}

#: Action strings no env may crash on (every family of :data:`HOSTILE_ACTIONS_BY_FAMILY`).
HOSTILE_ACTIONS: tuple[str, ...] = tuple(
    action for actions in HOSTILE_ACTIONS_BY_FAMILY.values() for action in actions
)

Trajectory = list[tuple[str, float, bool, bool, dict[str, Any]]]


def _pick_action(info: dict[str, Any], rng: np.random.Generator, fallback: Sequence[str]) -> str:
    adm = info.get("admissible_actions")
    pool = list(adm) if adm else list(fallback)
    return str(pool[int(rng.integers(len(pool)))])


def play(
    env: gymnasium.Env[str, str],
    *,
    seed: int | None = None,
    options: dict[str, Any] | None = None,
    actions: Sequence[str] | None = None,
    n_steps: int = 10,
    action_seed: int = 0,
    fallback_actions: Sequence[str] = ("look",),
) -> tuple[str, dict[str, Any], list[str], Trajectory]:
    """Reset, then step with ``actions`` (or random admissible ones) until done.

    Returns ``(obs0, info0, actions_taken, transitions)``.
    """
    rng = np.random.default_rng(action_seed)
    obs0, info0 = env.reset(seed=seed, options=options)
    info = info0
    taken: list[str] = []
    out: Trajectory = []
    for i in range(len(actions) if actions is not None else n_steps):
        a = actions[i] if actions is not None else _pick_action(info, rng, fallback_actions)
        obs, r, term, trunc, info = env.step(a)
        taken.append(a)
        out.append((obs, float(r), term, trunc, info))
        if term or trunc:
            break
    return obs0, info0, taken, out


def check_gymnasium_api(env: gymnasium.Env[str, str]) -> None:
    """gymnasium's own ``check_env`` on the unwrapped env (spaces, seeding, step determinism)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(env.unwrapped, skip_render_check=True)


def check_info_contract(env: gymnasium.Env[str, str], seed: int = 0, n_steps: int = 10) -> None:
    """Every reset/step info carries the contract keys with the right types."""
    obs, info = env.reset(seed=seed)
    assert isinstance(obs, str), f"reset must return a str observation, got {type(obs).__name__}"
    check_info(info, "reset info")
    assert info["action_valid"] is True, "info['action_valid'] must be True after reset"
    _, _, _, steps = play(env, seed=seed, n_steps=n_steps)
    for i, (o, r, term, trunc, inf) in enumerate(steps):
        assert isinstance(o, str), f"step {i}: observation must be a str"
        assert isinstance(r, float), f"step {i}: reward must be a float, got {type(r).__name__}"
        assert isinstance(term, bool) and isinstance(trunc, bool), f"step {i}: flags must be bools"
        check_info(inf, f"step {i} info")


def check_reset_determinism(env: gymnasium.Env[str, str], seed: int = 7) -> None:
    """The same seed, or the same ``task_id``, gives the identical initial state."""
    o1, i1 = env.reset(seed=seed)
    o2, i2 = env.reset(seed=seed)
    assert o1 == o2 and i1 == i2, "reset(seed=s) twice gave different observations or infos"
    o3, i3 = env.reset(options={"task_id": i1["task_id"]})
    assert o3 == o1, (
        f"reset(options={{'task_id': {i1['task_id']!r}}}) gave a different initial observation "
        "than the seed that chose that task"
    )
    assert i3["task_id"] == i1["task_id"], "reset with a task_id must report that task_id"


def check_replay_determinism(
    make_env: Callable[[], gymnasium.Env[str, str]], seed: int = 3, n_steps: int = 12
) -> None:
    """Seed + actions replayed on a fresh env reproduce observations, rewards and infos exactly."""
    env_a, env_b = make_env(), make_env()
    try:
        _, info0, actions, steps_a = play(env_a, seed=seed, n_steps=n_steps, action_seed=seed)
        _, info0b, _, steps_b = play(env_b, seed=seed, actions=actions)
        assert info0 == info0b, "replay: initial infos differ for the same seed"
        for i, (a, b) in enumerate(zip(steps_a, steps_b, strict=True)):
            assert a == b, (
                f"replay differs at step {i} (action {actions[i]!r}): {a!r:.300} != {b!r:.300}"
            )
    finally:
        env_a.close()
        env_b.close()


def check_exact_copy(
    make_env: Callable[[], gymnasium.Env[str, str]], seed: int = 4, n_steps: int = 12
) -> None:
    """Where the env declares ``copy_is_exact()``: a deep copy taken part-way through an episode
    plays on exactly as the original and as a fresh replay of the same actions do (observations,
    rewards, flags and infos, the step limit included), and neither stepping nor closing the copy
    moves the original. Nothing to check for envs that do not declare it."""
    env = make_env()
    try:
        if not bool(getattr(env.unwrapped, "copy_is_exact", lambda: False)()):
            return
        _, info, prefix, steps = play(
            env, seed=seed, n_steps=max(1, n_steps // 3), action_seed=seed
        )
        if steps and (steps[-1][2] or steps[-1][3]):
            return  # the prefix ended the episode: nothing is left to compare
        if steps:
            info = steps[-1][4]
        twin = copy.deepcopy(env)
        rng = np.random.default_rng(seed + 1)
        suffix: list[str] = []
        on_copy: list[tuple[Any, ...]] = []
        for _ in range(n_steps):
            action = _pick_action(info, rng, ("look",))
            out = twin.step(action)
            suffix.append(action)
            on_copy.append(tuple(out))
            info = out[4]
            if out[2] or out[3]:
                break
        twin.close()
        on_original = [tuple(env.step(a)) for a in suffix]
        fresh = make_env()
        try:
            _, _, _, full = play(fresh, seed=seed, actions=[*prefix, *suffix])
        finally:
            fresh.close()
        on_replay = [tuple(t) for t in full[len(prefix) :]]
        for i, action in enumerate(suffix):
            for who, got in (("the original", on_original), ("a fresh replay", on_replay)):
                assert on_copy[i] == got[i], (
                    f"copy_is_exact() but a copy taken after {len(prefix)} steps differs from "
                    f"{who} at the copy's step {i} (action {action!r}): {on_copy[i]!r:.300} != "
                    f"{got[i]!r:.300}; make the copy independent or return False"
                )
    finally:
        env.close()


def check_any_string_is_an_action(env: gymnasium.Env[str, str], seed: int = 1) -> None:
    """No action string raises; each returns a contract-valid info."""
    for action in HOSTILE_ACTIONS:
        env.reset(seed=seed)
        try:
            obs, _, _, _, info = env.step(action)
        except Exception as exc:  # the contract: never raise on an action string
            raise AssertionError(f"step({action!r:.60}) raised {exc!r}") from exc
        assert isinstance(obs, str) and obs, f"step({action!r:.60}) must return a non-empty str"
        check_info(info, f"info after step({action!r:.40})")
        assert isinstance(info["action_valid"], bool)


#: Values that are not action strings; ``step`` must refuse each with a one-line ``TypeError``.
NON_STRING_ACTIONS: tuple[Any, ...] = (3, None, b"look", ["look"], 2.5)


def check_non_string_action_rejected(env: gymnasium.Env[str, str], seed: int = 1) -> None:
    """A non-string action raises ``TypeError`` with a one-line message, and leaves the episode
    as it was: the next string action plays on."""
    for value in NON_STRING_ACTIONS:
        env.reset(seed=seed)
        try:
            env.step(value)
        except TypeError as exc:
            message = str(exc)
            assert message and "\n" not in message, (
                f"step({value!r}) must raise a TypeError with a one-line message, got {message!r:.200}"
            )
        except Exception as exc:
            raise AssertionError(
                f"step({value!r}) raised {exc!r:.200}; a non-string action must raise TypeError "
                "(TextEnv.step does)"
            ) from exc
        else:
            raise AssertionError(
                f"step({value!r}) was accepted; a non-string action must raise TypeError "
                "(subclass TextEnv, or check isinstance(action, str) in step)"
            )
        obs, _, _, _, info = env.step("zzz qqq not an action 123")
        assert isinstance(obs, str), f"after step({value!r}) raised, a string step must play on"
        check_info(info, f"info after step({value!r}) raised")


def slowest_hostile_steps(
    env: gymnasium.Env[str, str], seed: int = 1, repeat: int = 1
) -> dict[str, tuple[float, str]]:
    """Family of :data:`HOSTILE_ACTIONS_BY_FAMILY` -> ``(seconds, action)`` of its slowest step.

    Each action is stepped ``repeat`` times, each time from a fresh ``reset(seed=seed)``, and
    costs the fastest of those steps (the machine's noise and one-off warm-ups left out); only
    the ``step`` call is timed (wall clock, ``time.perf_counter``). A step that raises is timed
    up to the raise.
    """
    out: dict[str, tuple[float, str]] = {}
    for family, actions in HOSTILE_ACTIONS_BY_FAMILY.items():
        for action in actions:
            best = float("inf")
            for _ in range(max(1, repeat)):
                env.reset(seed=seed)
                t0 = time.perf_counter()
                # a raise is timed all the same; check_any_string_is_an_action reports it
                with contextlib.suppress(Exception):
                    env.step(action)
                best = min(best, time.perf_counter() - t0)
            if family not in out or best > out[family][0]:
                out[family] = (best, action)
    return out


def check_action_speed(
    env: gymnasium.Env[str, str], budget_s: float = 0.05, seed: int = 1, repeat: int = 3
) -> None:
    """Every hostile action steps within ``budget_s`` seconds (default 50 ms).

    A wall-clock check, so not part of :func:`check_task` (tests must not depend on the machine's
    speed); ``benchmarks/bench_hostile_actions.py --check`` runs it. A slow step is almost always a
    regex that backtracks (nested or overlapping quantifiers): parse with ``str.find`` /
    ``str.partition`` scans or an unambiguous pattern instead.
    """
    slow = {
        family: (dt, action)
        for family, (dt, action) in slowest_hostile_steps(env, seed=seed, repeat=repeat).items()
        if dt > budget_s
    }
    assert not slow, "hostile actions step too slowly (budget {:.0f} ms): {}".format(
        budget_s * 1e3,
        "; ".join(
            f"{family}: {dt * 1e3:.0f} ms on {len(action)} chars {action[:30]!r}..."
            for family, (dt, action) in slow.items()
        ),
    )


def check_invalid_action_flagged(env: gymnasium.Env[str, str], seed: int = 1) -> None:
    """An action outside the admissible set (where the env lists one) is flagged invalid."""
    _, info = env.reset(seed=seed)
    if info["admissible_actions"] is None:
        return
    bogus = "zzz qqq not an action 123"
    assert bogus not in info["admissible_actions"]
    _, _, _, _, info = env.step(bogus)
    assert info["action_valid"] is False, (
        "an inadmissible action must set info['action_valid']=False"
    )


def check_task_ids(env: gymnasium.Env[str, str], seed: int = 0, n_checked: int = 3) -> None:
    """Where the env lists its task ids (``TextEnv.task_ids``): the list of its own split is a
    non-empty list of distinct strings, a seeded reset draws one of them, and a few of them
    (first, middle, last) reset to ``info["task_id"]`` equal to the id. Skipped when the family
    cannot list its tasks."""
    split = str(getattr(env.unwrapped, "split", "") or "")
    if not split:
        return
    ids = list_task_ids(env, split)
    if ids is None:
        return
    assert ids, f"task_ids({split!r}) is empty; list the split's tasks or raise NotImplementedError"
    assert all(isinstance(t, str) for t in ids), f"task_ids({split!r}) must hold strings only"
    assert len(set(ids)) == len(ids), f"task_ids({split!r}) lists some task id twice"
    assert ids == list_task_ids(env, split), f"task_ids({split!r}) changed between two calls"
    _, info = env.reset(seed=seed, options={"split": split})
    assert info["task_id"] in set(ids), (
        f"reset(seed={seed}) drew task_id {info['task_id']!r}, which task_ids({split!r}) does not "
        "list (evaluation draws its episodes from that list)"
    )
    picks = sorted({0, len(ids) // 2, len(ids) - 1})[:n_checked]
    for i in picks:
        _, info = env.reset(seed=seed, options={"task_id": ids[i]})
        assert info["task_id"] == ids[i], (
            f"task_ids({split!r})[{i}] is {ids[i]!r}, but reset(options={{'task_id': {ids[i]!r}}}) "
            f"reported info['task_id'] = {info['task_id']!r}"
        )


def check_step_limit(
    task_id: str,
    make_kwargs: dict[str, Any],
    seed: int = 2,
    *,
    make_env: Callable[[], gymnasium.Env[str, str]] | None = None,
) -> None:
    """Invalid actions until the registered step limit end the episode with ``truncated=True``
    (the env from ``make_env`` when given, else ``make(task_id, **make_kwargs)``)."""
    spec = get_task_spec(task_id)
    env = make_env() if make_env is not None else make(task_id, **make_kwargs)
    try:
        env.reset(seed=seed)
        for i in range(spec.max_episode_steps):
            _, _, term, trunc, _ = env.step("zzz qqq not an action 123")
            if term:
                return  # some tasks end early (e.g. a simulated user gives up)
            if i < spec.max_episode_steps - 1:
                assert not trunc, (
                    f"truncated early at step {i + 1} (limit {spec.max_episode_steps})"
                )
        assert trunc, f"not truncated after max_episode_steps={spec.max_episode_steps}"
    finally:
        env.close()


class ConformanceError(AssertionError):
    """A failed check of :func:`check_task`: ``check`` names it; ``action`` is the last action
    stepped before the failure (``None`` when none was), so an env that raised can be reproduced."""

    def __init__(self, check: str, message: str, action: Any = None) -> None:
        self.check, self.message, self.action = check, message, action
        where = "" if action is None else f" (last action stepped: {action!r:.80})"
        super().__init__(f"{check}: {message}{where}")


class _LastAction(gymnasium.Wrapper[str, str, str, str]):
    """Remembers the last action passed to ``step`` in ``record[0]`` (for the failure message)."""

    def __init__(self, env: gymnasium.Env[str, str], record: list[Any]) -> None:
        super().__init__(env)
        self._record = record

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        self._record[:] = [action]
        return self.env.step(action)


EnvCheck = Callable[[gymnasium.Env[str, str]], None]
FactoryCheck = Callable[[Callable[[], gymnasium.Env[str, str]]], None]


def task_checks(
    task_id: str, seeds: Sequence[int] = (0, 1)
) -> tuple[list[tuple[str, EnvCheck]], list[tuple[str, FactoryCheck]]]:
    """The checks of :func:`check_task` by name, in order: those run on one shared env, then
    those given an env factory (they build fresh envs). A name is the check function's name,
    with its seed where it takes one."""
    on_env: list[tuple[str, EnvCheck]] = [("check_gymnasium_api", check_gymnasium_api)]
    for s in seeds:
        on_env.append((f"check_info_contract(seed={s})", partial(check_info_contract, seed=s)))
        on_env.append(
            (f"check_reset_determinism(seed={s})", partial(check_reset_determinism, seed=s))
        )
    on_env += [
        ("check_any_string_is_an_action", check_any_string_is_an_action),
        ("check_non_string_action_rejected", check_non_string_action_rejected),
        ("check_invalid_action_flagged", check_invalid_action_flagged),
        ("check_task_ids", partial(check_task_ids, seed=seeds[0] if seeds else 0)),
    ]
    on_factory: list[tuple[str, FactoryCheck]] = []
    for s in seeds:
        on_factory.append(
            (f"check_replay_determinism(seed={s})", partial(check_replay_determinism, seed=s))
        )
        on_factory.append((f"check_exact_copy(seed={s})", partial(check_exact_copy, seed=s)))
    on_factory.append(("check_step_limit", partial(_step_limit_on, task_id)))
    return on_env, on_factory


def _step_limit_on(task_id: str, make_env: Callable[[], gymnasium.Env[str, str]]) -> None:
    check_step_limit(task_id, {}, make_env=make_env)


def check_task(
    task_id: str,
    *,
    make_kwargs: dict[str, Any] | None = None,
    seeds: Sequence[int] = (0, 1),
    on_pass: Callable[[str], None] | None = None,
) -> None:
    """Run every conformance check on a registered task, in order, stopping at the first failure.

    ``on_pass(name)`` is called after each check that passed.

    Raises:
        ConformanceError: a check failed (an ``AssertionError``) or raised; its message names the
            check and the last action stepped (``check``, ``action``).
    """
    kwargs = dict(make_kwargs or {})
    record: list[Any] = []

    def make_env() -> gymnasium.Env[str, str]:
        return _LastAction(make(task_id, **copy.deepcopy(kwargs)), record)

    def run(name: str, fn: Callable[[], None]) -> None:
        record.clear()
        try:
            fn()
        except AssertionError as exc:
            raise ConformanceError(name, str(exc), record[0] if record else None) from exc
        except Exception as exc:
            message = f"raised {type(exc).__name__}: {exc}"
            raise ConformanceError(name, message, record[0] if record else None) from exc
        if on_pass is not None:
            on_pass(name)

    on_env, on_factory = task_checks(task_id, seeds)
    env = make_env()
    try:
        for name, check in on_env:
            run(name, partial(check, env))
    finally:
        env.close()
    for name, factory_check in on_factory:
        run(name, partial(factory_check, make_env))
