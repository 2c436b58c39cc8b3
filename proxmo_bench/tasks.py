"""Task registry: one `TaskSpec` per task id, mirrored into gymnasium's registry.

Built-in families and third-party packages register the same way: a callable exposed in the
entry-point group ``proxmo_bench.tasks`` that calls :func:`register_task`. The group is loaded once,
the first time the registry is read (``import proxmo_bench`` does it), so ``gymnasium.make(id)``
works after ``import proxmo_bench``.
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import gymnasium

ENTRY_POINT_GROUP = "proxmo_bench.tasks"
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]+/[A-Za-z0-9_.\-]+-v\d+$")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
#: ``"package.module:attr"`` where ``attr`` may be dotted (``"Class.for_env"``).
_REFERENCE_PATTERN = re.compile(rf"^{_NAME}(?:\.{_NAME})*:{_NAME}(?:\.{_NAME})*$")

#: The random baseline of a task that registers none: uniform over ``info["admissible_actions"]``.
DEFAULT_RANDOM_AGENT = "proxmo_bench.agents.random_agent:RandomAgent"

#: A ``"module:attr"`` reference or the object itself (an agent class, a builder function).
Reference = str | Callable[..., Any]


@dataclass(frozen=True)
class TaskSpec:
    """The single description of a registered task.

    Attributes:
        id: ``"<namespace>/<Name>-v<N>"``, e.g. ``"proxmo/ALFWorld-v0"``.
        entry_point: ``"module.path:ClassName"`` or a callable returning a ``gymnasium.Env``.
        max_episode_steps: step limit; the episode is truncated after this many steps.
        splits: data splits the task accepts in ``reset(options={"split": ...})`` / ``make(split=...)``.
        categories: task categories reported in per-category tables (may be empty).
        reward_scale: reward given for a solved task (passed to the env as ``reward_scale``).
        description: one line shown by ``proxmo-bench tasks list``.
        kwargs: default constructor keyword arguments.
        source: who registered it (the entry point name, or ``"python"``).
        expert: the task's expert baseline: a ``"module:attr"`` reference (``attr`` may be dotted,
            e.g. ``"pkg.experts:MyExpert.for_env"``) or a callable; called with the
            ``gymnasium`` env, it returns a one-episode agent (``reset(obs, info)``,
            ``act(obs, info) -> str``). ``None``: the task has no expert.
        random_agent: the task's random baseline: a ``"module:attr"`` reference or a callable,
            called with ``seed=`` and returning an agent; ``None`` means
            :data:`DEFAULT_RANDOM_AGENT` (uniform over the admissible actions).
        data_env_var: the environment variable naming the task's official data folder (hashed
            into leaderboard manifests for ``source="official"``), or ``None``.
    """

    id: str
    entry_point: str | Callable[..., gymnasium.Env[Any, Any]]
    max_episode_steps: int
    splits: tuple[str, ...]
    categories: tuple[str, ...] = ()
    reward_scale: float = 1.0
    description: str = ""
    kwargs: dict[str, Any] = field(default_factory=dict)
    source: str = "python"
    expert: Reference | None = None
    random_agent: Reference | None = None
    data_env_var: str | None = None

    @property
    def random_agent_ref(self) -> Reference:
        """The random baseline's reference (:data:`DEFAULT_RANDOM_AGENT` when none is registered)."""
        return DEFAULT_RANDOM_AGENT if self.random_agent is None else self.random_agent

    def make_expert(self, env: gymnasium.Env[str, str]) -> Any:
        """The task's expert agent for ``env`` (one episode at a time).

        Raises:
            ValueError: the task registers no expert, or its reference does not resolve.
        """
        if self.expert is None:
            raise ValueError(
                f"task {self.id!r} registers no expert agent "
                "(register_task(..., expert='module:attr') gives it one)"
            )
        return resolve_reference(self.expert, task=self.id, what="expert")(env)

    def make_random_agent(self, seed: int | None) -> Any:
        """The task's random baseline agent, built with ``seed=seed``.

        Raises:
            ValueError: the registered reference does not resolve.
        """
        return resolve_reference(self.random_agent_ref, task=self.id, what="random_agent")(
            seed=seed
        )


