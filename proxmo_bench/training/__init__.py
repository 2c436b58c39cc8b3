"""Policy-gradient training: PPO-clip on per-step advantages from any registered estimator.

``train(TrainConfig(...))`` runs rollout -> advantages -> update; ``proxmo-bench train`` is its CLI
(:func:`proxmo_bench.training.cli.main`). The trainer needs torch; it is imported on first use so
that reading and validating configs (and ``--help``) stays light.
"""

from typing import Any

from proxmo_bench.training.config import ConfigError, TrainConfig, apply_overrides, load_config

_TRAINER_NAMES = ("Trainer", "TrainResult", "build_policy", "train")


def __getattr__(name: str) -> Any:
    if name in _TRAINER_NAMES:
        from proxmo_bench.training import trainer

        return getattr(trainer, name)
    raise AttributeError(f"module 'proxmo_bench.training' has no attribute {name!r}")


__all__ = [
    "ConfigError",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "apply_overrides",
    "build_policy",
    "load_config",
    "train",
]
