"""``proxmo-bench train``: run :func:`~proxmo_bench.training.trainer.train` from the command line.

Examples::

    proxmo-bench train --preset keyroom_light --set estimator=proxmo --out runs/kr_proxmo
    proxmo-bench train --config my_alfworld.yaml --set model=HuggingFaceTB/SmolLM2-360M-Instruct
    proxmo-bench train --out runs/kr_proxmo --resume        # continue a killed run

A run's settings come from, in order: the defaults of ``TrainConfig``; ``--preset NAME`` (a YAML file
in ``proxmo_bench/training/presets/``) or ``--config FILE``; with ``--resume`` and neither, the run's own
``<out>/config.yaml``; then the shortcut flags and ``--set field=value`` overrides.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from proxmo_bench.training.config import (
    ConfigError,
    TrainConfig,
    apply_overrides,
    load_config,
)

#: Where ``--preset`` names are looked up (shipped inside the package).
PRESET_DIR = Path(__file__).resolve().parent / "presets"

# Shortcut flags -> config fields.
_SHORTCUTS = {
    "task": "task",
    "agent": "agent",
    "model": "model",
    "estimator": "estimator",
    "updates": "updates",
    "seed": "seed",
    "lr": "lr",
    "device": "device",
    "env_backend": "env_backend",
}


def list_presets() -> list[str]:
    """Preset names available to ``--preset``."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.yaml")) if PRESET_DIR.is_dir() else []


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="proxmo-bench train",
        description="Train an agent with PPO-clip on per-step advantages from any registered estimator.",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument("--config", type=Path, help="YAML file of TrainConfig fields")
    src.add_argument(
        "--preset",
        help=f"a preset from proxmo_bench/training/presets/ ({', '.join(list_presets()) or 'none found'})",
    )
    p.add_argument(
        "--out", dest="out_dir", help="run folder (metrics.jsonl, checkpoint.pt, episodes/)"
    )
    p.add_argument(
        "--resume", action="store_true", help="continue the run in --out from its checkpoint"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override any TrainConfig field (repeatable), e.g. --set lr=1e-3",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    for flag in _SHORTCUTS:
        p.add_argument(
            f"--{flag.replace('_', '-')}",
            dest=f"short_{flag}",
            default=None,
            help=f"same as --set {_SHORTCUTS[flag]}=...",
        )
    return p


def resolve_config(args: argparse.Namespace) -> TrainConfig:
    """The run's config from parsed arguments (see the module docstring for the order)."""
    if args.preset:
        path = PRESET_DIR / f"{args.preset}.yaml"
        if not path.exists():
            raise ConfigError(
                "preset", f"no preset {args.preset!r}; available: {', '.join(list_presets())}"
            )
        cfg = load_config(path)
    elif args.config:
        cfg = load_config(args.config)
    elif args.resume and args.out_dir and (Path(args.out_dir) / "config.yaml").exists():
        cfg = load_config(Path(args.out_dir) / "config.yaml")
    else:
        cfg = TrainConfig()
    overrides = [
        f"{_SHORTCUTS[k]}={getattr(args, 'short_' + k)}"
        for k in _SHORTCUTS
        if getattr(args, "short_" + k) is not None
    ]
    overrides += list(args.overrides)
    if args.out_dir:
        overrides.append(f"out_dir={args.out_dir}")
    if args.no_progress:
        overrides.append("progress=false")
    return apply_overrides(cfg, overrides)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for a bad config, before any compute)."""
    args = build_parser().parse_args(argv)
    try:
        cfg = resolve_config(args)
        cfg.validate()
    except (ConfigError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.print_config:
        print(json.dumps(cfg.to_dict(), indent=2))
        return 0
    from proxmo_bench.training.trainer import train

    result = train(cfg, resume=args.resume)
    summary = {
        "out_dir": str(result.out_dir),
        "updates": result.updates,
        "initial_eval": result.initial_eval,
        "final_eval": result.final_eval,
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