def reference_name(ref: Reference) -> str:
    """``"module:attr"`` of a reference: the string itself, or where a callable is defined."""
    if isinstance(ref, str):
        return ref
    module = getattr(ref, "__module__", None) or "?"
    qualname = getattr(ref, "__qualname__", None) or getattr(ref, "__name__", None)
    return f"{module}:{qualname or type(ref).__name__}"


def resolve_reference(ref: Reference, *, task: str | None = None, what: str = "reference") -> Any:
    """The object a ``"module:attr"`` reference names (``attr`` may be dotted); a callable is
    returned as it is. Imports the module on first use.

    Raises:
        ValueError: the reference is malformed, its module does not import, or it has no such
            attribute; the message names the task (when given) and the reference.
    """
    if not isinstance(ref, str):
        if not callable(ref):
            raise ValueError(
                f"{_where(task, what)} must be 'module:attr' or a callable, got {ref!r}"
            )
        return ref
    if not _REFERENCE_PATTERN.match(ref):
        raise ValueError(
            f"{_where(task, what)} {ref!r} must look like 'package.module:attr' "
            "(attr may be dotted, e.g. 'pkg.experts:Expert.for_env')"
        )
    module_name, _, attr_path = ref.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(
            f"{_where(task, what)} {ref!r}: cannot import module {module_name!r} ({exc})"
        ) from exc
    for part in attr_path.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(
                f"{_where(task, what)} {ref!r}: {module_name!r} has no attribute {attr_path!r}"
            ) from None
    return obj


def _where(task: str | None, what: str) -> str:
    return f"task {task!r}: {what}" if task else what


def _check_reference(task: str, what: str, ref: Reference | None) -> None:
    """Registration-time check of a reference's form (it is imported only when used)."""
    if ref is None or callable(ref):
        return
    if not isinstance(ref, str) or not _REFERENCE_PATTERN.match(ref):
        raise ValueError(
            f"task {task!r}: {what} must be a callable or a 'package.module:attr' string "
            f"(attr may be dotted, e.g. 'pkg.experts:Expert.for_env'), got {ref!r}"
        )


_REGISTRY: dict[str, TaskSpec] = {}
_entry_points_loaded = False
_loading_source = "python"


def register_task(
    id: str,
    entry_point: str | Callable[..., gymnasium.Env[Any, Any]],
    *,
    max_episode_steps: int,
    splits: Sequence[str],
    categories: Sequence[str] | None = None,
    reward_scale: float = 1.0,
    description: str = "",
    expert: Reference | None = None,
    random_agent: Reference | None = None,
    data_env_var: str | None = None,
    **kwargs: Any,
) -> TaskSpec:
    """Register a task with proxmo-bench and with gymnasium.

    ``expert``, ``random_agent`` and ``data_env_var`` describe the task's baselines and official
    data (see :class:`TaskSpec`); references are checked for their form here and imported only
    when a baseline is built. Every other keyword is a default constructor argument of the env.

    Re-registering an id replaces the earlier spec (as gymnasium does), so a notebook can re-run
    its registration cell.

    Raises:
        ValueError: the id is not of the form ``namespace/Name-vN``, ``max_episode_steps`` is not
            positive, ``splits`` is empty, ``reward_scale`` is not a positive finite number,
            ``expert``/``random_agent`` is neither a callable nor a ``"module:attr"`` string, or
            ``data_env_var`` is not a valid environment variable name.
    """
    if not _ID_PATTERN.match(id):
        raise ValueError(
            f"task id {id!r} must look like 'namespace/Name-vN' (e.g. 'proxmo/ALFWorld-v0')"
        )
    if not isinstance(max_episode_steps, int) or max_episode_steps <= 0:
        raise ValueError(f"max_episode_steps must be a positive int, got {max_episode_steps!r}")
    splits_t = tuple(splits)
    if not splits_t:
        raise ValueError(f"task {id!r} needs at least one split (e.g. splits=['train', 'test'])")
    if not (reward_scale > 0 and reward_scale < float("inf")):
        raise ValueError(f"reward_scale must be a positive finite number, got {reward_scale!r}")
    _check_reference(id, "expert", expert)
    _check_reference(id, "random_agent", random_agent)
    if data_env_var is not None and not (
        isinstance(data_env_var, str) and data_env_var.isidentifier() and data_env_var.isascii()
    ):
        raise ValueError(
            f"task {id!r}: data_env_var must be an environment variable name such as "
            f"'MYTASK_DATA' (letters, digits, underscores), got {data_env_var!r}"
        )
    spec = TaskSpec(
        id=id,
        entry_point=entry_point,
        max_episode_steps=max_episode_steps,
        splits=splits_t,
        categories=tuple(categories or ()),
        reward_scale=float(reward_scale),
        description=description,
        kwargs=dict(kwargs),
        source=_loading_source,
        expert=expert,
        random_agent=random_agent,
        data_env_var=data_env_var,
    )
    _REGISTRY[id] = spec
    gym_kwargs = dict(kwargs)
    if _accepts_kwarg(entry_point, "reward_scale"):
        gym_kwargs.setdefault("reward_scale", float(reward_scale))
    if id in gymnasium.registry:
        del gymnasium.registry[id]
    gymnasium.register(
        id=id,
        entry_point=entry_point,
        max_episode_steps=max_episode_steps,
        kwargs=gym_kwargs,
        # Text spaces are not among the spaces gymnasium's passive checker knows; our own
        # conformance checks (proxmo_bench.conformance) cover the same ground and more.
        disable_env_checker=True,
    )
    return spec


