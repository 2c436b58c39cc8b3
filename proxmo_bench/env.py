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
from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, ClassVar, overload

import gymnasium
import gymnasium.spaces.utils
import numpy as np
from gymnasium.vector.utils import shared_memory
from numpy.typing import NDArray

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


def non_string_message(env_name: str, action: object) -> str:
    """The ``TypeError`` message of ``step`` given a non-string ``action`` (one line)."""
    shown = " ".join(repr(action).split())[:60]
    return (
        f"{env_name}.step takes a str action, got {type(action).__name__} ({shown}); "
        "actions are text: pass the string the agent wrote (e.g. an admissible action)"
    )


def too_long_message(length: int) -> str:
    """The observation for an action of ``length`` > :data:`MAX_ACTION_CHARS` characters."""
    return (
        f"Invalid action: it has {length} characters, more than the {MAX_ACTION_CHARS} an action "
        "may have. Nothing happens."
    )


_PRINTABLE = np.array(
    list(" abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789[]{}:,.\"'-_")
)

#: Code points a Python ``str`` can hold (U+0000 .. U+10FFFF, lone surrogates included).
UNICODE_SIZE = 0x110000


class AnyCharacter(AbstractSet[str]):
    """The set of every one-character string: :class:`TextSpace`'s charset.

    A virtual set (nothing is stored): its size is :data:`UNICODE_SIZE`, so gymnasium's ``Text``
    utilities pad a flattened text with ``UNICODE_SIZE`` and index characters by code point.
    """

    def __contains__(self, x: object) -> bool:
        return isinstance(x, str) and len(x) == 1

    def __len__(self) -> int:
        return UNICODE_SIZE

    def __iter__(self) -> Iterator[str]:
        return map(chr, range(UNICODE_SIZE))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AnyCharacter)

    def __hash__(self) -> int:
        return hash(AnyCharacter)

    def __repr__(self) -> str:
        return "AnyCharacter()"


class CodePoints(Sequence[str]):
    """Character ``i`` is ``chr(i)``: :class:`TextSpace`'s character list (virtual, nothing stored)."""

    def __len__(self) -> int:
        return UNICODE_SIZE

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [chr(i) for i in range(*index.indices(UNICODE_SIZE))]
        return chr(int(index))


class TextSpace(gymnasium.spaces.Text):
    """Any Python string of at most ``max_length`` characters (a gymnasium ``Text`` space).

    gymnasium's ``Text`` limits the characters to a charset; observations and actions here are free
    text (punctuation, newlines, any unicode, lone surrogates), so the charset is every character
    (:class:`AnyCharacter`, indexed by code point) and ``min_length`` is 0: ``contains`` accepts
    any ``str`` of at most ``max_length`` characters. gymnasium's space utilities work on it:
    ``flatten`` gives ``max_length`` ``int32`` code points padded with :data:`UNICODE_SIZE`
    (``FlattenObservation``), and async vector envs share observations through shared memory of
    ``max_length`` ``int32`` per env. ``sample()`` draws short random printable strings, which
    envs must treat as (usually invalid) actions.
    """

    def __init__(self, max_length: int = 1 << 20, seed: int | np.random.Generator | None = None):
        if isinstance(max_length, bool) or not isinstance(max_length, (int, np.integer)):
            raise TypeError(f"max_length must be an int, got {type(max_length).__name__}")
        if max_length <= 0:
            raise ValueError(f"max_length must be positive, got {max_length}")
        # Not Text.__init__: it builds per-character tables, and the charset here is all of unicode.
        gymnasium.spaces.Space.__init__(self, dtype=str, seed=seed)
        self.min_length = 0
        self.max_length = int(max_length)

    @property
    def character_set(self) -> frozenset[str]:
        return _ANY_CHARACTER  # type: ignore[return-value]  # a virtual set, as frozenset is read

    @property
    def character_list(self) -> tuple[str, ...]:
        return _CODE_POINTS  # type: ignore[return-value]  # a virtual sequence, as tuple is read

    def character_index(self, char: str) -> np.int32:
        return np.int32(ord(char))

    @property
    def characters(self) -> str:
        """The characters ``sample()`` draws from (every character is allowed)."""
        return "".join(_PRINTABLE.tolist())

    def sample(self, mask: Any = None, probability: Any = None) -> str:
        if mask is not None or probability is not None:
            raise ValueError(
                "TextSpace.sample takes no mask or probability (the charset is unicode)"
            )
        n = int(self.np_random.integers(0, min(32, self.max_length) + 1))
        return "".join(self.np_random.choice(_PRINTABLE, size=n).tolist())

    def contains(self, x: Any) -> bool:
        return isinstance(x, str) and len(x) <= self.max_length

    def __repr__(self) -> str:
        return f"TextSpace(max_length={self.max_length})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextSpace) and other.max_length == self.max_length

    def __hash__(self) -> int:
        return hash((TextSpace, self.max_length))


