"""Checkpoints: safetensors + JSON with recorded digests, no code on load, format 1 still read."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from proxmo_bench import atomic_files
from proxmo_bench.atomic_files import file_sha256
from proxmo_bench.cli import app
from proxmo_bench.harness.credit import load_policy
from proxmo_bench.training import TrainConfig, Trainer
from proxmo_bench.training.checkpoint import (
    CHECKPOINT_NAME,
    LEGACY_CHECKPOINT_NAME,
    CheckpointError,
    find_checkpoint,
    load_checkpoint,
    rng_state,
    save_checkpoint,
)

TINY = {
    "task": "proxmo/KeyRoom-v0",
    "agent": "light",
    "estimator": "gigpo",
    "group_size": 2,
    "groups_per_update": 2,
    "max_steps": 4,
    "lr": 3e-3,
    "kl_coef": 0.0,
    "mini_batch_size": 8,
    "micro_batch_size": 8,
    "light_features": 64,
    "light_hidden": 8,
    "eval_every": 2,
    "eval_episodes": 2,
    "checkpoint_every": 1,
    "num_threads": 1,
    "progress": False,
    "tensorboard": False,
}


def _cfg(out: Path, **kw: Any) -> TrainConfig:
    return TrainConfig(**{**TINY, "out_dir": str(out), **kw})


def _state() -> dict[str, Any]:
    """A state with every kind of value a checkpoint holds."""
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    net(torch.ones(1, 3)).sum().backward()
    opt.step()
    return {
        "update": 7,
        "env_steps": 123,
        "policy": {"module": net.state_dict(), "reference": net.state_dict()},  # shared storage
        "optimizer": opt.state_dict(),  # int keys, tuples (betas), 0-d step tensors
        "task_rng": np.random.default_rng(3).bit_generator.state,  # 128-bit ints
        "rng": rng_state(),  # a uint8 tensor and Python's nested tuple
        "config": {"lr": 1e-3, "estimator": {"name": "gigpo"}},
    }


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def _manifest(run: Path) -> dict[str, Any]:
    return json.loads((run / CHECKPOINT_NAME).read_text())


def test_round_trip_keeps_every_value_and_type(tmp_path: Path) -> None:
    state = _state()
    save_checkpoint(tmp_path, state)
    got = load_checkpoint(tmp_path)
    assert got.pop("format_version") == 2
    assert _same(got, state)
    random.setstate(got["rng"]["python"])  # Python's state must come back as nested tuples
    files = _manifest(tmp_path)["files"]
    assert set(files) == {"policy", "tensors", "state"}
    for entry in files.values():  # the recorded digest is the file's
        assert file_sha256(tmp_path / entry["path"]) == entry["sha256"]
    assert files["policy"]["path"].endswith(".safetensors")
    assert files["state"]["path"].endswith(".json")


def test_saving_again_keeps_only_the_new_files_and_a_crash_keeps_the_old_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = _state()
    save_checkpoint(tmp_path, state)
    first = _manifest(tmp_path)
    later = {**state, "update": 8, "env_steps": 200}
    real = atomic_files.write_atomic

    def crash_on_manifest(path: Any, data: Any, **kw: Any) -> Path:
        if Path(path).name == CHECKPOINT_NAME:
            raise OSError("killed")
        return real(path, data, **kw)

    import proxmo_bench.training.checkpoint as ckpt_module

    monkeypatch.setattr(ckpt_module, "write_atomic", crash_on_manifest)
    with pytest.raises(OSError, match="killed"):
        save_checkpoint(tmp_path, later)
    assert load_checkpoint(tmp_path)["update"] == 7  # the new files never overwrite named ones
    monkeypatch.setattr(ckpt_module, "write_atomic", real)
    stray = tmp_path / "checkpoint" / ".policy-0123456789abcdef.safetensors.x1y2.tmp"
    stray.write_bytes(b"half a file")  # what a save killed inside write_atomic leaves
    save_checkpoint(tmp_path, later)
    assert load_checkpoint(tmp_path)["update"] == 8
    names = {Path(e["path"]).name for e in _manifest(tmp_path)["files"].values()}
    assert {p.name for p in (tmp_path / "checkpoint").iterdir()} == names
    assert _manifest(tmp_path)["files"]["state"] != first["files"]["state"]


@pytest.mark.parametrize("role", ["policy", "tensors", "state"])
def test_flipped_bytes_are_found_and_name_the_file(tmp_path: Path, role: str) -> None:
    net = torch.nn.Linear(64, 64)  # a policy file of ~17 kB: room for 4,000 flipped bytes
    save_checkpoint(tmp_path, {**_state(), "policy": {"module": net.state_dict()}})
    file = tmp_path / _manifest(tmp_path)["files"][role]["path"]
    data = bytearray(file.read_bytes())
    n = min(4000, len(data) // 2)
    for i in range(len(data) - n, len(data)):
        data[i] ^= 0x5A
    file.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(tmp_path)
    assert str(file) in str(err.value) and "SHA-256" in str(err.value)
    assert "\n" not in str(err.value)


def test_a_missing_file_or_an_escaping_path_is_an_error_naming_it(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, _state())
    manifest = _manifest(tmp_path)
    gone = tmp_path / manifest["files"]["tensors"]["path"]
    gone.unlink()
    with pytest.raises(CheckpointError, match=r"tensors-[0-9a-f]{16}\.safetensors is missing"):
        load_checkpoint(tmp_path)
    manifest["files"]["tensors"]["path"] = "../elsewhere.safetensors"
    (tmp_path / CHECKPOINT_NAME).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match="leaves the run folder"):
        load_checkpoint(tmp_path)
    (tmp_path / CHECKPOINT_NAME).write_text('{"format": "proxmo-bench checkpoint", "forma')
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(tmp_path / CHECKPOINT_NAME)


# ---- format 1 (checkpoint.pt) -------------------------------------------------------------------
def _write_marker(path: str) -> dict[str, Any]:
    Path(path).write_text("code ran while unpickling")
    return {}


class _RunsCode:
    """Unpickles by calling :func:`_write_marker`: what a crafted checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (_write_marker, (str(self.marker),))