def runtime_tasks() -> list[TaskSpec]:
    """Tasks registered from Python in this process (not through the entry-point group).

    Worker processes that do not inherit this process's memory (Ray actors, spawned processes)
    load entry-point tasks themselves; these they must be given (:func:`register_spec`).
    """
    return [s for s in _REGISTRY.values() if s.source == "python"]


def register_spec(spec: TaskSpec) -> None:
    """Register ``spec`` as it was registered elsewhere (e.g. in a backend's driver process)."""
    register_task(
        spec.id,
        spec.entry_point,
        max_episode_steps=spec.max_episode_steps,
        splits=spec.splits,
        categories=spec.categories,
        reward_scale=spec.reward_scale,
        description=spec.description,
        expert=spec.expert,
        random_agent=spec.random_agent,
        data_env_var=spec.data_env_var,
        **spec.kwargs,
    )


def _accepts_kwarg(entry_point: str | Callable[..., Any], name: str) -> bool:
    """Whether ``entry_point`` takes keyword ``name``; string entry points are assumed to."""
    if isinstance(entry_point, str):
        return True
    try:
        params = inspect.signature(entry_point).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def load_entry_points() -> None:
    """Load every ``proxmo_bench.tasks`` entry point once.

    A plugin that fails to load is reported with a warning naming it; the others still load.
    """
    global _entry_points_loaded, _loading_source
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        _loading_source = f"{ep.dist.name if ep.dist else '?'}:{ep.name}"
        try:
            register = ep.load()
            register()
        except Exception as exc:  # a broken plugin must not break the others
            warnings.warn(
                f"task plugin {ep.name!r} ({ep.value}) from entry-point group "
                f"{ENTRY_POINT_GROUP!r} failed to load: {exc!r}",
                RuntimeWarning,
                stacklevel=2,
            )
        finally:
            _loading_source = "python"


def list_tasks() -> list[TaskSpec]:
    """All registered tasks, sorted by id."""
    load_entry_points()
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_task_spec(id: str) -> TaskSpec:
    """The spec of a registered task.

    Raises:
        KeyError: the id is not registered; the message lists the registered ids.
    """
    load_entry_points()
    try:
        return _REGISTRY[id]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY)) or "(none)"
        raise KeyError(
            f"task {id!r} is not registered; registered: {known}; third-party tasks register "
            f"through the entry point group {ENTRY_POINT_GROUP!r}"
        ) from None


def make(id: str, **kwargs: Any) -> gymnasium.Env[str, str]:
    """Build a registered task as a ``gymnasium.Env`` (with its step limit applied).

    ``kwargs`` override the registered defaults (e.g. ``source=``, ``split=``).
    """
    spec = get_task_spec(id)
    split = kwargs.get("split")
    if split is not None and split not in spec.splits:
        raise ValueError(f"task {id!r} has splits {list(spec.splits)}; got split={split!r}")
    env: gymnasium.Env[str, str] = gymnasium.make(id, **kwargs)
    return env
