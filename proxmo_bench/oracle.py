"""Ground-truth advantages by Monte Carlo replay, and how well each estimator agrees with them.

Every task is deterministic given its seed and action prefix (records replay exactly), so the true
advantage of each recorded step under a *fixed* policy ``pi`` can be measured directly:

    A(s_t, a_t) = Q(s_t, a_t) - V(s_t),      Q(s_t, a) = E[ sum_k gamma^k r_{t+k} | s_t, a_t = a ],
                                              V(s_t) = E_{a ~ pi(.|s_t)} Q(s_t, a),

with continuations that run to the episode's end or the env's step limit. One prefix is one state:
records that share an action prefix (every record of a group shares ``s_0``) share its estimates.

- ``Q(s_t, a_t)``: the continuations after taking ``a_t`` *are* the continuations of the next state
  ``s_{t+1}``, so ``Q(s_t, a_t) = r_t + gamma V(s_{t+1})`` (``r_t`` alone when the step ended the
  episode) with ``Var = gamma^2 Var(V(s_{t+1}))``: one set of ``rollouts`` continuations serves
  both, which halves the cost without changing the estimate's distribution.
- ``V(s_t)``, ``expectation="sample"``: the mean return of ``rollouts`` continuations whose first
  action is drawn from ``pi``; ``Var = s^2 / rollouts``.
- ``V(s_t)``, ``expectation="exact"`` (the default when the policy exposes its probabilities over
  the admissible actions, :class:`ActionProbabilities`): ``V = sum_a pi(a|s_t) Q(s_t, a)`` over all
  candidates ``a``, each ``Q`` from ``max(2, round(rollouts * pi(a)))`` continuations that start
  with ``a`` (or from the next state's estimate where a record took ``a``); the rare actions
  (``rollouts * pi(a) < 1``) form one pooled stratum, ``p_rare E[Q | rare]`` from
  ``max(2, round(rollouts * p_rare))`` continuations whose first action is drawn from ``pi`` among
  them. Then
  ``A = (1 - pi(a_t)) Q(a_t) - sum_{a != a_t} pi(a) Q(a)`` and
  ``Var(A) = (1 - pi(a_t))^2 Var(Q(a_t)) + sum_{a != a_t} pi(a)^2 Var(Q(a))``: the first action's
  distribution enters exactly, which removes the variance of whether a winning action was drawn.

``se`` is the square root of that variance. Continuations are batched across states: up to
``batch_size`` live env copies step together and the policy is called once per step for all of
them. A policy that exposes probabilities is sampled by the oracle with one generator per
(state, first action, rollout), derived from ``numpy.random.SeedSequence([seed, ...])``, so the
result depends on ``seed`` only (not on batching); an opaque :class:`BatchPolicy` draws with its own
generator (a seeded one gives a deterministic result). An env copy at ``s_t`` is made by replaying
the prefix (``fork="replay"``: any env) or by ``copy.deepcopy`` of one replayed env per state
(``fork="copy"``: only for envs whose copies are exact, ``TextEnv.copy_is_exact``: KeyRoom and
ALFWorld on the fast engine, checked against replay in the tests; TextWorld's game process and
WebShop's search index cannot be copied). ``fork="auto"`` (the default) copies where exact.

Limits: this is agreement with the advantage of *one fixed* policy on *one* batch, not learning
speed; an estimator can rank well here and still train worse (or the reverse) through its scale,
its variance across batches or its interaction with the optimiser.
"""

from __future__ import annotations

import bisect
import contextlib
import copy
import gc
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import gymnasium
import numpy as np
import numpy.typing as npt

from proxmo_bench.batch_policy import BatchPolicy, Decision, StepContext
from proxmo_bench.estimators import StepBatch
from proxmo_bench.estimators.diagnostics import (
    diagnostics,
    effective_neighbours,
    identical_return_share,
    singleton_step_group_rate,
)
from proxmo_bench.rollout.records import EpisodeRecord, replay_episode
from proxmo_bench.tasks import make

FloatArray = npt.NDArray[np.float64]
Expectation = Literal["auto", "exact", "sample"]
Fork = Literal["auto", "replay", "copy"]
#: Key of the pooled stratum of rare first actions (not an action string any env offers).
POOLED = "\x00pooled"


# ---- policies -------------------------------------------------------------------------------------
@runtime_checkable
class ActionProbabilities(Protocol):
    """A policy that states its distribution over a finite list of candidate actions."""

    name: str

    def action_probabilities(
        self, contexts: Sequence[StepContext]
    ) -> list[tuple[list[str], FloatArray]]:
        """Per context: the candidate action strings and their probabilities (summing to 1)."""
        ...


