"""Checkpoints: everything a killed run needs to continue as if it had never stopped.

A checkpoint holds the number of finished updates, the policy and optimiser states, the run's
config and the state of every random generator the run draws from (numpy task sampler, torch,
Python ``random``), so a resumed run draws the same tasks and the same actions as an
uninterrupted one.

Layout (format 2) in the run folder; nothing in it is unpickled, so loading runs no code:

``checkpoint/policy-<digest>.safetensors``
    the policy's state (:meth:`TrainablePolicy.state_dict`), tensor keys ``policy/<path>``;
``checkpoint/tensors-<digest>.safetensors``
    every other tensor: optimiser moments and steps (``optimizer/...``), torch's RNG (``rng/...``);
``checkpoint/state-<digest>.json``
    the rest as JSON (counters, config, optimiser settings, RNG states), with
    ``{"__tensor__": key}`` where a tensor of one of the two files goes, ``{"__tuple__": [...]}``
    for tuples and ``{"__items__": [[key, value], ...]}`` for mappings whose keys are not strings;
``checkpoint.json``
    the manifest: update, and each file's path and SHA-256. It is written (atomically) last, so
    it always names complete files; those of older checkpoints are removed after it.

File names carry a prefix of their own SHA-256, so a save never overwrites a file the current
manifest names: a crash at any point leaves the previous checkpoint loadable. Every file's digest
is checked before anything is parsed; a missing or changed file is a one-line
:class:`CheckpointError` naming it.

Format 1 (``checkpoint.pt``, one ``torch.save`` dict, written before this layout) is still read,
through ``torch.load(weights_only=True)`` only: a file that needs full pickle (which can run code)
is refused. It has no recorded digests, so it cannot be checked for corruption; the first save of
a resumed run replaces it with the layout above.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import pickle
import random
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import torch

from proxmo_bench.atomic_files import write_atomic

#: The manifest a run folder's checkpoint is found by.
CHECKPOINT_NAME = "checkpoint.json"
#: Folder (next to the manifest) of the files it names.
CHECKPOINT_DIR = "checkpoint"
#: The format-1 single file (read only).
LEGACY_CHECKPOINT_NAME = "checkpoint.pt"
FORMAT = "proxmo-bench checkpoint"
FORMAT_VERSION = 2
LEGACY_FORMAT_VERSION = 1
#: What :func:`load_checkpoint` returns, whatever the format.
STATE_KEYS = ("update", "env_steps", "policy", "optimizer", "task_rng", "rng", "config")
#: A manifest is a few hundred bytes; a bigger one is not ours.
MAX_MANIFEST_BYTES = 1 << 20

_ROLES = ("policy", "tensors", "state")
_SUFFIX = {"policy": ".safetensors", "tensors": ".safetensors", "state": ".json"}
_OWN_FILE = re.compile(r"(policy|tensors|state)-[0-9a-f]{16}\.(safetensors|json)")
#: What a save killed mid-write leaves (``write_atomic``'s temporary files).
_OWN_TEMP = re.compile(r"\.(policy|tensors|state)-[0-9a-f]{16}\.(safetensors|json)\..+\.tmp")
_TAGS = ("__tensor__", "__tuple__", "__items__")


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded: missing, changed, corrupt or unsafe (one line)."""


# ---- where a run's checkpoint is --------------------------------------------------------------------
def find_checkpoint(path: str | Path) -> Path | None:
    """The checkpoint ``path`` names: a run folder's manifest (else its format-1
    ``checkpoint.pt``), or ``path`` itself when it is a file; None when there is none."""
    path = Path(path)
    if path.is_dir():
        for name in (CHECKPOINT_NAME, LEGACY_CHECKPOINT_NAME):
            if (path / name).is_file():
                return path / name
        return None
    return path if path.is_file() else None


def remove_checkpoint(run_dir: str | Path) -> None:
    """Remove the checkpoint of ``run_dir`` (a fresh run starting there makes it stale)."""
    run_dir = Path(run_dir)
    for name in (CHECKPOINT_NAME, LEGACY_CHECKPOINT_NAME):
        (run_dir / name).unlink(missing_ok=True)
    _remove_unreferenced(run_dir / CHECKPOINT_DIR, keep=set())


