"""Loss aggregation modes (verl's ``loss_agg_mode``; Dr. GRPO's constant normaliser), by hand and
against a per-sequence loop of verl's ``agg_loss``. (Under tests/estimators/ with the Dr. GRPO work;
the module is :mod:`proxmo_bench.training.ppo_loss`.)"""

from __future__ import annotations

import pytest
import torch

from proxmo_bench.training.ppo_loss import LOSS_AGG_MODES, aggregate_loss, ppo_clip_loss

# Two sequences: 3 tokens of loss 1, 2, 3 and 1 token of loss 4 (row width 3).
LOSS = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 9.0]])
MASK = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])


def test_modes_by_hand() -> None:
    # token-mean: (1 + 2 + 3 + 4) / 4 tokens = 2.5
    assert aggregate_loss(LOSS, MASK, "token-mean").item() == pytest.approx(2.5)
    # seq-mean-token-sum: (6 + 4) / 2 sequences = 5
    assert aggregate_loss(LOSS, MASK, "seq-mean-token-sum").item() == pytest.approx(5.0)
    # seq-mean-token-mean: (6/3 + 4/1) / 2 = 3
    assert aggregate_loss(LOSS, MASK, "seq-mean-token-mean").item() == pytest.approx(3.0)
    # seq-mean-token-sum-norm with C = 10: (6 + 4) / (2 * 10) = 0.5 (Dr. GRPO)
    got = aggregate_loss(LOSS, MASK, "seq-mean-token-sum-norm", norm_constant=10.0)
    assert got.item() == pytest.approx(0.5)


def test_dr_grpo_normaliser_does_not_favour_short_answers() -> None:
    # Same per-token loss -1 (positive advantage): with a per-sequence token mean every answer
    # weighs the same whatever its length, so each of a short answer's tokens gets a larger push;
    # with the constant normaliser every token weighs 1 / (S * C).
    loss = torch.full((2, 4), -1.0, requires_grad=True)
    mask = torch.tensor([[1.0, 1.0, 1.0, 1.0], [1.0, 0.0, 0.0, 0.0]])
    aggregate_loss(loss, mask, "seq-mean-token-mean").backward()
    assert loss.grad is not None
    assert loss.grad[1, 0] == pytest.approx(4 * loss.grad[0, 0].item())
    loss.grad = None
    aggregate_loss(loss, mask, "seq-mean-token-sum-norm", norm_constant=8).backward()
    assert loss.grad is not None
    assert torch.allclose(loss.grad * mask, mask / (2 * 8))


def _verl_agg_loop(loss: torch.Tensor, mask: torch.Tensor, mode: str, c: float) -> float:
    """verl's agg_loss (one rank) as a loop over sequences."""
    seqs = [(loss[i] * mask[i]).sum().item() for i in range(len(loss))]
    counts = [mask[i].sum().item() for i in range(len(loss))]
    kept = [i for i in range(len(loss)) if counts[i] > 0]
    if mode == "token-mean":
        return sum(seqs) / sum(counts)
    if mode == "seq-mean-token-mean":
        return sum(seqs[i] / (counts[i] + 1e-8) for i in kept) / len(kept)  # verl's 1e-8
    total = sum(seqs[i] for i in kept) / len(kept)
    return total / c if mode == "seq-mean-token-sum-norm" else total


@pytest.mark.parametrize("mode", LOSS_AGG_MODES)
def test_modes_match_the_loop_and_micro_batches_add_up(mode: str) -> None:
    gen = torch.Generator().manual_seed(0)
    loss = torch.randn(12, 9, generator=gen, dtype=torch.float64)
    lengths = torch.randint(0, 10, (12,), generator=gen)
    lengths[0] = 0  # an empty sequence is not counted
    mask = (torch.arange(9)[None, :] < lengths[:, None]).to(torch.float64)
    c = 9.0
    whole = aggregate_loss(loss, mask, mode, norm_constant=c)
    assert whole.item() == pytest.approx(_verl_agg_loop(loss, mask, mode, c), rel=1e-12)
    # the trainer's micro-batches: the mini-batch's counts as denominators, results summed
    tokens, seqs = float(mask.sum()), float((mask.sum(-1) > 0).sum())
    parts = [
        aggregate_loss(
            loss[i : i + 5],
            mask[i : i + 5],
            mode,
            total_tokens=tokens,
            total_seqs=seqs,
            norm_constant=c,
        )
        for i in range(0, 12, 5)
    ]
    assert sum(p.item() for p in parts) == pytest.approx(whole.item(), rel=1e-12)


def test_bad_modes() -> None:
    with pytest.raises(ValueError, match="unknown loss aggregation mode 'mean'"):
        aggregate_loss(LOSS, MASK, "mean")
    with pytest.raises(ValueError, match="norm_constant > 0"):
        aggregate_loss(LOSS, MASK, "seq-mean-token-sum-norm")
    with pytest.raises(ValueError, match="norm_constant > 0"):
        aggregate_loss(LOSS, MASK, "seq-mean-token-sum-norm", norm_constant=0)


def test_ppo_clip_loss_default_is_unchanged_and_modes_pass_through() -> None:
    gen = torch.Generator().manual_seed(1)
    logp = torch.randn(4, 6, generator=gen)
    old = logp + 0.1 * torch.randn(4, 6, generator=gen)
    adv = torch.tensor([1.0, -0.5, 2.0, 0.0])
    mask = torch.tensor([[1.0] * k + [0.0] * (6 - k) for k in (6, 3, 1, 4)])
    tokens = float(mask.sum())
    base = ppo_clip_loss(logp, old, adv, mask, clip_ratio=0.2, total_tokens=tokens)
    # the token-level mean, written out: max(-A r, -A clip(r)) averaged over masked tokens
    ratio = torch.exp(logp - old)
    A = adv[:, None]
    pg = torch.maximum(-A * ratio, -A * torch.clamp(ratio, 0.8, 1.2))
    assert base.loss.item() == pytest.approx(((pg * mask).sum() / mask.sum()).item(), rel=1e-6)
    dr = ppo_clip_loss(
        logp,
        old,
        adv,
        mask,
        clip_ratio=0.2,
        total_tokens=tokens,
        loss_agg_mode="seq-mean-token-sum-norm",
        total_seqs=4.0,
        norm_constant=16.0,
    )
    assert dr.loss.item() == pytest.approx(((pg * mask).sum() / (4 * 16)).item(), rel=1e-6)
    assert dr.pg == pytest.approx(base.pg) and dr.tokens == base.tokens  # logged sums unchanged