def _admissible_or_error(ctx: StepContext, who: str) -> list[str]:
    adm = ctx.admissible_actions
    if not adm:
        raise ValueError(
            f"policy {who!r} chooses among info['admissible_actions'], but task {ctx.task!r} "
            f"lists none at step {ctx.step}; use a policy that writes its own actions"
        )
    return adm


class UniformPolicy:
    """``policy="random"``: uniform over ``info["admissible_actions"]``.

    An admissible entry that is a template (WebShop's ``search[<query>]``) is not an action; it is
    filled with the instruction as the relational agent fills it (``expand_templates``: whole,
    and up to its first comma), so that the random policy searches for something real."""

    name = "random"

    def __init__(self) -> None:
        self._probs: dict[int, FloatArray] = {}  # n -> the read-only uniform array (shared)

    def action_probabilities(
        self, contexts: Sequence[StepContext]
    ) -> list[tuple[list[str], FloatArray]]:
        out = []
        probs = self._probs
        for ctx in contexts:
            adm = ctx.info.get("admissible_actions")
            if not adm:
                adm = _admissible_or_error(ctx, self.name)
            if any("<" in a for a in adm):
                adm = _expanded(adm, ctx.instruction)
            p = probs.get(len(adm))
            if p is None:
                p = probs[len(adm)] = np.full(len(adm), 1.0 / len(adm))
                p.flags.writeable = False
            out.append((adm, p))
        return out


class ProbabilitySampler:
    """A :class:`BatchPolicy` that samples each action from an :class:`ActionProbabilities`
    policy (one seeded generator), so that a batch can be collected from exactly the policy the
    oracle measures (``proxmo-bench oracle --policy random`` collects with it)."""

    def __init__(self, policy: ActionProbabilities, seed: int = 0) -> None:
        self.policy = policy
        self.name = policy.name
        self.rng = np.random.default_rng(seed)

    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        out = []
        for cands, p in self.policy.action_probabilities(contexts):
            k = int(np.argmax(p)) if greedy else _draw(p, self.rng, {})
            out.append(Decision(cands[k]))
        return out


def _expanded(actions: list[str], instruction: str) -> list[str]:
    from proxmo_bench.agents.relational_agent import expand_templates

    return expand_templates(actions, instruction)


class ChoicePolicyProbabilities:
    """The softmax of a light or relational agent (``AdmissibleChoicePolicy``) over its candidates.

    The candidates are the ones the agent samples from (the relational agent's expanded templates
    included); the probabilities are its log-softmax over them, exactly what its ``act_batch``
    samples from at ``greedy=False``.
    """

    def __init__(self, policy: Any) -> None:
        from proxmo_bench.agents.choice_policy import AdmissibleChoicePolicy

        if not isinstance(policy, AdmissibleChoicePolicy):
            raise TypeError(f"expected an AdmissibleChoicePolicy, got {type(policy).__name__}")
        self.policy = policy
        self.name = policy.name

    def _candidates(self, ctx: StepContext, sample: Any) -> list[str]:
        candidates = getattr(sample, "candidates", None)
        if candidates is not None:  # the light agent keeps them
            return list(candidates)
        return _expanded(_admissible_or_error(ctx, self.name), ctx.instruction)

    def action_probabilities(
        self, contexts: Sequence[StepContext]
    ) -> list[tuple[list[str], FloatArray]]:
        if not contexts:
            return []
        decisions = self.policy.act_batch(contexts, greedy=True)
        cands = [self._candidates(c, d.sample) for c, d in zip(contexts, decisions, strict=True)]
        # The full log-softmax of every decision in one pass. agents/ offers it only as the
        # trainer-side hook `_sample_log_probs` (token_logprobs gives the chosen action's alone,
        # which would need one re-scoring per candidate).
        with _no_grad():
            lps = self.policy._sample_log_probs(self.policy.module, [d.sample for d in decisions])
        out = []
        for cs, lp in zip(cands, lps, strict=True):
            p = np.exp(lp.detach().double().numpy().reshape(-1))
            if len(p) != len(cs):
                raise RuntimeError(f"{self.name}: {len(p)} probabilities for {len(cs)} candidates")
            out.append((cs, p / p.sum()))
        return out


def _no_grad() -> Any:
    import torch

    return torch.no_grad()


class EpsilonMixture:
    """``(1 - epsilon) * base + epsilon * uniform`` over the base policy's candidates."""

    def __init__(self, base: ActionProbabilities, epsilon: float) -> None:
        if not (0.0 <= epsilon <= 1.0):
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.base = base
        self.epsilon = float(epsilon)
        self.name = f"{base.name}+eps{epsilon:g}"

    def action_probabilities(
        self, contexts: Sequence[StepContext]
    ) -> list[tuple[list[str], FloatArray]]:
        e = self.epsilon
        return [
            (cs, (1.0 - e) * p + e / len(cs)) for cs, p in self.base.action_probabilities(contexts)
        ]


