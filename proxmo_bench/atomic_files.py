"""Files written so that readers see the old content or the new one, never a part; their digests.

Every file the project rewrites in place (run configs, checkpoints' state, metrics snapshots,
caches, leaderboard files) goes through :func:`write_atomic`: the bytes go to a temporary file in
the same folder, are flushed to disk, and the temporary file is renamed over the target
(``os.replace`` is atomic on POSIX and Windows within one file system). A crash leaves the old file
and, at worst, a stray ``.<name>.*.tmp`` next to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


def write_atomic(
    path: str | os.PathLike[str], data: bytes | str, *, encoding: str = "utf-8"
) -> Path:
    """Replace ``path`` with ``data`` atomically (parents created); returns the path.

    ``str`` data is encoded with ``encoding``; the file's mode is the umask default (like
    ``open(path, "w")``), not the temporary file's 0600.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode(encoding) if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of one file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
