"""Baseline submissions: untrained agents (random, family experts) evaluated like trained ones.

They set the floor (random over admissible actions, or random tool calls and messages where a
family lists none) and the ceiling (the family's expert) of each leaderboard table, and go through
the same evaluation, metrics and submission code as ``bench``.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium

from proxmo_bench.harness.evaluate import evaluate, select_eval_episodes
from proxmo_bench.leaderboard.build import write_submission
from proxmo_bench.leaderboard.provenance import package_info
from proxmo_bench.leaderboard.schema import AgentInfo

#: Expert agent per task: (module, builder taking the module and the env).
EXPERTS: dict[str, tuple[str, Callable[[Any, gymnasium.Env[str, str]], Any]]] = {
    "proxmo/ALFWorld-v0": (
        "proxmo_bench.agents.experts.alfworld",
        lambda mod, env: mod.AlfWorldExpert.for_env(env),
    ),
    "proxmo/KeyRoom-v0": (
        "proxmo_bench.agents.experts.keyroom",
        lambda mod, env: mod.KeyRoomExpert.for_env(env),
    ),
    "proxmo/WebShop-v0": (
        "proxmo_bench.agents.experts.webshop",
        lambda mod, env: mod.WebShopExpert(),
    ),
    "proxmo/Retail-v0": (
        "proxmo_bench.agents.experts.customer_service",
        lambda mod, env: mod.GoldActionAgent.for_env(env),
    ),
    "proxmo/Airline-v0": (
        "proxmo_bench.agents.experts.customer_service",
        lambda mod, env: mod.GoldActionAgent.for_env(env),
    ),
}

#: Random agent (``module:Class``, built with ``seed=``) per task whose env lists no admissible
#: actions; every other task gets the uniform :class:`RandomAgent` over admissible actions.
RANDOM_AGENTS: dict[str, str] = {
    "proxmo/Retail-v0": "proxmo_bench.agents.random_tool_agent:RandomToolAgent",
    "proxmo/Airline-v0": "proxmo_bench.agents.random_tool_agent:RandomToolAgent",
}

#: Environment variable naming each family's official data folder (hashed into the manifest).
DATA_ENV_VARS = {
    "proxmo/ALFWorld-v0": "ALFWORLD_DATA",
    "proxmo/WebShop-v0": "WEBSHOP_DATA",
    "proxmo/Retail-v0": "TAU_BENCH_DATA",
    "proxmo/Airline-v0": "TAU_BENCH_DATA",
}


def official_data_dir(task: str, env_kwargs: Mapping[str, Any]) -> Path | None:
    """The official data folder a run read, for ``source="official"`` (else ``None``)."""
    if env_kwargs.get("source") != "official":
        return None
    explicit = env_kwargs.get("data_dir")
    if explicit:
        return Path(str(explicit))
    var = DATA_ENV_VARS.get(task)
    value = os.environ.get(var) if var else None
    return Path(value) if value else None


def code_revision() -> str:
    """``<version>`` or ``<version>+g<commit12>`` of this package (pins scripted agents)."""
    pkg = package_info()
    return pkg.version + (f"+g{pkg.git_commit[:12]}" if pkg.git_commit else "")


def baseline_agent(kind: str, task: str, seed: int) -> tuple[Any, AgentInfo]:
    """The agent (or agent factory) of baseline ``kind`` for ``task`` and its manifest entry.

    Raises:
        ValueError: unknown kind, or no expert exists for ``task``.
    """
    if kind == "random":
        model_id = RANDOM_AGENTS.get(task, "proxmo_bench.agents.random_agent:RandomAgent")
        module_name, _, class_name = model_id.partition(":")
        agent_class = getattr(importlib.import_module(module_name), class_name)
        info = AgentInfo(
            name="random",
            kind="random",
            model_id=model_id,
            revision=code_revision(),
            params={"seed": seed},
        )
        return agent_class(seed=seed), info
    if kind == "expert":
        if task not in EXPERTS:
            raise ValueError(f"no expert agent for {task}; experts exist for {sorted(EXPERTS)}")
        module_name, build = EXPERTS[task]
        mod = importlib.import_module(module_name)

        def factory(env: gymnasium.Env[str, str]) -> Any:
            return build(mod, env)

        info = AgentInfo(
            name="expert", kind="expert", model_id=module_name, revision=code_revision()
        )
        return factory, info
    raise ValueError(f"baseline kind must be 'random' or 'expert', got {kind!r}")


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
    family = task.split("/")[-1].split("-v")[0].lower()
    source = str(kwargs.get("source", "generated"))
    return write_submission(
        out_dir,
        suite=suite,
        name=name or f"{family}-{source}-{split}-{kind}".replace("_", "-"),
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


def _expert_and_random(
    suite: str,
    task: str,
    split: str,
    n_episodes: int | None,
    env_kwargs: dict[str, Any],
    stem: str,
) -> list[BaselineSpec]:
    """The expert (one run) and the random agent (three runs) in one setting, named
    ``<stem>-expert`` and ``<stem>-random``."""
    return [
        BaselineSpec(
            suite, task, kind, split, n_episodes, seeds, dict(env_kwargs), f"{stem}-{kind}"
        )
        for kind, seeds in (("expert", (0,)), ("random", (0, 1, 2)))
    ]


def _alfworld_baselines(
    setting: str, n_episodes: int | None, env_kwargs: dict[str, Any]
) -> list[BaselineSpec]:
    """Expert and random on ALFWorld's valid_unseen split in one setting."""
    return _expert_and_random(
        "alfworld",
        "proxmo/ALFWorld-v0",
        "valid_unseen",
        n_episodes,
        env_kwargs,
        f"alfworld-{setting}-valid-unseen",
    )


def _customer_service_baselines(suite: str, task: str, n_official: int) -> list[BaselineSpec]:
    """Expert and random on the generated test split (100 tasks) and the official test tasks.

    ``n_official`` is the size of tau-bench's test split: the env cannot list its task ids, so
    the whole split is drawn by resets (every task once).
    """
    return [
        spec
        for source, n in (("generated", 100), ("official", n_official))
        for spec in _expert_and_random(
            suite, task, "test", n, {"source": source}, f"{suite}-{source}-test"
        )
    ]


#: The baselines ``leaderboards/`` publishes (official-data entries need the data's env variable).
PUBLISHED_BASELINES: tuple[BaselineSpec, ...] = (
    *_expert_and_random("keyroom", "proxmo/KeyRoom-v0", "test", 100, {}, "keyroom"),
    # The step limit of the published light-agent runs (preset keyroom_light), for their table.
    *_expert_and_random(
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
    *_expert_and_random("webshop", "proxmo/WebShop-v0", "test", 100, {}, "webshop-generated-test"),
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
            log(
                f"skip {spec.name}: set {DATA_ENV_VARS.get(spec.task, 'the data variable')} to the official data"
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
