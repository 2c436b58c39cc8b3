"""The policy-gradient trainer: rollout -> advantages -> PPO-clip update, repeated.

One update:

1. **rollout** - ``groups_per_update`` groups of ``group_size`` episodes on the training split
   (each group: one task, one seed), all envs acting together in batched policy calls;
2. **advantages** - the configured estimator (grpo, rloo, gigpo, proxmo, ...) turns the steps into a
   ``StepBatch`` and returns one advantage per step;
3. **update** - ``ppo_epochs`` passes of shuffled mini-batches of steps through the PPO-clip loss
   (``ppo_loss.py``), token-level mean, KL to the reference policy, gradient clipping.

Evaluation runs before training, every ``eval_every`` updates and at the end, on fixed seeds of the
held-out split, with its own random stream (so evaluating never changes what training draws).
A checkpoint every ``checkpoint_every`` updates (``checkpoint.py``) lets ``resume=True`` continue a
killed run with the same RNG stream, bit for bit, and no lost or duplicated metric lines
(``metrics_log.py``). Resuming checks everything before it changes anything in the run folder: the
checkpoint's files against their digests, the requested config against the checkpoint's
(``resume.py``: a difference is refused unless ``allow_config_change``, then recorded), and the
metrics file against the checkpoint's update.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from proxmo_bench.atomic_files import write_atomic
from proxmo_bench.estimators.diagnostics import credit_diagnostics
from proxmo_bench.progress_lines import PlainLineThrottle
from proxmo_bench.rollout import EnvBackend, make_backend, write_episodes
from proxmo_bench.rollout.group import GroupSpec, RolloutBatch, StepRow, collect_groups
from proxmo_bench.training.checkpoint import (
    CHECKPOINT_NAME,
    CheckpointError,
    find_checkpoint,
    load_checkpoint,
    remove_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from proxmo_bench.training.config import TrainConfig, save_config
from proxmo_bench.training.metrics_log import METRICS_NAME, MetricsLog, read_metrics, records_until
from proxmo_bench.training.policy import TrainablePolicy
from proxmo_bench.training.ppo_loss import clipped_value_loss, ppo_clip_loss
from proxmo_bench.training.resume import ConfigDriftError, config_changes, record_config_changes

#: Eval episodes reset from seeds ``EVAL_SEED_BASE + i``: the same tasks for every run and estimator.
EVAL_SEED_BASE = 1_000_000
#: The credit diagnostics of every update's metrics record
#: (:func:`~proxmo_bench.estimators.diagnostics.credit_diagnostics` on the update's training rows
#: and advantages, whatever estimator trains; ``adv/std`` is the advantages' std): JSON null where
#: undefined (no training rows, an empty third of turns).
CREDIT_METRICS = (
    "credit/identical_return_groups",
    "credit/gigpo_singleton_rate",
    "credit/proxmo_effective_neighbours",
    "credit/psc_weight_min",
    "credit/psc_weight_max",
    "credit/adv_abs_first_third",
    "credit/adv_abs_middle_third",
    "credit/adv_abs_last_third",
    "adv/std",
)


@dataclass
class TrainResult:
    """What a finished (or resumed-and-finished) run produced."""

    out_dir: Path
    updates: int
    metrics: list[dict[str, Any]] = field(repr=False)
    initial_eval: dict[str, float] | None
    final_eval: dict[str, float] | None


def build_policy(cfg: TrainConfig) -> TrainablePolicy:
    """The agent named by ``cfg.agent`` (LLM loaded per ``cfg.model``), on ``cfg.device``."""
    if cfg.agent == "relational":
        from proxmo_bench.agents.relational_agent import RelationalAgent

        return RelationalAgent(
            hidden=cfg.relational_hidden,
            temperature=cfg.sampling_temperature,
            seed=cfg.seed,
            pages=cfg.relational_pages,
            value_head=cfg.uses_value_head,
        )
    if cfg.agent == "light":
        from proxmo_bench.agents.light_agent import LightAgent

        return LightAgent(
            n_features=cfg.light_features,
            hidden=cfg.light_hidden,
            history_length=cfg.history_length,
            temperature=cfg.sampling_temperature,
            seed=cfg.seed,
            value_head=cfg.uses_value_head,
        )
    from proxmo_bench.agents.llm_agent import LLMAgent

    llm_kwargs: dict[str, Any] = {
        "history_length": cfg.history_length,
        "max_new_tokens": cfg.max_new_tokens,
        "temperature": cfg.sampling_temperature,
        "max_prompt_tokens": cfg.max_prompt_tokens,
        "require_think": cfg.require_think,
        "response_prefix": cfg.response_prefix,
        "keep_reference": cfg.kl_coef > 0,
        "value_head": cfg.uses_value_head,
    }
    from proxmo_bench.agents.tiny_lm import TINY_MODEL, build_tiny_lm

    if cfg.model == TINY_MODEL:
        model, tok = build_tiny_lm(cfg.seed)
        if cfg.lora_rank > 0:
            from peft import LoraConfig, get_peft_model

            model = get_peft_model(
                model,
                LoraConfig(r=cfg.lora_rank, target_modules="all-linear", task_type="CAUSAL_LM"),
            )
        return LLMAgent(model.to(cfg.device), tok, model_id=TINY_MODEL, **llm_kwargs)
    return LLMAgent.from_pretrained(
        cfg.model,
        lora_rank=cfg.lora_rank,
        dtype=cfg.dtype,
        device=cfg.device,
        gradient_checkpointing=cfg.gradient_checkpointing,
        attn_implementation=cfg.attn_implementation,
        backend=cfg.llm_backend,
        seed=cfg.seed,  # the weights of a random:<shape> model (real weights ignore it)
        **llm_kwargs,
    )


def _critic_metrics(
    critic: tuple[torch.Tensor, torch.Tensor], value_loss: float
) -> dict[str, float]:
    """The value loss (mean per row and epoch) and the explained variance of the rollout's values,
    ``1 - Var(R - V) / Var(R)`` (1: perfect, 0: no better than a constant)."""
    values, returns = critic
    var_r = float(returns.var()) if len(returns) > 1 else 0.0
    ev = 1.0 - float((returns - values).var()) / var_r if var_r > 0 else 0.0
    return {"loss/value": value_loss, "value/explained_variance": ev}


def _chunks(items: np.ndarray, size: int) -> list[np.ndarray]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def token_budget_chunks(
    items: np.ndarray, lengths: np.ndarray, budget: int, max_rows: int
) -> list[np.ndarray]:
    """Cut ``items`` (in order) into runs whose padded size, rows x longest ``lengths[item]``,
    stays within ``budget`` and whose row count within ``max_rows``; an item longer than the
    budget is a run of its own. (A greedy pass over the mini-batch's steps: O(rows).)"""
    out: list[np.ndarray] = []
    start, longest = 0, 0
    for j in range(len(items)):
        n = int(lengths[items[j]])
        rows = j - start
        if rows and ((rows + 1) * max(longest, n) > budget or rows == max_rows):
            out.append(items[start:j])
            start, longest = j, 0
        longest = max(longest, n)
    if len(items) > start:
        out.append(items[start:])
    return out


class Trainer:
    """Runs :class:`TrainConfig` (see the module docstring). ``policy`` overrides ``build_policy``.

    ``eval_groups`` fixes the evaluation episodes (one group of one episode each, with its task id
    and reset seed): the bench passes its held-out episodes, so the learning curve and the final
    result are measured on the same episodes. Without it, evaluations reset from the seeds
    ``EVAL_SEED_BASE + i`` (``i < eval_episodes``) of the held-out split.
    """

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        policy: TrainablePolicy | None = None,
        backend: EnvBackend | None = None,
        eval_groups: Sequence[GroupSpec] | None = None,
    ) -> None:
        self.cfg = cfg  # a TrainConfig is validated when it is built: nothing to check again
        self.out = Path(cfg.out_dir)
        self.eval_split = cfg.resolved_eval_split()
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)
        torch.manual_seed(cfg.seed)
        self.task_rng = np.random.default_rng(cfg.seed)
        self.estimator = cfg.built_estimator
        self.policy: TrainablePolicy = policy if policy is not None else build_policy(cfg)
        params = [p for p in self.policy.module.parameters() if p.requires_grad]
        if not params:
            raise ValueError(f"agent {cfg.agent!r} has no trainable parameters")
        self.params = params
        # the critic (estimators that read values): its own parameters and gradient clipping, one
        # optimiser (so checkpoints hold its state with the policy's)
        self.critic_params: list[torch.nn.Parameter] = []
        if cfg.uses_value_head:
            critic = getattr(self.policy, "value_net", None)
            if critic is None:
                raise ValueError(
                    f"estimator {cfg.estimator.name!r} needs an agent with a value head"
                )
            self.critic_params = list(critic.parameters())
        self.optimizer = torch.optim.AdamW(
            params + self.critic_params, lr=cfg.lr, weight_decay=cfg.weight_decay
        )
        self._critic: tuple[torch.Tensor, torch.Tensor] | None = None
        self.backend = (
            backend
            if backend is not None
            else make_backend(
                cfg.env_backend, n_workers=cfg.env_workers, timeout_s=cfg.env_timeout_s
            )
        )
        self.env_kwargs = cfg.make_kwargs()
        self.eval_groups = (
            list(eval_groups)
            if eval_groups is not None
            else [
                GroupSpec(EVAL_SEED_BASE + i, None, self.eval_split)
                for i in range(cfg.eval_episodes)
            ]
        )
        self.update = 0
        self.env_steps = 0

    # ---- the three steps -----------------------------------------------------------------------
    def rollout(self) -> RolloutBatch:
        """B groups x G episodes on the training split with the current policy (sampling)."""
        cfg = self.cfg
        high = cfg.train_seed_pool or 2**31 - 1
        seeds = self.task_rng.integers(0, high, size=cfg.groups_per_update)
        groups = [GroupSpec(int(s), None, cfg.train_split) for s in seeds]
        self.policy.module.eval()
        return collect_groups(
            self.backend, self.policy, cfg.task, groups, cfg.group_size, env_kwargs=self.env_kwargs
        )

    def advantages(self, batch: RolloutBatch) -> tuple[list[StepRow], np.ndarray]:
        """The training rows of ``batch`` and their advantages (N,) from the estimator."""
        rows = batch.training_rows()
        if not rows:
            return rows, np.zeros(0)
        step_batch = batch.step_batch(rows)
        if self.critic_params:
            # V(s_t) of the policy that collected the batch (no update since the rollout)
            with torch.no_grad():
                values = self.policy.state_values([r.decision.sample for r in rows])  # type: ignore[attr-defined]
            step_batch = dataclasses.replace(step_batch, value=values.double().numpy())
            returns = self.estimator.returns(step_batch)
            self._critic = (values.float(), torch.as_tensor(returns, dtype=torch.float32))
        adv = np.asarray(self.estimator(step_batch), dtype=np.float64)
        if adv.shape != (len(rows),) or not np.all(np.isfinite(adv)):
            raise RuntimeError(
                f"estimator {self.cfg.estimator.name!r} returned bad advantages {adv.shape}"
            )
        return rows, adv

    def update_policy(self, rows: Sequence[StepRow], adv: np.ndarray) -> dict[str, float]:
        """PPO-clip epochs over mini-batches of ``rows``; returns loss statistics (token means)."""
        cfg = self.cfg
        policy = self.policy
        policy.module.train()
        sums = {"pg": 0.0, "kl": 0.0, "entropy": 0.0, "clipped": 0.0, "tokens": 0.0, "value": 0.0}
        critic, self._critic = self._critic, None
        grad_norms: list[float] = []
        ratio_max = 0.0
        samples = [r.decision.sample for r in rows]
        adv_t = torch.as_tensor(adv, dtype=torch.float32)
        if cfg.micro_batch_tokens is not None:
            length_of = getattr(policy, "sequence_length", policy.token_count)
            lengths = np.array([length_of(s) for s in samples], dtype=np.int64)
        norm_constant = cfg.loss_norm_constant or float(cfg.max_new_tokens)
        for _ in range(cfg.ppo_epochs):
            order = self.task_rng.permutation(len(rows))
            for mb in _chunks(order, cfg.mini_batch_size):
                mb_tokens = float(sum(policy.token_count(samples[i]) for i in mb))
                mb_seqs = float(sum(policy.token_count(samples[i]) > 0 for i in mb))
                self.optimizer.zero_grad(set_to_none=True)
                micros = (
                    _chunks(mb, cfg.micro_batch_size)
                    if cfg.micro_batch_tokens is None
                    else token_budget_chunks(
                        mb, lengths, cfg.micro_batch_tokens, cfg.micro_batch_size
                    )
                )
                for micro in micros:
                    ms = [samples[i] for i in micro]
                    logp, mask, ent = policy.token_logprobs(ms, with_entropy=True)
                    ref = None
                    if cfg.kl_coef > 0 and cfg.kl_type != "none":
                        ref = policy.token_logprobs(ms, reference=True)[0]
                    parts = ppo_clip_loss(
                        logp,
                        policy.old_logprobs(ms),
                        adv_t[torch.as_tensor(micro)].to(logp.device),
                        mask,
                        clip_ratio=cfg.clip_ratio,
                        total_tokens=mb_tokens,
                        ref_logp=ref,
                        kl_coef=cfg.kl_coef,
                        kl_type=cfg.kl_type,
                        entropy=ent,
                        entropy_coef=cfg.entropy_coef,
                        loss_agg_mode=cfg.loss_agg_mode,
                        total_seqs=mb_seqs,
                        norm_constant=norm_constant,
                    )
                    loss = parts.loss
                    if critic is not None:
                        idx = torch.as_tensor(micro)
                        v_loss = clipped_value_loss(
                            policy.state_values(ms),  # type: ignore[attr-defined]
                            critic[0][idx],
                            critic[1][idx],
                            cfg.cliprange_value,
                        )
                        loss = loss + cfg.vf_coef * v_loss / len(mb)
                        sums["value"] += float(v_loss.detach())
                    loss.backward()
                    for k in ("pg", "kl", "entropy", "clipped", "tokens"):
                        sums[k] += getattr(parts, k)
                    ratio_max = max(ratio_max, parts.ratio_max)
                norm = torch.nn.utils.clip_grad_norm_(self.params, cfg.max_grad_norm)
                if self.critic_params:
                    torch.nn.utils.clip_grad_norm_(self.critic_params, cfg.max_grad_norm)
                grad_norms.append(float(norm))
                if math.isfinite(float(norm)):
                    self.optimizer.step()
        policy.after_update()
        tok = max(sums["tokens"], 1.0)
        return {
            "loss/pg": sums["pg"] / tok,
            "loss/kl": sums["kl"] / tok,
            "loss/entropy": sums["entropy"] / tok,
            "loss/clipfrac": sums["clipped"] / tok,
            "loss/ratio_max": ratio_max,
            "loss/grad_norm": float(np.mean(grad_norms)) if grad_norms else 0.0,
            "loss/tokens": sums["tokens"] / max(cfg.ppo_epochs, 1),
            **(
                _critic_metrics(critic, sums["value"] / max(len(rows) * cfg.ppo_epochs, 1))
                if critic is not None
                else {}
            ),
        }

    # ---- evaluation --------------------------------------------------------------------------------
    def evaluate(self, *, save_as: str | None = None) -> dict[str, float]:
        """Success etc. on the fixed evaluation episodes (``eval_groups``), own random stream."""
        cfg = self.cfg
        groups = self.eval_groups
        self.policy.module.eval()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed + 7_919)
            batch = collect_groups(
                self.backend,
                self.policy,
                cfg.task,
                groups,
                1,
                env_kwargs=self.env_kwargs,
                greedy=cfg.eval_greedy,
            )
        if save_as is not None:
            write_episodes(self.out / "episodes" / f"{save_as}.jsonl.gz", batch.records)
        return {f"eval/{k}": v for k, v in batch.metrics().items()}

    # ---- checkpoints -------------------------------------------------------------------------------
    @property
    def checkpoint_path(self) -> Path:
        """The manifest of the run's checkpoint (``checkpoint.json``)."""
        return self.out / CHECKPOINT_NAME

    def save(self) -> None:
        save_checkpoint(
            self.out,
            {
                "update": self.update,
                "env_steps": self.env_steps,
                "policy": self.policy.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "task_rng": self.task_rng.bit_generator.state,
                "rng": rng_state(),
                "config": self.cfg.to_dict(),
            },
        )

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint's ``state`` (:func:`load_checkpoint`)."""
        try:
            self.policy.load_state_dict(state["policy"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (KeyError, RuntimeError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(
                f"{self.out}: the checkpoint's policy or optimiser state does not fit the "
                f"configured agent ({first})"
            ) from None
        for group in self.optimizer.param_groups:  # an allowed lr/weight-decay change applies
            group["lr"] = self.cfg.lr
            group["weight_decay"] = self.cfg.weight_decay
        self.task_rng.bit_generator.state = state["task_rng"]
        set_rng_state(state["rng"])
        self.update = int(state["update"])
        self.env_steps = int(state["env_steps"])

    def _continue_or_start(
        self, *, resume: bool, allow_config_change: bool
    ) -> list[dict[str, Any]] | None:
        """Restore the checkpoint when resuming from one and return the metric records it
        covers; None for a fresh start (whose stale checkpoint, if any, is removed).

        Everything is checked (the checkpoint's digests, its config, the metrics file) before
        anything in the run folder changes.
        """
        found = find_checkpoint(self.out) if resume else None
        if found is None:
            remove_checkpoint(self.out)
            return None
        state = load_checkpoint(found)
        update = int(state["update"])
        changes = config_changes(state["config"], self.cfg.to_dict())
        if changes and not allow_config_change:
            raise ConfigDriftError(self.out, update, changes)
        kept = records_until(self.out / METRICS_NAME, update)
        if self.cfg.format_warmup_steps and self.cfg.kl_coef:
            self._rebuild_warm_reference()
        self.restore(state)
        if changes:
            record_config_changes(self.out, changes, checkpoint_update=update)
        return kept

    # ---- the loop ------------------------------------------------------------------------------------
    def run(
        self,
        *,
        resume: bool = False,
        allow_config_change: bool = False,
        on_update: Callable[[dict[str, Any]], None] | None = None,
    ) -> TrainResult:
        """Train for ``cfg.updates`` updates.

        ``resume``: continue from the run folder's checkpoint when it has one (else start
        fresh). The checkpoint's config must equal ``cfg`` (``resume.FREE_FIELDS`` aside) unless
        ``allow_config_change``, which records the change in ``config_changes.jsonl``. A fresh
        start removes an earlier checkpoint and metrics in the folder.

        Raises:
            CheckpointError: the checkpoint is missing a file, changed, corrupt or unsafe.
            ConfigDriftError: the config differs from the checkpoint's, not allowed.
            MetricsError: ``metrics.jsonl`` has a bad line or does not cover the checkpoint.
        """
        cfg = self.cfg
        self.out.mkdir(parents=True, exist_ok=True)
        try:
            kept = self._continue_or_start(resume=resume, allow_config_change=allow_config_change)
        except BaseException:
            self.backend.close()
            raise
        resumed = kept is not None
        log = MetricsLog(self.out, tensorboard=cfg.tensorboard)
        log.replace_records(kept or [])
        save_config(cfg, self.out / "config.yaml")
        self._write_run_info()
        initial = None
        try:
            if not resumed:
                if cfg.format_warmup_steps:
                    self._format_warmup()
                initial = self.evaluate(save_as="eval_00000")
                log.write({"update": 0, "env_steps": 0, **initial})
            with _Progress(cfg.progress, cfg.updates, self.update) as advance:
                while self.update < cfg.updates:
                    record = self._one_update()
                    log.write(record)
                    if on_update is not None:
                        on_update(record)
                    advance(record)
                    if (cfg.checkpoint_every and self.update % cfg.checkpoint_every == 0) or (
                        self.update == cfg.updates
                    ):
                        self.save()
        finally:
            log.close()
            self.backend.close()
        metrics = read_metrics(log.path)
        evals = [m for m in metrics if "eval/success_rate" in m]
        return TrainResult(
            out_dir=self.out,
            updates=self.update,
            metrics=metrics,
            initial_eval=_eval_part(evals[0]) if evals else initial,
            final_eval=_eval_part(evals[-1]) if evals else None,
        )

    # ---- format warm-start (LLM) ----------------------------------------------------------------------
    def _warmup_examples(self) -> list[Any]:
        from proxmo_bench.training.format_warmup import random_policy_examples

        cfg = self.cfg
        return random_policy_examples(
            cfg.task,
            self.env_kwargs,
            cfg.train_split,
            cfg.format_warmup_examples,
            seed=cfg.seed + 15_485_863,
            history_length=cfg.history_length,
        )

    def _warmup_on(self, module: torch.nn.Module | None) -> list[float]:
        from proxmo_bench.training.format_warmup import format_warmup

        cfg = self.cfg
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed + 15_485_863)
            return format_warmup(
                self.policy,
                self._warmup_examples(),
                steps=cfg.format_warmup_steps,
                batch_size=cfg.format_warmup_batch_size,
                lr=cfg.format_warmup_lr,
                seed=cfg.seed,
                module=module,
            )

    def _llm(self) -> Any:
        """The policy as the LLM agent the format warm-start needs (the config allows it only for
        ``agent: llm``; a policy passed in must be one)."""
        from proxmo_bench.agents.llm_agent import LLMAgent

        if not isinstance(self.policy, LLMAgent):
            raise TypeError(
                f"the format warm-start needs an LLMAgent, got {type(self.policy).__name__}"
            )
        return self.policy

    def _format_warmup(self) -> None:
        """Evaluate the raw model, run the format warm-start, make it the KL reference.

        ``format_warmup.json`` keeps the raw model's evaluation, the loss of every step and the
        time taken; the RL phase's ``update 0`` evaluation is the warmed-up model.
        """
        raw = self.evaluate(save_as="eval_raw")
        t0 = time.perf_counter()
        losses = self._warmup_on(None)
        seconds = time.perf_counter() - t0
        reference = self._llm().reference
        if reference is not None:
            reference.load_state_dict(self._llm().model.state_dict())
        report = {"raw_eval": raw, "losses": losses, "seconds": seconds}
        write_atomic(self.out / "format_warmup.json", json.dumps(report, indent=2))

    def _rebuild_warm_reference(self) -> None:
        """On resume: the KL reference is the warmed-up model, so replay the warm-start on it.

        The reference was built from the raw weights; the same seeded warm-start gives the same
        weights (up to floating-point reduction order on other hardware).
        """
        reference = self._llm().reference
        if reference is None:
            return
        reference.requires_grad_(True)
        try:
            self._warmup_on(reference)
        finally:
            reference.requires_grad_(False).eval()

    def _write_run_info(self) -> None:
        """``run.json``: what trained (agent identity, estimator with all parameters, versions)."""
        import proxmo_bench

        info = {
            "proxmo_bench": proxmo_bench.__version__,
            "torch": torch.__version__,
            "task": self.cfg.task,
            "eval_split": self.eval_split,
            "agent": self.policy.describe(),
            "estimator": self.cfg.estimator_record(),
            "step_limit": self.cfg.step_limit(),
            "eval_episodes": [
                {"task_id": g.task_id, "seed": g.seed, "split": g.split} for g in self.eval_groups
            ],
        }
        write_atomic(self.out / "run.json", json.dumps(info, indent=2, default=str))

    def _one_update(self) -> dict[str, Any]:
        cfg = self.cfg
        t0 = time.perf_counter()
        batch = self.rollout()
        t1 = time.perf_counter()
        rows, adv = self.advantages(batch)
        stats = self.update_policy(rows, adv) if rows else {}
        t2 = time.perf_counter()
        if cfg.save_train_episodes:
            write_episodes(
                self.out / "episodes" / f"train_{self.update + 1:05d}.jsonl.gz", batch.records
            )
        self.update += 1
        self.env_steps += len(batch.rows)
        record: dict[str, Any] = {"update": self.update, "env_steps": self.env_steps}
        record.update({f"train/{k}": v for k, v in batch.metrics().items()})
        record.update(stats)
        record["adv/mean"] = float(adv.mean()) if len(adv) else 0.0
        record["adv/std"] = float(adv.std()) if len(adv) else 0.0
        record.update(self._credit(batch, rows, adv))
        record["time/rollout_s"] = t1 - t0
        record["time/update_s"] = t2 - t1
        record["time/policy_s"] = batch.policy_seconds
        record["time/env_s"] = batch.env_seconds
        if (cfg.eval_every and self.update % cfg.eval_every == 0) or self.update == cfg.updates:
            record.update(self.evaluate(save_as=f"eval_{self.update:05d}"))
        return record

    def _credit(
        self, batch: RolloutBatch, rows: Sequence[StepRow], adv: np.ndarray
    ) -> dict[str, float]:
        """The ``credit/`` part of an update's record (:data:`CREDIT_METRICS`); reads only, so
        training draws and computes exactly what it would without it."""
        steps = batch.step_batch(rows)
        found = credit_diagnostics(steps, adv, self.estimator)
        return {f"credit/{k}": v for k, v in found.items()}


def _eval_part(record: dict[str, Any]) -> dict[str, float]:
    return {k: v for k, v in record.items() if k.startswith("eval/")}


class _Progress:
    """A rich progress bar over updates (or nothing when disabled)."""

    #: Off a terminal (a log file, CI): one plain line per this many seconds at most, and at the
    #: first and last update and every tenth of the run.
    PLAIN_EVERY_S = 30.0

    def __init__(self, enabled: bool, total: int, done: int) -> None:
        self.enabled, self.total, self.done = enabled, total, done
        self._bar: Any = None
        self._task: Any = None
        #: set off a terminal, where plain lines replace the bar
        self._throttle: PlainLineThrottle | None = None

    def __enter__(self) -> Callable[[dict[str, Any]], None]:
        import sys

        if self.enabled and not sys.stderr.isatty():
            self._throttle = PlainLineThrottle(self.PLAIN_EVERY_S)
            return self._advance
        if self.enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]train"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[status]}"),
            )
            self._bar.start()
            self._task = self._bar.add_task(
                "train", total=self.total, completed=self.done, status=""
            )
        return self._advance

    def _advance(self, record: dict[str, Any]) -> None:
        if self._bar is None and self._throttle is None:
            return
        status = f"success {record.get('train/success_rate', 0):.2f} invalid {record.get('train/invalid_action_rate', 0):.2f}"
        if "eval/success_rate" in record:
            status += f" | eval {record['eval/success_rate']:.2f}"
        if self._bar is not None:
            self._bar.update(self._task, advance=1, status=status)
            return
        import sys
        import time

        self.done += 1
        assert self._throttle is not None  # no bar: plain lines
        if self._throttle.due(self.done, self.total):
            elapsed = time.monotonic() - self._throttle.start
            print(
                f"train update {self.done}/{self.total} {status} ({elapsed:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    allow_config_change: bool = False,
    policy: TrainablePolicy | None = None,
) -> TrainResult:
    """Train ``config`` (see :meth:`Trainer.run` for ``resume`` and ``allow_config_change``) and
    return the run's metrics and first/last evaluations."""
    return Trainer(config, policy=policy).run(
        resume=resume, allow_config_change=allow_config_change
    )
