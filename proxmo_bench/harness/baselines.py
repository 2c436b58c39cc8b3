"""Baseline submissions: untrained agents (random, family experts) evaluated like trained ones.

They set the floor (random over admissible actions, or random tool calls and messages where a
family lists none) and the ceiling (the family's expert) of each leaderboard table, and go through
the same evaluation, metrics and submission code as ``bench``. Which agents a task's baselines
are, and which environment variable names its official data, is part of the task's registration
(:class:`proxmo_bench.tasks.TaskSpec`: ``expert``, ``random_agent``, ``data_env_var``), so a
third-party task gets baselines the same way as a built-in one (:func:`baseline_specs`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from proxmo_bench.harness.evaluate import evaluate, select_eval_episodes
from proxmo_bench.leaderboard.build import write_submission
from proxmo_bench.leaderboard.provenance import code_revision, official_data_dir
from proxmo_bench.leaderboard.schema import AgentInfo
from proxmo_bench.tasks import get_task_spec, reference_name, resolve_reference

__all__ = [
    "PUBLISHED_BASELINES",
    "BaselineSpec",
    "baseline_agent",
    "baseline_specs",
    "publish_baselines",
    "run_baseline",
]

#: The baseline kinds, in the order :func:`baseline_specs` lists them.
KINDS = ("expert", "random")


def baseline_agent(kind: str, task: str, seed: int) -> tuple[Any, AgentInfo]:
    """The agent (or agent factory) of baseline ``kind`` for ``task`` and its manifest entry.

    The agents come from the task's registration: ``random`` is its ``random_agent`` built with
    ``seed=`` (the uniform ``RandomAgent`` when it registers none), ``expert`` a factory calling its
    ``expert`` with the env. ``model_id`` is the random agent's ``"module:attr"`` and the expert's
    module.

    Raises:
        ValueError: unknown kind, the task registers no expert (``kind="expert"``), or its
            reference does not resolve.
        KeyError: ``task`` is not registered.
    """
    if kind not in KINDS:
        raise ValueError(f"baseline kind must be 'random' or 'expert', got {kind!r}")
    spec = get_task_spec(task)
    if kind == "random":
        info = AgentInfo(
            name="random",
            kind="random",
            model_id=reference_name(spec.random_agent_ref),
            revision=code_revision(),
            params={"seed": seed},
        )
        return spec.make_random_agent(seed), info
    if spec.expert is None:
        raise ValueError(
            f"no expert agent for {task}: the task registers none "
            "(register_task(..., expert='module:attr') gives it one)"
        )
    resolve_reference(spec.expert, task=task, what="expert")  # a bad reference fails here, once
    module_name = reference_name(spec.expert).partition(":")[0]
    info = AgentInfo(name="expert", kind="expert", model_id=module_name, revision=code_revision())
    return spec.make_expert, info


def run_baseline(
    *,
    suite: str,
    task: str,
    kind: str,
    split: str,
    out_dir: str | Path,
    n_episodes: int | None = 100,
    run_seeds: Sequence[int] = (0, 1, 2),
    eval_seed: int = 0,
    env_kwargs: Mapping[str, Any] | None = None,
    name: str | None = None,
    created: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Evaluate baseline ``kind`` on ``n_episodes`` of ``split`` (all with ``None``) once per run
    seed, and write the submission under ``out_dir``; returns its folder."""
    kwargs = dict(env_kwargs or {})
    episodes = select_eval_episodes(task, split, n_episodes, seed=eval_seed, env_kwargs=kwargs)
    runs = []
    wall = {}
    info: AgentInfo | None = None
    for seed in run_seeds:
        agent, info = baseline_agent(kind, task, seed)
        t0 = time.perf_counter()
        runs.append(
            (
                seed,
                evaluate(agent, task, episodes, split=split, env_kwargs=kwargs, progress=progress),
            )
        )
        wall[seed] = time.perf_counter() - t0
    assert info is not None
    if len(run_seeds) > 1:  # the manifest lists the seeds per run; keep the agent entry seed-free
        info = info.model_copy(update={"params": {}})
    return write_submission(
        out_dir,
        suite=suite,
        name=name or f"{_default_stem(task, split, kwargs)}-{kind}",
        task=task,
        env_kwargs=kwargs,
        split=split,
        episodes=episodes,
        runs=runs,
        agent=info,
        wall_clock_s=wall,
        selection_seed=None if n_episodes is None else eval_seed,
        data_dir=official_data_dir(task, kwargs),
        created=created,
        notes=f"{kind} baseline, {len(run_seeds)} run(s) over the same {len(episodes)} episodes",
    )


