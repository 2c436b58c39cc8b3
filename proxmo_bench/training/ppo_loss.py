"""The PPO-clip policy loss with a KL penalty to a reference policy, token-level mean.

For every response token t of a step with advantage A (the step's advantage broadcast over its
tokens):

    r_t      = exp(log pi(t) - log pi_old(t))                      (importance ratio)
    L^clip_t = max(-A r_t, -A clip(r_t, 1 - eps, 1 + eps))          (pessimistic clipped objective)
    KL_t     = exp(q) - q - 1,  q = log pi_ref(t) - log pi(t)       (``low_var_kl``, Schulman's k3,
                                                                     clamped to [-10, 10] as verl)
    loss     = sum_t m_t (L^clip_t + c_KL KL_t - c_H H_t) / sum_t m_t   (token-level mean)

where m is the response mask and H the per-token entropy. The token-level mean is the default
aggregation; :func:`aggregate_loss` holds the others (verl's ``loss_agg_mode``), among them
Dr. GRPO's constant normaliser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import torch

LossAggMode = Literal[
    "token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"
]
LOSS_AGG_MODES: tuple[str, ...] = get_args(LossAggMode)


@dataclass
class LossParts:
    """Token sums of each loss term for one micro-batch (divide by ``tokens`` for the mean)."""

    loss: torch.Tensor  # what to backpropagate: already divided by the mini-batch's token count
    pg: float
    kl: float
    entropy: float
    clipped: float
    ratio_max: float
    tokens: float


def kl_penalty(logp: torch.Tensor, ref_logp: torch.Tensor, kind: str) -> torch.Tensor:
    """Per-token KL estimate between the policy and the reference (same shapes)."""
    if kind == "low_var_kl":
        q = ref_logp - logp
        return torch.clamp(torch.exp(q) - q - 1, min=-10.0, max=10.0)
    if kind == "kl":
        return logp - ref_logp
    if kind == "none":
        return torch.zeros_like(logp)
    raise ValueError(f"unknown kl_type {kind!r}; use low_var_kl, kl or none")


def aggregate_loss(
    per_token: torch.Tensor,
    mask: torch.Tensor,
    mode: str = "token-mean",
    *,
    total_tokens: float | None = None,
    total_seqs: float | None = None,
    norm_constant: float | None = None,
) -> torch.Tensor:
    r"""One scalar from a micro-batch's (S, T) per-token losses :math:`\ell_{i,t}`, by ``mode``.

    With the mask :math:`m_{i,t}`, :math:`n_i = \sum_t m_{i,t}` the tokens of sequence :math:`i`,
    :math:`T_{mb}` = ``total_tokens`` and :math:`S_{mb}` = ``total_seqs`` (the mini-batch's
    counts, so that the micro-batch results add up to the mini-batch's aggregate; only sequences
    with at least one token count) and :math:`C` = ``norm_constant``:

    .. math::
        \text{token-mean} &= \tfrac{1}{T_{mb}} \sum_{i,t} m_{i,t}\, \ell_{i,t} \\
        \text{seq-mean-token-sum} &= \tfrac{1}{S_{mb}} \sum_i \sum_t m_{i,t}\, \ell_{i,t} \\
        \text{seq-mean-token-mean} &= \tfrac{1}{S_{mb}} \sum_{i: n_i > 0}
            \tfrac{1}{n_i} \sum_t m_{i,t}\, \ell_{i,t} \\
        \text{seq-mean-token-sum-norm} &= \tfrac{1}{S_{mb}\, C} \sum_i \sum_t m_{i,t}\, \ell_{i,t}

    The modes and their numbers are verl's ``agg_loss`` (``batch_num_tokens`` = ``total_tokens``,
    ``global_batch_size`` = ``total_seqs``, ``loss_scale_factor`` = ``norm_constant``, one
    data-parallel rank). ``seq-mean-token-sum-norm`` is Dr. GRPO's unbiased aggregation: every
    response's token sum divided by one constant (the paper's generation budget, e.g. the policy's
    ``max_new_tokens``), not by its own length, so long and short responses are not re-weighted.
    verl falls back to the padded width for :math:`C`, which changes with each micro-batch's
    padding; here :math:`C` must be given.

    Args:
        per_token: (S, T) per-token loss.
        mask: (S, T) response mask (0/1 or bool).
        total_tokens, total_seqs: the mini-batch's token and sequence counts; None: this
            micro-batch's own (the whole mini-batch in one micro-batch). At least 1 is used.
        norm_constant: :math:`C` > 0, needed by ``seq-mean-token-sum-norm``.

    Raises:
        ValueError: unknown mode, or ``seq-mean-token-sum-norm`` without a positive constant.
    """
    if mode not in LOSS_AGG_MODES:
        raise ValueError(f"unknown loss aggregation mode {mode!r}; use one of {LOSS_AGG_MODES}")
    m = mask.to(per_token.dtype)
    if mode == "token-mean":
        tokens = float(m.sum()) if total_tokens is None else total_tokens
        return (per_token * m).sum() / max(tokens, 1.0)
    n = m.sum(dim=-1)
    seqs = float((n > 0).sum()) if total_seqs is None else total_seqs
    seq_sum = (per_token * m).sum(dim=-1)
    if mode == "seq-mean-token-mean":
        return (seq_sum / (n + 1e-8)).sum() / max(seqs, 1.0)  # verl's 1e-8: empty rows give 0
    loss = seq_sum.sum() / max(seqs, 1.0)
    if mode == "seq-mean-token-sum-norm":
        if norm_constant is None or not norm_constant > 0:
            raise ValueError(
                "loss aggregation 'seq-mean-token-sum-norm' needs norm_constant > 0 (Dr. GRPO's "
                f"constant, e.g. the generation limit max_new_tokens), got {norm_constant!r}"
            )
        loss = loss / norm_constant
    return loss


def ppo_clip_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    *,
    clip_ratio: float,
    total_tokens: float,
    ref_logp: torch.Tensor | None = None,
    kl_coef: float = 0.0,
    kl_type: str = "low_var_kl",
    entropy: torch.Tensor | None = None,
    entropy_coef: float = 0.0,
    loss_agg_mode: str = "token-mean",
    total_seqs: float | None = None,
    norm_constant: float | None = None,
) -> LossParts:
    """The loss of one micro-batch, normalised by the mini-batch's ``total_tokens``.

    ``loss_agg_mode``, ``total_seqs`` and ``norm_constant`` choose another aggregation
    (:func:`aggregate_loss`); the default is the token-level mean. The logged term sums
    (``pg``, ``kl``, ...) are token sums in every mode.

    Args:
        logp, old_logp, mask: (S, T) per-token log-probs now / at sampling time, and the mask.
        advantages: (S,) one advantage per step, broadcast over its tokens.
        total_tokens: number of masked tokens in the whole mini-batch (so that summing the
            micro-batch losses gives the token-level mean over the mini-batch).
        ref_logp: (S, T) reference log-probs; needed when ``kl_coef > 0``.
        entropy: (S, T) per-token entropies; needed when ``entropy_coef > 0``.
    """
    A = advantages.unsqueeze(1).to(logp.dtype)
    log_ratio = torch.clamp(logp - old_logp, min=-20.0, max=20.0)  # avoids inf on stale samples
    ratio = torch.exp(log_ratio)
    pg_unclipped = -A * ratio
    pg_clipped = -A * torch.clamp(ratio, 1.0 - clip_ratio, 1.0 + clip_ratio)
    pg = torch.maximum(pg_unclipped, pg_clipped)
    per_token = pg
    kl = torch.zeros_like(logp)
    if kl_coef > 0 and kl_type != "none":
        if ref_logp is None:
            raise ValueError("kl_coef > 0 needs ref_logp")
        kl = kl_penalty(logp, ref_logp, kl_type)
        per_token = per_token + kl_coef * kl
    ent = torch.zeros_like(logp) if entropy is None else entropy
    if entropy_coef > 0:
        if entropy is None:
            raise ValueError("entropy_coef > 0 needs entropy")
        per_token = per_token - entropy_coef * ent
    m = mask.to(logp.dtype)
    loss = aggregate_loss(
        per_token,
        m,
        loss_agg_mode,
        total_tokens=total_tokens,
        total_seqs=total_seqs,
        norm_constant=norm_constant,
    )
    with torch.no_grad():
        clipped = ((pg_clipped > pg_unclipped).to(m.dtype) * m).sum()
        return LossParts(
            loss=loss,
            pg=float((pg * m).sum()),
            kl=float((kl * m).sum()),
            entropy=float((ent * m).sum()),
            clipped=float(clipped),
            ratio_max=float((ratio * m).max()) if m.numel() else 0.0,
            tokens=float(m.sum()),
        )


def clipped_value_loss(
    values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor, cliprange: float
) -> torch.Tensor:
    r"""PPO's clipped value loss, summed over rows (divide by the mini-batch's rows):

    .. math::
        L^V = \sum_i \tfrac12 \max\big((V_i - \hat R_i)^2,\
              (V^{old}_i + \mathrm{clip}(V_i - V^{old}_i, -c, c) - \hat R_i)^2\big),

    with :math:`V^{old}` the values at rollout time, :math:`\hat R` the GAE targets and :math:`c`
    ``cliprange`` (verl's ``compute_value_loss``).
    """
    clipped = old_values + torch.clamp(values - old_values, -cliprange, cliprange)
    return 0.5 * torch.maximum((values - returns) ** 2, (clipped - returns) ** 2).sum()
