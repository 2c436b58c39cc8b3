"""source='official': upstream's files, read from the shared sample (never copied into the repo)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import proxmo_bench
from proxmo_bench.agents.experts.webshop import WebShopExpert
from proxmo_bench.conformance import check_task
from proxmo_bench.envs.webshop.goals import PRICE_RANGE, split_goals
from proxmo_bench.envs.webshop.official import load_official
from proxmo_bench.envs.webshop.products import DataError, convert_products, parse_pricing

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "webshop"
needs_data = pytest.mark.skipif(
    not (DATA / "items_shuffle_sample.json").is_file(),
    reason=f"WebShop sample data not found at {DATA} (shared/data is not checked out)",
)
pytestmark = [pytest.mark.data, needs_data]
TASK = "proxmo/WebShop-v0"
OFFICIAL = {"source": "official", "data_dir": str(DATA), "goals": "attributes"}


def _products() -> list[Any]:
    data: list[Any] = json.loads((DATA / "items_shuffle_sample.json").read_text())
    return data


def test_conformance_official_sample() -> None:
    check_task(TASK, make_kwargs=OFFICIAL)


def test_products_in_upstream_internal_format() -> None:
    products = convert_products(_products(), source_file="items_shuffle_sample.json")
    assert len(products) == 42
    by_asin = {p["asin"]: p for p in products}
    p = by_asin["B08ZRR3DZT"]
    assert p["Title"] == p["name"] and p["Attributes"] == ["DUMMY_ATTR"]
    assert p["options"]["size"][:2] == ["x-small", "small"]
    assert all(v == v.lower() and "/" not in v for vs in p["options"].values() for v in vs)
    assert isinstance(p["BulletPoints"], list) and p["Rating"] == "N.A."
    assert parse_pricing("$19.99$27.99", "x") == ([19.99, 27.99], "$19.99 to $27.99")
    assert parse_pricing("$1,847.00", "x") == ([1847.0], "$1847.0")
    assert parse_pricing("", "x") == ([100.0], "$100.0")


def test_auto_goals_explain_what_is_missing() -> None:
    with pytest.raises(ValueError, match="goals='attributes'"):
        load_official(DATA)


def test_human_goals_as_upstream(tmp_path: Path) -> None:
    """Instruction dicts of the sample, attached to sampled products, make upstream's goals."""
    raw = _products()
    extra = json.loads((DATA / "items_human_ins_extra.json").read_text())
    entries = list(extra.values())[:10]
    rekeyed = {raw[i]["asin"]: entries[i] for i in range(10)}
    (tmp_path / "items_shuffle_1000.json").write_text(json.dumps(raw))
    (tmp_path / "items_human_ins.json").write_text(json.dumps(rekeyed))
    _, prices, goals, description = load_official(tmp_path)
    assert description.endswith(":human")
    expected = sum(1 for e in entries for ins in e if ins["instruction_attributes"])
    assert len(goals) == expected
    for g in goals:
        ins = next(
            i
            for i in rekeyed[g["asin"]]
            if g["instruction_text"].startswith(i["instruction"].strip("."))
        )
        assert g["attributes"] == ins["instruction_attributes"]
        assert g["goal_options"] == ins["instruction_options"]
        price = prices[g["asin"]]
        if g["price_upper"] == 1_000_000:
            assert len([p for p in PRICE_RANGE if p > price]) < 2
        else:
            assert g["price_upper"] in [p for p in PRICE_RANGE if p > price][:4]
            assert g["instruction_text"].endswith(
                f", and price lower than {g['price_upper']:.2f} dollars"
            )
    again = load_official(tmp_path)[2]
    assert again == goals  # deterministic price bounds


def test_split_matches_upstream_shuffle() -> None:
    goals = [{"i": i} for i in range(1200)]
    state = random.getstate()
    try:
        random.seed(233)
        upstream = list(goals)
        random.shuffle(upstream)
    finally:
        random.setstate(state)
    split = split_goals(goals)
    assert split["test"] == upstream[:500] and split["train"] == upstream[500:]
    small = split_goals(goals[:30])
    assert len(small["test"]) == 15 and len(small["train"]) == 15


def _write(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text)


def test_corrupt_files_name_file_and_field(tmp_path: Path) -> None:
    raw = _products()[:3]
    _write(tmp_path, "items_shuffle_1000.json", "[{not json")
    with pytest.raises(DataError, match=r"items_shuffle_1000\.json"):
        load_official(tmp_path)
    broken = [dict(p) for p in raw]
    del broken[1]["pricing"]
    _write(tmp_path, "items_shuffle_1000.json", json.dumps(broken))
    with pytest.raises(DataError, match=r"items_shuffle_1000.json: product #1 .*'pricing'"):
        load_official(tmp_path)
    _write(tmp_path, "items_shuffle_1000.json", json.dumps(raw))
    _write(tmp_path, "items_human_ins.json", json.dumps({raw[0]["asin"]: [{"instruction": "x"}]}))
    with pytest.raises(DataError, match=r"items_human_ins.json: .*'instruction_attributes'"):
        load_official(tmp_path)


def test_missing_data_dir_message(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("WEBSHOP_DATA", raising=False)
    with pytest.raises(ValueError, match="WEBSHOP_DATA"):
        proxmo_bench.make(TASK, source="official")
    with pytest.raises(ValueError, match="no WebShop product file"):
        load_official(tmp_path)


def test_webshop_data_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBSHOP_DATA", str(DATA))
    env = proxmo_bench.make(TASK, source="official", goals="attributes")
    _, info = env.reset(options={"task_id": "test/0"})
    assert info["task_id"] == "test/0"


def test_expert_on_official_sample() -> None:
    env = proxmo_bench.make(TASK, split="test", **OFFICIAL)
    n = len(env.unwrapped.catalogue.goals["test"])  # type: ignore[attr-defined]
    agent = WebShopExpert()
    scores = []
    for i in range(n):
        obs, info = env.reset(options={"task_id": f"test/{i}"})
        agent.reset(obs, info)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(agent.act(obs, info))
            done = terminated or truncated
        scores.append(info["score"])
    assert np.mean(scores) > 0.6