PolicyLike = str | ActionProbabilities | BatchPolicy


def _is_choice_policy(policy: object) -> bool:
    """Whether ``policy`` is a light or relational agent (False when torch is not installed)."""
    try:
        from proxmo_bench.agents.choice_policy import AdmissibleChoicePolicy
    except ImportError:
        return False
    return isinstance(policy, AdmissibleChoicePolicy)


def as_oracle_policy(policy: PolicyLike) -> ActionProbabilities | BatchPolicy:
    """``"random"`` -> :class:`UniformPolicy`; a light/relational agent -> its probabilities;
    any other policy object as it is."""
    if isinstance(policy, str):
        if policy == "random":
            return UniformPolicy()
        raise ValueError(
            f"policy must be 'random' or a policy object (a BatchPolicy), got {policy!r}"
        )
    if isinstance(policy, ActionProbabilities):
        return policy
    if _is_choice_policy(policy):
        return ChoicePolicyProbabilities(policy)
    if isinstance(policy, BatchPolicy):
        return policy
    raise TypeError(f"policy must be 'random' or a BatchPolicy, got {type(policy).__name__}")


# ---- the prefix tree of the records ---------------------------------------------------------------
@dataclass
class _Child:
    reward: float
    ended: bool
    node: int | None  # index of the next state's node (None when the step ended the episode)


@dataclass
class _Node:
    """One state: a record's prefix of ``t`` actions (shared by all records with that prefix)."""

    record: int  # first record through it (which env to build, which seed to reset)
    t: int
    obs: str
    info: dict[str, Any]
    history: tuple[tuple[str, str], ...]
    children: dict[str, _Child] = field(default_factory=dict)
    candidates: list[str] | None = None
    probs: FloatArray | None = None
    # action -> returns of the continuations that started with it ("" = sampled first action)
    returns: dict[str, list[float]] = field(default_factory=dict)
    v: float = float("nan")
    v_var: float = float("nan")


def _kwargs_key(record: EpisodeRecord) -> str:
    return json.dumps(record.env_kwargs, sort_keys=True, default=str)


def _build_tree(
    records: Sequence[EpisodeRecord],
) -> tuple[list[_Node], list[tuple[int, str]]]:
    """Nodes of every recorded state and, per step row, (node, action); checks every replay."""
    nodes: list[_Node] = []
    index: dict[tuple[Any, ...], int] = {}
    rows: list[tuple[int, str]] = []
    envs: dict[tuple[str, str], gymnasium.Env[str, str]] = {}
    try:
        for ri, rec in enumerate(records):
            problem = replay_episode(rec)
            if problem is not None:
                raise ValueError(
                    f"record {ri} ({rec.task} {rec.task_id}, seed {rec.seed}) does not replay: "
                    f"{problem}; the oracle needs records that replay exactly"
                )
            key = (rec.task, _kwargs_key(rec))
            env = envs.get(key)
            if env is None:
                env = envs[key] = make(rec.task, **rec.env_kwargs)
            obs, info = env.reset(seed=rec.seed, options=rec.reset_options())
            history: tuple[tuple[str, str], ...] = ()
            base = (rec.task, key[1], rec.seed, rec.task_id)
            prev: tuple[int, str] | None = None
            for t in range(rec.steps + 1):
                nkey = (*base, tuple(rec.actions[:t]))
                ni = index.get(nkey)
                if ni is None:
                    ni = index[nkey] = len(nodes)
                    nodes.append(_Node(ri, t, obs, info, history))
                if prev is not None:
                    pnode, pact = prev
                    nodes[pnode].children[pact].node = ni
                if t == rec.steps:
                    break
                action = rec.actions[t]
                obs2, r, term, trunc, info2 = env.step(action)
                ended = bool(term or trunc)
                nodes[ni].children.setdefault(action, _Child(float(r), ended, None))
                rows.append((ni, action))
                history = (*history, (obs, action))
                obs, info = obs2, info2
                prev = None if ended else (ni, action)
    finally:
        for env in envs.values():
            env.close()
    # A record cut short by a cap (not by the env) links its last step to the node at t = steps,
    # which is valued like any other state; continuations run to the env's own end.
    return nodes, rows


# ---- continuations --------------------------------------------------------------------------------
@dataclass
class _Job:
    node: int
    first: str  # "" = the first action is drawn from the policy
    rng: np.random.Generator
    slot: int
    key: str = ""  # the stratum its return belongs to (its first action, "" or POOLED)
    env: gymnasium.Env[str, str] | None = None
    obs: str = ""
    info: dict[str, Any] = field(default_factory=dict)
    history: tuple[tuple[str, str], ...] = ()
    step: int = 0
    ret: float = 0.0
    disc: float = 1.0


