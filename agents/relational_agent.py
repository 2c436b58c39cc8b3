"""A CPU policy that learns from few successes: it scores actions by how they relate to the task.

The policy is ``pi(a | s) = softmax_a z(a) / tau`` over the admissible actions of the current
state, with the logit

    z(a) = U[v(a)] . x(a) + g([onehot(v(a)), x(a)]),     x(a) = [r(a), s]

where ``r(a)`` are the candidate's relations to the instruction, the current observation and the
episode's memory, ``s`` the state features and ``v(a)`` the action's verb bucket
(:mod:`proxmo_bench.agents.episode_relations`), ``U`` a per-verb weight table (zero at the start,
so an untrained policy is uniform over the admissible actions) and ``g`` a small tanh MLP for the
features' interactions. Nothing in it names a game's objects: it learns which *kinds* of action in
which *relation* to the task pay off, so what it learns on training games carries to unseen ones.

With ``pages=True`` (config ``relational_pages``) ``r(a)`` and ``s`` also carry the page
relations (an argument the instruction quotes word for word, a candidate's rank in a listing,
whether a quoted action is left: WebShop's options and results).

An admissible action that is a template (``search[<query>]``) stands for the instruction put in
its slot, whole and cut at its first comma: the agent picks among concrete actions only.

Each decision is one "token" for the trainer (same PPO loss, estimators, rollouts and records as
the LLM); a decision's features are computed once, when it is taken, and kept for re-scoring.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from proxmo_bench.agents.choice_policy import AdmissibleChoicePolicy
from proxmo_bench.agents.episode_relations import (
    N_PAGE_RELATIONS,
    N_PAGE_STATE,
    N_RELATIONS,
    N_STATE,
    N_VERBS,
    episode_relations,
    page_relations,
)
from proxmo_bench.batch_policy import Decision, StepContext

_SLOT = re.compile(r"<[^<>\[\]]+>")


def expand_templates(actions: Sequence[str], instruction: str) -> list[str]:
    """The admissible actions with each template's slot filled by the instruction, whole and up
    to its first comma (duplicates dropped, order kept); non-templates unchanged."""
    text = " ".join(instruction.split())
    fills = list(dict.fromkeys(f for f in (text, text.split(",")[0].strip()) if f))
    out: list[str] = []
    for a in actions:
        slot = _SLOT.search(a)
        if slot and fills:
            out.extend(a[: slot.start()] + f + a[slot.end() :] for f in fills)
        else:
            out.append(a)
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class RelationalSample:
    """One decision, re-scorable without the episode: the candidates' features and the choice."""

    relations: np.ndarray  # (K, N_RELATIONS [+ N_PAGE_RELATIONS]) float32
    state: np.ndarray  # (N_STATE [+ N_PAGE_STATE],) float32
    verbs: np.ndarray  # (K,) int64
    index: int
    old_logp: float


class RelationScorer(nn.Module):
    """``z(a) = U[v] . x + g([onehot(v), x])`` for a flat batch of candidates with ``n_x``
    features each."""

    def __init__(self, hidden: int, n_x: int = N_RELATIONS + N_STATE) -> None:
        super().__init__()
        self.verb_weights = nn.Embedding(N_VERBS, n_x)
        nn.init.zeros_(self.verb_weights.weight)
        first, last = nn.Linear(N_VERBS + n_x, hidden), nn.Linear(hidden, 1)
        with torch.no_grad():
            last.weight.mul_(0.01)
            last.bias.zero_()
        self.mlp = nn.Sequential(first, nn.Tanh(), last)

    def forward(self, x: torch.Tensor, verbs: torch.Tensor) -> torch.Tensor:
        """Logits (M,) for candidates with features ``x`` (M, n_x) and verb buckets ``verbs``
        (M,)."""
        linear = (self.verb_weights(verbs) * x).sum(-1)
        onehot = torch.nn.functional.one_hot(verbs, N_VERBS).to(x.dtype)
        return linear + self.mlp(torch.cat([onehot, x], dim=-1)).squeeze(-1)


class RelationalValue(nn.Module):
    """The critic ``V(s) = w^T tanh(W [s; mean_a r(a); max_a r(a)] + b) + c``: the state features
    with the mean and the maximum of the admissible candidates' relations (a summary of the
    state that does not depend on the candidates' order), for estimators that read values."""

    def __init__(self, hidden: int, n_relations: int, n_state: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_state + 2 * n_relations, hidden), nn.Tanh(), nn.Linear(hidden, 1)
        )

    def forward(
        self, relations: torch.Tensor, states: torch.Tensor, owner: torch.Tensor
    ) -> torch.Tensor:
        """Values (S,) of S states (S, n_state), from their candidates' relations (M, n_relations)
        whose state is ``owner`` (M,) (every state has at least one candidate)."""
        n, width = states.shape[0], relations.shape[1]
        index = owner.unsqueeze(1).expand(-1, width)
        total = torch.zeros(n, width, dtype=relations.dtype).index_add_(0, owner, relations)
        count = torch.bincount(owner, minlength=n).clamp_min(1).to(relations.dtype)
        top = torch.full((n, width), float("-inf"), dtype=relations.dtype)
        top = top.scatter_reduce(0, index, relations, reduce="amax")
        x = torch.cat([states, total / count.unsqueeze(1), top], dim=-1)
        return self.net(x).squeeze(-1)


