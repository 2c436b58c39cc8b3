"""Format warm-start for the LLM agent: a few supervised steps on well-formed answers whose action
is drawn uniformly from the admissible list.

Small instruct models (the default SmolLM2-135M) rarely answer in the ``<action>...</action>``
format from the prompt alone: most answers are unparsable, and on a task that needs a few valid
steps in a row the sampled episodes almost never win, so group-relative advantages are zero and RL
has nothing to learn from. The warm-start teaches the format and nothing about the task. Its data
are states reached by a uniformly random policy on the training split; each target is

    y = "<action>" + a + "</action>" + EOS,   a ~ Uniform(admissible actions of the state),

so the target carries no information about which action is good. The loss is the token-mean
negative log-likelihood of the answer under the policy distribution (the sampling temperature
``T`` applied, as in the RL loss):

    L(θ) = -(1/|B|) Σ_{(x, y) ∈ B} (1/|y|) Σ_t log softmax(z_θ(x, y_<t) / T)[y_t]

The part of ``y`` that the agent's ``response_prefix`` already writes is in the prompt, not the
target. Afterwards the KL reference is the warmed-up model (the "initial actor" of the RL phase).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from proxmo_bench.batch_policy import StepContext

#: The answer skeleton the warm-start teaches (``{action}`` is the env action).
ANSWER_FORMAT = "<action>{action}</action>"


@dataclass(frozen=True)
class WarmupExample:
    """One training pair: the state the policy saw and the admissible action of its target."""

    context: StepContext
    action: str


def random_policy_examples(
    task: str,
    env_kwargs: dict[str, Any],
    split: str,
    n: int,
    seed: int,
    history_length: int,
) -> list[WarmupExample]:
    """``n`` examples from episodes of a uniformly random admissible-action policy on ``split``.

    Each visited state gives one example whose target is a fresh uniform draw (independent of the
    action the random policy then plays).

    Raises:
        ValueError: the task lists no admissible actions (no format target can be drawn).
    """
    from proxmo_bench.tasks import make

    rng = np.random.default_rng(seed)
    env = make(task, **env_kwargs)
    out: list[WarmupExample] = []
    try:
        while len(out) < n:
            obs, info = env.reset(seed=int(rng.integers(2**31 - 1)), options={"split": split})
            history: list[tuple[str, str]] = []
            done = False
            while not done and len(out) < n:
                adm = info.get("admissible_actions")
                if not adm:
                    raise ValueError(
                        f"format warm-start needs admissible actions, and {task} lists none"
                    )
                ctx = StepContext(
                    task, obs, dict(info), tuple(history[-max(history_length, 0) :]), len(history)
                )
                out.append(WarmupExample(ctx, str(adm[int(rng.integers(len(adm)))])))
                action = str(adm[int(rng.integers(len(adm)))])
                history.append((obs, action))
                obs, _, term, trunc, info = env.step(action)
                done = term or trunc
    finally:
        env.close()
    return out


def answer_text(action: str, response_prefix: str) -> str:
    """The target continuation after ``response_prefix`` for ``action``.

    Raises:
        ValueError: ``response_prefix`` is not a prefix of the answer format.
    """
    answer = ANSWER_FORMAT.format(action=action)
    if not answer.startswith(response_prefix):
        raise ValueError(
            f"format warm-start writes answers like {ANSWER_FORMAT!r}; response_prefix must be "
            f"empty or a prefix of it, got {response_prefix!r}"
        )
    return answer[len(response_prefix) :]


def format_warmup(
    agent: Any,
    examples: Sequence[WarmupExample],
    *,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    module: torch.nn.Module | None = None,
) -> list[float]:
    """Run ``steps`` AdamW steps of the loss above on ``module`` (default: the agent's model).

    ``agent`` is an :class:`~proxmo_bench.agents.llm_agent.LLMAgent` (its tokenizer, prompt and
    temperature are used). Batches are drawn without replacement, reshuffled each pass, with a
    generator seeded by ``seed``. Returns the loss of every step.
    """
    from proxmo_bench.agents.llm_agent import LLMSample

    net = module if module is not None else agent.model
    tok = agent.tokenizer
    samples: list[LLMSample] = []
    for ex in examples:
        prompt = tok(agent.prompt_text(ex.context), add_special_tokens=False)["input_ids"]
        answer = tok(answer_text(ex.action, agent.response_prefix), add_special_tokens=False)
        response = [*answer["input_ids"], tok.eos_token_id]
        samples.append(
            LLMSample(
                torch.tensor(prompt[-agent.max_prompt_tokens :], dtype=torch.long),
                torch.tensor(response, dtype=torch.long),
                torch.zeros(len(response)),
            )
        )
    params = [p for p in net.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    rng = np.random.default_rng(seed)
    order: list[int] = []
    losses: list[float] = []
    net.train()
    for _ in range(steps):
        if len(order) < batch_size:
            order.extend(rng.permutation(len(samples)).tolist())
        batch = [samples[order.pop()] for _ in range(min(batch_size, len(samples)))]
        token_logp, mask, _ = agent.token_logprobs(batch, module=net)
        loss = -((token_logp * mask).sum(-1) / mask.sum(-1)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(float(loss.detach()))
    net.eval()
    return losses
