"""Per-segment statistics (mean, std, size) of a value vector, via ``np.bincount``, and the
batch-wide whitening verl applies (``masked_whiten``)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from proxmo_bench.estimators.batch import FloatArray, IntArray

#: Added to :math:`\sigma^2` under the square root, as verl's ``masked_whiten``.
WHITEN_EPSILON = 1e-8


def segment_stats(
    keys: IntArray, values: np.ndarray, n_segments: int, *, ddof: int = 1
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Mean, standard deviation (unbiased by default; ``ddof=0``: the population one) and size of
    ``values`` per segment ``keys``.

    Two-pass (deviations from the mean) to avoid cancellation. The std of a segment of at most
    ``ddof`` rows is returned as 0 (callers decide what a singleton means for them).
    """
    n = np.bincount(keys, minlength=n_segments)
    total = np.bincount(keys, weights=values, minlength=n_segments)
    mean = np.divide(total, n, out=np.zeros(n_segments), where=n > 0)
    dev = values - mean[keys]
    ss = np.bincount(keys, weights=dev * dev, minlength=n_segments)
    std = np.sqrt(np.divide(ss, n - ddof, out=np.zeros(n_segments), where=n > ddof))
    return mean, std, n.astype(np.int64)


def batch_whiten(values: FloatArray, weights: npt.ArrayLike | None = None) -> FloatArray:
    r"""(N,) :math:`(v - \mu) / \sqrt{\sigma^2 + 10^{-8}}` with weighted mean and unbiased variance.

    Args:
        values: (N,) one value per row.
        weights: (N,) non-negative weight of each row (its number of response tokens), or None for
            one per row.

    Returns:
        (N,) float64; zeros when the total weight is at most 1 (no unbiased variance).
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.ones_like(v) if weights is None else np.asarray(weights, dtype=np.float64).reshape(-1)
    if w.shape != v.shape:
        raise ValueError(f"weights has {w.size} rows, values {v.size}")
    if not (np.all(np.isfinite(w)) and np.all(w >= 0)):
        raise ValueError("weights (response token counts) must be finite and >= 0")
    W = float(w.sum())
    if W <= 1.0:
        return np.zeros_like(v)
    mu = float(w @ v) / W
    var = float(w @ (v - mu) ** 2) / (W - 1.0)
    return (v - mu) / np.sqrt(var + WHITEN_EPSILON)
