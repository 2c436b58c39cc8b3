"""Provenance of a result: code version, machine, and hashes that pin down the task data."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from proxmo_bench.leaderboard.schema import EvalEpisode, Hardware, PackageInfo

_REPO_ROOT = Path(__file__).resolve().parents[2]


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(_REPO_ROOT), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


#: Distributions whose version can change a result's numbers: array maths and linear algebra,
#: networks and their kernels, text processing (tokenisers, BM25, fuzzy matching, stemming), the
#: env engines and the env API. ``dependency_versions`` records those installed.
NUMERIC_DISTRIBUTIONS = (
    "numpy",
    "scipy",
    "torch",
    "scikit-learn",
    "gymnasium",
    "bm25s",
    "PyStemmer",
    "rapidfuzz",
    "transformers",
    "tokenizers",
    "safetensors",
    "peft",
    "accelerate",
    "gguf",
    "textworld",
    "alfworld",
    "ray",
    "vllm",
)


def dependency_versions() -> dict[str, str]:
    """``{distribution: version}`` of the installed :data:`NUMERIC_DISTRIBUTIONS`, plus the Python
    version (``"python"``) and the platform (``"platform"``)."""
    from importlib import metadata

    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in NUMERIC_DISTRIBUTIONS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def dependency_mismatches(recorded: Mapping[str, str] | None) -> list[str]:
    """Where ``recorded`` (a manifest's ``package.dependencies``) differs from this environment,
    one line per recorded distribution (``"torch: 2.13.0 recorded, 2.12.0 installed"``); those
    installed now but absent then could not have shaped the result and are not listed. A manifest
    that recorded none gets one line saying so."""
    if recorded is None:
        return ["the manifest records no dependency versions (written before they were recorded)"]
    now = dependency_versions()
    out = []
    for name in sorted(recorded):
        was, have = recorded[name], now.get(name)
        if was != have:
            out.append(
                f"{name}: {was} recorded, " + (f"{have} installed" if have else "not installed")
            )
    return out


def package_info() -> PackageInfo:
    """Installed version, the git commit and dirty flag when running from a checkout, and the
    versions of the dependencies that can change numbers (:func:`dependency_versions`)."""
    import proxmo_bench

    commit = _git("rev-parse", "HEAD") if (_REPO_ROOT / ".git").exists() else None
    dirty: bool | None = None
    if commit:
        status = _git("status", "--porcelain", "--untracked-files=no")
        dirty = bool(status) if status is not None else None
    return PackageInfo(
        version=proxmo_bench.__version__,
        git_commit=commit or None,
        git_dirty=dirty,
        dependencies=dependency_versions(),
    )


def code_revision() -> str:
    """``<version>`` or ``<version>+g<commit12>`` of this package (pins scripted agents)."""
    pkg = package_info()
    return pkg.version + (f"+g{pkg.git_commit[:12]}" if pkg.git_commit else "")


def official_data_dir(task: str, env_kwargs: Mapping[str, Any]) -> Path | None:
    """The official data folder a run of ``task`` read, for ``source="official"`` (else ``None``).

    An explicit ``data_dir`` kwarg wins; otherwise the environment variable the task registers as
    its ``data_env_var`` (e.g. ``ALFWORLD_DATA``), when set.

    Raises:
        KeyError: ``source="official"`` without a ``data_dir``, and ``task`` is not registered.
    """
    if env_kwargs.get("source") != "official":
        return None
    explicit = env_kwargs.get("data_dir")
    if explicit:
        return Path(str(explicit))
    from proxmo_bench.tasks import get_task_spec  # late: the registry loads every family

    var = get_task_spec(task).data_env_var
    value = os.environ.get(var) if var else None
    return Path(value) if value else None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def processor_mismatch(recorded: Hardware | None) -> list[str]:
    """One line when the recorded CPU model differs from this machine's: torch's CPU kernels
    pick instructions by CPU, so floating-point results (and a re-trained run's weights) can
    differ between models even under identical code and dependency versions."""
    if recorded is None:
        return []
    now = _cpu_model()
    if recorded.processor == now:
        return []
    return [
        f"processor: {recorded.processor} recorded, {now} here (torch's CPU kernels differ "
        "between CPU models, so re-trained weights may differ in the last bits and then diverge)"
    ]


def hardware_info() -> Hardware:
    """The machine: OS, CPU model and count, GPU (only if torch is already loaded), Python."""
    gpu = None
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                gpu = f"{torch.cuda.get_device_name(0)} x{torch.cuda.device_count()}"
        except Exception:  # a broken CUDA set-up must not stop a CPU result being written
            gpu = None
    return Hardware(
        platform=platform.platform(),
        machine=platform.machine(),
        processor=_cpu_model(),
        cpu_count=os.cpu_count() or 1,
        gpu=gpu,
        python=platform.python_version(),
    )


def tasks_sha256(task: str, env_kwargs: Mapping[str, Any], episodes: Iterable[EvalEpisode]) -> str:
    """SHA-256 over the evaluation episodes as the env presents them at reset.

    Covers task id, seed, category, instruction, initial observation and admissible actions of
    every episode, in order: the same hash means the same task instances, whatever the data source.
    """
    from proxmo_bench.tasks import make  # late: hashing needs envs, reading manifests does not

    h = hashlib.sha256()
    env = make(task, **dict(env_kwargs))
    try:
        for ep in episodes:
            obs, info = env.reset(seed=ep.seed, options={"task_id": ep.task_id})
            item = {
                "task_id": ep.task_id,
                "seed": ep.seed,
                "category": info["task_category"],
                "instruction": info["instruction"],
                "observation": obs,
                "admissible_actions": info["admissible_actions"],
            }
            h.update(json.dumps(item, sort_keys=True, ensure_ascii=False).encode())
            h.update(b"\n")
    finally:
        env.close()
    return h.hexdigest()


def files_sha256(root: str | Path, *, max_bytes: int = 8 * 1024**3) -> str:
    """SHA-256 over every regular file under ``root`` (relative path and contents, sorted by path).

    Raises:
        ValueError: ``root`` is not a folder, or its files exceed ``max_bytes`` in total.
    """
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"data folder {root} does not exist or is not a folder")
    h = hashlib.sha256()
    total = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = path.relative_to(root).as_posix()
        total += path.stat().st_size
        if total > max_bytes:
            raise ValueError(
                f"data folder {root} holds more than {max_bytes} bytes; not hashing it"
            )
        h.update(rel.encode() + b"\0")
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")
    return h.hexdigest()
