"""tau-bench's official retail and airline data: gold replay, do-nothing, no-op flags, tools."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import proxmo_bench
from proxmo_bench.agents.base import Agent
from proxmo_bench.agents.experts.customer_service import GoldActionAgent
from proxmo_bench.conformance import check_task
from proxmo_bench.envs.customer_service.domains.airline.official import (
    load_official as load_airline,
)
from proxmo_bench.envs.customer_service.domains.airline.tools import AirlineTools
from proxmo_bench.envs.customer_service.domains.retail.official import (
    load_official as load_retail,
)
from proxmo_bench.envs.customer_service.domains.retail.tools import RetailTools

from .helpers_cs import DoNothingAgent, episode, run_episode, unwrapped

pytestmark = pytest.mark.data
IDS = {"retail": "proxmo/Retail-v0", "airline": "proxmo/Airline-v0"}


def test_noop_counts_match_upstream(tau_data: Path) -> None:
    retail, airline = load_retail(tau_data), load_airline(tau_data)
    assert sum(retail.is_noop(t) for t in retail.tasks["test"]) == 7
    assert len(retail.tasks["test"]) == 115
    assert sum(airline.is_noop(t) for t in airline.tasks["test"]) == 19
    assert len(airline.tasks["test"]) == 50


@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_gold_replay_scores_one_on_every_official_task(tau_data: Path, domain: str) -> None:
    env = proxmo_bench.make(IDS[domain], source="official", data_dir=str(tau_data))
    agent: Agent = GoldActionAgent.for_env(env)
    assert isinstance(agent, Agent)
    tasks = [t for ts in unwrapped(env).domain.tasks.values() for t in ts]
    assert len(tasks) == (635 if domain == "retail" else 50)
    failed = []
    for task in tasks:
        info = run_episode(env, agent, task.task_id)
        if info["reward"] != 1.0 or not info["won"] or info["truncated"]:
            failed.append(task.task_id)
    assert not failed, f"gold replay failed on {failed[:10]}"


@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_do_nothing_scores_zero_except_on_noop_tasks(tau_data: Path, domain: str) -> None:
    env = proxmo_bench.make(IDS[domain], source="official", data_dir=str(tau_data), split="test")
    agent = DoNothingAgent()
    wrong = []
    for task in unwrapped(env).domain.tasks["test"]:
        info = run_episode(env, agent, task.task_id)
        assert info["termination"] == "user_stop"
        if info["won"] != info["noop_task"]:
            wrong.append(task.task_id)
    assert not wrong, f"do-nothing result differs from the noop flag on {wrong}"


def test_scripted_user_completes_retail_train_tasks_with_the_gold_agent(tau_data: Path) -> None:
    env = proxmo_bench.make("proxmo/Retail-v0", source="official", data_dir=str(tau_data))
    agent = GoldActionAgent.for_env(env)
    tasks = unwrapped(env).domain.tasks["train"]
    done = [run_episode(env, agent, t.task_id) for t in tasks]
    assert all(d["termination"] == "user_stop" and d["won"] for d in done)
    assert unwrapped(env).user.name == "scripted"


@pytest.mark.parametrize("task_id", sorted(IDS.values()))
def test_check_task_official(tau_data: Path, task_id: str) -> None:
    check_task(task_id, make_kwargs={"source": "official", "data_dir": str(tau_data)})


def test_task_ids_follow_file_order(tau_data: Path) -> None:
    raw = json.loads((tau_data / "retail" / "tasks_test.json").read_text())
    env = proxmo_bench.make("proxmo/Retail-v0", source="official", data_dir=str(tau_data))
    _, info = env.reset(options={"task_id": "test/12"})
    assert info["task_id"] == "test/12"
    assert episode(env).task.user_id == raw[12]["user_id"]
    assert info["user_simulator"] == "scripted" and info["admissible_actions"] is None
    with pytest.raises(ValueError, match="unknown task_id"):
        env.reset(options={"task_id": "test/115"})


@pytest.mark.parametrize("domain", ["retail", "airline"])
def test_schemas_match_upstream_parameters(tau_data: Path, domain: str) -> None:
    upstream = json.loads((tau_data / domain / "tools.json").read_text())
    ours = {
        s["function"]["name"]: s["function"]["parameters"]
        for s in (RetailTools if domain == "retail" else AirlineTools).schemas()
    }
    assert set(ours) == {t["name"] for t in upstream}
    for t in upstream:
        params = ours[t["name"]]
        assert set(params["properties"]) == set(t["parameters"]["properties"]), t["name"]
        assert sorted(params["required"]) == sorted(t["parameters"].get("required", [])), t["name"]


def test_tool_semantics_on_official_data(tau_data: Path) -> None:
    retail = load_retail(tau_data)
    db = retail.db.fresh()
    kit = RetailTools(db)
    order = next(
        o
        for o in db["orders"].values()
        if o["status"] == "pending" and "gift_card" in o["payment_history"][0]["payment_method_id"]
    )
    user_id, card = order["user_id"], order["payment_history"][0]["payment_method_id"]
    balance = db["users"][user_id]["payment_methods"][card]["balance"]
    out, ok = kit.invoke(
        "cancel_pending_order", {"order_id": order["order_id"], "reason": "ordered by mistake"}
    )
    assert ok and json.loads(out)["status"] == "cancelled"
    expected = round(balance + order["payment_history"][0]["amount"], 2)
    assert db["users"][user_id]["payment_methods"][card]["balance"] == expected
    before = db.digest()
    out, ok = kit.invoke(
        "cancel_pending_order", {"order_id": order["order_id"], "reason": "no longer needed"}
    )
    assert (out, ok) == ("Error: non-pending order cannot be cancelled", False)
    assert kit.invoke("get_order_details", {"order_id": "#W0000000"}) == (
        "Error: order not found",
        False,
    )
    assert kit.invoke("calculate", {"expression": "(2 + 3) * 1.5"}) == ("7.5", True)
    assert kit.invoke("calculate", {"expression": "9**9**9"})[0].startswith("Error")
    assert db.digest() == before

    airline = load_airline(tau_data)
    adb = airline.db.fresh()
    akit = AirlineTools(adb)
    out, ok = akit.invoke("send_certificate", {"user_id": "mia_li_3668", "amount": 100})
    assert ok and "certificate_3221322" in out
    out, ok = akit.invoke(
        "search_direct_flight", {"origin": "JFK", "destination": "SEA", "date": "2024-05-20"}
    )
    assert ok and all(f["status"] == "available" for f in json.loads(out))
    assert akit.invoke(
        "search_onestop_flight", {"origin": "JFK", "destination": "SEA", "date": "2024-05-20"}
    )[1]