def _crafted(path: Path, marker: Path) -> Path:
    legacy = {**_state(), "format_version": 1, "policy": _RunsCode(marker)}
    torch.save(legacy, path)
    return path


def test_a_checkpoint_that_needs_full_pickle_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    # The crafted file does run code under full pickle (what torch.load(weights_only=False),
    # the old loader, did):
    proof = tmp_path / "proof"
    torch.load(_crafted(tmp_path / "proof.pt", proof), weights_only=False)
    assert proof.exists()
    marker = tmp_path / "marker"
    crafted = _crafted(tmp_path / LEGACY_CHECKPOINT_NAME, marker)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(crafted)
    assert "refused" in str(err.value) and "_write_marker" in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="refused"):  # the oracle's --policy reader
        load_policy(str(tmp_path), seed=0)
    assert not marker.exists()


def test_train_resume_refuses_a_crafted_checkpoint_pt(tmp_path: Path) -> None:
    run = tmp_path / "run"
    Trainer(_cfg(run, updates=1)).run()
    shutil.rmtree(run / "checkpoint")
    (run / CHECKPOINT_NAME).unlink()
    marker = tmp_path / "marker"
    _crafted(run / LEGACY_CHECKPOINT_NAME, marker)
    res = CliRunner().invoke(app, ["train", "--out", str(run), "--resume"])
    assert res.exit_code == 2, res.output
    assert "refused" in res.output and "Traceback" not in res.output
    assert not marker.exists()


def _as_legacy(run: Path) -> None:
    """Turn a run's checkpoint into the format-1 file older proxmo-bench wrote (torch.save)."""
    state = load_checkpoint(run)
    torch.save({**state, "format_version": 1}, run / LEGACY_CHECKPOINT_NAME)
    (run / CHECKPOINT_NAME).unlink()
    shutil.rmtree(run / "checkpoint")


def test_format_1_checkpoints_still_load_resume_and_are_replaced(tmp_path: Path) -> None:
    reference = Trainer(_cfg(tmp_path / "ref", updates=3))
    reference.run()
    run = tmp_path / "old"

    def stop_after_update_1(record: dict[str, Any]) -> None:
        if record["update"] == 2:
            raise KeyboardInterrupt  # the checkpoint of update 1 is the last one

    with pytest.raises(KeyboardInterrupt):
        Trainer(_cfg(run, updates=3)).run(on_update=stop_after_update_1)
    _as_legacy(run)
    assert find_checkpoint(run) == run / LEGACY_CHECKPOINT_NAME
    _, described = load_policy(str(run / LEGACY_CHECKPOINT_NAME), seed=0)  # the oracle
    assert described["updates"] == 1
    resumed = Trainer(_cfg(run, updates=3))
    resumed.run(resume=True)
    assert not (run / LEGACY_CHECKPOINT_NAME).exists()  # superseded by the new layout
    assert load_checkpoint(run)["update"] == 3
    a, b = reference.policy.state_dict(), resumed.policy.state_dict()
    assert _same(a, b)


def test_a_format_1_file_with_flipped_bytes_fails_its_crc(tmp_path: Path) -> None:
    path = tmp_path / LEGACY_CHECKPOINT_NAME
    weights = torch.arange(2000, dtype=torch.float32)
    torch.save({**_state(), "format_version": 1, "policy": {"w": weights}}, path)
    data = bytearray(path.read_bytes())
    start = data.find(weights.numpy().tobytes())  # the tensor's bytes, stored uncompressed
    assert start > 0
    for i in range(start, start + 4000):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    assert torch.load(path, weights_only=True)["policy"]["w"].sum() != weights.sum()  # silently
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(path)
    path.write_bytes(b"\x00not a checkpoint" * 10)
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_checkpoint(path)
