"""verl / verl-agent adapter: our estimators on a verl ``DataProto``, wherever the trainer calls them.

Layout read (verl-agent's ``TrajectoryCollector``, also ProxMO-RL's): one row per agent step;
``non_tensor_batch`` holds ``uid`` (task group), ``traj_uid`` (trajectory), ``rewards`` (the env
reward of the step), ``anchor_obs`` (anchor text), ``is_action_valid`` and ``episode_rewards``;
``batch`` holds ``token_level_rewards`` (bs, response_length), ``response_mask`` or
``attention_mask`` + ``responses``. Plain verl (single-turn) has only ``uid`` and the token tensors:
then each row is a one-step trajectory whose reward is ``token_level_rewards.sum(-1)``.

Row order. verl's ``RayPPOTrainer._balance_batch`` reorders rows across ranks and verl-agent's
``adjust_batch(mode="copy")`` appends copies of random rows, both before the advantage is computed.
A row's step therefore cannot come from its position: call :func:`add_step_index` right after the
rollout (before ``adjust_batch`` and ``_balance_batch``). It writes ``non_tensor_batch["step"]``,
which ``DataProto.reorder``/``select_idxs``/``concat``/padding carry along with the row. Without
that column, steps are taken from row positions and the rows of each trajectory must still be
contiguous (a batch where they are not raises); a reordering that keeps them contiguous but swaps
them cannot be detected, so add the column.

Duplicated rows. The official code (verl-agent ``core_gigpo``, ProxMO-RL ``core_proxmo``) computes
each row's discounted step return *before* ``adjust_batch``, so a copy carries its original's return,
and then treats every row, copies included, as one sample: a copy enters its group's episode
mean/std, PSC's success rate and its anchor group once more. Here a ``(trajectory, step)`` is counted
once, and every copy receives its original's advantage: the copies are a padding artefact (random
rows chosen to make the batch divisible by the data-parallel size), and counting them would make the
advantages depend on that random choice. Without copies the numbers equal the official ones
(``compat="reference"``: ProxMO-RL's ``compute_proxmo_outcome_advantage``, soft grouping + PSC, to
4e-6 on 56-row batches); with 4-7 copies in such a batch the official advantages of the original
rows move by up to 1.6 (soft grouping gives a copy's return extra weight in its own baseline).

Rewards and penalties. Where ``token_level_rewards`` is present (the trainer has applied its
invalid-action penalty there, verl-agent's ``apply_invalid_action_penalty``), each row's penalty is
read from it: ``d = episode reward - token_level_rewards.sum(-1)``. ``compat="paper"`` subtracts
``d`` from that step's reward. ``compat="reference"`` needs ``d`` to be one coefficient on invalid
rows and 0 on valid ones (as the official trainer makes it) and passes it as ``invalid_penalty``;
anything else (KL in the reward, length-normalised episode rewards) raises.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from proxmo_bench.estimators.batch import IntArray, StepBatch, factorize
from proxmo_bench.estimators.registry import (
    estimator_params,
    get_estimator,
    list_estimators,
    required_fields,
)

#: ``non_tensor_batch`` column :func:`add_step_index` writes and the adapter reads.
STEP_KEY = "step"
#: Prefix of the names :func:`register_verl_estimators` gives in verl's registry.
VERL_NAME_PREFIX = "proxmo_bench_"
#: Fields verl's ``register_adv_est`` hook can supply (it passes only token rewards, mask, uid).
_SINGLE_TURN_FIELDS = frozenset({"group_id", "traj_id", "step", "reward", "won"})
#: |d| below this (plus 1e-6 relative) counts as no penalty: float32 token sums round.
_PENALTY_ATOL = 1e-4


def add_step_index(data: Any, *, key: str = STEP_KEY) -> Any:
    """Write each row's 0-based step, its position among its trajectory's rows, to
    ``data.non_tensor_batch[key]`` (int64, (bs,)). Returns ``data``.

    Call it on the batch as the rollout produced it (verl-agent: right after
    ``traj_collector.multi_turn_loop``), before ``adjust_batch`` and ``_balance_batch``.

    Raises:
        ValueError: ``non_tensor_batch`` lacks ``traj_uid``.
    """
    nt = data.non_tensor_batch
    if "traj_uid" not in nt:
        raise ValueError("add_step_index needs non_tensor_batch['traj_uid'] (the trajectory ids)")
    nt[key] = _positions(factorize(np.asarray(nt["traj_uid"]), "traj_uid")[0])
    return data


def _positions(traj: IntArray) -> IntArray:
    """(N,) position of each row among the rows with the same code, in row order."""
    order = np.argsort(traj, kind="stable")
    start = np.searchsorted(traj[order], traj[order], side="left")
    pos = np.empty(len(traj), dtype=np.int64)
    pos[order] = np.arange(len(traj)) - start
    return pos


@dataclass(frozen=True)
class VerlSteps:
    """A verl batch as estimator input.

    Attributes:
        batch: one row per distinct ``(trajectory, step)``, in order of first appearance.
        row: (bs,) the :attr:`batch` row of each ``DataProto`` row (copies share one).
        invalid_penalty: the penalty coefficient read from ``token_level_rewards``
            (``compat="reference"``), or None where it was not read from there.
        penalty_in_rewards: True when :attr:`batch`'s rewards already hold the trainer's
            penalties (read from ``token_level_rewards``): pass no ``invalid_penalty`` then.
    """

    batch: StepBatch
    row: IntArray
    invalid_penalty: float | None
    penalty_in_rewards: bool


def _has(tensors: Any, key: str) -> bool:
    # TensorDict refuses `key in td` (ambiguous with nested keys); its keys() view answers.
    return key in tensors.keys()  # noqa: SIM118


def response_mask_of(data: Any) -> Any:
    """(bs, response_length) ``response_mask``; derived as verl does (the response part of
    ``attention_mask``) when the batch lacks it."""
    tensors = data.batch
    if _has(tensors, "response_mask"):
        return tensors["response_mask"]
    if not (_has(tensors, "attention_mask") and _has(tensors, "responses")):
        raise ValueError(
            "verl batch has no response_mask and no attention_mask + responses to derive it from"
        )
    length = tensors["responses"].shape[-1]
    return tensors["attention_mask"][:, -length:]


def verl_steps(
    data: Any,
    *,
    compat: str = "paper",
    invalid_penalty: float | None = None,
    won_key: str = "won",
    step_key: str = STEP_KEY,
) -> VerlSteps:
    """Read a verl ``DataProto`` (anything with ``batch``/``non_tensor_batch``) as step rows.

    Args:
        compat: how a penalty found in ``token_level_rewards`` is passed on (module docstring).
        invalid_penalty: the coefficient the caller expects; without ``token_level_rewards`` it is
            the penalty, with them it must agree with what they hold (else ValueError).
        won_key: ``non_tensor_batch`` column of the trajectory's success; without it a trajectory
            won when its env reward sum is positive.
        step_key: ``non_tensor_batch`` column of step indices (see :func:`add_step_index`).

    Raises:
        ValueError: missing columns, interleaved trajectories without a step column, copies of a
            ``(trajectory, step)`` that disagree, or penalties ``compat="reference"`` cannot express.
    """
    nt, tensors = data.non_tensor_batch, data.batch
    if "uid" not in nt:
        raise ValueError("verl batch lacks non_tensor_batch key 'uid' (the task group of each row)")
    n = len(nt["uid"])
    token_sum = None
    if _has(tensors, "token_level_rewards"):
        token_sum = tensors["token_level_rewards"].sum(-1).detach().cpu().double().numpy()
    multi_turn = "rewards" in nt or "traj_uid" in nt
    if multi_turn:
        missing = [k for k in ("traj_uid", "rewards") if k not in nt]
        if missing:
            raise ValueError(f"verl batch lacks non_tensor_batch keys {missing}")
        traj = factorize(np.asarray(nt["traj_uid"]), "traj_uid")[0]
        reward = np.asarray(nt["rewards"], dtype=np.float64).reshape(-1)
    elif token_sum is not None:
        if invalid_penalty:
            raise ValueError(
                "single-turn verl batch: the reward is token_level_rewards.sum(-1), where the "
                "trainer's penalties already are; drop invalid_penalty"
            )
        traj = np.arange(n, dtype=np.int64)
        reward = token_sum
        token_sum = None  # single-turn: the penalty is part of the reward itself
    else:
        raise ValueError(
            "verl batch has neither non_tensor_batch 'traj_uid' + 'rewards' (multi-turn) nor "
            "batch 'token_level_rewards' (single-turn)"
        )
    if step_key in nt:
        step = np.asarray(nt[step_key]).astype(np.int64).reshape(-1)
    else:
        _check_contiguous(traj, nt.get("traj_uid"))
        step = _positions(traj)

    key = traj * (int(step.max(initial=0)) + 1) + step
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    by_first = np.argsort(first, kind="stable")
    rank = np.empty(len(first), dtype=np.int64)
    rank[by_first] = np.arange(len(first))
    row = rank[inverse.reshape(-1)]
    keep = first[by_first]  # the first row of each (trajectory, step), in batch order
    _check_copies_agree(row, keep, reward, "rewards")

    valid = nt.get("is_action_valid")
    valid_arr = None if valid is None else np.asarray(valid).astype(bool).reshape(-1)
    group = np.asarray(nt["uid"])
    traj_sum = np.bincount(traj[keep], weights=reward[keep], minlength=int(traj.max()) + 1)
    read_penalty = None
    in_rewards = not multi_turn
    step_reward = reward[keep]
    if token_sum is not None:
        _check_copies_agree(row, keep, token_sum, "token_level_rewards")
        # The episode reward the reward manager wrote into the tokens.
        episode = nt.get("episode_rewards")
        base: np.ndarray = (
            traj_sum[traj] if episode is None else np.asarray(episode, dtype=np.float64).reshape(-1)
        )
        d = (base - token_sum)[keep]
        tol = _PENALTY_ATOL + 1e-6 * np.abs(base[keep])
        if compat == "reference":
            read_penalty = _penalty_coefficient(d, tol, valid_arr, keep, invalid_penalty)
        else:
            step_reward = step_reward - np.where(np.abs(d) <= tol, 0.0, d)
            in_rewards = True
            _check_expected(invalid_penalty, d, tol, valid_arr, keep)
    if won_key in nt:
        won = np.asarray(nt[won_key]).astype(bool).reshape(-1)[keep]
    else:
        won = traj_sum[traj[keep]] > 0
    anchor = nt.get("anchor_obs")
    anchors = np.empty(len(keep), dtype=object)
    anchors[:] = (
        [""] * len(keep) if anchor is None else list(np.asarray(anchor, dtype=object)[keep])
    )
    batch = StepBatch(
        group_id=group[keep],
        traj_id=traj[keep],
        step=step[keep],
        reward=step_reward,
        anchor=anchors,
        won=won,
        action_valid=None if valid_arr is None else valid_arr[keep],
    )
    return VerlSteps(
        batch=batch, row=row, invalid_penalty=read_penalty, penalty_in_rewards=in_rewards
    )


def step_batch_from_verl(data: Any, **kwargs: Any) -> StepBatch:
    """The :class:`StepBatch` of :func:`verl_steps` (one row per distinct (trajectory, step))."""
    return verl_steps(data, **kwargs).batch


def _check_contiguous(traj: IntArray, ids: Any) -> None:
    starts = np.flatnonzero(np.r_[True, traj[1:] != traj[:-1]])
    if len(starts) != len(np.unique(traj)):
        runs = np.bincount(traj[starts])
        bad = int(np.flatnonzero(runs > 1)[0])
        name = np.asarray(ids)[int(np.flatnonzero(traj == bad)[0])] if ids is not None else bad
        raise ValueError(
            f"trajectory {name!r} has rows in several places and the batch has no "
            f"non_tensor_batch[{STEP_KEY!r}]: rows were reordered or copied (verl's _balance_batch, "
            "verl-agent's adjust_batch); call add_step_index(batch) right after the rollout"
        )


def _check_copies_agree(row: IntArray, keep: IntArray, values: np.ndarray, what: str) -> None:
    if not np.allclose(values, values[keep][row], rtol=1e-6, atol=1e-6):
        i = int(np.flatnonzero(~np.isclose(values, values[keep][row], rtol=1e-6, atol=1e-6))[0])
        raise ValueError(
            f"rows {int(keep[row[i]])} and {i} have the same (traj_uid, step) but different {what}: "
            "the step column is wrong (rows copied from another trajectory or step?)"
        )


def _penalty_coefficient(
    d: np.ndarray,
    tol: np.ndarray,
    valid: np.ndarray | None,
    keep: IntArray,
    expected: float | None,
) -> float:
    """The one coefficient ``c`` with ``d == c`` on invalid rows and ``d == 0`` on valid ones."""
    invalid = np.zeros(len(d), dtype=bool) if valid is None else ~valid[keep]
    if np.any(np.abs(d[~invalid]) > tol[~invalid]):
        raise ValueError(
            "token_level_rewards of valid steps differ from their episode reward (KL in the "
            "reward, or length-normalised rewards?); compat='reference' cannot reproduce that, "
            "use compat='paper' (the difference is subtracted from the step's reward)"
        )
    if not invalid.any():
        return 0.0 if expected is None else expected
    c = float(np.median(d[invalid]))
    if np.any(np.abs(d[invalid] - c) > tol[invalid]):
        raise ValueError(
            "token_level_rewards of invalid steps hold different penalties; compat='reference' "
            "needs one coefficient (use compat='paper')"
        )
    if expected is not None and expected > 0:
        if abs(expected - c) > _PENALTY_ATOL:
            raise ValueError(
                f"invalid_penalty={expected} but token_level_rewards hold a penalty of {c:.6g}: "
                "the trainer already applied its own; drop invalid_penalty or make them agree"
            )
        return expected
    # float32 token rewards: the coefficient is recovered to 1e-6.
    return round(c, 6)


def _check_expected(
    expected: float | None,
    d: np.ndarray,
    tol: np.ndarray,
    valid: np.ndarray | None,
    keep: IntArray,
) -> None:
    if expected is None or expected == 0 or valid is None:
        return
    invalid = ~valid[keep]
    if np.any(np.abs(d[invalid] - expected) > tol[invalid]):
        raise ValueError(
            f"invalid_penalty={expected} but token_level_rewards of invalid steps do not hold it: "
            "the penalty is read from token_level_rewards where present; drop invalid_penalty"
        )


def _name_of(adv_estimator: Any) -> str:
    name = getattr(adv_estimator, "value", adv_estimator)  # verl's AdvantageEstimator enum
    name = str(name)
    return name[len(VERL_NAME_PREFIX) :] if name.startswith(VERL_NAME_PREFIX) else name


def _config_params(config: Any) -> dict[str, Any]:
    """Estimator parameters from ``config["proxmo_bench"]`` (``algorithm.proxmo_bench`` in a verl
    YAML), a mapping or an attribute."""
    if config is None:
        return {}
    section = config.get("proxmo_bench") if hasattr(config, "get") else None
    if section is None:
        section = getattr(config, "proxmo_bench", None)
    if section is None:
        return {}
    if not isinstance(section, Mapping):
        items = getattr(section, "items", None)
        if items is None:
            raise ValueError("config.proxmo_bench must be a mapping of estimator parameters")
        return dict(items())
    return dict(section)


#: ProxMO-RL's / verl-agent's ``compute_advantage`` keyword -> (our parameter, conversion).
_MAPPED_KWARGS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "step_advantage_w": ("step_weight", float),
    "enable_psc": ("psc", bool),
    "psc_alpha": ("psc_alpha", float),
    "psc_beta": ("psc_target_range", lambda b: float(b) * (1 / (1 + math.exp(-1.0)) - 0.5)),
}
#: Their other keywords, accepted and ignored (GAE reweighting, the official grouping switches).
_IGNORED_KWARGS = frozenset(
    {
        "multi_turn",
        "return_components",
        "use_pf_ppo",
        "pf_ppo_reweight_method",
        "pf_ppo_weight_pow",
        "proxmo_mode",
        "proxmo_enable_similarity",
        "proxmo_similarity_thresh",
        "gigpo_mode",
        "gigpo_enable_similarity",
        "gigpo_similarity_thresh",
    }
)


def compute_advantage(
    data: Any,
    adv_estimator: Any,
    gamma: float | None = None,
    lam: float | None = None,
    num_repeat: int | None = None,
    norm_adv_by_std_in_grpo: bool | None = None,
    config: Any = None,
    **kwargs: Any,
) -> Any:
    """Drop-in for verl's / verl-agent's / ProxMO-RL's ``ray_trainer.compute_advantage``.

    Sets ``data.batch["advantages"]`` and ``data.batch["returns"]`` (bs, response_length) float32:
    each row's advantage on its response tokens, 0 elsewhere (like verl's outcome estimators), and
    ``data.batch["response_mask"]`` when it was missing. Returns ``data`` (modified in place).

    Use it by replacing the trainer module's function, e.g.
    ``verl.trainer.ppo.ray_trainer.compute_advantage = compute_advantage`` (or verl-agent's /
    ProxMO-RL's) with ``algorithm.adv_estimator`` one of our names (optionally prefixed
    ``proxmo_bench_``), and call :func:`add_step_index` after the rollout. ``RayPPOTrainer.fit``
    calls it as ``compute_advantage(batch, adv_estimator=..., gamma=..., lam=..., num_repeat=...,
    norm_adv_by_std_in_grpo=..., config=self.config.algorithm)``.

    Estimator parameters, later ones winning, each given only to an estimator that has it:

    1. the trainer's arguments: ``gamma`` -> ``gamma`` (GiGPO, ProxMO, ReBN step returns);
       ``norm_adv_by_std_in_grpo=False`` -> ``norm="mean"``; ProxMO-RL's ``step_advantage_w``,
       ``enable_psc``, ``psc_alpha``, ``psc_beta`` -> ``step_weight``, ``psc``, ``psc_alpha``,
       ``psc_target_range``. ``lam`` (GAE only), ``num_repeat`` (groups come from ``uid``) and
       the official code's other switches (``multi_turn``, ``proxmo_mode``, ``use_pf_ppo``, ...)
       are ignored;
    2. ``config["proxmo_bench"]`` (e.g. ``algorithm.proxmo_bench.compat=reference``);
    3. keyword arguments named like the estimator's parameters (``compat=...``, ``gamma=...``).

    The invalid-action penalty is read from ``token_level_rewards`` (module docstring); an
    ``invalid_penalty`` given must agree with it.

    Raises:
        ValueError: a keyword that is neither the estimator's parameter nor a known trainer one.
    """
    import torch

    name = _name_of(adv_estimator)
    accepted = estimator_params(name)
    params: dict[str, Any] = {}
    if gamma is not None and "gamma" in accepted:
        params["gamma"] = float(gamma)
    if norm_adv_by_std_in_grpo is False and "norm" in accepted:
        params["norm"] = "mean"
    for kw, (ours, convert) in _MAPPED_KWARGS.items():
        if kw in kwargs and ours in accepted:
            params[ours] = convert(kwargs[kw])
    params.update(_config_params(config))
    unknown = sorted(set(kwargs) - set(accepted) - set(_MAPPED_KWARGS) - _IGNORED_KWARGS)
    if unknown:
        raise ValueError(
            f"compute_advantage: unknown keyword(s) {unknown}; estimator {name!r} takes "
            f"{sorted(accepted)}"
        )
    params.update({k: v for k, v in kwargs.items() if k in accepted})

    mask = response_mask_of(data)
    if not _has(data.batch, "response_mask"):
        data.batch["response_mask"] = mask
    expected = params.pop("invalid_penalty", None)
    steps = verl_steps(data, compat=str(params.get("compat", "paper")), invalid_penalty=expected)
    if steps.invalid_penalty is not None:
        params["invalid_penalty"] = steps.invalid_penalty
    elif not steps.penalty_in_rewards and expected is not None:
        params["invalid_penalty"] = float(expected)
    adv = get_estimator(name, **params)(steps.batch)[steps.row]
    scores = torch.as_tensor(adv, dtype=torch.float32, device=mask.device).unsqueeze(-1) * mask
    data.batch["advantages"] = scores
    data.batch["returns"] = scores.clone()
    return data


def verl_estimator_fn(name: str, **params: Any) -> Callable[..., tuple[Any, Any]]:
    """An estimator function in verl's ``register_adv_est`` form.

    verl 0.9's trainer calls a registered estimator with ``token_level_rewards`` (bs, T),
    ``response_mask`` (bs, T), ``config`` and, when present, ``index`` (the ``uid`` of each row,
    (bs,)) and returns ``(advantages, returns)``, each (bs, T). That is enough only for single-turn
    rows: each row one trajectory of one step with reward ``token_level_rewards.sum(-1)``.
    ``config["proxmo_bench"]`` parameters override ``params``.
    """
    fields = set(required_fields(name))
    if not fields <= _SINGLE_TURN_FIELDS:
        raise ValueError(
            f"estimator {name!r} needs {sorted(fields - _SINGLE_TURN_FIELDS)}, which verl's "
            "register_adv_est hook does not pass (only token_level_rewards, response_mask, "
            "index); replace ray_trainer.compute_advantage with adapters.verl.compute_advantage"
        )
    get_estimator(name, **params)  # fail early on bad parameters

    def estimate(
        token_level_rewards: Any,
        response_mask: Any,
        config: Any = None,
        index: Any = None,
        **_: Any,
    ) -> tuple[Any, Any]:
        import torch

        n = token_level_rewards.shape[0]
        if index is None:
            index = np.zeros(n, dtype=np.int64)  # one group: verl passes no uid without grouping
        reward = token_level_rewards.sum(-1).detach().cpu().double().numpy()
        batch = StepBatch(
            group_id=np.asarray(index),
            traj_id=np.arange(n),
            step=np.zeros(n, dtype=np.int64),
            reward=reward,
            anchor=np.full(n, "", dtype=object),
            won=reward > 0,
        )
        adv = get_estimator(name, **{**params, **_config_params(config)})(batch)
        out = torch.as_tensor(adv, dtype=torch.float32, device=response_mask.device)
        scores = out.unsqueeze(-1) * response_mask
        return scores, scores.clone()

    estimate.__name__ = f"{VERL_NAME_PREFIX}{name}"
    estimate.__doc__ = f"proxmo-bench {name!r} as a verl advantage estimator (single-turn rows)."
    return estimate


def register_verl_estimators(names: list[str] | None = None) -> list[str]:
    """Register our estimators with verl's ``core_algos.register_adv_est`` as
    ``proxmo_bench_<name>``; returns the registered verl names.

    ``names=None`` registers every estimator whose fields the hook can supply (grpo, rloo, drgrpo,
    reinforce_pp, rebn); gigpo and proxmo need trajectories, steps and anchors, which the hook
    does not pass: use :func:`compute_advantage` for them. Registering twice is harmless.
    """
    from verl.trainer.ppo import core_algos

    chosen = names
    if chosen is None:
        chosen = [n for n in list_estimators() if set(required_fields(n)) <= _SINGLE_TURN_FIELDS]
    out = []
    for name in chosen:
        verl_name = f"{VERL_NAME_PREFIX}{name}"
        if verl_name not in core_algos.ADV_ESTIMATOR_REGISTRY:
            core_algos.register_adv_est(verl_name)(verl_estimator_fn(name))
        out.append(verl_name)
    return out
