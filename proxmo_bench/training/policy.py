"""`TrainablePolicy`: everything the trainer may call on a policy, typed.

The light agent and the LLM agent (``proxmo_bench.agents``) implement it; the trainer calls nothing
else, so a third policy is trainable once it offers these members. Two kinds of state are kept
apart: :meth:`TrainablePolicy.state_dict` is what a checkpoint needs to resume (it may hold more
than the acting weights, e.g. the light agent's reference network), while
:meth:`TrainablePolicy.weights` is exactly the weights that choose actions, the ones a
submission's ``weights_sha256`` names (:func:`weights_sha256`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import torch

from proxmo_bench.batch_policy import Decision, StepContext


@runtime_checkable
class TrainablePolicy(Protocol):
    """A batch policy the PPO trainer can update (see the module docstring)."""

    name: str

    @property
    def module(self) -> torch.nn.Module:
        """The network whose trainable parameters the optimiser updates."""
        ...

    def act_batch(self, contexts: Sequence[StepContext], *, greedy: bool = False) -> list[Decision]:
        """One decision per context (``Decision.sample`` holds what re-scoring needs)."""
        ...

    def token_logprobs(
        self, samples: Sequence[Any], *, reference: bool = False, with_entropy: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """``(logp, mask, entropy)`` of the samples' action tokens under the current (or the
        reference) policy, shape (n, T)."""
        ...

    def old_logprobs(self, samples: Sequence[Any]) -> torch.Tensor:
        """The log-probabilities recorded when the samples were drawn, shape (n, T)."""
        ...

    def token_count(self, sample: Any) -> int:
        """Action tokens of one sample (the loss's token-mean denominator)."""
        ...

    def after_update(self) -> None:
        """Called after every optimiser phase (e.g. to sync an inference engine's weights)."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Everything a checkpoint needs to resume this policy."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        ...

    def weights(self) -> dict[str, torch.Tensor]:
        """The weights that choose actions (what ``weights_sha256`` hashes)."""
        ...

    def describe(self) -> dict[str, Any]:
        """The policy's identity for ``run.json`` and manifests."""
        ...


def weights_sha256(weights: Mapping[str, Any]) -> str:
    """SHA-256 of (nested) named tensors: names, dtypes, shapes and values, sorted by name."""
    h = hashlib.sha256()

    def visit(prefix: str, obj: Any) -> None:
        if isinstance(obj, Mapping):
            for k in sorted(obj, key=str):
                visit(f"{prefix}.{k}" if prefix else str(k), obj[k])
        elif isinstance(obj, torch.Tensor):
            t = obj.detach().to("cpu").contiguous()
            h.update(f"{prefix}:{t.dtype}:{tuple(t.shape)}".encode())
            h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        else:
            h.update(f"{prefix}={obj!r}".encode())

    visit("", weights)
    return h.hexdigest()
