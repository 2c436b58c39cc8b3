"""How likely an LLM policy is to have written a submission's recorded actions (``verify --llm-model``).

An LLM submission's weights are often too large to ship, so ``verify`` cannot re-run its policy.
When the weights it names are at hand, it can still ask them, step by step, how probable each
recorded action is: every episode is replayed through the env to rebuild the exact context the
policy saw (observation, info, history), the policy's prompt is built from it, and the answer that
states the action in the policy's format (``<think></think>`` omitted: :func:`answer_text`) is
scored by the model, end-of-sequence token included:

    lp(a_t) = (1 / |y_t|) * sum_j log pi(y_{t,j} | prompt_t, y_{t,<j})     (nats per token),

the geometric-mean token probability of the answer ``y_t``. An episode is *flagged* when one of its
steps scores below ``threshold`` (default ``log(1e-3)``: the model gives the answer's tokens less
than one chance in a thousand on average). A policy that wrote its answers with some reasoning
first puts less mass on the bare answer, so the threshold is loose on purpose: it catches actions
the policy would almost never produce (an edited or swapped episode, another agent's actions), not
small differences. It does not prove the policy chose them; a re-run with shipped weights does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from proxmo_bench.batch_policy import StepContext
from proxmo_bench.rollout.records import EpisodeRecord
from proxmo_bench.tasks import make

#: Default flagging threshold: nats per answer token (geometric-mean probability 1/1000).
DEFAULT_THRESHOLD = math.log(1e-3)


@dataclass(frozen=True)
class FlaggedStep:
    """The lowest-scoring step of a flagged episode."""

    episode: int  # index in the records given
    task_id: str
    step: int
    action: str
    logprob_per_token: float


@dataclass
class LogprobReport:
    """Per-step scores of the recorded actions and the episodes below the threshold."""

    threshold: float
    steps: int = 0
    episodes: int = 0
    scores: list[float] = field(default_factory=list)  # nats per token, every scored step
    flagged: list[FlaggedStep] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # episodes that could not be scored

    @property
    def ok(self) -> bool:
        return not self.flagged and not self.problems

    def summary(self) -> str:
        if not self.scores:
            return "no step scored"
        s = np.asarray(self.scores)
        return (
            f"{self.steps} steps of {self.episodes} episodes scored: median "
            f"{float(np.median(s)):.2f} nats/token, 5th percentile {float(np.quantile(s, 0.05)):.2f}, "
            f"min {float(s.min()):.2f}; {len(self.flagged)} episode(s) below {self.threshold:.2f}"
        )


def _contexts(rec: EpisodeRecord) -> list[StepContext]:
    """The context before each recorded step, rebuilt by replaying the record."""
    env = make(rec.task, **rec.env_kwargs)
    try:
        obs, info = env.reset(seed=rec.seed, options=rec.reset_options())
        history: list[tuple[str, str]] = []
        out = []
        for t, action in enumerate(rec.actions):
            out.append(StepContext(rec.task, obs, dict(info), tuple(history), t, 0))
            history.append((obs, action))
            obs, _, term, trunc, info = env.step(action)
            if (term or trunc) and t + 1 < len(rec.actions):
                raise ValueError(f"the episode ended at step {t}, before its last recorded step")
        return out
    finally:
        env.close()


def score_records(
    records: Sequence[EpisodeRecord],
    agent: Any,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    batch_size: int = 16,
) -> LogprobReport:
    """Score every recorded action of ``records`` under ``agent`` (an ``LLMAgent``; module doc).

    Episodes whose replay fails are listed in ``problems`` (``verify``'s replay says why).
    """
    import torch

    from proxmo_bench.agents.llm_agent import LLMSample
    from proxmo_bench.training.format_warmup import answer_text

    tok = agent.tokenizer
    report = LogprobReport(threshold=float(threshold))
    for ei, rec in enumerate(records):
        if rec.steps == 0:
            continue
        try:
            contexts = _contexts(rec)
        except Exception as exc:  # an env error or an episode that does not replay
            report.problems.append(f"episode {ei} ({rec.task_id}): {exc}")
            continue
        prompts = agent.encode_prompts(contexts)
        samples = []
        for prompt, action in zip(prompts, rec.actions, strict=True):
            ids = tok(answer_text(action, agent.response_prefix), add_special_tokens=False)
            resp = [*ids["input_ids"], tok.eos_token_id]
            samples.append(
                LLMSample(prompt, torch.tensor(resp, dtype=torch.long), torch.zeros(len(resp)))
            )
        per_step: list[float] = []
        with torch.no_grad():
            for lo in range(0, len(samples), batch_size):
                chunk = samples[lo : lo + batch_size]
                logp, mask, _ = agent.token_logprobs(chunk)
                sums = (logp * mask).sum(-1)
                per_step.extend((sums / mask.sum(-1).clamp(min=1)).double().cpu().tolist())
        report.episodes += 1
        report.steps += len(per_step)
        report.scores.extend(per_step)
        worst = int(np.argmin(per_step))
        if per_step[worst] < threshold:
            report.flagged.append(
                FlaggedStep(ei, rec.task_id, worst, rec.actions[worst], per_step[worst])
            )
    return report


def check_llm_submission(
    sub: Any,
    model: str,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    seeds: Sequence[int] | None = None,
) -> dict[int, LogprobReport]:
    """Per run seed, the :func:`score_records` report of a trained LLM submission's episodes under
    ``model`` (a path or hub id, or ``tiny-random``), the policy built from the run's training
    config; the run's shipped weights (``weights.safetensors``) are loaded when present.

    Raises:
        ValueError: the submission is not a trained LLM agent's.
    """
    import tempfile

    from proxmo_bench.harness.policy_rerun import load_run_weights
    from proxmo_bench.harness.reproduce import run_config
    from proxmo_bench.leaderboard.validate import WEIGHTS
    from proxmo_bench.training.trainer import build_policy

    m = sub.manifest
    if m.training is None or m.training.config.get("agent") != "llm":
        raise ValueError(
            f"{m.name}: --llm-model scores an LLM agent's trained submission; this one is "
            f"{m.agent.name!r} ({'trained' if m.training else 'a baseline'})"
        )
    shipped = load_run_weights(sub.path / WEIGHTS) if (sub.path / WEIGHTS).is_file() else {}
    out: dict[int, LogprobReport] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run, records in zip(m.runs, sub.runs, strict=True):
            if seeds is not None and run.seed not in seeds:
                continue
            cfg = run_config(m, run.seed, Path(tmp)).model_copy(update={"model": model})
            agent = build_policy(cfg)
            if run.seed in shipped:
                agent.load_state_dict(shipped[run.seed])
            out[run.seed] = score_records(records, agent, threshold=threshold)
    return out
