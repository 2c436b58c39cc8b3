"""tau-bench's retail data (``<data_dir>/retail``): database, policy and train/dev/test tasks."""

from __future__ import annotations

import functools
import os
from pathlib import Path

from proxmo_bench.envs.customer_service.database import Database
from proxmo_bench.envs.customer_service.domain import (
    Domain,
    load_tables,
    read_policy,
    resolve_data_dir,
)
from proxmo_bench.envs.customer_service.domains.retail.records import TABLES
from proxmo_bench.envs.customer_service.domains.retail.tools import RetailTools
from proxmo_bench.envs.customer_service.task import load_task_file

SPLITS = ("train", "dev", "test")

#: Fields every record must have: the required keys of the record types (checked at load time so
#: a bad file fails with a message naming the file, record and field).
REQUIRED_FIELDS = {name: tuple(sorted(rec.__required_keys__)) for name, rec in TABLES.items()}


def writing_tools() -> tuple[str, ...]:
    return tuple(n for n, s in RetailTools.specs().items() if s.writes)


def load_official(data_dir: str | os.PathLike[str] | None = None) -> Domain:
    """The official retail domain (loaded once per folder and process)."""
    return _load(resolve_data_dir(data_dir, "retail"))


@functools.lru_cache(maxsize=4)
def _load(root: Path) -> Domain:
    folder = root / "retail"
    tables, base_id = load_tables(folder / "db", REQUIRED_FIELDS)
    tasks = {
        split: load_task_file(folder / f"tasks_{split}.json", split, writing_tools())
        for split in SPLITS
    }
    return Domain(
        name="retail",
        toolkit=RetailTools,
        db=Database(tables, base_id),
        policy=read_policy(folder / "policy.md"),
        tasks=tasks,
        source="official",
    )
