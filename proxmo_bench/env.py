"""`TextEnv`: the base class of every proxmo-bench task, and the text spaces it uses.

The base class owns what every task must get right the same way (ARCHITECTURE section 2):
seeding from the env's own RNG, the ``info`` contract, "any string is an action", behaviour after
the episode ended, and rendering. A family implements two methods:

- ``_reset(options) -> (obs, info)``: choose and set up a task instance using ``self.np_random``
  (already seeded) and ``options`` (``task_id``/``split``).
- ``_step(action) -> (obs, reward, terminated, info)``: apply one action string. An action the env
  cannot use must not raise: return ``info["action_valid"] = False`` and an observation that says so.
  ``_step`` only sees actions of at most :data:`MAX_ACTION_CHARS` characters (``step`` refuses
  longer ones as invalid, state unchanged); its parsing must take time linear in the length.

and, where it can, ``task_ids(split)``: the task ids of a split in a stable order (evaluation draws
its episodes from this list; :func:`list_task_ids` reads it from a possibly wrapped env).
"""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar

import gymnasium
import numpy as np

# Keys and types every info dict carries (ARCHITECTURE section 2).
INFO_TYPES: dict[str, type | tuple[type, ...]] = {
    "task_id": str,
    "task_category": str,
    "instruction": str,
    "admissible_actions": (list, type(None)),
    "anchor": str,
    "action_valid": bool,
    "won": bool,
    "score": (float, int),
}

#: Longest action string (in characters) an env reads. ``TextEnv.step`` refuses a longer one as an
#: invalid action before the family sees it, so every parser's cost is bounded (a policy's
#: answer is a few hundred tokens; 64 Ki characters leaves room for long tool calls).
MAX_ACTION_CHARS = 65_536


def too_long_message(length: int) -> str:
    """The observation for an action of ``length`` > :data:`MAX_ACTION_CHARS` characters."""
    return (
        f"Invalid action: it has {length} characters, more than the {MAX_ACTION_CHARS} an action "
        "may have. Nothing happens."
    )


_PRINTABLE = np.array(
    list(" abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789[]{}:,.\"'-_")
)


class TextSpace(gymnasium.spaces.Space[str]):
    """Any Python string of at most ``max_length`` characters.

    gymnasium's ``Text`` space limits the characters to a fixed charset; observations and actions
    here are free text (punctuation, newlines, unicode), so this space accepts any ``str``.
    ``sample()`` draws short random strings, which envs must treat as (usually invalid) actions.
    """

    def __init__(self, max_length: int = 1 << 20, seed: int | np.random.Generator | None = None):
        if max_length <= 0:
            raise ValueError(f"max_length must be positive, got {max_length}")
        self.max_length = int(max_length)
        super().__init__(shape=None, dtype=None, seed=seed)

    @property
    def is_np_flattenable(self) -> bool:
        return False

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        n = int(self.np_random.integers(0, min(32, self.max_length) + 1))
        return "".join(self.np_random.choice(_PRINTABLE, size=n).tolist())

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"TextSpace(max_length={self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextSpace) and other.max_length == self.max_length


def check_info(info: dict[str, Any], where: str = "info") -> None:
    """Raise ``TypeError`` naming the first key of the info contract that is missing or mistyped."""
    if not isinstance(info, dict):
        raise TypeError(f"{where} must be a dict, got {type(info).__name__}")
    for key, typ in INFO_TYPES.items():
        if key not in info:
            raise TypeError(f"{where} is missing the contract key {key!r}")
        value = info[key]
        if key == "score" and isinstance(value, bool):
            raise TypeError(f"{where}[{key!r}] must be a float in [0, 1], got bool")
        if not isinstance(value, typ):
            raise TypeError(
                f"{where}[{key!r}] must be {typ}, got {type(value).__name__}: {value!r:.80}"
            )
    score = float(info["score"])
    if not (0.0 <= score <= 1.0) or math.isnan(score):
        raise TypeError(f"{where}['score'] must be in [0, 1], got {score}")
    adm = info["admissible_actions"]
    if adm is not None and not all(isinstance(a, str) for a in adm):
        raise TypeError(f"{where}['admissible_actions'] must hold strings only")


