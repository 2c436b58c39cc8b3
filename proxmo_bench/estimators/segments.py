"""Per-segment statistics (mean, unbiased std, size) of a value vector, via ``np.bincount``."""

from __future__ import annotations

import numpy as np

from proxmo_bench.estimators.batch import FloatArray, IntArray


def segment_stats(
    keys: IntArray, values: np.ndarray, n_segments: int
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Mean, unbiased standard deviation and size of ``values`` per segment ``keys``.

    Two-pass (deviations from the mean) to avoid cancellation. The std of a segment of size 1 is
    returned as 0 (callers decide what a singleton means for them).
    """
    n = np.bincount(keys, minlength=n_segments)
    total = np.bincount(keys, weights=values, minlength=n_segments)
    mean = np.divide(total, n, out=np.zeros(n_segments), where=n > 0)
    dev = values - mean[keys]
    ss = np.bincount(keys, weights=dev * dev, minlength=n_segments)
    std = np.sqrt(np.divide(ss, n - 1, out=np.zeros(n_segments), where=n > 1))
    return mean, std, n.astype(np.int64)