class _Forker:
    """Env copies at a node's state: by replaying its prefix, or by deep-copying one replay."""

    def __init__(self, records: Sequence[EpisodeRecord], nodes: Sequence[_Node], fork: Fork):
        self.records, self.nodes, self.fork = records, nodes, fork
        self.pool: dict[tuple[str, str], list[gymnasium.Env[str, str]]] = {}
        self.templates: dict[int, gymnasium.Env[str, str]] = {}
        self.made: list[gymnasium.Env[str, str]] = []
        self.made_ids: set[int] = set()
        #: per (task, env kwargs): whether states are forked by copying
        self.copying: dict[tuple[str, str], bool] = {}

    def copies(self, rec: EpisodeRecord) -> bool:
        """Whether states of ``rec``'s env are forked by copying (``fork`` and the env decide)."""
        key = (rec.task, _kwargs_key(rec))
        decided = self.copying.get(key)
        if decided is None:
            env = self._fresh(rec)
            exact = bool(getattr(env.unwrapped, "copy_is_exact", lambda: False)())
            self.pool[key].append(env)
            if self.fork == "copy" and not exact:
                raise ValueError(
                    f"fork='copy': {rec.task} {rec.env_kwargs} does not declare exact copies "
                    f"(TextEnv.copy_is_exact); use fork='replay' or 'auto'"
                )
            decided = self.copying[key] = exact and self.fork != "replay"
        return decided

    def _fresh(self, rec: EpisodeRecord) -> gymnasium.Env[str, str]:
        key = (rec.task, _kwargs_key(rec))
        free = self.pool.setdefault(key, [])
        if free:
            return free.pop()
        env = make(rec.task, **rec.env_kwargs)
        self.made.append(env)
        self.made_ids.add(id(env))
        return env

    def _replayed(self, node: _Node) -> gymnasium.Env[str, str]:
        rec = self.records[node.record]
        env = self._fresh(rec)
        env.reset(seed=rec.seed, options=rec.reset_options())
        for a in rec.actions[: node.t]:
            env.step(a)
        return env

    def at(self, ni: int) -> gymnasium.Env[str, str]:
        if not self.copies(self.records[self.nodes[ni].record]):
            return self._replayed(self.nodes[ni])
        template = self.templates.get(ni)
        if template is None:
            template = self.templates[ni] = self._replayed(self.nodes[ni])
        return copy.deepcopy(template)

    def done_with(self, ni: int) -> None:
        """No more copies of node ``ni`` are needed (its template goes back to the pool)."""
        template = self.templates.pop(ni, None)
        if template is not None:
            self.release(self.records[self.nodes[ni].record], template)

    def release(self, rec: EpisodeRecord, env: gymnasium.Env[str, str]) -> None:
        if id(env) in self.made_ids:
            self.pool.setdefault((rec.task, _kwargs_key(rec)), []).append(env)
        else:
            env.close()

    def close(self) -> None:
        for env in self.made:
            env.close()


@dataclass
class OracleResult:
    """What :func:`oracle_values` measured; arrays have one entry per step row (record order, then
    step order)."""

    advantage: FloatArray
    se: FloatArray
    q: FloatArray
    v: FloatArray
    expectation: str
    policy: str
    gamma: float
    rollouts: int
    seed: int
    fork: str
    states: int
    continuations: int
    env_steps: int
    env_seconds: float
    policy_seconds: float
    fork_seconds: float
    total_seconds: float

    def timing(self) -> dict[str, float]:
        return {
            "env_s": self.env_seconds,
            "policy_s": self.policy_seconds,
            "fork_s": self.fork_seconds,
            "total_s": self.total_seconds,
            "states": float(self.states),
            "continuations": float(self.continuations),
            "env_steps": float(self.env_steps),
        }


def true_advantages(
    records: Sequence[EpisodeRecord],
    *,
    policy: PolicyLike = "random",
    gamma: float = 0.95,
    rollouts: int = 64,
    seed: int = 0,
) -> tuple[FloatArray, FloatArray]:
    """``(A, se)``: the Monte Carlo advantage of every recorded step under ``policy`` and its
    standard error, each (sum of record lengths,), in record order then step order (module doc).

    Raises:
        ValueError: ``rollouts < 2``; a record does not replay; the policy needs admissible
            actions and the task lists none.
    """
    res = oracle_values(records, policy=policy, gamma=gamma, rollouts=rollouts, seed=seed)
    return res.advantage, res.se


