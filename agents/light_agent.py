"""A light CPU policy: frozen hashed text features and a small network scoring admissible actions.

The policy is ``pi(a | s) = softmax_a f(phi(s), phi(a))`` over the admissible actions ``a`` of the
current state, where ``phi`` are frozen scikit-learn ``HashingVectorizer`` features (word 1-2
grams, l2-normalised) and ``f`` a small torch network: the state text (task, current
observation with the env's anchor, the last few actions) and each action are projected to ``hidden`` units and scored by
an MLP on ``[h_s, h_a, h_s * h_a]``. Each decision is one "token" for the trainer, so the same
PPO loss, estimators and rollouts serve the LLM and this policy; runs take minutes on a CPU.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from sklearn.feature_extraction.text import HashingVectorizer
from torch import nn

from proxmo_bench.agents.choice_policy import AdmissibleChoicePolicy
from proxmo_bench.batch_policy import Decision, StepContext


@dataclass(frozen=True)
class LightSample:
    """What is needed to re-score one decision: the state's and candidates' texts (features are a
    pure function of them, recomputed through the agent's cache), the choice, the old log-prob."""

    state: tuple[str, str, str]  # instruction | observation + anchor | recent actions
    candidates: tuple[str, ...]
    index: int
    old_logp: float


class ActionScorer(nn.Module):
    """``f(phi(s), phi(a))``: a logit for each candidate action of a state."""

    def __init__(self, n_features: int, hidden: int) -> None:
        super().__init__()
        self.state_proj = nn.Linear(3 * n_features, hidden)
        self.action_proj = nn.Linear(n_features, hidden)
        self.head = nn.Sequential(nn.Linear(3 * hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(
        self, state: torch.Tensor, actions: torch.Tensor, owner: torch.Tensor
    ) -> torch.Tensor:
        """Logits (M,) for ``actions`` (M, F) whose states are ``state[owner]`` (S, 3F)."""
        h_s = torch.tanh(self.state_proj(state))[owner]
        h_a = torch.tanh(self.action_proj(actions))
        return self.head(torch.cat([h_s, h_a, h_s * h_a], dim=-1)).squeeze(-1)


class StateValue(nn.Module):
    """The critic ``V(s) = w^T tanh(W phi(s) + b) + c`` on the same frozen state features."""

    def __init__(self, n_features: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(3 * n_features, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, state: torch.Tensor) -> torch.Tensor:
        """Values (S,) of the states (S, 3F)."""
        return self.net(state).squeeze(-1)


class CachedHashing:
    """``HashingVectorizer.transform`` as dense rows, with a cache of the strings seen before.

    Hashed features are a pure function of the string (the vectorizer is stateless and its
    normalisation is per row), so a cached row is exactly the row a fresh transform would give.
    Rollouts repeat the same observations, instructions and actions thousands of times; only
    strings not seen yet are featurised, in one call. The cache is dropped when it holds
    ``max_entries`` strings.
    """

    def __init__(self, vectorizer: HashingVectorizer, max_entries: int = 200_000) -> None:
        self.vectorizer = vectorizer
        self.max_entries = max_entries
        self._rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.hits = 0
        self.misses = 0

    def _rows_of(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        rows = self._rows
        new = list(dict.fromkeys(t for t in texts if t not in rows))
        self.misses += len(new)
        self.hits += len(texts) - len(new)
        if new:
            if len(rows) + len(new) > self.max_entries:
                rows.clear()
            m = self.vectorizer.transform(new)
            for i, text in enumerate(new):
                a, b = m.indptr[i], m.indptr[i + 1]
                rows[text] = (m.indices[a:b].copy(), m.data[a:b].copy())
        return [rows[t] for t in texts]

    def dense(self, texts: Sequence[str]) -> np.ndarray:
        """``vectorizer.transform(texts)`` as a dense float32 array, without building a sparse
        matrix (the values are the same: rows hold each feature once)."""
        parts = self._rows_of(texts)
        out = np.zeros((len(texts), self.vectorizer.n_features), dtype=np.float32)
        if parts:
            lengths = [len(ix) for ix, _ in parts]
            rows = np.repeat(np.arange(len(texts)), lengths)
            out[rows, np.concatenate([ix for ix, _ in parts])] = np.concatenate(
                [d for _, d in parts]
            )
        return out


class LightAgent(AdmissibleChoicePolicy):
    """The light policy (see module docstring); a trainable ``BatchPolicy``.

    Args:
        n_features: hashed features per text field.
        hidden: width of the network.
        history_length: how many of the last actions enter the state text.
        temperature: softmax temperature of the policy.
        seed: seeds the network initialisation (a local generator; global RNG untouched).
        value_head: also build a critic :class:`StateValue` (for estimators that read values,
            ``ppo_gae``), initialised from ``seed + 1`` so the policy network is the same as
            without it.
    """

    name = "light"

    def __init__(
        self,
        n_features: int = 2048,
        hidden: int = 64,
        history_length: int = 3,
        temperature: float = 1.0,
        seed: int = 0,
        value_head: bool = False,
    ) -> None:
        if n_features < 16 or hidden < 1 or temperature <= 0:
            raise ValueError("need n_features >= 16, hidden >= 1 and temperature > 0")
        self.n_features = n_features
        self.history_length = history_length
        self.temperature = float(temperature)
        self.vectorizer = HashingVectorizer(
            n_features=n_features, ngram_range=(1, 2), alternate_sign=False, norm="l2"
        )
        self.features = CachedHashing(self.vectorizer)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.module = ActionScorer(n_features, hidden)
        self.reference = copy.deepcopy(self.module).requires_grad_(False)
        self.value_net: StateValue | None = None
        if value_head:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed + 1)
                self.value_net = StateValue(n_features, hidden)
        self._episode_history: list[tuple[str, str]] = []

    # ---- features --------------------------------------------------------------------------------
    def _state_texts(self, ctx: StepContext) -> tuple[str, str, str]:
        return (
            ctx.instruction,
            # The anchor is the env's own history-free state text (e.g. "You hold the key"), which
            # the observation alone may not repeat; both together make the state closer to Markov.
            ctx.obs + " " + str(ctx.info.get("anchor", "")),
            " ".join(a for _, a in ctx.history[-self.history_length :]),
        )

    def _state_matrix(self, states: Sequence[tuple[str, str, str]]) -> torch.Tensor:
        """(S, 3F) features: the three text fields side by side."""
        fields = [self.features.dense([st[k] for st in states]) for k in range(3)]
        return torch.from_numpy(np.hstack(fields))

    # ---- acting ----------------------------------------------------------------------------------
    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        """Sample (or, ``greedy``, take the arg-max) one admissible action per context.

        Sampling uses torch's global generator, so a seeded run is reproducible.
        """
        if not contexts:
            return []
        cands = [tuple(self._admissible(c)) for c in contexts]
        states = [self._state_texts(c) for c in contexts]
        with torch.no_grad():
            logp_all = self._log_probs(self.module, states, cands)
        out = []
        for lp, state, actions in zip(logp_all, states, cands, strict=True):
            k = self._choose(lp, greedy)
            sample = LightSample(state, actions, k, float(lp[k]))
            out.append(Decision(actions[k], True, sample, actions[k]))
        return out

    def _log_probs(
        self,
        net: nn.Module,
        states: Sequence[tuple[str, str, str]],
        cands: Sequence[Sequence[str]],
    ) -> list[torch.Tensor]:
        sizes = [len(c) for c in cands]
        owner = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
        actions = torch.from_numpy(self.features.dense([a for c in cands for a in c]))
        logits = net(self._state_matrix(states), actions, owner)
        logits = logits / self.temperature
        return [torch.log_softmax(x, dim=0) for x in torch.split(logits, sizes)]

    def _sample_log_probs(
        self, net: nn.Module, samples: Sequence[LightSample]
    ) -> list[torch.Tensor]:
        return self._log_probs(net, [s.state for s in samples], [s.candidates for s in samples])

    # ---- critic --------------------------------------------------------------------------------
    def state_values(self, samples: Sequence[LightSample]) -> torch.Tensor:
        """``V(s)`` (S,) of each sample's state, with gradients (wrap in ``no_grad`` to read)."""
        if self.value_net is None:
            raise ValueError("this light agent has no value head (build it with value_head=True)")
        return self.value_net(self._state_matrix([s.state for s in samples]))

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
        out: dict[str, Any] = {"agent": "light", "n_features": self.n_features, "params": n_params}
        if self.value_net is not None:
            out["value_head_params"] = sum(p.numel() for p in self.value_net.parameters())
        return out
