"""Re-run a trained submission's policy on its recorded episodes (``leaderboard verify``).

Replay proves that the recorded actions produce the recorded results; it cannot tell whether the
named policy chose them (a failed episode swapped for another replayable one passes replay). A
trained submission that carries its final weights (``weights.safetensors``: ``<seed>/<tensor>``
per run, written by ``bench`` for the CPU agents) can be checked further: for each run the agent
named by the manifest is built from its training config, the run's weights are loaded (their
SHA-256 must be the run's recorded ``weights_sha256``) and the final evaluation is played again
exactly as training played it (same episodes in the same batch, the same sampling seed, greedy or
sampled as recorded). Every action must come out as recorded.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from proxmo_bench.atomic_files import write_atomic
from proxmo_bench.leaderboard.validate import WEIGHTS, Submission


@dataclass(frozen=True)
class RunRerun:
    """One run's policy re-run: how many recorded episodes it played differently."""

    seed: int
    episodes: int
    differing: list[str]  # "<task_id>: step k: recorded 'a', policy chose 'b'" (first few)
    n_differing: int


@dataclass
class PolicyRerun:
    """The outcome for a submission: per run, and what could not be checked."""

    runs: list[RunRerun] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.n_differing == 0 for r in self.runs)


def save_run_weights(path: str | Path, weights: Mapping[int, Mapping[str, torch.Tensor]]) -> None:
    """Write ``{seed: named tensors}`` as one safetensors file (keys ``<seed>/<name>``),
    atomically."""
    from safetensors.torch import save

    flat = {
        f"{seed}/{name}": t.detach().to("cpu").contiguous()
        for seed, tensors in weights.items()
        for name, t in tensors.items()
    }
    write_atomic(path, save(flat))


def load_run_weights(path: str | Path) -> dict[int, dict[str, torch.Tensor]]:
    """``{seed: named tensors}`` from a file written by :func:`save_run_weights` (safetensors:
    no code runs on loading).

    Raises:
        ValueError: the file is not safetensors or a key is not ``<seed>/<name>``.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        flat = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable safetensors file ({exc})") from None
    out: dict[int, dict[str, torch.Tensor]] = {}
    for key, t in flat.items():
        seed, sep, name = key.partition("/")
        if not sep or not name or not seed.lstrip("-").isdigit():
            raise ValueError(f"{path}: tensor key {key!r} is not '<seed>/<name>'")
        out.setdefault(int(seed), {})[name] = t
    return out


def rerun_policy(sub: Submission, *, max_listed: int = 5) -> PolicyRerun:
    """Re-run the policy of the validated submission ``sub`` on its episodes (module docstring).

    Raises:
        ValueError: ``sub`` is not a trained submission with ``weights.safetensors``.
    """
    from proxmo_bench.harness.evaluate import eval_groups
    from proxmo_bench.harness.reproduce import run_config
    from proxmo_bench.rollout.records import read_episodes
    from proxmo_bench.training import Trainer, build_policy
    from proxmo_bench.training.policy import weights_sha256

    m = sub.manifest
    if m.training is None or not (sub.path / WEIGHTS).exists():
        raise ValueError(f"{sub.path} carries no trained weights ({WEIGHTS}) to re-run")
    weights = load_run_weights(sub.path / WEIGHTS)
    report = PolicyRerun()
    groups = eval_groups(m.evaluation.episodes, m.evaluation.split)
    for run, recorded in zip(m.runs, sub.runs, strict=True):
        tensors = weights.get(run.seed)
        if tensors is None:
            report.problems.append(f"seed {run.seed}: {WEIGHTS} holds no weights for this run")
            continue
        digest = weights_sha256(tensors)
        if run.weights_sha256 is not None and digest != run.weights_sha256:
            report.problems.append(
                f"seed {run.seed}: the shipped weights hash to {digest[:12]}, the manifest "
                f"records {run.weights_sha256[:12]}"
            )
            continue
        with tempfile.TemporaryDirectory(prefix="proxmo-rerun-") as tmp:
            cfg = run_config(m, run.seed, Path(tmp))
            policy = build_policy(cfg)
            try:
                policy.module.load_state_dict(tensors)
            except (RuntimeError, KeyError) as exc:
                report.problems.append(f"seed {run.seed}: weights do not fit the agent ({exc})")
                continue
            trainer = Trainer(cfg, policy=policy, eval_groups=groups)
            try:
                trainer.evaluate(save_as="rerun")
            finally:
                trainer.backend.close()
            played = read_episodes(Path(tmp) / "episodes" / "rerun.jsonl.gz")
        differing = []
        for rec, now in zip(recorded, played, strict=True):
            if rec.actions == now.actions:
                continue
            k = next(
                (
                    i
                    for i, (a, b) in enumerate(zip(rec.actions, now.actions, strict=False))
                    if a != b
                ),
                min(len(rec.actions), len(now.actions)),
            )
            got = now.actions[k] if k < len(now.actions) else "(the episode ended)"
            want = rec.actions[k] if k < len(rec.actions) else "(the episode ended)"
            differing.append(
                f"{rec.task_id}: step {k}: recorded {want!r:.60}, policy chose {got!r:.60}"
            )
        report.runs.append(
            RunRerun(run.seed, len(recorded), differing[:max_listed], len(differing))
        )
    return report


#: Agents ``bench`` trains whose weights always travel (``model_id`` prefix): a new submission of
#: one of them without ``weights.safetensors`` is refused by ``submit``.
CPU_AGENT_MODULE = "proxmo_bench.agents."


@dataclass(frozen=True)
class PolicyCheck:
    """The outcome of :func:`check_policy`: whether it passed, and what to print."""

    ok: bool
    lines: list[str]
    rerun: PolicyRerun | None = None


def check_policy(sub: Submission, mode: str = "auto", *, strict: bool = False) -> PolicyCheck:
    """The policy re-run as ``verify`` and ``submit`` use it.

    Args:
        mode: ``"auto"`` (re-run when the weights travel), ``"always"`` (fail when they do not),
            ``"never"``.
        strict: also fail, under ``"auto"``, a trained CPU agent's submission that carries no
            weights (``submit``: a new entry must be re-runnable; published entries from before
            the weights travelled stay valid).
    """
    if mode not in ("auto", "always", "never"):
        raise ValueError(f"policy check mode is auto, always or never, got {mode!r}")
    if mode == "never":
        return PolicyCheck(True, [])
    m = sub.manifest
    if m.training is None or not (sub.path / WEIGHTS).exists():
        what = "a baseline agent" if m.training is None else f"no {WEIGHTS}"
        cpu = m.training is not None and m.agent.model_id.startswith(CPU_AGENT_MODULE)
        if mode == "always" or (strict and cpu):
            return PolicyCheck(
                False,
                [
                    f"policy not re-run: {what} (a trained CPU agent's weights must travel with it)"
                    if cpu
                    else f"policy not re-run: {what}"
                ],
            )
        return PolicyCheck(
            True,
            [
                f"policy not re-run ({what}): replay shows the actions give the results, not that "
                "this policy chose them"
            ],
        )
    rerun = rerun_policy(sub)
    lines = list(rerun.problems)
    lines += [f"seed {r.seed}: {line}" for r in rerun.runs for line in r.differing]
    n = sum(r.episodes for r in rerun.runs)
    bad = sum(r.n_differing for r in rerun.runs)
    lines.append(
        f"re-ran the policy of {len(rerun.runs)} runs on {n} episodes: "
        + ("every action as recorded" if rerun.ok else f"{bad} of {n} episodes differ")
    )
    return PolicyCheck(rerun.ok, lines, rerun)
