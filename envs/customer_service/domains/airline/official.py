"""tau-bench's airline data (``<data_dir>/airline``): database, policy and test tasks."""

from __future__ import annotations

import os

from proxmo_bench.envs.customer_service.domain import Domain, load_official_domain
from proxmo_bench.envs.customer_service.domains.airline.records import TABLES
from proxmo_bench.envs.customer_service.domains.airline.tools import AirlineTools

SPLITS = ("test",)


def load_official(data_dir: str | os.PathLike[str] | None = None) -> Domain:
    """The official airline domain (loaded once per folder and process)."""
    return load_official_domain(data_dir, "airline", AirlineTools, TABLES, SPLITS)
