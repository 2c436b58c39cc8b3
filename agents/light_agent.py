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
import scipy.sparse as sp
import torch
from sklearn.feature_extraction.text import HashingVectorizer
from torch import nn

from proxmo_bench.batch_policy import Decision, StepContext


@dataclass(frozen=True)
class LightSample:
    """What is needed to re-score one decision: state/candidate features, choice, old log-prob."""

    state: sp.csr_matrix  # (1, 3F): instruction | observation + anchor | recent actions
    candidates: sp.csr_matrix  # (K, F)
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


def _to_dense(m: sp.spmatrix) -> torch.Tensor:
    return torch.from_numpy(np.asarray(m.todense(), dtype=np.float32))


class LightAgent:
    """The light policy (see module docstring); a trainable ``BatchPolicy``.

    Args:
        n_features: hashed features per text field.
        hidden: width of the network.
        history_length: how many of the last actions enter the state text.
        temperature: softmax temperature of the policy.
        seed: seeds the network initialisation (a local generator; global RNG untouched).
    """

    name = "light"

    def __init__(
        self,
        n_features: int = 2048,
        hidden: int = 64,
        history_length: int = 3,
        temperature: float = 1.0,
        seed: int = 0,
    ) -> None:
        if n_features < 16 or hidden < 1 or temperature <= 0:
            raise ValueError("need n_features >= 16, hidden >= 1 and temperature > 0")
        self.n_features = n_features
        self.history_length = history_length
        self.temperature = float(temperature)
        self.vectorizer = HashingVectorizer(
            n_features=n_features, ngram_range=(1, 2), alternate_sign=False, norm="l2"
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.module = ActionScorer(n_features, hidden)
        self.reference = copy.deepcopy(self.module).requires_grad_(False)
        self._episode_history: list[tuple[str, str]] = []
        #: Task id for the one-episode ``act`` (only used in error messages).
        self.task = ""

    # ---- features --------------------------------------------------------------------------------
    def _state_features(self, ctxs: Sequence[StepContext]) -> sp.csr_matrix:
        fields = [
            [c.instruction for c in ctxs],
            # The anchor is the env's own history-free state text (e.g. "You hold the key"), which the
            # observation alone may not repeat; both together make the state closer to Markov.
            [c.obs + " " + str(c.info.get("anchor", "")) for c in ctxs],
            [" ".join(a for _, a in c.history[-self.history_length :]) for c in ctxs],
        ]
        return sp.hstack([self.vectorizer.transform(f) for f in fields], format="csr")

    def _candidates(self, ctx: StepContext) -> list[str]:
        adm = ctx.admissible_actions
        if not adm:
            raise ValueError(
                f"the light agent chooses among admissible actions, but task {ctx.task!r} listed "
                "none at this step; use the LLM agent for tasks without admissible actions"
            )
        return adm

    # ---- acting ----------------------------------------------------------------------------------
    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        """Sample (or, ``greedy``, take the arg-max) one admissible action per context.

        Sampling uses torch's global generator, so a seeded run is reproducible.
        """
        if not contexts:
            return []
        cands = [self._candidates(c) for c in contexts]
        states = self._state_features(contexts)
        cand_feats = [self.vectorizer.transform(c) for c in cands]
        with torch.no_grad():
            logp_all = self._log_probs(self.module, states, cand_feats)
        out = []
        for i, (lp, actions) in enumerate(zip(logp_all, cands, strict=True)):
            k = int(lp.argmax()) if greedy else int(torch.multinomial(lp.exp(), 1))
            sample = LightSample(states[i], cand_feats[i], k, float(lp[k]))
            out.append(Decision(actions[k], True, sample, actions[k]))
        return out

    def _log_probs(
        self, net: nn.Module, states: sp.csr_matrix, cands: Sequence[sp.csr_matrix]
    ) -> list[torch.Tensor]:
        sizes = [c.shape[0] for c in cands]
        owner = torch.repeat_interleave(torch.arange(len(sizes)), torch.tensor(sizes))
        logits = net(_to_dense(states), _to_dense(sp.vstack(cands, format="csr")), owner)
        logits = logits / self.temperature
        return [torch.log_softmax(x, dim=0) for x in torch.split(logits, sizes)]

    # ---- training interface --------------------------------------------------------------------
    def token_logprobs(
        self, samples: Sequence[LightSample], *, reference: bool = False, with_entropy: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Log-probs (S, 1) of the chosen actions, their mask (S, 1) and entropies (S, 1) or None."""
        net = self.reference if reference else self.module
        states = sp.vstack([s.state for s in samples], format="csr")
        lps = self._log_probs(net, states, [s.candidates for s in samples])
        logp = torch.stack([lp[s.index] for lp, s in zip(lps, samples, strict=True)]).unsqueeze(1)
        ent = None
        if with_entropy:
            ent = torch.stack([-(lp.exp() * lp).sum() for lp in lps]).unsqueeze(1)
        return logp, torch.ones_like(logp), ent

    def token_count(self, sample: LightSample) -> int:
        """Each decision is one "token" of the loss."""
        return 1

    def old_logprobs(self, samples: Sequence[LightSample]) -> torch.Tensor:
        """The log-probs (S, 1) recorded when the actions were taken."""
        return torch.tensor([[s.old_logp] for s in samples], dtype=torch.float32)

    def after_update(self) -> None:
        """Nothing to sync: acting and training share one network."""

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint resumes from: the network and the (KL) reference network."""
        return {"module": self.module.state_dict(), "reference": self.reference.state_dict()}

    def weights(self) -> dict[str, torch.Tensor]:
        """The network that chooses actions (the reference only enters the KL term)."""
        return dict(self.module.state_dict())

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.module.load_state_dict(state["module"])
        self.reference.load_state_dict(state["reference"])

    def describe(self) -> dict[str, Any]:
        """The agent's identity for run manifests."""
        n_params = sum(p.numel() for p in self.module.parameters())
        return {"agent": "light", "n_features": self.n_features, "params": n_params}

    # ---- one-episode Agent protocol ------------------------------------------------------------------
    def reset(self, obs: str, info: dict[str, Any]) -> None:
        self._episode_history = []

    def act(self, obs: str, info: dict[str, Any]) -> str:
        ctx = StepContext(
            self.task, obs, info, tuple(self._episode_history), len(self._episode_history)
        )
        action = self.act_batch([ctx])[0].action
        self._episode_history.append((obs, action))
        return action
