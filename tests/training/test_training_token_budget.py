"""Micro-batches packed by a token budget (``micro_batch_tokens``): the packing, and the same update."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from proxmo_bench.training import TrainConfig, Trainer
from proxmo_bench.training.trainer import token_budget_chunks


def _runs(lengths: list[int], budget: int, max_rows: int = 100) -> list[list[int]]:
    items = np.arange(len(lengths))
    return [c.tolist() for c in token_budget_chunks(items, np.array(lengths), budget, max_rows)]


def test_runs_stay_within_the_padded_budget() -> None:
    # 3 rows x longest 4 = 12 <= 12; adding the 5-long row would make 4 x 5 = 20
    assert _runs([4, 2, 3, 5, 1], 12) == [[0, 1, 2], [3, 4]]


def test_a_step_longer_than_the_budget_gets_a_pass_of_its_own() -> None:
    assert _runs([2, 50, 2, 2], 10) == [[0], [1], [2, 3]]


def test_rows_are_capped_by_micro_batch_size() -> None:
    assert _runs([1] * 7, 100, max_rows=3) == [[0, 1, 2], [3, 4, 5], [6]]


def test_every_item_once_in_order() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 40, size=200)
    order = rng.permutation(200)
    runs = token_budget_chunks(order, lengths, 64, 16)
    assert np.array_equal(np.concatenate(runs), order)
    for r in runs:
        assert len(r) <= 16
        assert len(r) == 1 or len(r) * lengths[r].max() <= 64


def _weights_after_one_update(out: Path, **kw: object) -> dict[str, torch.Tensor]:
    settings: dict[str, object] = dict(
        task="proxmo/KeyRoom-v0",
        agent="llm",
        model="tiny-random",
        estimator="grpo",
        updates=1,
        group_size=2,
        groups_per_update=2,
        max_steps=2,
        max_new_tokens=8,
        eval_every=0,
        eval_episodes=1,
        kl_coef=0.0,
        lr=1e-3,
        num_threads=1,
        progress=False,
        tensorboard=False,
        checkpoint_every=0,
        out_dir=str(out),
    )
    trainer = Trainer(TrainConfig(**{**settings, **kw}))  # type: ignore[arg-type]
    trainer.run()
    return {k: v.detach().clone() for k, v in trainer.policy.weights().items()}


@pytest.mark.slow
def test_token_budget_gives_the_update_of_row_micro_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proxmo_bench.training import trainer as trainer_module

    sizes: list[int] = []

    def spy(*args: object) -> list[np.ndarray]:
        runs = token_budget_chunks(*args)  # type: ignore[arg-type]
        sizes.extend(len(r) for r in runs)
        return runs

    monkeypatch.setattr(trainer_module, "token_budget_chunks", spy)
    rows = _weights_after_one_update(tmp_path / "rows", micro_batch_size=1)
    packed = _weights_after_one_update(
        tmp_path / "tokens", micro_batch_size=8, micro_batch_tokens=100_000
    )
    moved = _weights_after_one_update(tmp_path / "again", micro_batch_size=1, lr=1e-2)
    assert max(sizes) > 1  # the packed run really put several steps in one pass
    assert rows.keys() == packed.keys()
    for k in rows:
        torch.testing.assert_close(packed[k], rows[k], atol=1e-6, rtol=1e-5)
    assert any(not torch.equal(rows[k], moved[k]) for k in rows)  # the check can fail
