"""GiGPO's anchor-state grouping: rows of one task group that saw the same (or a similar) state.

Exact grouping keys rows by ``(group, anchor)``. Similarity grouping (``similarity`` in (0, 1))
clusters a group's anchors greedily in row order: an anchor joins the first existing cluster whose
representative (the cluster's first anchor) has ``difflib.SequenceMatcher(None, anchor, rep).ratio()
>= similarity``, else founds a new cluster — the official code's rule. Equal strings always land in
the same cluster, so the greedy pass runs over distinct anchors only, and the cheap upper bounds
``real_quick_ratio``/``quick_ratio`` skip most exact ratio computations without changing the result.
"""

from __future__ import annotations

from difflib import SequenceMatcher

import numpy as np

from proxmo_bench.estimators.batch import IntArray, StepBatch


def anchor_groups(batch: StepBatch, similarity: float | None = None) -> IntArray:
    """(N,) step-group code of each row (codes are arbitrary but equal within a step group)."""
    if not len(batch):
        return np.zeros(0, dtype=np.int64)
    n_anchor = len(batch.anchor_values)
    pair = batch.group_index * n_anchor + batch.anchor_index
    pairs, first_row, pair_of_row = np.unique(pair, return_index=True, return_inverse=True)
    if similarity is None:
        return pair_of_row.astype(np.int64)
    if not (0.0 < similarity < 1.0):
        raise ValueError(f"similarity must be in (0, 1) or None, got {similarity}")
    # Greedy clustering of each group's distinct anchors in order of first appearance.
    order = np.lexsort((first_row, pairs // n_anchor))
    cluster_of_pair = np.empty(len(pairs), dtype=np.int64)
    anchors = batch.anchor_values
    n_clusters = 0
    current_group = -1
    reps: list[tuple[SequenceMatcher[str], int]] = []
    for pi in order.tolist():
        g, a = divmod(int(pairs[pi]), n_anchor)
        if g != current_group:
            current_group, reps = g, []
        text = anchors[a]
        found = -1
        for matcher, cid in reps:
            matcher.set_seq1(text)
            if (
                matcher.real_quick_ratio() >= similarity
                and matcher.quick_ratio() >= similarity
                and matcher.ratio() >= similarity
            ):
                found = cid
                break
        if found < 0:
            matcher = SequenceMatcher(None)
            matcher.set_seq2(text)  # the representative is the official code's `b` argument
            found = n_clusters
            n_clusters += 1
            reps.append((matcher, found))
        cluster_of_pair[pi] = found
    return cluster_of_pair[pair_of_row]
