"""The credit-assignment oracle as a run: a group batch, its true advantages, every estimator scored.

One *setting* is (task, env kwargs, policy, gamma). A run collects ``groups x group_size`` rollouts
of the policy (groups as in training: G copies of one task from one seed), measures the true
advantage of every step with :func:`proxmo_bench.oracle.oracle_values`, scores each estimator's
advantages on the very same batch (:func:`proxmo_bench.oracle.score_estimators`) and writes
``result.json`` and one scatter plot per estimator. ``publish_credit`` copies a result into the
``credit`` suite (``leaderboards/credit/results/<name>.json`` + ``plots/<name>/``) and
re-renders its ``LEADERBOARD.md``: one table per setting.

A trained policy is a training run folder (or its ``checkpoint.json``, or an older run's
``checkpoint.pt``): its config rebuilds the agent and the checkpoint's weights are loaded; the
policy then samples at its training temperature.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from proxmo_bench.oracle import (
    SCORES,
    EpsilonMixture,
    ProbabilitySampler,
    UniformPolicy,
    as_oracle_policy,
    diagnostics,
    oracle_values,
    score_estimators,
)
from proxmo_bench.rollout import GroupSpec, InProcessBackend, collect_groups

#: Estimator labels a credit run scores by default: label -> (registry name, parameters).
DEFAULT_ESTIMATORS: dict[str, tuple[str, dict[str, Any]]] = {
    "grpo": ("grpo", {}),
    "rloo": ("rloo", {}),
    "gigpo": ("gigpo", {}),
    "gigpo-ref": ("gigpo", {"compat": "reference"}),
    "proxmo": ("proxmo", {}),
    "proxmo-ref": ("proxmo", {"compat": "reference"}),
}

CREDIT_MD = "LEADERBOARD.md"


@dataclass(frozen=True)
class CreditSetting:
    """Everything a credit run depends on (recorded in its ``result.json``)."""

    task: str
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    policy: str = "random"  # "random" or a training run folder / checkpoint.json / checkpoint.pt
    epsilon: float = 0.0  # mix epsilon of uniform-random into the policy
    gamma: float = 0.95
    groups: int = 16
    group_size: int = 8
    rollouts: int = 32
    seed: int = 0
    split: str = "train"
    estimators: tuple[str, ...] = tuple(DEFAULT_ESTIMATORS)
    fork: str = "auto"
    n_boot: int = 1000

    def __post_init__(self) -> None:
        unknown = [e for e in self.estimators if e not in DEFAULT_ESTIMATORS]
        if unknown:
            raise ValueError(
                f"unknown estimator label(s) {unknown}; choose among {list(DEFAULT_ESTIMATORS)}"
            )
        if self.groups < 2 or self.group_size < 2:
            raise ValueError(
                f"need groups >= 2 and group_size >= 2 (got {self.groups}, {self.group_size}): "
                "the scores are bootstrapped over groups and estimators normalise within them"
            )


def load_policy(spec: str, *, seed: int) -> tuple[Any, dict[str, Any]]:
    """``(policy, description)`` for ``"random"`` or a training run folder / its
    ``checkpoint.json`` / a format-1 ``checkpoint.pt`` (read by the one checkpoint loader, which
    checks the files' digests and never unpickles code).

    Raises:
        ValueError: no checkpoint there, or it does not load (``CheckpointError``).
    """
    if spec == "random":  # the oracle's own uniform policy, sampled (templates filled)
        return ProbabilitySampler(UniformPolicy(), seed=seed), {"policy": "random"}
    from proxmo_bench.training.checkpoint import (
        CHECKPOINT_NAME,
        LEGACY_CHECKPOINT_NAME,
        find_checkpoint,
        load_checkpoint,
    )
    from proxmo_bench.training.config import config_from_dict, migrate_legacy
    from proxmo_bench.training.policy import weights_sha256
    from proxmo_bench.training.trainer import build_policy

    ckpt = find_checkpoint(spec)
    if ckpt is None:
        raise ValueError(
            f"policy must be 'random' or a training run folder / {CHECKPOINT_NAME} / "
            f"{LEGACY_CHECKPOINT_NAME}; {spec!r} has no checkpoint"
        )
    state = load_checkpoint(ckpt)
    cfg = config_from_dict(migrate_legacy(state["config"]))
    policy = build_policy(cfg)
    policy.load_state_dict(state["policy"])
    return policy, {
        "policy": "checkpoint",
        "checkpoint": str(ckpt),
        "agent": policy.describe(),
        "updates": int(state["update"]),
        "train_task": cfg.task,
        "train_env_kwargs": cfg.make_kwargs(),
        "weights_sha256": weights_sha256(policy.weights()),
    }


def _estimators(setting: CreditSetting) -> dict[str, Any]:
    from proxmo_bench.estimators import estimator_params, get_estimator

    out = {}
    for label in setting.estimators:
        name, params = DEFAULT_ESTIMATORS[label]
        params = dict(params)
        if "gamma" in estimator_params(name):
            params["gamma"] = setting.gamma
        out[label] = get_estimator(name, **params)
    return out


def run_credit(setting: CreditSetting, out: str | Path | None = None) -> dict[str, Any]:
    """Collect the group batch, measure the true advantages, score every estimator.

    Returns the result (what ``result.json`` holds); with ``out``, also writes ``result.json``,
    ``rows.npz`` (per row: true A, se, each estimator's advantage) and ``plots/<label>.png``.
    """
    import torch

    torch.manual_seed(setting.seed)  # the checkpoint policies sample from torch's generator
    policy, described = load_policy(setting.policy, seed=setting.seed)
    if setting.epsilon:
        base = as_oracle_policy(policy)
        if not hasattr(base, "action_probabilities"):
            raise ValueError("epsilon needs a policy that exposes probabilities")
        oracle_policy: Any = EpsilonMixture(base, setting.epsilon)  # type: ignore[arg-type]
        uniform = ProbabilitySampler(UniformPolicy(), seed=setting.seed)
        collect_policy: Any = _MixturePolicy(policy, uniform, setting)
    else:
        # "random": the oracle's own uniform policy (the sampler that collected the batch draws
        # from it), which states its probabilities: the exact first-action expectation
        oracle_policy = "random" if setting.policy == "random" else policy
        collect_policy = policy
    specs = [
        GroupSpec(seed=setting.seed * 100_003 + g, split=setting.split)
        for g in range(setting.groups)
    ]
    batch = collect_groups(
        InProcessBackend(),
        collect_policy,
        setting.task,
        specs,
        setting.group_size,
        env_kwargs=dict(setting.env_kwargs),
    )
    bad = [i for i, r in enumerate(batch.records) if r.termination == "env_error"]
    if bad:
        raise RuntimeError(
            f"{len(bad)} rollouts ended in env errors: {batch.records[bad[0]].reason}"
        )
    res = oracle_values(
        batch.records,
        policy=oracle_policy,
        gamma=setting.gamma,
        rollouts=setting.rollouts,
        seed=setting.seed,
        fork=setting.fork,  # type: ignore[arg-type]
    )
    steps = batch.step_batch()
    scored = score_estimators(
        steps, res.advantage, res.se, _estimators(setting), n_boot=setting.n_boot, seed=setting.seed
    )
    sure = np.abs(res.advantage) > 2 * res.se
    result: dict[str, Any] = {
        # fork as it was carried out ("auto" resolved: it does not change the numbers)
        "setting": {**asdict(setting), "estimators": list(setting.estimators), "fork": res.fork},
        "policy": {**described, "name": res.policy, "expectation": res.expectation},
        "batch": {
            "episodes": len(batch.records),
            "rows": len(steps),
            "success_rate": float(np.mean([r.won for r in batch.records])),
            "mean_length": float(np.mean([r.steps for r in batch.records])),
            "states_valued": res.states,
            "rows_with_clear_sign": int(sure.sum()),
            "mean_se": float(res.se.mean()),
            "true_advantage_std": float(res.advantage.std()),
        },
        "diagnostics": diagnostics(steps),
        "scores": {label: v["scores"] for label, v in scored.items()},
        "timing": res.timing(),
    }
    if out is not None:
        out = Path(out)
        (out / "plots").mkdir(parents=True, exist_ok=True)
        (out / "result.json").write_text(json.dumps(_finite(result), indent=1) + "\n")
        np.savez_compressed(
            out / "rows.npz",
            A=res.advantage,
            se=res.se,
            group=steps.group_index,
            **{k.replace("-", "_"): v["advantages"] for k, v in scored.items()},
        )
        for label, v in scored.items():
            scatter_plot(
                out / "plots" / f"{label}.png",
                v["advantages"],
                res.advantage,
                res.se,
                title=f"{label}: {setting.task} ({res.policy})",
                scores=v["scores"],
            )
    return result


class _MixturePolicy:
    """Collects the batch with ``(1 - epsilon) * policy + epsilon * random`` (per decision)."""

    def __init__(self, policy: Any, random: Any, setting: CreditSetting) -> None:
        self.policy, self.random, self.epsilon = policy, random, setting.epsilon
        self.rng = np.random.default_rng(setting.seed)
        self.name = f"{policy.name}+eps{setting.epsilon:g}"

    def act_batch(self, contexts: Sequence[Any], *, greedy: bool = False) -> list[Any]:
        mine = self.policy.act_batch(contexts, greedy=greedy)
        other = self.random.act_batch(contexts)
        pick = self.rng.random(len(contexts)) < self.epsilon
        return [o if p else m for m, o, p in zip(mine, other, pick.tolist(), strict=True)]


def scatter_plot(
    path: Path,
    estimated: np.ndarray,
    A: np.ndarray,
    se: np.ndarray,
    *,
    title: str,
    scores: dict[str, dict[str, float]],
) -> None:
    """Estimated vs true advantage, one point per step (rows with ``|A| <= 2 se`` in grey)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 3.6), dpi=80)
    sure = np.abs(A) > 2 * se
    ax.scatter(estimated[~sure], A[~sure], s=3, c="0.7", lw=0, label="|A| <= 2 se")
    ax.scatter(estimated[sure], A[sure], s=3, c="C0", lw=0, label="|A| > 2 se")
    ax.axhline(0, c="0.5", lw=0.5)
    ax.axvline(0, c="0.5", lw=0.5)
    ax.set_xlabel("estimated advantage")
    ax.set_ylabel("true advantage (Monte Carlo)")
    sp, pe = scores["spearman"]["value"], scores["pearson"]["value"]
    ax.set_title(f"{title}\nspearman {sp:.2f}, pearson {pe:.2f}", fontsize=8)
    ax.legend(fontsize=6, loc="upper left", markerscale=3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _finite(obj: Any) -> Any:
    """JSON-safe: NaN/inf become None."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


# ---- the credit suite -----------------------------------------------------------------------------
def publish_credit(run_dir: str | Path, suite_dir: str | Path, name: str) -> Path:
    """Copy a run's ``result.json`` and plots into the suite as ``name``; re-render the tables."""
    from proxmo_bench.leaderboard.schema import check_safe_name

    check_safe_name(name, "name")
    run_dir, suite_dir = Path(run_dir), Path(suite_dir)
    (suite_dir / "results").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(run_dir / "result.json", suite_dir / "results" / f"{name}.json")
    plots = suite_dir / "plots" / name
    if plots.exists():
        shutil.rmtree(plots)
    shutil.copytree(run_dir / "plots", plots)
    return render_credit(suite_dir)


def _setting_title(res: dict[str, Any]) -> str:
    s, p = res["setting"], res["policy"]
    kw = ", ".join(f"{k}={v}" for k, v in sorted(s["env_kwargs"].items())) or "defaults"
    if p["policy"] == "random":
        who = "random policy"
    else:
        upd = p.get("updates")
        who = f"trained {p.get('agent', {}).get('agent', 'agent')} checkpoint ({upd} updates)"
    if s.get("epsilon"):
        who += f", epsilon {s['epsilon']}"
    return f"{s['task']} ({kw}); {who}; gamma {s['gamma']}"


def _iv(score: dict[str, Any]) -> str:
    v, lo, hi = score.get("value"), score.get("low"), score.get("high")
    if v is None:
        return "-"
    if lo is None or hi is None:
        return f"{v:.2f}"
    return f"{v:.2f} [{lo:.2f}, {hi:.2f}]"


def render_credit_markdown(results: dict[str, dict[str, Any]]) -> str:
    """The ``credit`` suite's ``LEADERBOARD.md``: one table per setting, results sorted by name."""
    lines = [
        "# credit: estimators scored against ground-truth advantages",
        "",
        "Generated by `proxmo-bench oracle ... --publish leaderboards/credit` "
        "(regenerate all: `bash scripts/credit.sh`; do not edit). Each table is one setting (task, "
        "env kwargs, policy, gamma): one group batch of the policy, the true advantage of every "
        "step under that policy by Monte Carlo (`proxmo_bench.oracle`), and each estimator's "
        "advantages on the same batch. Intervals: 95% percentile bootstrap over groups. "
        "`sign` is sign agreement on the steps with |A| > 2 se; `rmse` the error of the best "
        "affine fit of A on the estimate (reward units).",
        "",
    ]
    for name in sorted(results):
        res = results[name]
        b, d, t = res["batch"], res["diagnostics"], res["timing"]
        s = res["setting"]
        lines += [
            f"## {_setting_title(res)}",
            "",
            f"`{name}`: {s['groups']} groups x {s['group_size']} rollouts, {b['rows']} steps, "
            f"success {100 * b['success_rate']:.1f}%, mean length {b['mean_length']:.1f}; "
            f"{s['rollouts']} rollouts per state ({res['policy']['expectation']} expectation over "
            f"the first action), {b['states_valued']} states, mean se {b['mean_se']:.3f}, "
            f"std of A {b['true_advantage_std']:.3f}, {b['rows_with_clear_sign']} steps with "
            f"|A| > 2 se; {t['total_s']:.0f} s (env {t['env_s']:.0f} s, policy {t['policy_s']:.0f} s, "
            f"fork {t['fork_s']:.0f} s).",
            "",
            "Diagnostics: GiGPO singleton step groups "
            f"{100 * d['gigpo_singleton_rate']:.1f}% of steps; ProxMO effective neighbours "
            f"{d['proxmo_effective_neighbours']:.2f} (reference tokenizer "
            f"{d['proxmo_effective_neighbours_reference']:.2f}) per step; groups with identical "
            f"returns {100 * d['identical_return_groups']:.1f}%.",
            "",
            "| estimator | spearman | pearson | spearman within group | pearson within group | sign | rmse |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, sc in res["scores"].items():
            lines.append(f"| {label} | " + " | ".join(_iv(sc[k]) for k in SCORES) + " |")
        lines.append("")
    return "\n".join(lines)


def load_credit_results(suite_dir: str | Path) -> dict[str, dict[str, Any]]:
    folder = Path(suite_dir) / "results"
    if not folder.is_dir():
        return {}
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def render_credit(suite_dir: str | Path) -> Path:
    """Write ``<suite_dir>/LEADERBOARD.md`` from its ``results/*.json``."""
    path = Path(suite_dir) / CREDIT_MD
    text = render_credit_markdown(load_credit_results(suite_dir))
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
