"""Packaging: every package ships, and envs/ + agents/ import from an installed wheel."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAPPING = {
    "proxmo_bench": "proxmo_bench",
    "envs": "proxmo_bench.envs",
    "agents": "proxmo_bench.agents",
}


def source_packages() -> set[str]:
    found = set()
    for top, dotted in MAPPING.items():
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / top)
            found.add(".".join([dotted, *rel.parts]) if rel.parts else dotted)
    return found


def test_every_package_is_listed_in_pyproject() -> None:
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    missing = source_packages() - listed
    assert not missing, (
        f"add these to [tool.setuptools] packages in pyproject.toml: {sorted(missing)}"
    )


@pytest.mark.slow
def test_wheel_installs_and_imports(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("proxmo_bench-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    py = venv / "bin" / "python"
    # The dependencies come from this interpreter's environment (a venv's own site-packages are
    # not the "system" ones); the package itself only from the wheel.
    import site

    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "_deps_from_test_runner.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run(
        [str(py), "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", str(wheel)],
        check=True,
        timeout=300,
    )
    code = (
        "import proxmo_bench, proxmo_bench.envs, proxmo_bench.agents, proxmo_bench.envs.keyroom;"
        "assert 'site-packages' in proxmo_bench.envs.__file__, proxmo_bench.envs.__file__;"
        "import gymnasium; gymnasium.make('proxmo/KeyRoom-v0').reset(seed=0);"
        "from proxmo_bench.training.config import list_presets; assert 'keyroom_light' in list_presets();"
        "import proxmo_bench.envs.webshop, proxmo_bench.envs.customer_service.domains.retail;"
        "import proxmo_bench.envs.alfworld.fast; print('ok')"
    )
    out = subprocess.run(
        [str(py), "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr
