"""The README's complete minimal task passes the conformance suite as written."""

from __future__ import annotations

from pathlib import Path

from proxmo_bench.conformance import check_task

README = Path(__file__).resolve().parents[1] / "README.md"
START = "from typing import Any\nimport proxmo_bench\nfrom proxmo_bench import TextEnv\n"


def test_the_readme_minimal_task_is_conformant() -> None:
    text = README.read_text()
    assert START in text, "README lost its minimal task example"
    code = START + text.split(START, 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {})  # registers demo/Guess-v0
    check_task("demo/Guess-v0")
