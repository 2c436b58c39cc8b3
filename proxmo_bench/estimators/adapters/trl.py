"""TRL adapter: our estimators as the advantages of TRL's ``GRPOTrainer``.

TRL has no advantage hook; :class:`EstimatorGRPOTrainer` (a ``GRPOTrainer`` subclass) replaces
the ``advantages`` that ``_generate_and_score_completions`` returns, and TRL's loss uses them
unchanged (it accepts (B,) per-completion or (B, T) per-token advantages). Two layouts:

- **Single-turn** (TRL's default): each completion is a one-step trajectory; its reward is TRL's
  weighted sum of the reward functions (``reward_weights``, as ``sum_then_normalize``); completions ``[k*G, (k+1)*G)`` (``G = num_generations``)
  answer prompt k and form one group. Unscorable completions (every reward function returned
  None) are left out of the groups and get advantage 0, as in TRL.
- **Multi-turn** (``rollout_func``): a completion is a whole episode, its agent turns separated by
  environment tokens (``env_mask`` 0). The ``rollout_func`` returns, besides TRL's keys, one list
  per completion under :data:`TURN_REWARDS` (the env reward of each turn) and optionally
  :data:`TURN_ANCHORS` (``info["anchor"]`` before each turn), :data:`TURN_VALID` (action
  validity) and :data:`WON`. Each turn is one step row; its advantage goes onto that turn's tokens
  (:func:`scatter_turn_advantages`). The reward functions then only feed TRL's logs
  (:func:`turn_reward_sum` logs the episode return).

Use::

    from proxmo_bench.estimators.adapters.trl import EstimatorGRPOTrainer  # imports TRL
    trainer = EstimatorGRPOTrainer(model=..., reward_funcs=..., args=GRPOConfig(...),
                                   train_dataset=..., estimator="rloo")
    # multi-turn: rollout_func=my_rollout (returning env_mask + turn_rewards, ...),
    #             reward_funcs=turn_reward_sum, estimator="proxmo"

``compat="trl"`` (GRPO only) reproduces TRL's own GRPO numbers: ``(r - mean) / (std + 1e-4)``
with TRL's epsilon :data:`TRL_EPSILON` (ours is 1e-6), unbiased std over the group's completions;
``scale_rewards="none"`` drops the division. TRL's ``scale_rewards="batch"`` is not offered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from proxmo_bench.estimators.batch import FloatArray, StepBatch
from proxmo_bench.estimators.episode import episode_advantage
from proxmo_bench.estimators.registry import get_estimator

if TYPE_CHECKING:
    import torch

#: TRL's epsilon in ``advantages / (std_rewards + 1e-4)`` (``GRPOTrainer``).
TRL_EPSILON = 1e-4
#: ``rollout_func`` extra fields (one list per completion) read in the multi-turn layout.
TURN_REWARDS = "turn_rewards"
TURN_ANCHORS = "turn_anchors"
TURN_VALID = "turn_valid"
WON = "won"


def group_ids_for_generations(n_completions: int, num_generations: int) -> np.ndarray:
    """TRL's layout: completions ``[k*num_generations, (k+1)*num_generations)`` share prompt k."""
    if num_generations <= 0 or n_completions % num_generations:
        raise ValueError(
            f"{n_completions} completions do not split into groups of num_generations={num_generations}"
        )
    return np.arange(n_completions) // num_generations


def _estimate(batch: StepBatch, estimator: str, params: Mapping[str, Any]) -> FloatArray:
    """(N,) advantages; ``compat="trl"`` is TRL's GRPO (module docstring)."""
    if params.get("compat") != "trl":
        return get_estimator(estimator, **params)(batch)
    if estimator != "grpo":
        raise ValueError(f"compat='trl' reproduces TRL's GRPO only, not {estimator!r}")
    norm = params.get("norm", "mean_std")
    return episode_advantage(batch, norm=norm, compat="paper", epsilon=TRL_EPSILON)


def trl_advantages(
    *,
    group_id: Sequence[Any] | np.ndarray,
    traj_id: Sequence[Any] | np.ndarray,
    step: Sequence[int] | np.ndarray,
    reward: Any,
    anchor: Sequence[str] | np.ndarray,
    won: Sequence[bool] | np.ndarray,
    action_valid: Sequence[bool] | np.ndarray | None = None,
    estimator: str = "proxmo",
    device: Any = None,
    **params: Any,
) -> Any:
    """(N,) float32 torch tensor of advantages, one per step row, in the given order.

    ``reward`` may be a torch tensor (as TRL's reward functions produce) or an array. ``params``
    go to the estimator; ``compat="trl"`` selects TRL's GRPO arithmetic (module docstring).
    """
    import torch

    if isinstance(reward, torch.Tensor):
        reward = reward.detach().cpu().numpy()
    anchors = np.empty(len(anchor), dtype=object)
    anchors[:] = list(anchor)
    batch = StepBatch(
        group_id=np.asarray(group_id),
        traj_id=np.asarray(traj_id),
        step=np.asarray(step),
        reward=np.asarray(reward, dtype=np.float64),
        anchor=anchors,
        won=np.asarray(won),
        action_valid=None if action_valid is None else np.asarray(action_valid),
    )
    adv = _estimate(batch, estimator, params)
    return torch.as_tensor(adv, dtype=torch.float32, device=device)


