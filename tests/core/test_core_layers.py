"""Layers: dependencies run one way (ARCHITECTURE.md section 1), checked with import-linter.

The contracts are ``[tool.importlinter]`` in pyproject.toml. grimp reads a package from the folder
its ``__init__`` is found in, and under an editable install that is the source ``proxmo_bench/``
without ``envs/`` and ``agents/`` (mapped in by package-dir). So the sources are first laid out as
the wheel installs them, following pyproject's ``packages`` and ``package-dir``, and import-linter
runs on that copy (with pyproject.toml beside it, where every import-linter from 2.12 on finds it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytest.importorskip(
    "importlinter",
    reason="import-linter is not installed (it comes with the `test` extra: pip install -e '.[test]')",
)

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"


def source_dir(package: str, package_dir: dict[str, str]) -> Path:
    """The source folder of a listed package, by setuptools' package-dir rules."""
    base = max(
        (name for name in package_dir if package == name or package.startswith(name + ".")),
        key=len,
    )
    rest = package[len(base) :].lstrip(".")
    return ROOT / package_dir[base] / Path(*rest.split(".")) if rest else ROOT / package_dir[base]


@pytest.fixture(scope="module")
def installed_layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding ``proxmo_bench/`` as installed: envs/ and agents/ inside it."""
    setuptools = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]
    out = tmp_path_factory.mktemp("layout")
    for package in setuptools["packages"]:
        target = out / Path(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        for module in source_dir(package, setuptools["package-dir"]).glob("*.py"):
            shutil.copy2(module, target / module.name)
    shutil.copy2(PYPROJECT, out / "pyproject.toml")
    return out


def run_in(layout: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # import-linter puts the working directory first on sys.path, so the copy is what it reads
    return subprocess.run(
        [sys.executable, *args],
        cwd=layout,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_graph_holds_envs_and_agents(installed_layout: Path) -> None:
    probe = (
        "import grimp; g = grimp.build_graph('proxmo_bench', cache_dir=None); "
        "missing = {'proxmo_bench.envs.keyroom.env', 'proxmo_bench.agents.light_agent'} - g.modules; "
        "assert not missing, missing"
    )
    result = run_in(installed_layout, "-c", probe)
    returncode, output = result.returncode, result.stdout + result.stderr
    assert returncode == 0, output


def test_import_contracts_are_kept(installed_layout: Path) -> None:
    result = run_in(
        installed_layout,
        "-c",
        "import sys; from importlinter.cli import lint_imports_command; "
        "sys.exit(lint_imports_command())",
        "--no-cache",
    )
    returncode, output = result.returncode, result.stdout + result.stderr
    assert returncode == 0, (
        f"import-linter contracts (pyproject.toml [tool.importlinter]) are broken:\n{output}"
    )
