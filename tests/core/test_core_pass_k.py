"""pass^k from trial counts, the one computation the envs and the leaderboard share."""

from __future__ import annotations

import pytest

from proxmo_bench.pass_k import mean_pass_hat_k


def test_hand_values() -> None:
    # task a: 3 of 4 won -> pass^2 = C(3,2)/C(4,2) = 3/6; task b: 2 of 2 -> 1; mean 0.75
    assert mean_pass_hat_k([(4, 3), (2, 2)], 2) == pytest.approx(0.75)
    assert mean_pass_hat_k([(4, 3), (2, 2)], 1) == pytest.approx((3 / 4 + 1) / 2)
    assert mean_pass_hat_k([(3, 1)], 2) == 0.0


@pytest.mark.parametrize(
    ("counts", "k", "message"),
    [([(2, 1)], 0, "k must be >= 1"), ([], 1, "at least one task"), ([(1, 1)], 2, "fewer than")],
)
def test_bad_input_is_a_value_error(counts: list[tuple[int, int]], k: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        mean_pass_hat_k(counts, k)