def completion_advantages(
    rewards: Any, num_generations: int, *, estimator: str = "grpo", **params: Any
) -> Any:
    """(B,) advantages of B single-turn completions from their (B,) rewards (TRL's layout).

    NaN rewards (unscorable completions) stay out of their group and get 0, as in TRL.
    """
    import torch

    r = torch.as_tensor(rewards).detach().cpu().double().numpy().reshape(-1)
    groups = group_ids_for_generations(len(r), num_generations)
    ok = np.isfinite(r)
    out = torch.zeros(len(r), dtype=torch.float32)
    if ok.any():
        idx = np.flatnonzero(ok)
        out[torch.as_tensor(idx)] = trl_advantages(
            group_id=groups[idx],
            traj_id=idx,
            step=np.zeros(len(idx), dtype=np.int64),
            reward=r[idx],
            anchor=[""] * len(idx),
            won=r[idx] > 0,
            estimator=estimator,
            **params,
        )
    return out.to(torch.as_tensor(rewards).device)


def turn_token_index(mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For a (B, T) 0/1 mask of model tokens: (B, T) 0-based turn index of every token (-1 where
    the mask is 0) and (B,) turns per row. A turn is a maximal run of 1s."""
    import torch

    m = mask.to(torch.int64) != 0
    starts = m & ~torch.nn.functional.pad(m, (1, 0))[:, :-1]
    run = torch.cumsum(starts.to(torch.int64), dim=1) - 1
    return torch.where(m, run, torch.full_like(run, -1)), starts.sum(dim=1)


def scatter_turn_advantages(turn_advantages: Sequence[Any], mask: torch.Tensor) -> torch.Tensor:
    """(B, T) float32 per-token advantages: turn k's advantage on the k-th run of 1s of ``mask``.

    Args:
        turn_advantages: B sequences (lists or arrays), one advantage per agent turn of that
            completion.
        mask: (B, T) model-token mask, e.g. TRL's ``completion_mask * tool_mask`` (``env_mask``
            from a ``rollout_func``): environment tokens 0 between turns, padding 0.

    Raises:
        ValueError: a row whose mask has another number of turns than advantages given (a row
            masked out entirely, e.g. a truncated completion, gets zeros).
    """
    import torch

    index, n_turns = turn_token_index(mask)
    if len(turn_advantages) != mask.shape[0]:
        raise ValueError(
            f"{len(turn_advantages)} completions' turns for a mask of {mask.shape[0]} rows"
        )
    k = max([len(a) for a in turn_advantages] + [1])
    table = torch.zeros(mask.shape[0], k, dtype=torch.float32, device=mask.device)
    for i, adv in enumerate(turn_advantages):
        turns = int(n_turns[i])
        if turns and turns != len(adv):
            raise ValueError(
                f"completion {i}: the mask has {turns} turns (runs of model tokens) but "
                f"{len(adv)} turn advantages were given; environment tokens (mask 0) must "
                "separate the turns"
            )
        table[i, : len(adv)] = torch.as_tensor(np.asarray(adv, dtype=np.float32))
    out = torch.gather(table, 1, index.clamp(min=0))
    return torch.where(index >= 0, out, torch.zeros_like(out))


def turn_reward_sum(completions: list[Any], **kwargs: Any) -> list[float]:
    """A TRL reward function logging each episode's return (the sum of its ``turn_rewards``)."""
    return [float(np.sum(r)) for r in kwargs[TURN_REWARDS]]


def episode_turn_advantages(
    episodes: Sequence[Mapping[str, Any]],
    num_generations: int,
    *,
    estimator: str = "proxmo",
    **params: Any,
) -> list[FloatArray]:
    """Per-turn advantages of B episodes (TRL's multi-turn layout), one array per episode.

    Each episode maps :data:`TURN_REWARDS` (and optionally :data:`TURN_ANCHORS`,
    :data:`TURN_VALID`, :data:`WON`) as a ``rollout_func`` returns them; episodes
    ``[k*G, (k+1)*G)`` form group k.
    """
    groups = group_ids_for_generations(len(episodes), num_generations)
    lengths = [len(ep[TURN_REWARDS]) for ep in episodes]
    if min(lengths, default=1) == 0:
        raise ValueError(f"episode {lengths.index(0)} has no turns ({TURN_REWARDS} is empty)")
    rows = np.repeat(np.arange(len(episodes)), lengths)
    reward = np.concatenate([np.asarray(ep[TURN_REWARDS], dtype=np.float64) for ep in episodes])
    anchors = [
        str(a)
        for ep, n in zip(episodes, lengths, strict=True)
        for a in ep.get(TURN_ANCHORS) or [""] * n
    ]
    has_valid = all(ep.get(TURN_VALID) is not None for ep in episodes)
    valid = (
        np.concatenate([np.asarray(ep[TURN_VALID], dtype=bool) for ep in episodes])
        if has_valid
        else None
    )
    won = [
        bool(ep[WON]) if ep.get(WON) is not None else float(np.sum(ep[TURN_REWARDS])) > 0
        for ep in episodes
    ]
    adv = trl_advantages(
        group_id=groups[rows],
        traj_id=rows,
        step=np.concatenate([np.arange(n) for n in lengths]),
        reward=reward,
        anchor=anchors,
        won=np.asarray(won)[rows],
        action_valid=valid,
        estimator=estimator,
        **params,
    ).numpy()
    return list(np.split(adv.astype(np.float64), np.cumsum(lengths)[:-1]))


