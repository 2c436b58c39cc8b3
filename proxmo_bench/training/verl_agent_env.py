"""verl-agent environment manager serving any registered proxmo task.

verl-agent's ``TrajectoryCollector`` (``agent_system/multi_turn_rollout/rollout_loop.py``) drives an
environment manager (``agent_system/environments/base.py``: ``EnvironmentManagerBase``) through::

    obs, infos = envs.reset(kwargs=...)            # obs: {'text', 'image', 'anchor'} of lists
    next_obs, rewards, dones, infos = envs.step(text_actions)
    envs.success_evaluator(total_infos=..., total_batch_list=...)

and reads ``infos[i]["is_action_valid"]`` (invalid-action penalty), ``infos[i]["won"]`` (success)
and ``obs["anchor"]`` (GiGPO / ProxMO anchor states, the observation without prompt decoration).
:class:`ProxmoEnvManager` is duck-typed to that interface (no verl import): ``env_num`` tasks, each
served to ``group_n`` copies reset with the same seed (verl-agent's group rollout), all batches in
env order ``[task 0 copy 0, ..., task 0 copy G-1, task 1 copy 0, ...]``.

Actions. The policy's text is projected by :func:`project_actions`: the content of the last
``<action>...</action>``, read by the LLM agent's own parser
(:func:`~proxmo_bench.agents.action_parsing.last_action_block`, linear in the text's length); an
untagged reply is passed whole and marked invalid. (The module sits in the training layer, which
may use both the agents and the tasks.) Any string goes to
the env (our envs never raise on an action); ``is_action_valid`` is the projection's verdict and
the env's ``info["action_valid"]``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium
import numpy as np

from proxmo_bench import tasks
from proxmo_bench.agents.action_parsing import last_action_block

#: ``(texts, admissible actions per env) -> (actions, valid flags)``, verl-agent's projection_f.
Projection = Callable[[Sequence[str], Sequence[Sequence[str] | None]], tuple[list[str], list[bool]]]

PROMPT = (
    "{instruction}\n\nObservation:\n{observation}\n{actions}"
    "Think step by step, then give your action inside <action> </action> tags."
)


def project_actions(
    texts: Sequence[str], admissible: Sequence[Sequence[str] | None] | None = None
) -> tuple[list[str], list[bool]]:
    """(actions, valid): the last ``<action>`` content of each text, stripped.

    A text without the tags is passed whole (stripped) and marked invalid; ``admissible`` is
    accepted for verl-agent's signature and not used (the env judges the action itself).
    """
    actions: list[str] = []
    valid: list[bool] = []
    for text in texts:
        block = last_action_block(text)
        actions.append((text if block is None else block).strip())
        valid.append(block is not None and bool(block.strip()))
    return actions, valid


class ProxmoEnvManager:
    """verl-agent ``EnvironmentManagerBase`` look-alike over ``proxmo_bench.tasks.make(task_id)``.

    Args:
        task_id: a registered task, e.g. ``"proxmo/KeyRoom-v0"``.
        env_num: distinct tasks per batch (verl-agent's ``data.train_batch_size``).
        group_n: copies of each task (verl-agent's ``env.rollout.n``, the group size G).
        seed: seed of task 0 at the first reset; task ``k`` of reset ``r`` gets
            ``seed + r * env_num + k`` (each reset draws new tasks, copies share one).
        projection_f: text -> action projection, :func:`project_actions` by default.
        env_kwargs: keyword arguments for :func:`proxmo_bench.tasks.make`.

    Raises:
        ValueError: ``env_num`` or ``group_n`` below 1.
    """

    def __init__(
        self,
        task_id: str,
        *,
        env_num: int,
        group_n: int = 1,
        seed: int = 0,
        projection_f: Projection = project_actions,
        env_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if env_num < 1 or group_n < 1:
            raise ValueError(f"env_num and group_n must be >= 1, got {env_num} and {group_n}")
        self.task_id = task_id
        self.env_num = env_num
        self.group_n = group_n
        self.seed = seed
        self.projection_f = projection_f
        self.envs: list[gymnasium.Env[str, str]] = [
            tasks.make(task_id, **dict(env_kwargs or {})) for _ in range(env_num * group_n)
        ]
        self._resets = 0
        self._done = np.zeros(len(self.envs), dtype=bool)
        self._obs: list[str] = [""] * len(self.envs)
        self._infos: list[dict[str, Any]] = [{} for _ in self.envs]

    def __len__(self) -> int:
        return len(self.envs)

    def task_seeds(self) -> np.ndarray:
        """(env_num * group_n,) the seed each env was (or will be) reset with at the last reset."""
        r = max(self._resets - 1, 0)
        return self.seed + r * self.env_num + np.arange(len(self.envs)) // self.group_n

    def reset(self, kwargs: Any = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Reset every env (copies of a task with one seed); ``kwargs`` is ignored, as ALFWorld's
        manager does. Returns ``({'text', 'image': None, 'anchor'}, infos)``."""
        self._resets += 1
        for i, (env, s) in enumerate(zip(self.envs, self.task_seeds(), strict=True)):
            obs, info = env.reset(seed=int(s))
            self._obs[i], self._infos[i] = obs, self._verl_info(info, valid=True)
        self._done[:] = False
        return self._observations(), [dict(x) for x in self._infos]

    def step(
        self, text_actions: Sequence[str]
    ) -> tuple[dict[str, Any], np.ndarray, np.ndarray, list[dict[str, Any]]]:
        """One step of every env. Envs already done stay as they are (reward 0, done True).

        Returns ``(next_obs, rewards (B,) float32, dones (B,) bool, infos)``.

        Raises:
            ValueError: not one action per env.
        """
        if len(text_actions) != len(self.envs):
            raise ValueError(f"got {len(text_actions)} actions for {len(self.envs)} envs")
        admissible = [x.get("admissible_actions") for x in self._infos]
        actions, valids = self.projection_f(list(text_actions), admissible)
        rewards = np.zeros(len(self.envs), dtype=np.float32)
        for i, env in enumerate(self.envs):
            if self._done[i]:
                continue
            obs, r, terminated, truncated, info = env.step(actions[i])
            rewards[i] = r
            self._obs[i] = obs
            self._infos[i] = self._verl_info(info, valid=valids[i])
            self._done[i] = terminated or truncated
        return self._observations(), rewards, self._done.copy(), [dict(x) for x in self._infos]

    @staticmethod
    def _verl_info(info: Mapping[str, Any], *, valid: bool) -> dict[str, Any]:
        out = dict(info)
        out["is_action_valid"] = bool(valid and info.get("action_valid", True))
        out["won"] = bool(info.get("won", False))
        out["admissible_actions"] = list(info.get("admissible_actions") or [])
        return out

    def build_text_obs(self) -> list[str]:
        """The prompt text of every env: instruction, observation, admissible actions."""
        texts = []
        for obs, info in zip(self._obs, self._infos, strict=True):
            adm = info.get("admissible_actions") or []
            listed = "".join(f"  {a}\n" for a in adm)
            texts.append(
                PROMPT.format(
                    instruction=info.get("instruction", ""),
                    observation=obs,
                    actions=f"Admissible actions:\n{listed}" if adm else "",
                )
            )
        return texts

    def _observations(self) -> dict[str, Any]:
        anchors = [str(x.get("anchor", o)) for o, x in zip(self._obs, self._infos, strict=True)]
        return {"text": self.build_text_obs(), "image": None, "anchor": anchors}

    def success_evaluator(self, *args: Any, **kwargs: Any) -> dict[str, np.ndarray]:
        """``{'success_rate': (bs,)}``: ``won`` of each trajectory's last active step, as
        verl-agent's default (``kwargs``: ``total_infos``, ``total_batch_list``)."""
        total_infos, total_batch = kwargs["total_infos"], kwargs["total_batch_list"]
        success = []
        for infos, items in zip(total_infos, total_batch, strict=True):
            last = [i for i, item in enumerate(items) if item["active_masks"]]
            success.append(float(infos[last[-1]]["won"]) if last else 0.0)
        return {"success_rate": np.array(success)}

    def close(self) -> None:
        for env in self.envs:
            env.close()