def oracle_values(
    records: Sequence[EpisodeRecord],
    *,
    policy: PolicyLike = "random",
    gamma: float = 0.95,
    rollouts: int = 64,
    seed: int = 0,
    expectation: Expectation = "auto",
    fork: Fork = "auto",
    batch_size: int = 512,
) -> OracleResult:
    """:func:`true_advantages` with Q, V, the timing and the choices it can make (module doc).

    Args:
        expectation: ``"exact"`` (the policy's probabilities over the first action), ``"sample"``
            (a drawn first action) or ``"auto"`` (exact when the policy exposes probabilities).
        fork: how an env copy at a state is made: ``"replay"`` its prefix, ``"copy"`` one replay
            (only for envs whose :meth:`~proxmo_bench.env.TextEnv.copy_is_exact`), or ``"auto"``
            (copy where exact, else replay).
        batch_size: continuations stepped together (one policy call per step for all of them).
    """
    t_start = time.perf_counter()
    if isinstance(rollouts, bool) or not isinstance(rollouts, int) or rollouts < 2:
        raise ValueError(
            f"rollouts must be an integer >= 2 (a standard error needs two continuations per "
            f"state), got {rollouts!r}"
        )
    if not (0.0 <= gamma <= 1.0):
        raise ValueError(f"gamma must be in [0, 1], got {gamma}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if fork not in ("auto", "replay", "copy"):
        raise ValueError(f"fork must be 'auto', 'replay' or 'copy', got {fork!r}")
    pol = as_oracle_policy(policy)
    has_probs = isinstance(pol, ActionProbabilities)
    if expectation == "auto":
        expectation = "exact" if has_probs else "sample"
    if expectation not in ("exact", "sample"):
        raise ValueError(f"expectation must be 'auto', 'exact' or 'sample', got {expectation!r}")
    if expectation == "exact" and not has_probs:
        raise ValueError(
            f"expectation='exact' needs a policy that exposes its probabilities "
            f"(action_probabilities); {pol.name!r} does not: use expectation='sample'"
        )
    records = list(records)
    nodes, rows = _build_tree(records)
    t_pol = 0.0

    def ctx_of(n: _Node, slot: int = 0) -> StepContext:
        rec = records[n.record]
        return StepContext(rec.task, n.obs, n.info, n.history, n.t, slot)

    # States to value: every recorded state (its A needs V) and every next state (Q needs V).
    needed = {i for i, n in enumerate(nodes) if n.children}
    needed |= {c.node for n in nodes for c in n.children.values() if c.node is not None}
    valued = sorted(needed)
    if expectation == "exact":
        assert isinstance(pol, ActionProbabilities)
        t0 = time.perf_counter()
        for lo in range(0, len(valued), batch_size):
            chunk = valued[lo : lo + batch_size]
            dists = pol.action_probabilities([ctx_of(nodes[i]) for i in chunk])
            for i, (cands, p) in zip(chunk, dists, strict=True):
                nodes[i].candidates, nodes[i].probs = list(cands), np.asarray(p, dtype=np.float64)
        t_pol += time.perf_counter() - t0

    def jobs() -> Any:
        slot = 0
        for i in valued:
            n = nodes[i]
            plan: list[tuple[int, str, int]] = []
            low: list[tuple[str, float]] = []
            if expectation == "sample":
                plan = [(0, "", rollouts)]
            else:
                assert n.candidates is not None
                code_of = {a: k + 1 for k, a in enumerate(n.candidates)}
                for a, p in _weights(n).items():
                    if a in n.children:
                        continue  # valued through the recorded next state
                    if rollouts * p >= 1.0:
                        plan.append((code_of[a], a, max(2, round(rollouts * p))))
                    else:
                        low.append((a, p))
                if low:  # rare actions: one pooled stratum, first action drawn from pi among them
                    p_low = sum(p for _, p in low)
                    plan.append((len(n.candidates) + 1, POOLED, max(2, round(rollouts * p_low))))
            for code, key, count in plan:
                n.returns.setdefault(key, [])
                for j in range(count):
                    rng = np.random.default_rng(
                        np.random.SeedSequence([seed, n.record, n.t, code, j])
                    )
                    first = key
                    if key == POOLED:
                        c = np.cumsum([p for _, p in low])
                        k = int(np.searchsorted(c, rng.random() * c[-1], side="right"))
                        first = low[min(k, len(low) - 1)][0]
                    yield _Job(i, first, rng, slot, key)
                    slot += 1
            yield i  # every job of node i has been handed out

    # Cumulative sums of the read-only probability arrays a policy hands out again and again
    # (UniformPolicy's), kept with the array so that its id stays its own.
    cumulative: dict[int, tuple[FloatArray, list[float]]] = {}
    forker = _Forker(records, nodes, fork)
    t_env = t_fork = 0.0
    n_cont = n_steps = 0
    live: list[_Job] = []
    source = jobs()
    exhausted = False
    try:
        with _paced_gc():
            while True:
                while not exhausted and len(live) < batch_size:
                    item = next(source, None)
                    if item is None:
                        exhausted = True
                    elif isinstance(item, int):
                        forker.done_with(item)
                    else:
                        n = nodes[item.node]
                        t0 = time.perf_counter()
                        item.env = forker.at(item.node)
                        t_fork += time.perf_counter() - t0
                        item.obs, item.info, item.history, item.step = n.obs, n.info, n.history, n.t
                        live.append(item)
                if not live:
                    break
                actions: list[str | None] = [
                    job.first if (job.first and job.step == nodes[job.node].t) else None
                    for job in live
                ]
                ask = [k for k, a in enumerate(actions) if a is None]
                if ask:
                    ctxs = [
                        StepContext(
                            records[nodes[live[k].node].record].task,
                            live[k].obs,
                            live[k].info,
                            live[k].history,
                            live[k].step,
                            live[k].slot,
                        )
                        for k in ask
                    ]
                    t0 = time.perf_counter()
                    if isinstance(pol, ActionProbabilities):
                        for k, (cands, p) in zip(ask, pol.action_probabilities(ctxs), strict=True):
                            actions[k] = cands[_draw(p, live[k].rng, cumulative)]
                    else:
                        for k, d in zip(ask, pol.act_batch(ctxs), strict=True):
                            actions[k] = d.action
                    t_pol += time.perf_counter() - t0
                t0 = time.perf_counter()
                still: list[_Job] = []
                for job, action in zip(live, actions, strict=True):
                    assert action is not None and job.env is not None
                    obs, r, term, trunc, info = job.env.step(action)
                    n_steps += 1
                    job.ret += job.disc * float(r)
                    job.disc *= gamma
                    if term or trunc:
                        nodes[job.node].returns[job.key].append(job.ret)
                        forker.release(records[nodes[job.node].record], job.env)
                        job.env = None
                        n_cont += 1
                    else:
                        job.history = (*job.history, (job.obs, action))
                        job.obs, job.info, job.step = obs, info, job.step + 1
                        still.append(job)
                live = still
                t_env += time.perf_counter() - t0
    finally:
        for job in live:
            if job.env is not None:
                job.env.close()
        forker.close()

    _values(nodes, valued, expectation, gamma)
    A, se, Q, V = (np.empty(len(rows)) for _ in range(4))
    for k, (ni, action) in enumerate(rows):
        n = nodes[ni]
        q, q_var = _q_of(nodes, n, action, gamma)
        A[k], Q[k], V[k] = q - n.v, q, n.v
        strata = _strata(nodes, n, gamma) if expectation == "exact" else []
        if any(label == action for label, _, _, _ in strata):
            # V includes Q(a_t) with weight pi(a_t): A = (1 - pi(a_t)) Q(a_t) - sum_{a != a_t} ...
            var = sum(
                ((1.0 - w) if label == action else w) ** 2 * s_var for label, w, _, s_var in strata
            )
        else:
            var = q_var + n.v_var
        se[k] = float(np.sqrt(max(var, 0.0)))
    return OracleResult(
        advantage=A,
        se=se,
        q=Q,
        v=V,
        expectation=expectation,
        policy=pol.name,
        gamma=gamma,
        rollouts=rollouts,
        seed=seed,
        fork="+".join(sorted({"copy" if c else "replay" for c in forker.copying.values()}))
        or "replay",
        states=len(valued),
        continuations=n_cont,
        env_steps=n_steps,
        env_seconds=t_env,
        policy_seconds=t_pol,
        fork_seconds=t_fork,
        total_seconds=time.perf_counter() - t_start,
    )


@contextlib.contextmanager
def _paced_gc(thresholds: tuple[int, int, int] = (20_000, 50, 50)) -> Iterator[None]:
    """Run the cyclic collector less often for a while (thresholds restored after).

    The continuations allocate millions of short-lived containers (infos, histories) that
    reference counting frees; at the default thresholds the collector still walks every live
    object (the state tree, hundreds of envs) thousands of times, about a fifth of the oracle's
    time. Nothing is left uncollected: the collector only runs less often."""
    old = gc.get_threshold()
    gc.set_threshold(*(max(a, b) for a, b in zip(thresholds, old, strict=True)))
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _draw(
    p: FloatArray, rng: np.random.Generator, cache: dict[int, tuple[FloatArray, list[float]]]
) -> int:
    """Index drawn from probabilities ``p`` with one ``rng.random()``: the first ``i`` with
    ``u * sum(p) < cumsum(p)[i]`` (``numpy.searchsorted(..., side="right")``, computed with
    ``bisect`` on the same float64 sums; read-only arrays have theirs cached)."""
    hit = cache.get(id(p)) if not p.flags.writeable else None
    if hit is None:
        c = np.cumsum(p).tolist()
        if not p.flags.writeable:
            cache[id(p)] = (p, c)
    else:
        c = hit[1]
    return min(bisect.bisect_right(c, rng.random() * c[-1]), len(c) - 1)


def _weights(n: _Node) -> dict[str, float]:
    assert n.candidates is not None and n.probs is not None
    w: dict[str, float] = {}
    for a, p in zip(n.candidates, n.probs.tolist(), strict=True):
        if p > 0.0:
            w[a] = w.get(a, 0.0) + p
    return w


def _mean_var(x: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray(x, dtype=np.float64)
    return float(arr.mean()), float(arr.var(ddof=1) / len(arr))


def _q_of(nodes: Sequence[_Node], n: _Node, action: str, gamma: float) -> tuple[float, float]:
    """``(Q(s, action), Var)`` at node ``n``: through the recorded next state, or the fresh
    continuations that started with ``action``."""
    child = n.children.get(action)
    if child is not None:
        if child.node is None:
            return child.reward, 0.0
        nxt = nodes[child.node]
        return child.reward + gamma * nxt.v, gamma * gamma * nxt.v_var
    return _mean_var(n.returns[action])


def _values(nodes: Sequence[_Node], valued: Sequence[int], expectation: str, gamma: float) -> None:
    """Fill ``v``/``v_var`` bottom-up (a node's children are deeper)."""
    for i in sorted(valued, key=lambda i: -nodes[i].t):
        n = nodes[i]
        if expectation == "sample":
            n.v, n.v_var = _mean_var(n.returns[""])
            continue
        strata = _strata(nodes, n, gamma)
        n.v = sum(w * q for _, w, q, _ in strata)
        n.v_var = sum(w * w * q_var for _, w, _, q_var in strata)


def _strata(
    nodes: Sequence[_Node], n: _Node, gamma: float
) -> list[tuple[str, float, float, float]]:
    """``(label, pi weight, Q, Var(Q))`` of the first-action strata at node ``n`` (exact mode):
    each recorded or frequent action alone, the rare ones (``rollouts * pi < 1``) pooled."""
    out: list[tuple[str, float, float, float]] = []
    pooled = 0.0
    for a, p in _weights(n).items():
        if a in n.children or a in n.returns:
            out.append((a, p, *_q_of(nodes, n, a, gamma)))
        else:
            pooled += p
    if pooled > 0.0:
        # E over the rare actions, drawn from pi among them: sum_a pi_a Q_a = p_low E[Q | low]
        out.append((POOLED, pooled, *_mean_var(n.returns[POOLED])))
    return out


# ---- scores ---------------------------------------------------------------------------------------
EstimatorFn = Callable[[StepBatch], np.ndarray]

#: The scores of one estimator (keys of :func:`score_advantages`' result).
SCORES = (
    "spearman",
    "pearson",
    "spearman_within",
    "pearson_within",
    "sign_agreement",
    "affine_rmse",
)


def _pearson_from_sums(n: Any, sx: Any, sy: Any, sxx: Any, syy: Any, sxy: Any) -> Any:
    cov = sxy - sx * sy / n
    vx, vy = sxx - sx * sx / n, syy - sy * sy / n
    with np.errstate(invalid="ignore", divide="ignore"):
        return cov / np.sqrt(vx * vy)


def _affine_rmse_from_sums(n: Any, sx: Any, sy: Any, sxx: Any, syy: Any, sxy: Any) -> Any:
    """RMSE of ``y - (alpha + beta x)`` at the least-squares ``alpha, beta``."""
    cov = sxy - sx * sy / n
    vx, vy = sxx - sx * sx / n, syy - sy * sy / n
    with np.errstate(invalid="ignore", divide="ignore"):
        sse = np.where(vx > 1e-12 * np.maximum(vy, 1.0), vy - cov * cov / vx, vy)
    return np.sqrt(np.maximum(sse, 0.0) / n)


def score_advantages(
    batch: StepBatch,
    estimated: np.ndarray,
    A: np.ndarray,
    se: np.ndarray,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, dict[str, float]]:
    """Agreement of ``estimated`` with the true advantages ``A`` (all (N,), the rows of ``batch``).

    Returns, per score of :data:`SCORES`, ``{"value", "low", "high"}``: the value on the batch and
    a percentile-bootstrap interval over groups (groups drawn with replacement, ``n_boot`` times).

    - ``spearman``/``pearson``: correlation over all rows pooled.
    - ``spearman_within``/``pearson_within``: the mean over groups of the correlation inside the
      group (groups where either side is constant are left out).
    - ``sign_agreement``: share of the rows with ``|A| > 2 se`` where ``sign(estimated) ==
      sign(A)`` (an estimate of 0 disagrees).
    - ``affine_rmse``: RMSE of ``A - (alpha + beta * estimated)`` at the best ``alpha, beta``
      (reward units).
    """
    from scipy import stats

    x = np.asarray(estimated, dtype=np.float64)
    y = np.asarray(A, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    g = batch.group_index
    n_groups = batch.n_groups
    if not (len(x) == len(y) == len(s) == len(batch)):
        raise ValueError(
            f"estimated ({len(x)}), A ({len(y)}), se ({len(s)}) and the batch ({len(batch)}) "
            "must have one entry per row"
        )

    def per_group(v: np.ndarray) -> np.ndarray:
        return np.bincount(g, weights=v, minlength=n_groups)

    sums = [per_group(v) for v in (np.ones_like(x), x, y, x * x, y * y, x * y)]
    sure = np.abs(y) > 2.0 * s
    agree = sure & (np.sign(x) == np.sign(y))
    n_sure, n_agree = per_group(sure.astype(float)), per_group(agree.astype(float))
    within_p = np.full(n_groups, np.nan)
    within_s = np.full(n_groups, np.nan)
    for gi in range(n_groups):
        m = g == gi
        if m.sum() >= 3 and np.ptp(x[m]) > 0 and np.ptp(y[m]) > 0:
            within_p[gi] = stats.pearsonr(x[m], y[m])[0]
            within_s[gi] = stats.spearmanr(x[m], y[m])[0]

    def spearman(xx: np.ndarray, yy: np.ndarray) -> float:
        if len(xx) < 3 or np.ptp(xx) == 0 or np.ptp(yy) == 0:
            return float("nan")
        return float(stats.spearmanr(xx, yy)[0])

    def nanmean_weighted(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
        ok = ~np.isnan(values)
        num = weights[..., ok] @ values[ok]
        den = weights[..., ok].sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(num / den)

    ones = np.ones(n_groups)
    point = {
        "spearman": spearman(x, y),
        "pearson": float(_pearson_from_sums(*(np.float64(v.sum()) for v in sums))),
        "spearman_within": float(nanmean_weighted(within_s, ones)),
        "pearson_within": float(nanmean_weighted(within_p, ones)),
        "sign_agreement": float(n_agree.sum() / n_sure.sum()) if n_sure.sum() else float("nan"),
        "affine_rmse": float(_affine_rmse_from_sums(*(np.float64(v.sum()) for v in sums))),
    }
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_groups, size=(n_boot, n_groups))
    counts = np.zeros((n_boot, n_groups))
    np.add.at(counts, (np.repeat(np.arange(n_boot), n_groups), draws.reshape(-1)), 1.0)
    boot_sums = [counts @ v for v in sums]
    with np.errstate(invalid="ignore", divide="ignore"):
        boot = {
            "pearson": _pearson_from_sums(*boot_sums),
            "affine_rmse": _affine_rmse_from_sums(*boot_sums),
            "pearson_within": nanmean_weighted(within_p, counts),
            "spearman_within": nanmean_weighted(within_s, counts),
            "sign_agreement": (counts @ n_agree) / (counts @ n_sure),
        }
    rows_of = [np.flatnonzero(g == gi) for gi in range(n_groups)]
    sp = np.empty(n_boot)
    for b in range(n_boot):
        idx = np.concatenate([rows_of[k] for k in draws[b]])
        sp[b] = spearman(x[idx], y[idx])
    boot["spearman"] = sp
    lo_q, hi_q = 100 * (1 - level) / 2, 100 * (1 + level) / 2
    out: dict[str, dict[str, float]] = {}
    for name in SCORES:
        vals = np.asarray(boot[name], dtype=np.float64)
        vals = vals[np.isfinite(vals)]
        lo, hi = (
            (float(np.percentile(vals, lo_q)), float(np.percentile(vals, hi_q)))
            if len(vals)
            else (float("nan"), float("nan"))
        )
        out[name] = {"value": point[name], "low": lo, "high": hi}
    return out


def score_estimators(
    batch: StepBatch,
    A: np.ndarray,
    se: np.ndarray,
    estimators: Mapping[str, EstimatorFn],
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> dict[str, dict[str, Any]]:
    """Per estimator label: its advantages on ``batch`` and :func:`score_advantages`."""
    out: dict[str, dict[str, Any]] = {}
    for label, est in estimators.items():
        adv = np.asarray(est(batch), dtype=np.float64)
        out[label] = {
            "advantages": adv,
            "scores": score_advantages(batch, adv, A, se, n_boot=n_boot, seed=seed),
        }
    return out


__all__ = [
    "SCORES",
    "ActionProbabilities",
    "ChoicePolicyProbabilities",
    "EpsilonMixture",
    "OracleResult",
    "UniformPolicy",
    "as_oracle_policy",
    "diagnostics",
    "effective_neighbours",
    "identical_return_share",
    "oracle_values",
    "score_advantages",
    "score_estimators",
    "singleton_step_group_rate",
    "true_advantages",
]
