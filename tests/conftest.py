"""Shared test fixtures and paths."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (ROOT / ".." / "shared" / "data").resolve()
# benchmarks/ holds the loop reference implementations some tests compare against
sys.path.insert(0, str(ROOT / "benchmarks"))
