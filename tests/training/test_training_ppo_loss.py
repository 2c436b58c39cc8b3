"""The PPO-clip loss written as the math: ratio, clipping, KL penalty, token-level mean."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from proxmo_bench.training.ppo_loss import LossParts, kl_penalty, ppo_clip_loss


def _loss(logp: Any, old: Any, adv: Any, mask: Any, **kw: Any) -> LossParts:
    return ppo_clip_loss(
        torch.tensor(logp),
        torch.tensor(old),
        torch.tensor(adv),
        torch.tensor(mask),
        clip_ratio=0.2,
        total_tokens=float(torch.tensor(mask).sum()),
        **kw,
    )


def test_on_policy_loss_is_minus_token_mean_advantage() -> None:
    # two steps: 3 tokens with A=1, 1 token with A=-2 -> mean over 4 tokens = (3 - 2) / 4
    parts = _loss(
        [[-1.0, -2.0, -3.0], [-1.0, 0.0, 0.0]],
        [[-1.0, -2.0, -3.0], [-1.0, 0.0, 0.0]],
        [1.0, -2.0],
        [[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]],
    )
    assert parts.loss.item() == pytest.approx(-(3 * 1.0 - 2.0) / 4)
    assert parts.clipped == 0 and parts.tokens == 4


def test_clipping_stops_the_gradient_beyond_the_trust_region() -> None:
    old = torch.tensor([[0.0]])
    for logp0, adv, expect_grad in [
        (math.log(1.5), 1.0, False),
        (math.log(1.1), 1.0, True),
        (math.log(0.5), -1.0, False),
        (math.log(1.5), -1.0, True),
    ]:
        logp = torch.tensor([[logp0]], requires_grad=True)
        parts = ppo_clip_loss(
            logp, old, torch.tensor([adv]), torch.ones(1, 1), clip_ratio=0.2, total_tokens=1
        )
        parts.loss.backward()
        assert logp.grad is not None
        assert (logp.grad.abs().item() > 0) == expect_grad, (logp0, adv)


def test_low_var_kl() -> None:
    logp = torch.tensor([-1.0, -2.0])
    assert torch.allclose(kl_penalty(logp, logp, "low_var_kl"), torch.zeros(2))
    q = torch.tensor([0.5, -0.5])
    kl = kl_penalty(logp, logp + q, "low_var_kl")
    assert torch.allclose(kl, torch.exp(q) - q - 1)
    assert bool((kl > 0).all())
    assert kl_penalty(torch.tensor([0.0]), torch.tensor([50.0]), "low_var_kl").item() == 10.0
    with pytest.raises(ValueError, match="kl_type"):
        kl_penalty(logp, logp, "js")


def test_kl_and_entropy_terms_enter_the_loss() -> None:
    logp, old, adv, mask = [[-1.0]], [[-1.0]], [0.0], [[1.0]]
    ref = torch.tensor([[-1.5]])
    parts = _loss(logp, old, adv, mask, ref_logp=ref, kl_coef=0.1)
    q = -0.5
    assert parts.loss.item() == pytest.approx(0.1 * (math.exp(q) - q - 1))
    ent = torch.tensor([[2.0]])
    parts = _loss(logp, old, adv, mask, entropy=ent, entropy_coef=0.01)
    assert parts.loss.item() == pytest.approx(-0.02)
    with pytest.raises(ValueError, match="ref_logp"):
        _loss(logp, old, adv, mask, kl_coef=0.1)


def test_micro_batches_sum_to_the_mini_batch_mean() -> None:
    torch.manual_seed(0)
    logp, old = torch.randn(6, 4), torch.randn(6, 4)
    adv, mask = torch.randn(6), (torch.rand(6, 4) > 0.3).float()
    total = float(mask.sum())
    whole = ppo_clip_loss(logp, old, adv, mask, clip_ratio=0.2, total_tokens=total).loss
    parts = sum(
        ppo_clip_loss(
            logp[i : i + 2],
            old[i : i + 2],
            adv[i : i + 2],
            mask[i : i + 2],
            clip_ratio=0.2,
            total_tokens=total,
        ).loss
        for i in range(0, 6, 2)
    )
    assert isinstance(parts, torch.Tensor) and torch.allclose(whole, parts)