_IMMUTABLE = (str, int, float, bool, type(None), bytes)


def copy_info(value: Any) -> Any:
    """A deep copy of an info value, fast for what infos hold (str, numbers, lists, dicts).

    Strings, numbers, ``None`` and tuples of them are shared (they cannot change); lists, dicts
    and tuples holding anything else are copied level by level; any other object goes through
    ``copy.deepcopy``. So the caller may change what it gets without reaching the env's state.
    """
    if isinstance(value, _IMMUTABLE):
        return value
    if isinstance(value, dict):
        return {k: v if isinstance(v, _IMMUTABLE) else copy_info(v) for k, v in value.items()}
    if isinstance(value, list):
        return [v if isinstance(v, _IMMUTABLE) else copy_info(v) for v in value]
    if isinstance(value, tuple):
        if all(isinstance(v, _IMMUTABLE) for v in value):
            return value
        return tuple(copy_info(v) for v in value)
    return copy.deepcopy(value)


class TextEnv(gymnasium.Env[str, str]):
    """Base class for multi-turn text tasks with the proxmo-bench info contract.

    Args:
        split: data split to draw tasks from (one of ``self.splits``).
        reward_scale: reward for solving the task (registered per task; ALFWorld/WebShop use 10).
        render_mode: ``"ansi"`` (``render()`` returns the current text) or ``"human"`` (prints it).
    """

    metadata: dict[str, Any] = {"render_modes": ["ansi", "human"]}  # noqa: RUF012 (gymnasium declares it per instance)
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    #: Version of the env's dynamics; recorded in episode records (bump on any behaviour change).
    env_version: str = "0"

    def __init__(
        self,
        *,
        split: str = "train",
        reward_scale: float = 1.0,
        render_mode: str | None = None,
    ) -> None:
        if split not in self.splits:
            raise ValueError(
                f"{type(self).__name__}: split must be one of {list(self.splits)}, got {split!r}"
            )
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}"
            )
        if not (reward_scale > 0 and math.isfinite(reward_scale)):
            raise ValueError(f"reward_scale must be a positive finite number, got {reward_scale!r}")
        self.split = split
        self.reward_scale = float(reward_scale)
        self.render_mode = render_mode
        self.observation_space = TextSpace()
        self.action_space = TextSpace()
        self._last_obs: str | None = None
        self._last_info: dict[str, Any] | None = None
        self._episode_over = False

    # ---- to implement ------------------------------------------------------------------------
    def _reset(self, options: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        raise NotImplementedError

    def _step(self, action: str) -> tuple[str, float, bool, dict[str, Any]]:
        raise NotImplementedError

    # ---- gymnasium API -----------------------------------------------------------------------
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - self.reset_options()
        if unknown:
            raise ValueError(
                f"{type(self).__name__}.reset got unknown options {sorted(unknown)}; "
                f"accepted: {sorted(self.reset_options())}"
            )
        split = options.get("split", self.split)
        if split not in self.splits:
            raise ValueError(f"split must be one of {list(self.splits)}, got {split!r}")
        options["split"] = split
        obs, info = self._reset(options)
        info = {"action_valid": True, "won": False, "score": 0.0, **info}
        check_info(info, f"{type(self).__name__}.reset info")
        self._last_obs, self._last_info, self._episode_over = obs, info, False
        if self.render_mode == "human":
            self.render()
        return obs, copy_info(info)

    def copy_is_exact(self) -> bool:
        """Whether ``copy.deepcopy`` of this env, reset or part-way through an episode, plays on
        exactly as the original would (same observations, rewards, infos for the same actions)
        without touching it. The oracle then forks a state by copying instead of replaying its
        prefix. ``False`` unless a family has checked it (tests compare copies with replays)."""
        return False

    #: How evaluation draws a given number of held-out episodes: ``"task_list"`` (a seeded
    #: permutation of :meth:`task_ids`) or ``"resets"`` (the distinct tasks that seeded resets
    #: ``seed, seed+1, ...`` pick). A family keeps the rule its published tables were drawn with,
    #: so new results stay paired with them; a whole split (``n=None``) always uses the list.
    eval_draw: ClassVar[str] = "task_list"

    def task_ids(self, split: str) -> list[str]:
        """The task ids of ``split`` that a seeded ``reset`` draws from, in a stable order.

        Each one is accepted back by ``reset(options={"task_id": ...})``, which then reports it
        as ``info["task_id"]``. Families that can enumerate their tasks override this (an env
        restricted to some categories lists only those); evaluation then draws its episodes from
        the list instead of probing resets.

        Raises:
            NotImplementedError: the family cannot enumerate its tasks (the base class).
            ValueError: ``split`` is not one of the env's splits.
        """
        raise NotImplementedError(
            f"{type(self).__name__} cannot list its task ids (it does not implement "
            "TextEnv.task_ids); evaluation draws its tasks by seeded resets instead"
        )

    def _check_split(self, split: str) -> None:
        """Raise ``ValueError`` unless ``split`` is one of ``self.splits``."""
        if split not in self.splits:
            raise ValueError(
                f"{type(self).__name__}: split must be one of {list(self.splits)}, got {split!r}"
            )

    def reset_options(self) -> set[str]:
        """Option keys ``reset`` accepts; families may extend."""
        return {"task_id", "split"}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if self._last_info is None or self._last_obs is None:
            raise RuntimeError(f"{type(self).__name__}: call reset() before step()")
        if self._episode_over:
            info = {**self._last_info, "action_valid": False}
            return (
                "The episode is over; call reset() to start a new one.",
                0.0,
                True,
                False,
                copy_info(info),
            )
        if not isinstance(action, str):
            info = {**self._last_info, "action_valid": False}
            obs = f"Actions must be strings; got {type(action).__name__}. Nothing happens."
            self._last_obs, self._last_info = obs, info
            return obs, 0.0, False, False, copy_info(info)
        if len(action) > MAX_ACTION_CHARS:
            info = {**self._last_info, "action_valid": False}
            obs = too_long_message(len(action))
            self._last_obs, self._last_info = obs, info
            return obs, 0.0, False, False, copy_info(info)
        obs, reward, terminated, info = self._step(action)
        info = {**self._last_info, "action_valid": True, **info}
        check_info(info, f"{type(self).__name__}.step info")
        reward = float(reward)
        if not math.isfinite(reward):
            raise RuntimeError(f"{type(self).__name__} produced a non-finite reward {reward}")
        self._last_obs, self._last_info, self._episode_over = obs, info, bool(terminated)
        if self.render_mode == "human":
            self.render()
        return obs, reward, bool(terminated), False, copy_info(info)

    def render(self) -> str | None:
        text = self.render_text()
        if self.render_mode == "human":
            print(text)
            return None
        return text

    def render_text(self) -> str:
        """The current state as a person reads it: instruction, observation, actions."""
        if self._last_info is None or self._last_obs is None:
            return "(call reset() first)"
        lines = [f"Task: {self._last_info['instruction']}", "", self._last_obs]
        adm = self._last_info.get("admissible_actions")
        if adm:
            lines += ["", "Actions: " + " | ".join(adm)]
        return "\n".join(lines)


def list_task_ids(env: gymnasium.Env[Any, Any], split: str) -> list[str] | None:
    """The task ids of ``split`` that ``env`` (wrapped or not) lists, or ``None`` when it cannot.

    ``None`` means the unwrapped env is not a :class:`TextEnv`, or its family does not implement
    :meth:`TextEnv.task_ids`. Any other error (an unknown split, missing data) propagates.
    """
    base = getattr(env, "unwrapped", env)
    if not isinstance(base, TextEnv):
        return None
    try:
        ids = base.task_ids(split)
    except NotImplementedError:
        return None
    return [str(t) for t in ids]
