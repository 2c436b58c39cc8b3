"""Vectorised estimators against the independent per-row loop implementations (benchmarks/)."""

from __future__ import annotations

import numpy as np
import pytest
from loop_estimators import loop_gigpo, loop_proxmo, loop_returns

from proxmo_bench.estimators import discounted_returns, get_estimator
from tests.estimators.batches import random_batch

SEEDS = range(6)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("compat", ["paper", "reference"])
def test_returns_match_loop(seed: int, compat: str) -> None:
    b = random_batch(np.random.default_rng(seed), shuffle=True, invalid_rate=0.2)
    est = get_estimator("gigpo", compat=compat, invalid_penalty=0.1)
    want = loop_returns(b, 0.95, 0.1, paper=compat == "paper")
    np.testing.assert_allclose(est.step_returns(b, 0.95), want, atol=2e-6)  # type: ignore[attr-defined]
    np.testing.assert_allclose(discounted_returns(b, 0.95), loop_returns(b, 0.95), atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("compat", ["paper", "reference"])
@pytest.mark.parametrize("norm", ["mean_std", "mean"])
@pytest.mark.parametrize("similarity", [None, 0.9])
def test_gigpo_matches_loop(seed: int, compat: str, norm: str, similarity: float | None) -> None:
    rng = np.random.default_rng(100 + seed)
    b = random_batch(rng, shuffle=seed % 2 == 0, invalid_rate=0.2 * (seed % 3 == 0))
    got = get_estimator(
        "gigpo", compat=compat, norm=norm, similarity=similarity, invalid_penalty=0.1
    )(b)
    want = loop_gigpo(b, norm, compat == "paper", similarity=similarity, penalty=0.1)
    # reference mode computes in float32 like the official code
    np.testing.assert_allclose(got, want, atol=2e-5 if compat == "reference" else 1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("compat", ["paper", "reference"])
@pytest.mark.parametrize("psc", [True, False])
def test_proxmo_matches_loop(seed: int, compat: str, psc: bool) -> None:
    rng = np.random.default_rng(200 + seed)
    b = random_batch(rng, shuffle=seed % 2 == 1, invalid_rate=0.2 * (seed % 2))
    got = get_estimator("proxmo", compat=compat, psc=psc, invalid_penalty=0.1)(b)
    want = loop_proxmo(b, paper=compat == "paper", psc=psc, penalty=0.1)
    np.testing.assert_allclose(got, want, atol=2e-5 if compat == "reference" else 1e-9)


@pytest.mark.parametrize(
    ("name", "atol"),
    [
        *((n, 1e-9) for n in ("grpo", "rloo", "gigpo", "proxmo")),
        *((n, 1e-6) for n in ("drgrpo", "reinforce_pp", "rebn")),  # float32 reference modes
    ],
)
@pytest.mark.parametrize("compat", ["paper", "reference"])
def test_row_order_does_not_matter(name: str, atol: float, compat: str) -> None:
    rng = np.random.default_rng(7)
    b = random_batch(rng, n_groups=4, group_size=5, invalid_rate=0.1)
    perm = rng.permutation(len(b))
    from proxmo_bench.estimators import StepBatch

    shuffled = StepBatch(
        group_id=b.group_id[perm],
        traj_id=b.traj_id[perm],
        step=b.step[perm],
        reward=b.reward[perm],
        anchor=b.anchor[perm],
        won=b.won[perm],
        action_valid=None if b.action_valid is None else b.action_valid[perm],
    )
    est = get_estimator(name, compat=compat, invalid_penalty=0.1)
    np.testing.assert_allclose(est(shuffled), est(b)[perm], atol=atol)


def test_paper_and_reference_differ_where_documented() -> None:
    """Long failing trajectories weigh more in the reference's step-row statistics."""
    rng = np.random.default_rng(3)
    b = random_batch(rng, n_groups=2, group_size=6, max_len=12)
    for name in ("grpo", "gigpo", "proxmo"):
        paper = get_estimator(name)(b)
        ref = get_estimator(name, compat="reference")(b)
        assert not np.allclose(paper, ref), name


@pytest.mark.parametrize("compat", ["reference", "paper"])
def test_tfidf_matches_scikit_learn(compat: str) -> None:
    """Large vocabulary (> 1,024 terms: the reference's feature cut) and repeated documents."""
    import string

    from sklearn.feature_extraction.text import TfidfVectorizer

    from proxmo_bench.estimators.proximity import tfidf_entries

    rng = np.random.default_rng(0)
    words = [
        "".join(rng.choice(list(string.ascii_lowercase), size=int(rng.integers(1, 6))))
        for _ in range(2500)
    ]
    docs = [
        " ".join(rng.choice(words, size=int(rng.integers(0, 30)))) + f" Shelf {i % 7}"
        for i in range(400)
    ]
    docs[3] = "a separator \x1e inside"
    weight = rng.integers(1, 4, size=len(docs))
    rows = [d for d, w in zip(docs, weight, strict=True) for _ in range(w)]
    if compat == "reference":
        vec = TfidfVectorizer(max_features=1024)
    else:
        vec = TfidfVectorizer(token_pattern=r"(?u)\b\w+(?: \d+(?!\w))?")
    X = vec.fit_transform(rows).toarray()
    first = np.cumsum(weight) - weight
    want = X[first] @ X[first].T
    entries = tfidf_entries(docs, weight, compat)  # type: ignore[arg-type]
    assert entries is not None
    doc, term, value, n_terms = entries
    import scipy.sparse as sp

    F = sp.csr_array((value, (doc, term)), shape=(len(docs), n_terms))
    # reference mode re-normalises in float32 like the official code
    np.testing.assert_allclose(
        (F @ F.T).toarray(), want, atol=1e-6 if compat == "reference" else 1e-12
    )
