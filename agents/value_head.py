"""A value head for the LLM policy: the critic ``V(s)`` that PPO with GAE (``ppo_gae``) trains.

``V(s) = w^T h_L(s) + b``: one linear unit on the policy LM's last-layer hidden state at the
prompt's last token (the state the action is generated from), the shared-backbone critic of
TRL's ``AutoModelForCausalLMWithValueHead``. The head is float32 whatever the LM's dtype and
starts at zero (``V = 0`` everywhere, no random draw), so building it changes no random stream.
The value loss's gradient reaches the backbone (or its LoRA adapters) through ``h_L``.
"""

from __future__ import annotations

import torch
from torch import nn


class PromptValueHead(nn.Module):
    """``V(s) = w^T h + b`` on hidden states ``h`` (S, H); returns (S,) float32."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = nn.Linear(hidden_size, 1)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden.float()).squeeze(-1)