# ---- saving -------------------------------------------------------------------------------------------
def save_checkpoint(run_dir: str | Path, state: Mapping[str, Any]) -> Path:
    """Write ``state`` (the :data:`STATE_KEYS`) as the checkpoint of ``run_dir``; returns the
    manifest's path. Tensors go to safetensors, the rest to JSON, the manifest last (module
    docstring); the files of the checkpoint it replaces (and a format-1 ``checkpoint.pt``) are
    removed afterwards.

    Raises:
        ValueError: a key of :data:`STATE_KEYS` is missing, or a value is neither a tensor nor
            plain data (str, int, float, bool, None, list, tuple, mapping).
    """
    run_dir = Path(run_dir)
    missing = [k for k in STATE_KEYS if k not in state]
    if missing:
        raise ValueError(f"checkpoint state lacks {missing}")
    policy_tensors: dict[str, torch.Tensor] = {}
    other_tensors: dict[str, torch.Tensor] = {}
    storages: set[tuple[str, int]] = set()
    skeleton = {
        k: _encode(v, k, policy_tensors if k == "policy" else other_tensors, storages)
        for k, v in state.items()
    }
    from safetensors.torch import save as safetensors_bytes

    payloads = {
        "policy": safetensors_bytes(policy_tensors),
        "tensors": safetensors_bytes(other_tensors),
        "state": json.dumps(skeleton, sort_keys=True).encode("utf-8"),
    }
    files: dict[str, dict[str, Any]] = {}
    for role in _ROLES:
        data = payloads[role]
        digest = hashlib.sha256(data).hexdigest()
        rel = f"{CHECKPOINT_DIR}/{role}-{digest[:16]}{_SUFFIX[role]}"
        write_atomic(run_dir / rel, data)
        files[role] = {"path": rel, "sha256": digest, "bytes": len(data)}
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "update": int(state["update"]),
        "files": files,
    }
    target = write_atomic(run_dir / CHECKPOINT_NAME, json.dumps(manifest, indent=1) + "\n")
    _remove_unreferenced(
        run_dir / CHECKPOINT_DIR, keep={Path(f["path"]).name for f in files.values()}
    )
    (run_dir / LEGACY_CHECKPOINT_NAME).unlink(missing_ok=True)  # superseded, and stale from now on
    return target


def _encode(
    obj: Any, key: str, tensors: dict[str, torch.Tensor], storages: set[tuple[str, int]]
) -> Any:
    """``obj`` as JSON-ready data, its tensors moved to ``tensors`` under slash-joined keys."""
    if isinstance(obj, torch.Tensor):
        if key in tensors:
            raise ValueError(f"checkpoint state: two tensors at {key!r}")
        t = obj.detach().to("cpu")
        where = (str(t.device), t.untyped_storage().data_ptr())
        if where in storages and t.numel():  # safetensors refuses shared storage: copy
            t = t.clone()
        storages.add((str(t.device), t.untyped_storage().data_ptr()))
        tensors[key] = t.contiguous()
        return {"__tensor__": key}
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) and k not in _TAGS for k in obj):
            return {k: _encode(v, f"{key}/{k}", tensors, storages) for k, v in obj.items()}
        for k in obj:
            if not isinstance(k, str | int | float):
                raise ValueError(f"checkpoint state at {key!r}: cannot store key {k!r}")
        return {
            "__items__": [[k, _encode(v, f"{key}/{k}", tensors, storages)] for k, v in obj.items()]
        }
    if isinstance(obj, tuple):
        return {
            "__tuple__": [_encode(v, f"{key}/{i}", tensors, storages) for i, v in enumerate(obj)]
        }
    if isinstance(obj, list):
        return [_encode(v, f"{key}/{i}", tensors, storages) for i, v in enumerate(obj)]
    if obj is None or isinstance(obj, str | bool | int | float):
        return obj
    raise ValueError(f"checkpoint state at {key!r}: cannot store a {type(obj).__name__}")


def _decode(obj: Any, tensors: Mapping[str, torch.Tensor], where: Path) -> Any:
    if isinstance(obj, dict):
        if len(obj) == 1:
            ((tag, value),) = obj.items()
            if tag == "__tensor__":
                if not isinstance(value, str) or value not in tensors:
                    raise CheckpointError(f"{where}: names tensor {value!r}, which is not stored")
                return tensors[value]
            if tag == "__tuple__" and isinstance(value, list):
                return tuple(_decode(v, tensors, where) for v in value)
            if tag == "__items__" and isinstance(value, list):
                if not all(
                    isinstance(p, list) and len(p) == 2 and isinstance(p[0], str | int | float)
                    for p in value
                ):
                    raise CheckpointError(f"{where}: malformed __items__ entry")
                return {k: _decode(v, tensors, where) for k, v in value}
        return {k: _decode(v, tensors, where) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, tensors, where) for v in obj]
    return obj


def _remove_unreferenced(folder: Path, keep: set[str]) -> None:
    if not folder.is_dir():
        return
    for p in folder.iterdir():
        if (_OWN_FILE.fullmatch(p.name) and p.name not in keep) or _OWN_TEMP.fullmatch(p.name):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


# ---- loading ------------------------------------------------------------------------------------------
def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """The state saved by :func:`save_checkpoint` (the :data:`STATE_KEYS`, plus
    ``format_version``), from a run folder, its ``checkpoint.json``, or a format-1
    ``checkpoint.pt``.

    Raises:
        FileNotFoundError: no checkpoint at ``path``.
        CheckpointError: a file is missing, its SHA-256 is not the recorded one, it is not a
            proxmo-bench checkpoint, or (format 1) loading it would need full pickle.
    """
    found = find_checkpoint(path)
    if found is None:
        raise FileNotFoundError(
            f"no checkpoint at {path}; nothing to resume (start without --resume)"
        )
    if found.name == LEGACY_CHECKPOINT_NAME or found.suffix == ".pt":
        return _load_legacy(found)
    return _load_manifest(found)


