"""The PPO-clip policy loss with a KL penalty to a reference policy, token-level mean.

For every response token t of a step with advantage A (the step's advantage broadcast over its
tokens):

    r_t      = exp(log pi(t) - log pi_old(t))                      (importance ratio)
    L^clip_t = max(-A r_t, -A clip(r_t, 1 - eps, 1 + eps))          (pessimistic clipped objective)
    KL_t     = exp(q) - q - 1,  q = log pi_ref(t) - log pi(t)       (``low_var_kl``, Schulman's k3,
                                                                     clamped to [-10, 10] as verl)
    loss     = sum_t m_t (L^clip_t + c_KL KL_t - c_H H_t) / sum_t m_t   (token-level mean)

where m is the response mask and H the per-token entropy.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


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
) -> LossParts:
    """The loss of one micro-batch, normalised by the mini-batch's ``total_tokens``.

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
    loss = (per_token * m).sum() / max(total_tokens, 1.0)
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
