"""``proxmo-bench data fetch webshop``: download upstream WebShop's data files, licence first.

WebShop's data is under Princeton's academic/research-only licence ("no commercial use") and is
scraped Amazon text, so the project never bundles it and this helper refuses to download unless
the caller passes ``accept_license=True`` after the licence has been shown. Files come from the
Google Drive ids of upstream's ``setup.sh``. Upstream publishes no checksums: each file's SHA-256
is computed, checked against ``expected_sha256`` where given, and written to ``SHA256SUMS`` in the
destination so later runs (and leaderboard manifests) can record exactly what was used.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

LICENSE_NOTICE = """\
WebShop data (princeton-nlp/WebShop) is Copyright (c) 2022 The Trustees of Princeton University.
Its licence permits use and redistribution for academic and research purposes only:
NO COMMERCIAL USE IS PERMITTED. The product texts are scraped from Amazon.com listings and belong
to third parties; the instructions were written by crowd workers. proxmo-bench does not ship
this data. Re-run with --accept-license to download it for research use."""

#: Google Drive file ids from upstream ``setup.sh``.
DRIVE_IDS: dict[str, str] = {
    "items_shuffle_1000.json": "1EgHdxQ_YxqIQlvvq5iKlCrkEKR6-j0Ib",
    "items_ins_v2_1000.json": "1IduG0xl544V_A_jv3tHXC0kyFi7PnyBu",
    "items_shuffle.json": "1A2whVgOO0euk5O13n2iYDM0bQRkkRduB",
    "items_ins_v2.json": "1s2j6NgHljiZzQNL3veZaAiyW_qDEgBNi",
    "items_human_ins.json": "14Kb5SPBk_jfdLZ_CDBNitW98QLDlKR5O",
}
SUBSETS: dict[str, tuple[str, ...]] = {
    "small": ("items_shuffle_1000.json", "items_ins_v2_1000.json", "items_human_ins.json"),
    "all": ("items_shuffle.json", "items_ins_v2.json", "items_human_ins.json"),
}


def drive_url(file_id: str) -> str:
    """The direct-download URL of a public Google Drive file (large files need ``confirm``)."""
    return f"https://drive.usercontent.google.com/download?id={file_id}&export=download&confirm=t"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(url: str, target: Path) -> None:
    with urllib.request.urlopen(url, timeout=60) as response, target.open("wb") as out:
        shutil.copyfileobj(response, out)


def fetch_webshop(
    dest: str | os.PathLike[str],
    *,
    accept_license: bool = False,
    subset: str = "small",
    expected_sha256: Mapping[str, str] | None = None,
    url_for: Callable[[str], str] | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, str]:
    """Download the WebShop files of ``subset`` into ``dest``; returns file name -> SHA-256.

    Args:
        dest: target folder (created); point ``WEBSHOP_DATA`` at it afterwards.
        accept_license: must be True, after the licence notice was shown to the user.
        subset: ``"small"`` (1000 products) or ``"all"`` (1.18M products).
        expected_sha256: known hashes to check (file name -> hex digest).
        url_for: file name -> URL (default: upstream's Google Drive ids); for mirrors and tests.
        echo: where progress and the licence notice go.

    Raises:
        PermissionError: ``accept_license`` is False (the notice is shown first).
        ValueError: unknown subset, or a file's SHA-256 differs from ``expected_sha256``
            (the bad file is not kept).
        OSError: a download failed.
    """
    if subset not in SUBSETS:
        raise ValueError(f"subset must be one of {list(SUBSETS)}, got {subset!r}")
    echo(LICENSE_NOTICE)
    if not accept_license:
        raise PermissionError("WebShop data is research-only; pass --accept-license to download it")
    folder = Path(dest).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    resolve = url_for or (lambda name: drive_url(DRIVE_IDS[name]))
    digests: dict[str, str] = {}
    for name in SUBSETS[subset]:
        echo(f"downloading {name} ...")
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{name}.", delete=False) as tmp:
            tmp_path = Path(tmp.name)
        try:
            _download(resolve(name), tmp_path)
            digest = sha256_of(tmp_path)
            want = (expected_sha256 or {}).get(name)
            if want is not None and want.lower() != digest:
                raise ValueError(f"{name}: SHA-256 {digest} differs from the expected {want}")
            tmp_path.replace(folder / name)
        finally:
            tmp_path.unlink(missing_ok=True)
        digests[name] = digest
        echo(f"  {name}  sha256 {digest}")
    lines = [f"{digests[n]}  {n}" for n in sorted(digests)]
    (folder / "SHA256SUMS").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return digests