@dataclass(frozen=True)
class BaselineSpec:
    """One published baseline: which agent, on which task, split, data and episodes."""

    suite: str
    task: str
    kind: str
    split: str
    n_episodes: int | None
    run_seeds: tuple[int, ...]
    env_kwargs: dict[str, Any]
    name: str


def baseline_specs(
    task: str,
    *,
    suite: str,
    split: str,
    n_episodes: int | None,
    env_kwargs: Mapping[str, Any] | None = None,
    stem: str | None = None,
    kinds: Sequence[str] | None = None,
) -> list[BaselineSpec]:
    """The expert (one run, seed 0) and random (three runs, seeds 0-2) baselines of any registered
    ``task`` in one setting, named ``<stem>-expert`` and ``<stem>-random``.

    Args:
        task: a registered task id (built-in or third-party).
        suite: the leaderboard suite the submissions go to.
        split: the evaluation split (one of the task's splits).
        n_episodes: evaluation episodes, or ``None`` for every task of the split (the env must
            list them, ``TextEnv.task_ids``).
        env_kwargs: ``make()`` kwargs of the setting.
        stem: the submissions' name stem; default ``<family>-<source>-<split>`` (the name
            :func:`run_baseline` gives), e.g. ``"keyroom-generated-test"``.
        kinds: which baselines; ``None`` means the expert when the task registers one, and the
            random agent.

    Raises:
        KeyError: ``task`` is not registered.
        ValueError: ``split`` is not one of the task's, ``n_episodes`` is not positive, a kind is
            unknown, or ``"expert"`` is asked of a task that registers no expert.
    """
    spec = get_task_spec(task)
    if split not in spec.splits:
        raise ValueError(f"task {task!r} has splits {list(spec.splits)}; got split={split!r}")
    if n_episodes is not None and n_episodes < 1:
        raise ValueError(
            f"n_episodes must be positive (or None for the whole split), got {n_episodes}"
        )
    if kinds is None:
        chosen = [k for k in KINDS if k != "expert" or spec.expert is not None]
    else:
        chosen = list(kinds)
        unknown = [k for k in chosen if k not in KINDS]
        if unknown:
            raise ValueError(f"baseline kinds must be among {list(KINDS)}, got {unknown}")
        if "expert" in chosen and spec.expert is None:
            raise ValueError(f"no expert agent for {task}: the task registers none")
    kwargs = dict(env_kwargs or {})
    if stem is None:
        stem = _default_stem(task, split, kwargs)
    seeds = {"expert": (0,), "random": (0, 1, 2)}
    return [
        BaselineSpec(
            suite, task, kind, split, n_episodes, seeds[kind], dict(kwargs), f"{stem}-{kind}"
        )
        for kind in KINDS
        if kind in chosen
    ]


def _default_stem(task: str, split: str, env_kwargs: Mapping[str, Any]) -> str:
    family = task.split("/")[-1].split("-v")[0].lower()
    source = str(env_kwargs.get("source", "generated"))
    return f"{family}-{source}-{split}".replace("_", "-")


def _pair(
    suite: str,
    task: str,
    split: str,
    n_episodes: int | None,
    env_kwargs: dict[str, Any],
    stem: str,
) -> list[BaselineSpec]:
    """A built-in task's published expert and random pair (each built-in task has an expert)."""
    return baseline_specs(
        task,
        suite=suite,
        split=split,
        n_episodes=n_episodes,
        env_kwargs=env_kwargs,
        stem=stem,
        kinds=KINDS,
    )


def _alfworld_baselines(
    setting: str, n_episodes: int | None, env_kwargs: dict[str, Any]
) -> list[BaselineSpec]:
    """Expert and random on ALFWorld's valid_unseen split in one setting."""
    return _pair(
        "alfworld",
        "proxmo/ALFWorld-v0",
        "valid_unseen",
        n_episodes,
        env_kwargs,
        f"alfworld-{setting}-valid-unseen",
    )


