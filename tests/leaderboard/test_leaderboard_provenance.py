"""Provenance: the dependency versions a manifest records and how they are compared."""

from __future__ import annotations

import json
import platform
import re
import shutil
from importlib import metadata
from pathlib import Path

from typer.testing import CliRunner

from proxmo_bench.cli import app
from proxmo_bench.leaderboard.provenance import (
    NUMERIC_DISTRIBUTIONS,
    dependency_mismatches,
    dependency_versions,
    package_info,
)

ROOT = Path(__file__).resolve().parents[2]


def test_versions_are_the_installed_ones() -> None:
    got = dependency_versions()
    assert got["python"] == platform.python_version() and got["platform"] == platform.platform()
    for name in ("numpy", "scipy", "torch", "scikit-learn", "gymnasium", "bm25s"):
        assert got[name] == metadata.version(name)
    assert set(got) - {"python", "platform"} <= set(NUMERIC_DISTRIBUTIONS)
    assert package_info().dependencies == got


def test_mismatches_are_plain_lines() -> None:
    now = dependency_versions()
    assert dependency_mismatches(now) == []
    old = {**now, "numpy": "1.26.0", "somepkg": "0.1"}
    old.pop("scipy")  # absent then: it could not have shaped the result, so it is not listed
    assert dependency_mismatches(old) == [
        f"numpy: 1.26.0 recorded, {now['numpy']} installed",
        "somepkg: 0.1 recorded, not installed",
    ]
    assert dependency_mismatches(None) == [
        "the manifest records no dependency versions (written before they were recorded)"
    ]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        found = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", line)
        if found:
            pins[found.group(1).lower().replace("_", "-")] = found.group(2)
    return pins


def test_the_locks_agree_and_pin_what_changes_numbers() -> None:
    main, test = _pins(ROOT / "requirements/main.txt"), _pins(ROOT / "requirements/test.txt")
    assert main and all(test[name] == version for name, version in main.items())
    for name in ("numpy", "scipy", "torch", "scikit-learn", "gymnasium", "bm25s"):
        assert name in main
    assert "transformers" in test and "alfworld" in test


def test_validate_reports_versions_that_differ(tmp_path: Path) -> None:
    published = sorted((ROOT / "leaderboards/keyroom/submissions").iterdir())[0]
    copy = tmp_path / published.name
    shutil.copytree(published, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["package"]["dependencies"] = {**dependency_versions(), "numpy": "1.0.0"}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(app, ["leaderboard", "validate", str(copy)])
    assert result.exit_code == 0, result.output
    assert "versions differ" in result.output
    assert f"numpy: 1.0.0 recorded, {metadata.version('numpy')} installed" in result.output


def test_a_different_cpu_model_is_named_as_a_reason_weights_may_differ() -> None:
    from proxmo_bench.leaderboard.provenance import hardware_info, processor_mismatch

    here = hardware_info()
    assert processor_mismatch(here) == []
    assert processor_mismatch(None) == []
    other = here.model_copy(update={"processor": "Some Other CPU 9000"})
    (line,) = processor_mismatch(other)
    assert line.startswith("processor: Some Other CPU 9000 recorded, ") and here.processor in line
