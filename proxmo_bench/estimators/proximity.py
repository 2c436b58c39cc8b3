r"""ProxMO's proximity-based soft step baseline.

Each anchor becomes a TF-IDF vector :math:`\phi(s)` (L2-normalised); the similarity of two rows is
the cosine :math:`\mathrm{sim}(i, j) = \phi(s_i)^\top \phi(s_j)`. Within a task group :math:`g`,
row :math:`i` weighs every row :math:`j \in g` (itself included) by

.. math::
    w_{ij} = \frac{\exp(\mathrm{sim}(i,j)/T)}{\sum_{k \in g} \exp(\mathrm{sim}(i,k)/T)},
    \qquad b_i = \sum_{j \in g} w_{ij}\, G_j, \qquad A_S(i) = G_i - b_i,

with temperature :math:`T` (0.1) and discounted returns :math:`G`.

How it is computed (exactly, without the official code's N x N matrix):

- Rows with equal anchors have equal weight rows, so the work runs on the distinct
  (group, anchor) pairs :math:`u`, with :math:`m_u` rows and return sum :math:`S_u`:
  :math:`b_u = \sum_v e^{s_{uv}/T} S_v / \sum_v e^{s_{uv}/T} m_v`.
- TF-IDF weights are non-negative, so :math:`s_{uv} \ge 0`, and pairs sharing no token have
  :math:`s_{uv} = 0`. One sparse product over a block-diagonal layout (each group's pairs get their
  own column space) yields only the same-group non-zero similarities; the zeros enter in closed
  form: :math:`\sum_v e^{s_{uv}/T} x_v = \sum_{v \in g} x_v + \sum_{s_{uv} > 0} (e^{s_{uv}/T} - 1) x_v`
  (shifted by each row's maximum for numerical safety). Memory O(sum over groups of pairs²) at
  most, O(N) in time for typical anchors.

TF-IDF, as scikit-learn's ``TfidfVectorizer`` (lowercase, smooth idf
:math:`\ln\frac{1+n}{1+\mathrm{df}} + 1`, raw term counts, L2 norm), fitted on all rows of the
batch (document frequencies count every row):

- ``compat="reference"``: the official settings — default token pattern ``\b\w\w+\b`` (drops the
  object indices: "countertop 1" and "countertop 2" look the same), the 1,024 most frequent terms
  (scikit-learn's selection and tie order), and no step advantage at all when the batch has no
  token (the official code returns zeros there).
- ``compat="paper"``: a word followed by a number is one token ("countertop 1" differs from
  "countertop 2"), every term is kept, and a batch without tokens gives uniform weights (the group
  mean of :math:`G` as baseline).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

import numpy as np

from proxmo_bench.estimators.batch import FloatArray, IntArray, StepBatch, factorize_hashable

# Document separator for the one-pass tokenizer: a control character that is never part of a
# token (and, unlike NUL, survives NumPy's string handling).
SEP = "\x1e"
# Equivalent under findall to scikit-learn's r"(?u)\b\w\w+\b" (greedy runs of word characters of
# length >= 2), plus the separator.
REFERENCE_TOKEN_PATTERN = re.compile(r"\w\w+|\x1e")
# Every run of word characters, a following " <number>" bound to it ("countertop 1").
PAPER_TOKEN_PATTERN = re.compile(r"\w+(?: \d+(?!\w))?|\x1e")
REFERENCE_MAX_FEATURES = 1024


def tfidf_entries(
    docs: list[str],
    doc_weight: IntArray,
    compat: Literal["paper", "reference"],
) -> tuple[IntArray, IntArray, FloatArray, int] | None:
    """Sparse L2-normalised TF-IDF rows of ``docs`` (distinct strings, each ``doc_weight`` times).

    Returns ``(doc, term, value, n_terms)`` sorted by doc (CSR order), or None when no document
    has a token (scikit-learn's "empty vocabulary").
    """
    pattern = REFERENCE_TOKEN_PATTERN if compat == "reference" else PAPER_TOKEN_PATTERN
    joined = SEP.join(docs).lower() + SEP
    if joined.count(SEP) == len(docs):
        # One regex pass over all documents; the separator matches mark the boundaries.
        flat = np.asarray(pattern.findall(joined), dtype=object)
    else:  # a document contains the separator itself: tokenize one document at a time
        flat = np.asarray(
            [tok for d in docs for tok in (*pattern.findall(d.lower().replace(SEP, " ")), SEP)],
            dtype=object,
        )
    is_sep = flat == SEP
    tokens = flat[~is_sep]
    if tokens.size == 0:
        return None
    doc_of_token = np.cumsum(is_sep)[~is_sep]
    factors = factorize_hashable(tokens)
    if factors is None:  # pragma: no cover - 64-bit hash collision
        vocab_arr, term = np.unique(tokens.astype(str), return_inverse=True)
        vocab = vocab_arr.tolist()
    else:
        term, vocab = factors
    # Terms in alphabetical order, as scikit-learn sorts its vocabulary (it decides ties below).
    alpha = np.argsort(np.asarray(vocab, dtype=str), kind="stable")
    rank = np.empty(len(vocab), dtype=np.int64)
    rank[alpha] = np.arange(len(vocab))
    term = rank[np.asarray(term).reshape(-1)]
    n_terms = len(vocab)
    key, tf = np.unique(doc_of_token * n_terms + term.reshape(-1), return_counts=True)
    doc, term = np.divmod(key, n_terms)
    weight = np.asarray(doc_weight, dtype=np.int64)[doc]
    if compat == "reference" and n_terms > REFERENCE_MAX_FEATURES:
        tfs = np.bincount(term, weights=tf * weight, minlength=n_terms).astype(np.int64)
        keep = np.zeros(n_terms, dtype=bool)
        keep[(-tfs).argsort()[:REFERENCE_MAX_FEATURES]] = True  # scikit-learn's selection
        doc, term, tf, weight = (
            doc[keep[term]],
            term[keep[term]],
            tf[keep[term]],
            weight[keep[term]],
        )
    df = np.bincount(term, weights=weight, minlength=n_terms)
    n_docs = float(np.sum(doc_weight))
    idf = np.log((n_docs + 1.0) / (df + 1.0)) + 1.0
    value = tf * idf[term]
    norm = np.sqrt(np.bincount(doc, weights=value * value, minlength=len(docs)))
    value = value / norm[doc]
    if compat == "reference":
        # The official code casts the (already normalised) rows to float32 and divides them
        # again by their float32 norm + 1e-8.
        value32 = value.astype(np.float32)
        norm32 = np.sqrt(
            np.bincount(doc, weights=value32.astype(np.float64) ** 2, minlength=len(docs))
        )
        value = (value32 / (norm32.astype(np.float32)[doc] + np.float32(1e-8))).astype(np.float64)
    return doc, term, value, n_terms


def anchor_pairs(batch: StepBatch) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """The batch's distinct (group, anchor) pairs, sorted by group: ``(pair_of_row (N,),
    pair_group (P,), pair_anchor (P,), m (P,) rows per pair)``. Rows of one pair have equal
    soft-baseline weight rows, so the kernels are computed per pair."""
    n_anchor = len(batch.anchor_values)
    pairs, pair_of_row = np.unique(
        batch.group_index * n_anchor + batch.anchor_index, return_inverse=True
    )
    pair_of_row = pair_of_row.reshape(-1)
    pair_group, pair_anchor = np.divmod(pairs, n_anchor)
    m = np.bincount(pair_of_row, minlength=len(pairs)).astype(np.float64)
    return pair_of_row, pair_group, pair_anchor, m


def pair_kernels(
    batch: StepBatch,
    entries: tuple[IntArray, IntArray, FloatArray, int],
    pair_group: IntArray,
    pair_anchor: IntArray,
    temperature: float,
) -> Iterator[tuple[int, int, FloatArray]]:
    r"""Per group with pairs ``lo:hi``, ``(lo, hi, E)`` with the unnormalised softmax kernel
    :math:`E_{ij} = \exp(\cos(x_i, x_j) / T - \max_j)` between its pairs' TF-IDF rows
    (``entries`` from :func:`tfidf_entries`): the soft-baseline weight of one row of pair ``j``
    seen from pair ``i`` is ``E_ij / (E @ m)_i``."""
    n_anchor = len(batch.anchor_values)
    doc, term, value, _ = entries
    doc_ptr = np.searchsorted(doc, np.arange(n_anchor + 1))
    count = np.diff(doc_ptr)[pair_anchor]
    # Each pair's TF-IDF entries laid end to end (pairs are sorted by group, so each group's
    # entries are one contiguous slice).
    offsets = np.repeat(doc_ptr[pair_anchor] - np.cumsum(count) + count, count) + np.arange(
        int(count.sum())
    )
    entry_ptr = np.concatenate(([0], np.cumsum(count)))
    entry_row = np.repeat(np.arange(len(pair_anchor)), count)
    bounds = np.searchsorted(pair_group, np.arange(batch.n_groups + 1))
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if lo == hi:
            continue
        e_lo, e_hi = entry_ptr[lo], entry_ptr[hi]
        local_terms, local_col = np.unique(term[offsets[e_lo:e_hi]], return_inverse=True)
        X = np.zeros((hi - lo, len(local_terms)))
        X[entry_row[e_lo:e_hi] - lo, local_col.reshape(-1)] = value[offsets[e_lo:e_hi]]
        logits = (X @ X.T) / temperature
        logits -= logits.max(axis=1, keepdims=True)
        yield lo, hi, np.exp(logits)


def soft_step_baseline(
    batch: StepBatch,
    G: FloatArray,
    *,
    temperature: float = 0.1,
    compat: Literal["paper", "reference"] = "paper",
) -> FloatArray:
    r"""(N,) baseline :math:`b_i` of every row (see module docstring)."""
    if not (temperature > 0 and np.isfinite(temperature)):
        raise ValueError(f"temperature must be a positive finite number, got {temperature}")
    if not len(batch):
        return np.zeros(0)
    anchor_count = np.bincount(batch.anchor_index, minlength=len(batch.anchor_values))
    entries = tfidf_entries(batch.anchor_values, anchor_count, compat)
    if entries is None and compat == "reference":
        return G.copy()  # the official code's fallback: zero step advantage
    pair_of_row, pair_group, pair_anchor, m = anchor_pairs(batch)
    S = np.bincount(pair_of_row, weights=G, minlength=len(m))
    if entries is None:  # no token anywhere: every similarity is 0, uniform weights
        group_mean = np.bincount(pair_group, weights=S) / np.bincount(pair_group, weights=m)
        return np.asarray(group_mean[batch.group_index])
    baseline = np.empty(len(m))
    for lo, hi, E in pair_kernels(batch, entries, pair_group, pair_anchor, temperature):
        baseline[lo:hi] = (E @ S[lo:hi]) / (E @ m[lo:hi])
    return baseline[pair_of_row]
