"""tau-bench's retail data (``<data_dir>/retail``): database, policy and train/dev/test tasks."""

from __future__ import annotations

import os

from proxmo_bench.envs.customer_service.domain import Domain, load_official_domain
from proxmo_bench.envs.customer_service.domains.retail.records import TABLES
from proxmo_bench.envs.customer_service.domains.retail.tools import RetailTools

SPLITS = ("train", "dev", "test")


def load_official(data_dir: str | os.PathLike[str] | None = None) -> Domain:
    """The official retail domain (loaded once per folder and process)."""
    return load_official_domain(data_dir, "retail", RetailTools, TABLES, SPLITS)