_ANY_CHARACTER = AnyCharacter()
_CODE_POINTS = CodePoints()


def _code_points(space: TextSpace, x: str) -> NDArray[np.int32]:
    """``x`` as ``max_length`` code points padded with :data:`UNICODE_SIZE` (Text's flat form)."""
    if len(x) > space.max_length:
        raise ValueError(f"{space} cannot hold a string of {len(x)} characters")
    out = np.full(space.max_length, UNICODE_SIZE, dtype=np.int32)
    out[: len(x)] = np.frombuffer(x.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    return out


def _from_code_points(values: NDArray[Any]) -> str:
    """The inverse of :func:`_code_points` (padding dropped)."""
    kept = np.asarray(values)
    kept = kept[kept < UNICODE_SIZE].astype("<u4")
    return kept.tobytes().decode("utf-32-le", "surrogatepass")


# gymnasium's Text implementations index a character table in a Python loop over all
# ``max_length`` entries (a megabyte-long loop per observation here); the same results, vectorised.
# (mypy cannot match TextSpace with the dispatchers' generic ``Space[T]``.)
@gymnasium.spaces.utils.flatten.register(TextSpace)
def _flatten_text_space(space: TextSpace, x: str) -> NDArray[np.int32]:  # type: ignore[misc]
    return _code_points(space, x)


@gymnasium.spaces.utils.unflatten.register(TextSpace)
def _unflatten_text_space(space: TextSpace, x: NDArray[np.int32]) -> str:  # type: ignore[misc]
    return _from_code_points(x)


@shared_memory.write_to_shared_memory.register(TextSpace)
def _write_text_space(space: TextSpace, index: int, value: str, memory: Any) -> None:
    size = space.max_length
    destination = np.frombuffer(memory.get_obj(), dtype=np.int32)
    destination[index * size : (index + 1) * size] = _code_points(space, value)


class SharedTexts(Sequence[str]):
    """``n`` strings living in a shared-memory buffer, decoded when read.

    ``AsyncVectorEnv(shared_memory=True)`` reads its observation buffer once, when it starts, and
    then returns that object after every step (``deepcopy`` of it by default): for array spaces it
    is a view, which the workers' writes update, but gymnasium's ``Text`` reader returns a tuple
    of the strings at start-up, so every later observation would be the first one. This view reads
    the buffer at each access, and a ``deepcopy`` is a plain ``tuple`` of the current strings.
    """

    def __init__(self, data: NDArray[np.int32]) -> None:
        self._data = data  # (n, max_length) view of the shared buffer

    def __len__(self) -> int:
        return int(self._data.shape[0])

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...
    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        if isinstance(index, slice):
            return tuple(_from_code_points(row) for row in self._data[index])
        return _from_code_points(self._data[index])

    def __deepcopy__(self, memo: dict[int, Any]) -> tuple[str, ...]:
        return tuple(self)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # its content changes

    def __repr__(self) -> str:
        return f"SharedTexts({tuple(self)!r})"


@shared_memory.read_from_shared_memory.register(TextSpace)
def _read_text_space(space: TextSpace, memory: Any, n: int = 1) -> SharedTexts:
    return SharedTexts(
        np.frombuffer(memory.get_obj(), dtype=np.int32).reshape((n, space.max_length))
    )


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
        # step() takes any str (a longer one is refused as invalid); the space names the bound.
        self.action_space = TextSpace(max_length=MAX_ACTION_CHARS)
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
        if not isinstance(action, str):
            # A programming error, not a move: an int or None is not text an agent wrote.
            raise TypeError(non_string_message(type(self).__name__, action))
        if self._episode_over:
            info = {**self._last_info, "action_valid": False}
            return (
                "The episode is over; call reset() to start a new one.",
                0.0,
                True,
                False,
                copy_info(info),
            )
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
        """``"ansi"``: the current state as text; ``"human"``: prints it, returns ``None``;
        ``render_mode=None`` (gymnasium's "no rendering"): ``None``."""
        if self.render_mode is None:
            return None
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