class RelationalAgent(AdmissibleChoicePolicy):
    """The relational policy (module docstring); a trainable ``BatchPolicy``.

    Args:
        hidden: width of the interaction MLP ``g``.
        pages: also read the page relations and state
            (:func:`~proxmo_bench.agents.episode_relations.page_relations`: the action's argument
            quoted by the instruction, its rank in the page's listing, whether such an action is
            left); off by default, which keeps the features, and so the weights, of runs made
            before they existed.
        temperature: softmax temperature ``tau`` of the policy.
        seed: seeds the network initialisation (a local generator; global RNG untouched).
        value_head: also build a critic :class:`RelationalValue` (for estimators that read values,
            ``ppo_gae``), initialised from ``seed + 1`` so the policy network is the same as
            without it.
    """

    name = "relational"

    def __init__(
        self,
        hidden: int = 32,
        temperature: float = 1.0,
        seed: int = 0,
        *,
        pages: bool = False,
        value_head: bool = False,
    ) -> None:
        if hidden < 1 or temperature <= 0:
            raise ValueError("need hidden >= 1 and temperature > 0")
        self.hidden = hidden
        self.pages = pages
        self.temperature = float(temperature)
        n_rel = N_RELATIONS + (N_PAGE_RELATIONS if pages else 0)
        n_state = N_STATE + (N_PAGE_STATE if pages else 0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.module = RelationScorer(hidden, n_rel + n_state)
        self.reference = copy.deepcopy(self.module).requires_grad_(False)
        self.value_net: RelationalValue | None = None
        if value_head:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed + 1)
                self.value_net = RelationalValue(hidden, n_rel, n_state)
        self._episode_history: list[tuple[str, str]] = []

    # ---- scoring ---------------------------------------------------------------------------------
    def _log_probs(
        self,
        net: nn.Module,
        relations: Sequence[np.ndarray],
        states: Sequence[np.ndarray],
        verbs: Sequence[np.ndarray],
    ) -> list[torch.Tensor]:
        sizes = [len(v) for v in verbs]
        rel = torch.from_numpy(np.concatenate(list(relations)))
        st = torch.from_numpy(np.repeat(np.stack(list(states)), sizes, axis=0))
        x = torch.cat([rel, st], dim=-1)
        logits = net(x, torch.from_numpy(np.concatenate(list(verbs)))) / self.temperature
        return [torch.log_softmax(z, dim=0) for z in torch.split(logits, sizes)]

    # ---- acting ----------------------------------------------------------------------------------
    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        """Sample (or, ``greedy``, take the arg-max) one admissible action per context.

        Sampling uses torch's global generator, so a seeded run is reproducible.
        """
        if not contexts:
            return []
        cands = [expand_templates(self._admissible(c), c.instruction) for c in contexts]
        feats = [self._features(c, a) for c, a in zip(contexts, cands, strict=True)]
        with torch.no_grad():
            lps = self._log_probs(
                self.module, [f[0] for f in feats], [f[1] for f in feats], [f[2] for f in feats]
            )
        out = []
        for (rel, st, vb), lp, actions in zip(feats, lps, cands, strict=True):
            k = self._choose(lp, greedy)
            sample = RelationalSample(rel, st, vb, k, float(lp[k]))
            out.append(Decision(actions[k], True, sample, actions[k]))
        return out

    def _features(
        self, ctx: StepContext, candidates: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        rel, state, verbs = episode_relations(ctx, candidates)
        if self.pages:
            page, left = page_relations(ctx, candidates)
            rel, state = np.concatenate([rel, page], axis=1), np.concatenate([state, left])
        return rel, state, verbs

    def _sample_log_probs(
        self, net: nn.Module, samples: Sequence[RelationalSample]
    ) -> list[torch.Tensor]:
        return self._log_probs(
            net,
            [s.relations for s in samples],
            [s.state for s in samples],
            [s.verbs for s in samples],
        )

    # ---- critic --------------------------------------------------------------------------------
    def state_values(self, samples: Sequence[RelationalSample]) -> torch.Tensor:
        """``V(s)`` (S,) of each sample's state, with gradients (wrap in ``no_grad`` to read)."""
        if self.value_net is None:
            raise ValueError(
                "this relational agent has no value head (build it with value_head=True)"
            )
        sizes = torch.tensor([len(s.verbs) for s in samples])
        owner = torch.repeat_interleave(torch.arange(len(samples)), sizes)
        relations = torch.from_numpy(np.concatenate([s.relations for s in samples]))
        states = torch.from_numpy(np.stack([s.state for s in samples]))
        return self.value_net(relations, states, owner)

    def state_dict(self) -> dict[str, Any]:
        """The network, its KL reference and, when present, the value head."""
        state = super().state_dict()
        if self.value_net is not None:
            state["value"] = self.value_net.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        if self.value_net is not None:
            if "value" not in state:
                raise ValueError("the checkpoint holds no value head, but this agent has one")
            self.value_net.load_state_dict(state["value"])

    def describe(self) -> dict[str, Any]:
        """The agent's identity for run manifests."""
        n_params = sum(p.numel() for p in self.module.parameters())
        out: dict[str, Any] = {
            "agent": "relational",
            "hidden": self.hidden,
            "pages": self.pages,
            "params": n_params,
        }
        if self.value_net is not None:
            out["value_head_params"] = sum(p.numel() for p in self.value_net.parameters())
        return out
