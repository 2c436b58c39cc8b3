"""What the CPU policies that choose among admissible actions share: the trainer's interface.

Both :class:`~proxmo_bench.agents.light_agent.LightAgent` and
:class:`~proxmo_bench.agents.relational_agent.RelationalAgent` give each candidate action of a state
a logit and sample from ``softmax`` over the candidates; each decision is one "token" of the loss,
its log-prob re-scored from what the sample kept. A subclass sets ``module`` (the scoring network),
``reference`` (its frozen copy for the KL term) and implements ``act_batch`` and
``_sample_log_probs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from proxmo_bench.batch_policy import Decision, StepContext


class AdmissibleChoicePolicy:
    """A trainable batch policy over admissible actions (module docstring)."""

    name: str
    module: nn.Module
    reference: nn.Module
    _episode_history: list[tuple[str, str]]
    #: Task id for the one-episode ``act`` (only used in error messages).
    task: str = ""

    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        raise NotImplementedError

    def _admissible(self, ctx: StepContext) -> list[str]:
        """The context's admissible actions; an error naming the task when it lists none."""
        adm = ctx.admissible_actions
        if not adm:
            raise ValueError(
                f"the {self.name} agent chooses among admissible actions, but task {ctx.task!r} "
                "listed none at this step; use the LLM agent for tasks without admissible actions"
            )
        return adm

    @staticmethod
    def _choose(logp: torch.Tensor, greedy: bool) -> int:
        """The arg-max (``greedy``) or a draw from torch's global generator of ``exp(logp)``."""
        return int(logp.argmax()) if greedy else int(torch.multinomial(logp.exp(), 1))

    def _sample_log_probs(self, net: nn.Module, samples: Sequence[Any]) -> list[torch.Tensor]:
        """Log-softmax over each sample's candidates, scored by ``net``."""
        raise NotImplementedError

    # ---- training interface --------------------------------------------------------------------
    def token_logprobs(
        self, samples: Sequence[Any], *, reference: bool = False, with_entropy: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Log-probs (S, 1) of the chosen actions, their mask (S, 1) and entropies (S, 1) or None."""
        net = self.reference if reference else self.module
        lps = self._sample_log_probs(net, samples)
        logp = torch.stack([lp[s.index] for lp, s in zip(lps, samples, strict=True)]).unsqueeze(1)
        ent = None
        if with_entropy:
            ent = torch.stack([-(lp.exp() * lp).sum() for lp in lps]).unsqueeze(1)
        return logp, torch.ones_like(logp), ent

    def token_count(self, sample: Any) -> int:
        """Each decision is one "token" of the loss."""
        return 1

    def old_logprobs(self, samples: Sequence[Any]) -> torch.Tensor:
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

    # ---- one-episode Agent protocol ------------------------------------------------------------
    def reset(self, obs: str, info: dict[str, Any]) -> None:
        self._episode_history = []

    def act(self, obs: str, info: dict[str, Any]) -> str:
        history = self._episode_history
        ctx = StepContext(self.task, obs, info, tuple(history), len(history))
        action = self.act_batch([ctx])[0].action
        history.append((obs, action))
        return action
