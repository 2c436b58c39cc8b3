"""Straightforward per-row loop implementations of the estimators (the benchmark's baseline).

Written directly from the equations with dicts and Python loops, the way the official code is
structured, and with scikit-learn's own ``TfidfVectorizer``: an independent implementation that
the tests compare the vectorised estimators against, and the speed baseline of
``bench_estimators.py``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from difflib import SequenceMatcher
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

EPS = 1e-6


def _rows(batch: Any) -> list[dict[str, Any]]:
    return [
        {
            "g": batch.group_id[i],
            "t": (batch.group_id[i], batch.traj_id[i]),
            "s": int(batch.step[i]),
            "r": float(batch.reward[i]),
            "a": batch.anchor[i],
            "won": bool(batch.won[i]),
            "bad": batch.action_valid is not None and not bool(batch.action_valid[i]),
        }
        for i in range(len(batch.reward))
    ]


def _std(xs: list[float]) -> float:
    m = sum(xs) / len(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def loop_returns(batch: Any, gamma: float, penalty: float = 0.0, paper: bool = True) -> list[float]:
    rows = _rows(batch)
    by_traj: dict[Any, dict[int, int]] = defaultdict(dict)
    for i, row in enumerate(rows):
        by_traj[row["t"]][row["s"]] = i
    out = [0.0] * len(rows)
    for steps in by_traj.values():
        running = 0.0
        for s in sorted(steps, reverse=True):
            i = steps[s]
            r = rows[i]["r"] - (penalty if paper and rows[i]["bad"] else 0.0)
            running = r + gamma * running
            out[i] = running
    if not paper:
        out = [g - (penalty if row["bad"] else 0.0) for g, row in zip(out, rows, strict=True)]
    return out


def loop_episode(
    batch: Any, norm: str, paper: bool, penalty: float = 0.0, psc: tuple[float, float] | None = None
) -> list[float]:
    rows = _rows(batch)
    traj_sum: dict[Any, float] = defaultdict(float)
    for row in rows:
        traj_sum[row["t"]] += row["r"] - (penalty if paper and row["bad"] else 0.0)
    out = []
    if paper:
        trajs: dict[Any, set[Any]] = defaultdict(set)
        won = {}
        for row in rows:
            trajs[row["g"]].add(row["t"])
            won[row["t"]] = row["won"]
        for row in rows:
            members = sorted(trajs[row["g"]], key=str)
            if len(members) < 2:
                out.append(0.0)
                continue
            R = [traj_sum[t] for t in members]
            a = traj_sum[row["t"]] - sum(R) / len(R)
            if norm == "mean_std":
                a /= _std(R) + EPS
            if psc:
                p = sum(won[t] for t in members) / len(members)
                a *= _psc_w(won[row["t"]], p, *psc)
            out.append(a)
        return out
    scores = [traj_sum[row["t"]] - (penalty if row["bad"] else 0.0) for row in rows]
    group_scores: dict[Any, list[float]] = defaultdict(list)
    for row, s in zip(rows, scores, strict=True):
        group_scores[row["g"]].append(s)
    for row, s in zip(rows, scores, strict=True):
        xs = group_scores[row["g"]]
        mean, std = (0.0, 1.0) if len(xs) == 1 else (sum(xs) / len(xs), _std(xs))
        a = s - mean
        if norm == "mean_std":
            a /= std + EPS
        if psc:
            a *= _psc_w(s > 0.5, min(max(mean, 0.0), 1.0), *psc)
        out.append(a)
    return out


def _psc_w(success: bool, p: float, alpha: float, beta: float) -> float:
    def sig(x: float) -> float:
        return 1.0 / (1.0 + math.exp(-x))

    if success:
        return 1.0 + beta * (sig((1.0 - p) ** alpha) - 0.5)
    return 1.0 + beta * (sig(-(p**alpha)) - 0.5)


def loop_gigpo(
    batch: Any,
    norm: str = "mean_std",
    paper: bool = True,
    gamma: float = 0.95,
    step_weight: float = 1.0,
    similarity: float | None = None,
    penalty: float = 0.0,
) -> list[float]:
    rows = _rows(batch)
    A_E = loop_episode(batch, norm, paper, penalty)
    G = loop_returns(batch, gamma, penalty, paper)
    cluster: list[Any] = []
    reps: dict[Any, list[tuple[str, int]]] = defaultdict(list)
    for row in rows:
        if similarity is None:
            cluster.append((row["g"], row["a"]))
            continue
        for rep, cid in reps[row["g"]]:
            if SequenceMatcher(None, row["a"], rep).ratio() >= similarity:
                cluster.append(cid)
                break
        else:
            cid = len(cluster) + 10_000_000
            reps[row["g"]].append((row["a"], cid))
            cluster.append(cid)
    members: dict[Any, list[float]] = defaultdict(list)
    for c, g in zip(cluster, G, strict=True):
        members[c].append(g)
    out = []
    for i, c in enumerate(cluster):
        xs = members[c]
        if len(xs) == 1:
            a_s = 0.0
        else:
            a_s = G[i] - sum(xs) / len(xs)
            if norm == "mean_std":
                a_s /= _std(xs) + EPS
        out.append(A_E[i] + step_weight * a_s)
    return out


def loop_proxmo(
    batch: Any,
    paper: bool = True,
    gamma: float = 0.95,
    step_weight: float = 1.0,
    psc: bool = True,
    alpha: float = 4.0,
    target: float = 0.05,
    temperature: float = 0.1,
    penalty: float = 0.0,
) -> list[float]:
    rows = _rows(batch)
    beta = target / (1.0 / (1.0 + math.exp(-1.0)) - 0.5)
    A_E = loop_episode(batch, "mean", paper, penalty, (alpha, beta) if psc else None)
    G = loop_returns(batch, gamma, penalty, paper)
    anchors = [row["a"] for row in rows]
    if paper:
        vec = TfidfVectorizer(token_pattern=r"(?u)\b\w+(?: \d+(?!\w))?")
    else:
        vec = TfidfVectorizer(max_features=1024)
    try:
        X = vec.fit_transform(anchors).toarray()
    except ValueError:  # empty vocabulary
        if not paper:
            return A_E
        X = np.zeros((len(rows), 1))
    groups: dict[Any, list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        groups[row["g"]].append(i)
    G_arr = np.asarray(G)
    out = []
    for i, row in enumerate(rows):  # one row at a time: its similarities to its group's rows
        members = groups[row["g"]]
        logits = X[members] @ X[i] / temperature
        weights = np.exp(logits - logits.max())
        baseline = float(weights @ G_arr[members] / weights.sum())
        out.append(A_E[i] + step_weight * (G[i] - baseline))
    return out