def _trainer_class() -> type:
    from trl import GRPOTrainer

    return GRPOTrainer


def make_estimator_grpo_trainer() -> type:
    """:class:`EstimatorGRPOTrainer`, built on first use so that importing this module does not
    import TRL (the ``[integrations]`` extra)."""
    global _TRAINER
    if _TRAINER is not None:
        return _TRAINER
    from accelerate.utils import gather_object

    base = _trainer_class()

    class EstimatorGRPOTrainer(base):  # type: ignore[valid-type,misc]
        """``GRPOTrainer`` whose advantages come from a proxmo-bench estimator.

        Args (besides ``GRPOTrainer``'s):
            estimator: a registered estimator name (default ``"grpo"``).
            estimator_params: its parameters; ``{"compat": "trl"}`` for TRL's own GRPO numbers
                (then ``args.scale_rewards`` "group"/"none" picks the normalisation).
        """

        def __init__(
            self,
            *args: Any,
            estimator: str = "grpo",
            estimator_params: Mapping[str, Any] | None = None,
            **kwargs: Any,
        ) -> None:
            super().__init__(*args, **kwargs)
            params = dict(estimator_params or {})
            if params.get("compat") == "trl":
                if getattr(self, "multi_objective_aggregation", "sum_then_normalize") != (
                    "sum_then_normalize"
                ):
                    raise ValueError(
                        "compat='trl' reproduces multi_objective_aggregation='sum_then_normalize'"
                    )
                if self.scale_rewards == "batch":
                    raise ValueError(
                        "compat='trl' supports scale_rewards 'group' and 'none', not 'batch'"
                    )
                params.setdefault("norm", "mean" if self.scale_rewards == "none" else "mean_std")
            else:
                get_estimator(estimator, **params)  # fail at construction on bad parameters
            self.estimator_name = estimator
            self.estimator_params = params
            self._rewards_all: torch.Tensor | None = None

        def _calculate_rewards(self, inputs: Any, prompts: Any, completions: Any, ids: Any) -> Any:
            out = super()._calculate_rewards(inputs, prompts, completions, ids)
            self._rewards_all = out  # (all processes' completions, reward functions)
            return out

        def _generate_and_score_completions(self, inputs: list[dict[str, Any]]) -> dict[str, Any]:
            import torch

            out = super()._generate_and_score_completions(inputs)
            mode = "train" if self.model.training else "eval"
            g = self.num_generations if mode == "train" else self.num_generations_eval
            local = out["completion_ids"].shape[0]
            start = self.accelerator.process_index * local
            if TURN_REWARDS in inputs[0]:
                episodes = gather_object(
                    [
                        {k: x.get(k) for k in (TURN_REWARDS, TURN_ANCHORS, TURN_VALID, WON)}
                        for x in inputs
                    ]
                )
                turns = episode_turn_advantages(
                    episodes, g, estimator=self.estimator_name, **self.estimator_params
                )
                mask = out["completion_mask"]
                if "tool_mask" in out:
                    mask = mask * out["tool_mask"]
                adv = scatter_turn_advantages(turns[start : start + local], mask)
            else:
                rpf = self._rewards_all
                assert rpf is not None
                weights = self.reward_weights.to(rpf.device).unsqueeze(0)
                rewards = (rpf * weights).nansum(dim=1)
                rewards[torch.isnan(rpf).all(dim=1)] = torch.nan
                adv = completion_advantages(
                    rewards, g, estimator=self.estimator_name, **self.estimator_params
                )
                adv = adv[start : start + local]
            out["advantages"] = adv.to(out["completion_ids"].device)
            return out

    _TRAINER = EstimatorGRPOTrainer
    return _TRAINER


_TRAINER: type | None = None


def __getattr__(name: str) -> Any:
    # `from proxmo_bench.estimators.adapters.trl import EstimatorGRPOTrainer` imports TRL then.
    if name == "EstimatorGRPOTrainer":
        return make_estimator_grpo_trainer()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
