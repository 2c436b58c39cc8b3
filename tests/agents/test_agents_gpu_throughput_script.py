"""The GPU throughput script (benchmarks/gpu/h200_throughput.py) runs its code path on a CPU."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu" / "h200_throughput.py"


def test_tiny_run_writes_the_json_and_the_table(tmp_path: Path) -> None:
    cmd = [sys.executable, str(SCRIPT), "--tiny", "--iterations", "1", "--max-steps", "1"]
    subprocess.run([*cmd, "--out", str(tmp_path)], check=True, capture_output=True, timeout=600)
    result = json.loads((tmp_path / "throughput.json").read_text())
    assert result["config"]["model"] == "random:tiny"
    assert result["config"]["preset"] == "alfworld"
    (it,) = result["iterations"]
    assert it["episodes"] == 4 and it["steps"] == 4  # 2 groups x 2 episodes, 1 step each
    assert it["generated_tokens"] == it["update_tokens"] > 0
    assert it["generation_tokens_per_s"] > 0 and it["update_tokens_per_s"] > 0
    assert 0 <= it["estimator_share"] < 1
    assert it["peak_rss_gib"] > 0
    table = (tmp_path / "throughput.md").read_text()
    assert "| iter | gen tok/s | update tok/s |" in table