def _customer_service_baselines(suite: str, task: str, n_official: int) -> list[BaselineSpec]:
    """Expert and random on the generated test split (100 tasks) and the official test tasks.

    ``n_official`` is the size of tau-bench's test split: drawn by seeded resets (the family's
    ``eval_draw``), every task once, in the published submissions' order.
    """
    return [
        spec
        for source, n in (("generated", 100), ("official", n_official))
        for spec in _pair(suite, task, "test", n, {"source": source}, f"{suite}-{source}-test")
    ]


#: The baselines ``leaderboards/`` publishes (official-data entries need the data's env variable).
PUBLISHED_BASELINES: tuple[BaselineSpec, ...] = (
    *_pair("keyroom", "proxmo/KeyRoom-v0", "test", 100, {}, "keyroom"),
    # The step limit of the published light-agent runs (preset keyroom_light), for their table.
    *_pair(
        "keyroom", "proxmo/KeyRoom-v0", "test", 100, {"max_episode_steps": 15}, "keyroom-15-steps"
    ),
    *_alfworld_baselines("generated", 100, {"source": "generated", "engine": "fast"}),
    # The quickstart's easy setting: difficulty 1, pick and look tasks (every one of the split).
    *_alfworld_baselines(
        "generated-easy",
        None,
        {"source": "generated", "engine": "fast", "difficulty": 1, "categories": ["pick", "look"]},
    ),
    *_alfworld_baselines("official", None, {"source": "official", "engine": "fast"}),
    *_alfworld_baselines(
        "official-pick-look",
        None,
        {"source": "official", "engine": "fast", "categories": ["pick", "look"]},
    ),
    *_pair("webshop", "proxmo/WebShop-v0", "test", 100, {}, "webshop-generated-test"),
    *_customer_service_baselines("retail", "proxmo/Retail-v0", n_official=115),
    *_customer_service_baselines("airline", "proxmo/Airline-v0", n_official=50),
)


def publish_baselines(
    root: str | Path = "leaderboards",
    *,
    suites: Sequence[str] | None = None,
    specs: Sequence[BaselineSpec] = PUBLISHED_BASELINES,
    created: dt.date | None = None,
    log: Callable[[str], None] = print,
) -> list[Path]:
    """Make, validate, verify (every episode) and publish the baselines of ``suites`` under
    ``root``, then render those suites. Baselines that need official data whose environment
    variable is unset are skipped with a message; an existing submission is kept as it is."""
    import tempfile

    from proxmo_bench.leaderboard.render import render_suite
    from proxmo_bench.leaderboard.submit import submit_submission

    published = []
    chosen = [s for s in specs if suites is None or s.suite in suites]
    for spec in chosen:
        if (
            spec.env_kwargs.get("source") == "official"
            and official_data_dir(spec.task, spec.env_kwargs) is None
        ):
            var = get_task_spec(spec.task).data_env_var
            if var:
                log(f"skip {spec.name}: set {var} to the official data")
            else:
                log(
                    f"skip {spec.name}: {spec.task} registers no data_env_var; "
                    "give the official data folder as env_kwargs['data_dir']"
                )
            continue
        day = created or dt.datetime.now(dt.UTC).date()
        dest = Path(root) / spec.suite / "submissions" / f"{day.isoformat()}_{spec.name}"
        if dest.exists():
            log(f"keep {dest} (exists)")
            continue
        with tempfile.TemporaryDirectory(prefix="proxmo-baseline-") as tmp:
            t0 = time.perf_counter()
            sub = run_baseline(
                suite=spec.suite,
                task=spec.task,
                kind=spec.kind,
                split=spec.split,
                out_dir=tmp,
                n_episodes=spec.n_episodes,
                run_seeds=spec.run_seeds,
                env_kwargs=spec.env_kwargs,
                name=spec.name,
                created=day,
            )
            published.append(submit_submission(sub, root=root))
            log(f"published {published[-1]} ({time.perf_counter() - t0:.1f} s)")
    for suite in sorted({s.suite for s in chosen}):
        render_suite(root, suite)
    return published