def _load_manifest(manifest_path: Path) -> dict[str, Any]:
    raw = manifest_path.read_bytes()
    if len(raw) > MAX_MANIFEST_BYTES:
        raise CheckpointError(
            f"{manifest_path}: {len(raw)} bytes is too big for a checkpoint manifest"
        )
    try:
        manifest = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{manifest_path}: not valid JSON ({exc})") from None
    if (
        not isinstance(manifest, dict)
        or manifest.get("format") != FORMAT
        or manifest.get("format_version") != FORMAT_VERSION
    ):
        raise CheckpointError(
            f"{manifest_path}: not a proxmo-bench checkpoint manifest (format {FORMAT_VERSION})"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != set(_ROLES):
        raise CheckpointError(f"{manifest_path}: 'files' must name exactly {list(_ROLES)}")
    data: dict[str, bytes] = {}
    for role in _ROLES:  # every digest is checked before anything is parsed
        entry = files[role]
        rel = entry.get("path") if isinstance(entry, dict) else None
        want = entry.get("sha256") if isinstance(entry, dict) else None
        if not isinstance(rel, str) or not isinstance(want, str):
            raise CheckpointError(f"{manifest_path}: files.{role} needs a 'path' and a 'sha256'")
        pure = PurePosixPath(rel)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise CheckpointError(
                f"{manifest_path}: files.{role} path {rel!r} leaves the run folder"
            )
        file = manifest_path.parent / pure
        if not file.is_file():
            raise CheckpointError(f"checkpoint file {file} is missing (named by {manifest_path})")
        blob = file.read_bytes()
        got = hashlib.sha256(blob).hexdigest()
        if got != want:
            raise CheckpointError(
                f"checkpoint file {file} has SHA-256 {got[:16]}..., {manifest_path.name} records "
                f"{want[:16]}...: the file is corrupt or was changed"
            )
        data[role] = blob
    from safetensors import SafetensorError
    from safetensors.torch import load as safetensors_load

    tensors: dict[str, torch.Tensor] = {}
    for role in ("policy", "tensors"):
        try:
            tensors.update(safetensors_load(data[role]))
        except (SafetensorError, ValueError) as exc:
            raise CheckpointError(
                f"{files[role]['path']}: not readable safetensors ({exc})"
            ) from None
    state_file = manifest_path.parent / files["state"]["path"]
    try:
        skeleton = json.loads(data["state"])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{state_file}: not valid JSON ({exc})") from None
    if not isinstance(skeleton, dict):
        raise CheckpointError(f"{state_file}: not a JSON object")
    state = _checked(_decode(skeleton, tensors, state_file), state_file, FORMAT_VERSION)
    if manifest.get("update") != state["update"]:
        raise CheckpointError(
            f"{manifest_path} names update {manifest.get('update')!r}, its state file holds "
            f"update {state['update']}"
        )
    return state


def _load_legacy(path: Path) -> dict[str, Any]:
    # torch.save writes a zip archive whose entries carry CRC-32s, which torch does not check:
    # zipfile does, so flipped bytes in a format-1 file are found even without a recorded digest.
    if not zipfile.is_zipfile(path):
        raise CheckpointError(
            f"{path}: not a checkpoint (neither a manifest nor a torch.save archive)"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from None
    if bad is not None:
        raise CheckpointError(f"{path}: entry {bad!r} fails its CRC-32: the file is corrupt")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{path}: refused: loading it needs full pickle, which can run code "
            f"({_unsupported(exc)}); only weights-only checkpoints are read"
        ) from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint ({first})") from None
    return _checked(state, path, LEGACY_FORMAT_VERSION)


def _unsupported(exc: Exception) -> str:
    """The line of torch's weights-only refusal that names what was refused."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    for ln in lines:
        if "unsupported" in ln.lower():
            return ln.rstrip(".")
    return lines[0] if lines else type(exc).__name__


def _checked(state: Any, where: Path, version: int) -> dict[str, Any]:
    if not isinstance(state, dict):
        raise CheckpointError(f"{where} is not a proxmo-bench checkpoint (format {version})")
    if version == LEGACY_FORMAT_VERSION and state.get("format_version") != version:
        raise CheckpointError(f"{where} is not a proxmo-bench checkpoint (format {version})")
    missing = [k for k in STATE_KEYS if k not in state]
    if missing:
        raise CheckpointError(f"{where}: checkpoint lacks {missing}")
    if not isinstance(state["config"], dict) or not isinstance(state["update"], int):
        raise CheckpointError(f"{where}: checkpoint 'config' or 'update' has the wrong type")
    return {**state, "format_version": version}


# ---- random generators ------------------------------------------------------------------------------
def rng_state() -> dict[str, Any]:
    """The global torch and Python random states."""
    return {"torch": torch.get_rng_state(), "python": random.getstate()}


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    random.setstate(state["python"])
